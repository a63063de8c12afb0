//! What an async host function's future gets: the calling guest's memory
//! and host data, lent between `.await`s.

use crate::error::{Error, Result};
use crate::lifecycle::guest::GuestState;
use crate::memory::handle::GuestMemory;
use crate::memory::view::{LinearMemoryView, LinearMemoryViewMut};
use wasmi::Store;

/// The calling guest's memory and host data, for the future of an async
/// host function (see [`GuestBuilder::host_func_async`](crate::GuestBuilder::host_func_async)).
///
/// While the future is pending the guest's call is suspended, and the
/// context is the future's to keep. Memory is reached only *inside* a
/// closure ([`view`](Self::view), [`view_mut`](Self::view_mut),
/// [`view_and_data_mut`](Self::view_and_data_mut)): the view it lends is a
/// borrow that ends when the closure returns, and a closure cannot
/// `.await`, so no view is ever held across an `.await`. The borrow
/// checker proves it: a view cannot leave its closure.
///
/// ```compile_fail
/// # fn main() -> linmem::Result<()> {
/// # let module = linmem::Module::new(r#"(module (import "env" "read" (func (param i32) (result i32)))
/// #     (memory (export "memory") 1))"#)?;
/// let builder = module.guest().host_func_async("env", "read", |cx, ptr: u32| {
///     Box::pin(async move {
///         let view = cx.view(|view| Ok(view))?; // error: the view cannot leave the closure
///         core::future::ready(()).await;
///         view.read::<u32>(ptr)
///     })
/// })?;
/// # builder.instantiate()?;
/// # Ok(()) }
/// ```
///
/// Nor can a closure `.await`:
///
/// ```compile_fail
/// # fn main() -> linmem::Result<()> {
/// # let module = linmem::Module::new(r#"(module (import "env" "read" (func (param i32) (result i32)))
/// #     (memory (export "memory") 1))"#)?;
/// let builder = module.guest().host_func_async("env", "read", |cx, ptr: u32| {
///     Box::pin(async move {
///         cx.view(|view| {
///             core::future::ready(()).await; // error: `await` outside of an async block
///             view.read::<u32>(ptr)
///         })
///     })
/// })?;
/// # builder.instantiate()?;
/// # Ok(()) }
/// ```
///
/// So memory is read on each side of an `.await` in two closures, and
/// that compiles:
///
/// ```
/// # fn main() -> linmem::Result<()> {
/// # let module = linmem::Module::new(r#"(module (import "env" "read" (func (param i32) (result i32)))
/// #     (memory (export "memory") 1))"#)?;
/// let builder = module.guest().host_func_async("env", "read", |cx, ptr: u32| {
///     Box::pin(async move {
///         let before = cx.view(|view| view.read::<u32>(ptr))?;
///         core::future::ready(()).await;
///         let after = cx.view(|view| view.read::<u32>(ptr))?;
///         Ok(before.wrapping_add(after))
///     })
/// })?;
/// # builder.instantiate()?;
/// # Ok(()) }
/// ```
pub struct AsyncHostContext<'a, T> {
    store: &'a mut Store<GuestState<T>>,
    /// The calling instance's memory, if it has one the host can see.
    memory: Option<GuestMemory>,
}

impl<T> core::fmt::Debug for AsyncHostContext<'_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AsyncHostContext").finish_non_exhaustive()
    }
}

impl<'a, T> AsyncHostContext<'a, T> {
    pub(crate) fn new(store: &'a mut Store<GuestState<T>>, memory: Option<GuestMemory>) -> Self {
        Self { store, memory }
    }

    fn memory(&self) -> Result<GuestMemory> {
        self.memory.ok_or(Error::NoMemory)
    }

    /// Runs `read` with a read-only view of the calling guest's memory (the
    /// one a synchronous [`HostContext`](crate::HostContext) would show)
    /// and returns what it returns.
    ///
    /// # Errors
    ///
    /// [`Error::NoMemory`] if the guest has no memory the host can see;
    /// otherwise `read`'s own errors.
    pub fn view<X>(&self, read: impl FnOnce(LinearMemoryView<'_>) -> Result<X>) -> Result<X> {
        read(self.memory()?.view(&*self.store))
    }

    /// Runs `write` with a read-write view of the calling guest's memory
    /// and returns what it returns.
    ///
    /// # Errors
    ///
    /// [`Error::NoMemory`] if the guest has no memory the host can see;
    /// otherwise `write`'s own errors.
    pub fn view_mut<X>(
        &mut self,
        write: impl FnOnce(LinearMemoryViewMut<'_>) -> Result<X>,
    ) -> Result<X> {
        write(self.memory()?.view_and_data_mut(&mut *self.store).0)
    }

    /// Runs `write` with a read-write view of the calling guest's memory
    /// and the host data at the same time.
    ///
    /// # Errors
    ///
    /// [`Error::NoMemory`] if the guest has no memory the host can see;
    /// otherwise `write`'s own errors.
    pub fn view_and_data_mut<X>(
        &mut self,
        write: impl FnOnce(LinearMemoryViewMut<'_>, &mut T) -> Result<X>,
    ) -> Result<X> {
        let (view, state) = self.memory()?.view_and_data_mut(&mut *self.store);
        write(view, state.data_mut())
    }

    /// The host data of the guest's store.
    #[must_use]
    pub fn data(&self) -> &T {
        self.store.data().data()
    }

    /// The host data of the guest's store, mutably.
    #[must_use]
    pub fn data_mut(&mut self) -> &mut T {
        self.store.data_mut().data_mut()
    }
}
