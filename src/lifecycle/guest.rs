//! A running guest: one instance, its store and its linear memory.

use crate::error::{Error, Result};
use crate::host::func_async::AsyncCalls;
use crate::hostile::deadline::Deadline;
use crate::hostile::limits::{Limits, StoreLimiter};
use crate::lifecycle::builder::{instantiate_in, undefined_import};
use crate::lifecycle::func::GuestFunc;
use crate::lifecycle::instance::GuestInstance;
use crate::lifecycle::module::Module;
use crate::memory::handle::GuestMemory;
use crate::memory::view::{LinearMemoryView, LinearMemoryViewMut};
use alloc::boxed::Box;
use core::sync::atomic::Ordering;
use wasmi::{Engine, Extern, ExternType, Instance, Linker, Memory, Store, WasmParams, WasmResults};

/// What a guest's wasmi [`Store`](https://docs.rs/wasmi/2/wasmi/struct.Store.html) holds: the host's own data, plus what
/// linmem keeps per guest.
#[derive(Debug)]
pub struct GuestState<T> {
    pub(crate) data: T,
    /// The memory the guest's views show, once known (at once for a host
    /// memory, after instantiation for an exported one).
    pub(crate) memory: Option<GuestMemory>,
    /// The export name of that memory, for host calls from the start
    /// function: `memory` unless chosen otherwise.
    pub(crate) memory_export: Option<Box<str>>,
    pub(crate) guest: GuestId,
    /// Enforces the guest's [`Limits`] and remembers its denials.
    pub(crate) limiter: StoreLimiter,
    /// How many host functions of this store are running (nested).
    pub(crate) depth: u32,
    /// Fuel that a running [`call_until`](Guest::call_until) keeps back
    /// from the store between its slices; kept here so that nothing can
    /// lose it and host functions can hand it to their nested calls.
    pub(crate) fuel_reserve: u64,
    /// How many instances the store holds (1 + those of `add_instance`).
    pub(crate) instances: u32,
    /// Whether `memory` is a host memory (shared by every instance that
    /// imports it), not the main instance's own.
    pub(crate) memory_is_host: bool,
    /// The guest's WASI context and captured output, once configured.
    #[cfg(feature = "wasi")]
    pub(crate) wasi: Option<crate::integrations::wasi::state::WasiState>,
    /// Async calls: whether one runs, and the async host call it awaits.
    pub(crate) async_calls: AsyncCalls<T>,
}

impl<T> GuestState<T> {
    /// A new guest's store data: no memory yet, no limits, a fresh id.
    pub(crate) fn new(data: T) -> Self {
        Self {
            data,
            memory: None,
            memory_export: None,
            guest: next_guest_id(),
            limiter: StoreLimiter::new(Limits::new()),
            async_calls: AsyncCalls::default(),
            depth: 0,
            fuel_reserve: 0,
            instances: 1,
            memory_is_host: false,
            #[cfg(feature = "wasi")]
            wasi: None,
        }
    }

    pub(crate) fn memory(&self) -> Option<GuestMemory> {
        self.memory
    }

    pub(crate) fn memory_export(&self) -> &str {
        self.memory_export.as_deref().unwrap_or("memory")
    }

    pub(crate) fn guest_id(&self) -> GuestId {
        self.guest
    }

    /// The host data given to [`Module::guest_with`].
    #[must_use]
    pub fn data(&self) -> &T {
        &self.data
    }

    /// The host data, mutably.
    #[must_use]
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.data
    }
}

/// A unique number per guest, so that a [`GuestFunc`] from one guest is
/// refused by another instead of reaching wasmi's panic on foreign handles.
/// 64 bits: at a billion guests a second it would take 584 years to wrap.
pub(crate) type GuestId = u64;

#[cfg(target_has_atomic = "64")]
pub(crate) fn next_guest_id() -> GuestId {
    static NEXT: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Targets without 64-bit atomics count in 32 bits and saturate instead of
/// wrapping: ids stay unique for the first 2^32 - 1 guests of the process,
/// and all later guests share the last id (so a handle of one of them is
/// not told from another's: wasmi then panics on it).
#[cfg(not(target_has_atomic = "64"))]
pub(crate) fn next_guest_id() -> GuestId {
    static NEXT: core::sync::atomic::AtomicU32 = core::sync::atomic::AtomicU32::new(0);
    let id = NEXT
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |id| id.checked_add(1))
        .unwrap_or(u32::MAX);
    GuestId::from(id)
}

/// A WebAssembly instance with its own store and linear memory, running on
/// the wasmi interpreter.
///
/// `T` is host data kept in the guest's store (`()` unless given with
/// [`Module::guest_with`]), reachable from the host with [`Guest::data`] and
/// from host functions. A guest is `Send` when `T` is.
///
/// ```
/// # fn main() -> linmem::Result<()> {
/// use linmem::Guest;
///
/// // The start function grew memory by one page and stored 24 at address 0.
/// let mut guest = Guest::linear_memory()?;
/// assert_eq!(guest.view().read::<u8>(0)?, 24);
/// guest.view_mut().write(1, 25u8)?;
/// let value: i32 = guest.call("readWasmMemoryAndReturnIndexOne", ())?;
/// assert_eq!(value, 25);
/// # Ok(()) }
/// ```
///
/// # State after a failure
///
/// Every failure leaves the guest usable, in a defined state:
///
/// - **Trap** ([`Error::Trap`]: `unreachable`, out-of-bounds access, stack
///   exhaustion, out of fuel, ...) and **host function error**
///   ([`Error::HostFunc`]): the call ends where it failed; memory, globals
///   and tables hold exactly what the guest (and the host function) wrote
///   before that point; nothing is rolled back. The next call starts afresh.
/// - **Host function panic or re-entry refused** ([`Error::HostFunc`]
///   holding [`Error::HostPanic`] or [`Error::ReentryLimit`]): the same as a
///   host function error; what the panicking host function wrote before
///   its panic stays written, and the nesting depth and fuel are restored.
/// - **Deadline or cancellation** ([`Error::DeadlineExceeded`],
///   [`Error::Cancelled`]): the same, the call abandoned at a fuel-slice
///   boundary; the fuel it used is spent.
/// - **Out of fuel**: the same; [`fuel`](Self::fuel) is then less than the
///   next block of instructions needed, and the guest can be called again
///   after [`add_fuel`](Self::add_fuel).
/// - **Denied growth** (a guest's `memory.grow` past a limit returns -1; a
///   host [`grow`](Self::grow) fails with [`Error::GrowDenied`] or
///   [`Error::GrowPastMaximum`]): the memory's size and contents are
///   unchanged.
/// - **Bad address** in a view ([`Error::OutOfBounds`]): nothing is read or
///   written.
///
/// linmem never marks a guest unusable: a guest stopped halfway may have
/// broken its *own* invariants (a half-written structure, a held lock in
/// its allocator). Whether to keep using it or to instantiate a fresh one
/// is the host's call; the host's own state is never affected.
pub struct Guest<T = ()> {
    pub(crate) store: Store<GuestState<T>>,
    pub(crate) linker: Linker<GuestState<T>>,
    pub(crate) instance: Instance,
    pub(crate) memory: Option<GuestMemory>,
    pub(crate) id: GuestId,
}

/// A short form: the default memory's size in pages, not wasmi's store.
impl<T> core::fmt::Debug for Guest<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let pages = self.memory.map(|memory| memory.view(&self.store).pages());
        f.debug_struct("Guest")
            .field("pages", &pages)
            .finish_non_exhaustive()
    }
}

impl Guest {
    /// Compiles `source` (wasm bytes or WAT text) and instantiates it with no
    /// imports; a shortcut for [`Module::new`] then [`Module::instantiate`].
    ///
    /// # Errors
    ///
    /// Those of [`Module::new`] and [`GuestBuilder::instantiate`](crate::GuestBuilder::instantiate).
    pub fn new(source: impl AsRef<[u8]>) -> Result<Self> {
        Module::new(source)?.instantiate()
    }

    /// The reference scenario's guest, from the embedded fixture: memory of
    /// one page with 24 at address 0 after the start function ran.
    ///
    /// # Errors
    ///
    /// Those of [`Module::new`] and [`GuestBuilder::instantiate`](crate::GuestBuilder::instantiate); none
    /// happens with the embedded fixture in practice.
    pub fn linear_memory() -> Result<Self> {
        Module::linear_memory()?.instantiate()
    }
}

impl<T> Guest<T> {
    /// A read-only view of the guest's default memory.
    ///
    /// The view borrows the guest: it cannot be kept across [`grow`](Self::grow)
    /// or a call (see [`LinearMemoryView`]). A guest whose module has no
    /// memory the host can see gives an empty view whose accesses fail
    /// with [`Error::NoMemory`] (see [`LinearMemoryView::has_memory`]).
    #[inline]
    #[must_use]
    pub fn view(&self) -> LinearMemoryView<'_> {
        match &self.memory {
            Some(memory) => memory.view(&self.store),
            None => LinearMemoryView::no_memory(),
        }
    }

    /// A read-write view of the guest's default memory.
    ///
    /// The view borrows the guest mutably: it cannot be kept across
    /// [`grow`](Self::grow) or a call. A guest with no memory gives an
    /// empty view, as with [`view`](Self::view).
    #[inline]
    #[must_use]
    pub fn view_mut(&mut self) -> LinearMemoryViewMut<'_> {
        match &self.memory {
            Some(memory) => memory.view_and_data_mut(&mut self.store).0,
            None => LinearMemoryViewMut::no_memory(),
        }
    }

    /// Grows the memory by `additional` pages and returns its previous size in
    /// pages. The new pages are zeroed.
    ///
    /// ```
    /// # fn main() -> linmem::Result<()> {
    /// let mut guest = linmem::Guest::linear_memory()?;
    /// assert_eq!(guest.grow(2)?, 1);
    /// assert_eq!(guest.view().pages(), 3);
    /// assert!(guest.grow(u64::MAX).is_err());
    /// assert_eq!(guest.view().pages(), 3);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::GrowPastMaximum`] if the new size would pass the memory's
    /// declared maximum (or its index type's limit); [`Error::GrowDenied`]
    /// if a limit set with [`GuestBuilder::limits`](crate::GuestBuilder::limits) denies it;
    /// [`Error::Grow`] if the host could not provide the memory. The memory
    /// is unchanged then. [`Error::NoMemory`] if the guest has no memory.
    pub fn grow(&mut self, additional: u64) -> Result<u64> {
        let denials = self.store.data().limiter.denials();
        let memory = self.memory.as_mut().ok_or(Error::NoMemory)?;
        let previous = memory
            .grow(&mut self.store, additional)
            .map_err(|error| self.store.data().limiter.grow_error(denials, error))?;
        self.store.data_mut().memory = self.memory;
        Ok(previous)
    }

    /// The guest's default memory (the one [`view`](Self::view) shows), as
    /// a handle.
    ///
    /// # Errors
    ///
    /// [`Error::NoMemory`] if the guest has no memory the host can see.
    pub fn default_memory(&self) -> Result<GuestMemory> {
        self.memory.ok_or(Error::NoMemory)
    }

    /// Another memory the guest exports (multi-memory modules), as a handle
    /// for [`view_of`](Self::view_of) and [`view_mut_of`](Self::view_mut_of).
    ///
    /// ```
    /// # fn main() -> linmem::Result<()> {
    /// let mut guest = linmem::Guest::new(r#"(module
    ///     (memory (export "memory") 1) (memory (export "scratch") 2)
    ///     (func (export "peek") (param i32) (result i32) (i32.load8_u 1 (local.get 0))))"#)?;
    /// let scratch = guest.export_memory("scratch")?;
    /// guest.view_mut_of(scratch)?.write(70_000, 9u8)?;
    /// assert_eq!(guest.call::<i32, i32>("peek", 70_000)?, 9);
    /// assert_eq!(guest.view_of(scratch)?.pages(), 2);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::MissingExport`] or [`Error::WrongExportKind`] if the guest
    /// exports no memory of that name.
    pub fn export_memory(&self, name: &str) -> Result<GuestMemory> {
        self.export_memory_in(self.main_instance(), name)
    }

    /// A memory exported by `instance`, which must be an instance of this
    /// guest's store (its main one or one from
    /// [`add_instance`](Self::add_instance)).
    ///
    /// # Errors
    ///
    /// [`Error::MissingExport`] or [`Error::WrongExportKind`] if the instance
    /// exports no memory of that name.
    pub fn export_memory_in(&self, instance: GuestInstance, name: &str) -> Result<GuestMemory> {
        let instance = self.own_instance(instance, name)?;
        match instance.get_export(&self.store, name) {
            Some(Extern::Memory(memory)) => Ok(GuestMemory::new(&self.store, memory, self.id)),
            other => Err(export_error(name, "memory", other)),
        }
    }

    /// The host memory the guest imports as `module`.`name` (one given with
    /// [`GuestBuilder::host_memory`](crate::GuestBuilder::host_memory) or
    /// [`host_memory_static`](crate::GuestBuilder::host_memory_static)), as
    /// a handle for [`view_of`](Self::view_of) and
    /// [`view_mut_of`](Self::view_mut_of).
    ///
    /// ```
    /// # fn main() -> linmem::Result<()> {
    /// let module = linmem::Module::new(r#"(module (import "env" "memory" (memory 1))
    ///     (memory (export "memory") 1)
    ///     (func (export "put") (i32.store8 (i32.const 0) (i32.const 7))))"#)?;
    /// let mut guest = module.guest().host_memory("env", "memory", 1, None)?.instantiate()?;
    /// let imported = guest.import_memory("env", "memory")?;
    /// guest.call::<(), ()>("put", ())?;
    /// assert_eq!(guest.view_of(imported)?.read::<u8>(0)?, 7);
    /// assert_eq!(guest.view().read::<u8>(0)?, 0); // the exported memory is another one
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::UndefinedImport`] if the host defined no memory as
    /// `module`.`name`.
    pub fn import_memory(&self, module: &str, name: &str) -> Result<GuestMemory> {
        match self.linker.get(&self.store, module, name) {
            Some(Extern::Memory(memory)) => Ok(GuestMemory::new(&self.store, memory, self.id)),
            _ => Err(undefined_import(module, name, "memory")),
        }
    }

    /// A read-only view of one of the guest's memories.
    ///
    /// # Errors
    ///
    /// [`Error::ForeignHandle`] if `memory` belongs to another guest.
    pub fn view_of(&self, memory: GuestMemory) -> Result<LinearMemoryView<'_>> {
        Ok(memory.owned_by(self.id)?.view(&self.store))
    }

    /// A read-write view of one of the guest's memories.
    ///
    /// # Errors
    ///
    /// [`Error::ForeignHandle`] if `memory` belongs to another guest.
    pub fn view_mut_of(&mut self, memory: GuestMemory) -> Result<LinearMemoryViewMut<'_>> {
        Ok(memory
            .owned_by(self.id)?
            .view_and_data_mut(&mut self.store)
            .0)
    }

    /// Grows one of the guest's memories; see [`grow`](Self::grow).
    ///
    /// # Errors
    ///
    /// [`Error::ForeignHandle`] if `memory` belongs to another guest; then
    /// those of [`grow`](Self::grow).
    pub fn grow_memory(&mut self, memory: GuestMemory, additional: u64) -> Result<u64> {
        let denials = self.store.data().limiter.denials();
        memory
            .owned_by(self.id)?
            .grow(&mut self.store, additional)
            .map_err(|error| self.store.data().limiter.grow_error(denials, error))
    }

    pub(crate) fn own_instance(&self, instance: GuestInstance, name: &str) -> Result<Instance> {
        if instance.guest == self.id {
            Ok(instance.instance)
        } else {
            Err(Error::ForeignHandle {
                name: Box::from(name),
            })
        }
    }

    /// Calls the exported function `name` with typed parameters and results,
    /// looking it up by name first.
    ///
    /// For repeated calls, get a [`GuestFunc`] once with [`export_func`](Self::export_func).
    /// After a trap the guest stays usable and its memory keeps what the
    /// guest wrote before the trap.
    ///
    /// # Errors
    ///
    /// [`Error::MissingExport`], [`Error::WrongExportKind`] or
    /// [`Error::SignatureMismatch`] if there is no such function;
    /// [`Error::Trap`] if the guest traps; [`Error::HostFunc`] if a host
    /// function it called failed; [`Error::AsyncHostFuncInSyncCall`] if it
    /// reaches an async host function (use [`call_async`](Self::call_async));
    /// [`Error::Call`] if the call fails otherwise.
    pub fn call<P: WasmParams, R: WasmResults>(&mut self, name: &str, params: P) -> Result<R> {
        // The lookup and the call, without the handle's owned name: the
        // name is copied only into an error.
        let func = match self.instance.get_export(&self.store, name) {
            Some(Extern::Func(func)) => func,
            other => return Err(export_error(name, "function", other)),
        };
        let typed = func
            .typed::<P, R>(&self.store)
            .map_err(|_| signature_mismatch::<P, R>(name, &func.ty(&self.store)))?;
        typed
            .call(&mut self.store, params)
            .map_err(|error| Error::from_call(name, error))
    }

    /// Looks up the exported function `name` once and returns a typed handle
    /// whose calls go straight to wasmi.
    ///
    /// ```
    /// # fn main() -> linmem::Result<()> {
    /// let mut guest = linmem::Guest::linear_memory()?;
    /// let read_one = guest.export_func::<(), i32>("readWasmMemoryAndReturnIndexOne")?;
    /// for byte in [25u8, 26, 27] {
    ///     guest.view_mut().write(1, byte)?;
    ///     assert_eq!(read_one.call(&mut guest, ())?, i32::from(byte));
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::MissingExport`] if there is no export `name`;
    /// [`Error::WrongExportKind`] if it is not a function;
    /// [`Error::SignatureMismatch`] if its type is not `P -> R`.
    pub fn export_func<P: WasmParams, R: WasmResults>(
        &self,
        name: &str,
    ) -> Result<GuestFunc<P, R>> {
        self.export_func_in(self.main_instance(), name)
    }

    /// Looks up a function exported by `instance`, an instance of this
    /// guest's store; see [`export_func`](Self::export_func).
    ///
    /// # Errors
    ///
    /// [`Error::ForeignHandle`] if `instance` belongs to another guest; then
    /// those of [`export_func`](Self::export_func).
    pub fn export_func_in<P: WasmParams, R: WasmResults>(
        &self,
        instance: GuestInstance,
        name: &str,
    ) -> Result<GuestFunc<P, R>> {
        let instance = self.own_instance(instance, name)?;
        let func = match instance.get_export(&self.store, name) {
            Some(Extern::Func(func)) => func,
            other => return Err(export_error(name, "function", other)),
        };
        let typed = func
            .typed::<P, R>(&self.store)
            .map_err(|_| signature_mismatch::<P, R>(name, &func.ty(&self.store)))?;
        Ok(GuestFunc::new(typed, name, self.id))
    }

    /// Instantiates another module in this guest's store, with the same
    /// imports (host functions and host memories), and runs its start
    /// function. Two modules importing the same host memory share it.
    ///
    /// ```
    /// # fn main() -> linmem::Result<()> {
    /// use linmem::Module;
    /// let writer = Module::new(r#"(module (import "env" "memory" (memory 1))
    ///     (func (export "put") (i32.store8 (i32.const 0) (i32.const 7))))"#)?;
    /// let reader = Module::with_engine(writer.engine(), r#"(module (import "env" "memory" (memory 1))
    ///     (func (export "get") (result i32) (i32.load8_u (i32.const 0))))"#)?;
    /// let mut guest = writer.guest().host_memory("env", "memory", 1, None)?.instantiate()?;
    /// let second = guest.add_instance(&reader)?;
    /// guest.call::<(), ()>("put", ())?;
    /// let get = guest.export_func_in::<(), i32>(second, "get")?;
    /// assert_eq!(get.call(&mut guest, ())?, 7);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::EngineMismatch`] if `module` was compiled on another engine
    /// (compile it with [`Module::with_engine`]`(guest.engine(), ..)`); then
    /// those of [`GuestBuilder::instantiate`](crate::GuestBuilder::instantiate), except that the memory is not
    /// looked up.
    pub fn add_instance(&mut self, module: &Module) -> Result<GuestInstance> {
        self.add_instance_with(module, None)
    }

    /// Instantiates another module in this guest's store like
    /// [`add_instance`](Self::add_instance), but runs its start function
    /// in fuel slices and stops it at `deadline`, as
    /// [`GuestBuilder::instantiate_until`](crate::GuestBuilder::instantiate_until)
    /// does for the first module. Needs an engine that meters fuel.
    ///
    /// ```
    /// # fn main() -> linmem::Result<()> {
    /// use core::time::Duration;
    /// use linmem::{Deadline, Error, Module};
    ///
    /// let engine = linmem::metered_engine();
    /// let first = Module::with_engine(&engine, r#"(module (memory (export "memory") 1))"#)?;
    /// let spinner = Module::with_engine(&engine, r#"(module (func $spin (loop br 0)) (start $spin))"#)?;
    /// let mut guest = first.instantiate()?;
    /// let deadline = Deadline::after(Duration::from_millis(20));
    /// let err = guest.add_instance_until(&spinner, &deadline).unwrap_err();
    /// assert!(matches!(err, Error::DeadlineExceeded { ref func } if &**func == "(start)"));
    /// assert_eq!(guest.view().len(), 65_536); // the guest is still usable
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// Those of [`add_instance`](Self::add_instance); then
    /// [`Error::DeadlineExceeded`] or [`Error::Cancelled`] (for the function
    /// `(start)`) if the deadline passes or its flag is set before the start
    /// function ends, and [`Error::FuelDisabled`] if the module has a start
    /// function and its engine does not meter fuel.
    pub fn add_instance_until(
        &mut self,
        module: &Module,
        deadline: &Deadline,
    ) -> Result<GuestInstance> {
        self.add_instance_with(module, Some(deadline))
    }

    fn add_instance_with(
        &mut self,
        module: &Module,
        deadline: Option<&Deadline>,
    ) -> Result<GuestInstance> {
        if !Engine::same(module.engine(), self.engine()) {
            return Err(Error::EngineMismatch);
        }
        let instance = instantiate_in(&self.linker, &mut self.store, module, deadline)?;
        let state = self.store.data_mut();
        state.instances = state.instances.saturating_add(1);
        Ok(GuestInstance {
            instance,
            guest: self.id,
        })
    }

    /// The guest's main instance, as a handle for [`export_func_in`](Self::export_func_in).
    #[must_use]
    pub fn main_instance(&self) -> GuestInstance {
        GuestInstance {
            instance: self.instance,
            guest: self.id,
        }
    }

    /// The host data given to [`Module::guest_with`].
    #[must_use]
    pub fn data(&self) -> &T {
        self.store.data().data()
    }

    /// The host data, mutably.
    #[must_use]
    pub fn data_mut(&mut self) -> &mut T {
        self.store.data_mut().data_mut()
    }

    /// The underlying wasmi store (escape hatch).
    #[must_use]
    pub fn as_wasmi_store(&self) -> &Store<GuestState<T>> {
        &self.store
    }

    /// The underlying wasmi store, mutably (escape hatch).
    #[must_use]
    pub fn as_wasmi_store_mut(&mut self) -> &mut Store<GuestState<T>> {
        &mut self.store
    }

    /// The underlying wasmi instance (escape hatch).
    #[must_use]
    pub fn as_wasmi_instance(&self) -> Instance {
        self.instance
    }

    /// The underlying wasmi memory that the views show (escape hatch), if
    /// the guest has one.
    #[must_use]
    pub fn as_wasmi_memory(&self) -> Option<Memory> {
        self.memory.map(|memory| memory.as_wasmi())
    }

    /// The wasmi engine the guest runs on (escape hatch).
    #[must_use]
    pub fn engine(&self) -> &Engine {
        self.store.engine()
    }

    /// Whether a handle with guest id `id` was obtained from this guest.
    pub(crate) fn owns(&self, id: GuestId) -> bool {
        self.id == id
    }

    /// The store, for a [`GuestFunc`] call.
    pub(crate) fn store_for_call(&mut self) -> &mut Store<GuestState<T>> {
        &mut self.store
    }
}

/// The error for a function `name` of type `actual` asked for as `P -> R`.
#[cold]
pub(crate) fn signature_mismatch<P: WasmParams, R: WasmResults>(
    name: &str,
    actual: &wasmi::FuncType,
) -> Error {
    use crate::dynamic::types::{FuncType, ValueType};
    let types = |list: &[wasmi::ValType]| {
        list.iter()
            .copied()
            .map(ValueType::from_wasmi)
            .collect::<alloc::vec::Vec<_>>()
    };
    Error::SignatureMismatch {
        name: Box::from(name),
        actual: FuncType::from_wasmi(actual),
        requested: FuncType::new(types(P::types().as_ref()), types(R::types().as_ref())),
    }
}

/// The error for an export `name` that is missing or not of the `expected` kind.
#[cold]
pub(crate) fn export_error(name: &str, expected: &'static str, found: Option<Extern>) -> Error {
    let name = Box::from(name);
    match found {
        None => Error::MissingExport { name, expected },
        Some(found) => Error::WrongExportKind {
            name,
            expected,
            found: extern_kind(&found),
        },
    }
}

pub(crate) fn extern_kind(item: &Extern) -> &'static str {
    match item {
        Extern::Func(_) => "function",
        Extern::Memory(_) => "memory",
        Extern::Table(_) => "table",
        Extern::Global(_) => "global",
    }
}

pub(crate) fn extern_type_kind(ty: &ExternType) -> &'static str {
    match ty {
        ExternType::Func(_) => "function",
        ExternType::Memory(_) => "memory",
        ExternType::Table(_) => "table",
        ExternType::Global(_) => "global",
    }
}
