//! Integrations with guest toolchains and their conventions.

pub(crate) mod assemblyscript;
#[cfg(feature = "wasi")]
pub(crate) mod wasi;
