//! Closures the host gives a guest to import.

use crate::error::{Error, Result};
use crate::host::context::HostContext;
use crate::lifecycle::guest::GuestState;
use wasmi::{Caller, Linker, WasmRet, WasmTy};

/// A closure the host can give a guest to import: `Fn(HostContext<'_, T>,
/// params...) -> linmem::Result<results>`, with up to 12 parameters of wasm
/// types (`i32`, `u32`, `i64`, `u64`, `f32`, `f64`, ...) and a result that is
/// `()`, one such value or a tuple of them.
///
/// Implemented for every such closure; there is nothing to implement by hand.
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
                linker.func_wrap(module, name, move |caller: Caller<'_, GuestState<T>>, $($param: $param),*| {
                    (self)(HostContext { caller }, $($param),*).map_err(unwind)
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
