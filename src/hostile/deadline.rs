//! Deadlines and cancellation for calls into a guest, built on fuel slices
//! and wasmi's resumable calls.

use crate::error::{Error, Result};
use crate::hostile::slices::{Fuel, Mode, SlicedCall, Step};
use crate::lifecycle::func::GuestFunc;
use crate::lifecycle::guest::Guest;
use crate::lifecycle::guest::GuestState;
use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, Ordering};
use wasmi::errors::ErrorKind;
use wasmi::{Store, TypedFunc, TypedResumableCall, WasmParams, WasmResults};

/// A flag that stops a guest's call from another thread (or a host
/// function): set it with [`cancel`](Self::cancel) and the call made with a
/// [`Deadline`] holding it returns [`Error::Cancelled`] within one fuel slice.
///
/// Cloning shares the flag. It works without `std`.
///
/// ```
/// # fn main() -> linmem::Result<()> {
/// use linmem::{CancelFlag, Deadline, Error, Module};
///
/// let module = Module::with_engine(&linmem::metered_engine(), r#"(module
///     (memory (export "memory") 1) (func (export "spin") (loop br 0)))"#)?;
/// let mut guest = module.instantiate()?;
/// let flag = CancelFlag::new();
/// let stopper = flag.clone();
/// let thread = std::thread::spawn(move || stopper.cancel());
/// let err = guest.call_until::<(), ()>("spin", (), &Deadline::cancel_on(&flag)).unwrap_err();
/// assert!(matches!(err, Error::Cancelled { .. }));
/// thread.join().unwrap();
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
pub struct CancelFlag(Arc<AtomicBool>);

impl CancelFlag {
    /// A flag that is not set.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the flag: calls watching it stop at their next fuel slice.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Release);
    }

    /// Whether the flag is set.
    #[must_use]
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    /// Clears the flag, so that it can stop another call.
    pub fn reset(&self) {
        self.0.store(false, Ordering::Release);
    }
}

/// When to stop a call into a guest: a wall-clock instant (with `std`), a
/// [`CancelFlag`], or both; given to [`Guest::call_until`] or
/// [`GuestFunc::call_until`].
///
/// The call runs in slices of [`fuel_slice`](Self::fuel_slice) fuel units
/// (default [`Deadline::DEFAULT_SLICE`]); between slices linmem checks the
/// clock and the flag. A guest that spins forever is therefore stopped
/// within one slice's run time after the deadline: at the default slice
/// about 0.1 ms in an optimized build (measured: 100 million units of a
/// spinning loop in 97 ms; deadlines of 1, 10 and 100 ms overshot by 22,
/// 46 and 577 µs on a loaded 2-core machine), about 30 ms in an unoptimized
/// one. A single instruction that costs more fuel than a slice (a large
/// `memory.fill` or `memory.grow`), or a host function that blocks, can
/// extend that. Needs an engine that meters fuel ([`metered_engine`](crate::metered_engine)).
#[derive(Debug, Clone)]
#[must_use]
pub struct Deadline {
    #[cfg(feature = "std")]
    at: Option<std::time::Instant>,
    cancel: Option<CancelFlag>,
    slice: u64,
}

impl Default for Deadline {
    fn default() -> Self {
        Self::none()
    }
}

/// Why a call was stopped.
pub(crate) enum Stop {
    #[cfg(feature = "std")]
    Expired,
    Cancelled,
}

impl Deadline {
    /// The default fuel per slice: 100 000 units, about 0.1 ms of guest
    /// execution in an optimized build.
    pub const DEFAULT_SLICE: u64 = 100_000;

    /// No deadline and no flag: the call only ends by itself (or on its fuel
    /// budget). Add a flag with [`or_cancel_on`](Self::or_cancel_on).
    pub const fn none() -> Self {
        Self {
            #[cfg(feature = "std")]
            at: None,
            cancel: None,
            slice: Self::DEFAULT_SLICE,
        }
    }

    /// Stops the call `timeout` from now.
    #[cfg(feature = "std")]
    pub fn after(timeout: core::time::Duration) -> Self {
        match std::time::Instant::now().checked_add(timeout) {
            Some(at) => Self::at(at),
            None => Self::none(),
        }
    }

    /// Stops the call at the instant `at`.
    #[cfg(feature = "std")]
    pub fn at(at: std::time::Instant) -> Self {
        Self {
            at: Some(at),
            ..Self::none()
        }
    }

    /// Stops the call when `flag` is set.
    pub fn cancel_on(flag: &CancelFlag) -> Self {
        Self::none().or_cancel_on(flag)
    }

    /// Also stops the call when `flag` is set.
    pub fn or_cancel_on(mut self, flag: &CancelFlag) -> Self {
        self.cancel = Some(flag.clone());
        self
    }

    /// The largest fuel per slice: 100 million units, about 0.1 s of guest
    /// execution in an optimized build (about 30 s unoptimized). A larger
    /// slice would let a guest run that long past its deadline.
    pub const MAX_SLICE: u64 = 100_000_000;

    /// Checks the clock and the flag every `fuel` units of fuel (clamped to
    /// 1 ..= [`MAX_SLICE`](Self::MAX_SLICE)). Smaller slices stop sooner
    /// after the deadline and cost more checks.
    pub fn fuel_slice(mut self, fuel: u64) -> Self {
        self.slice = fuel.clamp(1, Self::MAX_SLICE);
        self
    }

    /// The fuel per slice.
    #[must_use]
    pub fn slice(&self) -> u64 {
        self.slice
    }

    /// Whether the call must stop now, and why.
    pub(crate) fn check(&self) -> Option<Stop> {
        if self.cancel.as_ref().is_some_and(CancelFlag::is_cancelled) {
            return Some(Stop::Cancelled);
        }
        #[cfg(feature = "std")]
        if self.at.is_some_and(|at| std::time::Instant::now() >= at) {
            return Some(Stop::Expired);
        }
        None
    }
}

impl Stop {
    pub(crate) fn into_error(self, func: &str) -> Error {
        let func = Box::from(func);
        match self {
            #[cfg(feature = "std")]
            Self::Expired => Error::DeadlineExceeded { func },
            Self::Cancelled => Error::Cancelled { func },
        }
    }
}

/// The fuel of a store during a call with a deadline, split between what
/// the store holds now (one slice) and what linmem keeps back until the
/// next slice, in the store's [`GuestState::fuel_reserve`] (so that a host
/// function can hand it to its own calls into the guest, and so that it
/// survives whatever ends the call).
pub(crate) struct Meter;

impl Meter {
    /// Hands the store at most one slice of its fuel and keeps the rest.
    pub(crate) fn start<T>(store: &mut Store<GuestState<T>>, slice: u64) -> Result<Self> {
        let total = Self.total(store);
        store.get_fuel().map_err(|_| Error::FuelDisabled)?;
        Self.grant(store, total, slice)?;
        Ok(Self)
    }

    /// All the fuel left: the store's plus the reserve.
    pub(crate) fn total<T>(&self, store: &Store<GuestState<T>>) -> u64 {
        let reserve = store.data().fuel_reserve;
        store.get_fuel().unwrap_or(0).saturating_add(reserve)
    }

    /// Gives the store `min(total, slice)` fuel and keeps the rest back.
    pub(crate) fn grant<T>(
        &mut self,
        store: &mut Store<GuestState<T>>,
        total: u64,
        slice: u64,
    ) -> Result<()> {
        let granted = total.min(slice);
        store.data_mut().fuel_reserve = total.saturating_sub(granted);
        store.set_fuel(granted).map_err(|_| Error::FuelDisabled)
    }

    /// Gives all the fuel back to the store, at the end of the call.
    pub(crate) fn finish<T>(self, store: &mut Store<GuestState<T>>) {
        let total = self.total(store);
        store.data_mut().fuel_reserve = 0;
        // Cannot fail: the store meters fuel, or `start` had failed.
        let _ = store.set_fuel(total);
    }
}

/// Starts a resumable call. An engine that compiles lazily charges the
/// callee's translation before the call starts, and wasmi reports a slice
/// too small for that as a plain error: retry with doubled slices until the
/// translation fits or the budget is exhausted.
pub(crate) fn begin<T, P: WasmParams + Clone, R: WasmResults>(
    func: &TypedFunc<P, R>,
    store: &mut Store<GuestState<T>>,
    meter: &mut Meter,
    params: P,
    slice: u64,
) -> core::result::Result<TypedResumableCall<R>, wasmi::Error> {
    let mut slice = slice;
    loop {
        let state = func.call_resumable(&mut *store, params.clone());
        match &state {
            Err(error) if matches!(error.kind(), ErrorKind::ResumableOutOfFuel(_)) => {
                let total = meter.total(store);
                if slice >= total {
                    return state;
                }
                slice = slice.saturating_mul(2);
                if meter.grant(store, total, slice).is_err() {
                    return state;
                }
            }
            _ => return state,
        }
    }
}

/// Calls `func` (named `name` in errors) in `store` in fuel slices,
/// stopping at `deadline`; see [`GuestFunc::call_until`].
pub(crate) fn run_until<T, P: WasmParams + Clone, R: WasmResults>(
    func: &TypedFunc<P, R>,
    name: &str,
    store: &mut Store<GuestState<T>>,
    params: P,
    deadline: &Deadline,
) -> Result<R> {
    let mut run = SlicedCall::new(store, deadline.slice, Fuel::Required, Mode::Sync)?;
    SlicedCall::<T>::check(deadline, name)?;
    let mut state = run.begin(func, params);
    loop {
        let call = match run.step(name, state)? {
            Step::Finished(results) => return Ok(results),
            Step::OutOfFuel(call) => call,
            // Not returned in a synchronous call.
            Step::AsyncHost(call, _) => {
                return Err(Error::from_call(name, host_error(call.host_error())));
            }
        };
        run.refuel(name, &call, deadline)?;
        state = call.resume(run.store());
    }
}

impl<P: WasmParams + Clone, R: WasmResults> GuestFunc<P, R> {
    /// Calls the function in `guest` like [`call`](Self::call), but stops it
    /// at `deadline`.
    ///
    /// The call's fuel comes from the guest's budget (see
    /// [`Guest::fuel`]), in slices; the fuel it used is taken from the
    /// budget whatever the outcome. wasmi charges fuel per block of
    /// instructions, so a slice boundary inside a block may move a few units
    /// between the call and the budget; the total stays within a few units
    /// per slice of what a plain call uses (tested). A host function called
    /// during the call gets the whole remaining budget for its own calls
    /// into the guest (which run without the deadline's checks: use
    /// [`HostContext`](crate::HostContext) with care).
    ///
    /// # The guest after a stop
    ///
    /// The call is abandoned where it was: nothing unwinds, no guest code
    /// runs after the stop. The guest stays usable: its memory and globals
    /// hold exactly what the guest had written when it was stopped (which
    /// may break the guest's own invariants, e.g. a half-updated data
    /// structure: resetting the guest is then up to the host), and the next
    /// call starts afresh.
    ///
    /// # Errors
    ///
    /// [`Error::DeadlineExceeded`] or [`Error::Cancelled`] if the deadline
    /// passes or the flag is set before the call ends (also when that
    /// happened before it started); [`Error::FuelDisabled`] if the guest's
    /// engine does not meter fuel; [`Error::Trap`] with
    /// [`TrapCode::OutOfFuel`](crate::TrapCode::OutOfFuel) if the guest's fuel budget runs out, or any
    /// other trap; [`Error::HostFunc`] if a host function it called failed
    /// (wasmi only lends a host function's error from a resumable call, so
    /// linmem copies it: its own variants keep their fields, an
    /// [`Error::custom`] error keeps its text but can no longer be downcast);
    /// [`Error::AsyncHostFuncInSyncCall`] if it reaches an async host
    /// function (use [`call_async_until`](Self::call_async_until));
    /// [`Error::Call`] if the call fails otherwise; [`Error::ForeignHandle`]
    /// if `guest` is not the guest this handle came from.
    pub fn call_until<T>(&self, guest: &mut Guest<T>, params: P, deadline: &Deadline) -> Result<R> {
        if !guest.owns(self.guest_id()) {
            return Err(Error::ForeignHandle {
                name: Box::from(self.name()),
            });
        }
        run_until(
            self.as_wasmi(),
            self.name(),
            guest.store_for_call(),
            params,
            deadline,
        )
    }
}

/// An owned copy of a host function's error from a resumable call, which
/// wasmi only lends: linmem's own errors keep their variant and fields where
/// they can be copied; anything else keeps its text.
#[cold]
pub(crate) fn host_error(error: &wasmi::Error) -> wasmi::Error {
    if let Some(error) = error.downcast_ref::<Error>() {
        return wasmi::Error::host(copy_error(error));
    }
    match error.kind() {
        ErrorKind::I32ExitStatus(status) => wasmi::Error::i32_exit(*status),
        ErrorKind::Message(message) => wasmi::Error::new(message.clone()),
        _ => wasmi::Error::new(error.to_string()),
    }
}

/// A copy of a host function's [`Error`]; see [`host_error`].
fn copy_error(error: &Error) -> Error {
    match error {
        Error::Abort {
            message,
            file,
            line,
            column,
        } => Error::Abort {
            message: message.clone(),
            file: file.clone(),
            line: *line,
            column: *column,
        },
        Error::OutOfBounds { addr, len, size } => Error::out_of_bounds(*addr, *len, *size),
        Error::InvalidUtf8 {
            addr,
            len,
            valid_up_to,
            source,
        } => Error::InvalidUtf8 {
            addr: *addr,
            len: *len,
            valid_up_to: *valid_up_to,
            source: *source,
        },
        Error::GrowPastMaximum {
            current,
            additional,
            maximum,
        } => Error::GrowPastMaximum {
            current: *current,
            additional: *additional,
            maximum: *maximum,
        },
        Error::GrowDenied {
            current,
            additional,
            denial,
        } => Error::GrowDenied {
            current: *current,
            additional: *additional,
            denial: *denial,
        },
        Error::MissingExport { name, expected } => Error::MissingExport {
            name: name.clone(),
            expected,
        },
        Error::ForeignHandle { name } => Error::ForeignHandle { name: name.clone() },
        Error::AsyncHostFuncInSyncCall { func, module, name } => Error::AsyncHostFuncInSyncCall {
            func: func.clone(),
            module: module.clone(),
            name: name.clone(),
        },
        Error::FuelDisabled => Error::FuelDisabled,
        Error::HostPanic { func, message } => Error::HostPanic {
            func: func.clone(),
            message: message.clone(),
        },
        Error::ReentryLimit { func, depth } => Error::ReentryLimit {
            func: func.clone(),
            depth: *depth,
        },
        other => Error::custom(HostErrorText(other.to_string())),
    }
}

/// A host function's error that could not be copied out of a resumable
/// call, as its text.
#[derive(Debug)]
struct HostErrorText(String);

impl core::fmt::Display for HostErrorText {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

impl core::error::Error for HostErrorText {}

impl<T> Guest<T> {
    /// Calls the exported function `name` like [`call`](Self::call), but
    /// stops it at `deadline`; see [`GuestFunc::call_until`], which also
    /// says what state the guest is in after a stop.
    ///
    /// ```
    /// # fn main() -> linmem::Result<()> {
    /// use core::time::Duration;
    /// use linmem::{Deadline, Error, Module};
    ///
    /// let module = Module::with_engine(&linmem::metered_engine(), r#"(module
    ///     (memory (export "memory") 1)
    ///     (func (export "spin") (loop br 0))
    ///     (func (export "answer") (result i32) i32.const 42))"#)?;
    /// let mut guest = module.instantiate()?;
    /// let deadline = Deadline::after(Duration::from_millis(20));
    /// let err = guest.call_until::<(), ()>("spin", (), &deadline).unwrap_err();
    /// assert!(matches!(err, Error::DeadlineExceeded { .. }));
    /// // The guest stays usable.
    /// assert_eq!(guest.call::<(), i32>("answer", ())?, 42);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// Those of [`Guest::export_func`] and [`GuestFunc::call_until`].
    pub fn call_until<P: WasmParams + Clone, R: WasmResults>(
        &mut self,
        name: &str,
        params: P,
        deadline: &Deadline,
    ) -> Result<R> {
        self.export_func::<P, R>(name)?
            .call_until(self, params, deadline)
    }
}
