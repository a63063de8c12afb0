//! A guest's WASI state (wasi-common's context and the host's handles on
//! its captured streams) and the builder method that links WASI.

use crate::error::{Error, Result};
use crate::integrations::wasi::capture::Capture;
use crate::integrations::wasi::config::{WasiConfig, WasiInput, WasiOutput};
use crate::integrations::wasi::read_only::ReadOnlyDir;
use crate::lifecycle::builder::GuestBuilder;
use crate::lifecycle::guest::GuestState;
use wasmi_wasi::wasi_common::pipe::{ReadPipe, WritePipe};
use wasmi_wasi::wasi_common::sync::{Dir, WasiCtxBuilder, ambient_authority, dir, stdio};
use wasmi_wasi::{WasiCtx, WasiFile};

/// What linmem keeps in a guest's store for WASI.
pub(crate) struct WasiState {
    pub(crate) ctx: WasiCtx,
    pub(crate) stdout: Option<Capture>,
    pub(crate) stderr: Option<Capture>,
}

impl core::fmt::Debug for WasiState {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WasiState")
            .field("stdout", &self.stdout)
            .field("stderr", &self.stderr)
            .finish_non_exhaustive()
    }
}

impl WasiState {
    /// A context that gives nothing: the fallback if WASI is reached
    /// without a configuration (it cannot be: [`GuestBuilder::wasi`] sets
    /// one before it links the functions).
    fn empty() -> Self {
        Self {
            ctx: WasiCtxBuilder::new().build(),
            stdout: None,
            stderr: None,
        }
    }

    /// Builds wasi-common's context for `config`, opening its directories.
    fn new(config: WasiConfig) -> Result<Self> {
        let mut builder = WasiCtxBuilder::new();
        for arg in &config.args {
            check(arg, false).map_err(|source| setup_error("argument", arg, source))?;
            builder
                .arg(arg)
                .map_err(|source| setup_error("argument", arg, source))?;
        }
        for (name, value) in &config.env {
            check(name, true)
                .and_then(|()| check(value, false))
                .map_err(|source| setup_error("environment variable", name, source))?;
            builder
                .env(name, value)
                .map_err(|source| setup_error("environment variable", name, source))?;
        }
        match config.stdin {
            WasiInput::Bytes(bytes) => {
                builder.stdin(Box::new(ReadPipe::from(bytes)));
            }
            WasiInput::Inherit => {
                builder.inherit_stdin();
            }
        }
        let (stdout, file) = output(config.stdout, || Box::new(stdio::stdout()));
        builder.stdout(file);
        let (stderr, file) = output(config.stderr, || Box::new(stdio::stderr()));
        builder.stderr(file);
        let ctx = builder.build();
        for preopen in config.preopens {
            let what = || {
                format!(
                    "preopen `{}` from `{}`",
                    preopen.guest,
                    preopen.host.display()
                )
            };
            let opened =
                Dir::open_ambient_dir(&preopen.host, ambient_authority()).map_err(|source| {
                    Error::WasiSetup {
                        what: what().into(),
                        source: Box::new(source),
                    }
                })?;
            let opened = Box::new(dir::Dir::from_cap_std(opened));
            let result = if preopen.read_only {
                ctx.push_preopened_dir(Box::new(ReadOnlyDir(opened)), &preopen.guest)
            } else {
                ctx.push_preopened_dir(opened, &preopen.guest)
            };
            result.map_err(|source| Error::WasiSetup {
                what: what().into(),
                source: source.into(),
            })?;
        }
        Ok(Self {
            ctx,
            stdout,
            stderr,
        })
    }
}

/// The WASI file for an output stream, and the host's handle if captured.
fn output(
    output: WasiOutput,
    inherit: impl FnOnce() -> Box<dyn WasiFile>,
) -> (Option<Capture>, Box<dyn WasiFile>) {
    match output {
        WasiOutput::Capture { limit } => {
            let capture = Capture::new(limit);
            let pipe = capture.pipe();
            (Some(capture), Box::new(pipe))
        }
        WasiOutput::Inherit => (None, inherit()),
        WasiOutput::Discard => (None, Box::new(WritePipe::new(std::io::sink()))),
    }
}

/// Why a string cannot be passed to a guest: WASI hands arguments and
/// environment entries over NUL-terminated (`NAME=value` for the
/// environment), so a NUL would cut them short in the guest, and a `=` or
/// nothing in a name would make another variable. wasi-common checks only
/// sizes.
#[derive(Debug, thiserror::Error)]
enum BadString {
    #[error("it contains a NUL byte")]
    Nul,
    #[error("the name contains `=`")]
    Equals,
    #[error("the name is empty")]
    Empty,
}

fn check(text: &str, name: bool) -> core::result::Result<(), BadString> {
    if text.contains('\0') {
        Err(BadString::Nul)
    } else if name && text.contains('=') {
        Err(BadString::Equals)
    } else if name && text.is_empty() {
        Err(BadString::Empty)
    } else {
        Ok(())
    }
}

#[cold]
fn setup_error(
    what: &str,
    value: &str,
    source: impl core::error::Error + Send + Sync + 'static,
) -> Error {
    Error::WasiSetup {
        what: format!("{what} {value:?}").into(),
        source: Box::new(source),
    }
}

impl<T> GuestState<T> {
    /// The guest's WASI context, for `wasmi_wasi`'s functions.
    fn wasi_ctx(&mut self) -> &mut WasiCtx {
        &mut self.wasi.get_or_insert_with(WasiState::empty).ctx
    }
}

impl<T: Send + 'static> GuestBuilder<'_, T> {
    /// Gives the guest WASI preview 1 (the `wasi_snapshot_preview1`
    /// imports of Rust `wasm32-wasi` programs and wasi-libc), with the
    /// arguments, environment, standard streams and directories of `config`;
    /// needs the `wasi` feature.
    ///
    /// The functions are `wasmi_wasi`'s (on wasi-common), and they work on
    /// the memory the guest exports as `memory`. A guest's `proc_exit`
    /// ends the call with [`Error::Exit`] and the code the guest passed
    /// (any value: wasi-common alone would refuse codes from 126 up) (run a command with
    /// [`Guest::run_command`](crate::Guest::run_command), which returns its
    /// exit code); captured output is read with
    /// [`Guest::wasi_stdout`](crate::Guest::wasi_stdout). Limits, fuel and
    /// deadlines apply to WASI guests as to any other (time spent inside a
    /// WASI function, such as a `poll_oneoff` sleep or a read of an
    /// inherited stdin, is not interrupted by a deadline).
    ///
    /// ```
    /// # fn main() -> linmem::Result<()> {
    /// use linmem::{Module, WasiConfig};
    /// // A command that writes "hi\n" to stdout and exits with code 3.
    /// let module = Module::new(r#"(module
    ///     (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
    ///     (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
    ///     (memory (export "memory") 1)
    ///     (data (i32.const 8) "\10\00\00\00\03\00\00\00hi\n") ;; iovec {16, 3}, then the text
    ///     (func (export "_start")
    ///         (drop (call $write (i32.const 1) (i32.const 8) (i32.const 1) (i32.const 0)))
    ///         (call $exit (i32.const 3))))"#)?;
    /// let mut guest = module.guest().wasi(WasiConfig::new().arg("hi"))?.instantiate()?;
    /// assert_eq!(guest.run_command()?, 3);
    /// assert_eq!(guest.wasi_stdout(), b"hi\n");
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::WasiSetup`] if a preopened directory cannot be opened or an
    /// argument or environment variable cannot be passed (a NUL byte, a
    /// name that is empty or contains `=`, or more or larger ones than WASI
    /// can count);
    /// [`Error::Instantiate`] if the guest's WASI functions are already
    /// defined (`wasi` called twice, or a host function of that module).
    pub fn wasi(mut self, config: WasiConfig) -> Result<Self> {
        let state = WasiState::new(config)?;
        let linker = self.as_wasmi_linker_mut();
        wasmi_wasi::add_to_linker(linker, GuestState::<T>::wasi_ctx).map_err(|source| {
            Error::Instantiate {
                error: wasmi::Error::new(source.to_string()),
            }
        })?;
        // wasi-common's `proc_exit` refuses codes of 126 and above (it fails
        // the call with a message instead of exiting); WASI's `exitcode` is
        // any u32, and node, wasmtime's preview 2 adapter and POSIX shells
        // see 255 as 255. linmem reports the code the guest passed.
        linker.allow_shadowing(true);
        let shadowed = linker
            .func_wrap(
                "wasi_snapshot_preview1",
                "proc_exit",
                |code: i32| -> core::result::Result<(), wasmi::Error> {
                    Err(wasmi::Error::i32_exit(code))
                },
            )
            .map(|_| ());
        linker.allow_shadowing(false);
        shadowed.map_err(|source| Error::Instantiate {
            error: source.into(),
        })?;
        self.as_wasmi_store_mut().data_mut().wasi = Some(state);
        Ok(self)
    }
}
