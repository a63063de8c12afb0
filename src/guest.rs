//! A running guest: one instance, its store and its linear memory.

use crate::error::{Error, Result};
use crate::func::GuestFunc;
use crate::module::Module;
use crate::view::{LinearMemoryView, LinearMemoryViewMut};
use alloc::boxed::Box;
use core::sync::atomic::{AtomicU32, Ordering};
use wasmi::errors::{ErrorKind, LinkerError, MemoryError};
use wasmi::{
    AsContext, Engine, Extern, ExternType, Instance, Linker, Memory, Store, WasmParams, WasmResults,
};

/// What a guest's wasmi [`Store`] holds: the host's own data, plus what
/// linmem keeps per guest.
#[derive(Debug)]
pub struct GuestState<T> {
    data: T,
}

impl<T> GuestState<T> {
    /// The host data given to [`GuestBuilder::data`].
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
/// [`GuestBuilder::data`]). A guest is `Send` when `T` is.
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
#[derive(Debug)]
pub struct Guest<T = ()> {
    store: Store<GuestState<T>>,
    instance: Instance,
    memory: Memory,
    /// The memory's page size once known (see [`measured_page_size`]).
    page_size: Option<u32>,
    id: GuestId,
}

/// The standard WebAssembly page size.
const WASM_PAGE_SIZE: u32 = 65_536;

/// The page size of `memory`, measured as bytes per page while it has pages.
///
/// wasmi does not expose a memory type's page size (the custom-page-sizes
/// proposal allows 1 besides 65 536), so linmem measures it.
fn measured_page_size(store: &impl AsContext, memory: Memory) -> Option<u32> {
    let pages = memory.size(store);
    let bytes = u64::try_from(memory.data_size(store)).ok()?;
    let size = bytes.checked_div(pages)?;
    u32::try_from(size).ok()
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
        LinearMemoryView::new(self.memory.data(&self.store), self.page_size())
    }

    /// The memory's page size in bytes.
    #[inline]
    fn page_size(&self) -> u32 {
        match self.page_size {
            Some(size) => size,
            None => self.unknown_page_size(),
        }
    }

    /// The page size of a memory that had no pages when last measured.
    /// Out of line and cold, so that `view`/`view_mut` stay small enough to
    /// inline into the host's loop (measured in `benches/`, round trip).
    #[cold]
    #[inline(never)]
    fn unknown_page_size(&self) -> u32 {
        measured_page_size(&self.store, self.memory).unwrap_or(WASM_PAGE_SIZE)
    }

    /// Measures the page size again (the memory may have pages now).
    #[cold]
    #[inline(never)]
    fn remeasure_page_size(&mut self) {
        self.page_size = measured_page_size(&self.store, self.memory);
    }

    /// A read-write view of the guest's memory.
    ///
    /// The view borrows the guest mutably: it cannot be kept across
    /// [`grow`](Self::grow) or a call.
    #[inline]
    #[must_use]
    pub fn view_mut(&mut self) -> LinearMemoryViewMut<'_> {
        if self.page_size.is_none() {
            self.remeasure_page_size();
        }
        let page_size = self.page_size();
        LinearMemoryViewMut::new(self.memory.data_mut(&mut self.store), page_size)
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
    /// declared maximum (or its index type's limit); [`Error::Grow`] if the
    /// host could not provide the memory. The memory is unchanged then.
    pub fn grow(&mut self, additional: u64) -> Result<u64> {
        let current = self.memory.size(&self.store);
        let previous = self
            .memory
            .grow(&mut self.store, additional)
            .map_err(|source| self.grow_error(current, additional, source))?;
        if self.page_size.is_none() {
            self.remeasure_page_size();
        }
        Ok(previous)
    }

    #[cold]
    fn grow_error(&self, current: u64, additional: u64, source: MemoryError) -> Error {
        let ty = self.memory.ty(&self.store);
        let index_bits = if ty.is_64() { 64 } else { 32 };
        let addressable = (1u128 << index_bits) / u128::from(self.page_size());
        let limit = u64::try_from(addressable).unwrap_or(u64::MAX);
        let maximum = ty.maximum().map_or(limit, |max| max.min(limit));
        match current.checked_add(additional) {
            Some(wanted) if wanted <= maximum => Error::Grow {
                current,
                additional,
                source,
            },
            _ => Error::GrowPastMaximum {
                current,
                additional,
                maximum,
            },
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
    /// [`Error::Trap`] if the guest traps; [`Error::Call`] if the call fails
    /// otherwise (e.g. a host function's error).
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
        let func = match self.instance.get_export(&self.store, name) {
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

    /// The host data given to [`GuestBuilder::data`].
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
        self.memory
    }

    /// The wasmi engine the guest runs on (escape hatch).
    #[must_use]
    pub fn engine(&self) -> &Engine {
        self.store.engine()
    }

    /// Whether `func` was obtained from this guest.
    pub(crate) fn owns(&self, id: GuestId) -> bool {
        self.id == id
    }

    /// The store, for a [`GuestFunc`] call.
    pub(crate) fn store_for_call(&mut self) -> &mut Store<GuestState<T>> {
        &mut self.store
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

/// Instantiates a [`Module`] as a [`Guest`], with options.
///
/// ```
/// # fn main() -> linmem::Result<()> {
/// let module = linmem::Module::new(r#"(module (memory (export "heap") 1))"#)?;
/// let guest = module.guest().memory("heap").data(String::from("host state")).instantiate()?;
/// assert_eq!(guest.view().len(), 65_536);
/// assert_eq!(guest.data(), "host state");
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use]
pub struct GuestBuilder<'m, T> {
    module: &'m Module,
    memory: Box<str>,
    data: T,
}

impl<'m> GuestBuilder<'m, ()> {
    pub(crate) fn new(module: &'m Module) -> Self {
        Self {
            module,
            memory: Box::from("memory"),
            data: (),
        }
    }
}

impl<'m, T> GuestBuilder<'m, T> {
    /// The name of the exported memory the views show (default `memory`).
    pub fn memory(mut self, export_name: &str) -> Self {
        self.memory = Box::from(export_name);
        self
    }

    /// Host data to keep in the guest's store, reachable with
    /// [`Guest::data`] and from host functions.
    pub fn data<U>(self, data: U) -> GuestBuilder<'m, U> {
        GuestBuilder {
            module: self.module,
            memory: self.memory,
            data,
        }
    }

    /// Instantiates the module, runs its start function and finds its memory.
    ///
    /// # Errors
    ///
    /// [`Error::MissingImport`] if the module imports anything not provided;
    /// [`Error::Trap`] or [`Error::Call`] (for the function `(start)`) if the
    /// start function fails; [`Error::Instantiate`] for other instantiation
    /// failures; [`Error::MissingExport`] or [`Error::WrongExportKind`] if the
    /// memory export is missing or not a memory.
    pub fn instantiate(self) -> Result<Guest<T>> {
        let engine = self.module.engine();
        let mut store = Store::new(engine, GuestState { data: self.data });
        let linker = Linker::<GuestState<T>>::new(engine);
        let instance = linker
            .instantiate_and_start(&mut store, self.module.as_wasmi())
            .map_err(instantiation_error)?;
        let memory = match instance.get_export(&store, &self.memory) {
            Some(Extern::Memory(memory)) => memory,
            other => return Err(export_error(&self.memory, "memory", other)),
        };
        let page_size = measured_page_size(&store, memory);
        Ok(Guest {
            store,
            instance,
            memory,
            page_size,
            id: next_guest_id(),
        })
    }
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
