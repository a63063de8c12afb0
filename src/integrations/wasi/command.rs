//! Running a WASI command and reading what a WASI guest wrote.

use crate::error::{Error, Result};
use crate::hostile::deadline::Deadline;
use crate::integrations::wasi::capture::Capture;
use crate::lifecycle::guest::Guest;

/// A command's exit code from the outcome of its `_start`: returning is
/// exit code 0, `proc_exit(code)` is `code`, anything else is an error.
fn exit_code(outcome: Result<()>) -> Result<i32> {
    match outcome {
        Ok(()) => Ok(0),
        Err(Error::Exit { code, .. }) => Ok(code),
        Err(error) => Err(error),
    }
}

impl<T> Guest<T> {
    /// Runs a WASI command: calls its `_start` export and returns its exit
    /// code, 0 if `_start` returned and `code` if the guest called
    /// `proc_exit(code)` (C's `exit`, a C `main` returning non-zero, Rust's
    /// `std::process::exit`). A trap (Rust's panics and C's `abort` end in
    /// one) is an error, never an exit code: exit 0 and a trap cannot be
    /// confused. Needs the `wasi` feature.
    ///
    /// A reactor (a WASI library: no `_start`, maybe an `_initialize`) is
    /// not run: call its exports with [`call`](Self::call), where a
    /// `proc_exit` is [`Error::Exit`].
    ///
    /// # Errors
    ///
    /// [`Error::MissingExport`], [`Error::WrongExportKind`] or
    /// [`Error::SignatureMismatch`] if the guest has no `_start: [] -> []`;
    /// [`Error::Trap`] if it traps (with [`TrapCode::OutOfFuel`](crate::TrapCode::OutOfFuel)
    /// if its fuel budget runs out); [`Error::HostFunc`] if a host function
    /// failed; [`Error::Call`] if a WASI function failed in a way WASI cannot
    /// report to the guest as an error number.
    pub fn run_command(&mut self) -> Result<i32> {
        exit_code(self.call::<(), ()>("_start", ()))
    }

    /// Runs a WASI command like [`run_command`](Self::run_command), but
    /// stops it at `deadline` (see [`Guest::call_until`]).
    ///
    /// # Errors
    ///
    /// Those of [`run_command`](Self::run_command), and
    /// [`Error::DeadlineExceeded`], [`Error::Cancelled`] or
    /// [`Error::FuelDisabled`] as for [`Guest::call_until`].
    pub fn run_command_until(&mut self, deadline: &Deadline) -> Result<i32> {
        exit_code(self.call_until::<(), ()>("_start", (), deadline))
    }

    fn capture(
        &self,
        stream: fn(&crate::integrations::wasi::state::WasiState) -> &Option<Capture>,
    ) -> Option<&Capture> {
        self.store
            .data()
            .wasi
            .as_ref()
            .and_then(|state| stream(state).as_ref())
    }

    /// What the guest wrote to stdout so far, if it is captured
    /// ([`WasiOutput::Capture`](crate::WasiOutput::Capture), the default);
    /// empty otherwise. Needs the `wasi` feature.
    #[must_use]
    pub fn wasi_stdout(&self) -> Vec<u8> {
        self.capture(|state| &state.stdout)
            .map(Capture::contents)
            .unwrap_or_default()
    }

    /// What the guest wrote to stderr so far; see [`wasi_stdout`](Self::wasi_stdout).
    #[must_use]
    pub fn wasi_stderr(&self) -> Vec<u8> {
        self.capture(|state| &state.stderr)
            .map(Capture::contents)
            .unwrap_or_default()
    }

    /// Takes what the guest wrote to stdout so far, leaving the buffer
    /// empty with its whole limit available again (for a guest called
    /// repeatedly, such as a reactor).
    pub fn take_wasi_stdout(&mut self) -> Vec<u8> {
        self.capture(|state| &state.stdout)
            .map(Capture::take)
            .unwrap_or_default()
    }

    /// Takes what the guest wrote to stderr so far; see
    /// [`take_wasi_stdout`](Self::take_wasi_stdout).
    pub fn take_wasi_stderr(&mut self) -> Vec<u8> {
        self.capture(|state| &state.stderr)
            .map(Capture::take)
            .unwrap_or_default()
    }

    /// How many bytes the guest tried to write to its captured stdout and
    /// stderr past their limits (since they were last taken): non-zero
    /// means the captured output is cut short.
    #[must_use]
    pub fn wasi_output_dropped(&self) -> (u64, u64) {
        (
            self.capture(|state| &state.stdout)
                .map_or(0, Capture::dropped),
            self.capture(|state| &state.stderr)
                .map_or(0, Capture::dropped),
        )
    }
}
