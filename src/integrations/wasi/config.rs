//! What a host gives a WASI guest: arguments, environment, standard
//! streams, preopened directories.

use std::path::PathBuf;

/// Where a WASI guest's stdout or stderr goes; see [`WasiConfig::stdout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WasiOutput {
    /// Into a host buffer of at most `limit` bytes, read with
    /// [`Guest::wasi_stdout`](crate::Guest::wasi_stdout) and
    /// [`Guest::wasi_stderr`](crate::Guest::wasi_stderr). Past the limit
    /// the guest's writes are short, then accept nothing (its libc sees a
    /// failed write: Rust's `println!` panics, C's `printf` returns an
    /// error); the host's memory never holds more than `limit` bytes.
    Capture {
        /// The most bytes kept.
        limit: usize,
    },
    /// To the host process's own stream.
    Inherit,
    /// Nowhere: writes succeed and are dropped.
    Discard,
}

impl WasiOutput {
    /// The limit of [`WasiOutput::capture`]: 16 MiB.
    pub const DEFAULT_CAPTURE_LIMIT: usize = 16 << 20;

    /// Captured, up to [`DEFAULT_CAPTURE_LIMIT`](Self::DEFAULT_CAPTURE_LIMIT) bytes.
    #[must_use]
    pub const fn capture() -> Self {
        Self::Capture {
            limit: Self::DEFAULT_CAPTURE_LIMIT,
        }
    }
}

/// Where a WASI guest's stdin comes from; see [`WasiConfig::stdin`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WasiInput {
    /// These bytes, then end of file.
    Bytes(Vec<u8>),
    /// The host process's own stdin.
    Inherit,
}

/// A host directory the guest sees under a path of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Preopen {
    pub(crate) host: PathBuf,
    pub(crate) guest: String,
    pub(crate) read_only: bool,
}

/// The WASI preview 1 world of one guest, given to
/// [`GuestBuilder::wasi`](crate::GuestBuilder::wasi): its arguments,
/// environment, standard streams and preopened directories.
///
/// A default configuration gives the guest nothing of the host's: no
/// arguments (not even a program name), no environment variables, an empty
/// stdin, stdout and stderr captured into host buffers, and no directories.
/// The clocks and the random source are the host's (wasi-common's).
///
/// ```
/// use linmem::{WasiConfig, WasiOutput};
/// let config = WasiConfig::new()
///     .arg("report") // argv[0], the program name
///     .args(["--verbose", "input.txt"])
///     .env("LANG", "C")
///     .stdin(b"one\ntwo\n".to_vec())
///     .stderr(WasiOutput::Inherit)
///     .preopen_dir_read_only(std::env::temp_dir(), "/tmp");
/// assert_eq!(config.arg_list(), ["report", "--verbose", "input.txt"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct WasiConfig {
    pub(crate) args: Vec<String>,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) stdin: WasiInput,
    pub(crate) stdout: WasiOutput,
    pub(crate) stderr: WasiOutput,
    pub(crate) preopens: Vec<Preopen>,
}

impl Default for WasiConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl WasiConfig {
    /// No arguments, no environment, empty stdin, captured stdout and
    /// stderr, no directories.
    pub fn new() -> Self {
        Self {
            args: Vec::new(),
            env: Vec::new(),
            stdin: WasiInput::Bytes(Vec::new()),
            stdout: WasiOutput::capture(),
            stderr: WasiOutput::capture(),
            preopens: Vec::new(),
        }
    }

    /// Appends one argument. The first is the program name (`argv[0]`),
    /// which C and Rust programs expect to be there.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Appends arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// The arguments so far.
    #[must_use]
    pub fn arg_list(&self) -> &[String] {
        &self.args
    }

    /// Sets an environment variable (appended; WASI keeps the order).
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// Adds every environment variable of the host process (their names and
    /// values must be valid Unicode; others are skipped).
    pub fn inherit_env(mut self) -> Self {
        self.env
            .extend(std::env::vars_os().filter_map(|(name, value)| {
                Some((name.into_string().ok()?, value.into_string().ok()?))
            }));
        self
    }

    /// The guest reads these bytes from stdin, then end of file.
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = WasiInput::Bytes(bytes.into());
        self
    }

    /// The guest reads the host process's stdin (a read may block the host
    /// thread, where no deadline can stop it).
    pub fn inherit_stdin(mut self) -> Self {
        self.stdin = WasiInput::Inherit;
        self
    }

    /// Where the guest's stdout goes (default [`WasiOutput::capture`]).
    pub fn stdout(mut self, output: WasiOutput) -> Self {
        self.stdout = output;
        self
    }

    /// Where the guest's stderr goes (default [`WasiOutput::capture`]).
    pub fn stderr(mut self, output: WasiOutput) -> Self {
        self.stderr = output;
        self
    }

    /// Sends the guest's stdout and stderr to the host process's.
    pub fn inherit_stdio(self) -> Self {
        self.stdout(WasiOutput::Inherit).stderr(WasiOutput::Inherit)
    }

    /// Lets the guest use the host directory `host` (and what is below it,
    /// nothing above: wasi-common resolves paths with `cap-std`) under the
    /// path `guest`, e.g. `/data`. The directory is opened when the
    /// configuration is given to [`GuestBuilder::wasi`](crate::GuestBuilder::wasi).
    pub fn preopen_dir(mut self, host: impl Into<PathBuf>, guest: impl Into<String>) -> Self {
        self.preopens.push(Preopen {
            host: host.into(),
            guest: guest.into(),
            read_only: false,
        });
        self
    }

    /// Like [`preopen_dir`](Self::preopen_dir), but read-only: the guest
    /// can list the directory and open its files for reading; opening for
    /// writing, creating, truncating, removing, renaming, linking, making
    /// directories and setting times fail with WASI's `EROFS` (Rust:
    /// `ErrorKind::ReadOnlyFilesystem`, C: `errno == EROFS`).
    pub fn preopen_dir_read_only(
        mut self,
        host: impl Into<PathBuf>,
        guest: impl Into<String>,
    ) -> Self {
        self.preopens.push(Preopen {
            host: host.into(),
            guest: guest.into(),
            read_only: true,
        });
        self
    }
}
