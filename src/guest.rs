//! A running guest: one instance, its store and its linear memory.

use crate::error::{Error, Result};
use crate::func::GuestFunc;
use crate::host::HostFunc;
use crate::limits::{Limits, StoreLimiter};
use crate::memory::GuestMemory;
use crate::module::Module;
use crate::view::{LinearMemoryView, LinearMemoryViewMut};
use alloc::boxed::Box;
use core::sync::atomic::{AtomicU32, Ordering};
use wasmi::errors::{ErrorKind, LinkerError};
use wasmi::{
    Engine, Extern, ExternType, Instance, Linker, Memory, MemoryType, Store, WasmParams,
    WasmResults,
};

/// What a guest's wasmi [`Store`] holds: the host's own data, plus what
/// linmem keeps per guest.
#[derive(Debug)]
pub struct GuestState<T> {
    data: T,
    /// The memory the guest's views show, once known (at once for a host
    /// memory, after instantiation for an exported one).
    memory: Option<GuestMemory>,
    /// The export name of that memory, for host calls from the start function.
    memory_export: Box<str>,
    guest: GuestId,
    /// Enforces the guest's [`Limits`] and remembers its denials.
    pub(crate) limiter: StoreLimiter,
}

impl<T> GuestState<T> {
    pub(crate) fn memory(&self) -> Option<GuestMemory> {
        self.memory
    }

    pub(crate) fn memory_export(&self) -> &str {
        &self.memory_export
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
pub(crate) type GuestId = u32;

fn next_guest_id() -> GuestId {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
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
#[derive(Debug)]
pub struct Guest<T = ()> {
    store: Store<GuestState<T>>,
    linker: Linker<GuestState<T>>,
    instance: Instance,
    memory: GuestMemory,
    id: GuestId,
}

impl Guest {
    /// Compiles `source` (wasm bytes or WAT text) and instantiates it with no
    /// imports; a shortcut for [`Module::new`] then [`Module::instantiate`].
    ///
    /// # Errors
    ///
    /// Those of [`Module::new`] and [`GuestBuilder::instantiate`].
    pub fn new(source: impl AsRef<[u8]>) -> Result<Self> {
        Module::new(source)?.instantiate()
    }

    /// The reference scenario's guest, from the embedded fixture: memory of
    /// one page with 24 at address 0 after the start function ran.
    ///
    /// # Errors
    ///
    /// Those of [`Module::new`] and [`GuestBuilder::instantiate`]; none
    /// happens with the embedded fixture in practice.
    pub fn linear_memory() -> Result<Self> {
        Module::linear_memory()?.instantiate()
    }
}

impl<T> Guest<T> {
    /// A read-only view of the guest's memory.
    ///
    /// The view borrows the guest: it cannot be kept across [`grow`](Self::grow)
    /// or a call (see [`LinearMemoryView`]).
    #[inline]
    #[must_use]
    pub fn view(&self) -> LinearMemoryView<'_> {
        self.memory.view(&self.store)
    }

    /// A read-write view of the guest's memory.
    ///
    /// The view borrows the guest mutably: it cannot be kept across
    /// [`grow`](Self::grow) or a call.
    #[inline]
    #[must_use]
    pub fn view_mut(&mut self) -> LinearMemoryViewMut<'_> {
        self.memory.view_and_data_mut(&mut self.store).0
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
    /// if a limit set with [`GuestBuilder::limits`] denies it;
    /// [`Error::Grow`] if the host could not provide the memory. The memory
    /// is unchanged then.
    pub fn grow(&mut self, additional: u64) -> Result<u64> {
        let denials = self.store.data().limiter.denials();
        let previous = self
            .memory
            .grow(&mut self.store, additional)
            .map_err(|error| self.store.data().limiter.grow_error(denials, error))?;
        self.store.data_mut().memory = Some(self.memory);
        Ok(previous)
    }

    /// The guest's default memory (the one [`view`](Self::view) shows), as
    /// a handle.
    #[must_use]
    pub fn default_memory(&self) -> GuestMemory {
        self.memory
    }

    /// Another memory the guest exports (multi-memory modules), as a handle
    /// for [`view_of`](Self::view_of) and [`view_mut_of`](Self::view_mut_of).
    ///
    /// ```
    /// # fn main() -> linmem::Result<()> {
    /// let mut guest = linmem::Guest::new(r#"(module
    ///     (memory (export "memory") 1) (memory (export "scratch") 2)
    ///     (func (export "peek") (param i32) (result i32) (i32.load8_u 1 (local.get 0))))"#)?;
    /// let scratch = guest.memory_export("scratch")?;
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
    pub fn memory_export(&self, name: &str) -> Result<GuestMemory> {
        self.memory_export_in(self.main_instance(), name)
    }

    /// A memory exported by `instance`, which must be an instance of this
    /// guest's store (its main one or one from
    /// [`add_instance`](Self::add_instance)).
    ///
    /// # Errors
    ///
    /// [`Error::MissingExport`] or [`Error::WrongExportKind`] if the instance
    /// exports no memory of that name.
    pub fn memory_export_in(&self, instance: GuestInstance, name: &str) -> Result<GuestMemory> {
        let instance = self.own_instance(instance, name)?;
        match instance.get_export(&self.store, name) {
            Some(Extern::Memory(memory)) => Ok(GuestMemory::new(&self.store, memory, self.id)),
            other => Err(export_error(name, "memory", other)),
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

    fn own_instance(&self, instance: GuestInstance, name: &str) -> Result<Instance> {
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
    /// For repeated calls, get a [`GuestFunc`] once with [`func`](Self::func).
    /// After a trap the guest stays usable and its memory keeps what the
    /// guest wrote before the trap.
    ///
    /// # Errors
    ///
    /// [`Error::MissingExport`], [`Error::WrongExportKind`] or
    /// [`Error::SignatureMismatch`] if there is no such function;
    /// [`Error::Trap`] if the guest traps; [`Error::HostFunc`] if a host
    /// function it called failed; [`Error::Call`] if the call fails otherwise.
    pub fn call<P: WasmParams, R: WasmResults>(&mut self, name: &str, params: P) -> Result<R> {
        self.func::<P, R>(name)?.call(self, params)
    }

    /// Looks up the exported function `name` once and returns a typed handle
    /// whose calls go straight to wasmi.
    ///
    /// ```
    /// # fn main() -> linmem::Result<()> {
    /// let mut guest = linmem::Guest::linear_memory()?;
    /// let read_one = guest.func::<(), i32>("readWasmMemoryAndReturnIndexOne")?;
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
    pub fn func<P: WasmParams, R: WasmResults>(&self, name: &str) -> Result<GuestFunc<P, R>> {
        self.func_in(self.main_instance(), name)
    }

    /// Looks up a function exported by `instance`, an instance of this
    /// guest's store; see [`func`](Self::func).
    ///
    /// # Errors
    ///
    /// [`Error::ForeignHandle`] if `instance` belongs to another guest; then
    /// those of [`func`](Self::func).
    pub fn func_in<P: WasmParams, R: WasmResults>(
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
            .map_err(|source| Error::SignatureMismatch {
                name: Box::from(name),
                source,
            })?;
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
    /// let mut builder = writer.guest();
    /// builder.host_memory("env", "memory", 1, None)?;
    /// let mut guest = builder.instantiate()?;
    /// let second = guest.add_instance(&reader)?;
    /// guest.call::<(), ()>("put", ())?;
    /// let get = guest.func_in::<(), i32>(second, "get")?;
    /// assert_eq!(get.call(&mut guest, ())?, 7);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::EngineMismatch`] if `module` was compiled on another engine
    /// (compile it with [`Module::with_engine`]`(guest.engine(), ..)`); then
    /// those of [`GuestBuilder::instantiate`], except that the memory is not
    /// looked up.
    pub fn add_instance(&mut self, module: &Module) -> Result<GuestInstance> {
        if !Engine::same(module.engine(), self.engine()) {
            return Err(Error::EngineMismatch);
        }
        let denials = self.store.data().limiter.denials();
        let instance = self
            .linker
            .instantiate_and_start(&mut self.store, module.as_wasmi())
            .map_err(|source| {
                let limiter = &self.store.data().limiter;
                limiter
                    .instantiation_error(denials, source)
                    .unwrap_or_else(instantiation_error)
            })?;
        Ok(GuestInstance {
            instance,
            guest: self.id,
        })
    }

    /// The guest's main instance, as a handle for [`func_in`](Self::func_in).
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
    pub fn store(&self) -> &Store<GuestState<T>> {
        &self.store
    }

    /// The underlying wasmi store, mutably (escape hatch).
    #[must_use]
    pub fn store_mut(&mut self) -> &mut Store<GuestState<T>> {
        &mut self.store
    }

    /// The underlying wasmi instance (escape hatch).
    #[must_use]
    pub fn instance(&self) -> Instance {
        self.instance
    }

    /// The underlying wasmi memory that the views show (escape hatch).
    #[must_use]
    pub fn memory(&self) -> Memory {
        self.memory.as_wasmi()
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

/// One instance in a guest's store: the main one, or one added with
/// [`Guest::add_instance`].
#[derive(Debug, Clone, Copy)]
pub struct GuestInstance {
    instance: Instance,
    guest: GuestId,
}

impl GuestInstance {
    /// The underlying wasmi instance (escape hatch).
    #[must_use]
    pub fn as_wasmi(&self) -> Instance {
        self.instance
    }
}

/// The error for an export `name` that is missing or not of the `expected` kind.
#[cold]
fn export_error(name: &str, expected: &'static str, found: Option<Extern>) -> Error {
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

fn extern_kind(item: &Extern) -> &'static str {
    match item {
        Extern::Func(_) => "function",
        Extern::Memory(_) => "memory",
        Extern::Table(_) => "table",
        Extern::Global(_) => "global",
    }
}

fn extern_type_kind(ty: &ExternType) -> &'static str {
    match ty {
        ExternType::Func(_) => "function",
        ExternType::Memory(_) => "memory",
        ExternType::Table(_) => "table",
        ExternType::Global(_) => "global",
    }
}

/// Instantiates a [`Module`] as a [`Guest`]: host functions, host-created
/// memories, the memory export the views show.
///
/// The builder already owns the guest's store, so memories the host creates
/// can be read and written before the guest's start function runs.
///
/// ```
/// # fn main() -> linmem::Result<()> {
/// let module = linmem::Module::new(r#"(module (memory (export "heap") 1))"#)?;
/// let guest = module.guest_with(String::from("host state")).memory("heap").instantiate()?;
/// assert_eq!(guest.view().len(), 65_536);
/// assert_eq!(guest.data(), "host state");
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use]
pub struct GuestBuilder<'m, T> {
    module: &'m Module,
    store: Store<GuestState<T>>,
    linker: Linker<GuestState<T>>,
    /// Set when the host named the export explicitly.
    memory_chosen: bool,
}

impl<'m, T> GuestBuilder<'m, T> {
    pub(crate) fn new(module: &'m Module, data: T) -> Self {
        let engine = module.engine();
        let state = GuestState {
            data,
            memory: None,
            memory_export: Box::from("memory"),
            guest: next_guest_id(),
            limiter: StoreLimiter::new(Limits::new()),
        };
        let mut store = Store::new(engine, state);
        store.limiter(|state| &mut state.limiter);
        // Unlimited fuel on a metering engine (an error on another: ignored).
        store.set_fuel(u64::MAX).unwrap_or(());
        Self {
            module,
            store,
            linker: Linker::new(engine),
            memory_chosen: false,
        }
    }

    /// Resource limits and a fuel budget for the guest (default: none);
    /// see [`Limits`]. Set them before [`host_memory`](Self::host_memory)
    /// for host memories' initial sizes to count against them too.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.store.data_mut().limiter.set_limits(limits);
        self
    }

    /// The guest's initial fuel budget: a shortcut for [`Limits::fuel`] on
    /// the builder's limits.
    pub fn fuel(mut self, fuel: u64) -> Self {
        let limits = self.store.data().limiter.limits().fuel(fuel);
        self.store.data_mut().limiter.set_limits(limits);
        self
    }

    /// The name of the exported memory the views show (default `memory`; if
    /// the module exports no `memory`, the first host memory it imports).
    pub fn memory(mut self, export_name: &str) -> Self {
        self.store.data_mut().memory_export = Box::from(export_name);
        self.memory_chosen = true;
        self
    }

    /// Gives the guest a host function to import as `module`.`name`.
    ///
    /// The closure gets a [`HostContext`](crate::HostContext) (the guest's memory and the host
    /// data) and the call's parameters, and returns `linmem::Result` of its
    /// results; an error fails the guest's call with [`Error::HostFunc`].
    ///
    /// ```
    /// # fn main() -> linmem::Result<()> {
    /// use linmem::HostContext;
    /// let module = linmem::Module::new(r#"(module
    ///     (import "env" "fill" (func $fill (param i32 i32) (result i32)))
    ///     (memory (export "memory") 1)
    ///     (func (export "run") (result i32) (call $fill (i32.const 16) (i32.const 8))))"#)?;
    /// let mut guest = module
    ///     .guest()
    ///     .func("env", "fill", |mut cx: HostContext<'_, ()>, ptr: u32, cap: u32| {
    ///         let len = cap.min(3); // "hi!" or as much of it as fits
    ///         cx.view_mut()?.write_bytes(ptr.into(), &b"hi!"[..usize::try_from(len).unwrap_or(0)])?;
    ///         Ok(len)
    ///     })?
    ///     .instantiate()?;
    /// assert_eq!(guest.call::<(), i32>("run", ())?, 3);
    /// assert_eq!(guest.view().bytes(16, 3)?, b"hi!");
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Instantiate`] if `module`.`name` is already defined.
    pub fn func<P, R>(
        mut self,
        module: &str,
        name: &str,
        func: impl HostFunc<T, P, R>,
    ) -> Result<Self> {
        func.define(&mut self.linker, module, name)
            .map_err(|source| Error::Instantiate { source })?;
        Ok(self)
    }

    /// Creates a memory of `initial` pages (at most `maximum`) in the
    /// guest's store, for the guest to import as `module`.`name` (e.g.
    /// `env`.`memory`, asc's `--importMemory`).
    ///
    /// The returned handle gives views before instantiation with
    /// [`view_mut_of`](Self::view_mut_of), and after it with
    /// [`Guest::view_of`]; if the module exports no memory of the chosen
    /// name, it is also the guest's default memory.
    ///
    /// ```
    /// # fn main() -> linmem::Result<()> {
    /// let module = linmem::Module::new(r#"(module (import "env" "memory" (memory 1 2))
    ///     (func (export "first") (result i32) (i32.load8_u (i32.const 0))))"#)?;
    /// let mut builder = module.guest();
    /// let memory = builder.host_memory("env", "memory", 1, Some(2))?;
    /// builder.view_mut_of(memory)?.write(0, 42u8)?; // before the guest exists
    /// let mut guest = builder.instantiate()?;
    /// assert_eq!(guest.call::<(), i32>("first", ())?, 42);
    /// assert_eq!(guest.view().read::<u8>(0)?, 42); // the default memory
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Instantiate`] if the memory type is invalid (e.g. `initial >
    /// maximum`), cannot be allocated, or `module`.`name` is already defined;
    /// [`Error::LimitExceeded`] if its initial size passes the
    /// [`limits`](Self::limits).
    pub fn host_memory(
        &mut self,
        module: &str,
        name: &str,
        initial: u32,
        maximum: Option<u32>,
    ) -> Result<GuestMemory> {
        let ty = memory_type(initial, maximum)?;
        let memory = self.create_memory(|store| Memory::new(store, ty))?;
        self.define_memory(module, name, memory)
    }

    /// Like [`host_memory`](Self::host_memory), on a buffer the host
    /// allocated up front (a `static`, a leaked `Box`, a region of the
    /// board's RAM) instead of wasmi's heap-allocated `Vec`.
    ///
    /// Sizing: `buffer` must hold at least `initial` pages (65 536 bytes
    /// each), which wasmi zeroes. A static memory never moves or
    /// reallocates, so its declared maximum becomes `maximum` or the number
    /// of whole pages in `buffer`, whichever is less (`buffer.len() / 65 536`
    /// without a `maximum`): growth past it fails with
    /// [`Error::GrowPastMaximum`] for the host and -1 for the guest's
    /// `memory.grow`. (wasmi 2.0 itself panics when a guest grows a static
    /// memory past its buffer; the clamp makes that unreachable.) An import
    /// that declares a larger maximum than the clamped one is refused at
    /// instantiation, as the WebAssembly subtyping rules require.
    ///
    /// ```
    /// # fn main() -> linmem::Result<()> {
    /// let buffer: &'static mut [u8] = Box::leak(vec![0u8; 2 * 65_536].into_boxed_slice());
    /// let module = linmem::Module::new(r#"(module (import "env" "memory" (memory 1 2))
    ///     (func (export "first") (result i32) (i32.load8_u (i32.const 0))))"#)?;
    /// let mut builder = module.guest();
    /// let memory = builder.host_memory_static("env", "memory", buffer, 1, Some(2))?;
    /// builder.view_mut_of(memory)?.write(0, 42u8)?;
    /// let mut guest = builder.instantiate()?;
    /// assert_eq!(guest.call::<(), i32>("first", ())?, 42);
    /// assert_eq!(guest.grow(1)?, 1);
    /// assert!(guest.grow(1).is_err());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Instantiate`] if the memory type is invalid, `buffer` is
    /// smaller than `initial` pages, or `module`.`name` is already defined;
    /// [`Error::LimitExceeded`] if its initial size passes the
    /// [`limits`](Self::limits).
    pub fn host_memory_static(
        &mut self,
        module: &str,
        name: &str,
        buffer: &'static mut [u8],
        initial: u32,
        maximum: Option<u32>,
    ) -> Result<GuestMemory> {
        let buffer_pages = buffer.len() / 65_536;
        let buffer_pages = u32::try_from(buffer_pages).unwrap_or(u32::MAX);
        let maximum = maximum.map_or(buffer_pages, |maximum| maximum.min(buffer_pages));
        let ty = memory_type(initial, Some(maximum))?;
        let memory = self.create_memory(|store| Memory::new_static(store, ty, buffer))?;
        self.define_memory(module, name, memory)
    }

    /// Creates a memory in the builder's store, telling a limit's denial
    /// from other failures.
    fn create_memory(
        &mut self,
        create: impl FnOnce(&mut Store<GuestState<T>>) -> core::result::Result<Memory, wasmi::Error>,
    ) -> Result<Memory> {
        let denials = self.store.data().limiter.denials();
        create(&mut self.store).map_err(|source| {
            self.store
                .data()
                .limiter
                .instantiation_error(denials, source)
                .unwrap_or_else(|source| Error::Instantiate { source })
        })
    }

    /// Makes a memory of this builder's store importable as `module`.`name`.
    fn define_memory(&mut self, module: &str, name: &str, memory: Memory) -> Result<GuestMemory> {
        self.linker
            .define(module, name, memory)
            .map_err(|source| Error::Instantiate {
                source: source.into(),
            })?;
        let state = self.store.data();
        let handle = GuestMemory::new(&self.store, memory, state.guest);
        if state.memory.is_none() {
            self.store.data_mut().memory = Some(handle);
        }
        Ok(handle)
    }

    /// A read-only view of a host memory before instantiation.
    ///
    /// # Errors
    ///
    /// [`Error::ForeignHandle`] if `memory` belongs to another guest.
    pub fn view_of(&self, memory: GuestMemory) -> Result<LinearMemoryView<'_>> {
        Ok(memory.owned_by(self.store.data().guest)?.view(&self.store))
    }

    /// A read-write view of a host memory before instantiation.
    ///
    /// # Errors
    ///
    /// [`Error::ForeignHandle`] if `memory` belongs to another guest.
    pub fn view_mut_of(&mut self, memory: GuestMemory) -> Result<LinearMemoryViewMut<'_>> {
        Ok(memory
            .owned_by(self.store.data().guest)?
            .view_and_data_mut(&mut self.store)
            .0)
    }

    /// The store the guest will run in (escape hatch), e.g. to create
    /// wasmi items before instantiation.
    pub fn store_mut(&mut self) -> &mut Store<GuestState<T>> {
        &mut self.store
    }

    /// The linker holding the guest's imports (escape hatch).
    pub fn linker_mut(&mut self) -> &mut Linker<GuestState<T>> {
        &mut self.linker
    }

    /// Instantiates the module, runs its start function and finds its memory.
    ///
    /// # Errors
    ///
    /// [`Error::MissingImport`] if the module imports anything not provided;
    /// [`Error::Trap`], [`Error::HostFunc`] or [`Error::Call`] (for the
    /// function `(start)`) if the start function fails;
    /// [`Error::Instantiate`] for other instantiation failures (e.g. an
    /// import of the wrong type); [`Error::MissingExport`] or
    /// [`Error::WrongExportKind`] if the memory export is missing or not a
    /// memory; [`Error::LimitExceeded`] if the module needs more than the
    /// [`limits`](Self::limits) allow; [`Error::FuelDisabled`] if a fuel
    /// budget was set but the module's engine does not meter fuel.
    pub fn instantiate(self) -> Result<Guest<T>> {
        let Self {
            module,
            mut store,
            linker,
            memory_chosen,
        } = self;
        if let Some(fuel) = store.data().limiter.limits().fuel_budget() {
            store.set_fuel(fuel).map_err(|_| Error::FuelDisabled)?;
        }
        let denials = store.data().limiter.denials();
        let instance = linker
            .instantiate_and_start(&mut store, module.as_wasmi())
            .map_err(|source| {
                let limiter = &store.data().limiter;
                limiter
                    .instantiation_error(denials, source)
                    .unwrap_or_else(instantiation_error)
            })?;
        let state = store.data();
        let memory = match (
            instance.get_export(&store, &state.memory_export),
            state.memory,
        ) {
            (Some(Extern::Memory(memory)), _) => GuestMemory::new(&store, memory, state.guest),
            (None, Some(host)) if !memory_chosen => host,
            (other, _) => return Err(export_error(&state.memory_export, "memory", other)),
        };
        let id = state.guest;
        store.data_mut().memory = Some(memory);
        Ok(Guest {
            store,
            linker,
            instance,
            memory,
            id,
        })
    }
}

/// The type of a 32-bit host memory; wasmi's `MemoryType::new` would panic
/// on `initial > maximum`.
fn memory_type(initial: u32, maximum: Option<u32>) -> Result<MemoryType> {
    let mut builder = MemoryType::builder();
    builder.min(u64::from(initial)).max(maximum.map(u64::from));
    builder.build().map_err(|source| Error::Instantiate {
        source: source.into(),
    })
}

/// Sorts wasmi's instantiation errors into linmem's variants.
#[cold]
fn instantiation_error(source: wasmi::Error) -> Error {
    match source.kind() {
        ErrorKind::Linker(LinkerError::MissingDefinition { name, ty }) => Error::MissingImport {
            module: Box::from(name.module()),
            name: Box::from(name.name()),
            kind: extern_type_kind(ty),
        },
        ErrorKind::TrapCode(_) | ErrorKind::Host(_) => Error::from_call("(start)", source),
        _ => Error::Instantiate { source },
    }
}
