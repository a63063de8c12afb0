//! Host functions calling back into the instance that called them.

use crate::dynamic::func::DynamicFunc;
use crate::dynamic::types::FuncType;
use crate::dynamic::value::Value;
use crate::error::Result;
use crate::host::context::HostContext;
use crate::lifecycle::func::GuestFunc;
use crate::lifecycle::guest::{export_error, signature_mismatch};
use crate::memory::handle::GuestMemory;
use alloc::boxed::Box;
use alloc::vec::Vec;
use wasmi::{Extern, WasmParams, WasmResults};

impl<T> HostContext<'_, T> {
    /// Looks up a function exported by the calling instance, for calls
    /// from this host function (e.g. the guest's allocator, or a callback).
    /// The handle works like one from [`Guest::export_func`](crate::Guest::export_func):
    /// call it with `&mut cx`.
    ///
    /// # Errors
    ///
    /// [`Error::MissingExport`](crate::Error::MissingExport),
    /// [`Error::WrongExportKind`](crate::Error::WrongExportKind) or
    /// [`Error::SignatureMismatch`](crate::Error::SignatureMismatch) if the
    /// calling instance exports no such function.
    pub fn export_func<P: WasmParams, R: WasmResults>(
        &self,
        name: &str,
    ) -> Result<GuestFunc<P, R>> {
        let func = match self.caller.get_export(name) {
            Some(Extern::Func(func)) => func,
            other => return Err(export_error(name, "function", other)),
        };
        let typed = func
            .typed::<P, R>(&self.caller)
            .map_err(|_| signature_mismatch::<P, R>(name, &func.ty(&self.caller)))?;
        Ok(GuestFunc::new(typed, name, self.caller.data().guest_id()))
    }

    /// Calls the function `name` of the calling instance, looking it up
    /// first (a re-entrant call: the guest runs again inside this host
    /// function).
    ///
    /// ```
    /// # fn main() -> linmem::Result<()> {
    /// use linmem::HostContext;
    /// let module = linmem::Module::new(r#"(module
    ///     (import "env" "twice" (func $twice (param i32) (result i32)))
    ///     (func (export "inc") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
    ///     (func (export "run") (result i32) (call $twice (i32.const 5))))"#)?;
    /// let mut guest = module
    ///     .guest()
    ///     .host_func("env", "twice", |mut cx: HostContext<'_, ()>, x: i32| {
    ///         let once: i32 = cx.call("inc", x)?;
    ///         cx.call::<i32, i32>("inc", once)
    ///     })?
    ///     .instantiate()?;
    /// assert_eq!(guest.call::<(), i32>("run", ())?, 7);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// Those of [`export_func`](Self::export_func) and [`GuestFunc::call`].
    pub fn call<P: WasmParams, R: WasmResults>(&mut self, name: &str, params: P) -> Result<R> {
        self.export_func::<P, R>(name)?.call(self, params)
    }

    /// Looks up a function exported by the calling instance, for calls
    /// with [`Value`]s; see [`Guest::export_dynamic_func`](crate::Guest::export_dynamic_func).
    ///
    /// # Errors
    ///
    /// [`Error::MissingExport`](crate::Error::MissingExport) or
    /// [`Error::WrongExportKind`](crate::Error::WrongExportKind) if the
    /// calling instance exports no function `name`.
    pub fn export_dynamic_func(&self, name: &str) -> Result<DynamicFunc> {
        match self.caller.get_export(name) {
            Some(Extern::Func(func)) => Ok(DynamicFunc::new(
                func,
                FuncType::from_wasmi(&func.ty(&self.caller)),
                Box::from(name),
                self.caller.data().guest_id(),
            )),
            other => Err(export_error(name, "function", other)),
        }
    }

    /// Calls the function `name` of the calling instance with [`Value`]s.
    ///
    /// # Errors
    ///
    /// Those of [`export_dynamic_func`](Self::export_dynamic_func) and
    /// [`DynamicFunc::call`].
    pub fn call_dynamic(&mut self, name: &str, params: &[Value]) -> Result<Vec<Value>> {
        self.export_dynamic_func(name)?.call(self, params)
    }

    /// A memory exported by the calling instance, as a handle for
    /// [`GuestMemory`]-taking APIs such as [`Allocator::new_in`](crate::Allocator::new_in)'s
    /// memory or [`GuestAccess`](crate::GuestAccess) views.
    ///
    /// # Errors
    ///
    /// [`Error::MissingExport`](crate::Error::MissingExport) or
    /// [`Error::WrongExportKind`](crate::Error::WrongExportKind) if the
    /// calling instance exports no memory `name`.
    pub fn export_memory(&self, name: &str) -> Result<GuestMemory> {
        match self.caller.get_export(name) {
            Some(Extern::Memory(memory)) => Ok(GuestMemory::new(
                &self.caller,
                memory,
                self.caller.data().guest_id(),
            )),
            other => Err(export_error(name, "memory", other)),
        }
    }
}
