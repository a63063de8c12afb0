//! Building a guest: imports, host memories and limits, then instantiation.

use crate::error::{Error, Result};
use crate::host::func::HostFunc;
use crate::host::func_async::AsyncCalls;
use crate::hostile::limits::{Limits, StoreLimiter};
use crate::lifecycle::guest::{Guest, GuestState, export_error, extern_type_kind, next_guest_id};
use crate::lifecycle::module::Module;
use crate::memory::handle::GuestMemory;
use crate::memory::view::{LinearMemoryView, LinearMemoryViewMut};
use alloc::boxed::Box;
use wasmi::errors::{ErrorKind, LinkerError};
use wasmi::{Extern, Linker, Memory, MemoryType, Store};

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
            async_calls: AsyncCalls::default(),
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
pub(crate) fn instantiation_error(source: wasmi::Error) -> Error {
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
