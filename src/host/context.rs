//! Host functions: closures the guest imports, with the same view API over
//! the calling guest's memory.

use crate::error::{Error, Result};
use crate::lifecycle::guest::GuestState;
use crate::memory::handle::GuestMemory;
use crate::memory::view::{LinearMemoryView, LinearMemoryViewMut};
use alloc::boxed::Box;
use wasmi::{Caller, Extern};

/// What a host function gets besides its parameters: the calling guest's
/// memory and the host data of its store.
///
/// "The calling guest's memory" is the calling *instance's*: in a guest with
/// instances added by [`Guest::add_instance`](crate::Guest::add_instance),
/// a host function called by one of them sees that instance's memory export
/// of the guest's memory name, or the shared host memory if it exports none.
///
/// ```
/// # fn main() -> linmem::Result<()> {
/// use linmem::{HostContext, Module};
///
/// let module = Module::new(r#"(module
///     (import "env" "log" (func $log (param i32 i32)))
///     (memory (export "memory") 1)
///     (data (i32.const 8) "hello from the guest")
///     (func (export "run") (call $log (i32.const 8) (i32.const 20))))"#)?;
/// let mut guest = module
///     .guest_with(Vec::<String>::new())
///     .host_func("env", "log", |mut cx: HostContext<'_, Vec<String>>, ptr: u32, len: u32| {
///         let (view, lines) = cx.view_and_data_mut()?;
///         lines.push(view.str(ptr, len)?.to_owned());
///         Ok(())
///     })?
///     .instantiate()?;
/// guest.call::<(), ()>("run", ())?;
/// assert_eq!(guest.data(), &["hello from the guest"]);
/// # Ok(()) }
/// ```
///
/// A host function fails the guest's call by returning an error; the caller
/// gets [`Error::HostFunc`] with that error intact as its `error` field (use
/// [`Error::custom`] for the host's own error types).
pub struct HostContext<'a, T> {
    pub(crate) caller: Caller<'a, GuestState<T>>,
    /// The fuel the store held when the host function was entered during a
    /// [`call_until`](crate::Guest::call_until), which had kept the rest of
    /// the guest's fuel back: the store gets all of it for the host
    /// function's own calls into the guest, and the split is restored when
    /// the host function returns.
    slice: Option<u64>,
}

impl<'a, T> HostContext<'a, T> {
    /// Enters a host function: refuses it past the nesting limit, counts
    /// its depth and hands the store the whole fuel budget.
    pub(crate) fn enter(mut caller: Caller<'a, GuestState<T>>, func: &str) -> Result<Self> {
        let state = caller.data_mut();
        let limit = state.limiter.limits().host_call_depth();
        if state.depth >= limit {
            return Err(Error::ReentryLimit {
                func: Box::from(func),
                depth: state.depth,
            });
        }
        state.depth = state.depth.saturating_add(1);
        let reserve = core::mem::take(&mut state.fuel_reserve);
        let slice = if reserve == 0 {
            None
        } else {
            let fuel = caller.get_fuel().unwrap_or(0);
            // Cannot fail: a reserve exists only on a metering engine.
            let _ = caller.set_fuel(fuel.saturating_add(reserve));
            Some(fuel)
        };
        Ok(Self { caller, slice })
    }
}

impl<T> Drop for HostContext<'_, T> {
    fn drop(&mut self) {
        if let Some(slice) = self.slice {
            let total = self.caller.get_fuel().unwrap_or(0);
            let granted = total.min(slice);
            let _ = self.caller.set_fuel(granted);
            self.caller.data_mut().fuel_reserve = total.saturating_sub(granted);
        }
        let state = self.caller.data_mut();
        state.depth = state.depth.saturating_sub(1);
    }
}

impl<T> core::fmt::Debug for HostContext<'_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("HostContext").finish_non_exhaustive()
    }
}

/// The memory of the instance `caller` stands for; see
/// [`HostContext::memory`].
pub(crate) fn calling_memory<T>(caller: &Caller<'_, GuestState<T>>) -> Result<GuestMemory> {
    let state = caller.data();
    match state.memory() {
        Some(memory) if state.instances <= 1 => return Ok(memory),
        _ => {}
    }
    if let Some(Extern::Memory(memory)) = caller.get_export(state.memory_export()) {
        return Ok(GuestMemory::new(caller, memory, state.guest_id()));
    }
    // An added instance without such an export: the shared host memory,
    // never another instance's own memory.
    match state.memory() {
        Some(memory) if state.memory_is_host => Ok(memory),
        _ => Err(Error::NoMemory),
    }
}

impl<'a, T> HostContext<'a, T> {
    /// The calling instance's memory: the one the guest's views show, or
    /// (while the start function runs, or when the caller is an instance
    /// added with [`Guest::add_instance`](crate::Guest::add_instance)) the
    /// calling instance's export of that name.
    pub(crate) fn memory(&self) -> Result<GuestMemory> {
        calling_memory(&self.caller)
    }

    /// A read-only view of the calling guest's memory.
    ///
    /// # Errors
    ///
    /// [`Error::NoMemory`] if the guest has no memory the host can see.
    pub fn view(&self) -> Result<LinearMemoryView<'_>> {
        Ok(self.memory()?.view(&self.caller))
    }

    /// A read-write view of the calling guest's memory.
    ///
    /// # Errors
    ///
    /// [`Error::NoMemory`] if the guest has no memory the host can see.
    pub fn view_mut(&mut self) -> Result<LinearMemoryViewMut<'_>> {
        Ok(self.view_and_data_mut()?.0)
    }

    /// A read-write view of the memory and the host data at the same time.
    ///
    /// # Errors
    ///
    /// [`Error::NoMemory`] if the guest has no memory the host can see.
    pub fn view_and_data_mut(&mut self) -> Result<(LinearMemoryViewMut<'_>, &mut T)> {
        let memory = self.memory()?;
        let (view, state) = memory.view_and_data_mut(&mut self.caller);
        Ok((view, state.data_mut()))
    }

    /// The host data of the guest's store.
    #[must_use]
    pub fn data(&self) -> &T {
        self.caller.data().data()
    }

    /// The host data of the guest's store, mutably.
    #[must_use]
    pub fn data_mut(&mut self) -> &mut T {
        self.caller.data_mut().data_mut()
    }

    /// The underlying wasmi caller (escape hatch), e.g. to call other
    /// exports of the calling instance.
    #[must_use]
    pub fn as_wasmi_caller(&mut self) -> &mut Caller<'a, GuestState<T>> {
        &mut self.caller
    }
}
