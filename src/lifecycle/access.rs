//! What calls into a guest go through: the [`Guest`] itself from the host,
//! or a [`HostContext`] from inside one of its host functions.

use crate::error::{Error, Result};
use crate::host::context::HostContext;
use crate::lifecycle::func::GuestFunc;
use crate::lifecycle::guest::{Guest, GuestId, GuestState};
use crate::memory::handle::GuestMemory;
use crate::memory::view::{LinearMemoryView, LinearMemoryViewMut};
use alloc::boxed::Box;
use wasmi::{StoreContext, StoreContextMut, WasmParams, WasmResults};

mod sealed {
    pub trait Sealed {}
    impl<T> Sealed for crate::Guest<T> {}
    impl<T> Sealed for crate::HostContext<'_, T> {}
}

/// A way into a guest's store: a [`Guest`] (from the host) or a
/// [`HostContext`] (from inside a host function the guest called). Handles
/// ([`GuestFunc`], [`DynamicFunc`](crate::DynamicFunc),
/// [`GuestGlobal`](crate::GuestGlobal), [`GuestTable`](crate::GuestTable),
/// [`GuestMemory`]) and the [`Allocator`](crate::Allocator) take either, with
/// the same checks: a host function can call the guest's allocator or any
/// other export.
///
/// ```
/// # fn main() -> linmem::Result<()> {
/// use linmem::{Allocator, HostContext, Module};
/// // The guest asks the host for a greeting; the host allocates it in the
/// // guest's memory with the guest's own allocator and returns the pointer.
/// let module = Module::new(r#"(module
///     (import "env" "greeting" (func $greeting (result i32)))
///     (memory (export "memory") 1)
///     (global $next (mut i32) (i32.const 1024))
///     (func (export "alloc") (param $size i32) (result i32)
///         (global.get $next)
///         (global.set $next (i32.add (global.get $next) (local.get $size))))
///     (func (export "run") (result i32) (call $greeting)))"#)?;
/// let mut guest = module
///     .guest()
///     .host_func("env", "greeting", |mut cx: HostContext<'_, ()>| {
///         let allocator = Allocator::detect(&cx)?;
///         let text = allocator.alloc_str(&mut cx, "hello")?;
///         u32::try_from(text.addr()).map_err(linmem::Error::custom)
///     })?
///     .instantiate()?;
/// let ptr = guest.call::<(), u32>("run", ())?;
/// assert_eq!(guest.view().str(ptr, 5)?, "hello");
/// # Ok(()) }
/// ```
///
/// Sealed: implemented by [`Guest`] and [`HostContext`] only.
pub trait GuestAccess: sealed::Sealed {
    /// The host data type of the guest's store.
    type Data;

    /// The id handles are checked against.
    #[doc(hidden)]
    fn guest_id(&self) -> GuestId;

    /// The guest's store.
    #[doc(hidden)]
    fn store(&self) -> StoreContext<'_, GuestState<Self::Data>>;

    /// The guest's store, mutably.
    #[doc(hidden)]
    fn store_mut(&mut self) -> StoreContextMut<'_, GuestState<Self::Data>>;

    /// The guest's default memory (the calling one's, for a host context).
    #[doc(hidden)]
    fn default_memory_handle(&self) -> Result<GuestMemory>;

    /// Looks up an exported function: of the main instance for a guest, of
    /// the calling instance for a host context.
    #[doc(hidden)]
    fn lookup_func<P: WasmParams, R: WasmResults>(&self, name: &str) -> Result<GuestFunc<P, R>>;

    /// A read-only view of one of the guest's memories.
    #[doc(hidden)]
    fn memory_view(&self, memory: GuestMemory) -> Result<LinearMemoryView<'_>> {
        Ok(memory.owned_by(self.guest_id())?.view(self.store()))
    }

    /// A read-write view of one of the guest's memories.
    #[doc(hidden)]
    fn memory_view_mut(&mut self, memory: GuestMemory) -> Result<LinearMemoryViewMut<'_>> {
        let memory = memory.owned_by(self.guest_id())?;
        Ok(memory.view_and_data_mut(self.store_mut()).0)
    }
}

/// The error for a handle named `name` used with another guest.
#[cold]
pub(crate) fn foreign(name: &str) -> Error {
    Error::ForeignHandle {
        name: Box::from(name),
    }
}

/// Checks that `access` is the guest a handle named `name` came from.
#[inline]
pub(crate) fn check_owner(access: &impl GuestAccess, owner: GuestId, name: &str) -> Result<()> {
    if access.guest_id() == owner {
        Ok(())
    } else {
        Err(foreign(name))
    }
}

impl<T> GuestAccess for Guest<T> {
    type Data = T;

    #[inline]
    fn guest_id(&self) -> GuestId {
        self.id
    }

    #[inline]
    fn store(&self) -> StoreContext<'_, GuestState<T>> {
        (&self.store).into()
    }

    #[inline]
    fn store_mut(&mut self) -> StoreContextMut<'_, GuestState<T>> {
        (&mut self.store).into()
    }

    fn default_memory_handle(&self) -> Result<GuestMemory> {
        self.default_memory()
    }

    fn lookup_func<P: WasmParams, R: WasmResults>(&self, name: &str) -> Result<GuestFunc<P, R>> {
        self.export_func(name)
    }
}

impl<T> GuestAccess for HostContext<'_, T> {
    type Data = T;

    #[inline]
    fn guest_id(&self) -> GuestId {
        self.caller.data().guest_id()
    }

    #[inline]
    fn store(&self) -> StoreContext<'_, GuestState<T>> {
        (&self.caller).into()
    }

    #[inline]
    fn store_mut(&mut self) -> StoreContextMut<'_, GuestState<T>> {
        (&mut self.caller).into()
    }

    fn default_memory_handle(&self) -> Result<GuestMemory> {
        self.memory()
    }

    fn lookup_func<P: WasmParams, R: WasmResults>(&self, name: &str) -> Result<GuestFunc<P, R>> {
        self.export_func(name)
    }
}
