//! Host functions: closures the guest imports, with the same view API over
//! the calling guest's memory.

use crate::error::{Error, Result};
use crate::lifecycle::guest::GuestState;
use crate::memory::handle::GuestMemory;
use crate::memory::view::{LinearMemoryView, LinearMemoryViewMut};
use wasmi::{Caller, Extern};

/// What a host function gets besides its parameters: the calling guest's
/// memory and the host data of its store.
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
///         lines.push(view.str(ptr.into(), len.into())?.to_owned());
///         Ok(())
///     })?
///     .instantiate()?;
/// guest.call::<(), ()>("run", ())?;
/// assert_eq!(guest.data(), &["hello from the guest"]);
/// # Ok(()) }
/// ```
///
/// A host function fails the guest's call by returning an error; the caller
/// gets [`Error::HostFunc`] with that error intact as its source (use
/// [`Error::custom`] for the host's own error types).
pub struct HostContext<'a, T> {
    pub(crate) caller: Caller<'a, GuestState<T>>,
}

impl<T> core::fmt::Debug for HostContext<'_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("HostContext").finish_non_exhaustive()
    }
}

impl<'a, T> HostContext<'a, T> {
    /// The guest's memory: the one its views show, or (while the start
    /// function runs) its export of that name.
    fn memory(&self) -> Result<GuestMemory> {
        let state = self.caller.data();
        if let Some(memory) = state.memory() {
            return Ok(memory);
        }
        match self.caller.get_export(state.memory_export()) {
            Some(Extern::Memory(memory)) => {
                Ok(GuestMemory::new(&self.caller, memory, state.guest_id()))
            }
            _ => Err(Error::NoMemory),
        }
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
