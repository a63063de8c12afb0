//! Closures the host gives a guest to import.

use crate::error::{Error, Result};
use crate::host::context::HostContext;
use crate::lifecycle::guest::GuestState;
use alloc::boxed::Box;
use alloc::format;
use wasmi::{Caller, Linker, WasmRet, WasmTy};

/// A closure the host can give a guest to import: `Fn(HostContext<'_, T>,
/// params...) -> linmem::Result<results>`, with up to 12 parameters of wasm
/// types (`i32`, `u32`, `i64`, `u64`, `f32`, `f64`, ...) and a result that is
/// `()`, one such value or a tuple of them.
///
/// Implemented for every such closure; there is nothing to implement by hand.
///
/// # Containment
///
/// linmem wraps every host function so that nothing it does can take the
/// host down through wasmi:
///
/// - A **panic** inside the closure is caught before it reaches wasmi
///   (whose execution cannot unwind: the process would abort) and fails the
///   guest's call with [`Error::HostFunc`] holding [`Error::HostPanic`]
///   (the function's `module.name` and the panic message). Needs `std`;
///   without it a panic cannot be caught and aborts. The panic hook still
///   runs (printing the message, by default).
/// - **Re-entry** (a host function calling the guest, whose code calls a
///   host function again, ...) is bounded: a host function called while
///   [`Limits::max_host_call_depth`](crate::Limits::max_host_call_depth)
///   host calls of the same store already run is refused with
///   [`Error::ReentryLimit`] before it runs, so nesting cannot overflow
///   the host stack. This holds for calls made through the raw wasmi
///   caller ([`HostContext::as_wasmi_caller`](crate::HostContext::as_wasmi_caller)) too.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a host function of a guest with host data `{T}`",
    label = "not a linmem host function",
    note = "a host function is `Fn(HostContext<'_, {T}>, params...) -> linmem::Result<results> + Send + Sync + 'static`",
    note = "parameters: up to 12 of `i32`, `u32`, `i64`, `u64`, `f32`, `f64` (or wasmi's `Nullable<Func>`/`Nullable<ExternRef>`); `usize`, `bool`, `u8` and `String` are not wasm types",
    note = "results: `()`, one wasm value or a tuple of them, wrapped in `linmem::Result`; annotate the context's type, e.g. `|cx: HostContext<'_, {T}>, ptr: u32|`"
)]
pub trait HostFunc<T, Params, Results>: Send + Sync + 'static {
    /// Defines the function as `module`.`name` in `linker`.
    #[doc(hidden)]
    fn define(
        self,
        linker: &mut Linker<GuestState<T>>,
        module: &str,
        name: &str,
    ) -> Result<(), wasmi::Error>;
}

/// Turns a host function's error into the wasmi error that unwinds the guest.
#[cold]
fn unwind(error: Error) -> wasmi::Error {
    wasmi::Error::host(error)
}

/// Runs a host function's body, catching a panic (with `std`) as
/// [`Error::HostPanic`]. The [`HostContext`] moved into `body` restores the
/// nesting depth and the fuel split when it drops, on unwinding too.
#[inline(always)]
pub(crate) fn guarded<R>(func: &str, body: impl FnOnce() -> Result<R>) -> Result<R> {
    #[cfg(feature = "std")]
    {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)) {
            Ok(result) => result,
            Err(payload) => Err(host_panic(func, payload.as_ref())),
        }
    }
    #[cfg(not(feature = "std"))]
    {
        let _ = func;
        body()
    }
}

#[cfg(feature = "std")]
#[cold]
fn host_panic(func: &str, payload: &(dyn core::any::Any + Send)) -> Error {
    Error::HostPanic {
        func: Box::from(func),
        message: crate::hostile::compile::panic_message(payload),
    }
}

macro_rules! impl_host_func {
    ($($param:ident),*) => {
        impl<T, F, R, $($param,)*> HostFunc<T, ($($param,)*), R> for F
        where
            T: 'static,
            F: Fn(HostContext<'_, T>, $($param),*) -> Result<R> + Send + Sync + 'static,
            $($param: WasmTy,)*
            core::result::Result<R, wasmi::Error>: WasmRet,
        {
            #[allow(non_snake_case)]
            fn define(self, linker: &mut Linker<GuestState<T>>, module: &str, name: &str) -> Result<(), wasmi::Error> {
                let func: Box<str> = format!("{module}.{name}").into_boxed_str();
                linker.func_wrap(module, name, move |caller: Caller<'_, GuestState<T>>, $($param: $param),*| {
                    let cx = HostContext::enter(caller, &func).map_err(unwind)?;
                    guarded(&func, || (self)(cx, $($param),*)).map_err(unwind)
                })?;
                Ok(())
            }
        }
    };
}

impl_host_func!();
impl_host_func!(A1);
impl_host_func!(A1, A2);
impl_host_func!(A1, A2, A3);
impl_host_func!(A1, A2, A3, A4);
impl_host_func!(A1, A2, A3, A4, A5);
impl_host_func!(A1, A2, A3, A4, A5, A6);
impl_host_func!(A1, A2, A3, A4, A5, A6, A7);
impl_host_func!(A1, A2, A3, A4, A5, A6, A7, A8);
impl_host_func!(A1, A2, A3, A4, A5, A6, A7, A8, A9);
impl_host_func!(A1, A2, A3, A4, A5, A6, A7, A8, A9, A10);
impl_host_func!(A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11);
impl_host_func!(A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11, A12);
