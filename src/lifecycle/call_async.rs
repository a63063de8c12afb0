//! Async calls into a guest: a future that runs the guest in fuel slices,
//! yields to the executor between slices, and awaits async host functions.

use crate::error::{Error, Result};
use crate::hostile::deadline::Deadline;
use crate::hostile::slices::{Fuel, Mode, SlicedCall, Step};
use crate::lifecycle::func::GuestFunc;
use crate::lifecycle::guest::Guest;
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use wasmi::{WasmParams, WasmResults};

impl<P: WasmParams + Clone, R: WasmResults> GuestFunc<P, R> {
    /// Calls the function in `guest` as a future, for many guests sharing
    /// one thread: the guest runs in slices of
    /// [`Deadline::DEFAULT_SLICE`] fuel units (about 0.1 ms each in an
    /// optimized build), and the future yields to the executor between
    /// slices and while an async host function's future is pending.
    ///
    /// Yielding between slices needs an engine that meters fuel
    /// ([`metered_engine`](crate::metered_engine)); on another engine the
    /// guest runs in one piece and the future only yields at async host
    /// functions. The fuel used comes from the guest's budget, as with
    /// [`call_until`](Self::call_until). To set the slice, a deadline or a
    /// cancellation flag, use [`call_async_until`](Self::call_async_until).
    ///
    /// The future is `Send` when the guest's host data `T` is. linmem runs
    /// no executor: any one polls it (tokio, async-std, smol, an embedded
    /// one, or a hand-written loop in a `no_std` build).
    ///
    /// ```
    /// # fn main() -> linmem::Result<()> {
    /// use linmem::Module;
    /// let module = Module::with_engine(&linmem::metered_engine(), r#"(module
    ///     (memory (export "memory") 1)
    ///     (func (export "sum") (param $n i32) (result i32) (local $acc i32)
    ///       (loop $next
    ///         (local.set $acc (i32.add (local.get $acc) (local.get $n)))
    ///         (br_if $next (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    ///       (local.get $acc)))"#)?;
    /// let mut guest = module.instantiate()?;
    /// let sum = guest.export_func::<i32, i32>("sum")?;
    /// let mut future = core::pin::pin!(sum.call_async(&mut guest, 1_000_000));
    /// let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
    /// let mut yields = 0;
    /// let result = loop {
    ///     match future.as_mut().poll(&mut cx) {
    ///         core::task::Poll::Ready(result) => break result?,
    ///         core::task::Poll::Pending => yields += 1, // the executor's turn
    ///     }
    /// };
    /// assert_eq!(result, 1_784_293_664); // 500000500000 mod 2^32
    /// assert!(yields > 10, "yielded {yields} times");
    /// # Ok(()) }
    /// ```
    ///
    /// # Dropping the future
    ///
    /// Dropping the future before it completes cancels the call, as a
    /// deadline does: the call is abandoned where it was suspended (at a
    /// slice boundary, or inside an async host function, whose future is
    /// dropped with it); nothing unwinds and no guest code runs after that.
    /// The guest stays usable: its memory and globals hold exactly what the
    /// guest (and the host function, up to its last `.await`) had written,
    /// the fuel the call used is spent and the rest is back in the budget,
    /// and the next call starts afresh. As with a deadline, the guest's own
    /// invariants may be broken halfway: resetting it is up to the host.
    ///
    /// # Errors
    ///
    /// [`Error::ForeignHandle`] if `guest` is not the guest this handle
    /// came from; [`Error::Trap`] if the guest traps (with
    /// [`TrapCode::OutOfFuel`](crate::TrapCode::OutOfFuel) when its fuel
    /// budget runs out); [`Error::HostFunc`] if a host function, sync or
    /// async, failed (a sync one's error copied as
    /// [`call_until`](Self::call_until) describes); [`Error::Call`] if the
    /// call fails otherwise.
    pub async fn call_async<T>(&self, guest: &mut Guest<T>, params: P) -> Result<R> {
        self.run_async(guest, params, &Deadline::none(), Fuel::IfMetered)
            .await
    }

    /// Like [`call_async`](Self::call_async), with the slice, deadline and
    /// cancellation flag of `deadline`, which apply as they do to
    /// [`call_until`](Self::call_until): checked between slices and after
    /// each async host function. (A pending host function's future is not
    /// interrupted by the deadline; to bound it, drop the call's future,
    /// e.g. under the executor's timeout.)
    ///
    /// ```
    /// # fn main() -> linmem::Result<()> {
    /// use linmem::{CancelFlag, Deadline, Error, Module};
    /// let module = Module::with_engine(&linmem::metered_engine(), r#"(module
    ///     (memory (export "memory") 1) (func (export "spin") (loop br 0)))"#)?;
    /// let mut guest = module.instantiate()?;
    /// let flag = CancelFlag::new();
    /// let deadline = Deadline::cancel_on(&flag).fuel_slice(10_000);
    /// let mut future = core::pin::pin!(guest.call_async_until::<(), ()>("spin", (), &deadline));
    /// let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
    /// assert!(future.as_mut().poll(&mut cx).is_pending()); // one slice ran
    /// flag.cancel();
    /// let core::task::Poll::Ready(Err(err)) = future.as_mut().poll(&mut cx) else { panic!() };
    /// assert!(matches!(err, Error::Cancelled { .. }));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// Those of [`call_async`](Self::call_async);
    /// [`Error::DeadlineExceeded`] or [`Error::Cancelled`] if the deadline
    /// passes or the flag is set before the call ends;
    /// [`Error::FuelDisabled`] if the guest's engine does not meter fuel.
    pub async fn call_async_until<T>(
        &self,
        guest: &mut Guest<T>,
        params: P,
        deadline: &Deadline,
    ) -> Result<R> {
        self.run_async(guest, params, deadline, Fuel::Required)
            .await
    }

    async fn run_async<T>(
        &self,
        guest: &mut Guest<T>,
        params: P,
        deadline: &Deadline,
        fuel: Fuel,
    ) -> Result<R> {
        if !guest.owns(self.guest_id()) {
            return Err(Error::ForeignHandle {
                name: Box::from(self.name()),
            });
        }
        let name = self.name();
        let mut run = SlicedCall::new(guest.store_for_call(), deadline.slice(), fuel, Mode::Async)?;
        SlicedCall::<T>::check(deadline, name)?;
        let mut state = run.begin(self.as_wasmi(), params);
        let mut results = Vec::new();
        loop {
            state = match run.step(name, state)? {
                Step::Finished(results) => return Ok(results),
                Step::OutOfFuel(call) => {
                    YieldNow(false).await;
                    run.refuel(name, &call, deadline)?;
                    call.resume(run.store())
                }
                Step::AsyncHost(call, pending) => {
                    pending
                        .start(run.store(), &mut results)
                        .await
                        .map_err(|error| Error::HostFunc {
                            func: Box::from(name),
                            error: Box::new(error),
                        })?;
                    SlicedCall::<T>::check(deadline, name)?;
                    call.resume(run.store(), &results)
                }
            };
        }
    }
}

impl<T> Guest<T> {
    /// Calls the exported function `name` as a future; see
    /// [`GuestFunc::call_async`], which also says what state the guest is
    /// in after the future is dropped.
    ///
    /// # Errors
    ///
    /// Those of [`Guest::export_func`] and [`GuestFunc::call_async`].
    pub async fn call_async<P: WasmParams + Clone, R: WasmResults>(
        &mut self,
        name: &str,
        params: P,
    ) -> Result<R> {
        self.export_func::<P, R>(name)?
            .call_async(self, params)
            .await
    }

    /// Calls the exported function `name` as a future that stops at
    /// `deadline`; see [`GuestFunc::call_async_until`].
    ///
    /// # Errors
    ///
    /// Those of [`Guest::export_func`] and [`GuestFunc::call_async_until`].
    pub async fn call_async_until<P: WasmParams + Clone, R: WasmResults>(
        &mut self,
        name: &str,
        params: P,
        deadline: &Deadline,
    ) -> Result<R> {
        self.export_func::<P, R>(name)?
            .call_async_until(self, params, deadline)
            .await
    }
}

/// Returns `Pending` once (after asking to be polled again), then `Ready`:
/// the executor's turn to run other tasks between two slices.
struct YieldNow(bool);

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}
