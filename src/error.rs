//! The crate's one error type.

use crate::hostile::limits::{Denial, Limit};
use alloc::boxed::Box;
use alloc::string::String;
use core::str::Utf8Error;
use wasmi::TrapCode;

/// What is wrong with an address a guest allocator returned, in
/// [`Error::BadAllocation`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AllocationFault {
    /// The allocator returned 0, its way of saying it is out of memory.
    Null,
    /// The allocated range does not lie inside the memory.
    OutOfBounds {
        /// The memory's size in bytes after the allocator returned.
        memory_size: u64,
    },
    /// The address is not a multiple of the alignment asked for.
    Misaligned,
}

impl core::fmt::Display for AllocationFault {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Null => f.write_str("a null pointer"),
            Self::OutOfBounds { memory_size } => {
                write!(f, "out of bounds of a memory of {memory_size} bytes")
            }
            Self::Misaligned => f.write_str("misaligned"),
        }
    }
}

/// A `Result` whose error is [`linmem::Error`](Error).
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// Everything that can go wrong in linmem.
///
/// Every message is complete on its own: it carries the context needed to
/// understand the failure (addresses, lengths, sizes, export names,
/// signatures in wasm notation) and what the underlying wasmi error, WAT
/// parser or host function said, so printing the error with `{}` (or, as
/// `fn main() -> linmem::Result<()>` does, with `{:?}`) says it all. The
/// underlying error stays available as the variant's `error` field; it is
/// not also returned by [`source`](core::error::Error::source), so an error
/// chain never repeats a sentence.
///
/// ```
/// # fn main() -> linmem::Result<()> {
/// let mut guest = linmem::Guest::new(r#"(module (func (export "f") (param i32) (result i32) (local.get 0)))"#)?;
/// let err = guest.call::<(), i32>("f", ()).unwrap_err();
/// assert_eq!(err.to_string(), "the guest's function `f` has type (i32) -> i32, not the requested () -> i32");
/// assert_eq!(format!("{err:?}"), err.to_string());
/// assert!(core::error::Error::source(&err).is_none());
/// # Ok(()) }
/// ```
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The module text is not valid WebAssembly text format.
    #[cfg(feature = "wat")]
    #[error("invalid WAT text{}: {message}", crate::error::position(*line, *column))]
    Wat {
        /// What the parser expected or found, on one line.
        message: Box<str>,
        /// The line of the error, from 1 (0 if the parser gave none).
        line: usize,
        /// The column of the error, from 1 (0 if the parser gave none).
        column: usize,
        /// The parser's error, whose `Display` also shows the line of text.
        error: wat::Error,
    },

    /// The module bytes are not a valid WebAssembly module.
    #[error("invalid wasm module: {error}")]
    Compile {
        /// wasmi's validation or translation error, with the byte offset.
        error: wasmi::Error,
    },

    /// The input is neither a wasm module (it does not start with the
    /// magic bytes `\0asm`) nor text (it is not UTF-8, or has control
    /// characters other than whitespace).
    #[error(
        "the input is neither a wasm module (it does not start with `\\0asm`) nor WAT text (it is not UTF-8 text): {len} bytes starting with {}",
        crate::error::hex_prefix(head)
    )]
    NotWasm {
        /// The input's length in bytes.
        len: usize,
        /// Its first bytes (up to 8).
        head: Box<[u8]>,
    },

    /// The input looks like WAT text, and linmem was built without its
    /// `wat` feature.
    #[error(
        "the input looks like WAT text, which needs linmem's `wat` feature: enable it or give wasm bytes"
    )]
    WatDisabled,

    /// The module imports something the host did not provide.
    #[error("missing import `{module}`.`{name}` ({kind})")]
    MissingImport {
        /// The import's module name, e.g. `env`.
        module: Box<str>,
        /// The import's field name.
        name: Box<str>,
        /// What kind of item is imported: `function`, `memory`, `table` or `global`.
        kind: &'static str,
    },

    /// The host asked for an import it did not define, e.g.
    /// [`GuestBuilder::import_memory`](crate::GuestBuilder::import_memory)
    /// for a name no host memory was given.
    #[error("the host defined no {expected} as `{module}`.`{name}`")]
    UndefinedImport {
        /// The import's module name, e.g. `env`.
        module: Box<str>,
        /// The import's field name.
        name: Box<str>,
        /// The kind of item that was asked for, e.g. `memory`.
        expected: &'static str,
    },

    /// An import the host provided does not have the type the module
    /// expects.
    #[error("the import `{module}`.`{name}` expects {expected} but the host gave {given}")]
    ImportMismatch {
        /// The import's module name, e.g. `env`.
        module: Box<str>,
        /// The import's field name.
        name: Box<str>,
        /// What the module expects, in wasm notation (`func (i32) -> ()`).
        expected: Box<str>,
        /// What the host gave, in wasm notation.
        given: Box<str>,
    },

    /// Instantiation failed for a reason other than a missing or mismatched
    /// import or a trap, e.g. a data segment out of bounds.
    #[error("instantiation failed: {error}")]
    Instantiate {
        /// wasmi's instantiation error.
        error: wasmi::Error,
    },

    /// The guest has no export of that name.
    #[error("the guest exports no {expected} named `{name}`")]
    MissingExport {
        /// The export name that was looked up.
        name: Box<str>,
        /// The kind of item that was expected, e.g. `memory` or `function`.
        expected: &'static str,
    },

    /// The guest's export has another kind than the one asked for.
    #[error("the guest's export `{name}` is a {found}, not a {expected}")]
    WrongExportKind {
        /// The export name that was looked up.
        name: Box<str>,
        /// The kind that was expected.
        expected: &'static str,
        /// The kind the export actually has.
        found: &'static str,
    },

    /// An exported function does not have the parameter and result types
    /// the host asked for.
    #[error("the guest's function `{name}` has type {actual}, not the requested {requested}")]
    SignatureMismatch {
        /// The function's export name.
        name: Box<str>,
        /// The function's type.
        actual: crate::FuncType,
        /// The type the host asked for.
        requested: crate::FuncType,
    },

    /// A call handle was used with a guest other than the one it came from.
    #[error("the handle for `{name}` belongs to another guest")]
    ForeignHandle {
        /// The function's export name.
        name: Box<str>,
    },

    /// A module compiled on one wasmi engine was given to a guest running on
    /// another.
    #[error("the module was compiled on another engine than the guest's")]
    EngineMismatch,

    /// The guest trapped: executed `unreachable`, accessed memory out of
    /// bounds, divided by zero, exhausted its stack, ...
    ///
    /// The guest stays usable: its memory holds what it wrote before the trap.
    #[error("`{func}` trapped: {code}")]
    Trap {
        /// The export that was called, or `(start)` for the start function.
        func: Box<str>,
        /// What kind of trap it was.
        code: TrapCode,
        /// wasmi's error.
        error: wasmi::Error,
    },

    /// A host function the guest called failed; `error` is the host
    /// function's error, intact (see also [`Error::root_cause`]).
    #[error("a host function failed during `{func}`: {error}")]
    HostFunc {
        /// The export that was called, or `(start)` for the start function.
        func: Box<str>,
        /// The error the host function returned.
        error: Box<Error>,
    },

    /// A host's own error, returned from a host function with
    /// [`Error::custom`]. It reaches the caller inside [`Error::HostFunc`].
    #[error(transparent)]
    Custom(Box<dyn core::error::Error + Send + Sync>),

    /// An AssemblyScript guest called `abort` (a failed `assert`, a `throw`,
    /// an out-of-range index, ...), through the import that
    /// [`GuestBuilder::assemblyscript_abort`](crate::GuestBuilder::assemblyscript_abort) provides.
    #[error("the guest aborted: {message} at {file}:{line}:{column}")]
    Abort {
        /// The message, or empty if the guest passed none.
        message: String,
        /// The source file name, or empty if the guest passed none.
        file: String,
        /// The source line.
        line: u32,
        /// The source column.
        column: u32,
    },

    /// The guest ended itself with WASI's `proc_exit` (a C `exit()`, Rust's
    /// `std::process::exit`, a C `main` returning non-zero): not a trap,
    /// even with code 0. [`Guest::run_command`](crate::Guest::run_command)
    /// turns it into the command's exit code.
    #[cfg(feature = "wasi")]
    #[error("`{func}` exited with code {code}")]
    Exit {
        /// The export that was called, or `(start)` for the start function.
        func: Box<str>,
        /// The exit code the guest passed to `proc_exit`.
        code: i32,
    },

    /// Setting up WASI for a guest failed: a preopened directory that cannot
    /// be opened, an argument or environment variable WASI cannot carry (a
    /// NUL byte, too many or too large).
    #[cfg(feature = "wasi")]
    #[error("cannot set up WASI: {what}")]
    WasiSetup {
        /// What failed, e.g. ``preopen `/data` from `/tmp/x` ``.
        what: Box<str>,
        /// The underlying error.
        #[source]
        source: Box<dyn core::error::Error + Send + Sync>,
    },

    /// A call failed without a WebAssembly trap or a host function error.
    #[error("`{func}` failed: {error}")]
    Call {
        /// The export that was called, or `(start)` for the start function.
        func: Box<str>,
        /// wasmi's error.
        error: wasmi::Error,
    },

    /// An access to linear memory fell outside the memory, or `addr + len`
    /// overflowed.
    #[error("out of bounds: {len} bytes at address {addr} in a memory of {size} bytes")]
    OutOfBounds {
        /// The first address accessed.
        addr: u64,
        /// The number of bytes accessed.
        len: u64,
        /// The memory's size in bytes at the time of the access.
        size: u64,
    },

    /// The memory chosen with
    /// [`GuestBuilder::default_memory`](crate::GuestBuilder::default_memory)
    /// is not a memory the module exports.
    #[error("the guest exports no memory named `{name}`{}", memory_hint(name, *found, memories))]
    MissingMemory {
        /// The export name that was asked for.
        name: Box<str>,
        /// The kind of the export of that name if there is one, e.g. `function`.
        found: Option<&'static str>,
        /// The names of the memories the module exports, sorted.
        memories: Box<[Box<str>]>,
    },

    /// Text given to [`Value::parse`](crate::Value::parse) is not a value
    /// of the type asked for.
    #[error("cannot read `{text}` as {ty}: expected {expected}")]
    ParseValue {
        /// The text.
        text: Box<str>,
        /// The type asked for.
        ty: crate::ValueType,
        /// What the text may be.
        expected: &'static str,
    },

    /// A dynamic call's arguments do not match the function's parameters.
    #[error(
        "`{func}` has type {expected} but was called with {}",
        crate::dynamic::types::TypeList(given)
    )]
    ArgumentMismatch {
        /// The function's export name.
        func: Box<str>,
        /// The function's type.
        expected: crate::FuncType,
        /// The types of the arguments given.
        given: Box<[crate::ValueType]>,
    },

    /// A host function defined with
    /// [`GuestBuilder::host_func_dynamic`](crate::GuestBuilder::host_func_dynamic)
    /// left results of other types than its own.
    #[error(
        "the host function `{func}` of type {expected} returned {}",
        crate::dynamic::types::TypeList(given)
    )]
    HostResultMismatch {
        /// The host function's import name.
        func: Box<str>,
        /// The host function's type.
        expected: crate::FuncType,
        /// The types of the results it left.
        given: Box<[crate::ValueType]>,
    },

    /// A dynamic call was given a results slice of the wrong length.
    #[error("`{func}` returns {expected} values but {given} result slots were given")]
    ResultSlots {
        /// The function's export name.
        func: Box<str>,
        /// How many results the function returns.
        expected: usize,
        /// The length of the results slice.
        given: usize,
    },

    /// A global was set to a value of another type, or an immutable one was set.
    #[error("cannot set the global `{name}` ({ty}) to {value}")]
    GlobalSet {
        /// The global's export name.
        name: Box<str>,
        /// The global's type.
        ty: crate::GlobalType,
        /// The value given, in wasm text.
        value: Box<str>,
    },

    /// A table element index past the table's size.
    #[error("index {index} out of range for the table `{name}` of {size} elements")]
    TableOutOfRange {
        /// The table's export name.
        name: Box<str>,
        /// The index asked for.
        index: u64,
        /// The table's size.
        size: u64,
    },

    /// A view of a guest that has no memory was accessed: its module
    /// neither exports a memory nor imports one from the host (see
    /// [`LinearMemoryView::has_memory`](crate::LinearMemoryView::has_memory)).
    #[error(
        "the guest has no memory the host can see: its module exports none and imports none from the host"
    )]
    NoMemory,

    /// A range of linear memory read as text is not valid UTF-8.
    #[error(
        "invalid UTF-8 in the {len} bytes at address {addr}: valid up to address {valid_up_to}"
    )]
    InvalidUtf8 {
        /// The first address of the range.
        addr: u64,
        /// The length of the range in bytes.
        len: u64,
        /// The address of the first byte that is not part of valid UTF-8.
        valid_up_to: u64,
        /// The standard library's error.
        #[source]
        source: Utf8Error,
    },

    /// Pointer arithmetic (an element offset, a slice's byte length, a
    /// header before a pointer) left the 64-bit address space.
    #[error("pointer arithmetic overflows: address {addr} offset by {offset} bytes")]
    PtrOverflow {
        /// The address the arithmetic started from.
        addr: u64,
        /// The offset in bytes that was added (negative: subtracted); it
        /// saturates at the bounds of `i128` for products beyond them.
        offset: i128,
    },

    /// An element index or split point is past the end of a
    /// [`GuestSlice`](crate::GuestSlice).
    #[error("index {index} out of range for a guest slice of {len} elements")]
    IndexOutOfRange {
        /// The index or split point asked for.
        index: u64,
        /// The slice's length in elements.
        len: u64,
    },

    /// A host slice copied into a [`GuestSlice`](crate::GuestSlice) does not
    /// have the guest slice's length.
    #[error("length mismatch: a guest slice of {guest} elements and a host slice of {host}")]
    LengthMismatch {
        /// The guest slice's length in elements.
        guest: u64,
        /// The host slice's length in elements.
        host: u64,
    },

    /// A range of linear memory read as UTF-16LE text is not valid UTF-16
    /// (an unpaired surrogate, or an odd number of bytes).
    #[error(
        "invalid UTF-16 in the {len} bytes at address {addr}: valid up to address {valid_up_to}"
    )]
    InvalidUtf16 {
        /// The first address of the range.
        addr: u64,
        /// The length of the range in bytes.
        len: u64,
        /// The address of the first code unit (or lone trailing byte) that
        /// is not part of valid UTF-16.
        valid_up_to: u64,
    },

    /// No NUL byte terminates a C string within its maximum length.
    #[error("no NUL byte in the {max_len} bytes at address {addr}")]
    MissingNul {
        /// The address of the string.
        addr: u64,
        /// The maximum length searched, in bytes.
        max_len: u64,
    },

    /// A host value passed to a 32-bit guest as `i32` is above `u32::MAX`.
    #[error("{value} does not fit in a 32-bit guest's i32 (it is above u32::MAX)")]
    TooLargeForI32 {
        /// The address or length that does not fit.
        value: u64,
    },

    /// An allocation request is invalid: the alignment is not a power of
    /// two, or (for a 32-bit memory) the size or alignment is above
    /// `u32::MAX`.
    #[error("invalid allocation request: {size} bytes aligned to {align}")]
    InvalidLayout {
        /// The size asked for, in bytes.
        size: u64,
        /// The alignment asked for, in bytes.
        align: u64,
    },

    /// A guest allocator returned a pointer the host cannot use: null, out
    /// of the memory, or not aligned as asked. Nothing was written.
    #[error(
        "the guest allocator `{func}` returned address {addr} for {size} bytes aligned to {align}: {fault}"
    )]
    BadAllocation {
        /// The allocator export that was called.
        func: Box<str>,
        /// The address it returned (the `i32` reinterpreted as `u32`).
        addr: u64,
        /// The size asked for, in bytes.
        size: u64,
        /// The alignment asked for, in bytes.
        align: u64,
        /// What is wrong with the address.
        fault: AllocationFault,
    },

    /// A [`HostRegion`](crate::HostRegion) has no room left for an allocation.
    #[error(
        "host region [{start}, {end}) is full: {size} bytes aligned to {align} do not fit after address {next}"
    )]
    RegionFull {
        /// The region's first address.
        start: u64,
        /// The address just past the region.
        end: u64,
        /// The region's first free address.
        next: u64,
        /// The size asked for, in bytes.
        size: u64,
        /// The alignment asked for, in bytes.
        align: u64,
    },

    /// A [`HostRegion`](crate::HostRegion) was given a start past its end.
    #[error("invalid host region: start {start} is past end {end}")]
    InvalidRegion {
        /// The region's first address.
        start: u64,
        /// The address just past the region.
        end: u64,
    },

    /// Growing memory would exceed its declared maximum (or the 4 GiB or
    /// 2^64-byte limit of its index type); the memory is unchanged.
    #[error(
        "cannot grow a memory of {current} pages by {additional} pages (maximum {maximum} pages)"
    )]
    GrowPastMaximum {
        /// The memory's size in pages before the attempt.
        current: u64,
        /// The number of pages asked for.
        additional: u64,
        /// The largest size in pages the memory may reach.
        maximum: u64,
    },

    /// Growing memory failed for another reason (the host could not allocate
    /// it); the memory is unchanged.
    #[error("cannot grow a memory of {current} pages by {additional} pages")]
    Grow {
        /// The memory's size in pages before the attempt.
        current: u64,
        /// The number of pages asked for.
        additional: u64,
        /// wasmi's error.
        #[source]
        source: wasmi::errors::MemoryError,
    },

    /// A limit set with [`GuestBuilder::limits`](crate::GuestBuilder::limits)
    /// denied growing memory (not the memory's own declared maximum, which
    /// is [`Error::GrowPastMaximum`]); the memory is unchanged.
    #[error("cannot grow a memory of {current} pages by {additional} pages: the {denial}")]
    GrowDenied {
        /// The memory's size in pages before the attempt.
        current: u64,
        /// The number of pages asked for.
        additional: u64,
        /// Which limit denied it, what was asked and what it allows.
        denial: Denial,
    },

    /// Instantiation needs more than a limit set with
    /// [`GuestBuilder::limits`](crate::GuestBuilder::limits) allows: a
    /// memory or table whose initial size is past the limit, or more
    /// instances, tables or memories than allowed.
    #[error("instantiation exceeds the {limit} of {allowed}")]
    LimitExceeded {
        /// The limit that was exceeded.
        limit: Limit,
        /// The size asked for, when known (bytes or elements).
        requested: Option<u64>,
        /// The most the limit allows.
        allowed: u64,
        /// wasmi's error.
        #[source]
        source: wasmi::Error,
    },

    /// Fuel was asked for (a budget, [`Guest::fuel`](crate::Guest::fuel),
    /// a [`Deadline`](crate::Deadline)) but the guest's engine does not
    /// meter fuel: compile the module with
    /// [`metered_engine`](crate::metered_engine).
    #[error("fuel metering is disabled on this engine (use linmem::metered_engine)")]
    FuelDisabled,

    /// A call made with a [`Deadline`](crate::Deadline) was stopped because
    /// the deadline passed. The guest stays usable, its memory as the guest
    /// left it when stopped.
    #[error("`{func}` was stopped at its deadline")]
    DeadlineExceeded {
        /// The export that was called.
        func: Box<str>,
    },

    /// A synchronous call (a plain call, [`call_until`](crate::Guest::call_until),
    /// or instantiation's start function) reached a host function defined
    /// with [`GuestBuilder::host_func_async`](crate::GuestBuilder::host_func_async),
    /// which only an async call ([`call_async`](crate::Guest::call_async))
    /// can suspend for. The call ends there, as after a host function's
    /// error; the guest stays usable.
    #[error("`{func}` called the async host function `{module}`.`{name}`: use call_async")]
    AsyncHostFuncInSyncCall {
        /// The export that was called, or `(start)` for the start function.
        func: Box<str>,
        /// The import's module name.
        module: Box<str>,
        /// The import's field name.
        name: Box<str>,
    },

    /// A module or a guest cannot be snapshotted, or a guest cannot be reset
    /// to a snapshot; [`SnapshotError`](crate::SnapshotError) says why.
    #[cfg(feature = "snapshot")]
    #[error(transparent)]
    Snapshot(crate::SnapshotError),

    /// A call made with a [`Deadline`](crate::Deadline) was stopped because
    /// its [`CancelFlag`](crate::CancelFlag) was set. The guest stays
    /// usable, its memory as the guest left it when stopped.
    #[error("`{func}` was cancelled")]
    Cancelled {
        /// The export that was called.
        func: Box<str>,
    },

    /// linmem refused a module that wasmi would accept but could not run
    /// safely (a known wasmi 2.0 bug; see SECURITY.md), e.g. a memory64
    /// maximum above 2^48 - 1 pages.
    #[error("module refused: {reason}")]
    Refused {
        /// What in the module was refused, and why.
        reason: Box<str>,
    },

    /// wasmi's translator panicked while compiling the module (a wasmi bug;
    /// see SECURITY.md). linmem caught the panic at compile time, where it
    /// can be caught; the engine stays usable for other modules.
    #[error("the wasmi translator panicked compiling the module: {message}")]
    TranslatorPanic {
        /// The panic's message.
        message: String,
    },

    /// A host function panicked. linmem caught the panic before it reached
    /// wasmi (which cannot unwind) and failed the guest's call with this
    /// error, inside [`Error::HostFunc`]. Needs `std`: without it a panic
    /// cannot be caught and aborts.
    #[error("host function `{func}` panicked: {message}")]
    HostPanic {
        /// The host function, as `module.name`.
        func: Box<str>,
        /// The panic's message (empty if the payload was not text).
        message: String,
    },

    /// A host function was called while [`depth`](Error::ReentryLimit::depth)
    /// host calls of the same guest were already running (a host function
    /// calling the guest, which calls a host function again, ...): linmem
    /// refused it before it ran, so that re-entry cannot overflow the host
    /// stack.
    #[error("host function `{func}` refused: {depth} nested host calls already run")]
    ReentryLimit {
        /// The host function, as `module.name`.
        func: Box<str>,
        /// The nesting depth reached (the limit).
        depth: u32,
    },
}

/// `{:?}` shows the message, as `{}` does: it is what `fn main() ->
/// linmem::Result<()>` prints on failure.
impl core::fmt::Debug for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Display::fmt(self, f)
    }
}

/// ` at line L, column C`, or nothing for an unknown position.
#[cfg(feature = "wat")]
pub(crate) fn position(line: usize, column: usize) -> String {
    if line == 0 {
        String::new()
    } else {
        alloc::format!(" at line {line}, column {column}")
    }
}

/// Bytes as hex: `7f 45 4c 46`.
pub(crate) fn hex_prefix(bytes: &[u8]) -> String {
    use core::fmt::Write;
    let mut text = String::new();
    for (i, byte) in bytes.iter().enumerate() {
        let sep = if i == 0 { "" } else { " " };
        let _ = write!(text, "{sep}{byte:02x}");
    }
    text
}

impl Error {
    /// The innermost linmem error: for [`Error::HostFunc`], the error its
    /// host function returned (itself unwrapped if it is a `HostFunc` of a
    /// nested call); otherwise `self`. The direct way to an
    /// [`Error::Abort`] or a host's own error:
    ///
    /// ```
    /// # fn main() -> linmem::Result<()> {
    /// use linmem::{Error, HostContext};
    /// let module = linmem::Module::new(r#"(module (import "env" "stop" (func $stop))
    ///     (func (export "run") (call $stop)))"#)?;
    /// let mut guest = module
    ///     .guest()
    ///     .host_func("env", "stop", |_: HostContext<'_, ()>| -> linmem::Result<()> {
    ///         Err(Error::Abort { message: "boom".into(), file: "a.ts".into(), line: 1, column: 2 })
    ///     })?
    ///     .instantiate()?;
    /// let err = guest.call::<(), ()>("run", ()).unwrap_err();
    /// assert!(matches!(err.root_cause(), Error::Abort { message, .. } if message == "boom"));
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn root_cause(&self) -> &Error {
        match self {
            Self::HostFunc { error, .. } => error.root_cause(),
            other => other,
        }
    }

    /// The WAT parser's error, with its message and position on one line.
    #[cfg(feature = "wat")]
    #[cold]
    pub(crate) fn wat(error: wat::Error) -> Self {
        let text = alloc::string::ToString::to_string(&error);
        let message = text.lines().next().unwrap_or_default().trim();
        // wast renders the position as `--> <file>:LINE:COLUMN`.
        let (line, column) = text
            .lines()
            .find_map(|line| line.trim_start().strip_prefix("--> "))
            .and_then(|place| {
                let mut parts = place.rsplit(':');
                let column = parts.next()?.trim().parse().ok()?;
                let line = parts.next()?.trim().parse().ok()?;
                Some((line, column))
            })
            .unwrap_or((0, 0));
        Self::Wat {
            message: Box::from(message),
            line,
            column,
            error,
        }
    }

    /// The trap code, if this error is a guest trap.
    ///
    /// ```
    /// # fn main() -> linmem::Result<()> {
    /// use linmem::{Guest, TrapCode};
    /// let mut guest = Guest::new(r#"(module (memory (export "memory") 1)
    ///     (func (export "boom") unreachable))"#)?;
    /// let err = guest.call::<(), ()>("boom", ()).unwrap_err();
    /// assert_eq!(err.trap_code(), Some(TrapCode::UnreachableCodeReached));
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn trap_code(&self) -> Option<TrapCode> {
        match self {
            Self::Trap { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// The exit code, if this error is a WASI guest's `proc_exit`
    /// ([`Error::Exit`]).
    #[cfg(feature = "wasi")]
    #[must_use]
    pub fn exit_code(&self) -> Option<i32> {
        match self {
            Self::Exit { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// Wraps a host's own error so that a host function can return it; the
    /// guest's caller finds it intact with [`Error::custom_ref`].
    pub fn custom(error: impl core::error::Error + Send + Sync + 'static) -> Self {
        Self::Custom(Box::new(error))
    }

    /// The host's own error of type `E`, if this error is (or, for
    /// [`Error::HostFunc`], wraps) an [`Error::custom`] of that type.
    #[must_use]
    pub fn custom_ref<E: core::error::Error + 'static>(&self) -> Option<&E> {
        match self {
            Self::Custom(error) => error.downcast_ref(),
            Self::HostFunc { error: source, .. } => source.custom_ref(),
            _ => None,
        }
    }

    /// Classifies an error returned by a call into the guest (or by its start
    /// function, named `(start)`).
    #[cold]
    pub(crate) fn from_call(func: &str, source: wasmi::Error) -> Self {
        let func = Box::from(func);
        if let Some(code) = source.as_trap_code() {
            return Self::Trap {
                func,
                code,
                error: source,
            };
        }
        #[cfg(feature = "wasi")]
        if let Some(code) = source.i32_exit_status() {
            return Self::Exit { func, code };
        }
        let mut source = source;
        if let Some(host) = source.downcast_mut::<Self>() {
            // Take the host function's error out; wasmi's wrapper is dropped.
            let host = core::mem::replace(host, Self::out_of_bounds(0, 0, 0));
            if let Self::AsyncHostFuncInSyncCall { module, name, .. } = host {
                return Self::AsyncHostFuncInSyncCall { func, module, name };
            }
            return Self::HostFunc {
                func,
                error: Box::new(host),
            };
        }
        Self::Call {
            func,
            error: source,
        }
    }

    /// The error for pointer arithmetic that overflowed: `addr` plus
    /// `count` elements of `size` bytes.
    #[cold]
    pub(crate) fn ptr_overflow(addr: u64, count: u64, size: u64) -> Self {
        let offset = i128::from(count)
            .checked_mul(i128::from(size))
            .unwrap_or(i128::MAX);
        Self::PtrOverflow { addr, offset }
    }

    /// The error for `len` bytes at `addr` that do not fit in `size` bytes.
    #[cold]
    pub(crate) fn out_of_bounds(addr: u64, len: u64, size: u64) -> Self {
        Self::OutOfBounds { addr, len, size }
    }
}

/// The end of [`Error::MissingMemory`]'s message: what the name is, and
/// which memories there are to choose from.
fn memory_hint(name: &str, found: Option<&str>, memories: &[Box<str>]) -> String {
    use core::fmt::Write;
    let mut hint = String::new();
    if let Some(kind) = found {
        let _ = write!(hint, " (`{name}` is a {kind})");
    }
    match memories {
        [] => hint.push_str("; it exports no memory at all, so leave the default memory unset and the guest runs without one"),
        [only] => {
            let _ = write!(hint, "; its one exported memory is `{only}`: choose it with `GuestBuilder::default_memory(\"{only}\")`");
        }
        [first, ..] => {
            hint.push_str("; its exported memories are ");
            for (i, memory) in memories.iter().enumerate() {
                let sep = if i == 0 { "" } else { ", " };
                let _ = write!(hint, "{sep}`{memory}`");
            }
            let _ = write!(hint, ": choose one with `GuestBuilder::default_memory`, e.g. `default_memory(\"{first}\")`");
        }
    }
    hint
}

/// Lets a host function's error travel through wasmi back to the caller.
impl wasmi::errors::HostError for Error {}
