//! Building a guest: imports, host memories and limits, then instantiation.

use crate::error::{Error, Result};
use crate::host::func::HostFunc;
use crate::hostile::deadline::{Deadline, run_until};
use crate::hostile::limits::Limits;
use crate::lifecycle::guest::{Guest, GuestState, extern_type_kind};
use crate::lifecycle::module::Module;
use crate::memory::handle::GuestMemory;
use crate::memory::view::{LinearMemoryView, LinearMemoryViewMut};
use alloc::boxed::Box;
use alloc::string::ToString;
use wasmi::errors::{ErrorKind, InstantiationError, LinkerError};
use wasmi::{Extern, ExternType, Instance, Linker, Memory, MemoryType, Store};

/// Instantiates a [`Module`] as a [`Guest`]: host functions, host-created
/// memories, the memory export the views show.
///
/// The builder already owns the guest's store, so memories the host creates
/// can be read and written before the guest's start function runs.
///
/// ```
/// # fn main() -> linmem::Result<()> {
/// let module = linmem::Module::new(r#"(module (memory (export "heap") 1))"#)?;
/// let guest = module.guest_with(String::from("host state")).default_memory("heap").instantiate()?;
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
    /// Whether [`prepared_store`](Self::prepared_store) ran.
    prepared: bool,
}

impl<'m, T> GuestBuilder<'m, T> {
    #[inline]
    pub(crate) fn new(module: &'m Module, data: T) -> Self {
        // The store's set-up waits for `prepared_store`: a store set up
        // here would be copied once more on the way out (wasmi's store is
        // 1.7 KB, and every move of it is a copy).
        Self {
            module,
            store: Store::new(module.engine(), GuestState::new(data)),
            linker: Linker::new(module.engine()),
            prepared: false,
        }
    }

    /// The store, with the limiter installed and, on a metering engine,
    /// unlimited fuel until a budget is set: what anything that creates
    /// items or runs code in it needs.
    #[inline]
    fn prepared_store(&mut self) -> &mut Store<GuestState<T>> {
        if !self.prepared {
            self.prepared = true;
            prepare(&mut self.store, self.module);
        }
        &mut self.store
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

    /// The name of the exported memory the views show.
    ///
    /// Without it, the guest's default memory is its export `memory`; if it
    /// has none, the first host memory given to the builder; if none, the
    /// memory the module exports under the first name in sort order; if none, the guest has no memory:
    /// it still instantiates and runs, and its views fail with
    /// [`Error::NoMemory`].
    ///
    /// [`instantiate`](Self::instantiate) fails with
    /// [`Error::MissingMemory`], listing the memories the module exports,
    /// if it exports no memory `export_name`.
    pub fn default_memory(mut self, export_name: &str) -> Self {
        self.store.data_mut().memory_export = Some(Box::from(export_name));
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
    ///     .host_func("env", "fill", |mut cx: HostContext<'_, ()>, ptr: u32, cap: u32| {
    ///         let len = cap.min(3); // "hi!" or as much of it as fits
    ///         cx.view_mut()?.write_bytes(ptr, &b"hi!"[..usize::try_from(len).unwrap_or(0)])?;
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
    pub fn host_func<P, R>(
        mut self,
        module: &str,
        name: &str,
        func: impl HostFunc<T, P, R>,
    ) -> Result<Self> {
        func.define(&mut self.linker, module, name)
            .map_err(|source| Error::Instantiate { error: source })?;
        Ok(self)
    }

    /// Creates a memory of `initial` pages (at most `maximum`) in the
    /// guest's store, for the guest to import as `module`.`name` (e.g.
    /// `env`.`memory`, asc's `--importMemory`).
    ///
    /// Its handle, from [`import_memory`](Self::import_memory) (or
    /// [`Guest::import_memory`] after instantiation), gives views before
    /// instantiation with [`view_mut_of`](Self::view_mut_of), and after it
    /// with [`Guest::view_of`]; if the module exports no memory of the
    /// chosen name, it is also the guest's default memory.
    ///
    /// ```
    /// # fn main() -> linmem::Result<()> {
    /// let module = linmem::Module::new(r#"(module (import "env" "memory" (memory 1 2))
    ///     (func (export "first") (result i32) (i32.load8_u (i32.const 0))))"#)?;
    /// let mut builder = module.guest().host_memory("env", "memory", 1, Some(2))?;
    /// let memory = builder.import_memory("env", "memory")?;
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
        mut self,
        module: &str,
        name: &str,
        initial: u32,
        maximum: Option<u32>,
    ) -> Result<Self> {
        let ty = memory_type(initial, maximum)?;
        let memory = self.create_item(|store| Memory::new(store, ty))?;
        self.define_memory(module, name, memory)?;
        Ok(self)
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
    /// let mut builder = module.guest().host_memory_static("env", "memory", buffer, 1, Some(2))?;
    /// let memory = builder.import_memory("env", "memory")?;
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
        mut self,
        module: &str,
        name: &str,
        buffer: &'static mut [u8],
        initial: u32,
        maximum: Option<u32>,
    ) -> Result<Self> {
        let buffer_pages = buffer.len() / 65_536;
        let buffer_pages = u32::try_from(buffer_pages).unwrap_or(u32::MAX);
        let maximum = maximum.map_or(buffer_pages, |maximum| maximum.min(buffer_pages));
        let ty = memory_type(initial, Some(maximum))?;
        let memory = self.create_item(|store| Memory::new_static(store, ty, buffer))?;
        self.define_memory(module, name, memory)?;
        Ok(self)
    }

    /// The handle of the host memory defined as `module`.`name` with
    /// [`host_memory`](Self::host_memory) or
    /// [`host_memory_static`](Self::host_memory_static), for
    /// [`view_of`](Self::view_of) and [`view_mut_of`](Self::view_mut_of)
    /// before instantiation (and [`Guest::view_of`] after it).
    ///
    /// # Errors
    ///
    /// [`Error::UndefinedImport`] if the builder defines no memory as
    /// `module`.`name`.
    pub fn import_memory(&self, module: &str, name: &str) -> Result<GuestMemory> {
        match self.linker.get(&self.store, module, name) {
            Some(Extern::Memory(memory)) => Ok(GuestMemory::new(
                &self.store,
                memory,
                self.store.data().guest,
            )),
            _ => Err(undefined_import(module, name, "memory")),
        }
    }

    /// Creates a memory or table in the builder's store, telling a limit's
    /// denial from other failures.
    pub(crate) fn create_item<I>(
        &mut self,
        create: impl FnOnce(&mut Store<GuestState<T>>) -> core::result::Result<I, wasmi::Error>,
    ) -> Result<I> {
        let denials = self.store.data().limiter.denials();
        create(self.prepared_store()).map_err(|source| {
            self.store
                .data()
                .limiter
                .instantiation_error(denials, source)
                .unwrap_or_else(|source| Error::Instantiate { error: source })
        })
    }

    /// Makes a memory of this builder's store importable as `module`.`name`.
    fn define_memory(&mut self, module: &str, name: &str, memory: Memory) -> Result<()> {
        self.linker
            .define(module, name, memory)
            .map_err(|source| Error::Instantiate {
                error: source.into(),
            })?;
        let state = self.store.data();
        let handle = GuestMemory::new(&self.store, memory, state.guest);
        if state.memory.is_none() {
            self.store.data_mut().memory = Some(handle);
        }
        Ok(())
    }

    /// The id of the guest this builder makes.
    pub(crate) fn guest_id(&self) -> crate::lifecycle::guest::GuestId {
        self.store.data().guest
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
    pub fn as_wasmi_store_mut(&mut self) -> &mut Store<GuestState<T>> {
        self.prepared_store()
    }

    /// The linker holding the guest's imports (escape hatch).
    pub fn as_wasmi_linker_mut(&mut self) -> &mut Linker<GuestState<T>> {
        &mut self.linker
    }

    /// Instantiates the module, runs its start function and finds its
    /// default memory (see [`default_memory`](Self::default_memory)).
    ///
    /// The start function runs to its end or to a trap; on a metering
    /// engine it is bounded by the fuel budget. To bound it by time too,
    /// use [`instantiate_until`](Self::instantiate_until).
    ///
    /// # Errors
    ///
    /// [`Error::MissingImport`] if the module imports anything not provided;
    /// [`Error::Trap`], [`Error::HostFunc`] or [`Error::Call`] (for the
    /// function `(start)`) if the start function fails (with
    /// [`TrapCode::OutOfFuel`](crate::TrapCode::OutOfFuel) if it runs out
    /// of fuel, [`fuel(0)`](Self::fuel) included);
    /// [`Error::ImportMismatch`] if an import the host gave has another
    /// type than the module expects; [`Error::Instantiate`] for other
    /// instantiation failures (e.g. a data segment out of bounds);
    /// [`Error::MissingMemory`] if the memory
    /// named with [`default_memory`](Self::default_memory) is not an
    /// exported memory (checked before anything runs);
    /// [`Error::LimitExceeded`] if the module needs more than the
    /// [`limits`](Self::limits) allow; [`Error::FuelDisabled`] if a fuel
    /// budget was set but the module's engine does not meter fuel.
    #[inline]
    pub fn instantiate(self) -> Result<Guest<T>> {
        self.instantiate_with(None)
    }

    /// Instantiates the module like [`instantiate`](Self::instantiate), but
    /// runs its start function in fuel slices and stops it at `deadline`
    /// (see [`Guest::call_until`]). Needs an engine that meters fuel.
    ///
    /// ```
    /// # fn main() -> linmem::Result<()> {
    /// use core::time::Duration;
    /// use linmem::{Deadline, Error, Module};
    ///
    /// let module = Module::with_engine(&linmem::metered_engine(), r#"(module
    ///     (memory (export "memory") 1)
    ///     (func $spin (loop br 0)) (start $spin))"#)?;
    /// let deadline = Deadline::after(Duration::from_millis(20));
    /// let err = module.guest().instantiate_until(&deadline).unwrap_err();
    /// assert!(matches!(err, Error::DeadlineExceeded { ref func } if &**func == "(start)"));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// Those of [`instantiate`](Self::instantiate); then
    /// [`Error::DeadlineExceeded`] or [`Error::Cancelled`] (for the function
    /// `(start)`) if the deadline passes or its flag is set before the start
    /// function ends, and [`Error::FuelDisabled`] if the module has a start
    /// function and its engine does not meter fuel. A module converted from
    /// a `wasmi::Module` has its start function run by wasmi, without the
    /// deadline.
    pub fn instantiate_until(self, deadline: &Deadline) -> Result<Guest<T>> {
        self.instantiate_with(Some(deadline))
    }

    #[inline]
    fn instantiate_with(mut self, deadline: Option<&Deadline>) -> Result<Guest<T>> {
        self.prepared_store();
        let (instance, memory) = start_guest(self.module, &mut self.store, &self.linker, deadline)?;
        Ok(Guest {
            id: self.store.data().guest,
            store: self.store,
            linker: self.linker,
            instance,
            memory,
        })
    }
}

/// [`Module::instantiate`]'s path: without a builder, the store is made
/// where it stays until it becomes the guest's (one 1.7 KB copy fewer).
#[inline]
pub(crate) fn instantiate_plain<T>(module: &Module, data: T) -> Result<Guest<T>> {
    let mut store = Store::new(module.engine(), GuestState::new(data));
    prepare(&mut store, module);
    let linker = Linker::new(module.engine());
    let (instance, memory) = start_guest(module, &mut store, &linker, None)?;
    Ok(Guest {
        id: store.data().guest,
        store,
        linker,
        instance,
        memory,
    })
}

/// Installs the limiter and, on a metering engine, unlimited fuel until a
/// budget is set.
fn prepare<T>(store: &mut Store<GuestState<T>>, module: &Module) {
    store.limiter(|state| &mut state.limiter);
    if module.metered() {
        store.set_fuel(u64::MAX).unwrap_or(());
    }
}

/// Checks the chosen memory, sets the fuel budget, instantiates, runs the
/// start function and records the default memory in the store; the
/// instance and the default memory.
fn start_guest<T>(
    module: &Module,
    store: &mut Store<GuestState<T>>,
    linker: &Linker<GuestState<T>>,
    deadline: Option<&Deadline>,
) -> Result<(Instance, Option<GuestMemory>)> {
    // A name is set before instantiation only by `default_memory`.
    let chosen_memory = store.data().memory_export.is_some();
    if chosen_memory {
        check_chosen_memory(module, store.data())?;
    }
    if let Some(fuel) = store.data().limiter.limits().fuel_budget() {
        store.set_fuel(fuel).map_err(|_| Error::FuelDisabled)?;
    }
    let instance = instantiate_in(linker, store, module, deadline)?;
    let (memory, is_host) = find_default_memory(module, instance, store, chosen_memory);
    let state = store.data_mut();
    state.memory = memory;
    state.memory_is_host = is_host;
    Ok((instance, memory))
}

/// Instantiates `module` in `store` and runs its start function (the one
/// linmem moved into an export, see [`Module::start_export`]), under
/// `deadline` if given.
pub(crate) fn instantiate_in<T>(
    linker: &Linker<GuestState<T>>,
    store: &mut Store<GuestState<T>>,
    module: &Module,
    deadline: Option<&Deadline>,
) -> Result<Instance> {
    let denials = store.data().limiter.denials();
    let instance = linker
        .instantiate_and_start(&mut *store, module.as_wasmi())
        .map_err(|source| {
            let limiter = &store.data().limiter;
            limiter
                .instantiation_error(denials, source)
                .unwrap_or_else(instantiation_error)
        })?;
    let Some(name) = module.start_export() else {
        return Ok(instance);
    };
    let start = instance
        .get_typed_func::<(), ()>(&*store, name)
        .map_err(|source| Error::Instantiate { error: source })?;
    match deadline {
        Some(deadline) => run_until(&start, START, store, (), deadline)?,
        None => start
            .call(&mut *store, ())
            .map_err(|source| Error::from_call(START, source))?,
    }
    Ok(instance)
}

/// The name errors give the start function.
const START: &str = "(start)";

/// Fails before anything runs if the memory named with
/// [`GuestBuilder::default_memory`] is not a memory export.
fn check_chosen_memory<T>(module: &Module, state: &GuestState<T>) -> Result<()> {
    let name = state.memory_export();
    match module.as_wasmi().get_export(name) {
        Some(ExternType::Memory(_)) => Ok(()),
        _ => Err(missing_memory(module, name)),
    }
}

/// The memory the guest's views show, and whether the host made it (see
/// [`GuestBuilder::default_memory`]): the chosen or `memory` export, else
/// the first host memory, else the first memory export in sort order
/// (remembered for host functions' views), else none.
fn find_default_memory<T>(
    module: &Module,
    instance: Instance,
    store: &mut Store<GuestState<T>>,
    chosen: bool,
) -> (Option<GuestMemory>, bool) {
    let state = store.data();
    let guest = state.guest;
    let exported = |store: &Store<GuestState<T>>, name: &str| match instance.get_export(store, name)
    {
        Some(Extern::Memory(memory)) => Some(GuestMemory::new(store, memory, guest)),
        _ => None,
    };
    if let Some(memory) = exported(store, state.memory_export()) {
        return (Some(memory), false);
    }
    if state.memory.is_some() || chosen {
        return (state.memory, state.memory.is_some());
    }
    let Some(name) = module
        .as_wasmi()
        .exports()
        .find(|export| matches!(export.ty(), ExternType::Memory(_)))
        .map(|export| Box::<str>::from(export.name()))
    else {
        return (None, false);
    };
    let memory = exported(store, &name);
    store.data_mut().memory_export = Some(name);
    (memory, false)
}

/// The error for a default memory the module does not export, listing
/// the memories it does export.
#[cold]
pub(crate) fn missing_memory(module: &Module, name: &str) -> Error {
    let wasmi = module.as_wasmi();
    Error::MissingMemory {
        name: Box::from(name),
        found: wasmi.get_export(name).map(|ty| extern_type_kind(&ty)),
        memories: wasmi
            .exports()
            .filter(|export| matches!(export.ty(), ExternType::Memory(_)))
            .map(|export| Box::from(export.name()))
            .collect(),
    }
}

/// The type of a 32-bit host memory; wasmi's `MemoryType::new` would panic
/// on `initial > maximum`.
fn memory_type(initial: u32, maximum: Option<u32>) -> Result<MemoryType> {
    let mut builder = MemoryType::builder();
    builder.min(u64::from(initial)).max(maximum.map(u64::from));
    builder.build().map_err(|source| Error::Instantiate {
        error: source.into(),
    })
}

/// The error for an import the host did not define.
#[cold]
pub(crate) fn undefined_import(module: &str, name: &str, expected: &'static str) -> Error {
    Error::UndefinedImport {
        module: Box::from(module),
        name: Box::from(name),
        expected,
    }
}

/// An import of the wrong type, in wasm notation.
fn import_mismatch(error: &InstantiationError) -> Option<Error> {
    use crate::dynamic::types::{FuncType, GlobalType, MemoryType, TableType};
    use alloc::format;
    let (name, expected, given) = match error {
        InstantiationError::ImportTypeMismatch {
            name,
            expected,
            actual,
        } => (
            name,
            format!("{}", crate::ExternType::from_wasmi(expected)),
            format!("a {}", crate::lifecycle::guest::extern_kind(actual)),
        ),
        InstantiationError::FuncTypeMismatch {
            name,
            expected,
            actual,
        } => (
            name,
            format!("func {}", FuncType::from_wasmi(expected)),
            format!("func {}", FuncType::from_wasmi(actual)),
        ),
        InstantiationError::MemoryTypeMismatch {
            name,
            expected,
            actual,
        } => (
            name,
            MemoryType::from_wasmi(expected).to_string(),
            MemoryType::from_wasmi(actual).to_string(),
        ),
        InstantiationError::TableTypeMismatch {
            name,
            expected,
            actual,
        } => (
            name,
            TableType::from_wasmi(expected).to_string(),
            TableType::from_wasmi(actual).to_string(),
        ),
        InstantiationError::GlobalTypeMismatch {
            name,
            expected,
            actual,
        } => (
            name,
            GlobalType::from_wasmi(expected).to_string(),
            GlobalType::from_wasmi(actual).to_string(),
        ),
        _ => return None,
    };
    Some(Error::ImportMismatch {
        module: Box::from(name.module()),
        name: Box::from(name.name()),
        expected: expected.into_boxed_str(),
        given: given.into_boxed_str(),
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
        ErrorKind::Instantiation(error) => {
            import_mismatch(error).unwrap_or(Error::Instantiate { error: source })
        }
        ErrorKind::TrapCode(_) | ErrorKind::Host(_) => Error::from_call(START, source),
        #[cfg(feature = "wasi")]
        ErrorKind::I32ExitStatus(_) => Error::from_call(START, source),
        _ => Error::Instantiate { error: source },
    }
}
