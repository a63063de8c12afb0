//! Compiled modules: compile once, instantiate many times.

use crate::error::{Error, Result};
use crate::lifecycle::builder::GuestBuilder;
use crate::lifecycle::guest::Guest;
use wasmi::Engine;

/// The reference scenario's module in WebAssembly text, embedded in the crate.
///
/// Its start function grows the empty memory by one page and stores 24 at
/// address 0; its export `readWasmMemoryAndReturnIndexOne` returns the byte at
/// address 1.
pub const LINEAR_MEMORY_WAT: &str = include_str!("../../fixtures/linear_memory.wat");

/// [`LINEAR_MEMORY_WAT`] compiled to wasm bytes, for builds without the `wat`
/// feature. A test checks that it is the same module.
pub const LINEAR_MEMORY_WASM: &[u8] = include_bytes!("../../fixtures/linear_memory.wasm");

/// The first four bytes of every binary wasm module.
#[cfg(feature = "wat")]
const WASM_MAGIC: &[u8; 4] = b"\0asm";

/// A validated WebAssembly module, ready to be instantiated as many
/// [`Guest`]s as needed.
///
/// Cloning is cheap (a reference count) and a `Module` is `Send + Sync`, so
/// threads can share one and each instantiate their own guests:
///
/// ```
/// # fn main() -> linmem::Result<()> {
/// let module = linmem::Module::new(linmem::LINEAR_MEMORY_WAT)?;
/// let handles: Vec<_> = (0..2)
///     .map(|_| {
///         let module = module.clone();
///         std::thread::spawn(move || -> linmem::Result<u8> {
///             let guest = module.instantiate()?;
///             guest.view().read::<u8>(0)
///         })
///     })
///     .collect();
/// for handle in handles {
///     assert_eq!(handle.join().unwrap()?, 24);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Module {
    module: wasmi::Module,
}

impl Module {
    /// Compiles a module from wasm bytes or (with the `wat` feature) WAT
    /// text, on a new engine with wasmi's default configuration.
    ///
    /// Input that starts with the wasm magic number `\0asm` is read as
    /// binary; anything else as text.
    ///
    /// # Errors
    ///
    /// [`Error::Wat`] if the text does not parse; [`Error::Compile`] if the
    /// module is not valid WebAssembly (without the `wat` feature, text
    /// input is also reported as [`Error::Compile`]).
    pub fn new(source: impl AsRef<[u8]>) -> Result<Self> {
        Self::with_engine(&Engine::default(), source)
    }

    /// Compiles a module like [`Module::new`], on a given engine (to choose
    /// wasmi's configuration, or to share compiled code between modules).
    ///
    /// # Errors
    ///
    /// [`Error::Wat`] if the text does not parse; [`Error::Compile`] if the
    /// module is not valid WebAssembly.
    pub fn with_engine(engine: &Engine, source: impl AsRef<[u8]>) -> Result<Self> {
        let source = source.as_ref();
        #[cfg(feature = "wat")]
        if !source.starts_with(WASM_MAGIC) {
            let wasm = wat::parse_bytes(source).map_err(|source| Error::Wat { source })?;
            return Self::from_wasm(engine, &wasm);
        }
        Self::from_wasm(engine, source)
    }

    /// Compiles a binary wasm module.
    fn from_wasm(engine: &Engine, wasm: &[u8]) -> Result<Self> {
        let module =
            wasmi::Module::new(engine, wasm).map_err(|source| Error::Compile { source })?;
        Ok(Self { module })
    }

    /// The reference scenario's module, compiled from the embedded fixture.
    ///
    /// # Errors
    ///
    /// None in practice: the embedded fixture is valid. The `Result` is the
    /// one of [`Module::new`].
    pub fn linear_memory() -> Result<Self> {
        Self::new(LINEAR_MEMORY_WASM)
    }

    /// Instantiates the module with no imports, runs its start function and
    /// finds its memory exported as `memory`.
    ///
    /// # Errors
    ///
    /// See [`GuestBuilder::instantiate`].
    pub fn instantiate(&self) -> Result<Guest> {
        self.guest().instantiate()
    }

    /// A builder to instantiate the module with host functions, host
    /// memories or another memory export name.
    pub fn guest(&self) -> GuestBuilder<'_, ()> {
        GuestBuilder::new(self, ())
    }

    /// A builder like [`guest`](Self::guest) whose guest keeps `data` in its
    /// store, for the host and its host functions.
    pub fn guest_with<T>(&self, data: T) -> GuestBuilder<'_, T> {
        GuestBuilder::new(self, data)
    }

    /// The engine the module was compiled on.
    #[must_use]
    pub fn engine(&self) -> &Engine {
        self.module.engine()
    }

    /// The underlying wasmi module.
    #[must_use]
    pub fn as_wasmi(&self) -> &wasmi::Module {
        &self.module
    }
}

impl From<wasmi::Module> for Module {
    fn from(module: wasmi::Module) -> Self {
        Self { module }
    }
}
