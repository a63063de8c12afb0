//! WASI preview 1 for guests built against it (Rust `wasm32-wasi`, C and
//! C++ with wasi-libc), on wasmi's own `wasmi_wasi`: the configuration a host
//! gives a guest ([`config`]), the captured output streams ([`capture`]),
//! read-only preopened directories ([`read_only`]), the per-guest state and
//! the builder method that links it ([`state`]), and running commands and
//! reading their output ([`command`]).

pub(crate) mod capture;
pub(crate) mod command;
pub(crate) mod config;
pub(crate) mod read_only;
pub(crate) mod state;
