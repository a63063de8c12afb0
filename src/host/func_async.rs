//! Async host functions: imports whose work is a future. The guest's call
//! suspends while the future is pending (wasmi's resumable host calls) and
//! resumes with its results.
//!
//! How it works: wasmi sees a synchronous stub. During an async call the
//! stub parks the function and its parameters in the guest's store and
//! returns a marker error, which makes wasmi's resumable call stop with a
//! host trap; the async call takes the parked call, awaits its future with
//! the store lent to it, and resumes the guest with the results. In a
//! synchronous call the stub fails with
//! [`Error::AsyncHostFuncInSyncCall`] instead.

use crate::error::{Error, Result};
use crate::host::context::calling_memory;
use crate::host::context_async::AsyncHostContext;
use crate::host::signature::{HostParams, HostResults};
use crate::lifecycle::builder::GuestBuilder;
use crate::lifecycle::guest::GuestState;
use crate::memory::handle::GuestMemory;
use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::future::Future;
use core::marker::PhantomData;
use core::pin::Pin;
use wasmi::{Caller, FuncType, Store, TypedResumableCallHostTrap, Val};

/// The future an async host function returns: boxed, `Send`, and allowed
/// to borrow the [`AsyncHostContext`] it was given for `'a`.
pub type HostFuture<'a, R> = Pin<Box<dyn Future<Output = Result<R>> + Send + 'a>>;

/// The future of a parked host call, which writes its results as wasmi
/// values.
pub(crate) type RunningHostCall<'a> = Pin<Box<dyn Future<Output = Result<()>> + Send + 'a>>;

/// An async host call the guest made, parked until the async call runs it.
pub(crate) trait PendingHostCall<T>: Send + Sync {
    /// Starts the host function's future; it writes its results to
    /// `results` when it completes.
    fn start<'a>(
        self: Box<Self>,
        store: &'a mut Store<GuestState<T>>,
        results: &'a mut Vec<Val>,
    ) -> RunningHostCall<'a>;
}

/// One parked call: the host function and the guest's arguments.
struct Pending<F, P, R> {
    func: Arc<F>,
    params: P,
    /// The calling instance's memory.
    memory: Option<GuestMemory>,
    results: PhantomData<fn() -> R>,
}

impl<T, F, P, R> PendingHostCall<T> for Pending<F, P, R>
where
    F: for<'a> Fn(AsyncHostContext<'a, T>, P) -> HostFuture<'a, R> + Send + Sync,
    P: HostParams,
    R: HostResults,
{
    fn start<'a>(
        self: Box<Self>,
        store: &'a mut Store<GuestState<T>>,
        results: &'a mut Vec<Val>,
    ) -> RunningHostCall<'a> {
        let cx = AsyncHostContext::new(store, self.memory);
        let future = (self.func)(cx, self.params);
        Box::pin(async move {
            let values = future.await?;
            results.clear();
            values.push_vals(results);
            Ok(())
        })
    }
}

/// The marker error an async host function's stub returns during an async
/// call, so that wasmi's resumable call stops and the call runs the
/// parked future. A call only meets it as an error where wasmi cannot
/// suspend: a synchronous call nested inside an async call (a host function
/// calling back into the guest), or the async import re-exported and
/// called directly.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Suspend;

impl core::fmt::Display for Suspend {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(
            "an async host function was called where the call cannot suspend (from a \
             synchronous call nested in an async call, or as the called export itself)",
        )
    }
}

impl core::error::Error for Suspend {}

impl wasmi::errors::HostError for Suspend {}

/// Per-guest state of async calls, kept in the guest's store.
pub(crate) struct AsyncCalls<T> {
    /// Whether an async call is running (so that stubs park their calls).
    active: bool,
    /// The call a stub parked, until the async call takes it.
    pending: Option<Box<dyn PendingHostCall<T>>>,
}

impl<T> Default for AsyncCalls<T> {
    fn default() -> Self {
        Self {
            active: false,
            pending: None,
        }
    }
}

impl<T> core::fmt::Debug for AsyncCalls<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AsyncCalls")
            .field("active", &self.active)
            .field("pending", &self.pending.is_some())
            .finish()
    }
}

impl<T> AsyncCalls<T> {
    /// An async call starts.
    pub(crate) fn begin(&mut self) {
        self.active = true;
        self.pending = None;
    }

    /// The async call ended (returned, failed, or its future was dropped).
    pub(crate) fn end(&mut self) {
        self.active = false;
        self.pending = None;
    }

    /// The parked call, if `trap` is a stub's marker.
    pub(crate) fn take<R>(
        &mut self,
        trap: &TypedResumableCallHostTrap<R>,
    ) -> Option<Box<dyn PendingHostCall<T>>> {
        trap.host_error().downcast_ref::<Suspend>()?;
        self.pending.take()
    }
}

impl<T: Send + 'static> GuestBuilder<'_, T> {
    /// Gives the guest an async host function to import as
    /// `module`.`name`: while its future is pending the guest's call is
    /// suspended and the executor runs other work; when it completes the
    /// guest resumes with its results.
    ///
    /// The closure gets an [`AsyncHostContext`] and the call's parameters
    /// (`()`, one value, or a tuple: see [`HostParams`]) and returns a
    /// [`HostFuture`], `Box::pin(async move { .. })`, of `linmem::Result`
    /// of its results ([`HostResults`]); an error fails the guest's call
    /// with [`Error::HostFunc`]. The future may keep the context: it reads
    /// and writes guest memory through it *between* `.await`s (a view
    /// cannot be held across one; see [`AsyncHostContext`]).
    ///
    /// Only an async call ([`Guest::call_async`](crate::Guest::call_async),
    /// [`GuestFunc::call_async`](crate::GuestFunc::call_async) and their
    /// `_until` forms) can run such a function; a synchronous call into a
    /// guest that reaches it fails with [`Error::AsyncHostFuncInSyncCall`].
    /// Sync and async host functions mix freely in one guest.
    ///
    /// The guest passes a buffer; the host reads the request from it,
    /// awaits, and writes the answer back:
    ///
    /// ```
    /// # fn main() -> linmem::Result<()> {
    /// use linmem::Module;
    /// let module = Module::new(r#"(module
    ///     (import "env" "shout" (func $shout (param i32 i32) (result i32)))
    ///     (memory (export "memory") 1)
    ///     (data (i32.const 64) "hello")
    ///     (func (export "run") (result i32) (call $shout (i32.const 64) (i32.const 5))))"#)?;
    /// let mut guest = module
    ///     .guest()
    ///     .host_func_async("env", "shout", |mut cx, (ptr, len): (u32, u32)| {
    ///         Box::pin(async move {
    ///             let request = cx.view(|view| view.bytes(ptr, len).map(<[u8]>::to_vec))?;
    ///             let answer = some_io(request).await; // the guest is suspended here
    ///             cx.view_mut(|mut view| view.write_bytes(ptr, &answer))?;
    ///             Ok(len)
    ///         })
    ///     })?
    ///     .instantiate()?;
    ///
    /// // Any executor runs the call; this one polls it on the current thread.
    /// let written = block_on(guest.call_async::<(), i32>("run", ()))?;
    /// assert_eq!(written, 5);
    /// assert_eq!(guest.view().bytes(64, 5)?, b"HELLO");
    ///
    /// // A synchronous call cannot suspend: a typed error, not a hang.
    /// let err = guest.call::<(), i32>("run", ()).unwrap_err();
    /// assert!(matches!(err, linmem::Error::AsyncHostFuncInSyncCall { .. }));
    /// # Ok(()) }
    /// # async fn some_io(request: Vec<u8>) -> Vec<u8> { request.to_ascii_uppercase() }
    /// # fn block_on<F: core::future::Future>(future: F) -> F::Output {
    /// #     let mut future = core::pin::pin!(future);
    /// #     let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
    /// #     loop {
    /// #         if let core::task::Poll::Ready(out) = future.as_mut().poll(&mut cx) { return out; }
    /// #     }
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Instantiate`] if `module`.`name` is already defined.
    pub fn host_func_async<P, R, F>(mut self, module: &str, name: &str, func: F) -> Result<Self>
    where
        P: HostParams,
        R: HostResults,
        F: for<'a> Fn(AsyncHostContext<'a, T>, P) -> HostFuture<'a, R> + Send + Sync + 'static,
    {
        let ty = FuncType::new(P::types(), R::types());
        let func = Arc::new(func);
        let import = (Box::<str>::from(module), Box::<str>::from(name));
        self.as_wasmi_linker_mut()
            .func_new(
                module,
                name,
                ty,
                move |mut caller: Caller<'_, GuestState<T>>, params: &[Val], _: &mut [Val]| {
                    if !caller.data().async_calls.active {
                        return Err(wasmi::Error::host(Error::AsyncHostFuncInSyncCall {
                            func: Box::from(""),
                            module: import.0.clone(),
                            name: import.1.clone(),
                        }));
                    }
                    // wasmi checked the parameters against the import's type.
                    let params = P::from_vals(params)
                        .ok_or_else(|| wasmi::Error::new("async host function: bad parameters"))?;
                    let memory = calling_memory(&caller).ok();
                    caller.data_mut().async_calls.pending = Some(Box::new(Pending {
                        func: Arc::clone(&func),
                        params,
                        memory,
                        results: PhantomData::<fn() -> R>,
                    }));
                    Err(wasmi::Error::host(Suspend))
                },
            )
            .map_err(|error| Error::Instantiate {
                error: error.into(),
            })?;
        Ok(self)
    }
}
