//! Running a call into a guest in fuel slices, on wasmi's resumable calls:
//! the one machine behind [`GuestFunc::call_until`](crate::GuestFunc::call_until) (which resumes at once
//! after each slice) and the async calls (which yield to the executor after
//! each slice and await async host functions).

use crate::error::{Error, Result};
use crate::host::func_async::PendingHostCall;
use crate::hostile::deadline::{Deadline, Meter, begin, host_error};
use crate::lifecycle::guest::GuestState;
use alloc::boxed::Box;
use wasmi::{
    Store, TrapCode, TypedFunc, TypedResumableCall, TypedResumableCallHostTrap,
    TypedResumableCallOutOfFuel, WasmParams, WasmResults,
};

/// Whether a sliced call needs an engine that meters fuel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fuel {
    /// Fail with [`Error::FuelDisabled`] without one (a call with a
    /// [`Deadline`]).
    Required,
    /// Run in one piece without one (a plain async call: it then only
    /// suspends at async host functions).
    IfMetered,
}

/// Whether the call may suspend at async host functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// A synchronous call: an async host function fails it with
    /// [`Error::AsyncHostFuncInSyncCall`].
    Sync,
    /// An async call: an async host function suspends it.
    Async,
}

/// What a slice of a call ended with.
pub(crate) enum Step<T, R> {
    /// The call returned.
    Finished(R),
    /// The slice's fuel ran out: refuel with [`SlicedCall::refuel`], then
    /// resume.
    OutOfFuel(TypedResumableCallOutOfFuel<R>),
    /// The guest called an async host function (only in [`Mode::Async`]):
    /// run its future, then resume with its results.
    AsyncHost(TypedResumableCallHostTrap<R>, Box<dyn PendingHostCall<T>>),
}

/// A call in progress: the guest's store with at most one slice of fuel in
/// it, the rest of the fuel kept back.
///
/// Dropping it (the call finished, failed, or an async call's future was
/// dropped) gives the kept-back fuel back to the store and forgets any
/// pending async host call, so the guest is ready for its next call.
pub(crate) struct SlicedCall<'s, T> {
    store: &'s mut Store<GuestState<T>>,
    /// `None` when the engine does not meter fuel (with [`Fuel::IfMetered`]).
    meter: Option<Meter>,
    slice: u64,
    mode: Mode,
}

impl<'s, T> SlicedCall<'s, T> {
    /// Prepares a call on `store` in slices of `slice` fuel units.
    ///
    /// # Errors
    ///
    /// [`Error::FuelDisabled`] with [`Fuel::Required`] if the engine does not
    /// meter fuel.
    pub(crate) fn new(
        store: &'s mut Store<GuestState<T>>,
        slice: u64,
        fuel: Fuel,
        mode: Mode,
    ) -> Result<Self> {
        let meter = match fuel {
            Fuel::IfMetered if store.get_fuel().is_err() => None,
            _ => Some(Meter::start(store, slice)?),
        };
        if mode == Mode::Async {
            store.data_mut().async_calls.begin();
        }
        Ok(Self {
            store,
            meter,
            slice,
            mode,
        })
    }

    /// The guest's store.
    pub(crate) fn store(&mut self) -> &mut Store<GuestState<T>> {
        self.store
    }

    /// Fails if `deadline` has passed or its flag is set.
    ///
    /// # Errors
    ///
    /// [`Error::DeadlineExceeded`] or [`Error::Cancelled`].
    pub(crate) fn check(deadline: &Deadline, func: &str) -> Result<()> {
        match deadline.check() {
            Some(stop) => Err(stop.into_error(func)),
            None => Ok(()),
        }
    }

    /// Starts the resumable call (see [`begin`]).
    pub(crate) fn begin<P: WasmParams + Clone, R: WasmResults>(
        &mut self,
        func: &TypedFunc<P, R>,
        params: P,
    ) -> core::result::Result<TypedResumableCall<R>, wasmi::Error> {
        match self.meter.as_mut() {
            Some(meter) => begin(func, self.store, meter, params, self.slice),
            None => func.call_resumable(&mut *self.store, params),
        }
    }

    /// Sorts what a slice of the call `func` ended with.
    ///
    /// # Errors
    ///
    /// The call's error, classified as [`Error::from_call`] does; a host
    /// function's error copied out of the resumable call (see
    /// [`host_error`]); [`Error::AsyncHostFuncInSyncCall`] for an async host
    /// function in a [`Mode::Sync`] call.
    pub(crate) fn step<R>(
        &mut self,
        func: &str,
        state: core::result::Result<TypedResumableCall<R>, wasmi::Error>,
    ) -> Result<Step<T, R>> {
        match state {
            Ok(TypedResumableCall::Finished(results)) => Ok(Step::Finished(results)),
            Ok(TypedResumableCall::OutOfFuel(call)) => Ok(Step::OutOfFuel(call)),
            Ok(TypedResumableCall::HostTrap(call)) => {
                if self.mode == Mode::Async
                    && let Some(pending) = self.store.data_mut().async_calls.take(&call)
                {
                    return Ok(Step::AsyncHost(call, pending));
                }
                Err(Error::from_call(func, host_error(call.host_error())))
            }
            Err(source) => Err(Error::from_call(func, source)),
        }
    }

    /// Gives the call its next slice after `call` ran out of fuel, unless
    /// `deadline` has passed.
    ///
    /// # Errors
    ///
    /// [`Error::DeadlineExceeded`] or [`Error::Cancelled`] from `deadline`;
    /// [`Error::Trap`] with [`TrapCode::OutOfFuel`] if the guest's budget
    /// cannot pay for the next block of instructions.
    pub(crate) fn refuel<R>(
        &mut self,
        func: &str,
        call: &TypedResumableCallOutOfFuel<R>,
        deadline: &Deadline,
    ) -> Result<()> {
        Self::check(deadline, func)?;
        let out_of_fuel = || Error::from_call(func, wasmi::Error::from(TrapCode::OutOfFuel));
        let Some(meter) = self.meter.as_mut() else {
            return Err(out_of_fuel());
        };
        let total = meter.total(self.store);
        let required = call.required_fuel();
        if required > total {
            return Err(out_of_fuel());
        }
        meter.grant(self.store, total, self.slice.max(required))
    }
}

impl<T> Drop for SlicedCall<'_, T> {
    fn drop(&mut self) {
        if let Some(meter) = self.meter.take() {
            meter.finish(self.store);
        }
        if self.mode == Mode::Async {
            self.store.data_mut().async_calls.end();
        }
    }
}
