//! Compiled modules: compile once, instantiate many times.

use crate::error::{Error, Result};
use crate::hostile::compile::{compile, default_engine};
use crate::hostile::screen::screen;
use crate::lifecycle::builder::GuestBuilder;
use crate::lifecycle::guest::Guest;
use alloc::boxed::Box;
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
    /// The export name linmem gave the module's start function, which it
    /// runs itself after instantiation (see [`Module::start_export`]).
    start: Option<Box<str>>,
}

impl Module {
    /// Compiles a module from wasm bytes or (with the `wat` feature) WAT
    /// text, on a new engine with [`contained_config`](crate::contained_config)
    /// (wasmi's defaults, every function translated now).
    ///
    /// Input that starts with the wasm magic number `\0asm` is read as
    /// binary; anything else as text.
    ///
    /// # Errors
    ///
    /// [`Error::Wat`] if the text does not parse; [`Error::Compile`] if the
    /// module is not valid WebAssembly (without the `wat` feature, text
    /// input is also reported as [`Error::Compile`]); [`Error::Refused`] if
    /// it is valid but reaches a known wasmi bug (a memory64 maximum above
    /// 2^48 - 1 pages); [`Error::TranslatorPanic`] if wasmi's translator
    /// panics on it.
    pub fn new(source: impl AsRef<[u8]>) -> Result<Self> {
        Self::with_engine(&default_engine(), source)
    }

    /// Compiles a module like [`Module::new`], on a given engine (to choose
    /// wasmi's configuration, or to share compiled code between modules).
    ///
    /// Containment of wasmi's translator bugs needs an engine that compiles
    /// eagerly ([`contained_config`](crate::contained_config),
    /// [`metered_engine`](crate::metered_engine)): on an engine with wasmi's
    /// default lazy translation, a translator panic happens at a function's
    /// first call, inside guest execution, and aborts the process.
    ///
    /// # Errors
    ///
    /// [`Error::Wat`] if the text does not parse; [`Error::Compile`] if the
    /// module is not valid WebAssembly; [`Error::Refused`] or
    /// [`Error::TranslatorPanic`] as for [`Module::new`].
    pub fn with_engine(engine: &Engine, source: impl AsRef<[u8]>) -> Result<Self> {
        let source = source.as_ref();
        #[cfg(feature = "wat")]
        if !source.starts_with(WASM_MAGIC) {
            let wasm = wat::parse_bytes(source).map_err(|source| Error::Wat { source })?;
            return Self::from_wasm(engine, &wasm);
        }
        Self::from_wasm(engine, source)
    }

    /// Screens and compiles a binary wasm module.
    fn from_wasm(engine: &Engine, wasm: &[u8]) -> Result<Self> {
        let Some(screened) = screen(wasm)? else {
            // wasmi uses the same parser, so it refuses the module too and
            // says why; should it not, linmem refuses what it cannot screen.
            compile(engine, wasm)?;
            return Err(Error::Refused {
                reason: Box::from("the module's sections could not be screened"),
            });
        };
        match compile(engine, &screened.wasm) {
            Ok(module) => Ok(Self {
                module,
                start: screened.start,
            }),
            // The error as wasmi reports it on the bytes given (offsets).
            Err(error) if screened.start.is_some() => {
                Err(compile(engine, wasm).err().unwrap_or(error))
            }
            Err(error) => Err(error),
        }
    }

    /// The export name under which linmem exports the module's start
    /// function (`linmem:start`, with `_` appended if the module already
    /// has such an export), or `None` if the module has no start function.
    ///
    /// linmem compiles a module with a start function without its start
    /// section and runs the function itself right after instantiation, so
    /// that [`GuestBuilder::instantiate_until`] can run it under a deadline;
    /// the result is the same as wasmi's own instantiation. The underlying
    /// [`as_wasmi`](Self::as_wasmi) module therefore has no start function
    /// and one export more. A module converted from a `wasmi::Module` keeps
    /// its start section (wasmi runs it, under fuel only).
    #[must_use]
    pub fn start_export(&self) -> Option<&str> {
        self.start.as_deref()
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

/// A module compiled by wasmi directly: linmem neither screened its types
/// nor compiled it under `catch_unwind`, and wasmi runs its start function.
impl From<wasmi::Module> for Module {
    fn from(module: wasmi::Module) -> Self {
        Self {
            module,
            start: None,
        }
    }
}
