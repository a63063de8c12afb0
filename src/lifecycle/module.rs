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
    /// Whether its engine meters fuel, asked once here rather than by
    /// every instantiation (wasmi answers "no" with a boxed error).
    metered: bool,
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
    /// binary; UTF-8 input without control characters (other than
    /// whitespace) as text; anything else is [`Error::NotWasm`].
    ///
    /// ```
    /// let err = linmem::Module::new("(module (func (result i32) (i64.const 1)))").unwrap_err();
    /// assert_eq!(err.to_string(), "invalid wasm module: type mismatch: expected i32, found i64 (at offset 0x1a)");
    /// let err = linmem::Module::new("(module\n  (fun))").unwrap_err();
    /// assert_eq!(err.to_string(), "invalid WAT text at line 2, column 4: expected valid module field");
    /// let err = linmem::Module::new(b"\x7fELF\x02\x01\x01\0\0\0\0").unwrap_err();
    /// assert!(err.to_string().ends_with("nor WAT text (it is not UTF-8 text): 11 bytes starting with 7f 45 4c 46 02 01 01 00"));
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::NotWasm`] if the input is neither wasm nor UTF-8 text;
    /// [`Error::Wat`] if the text does not parse ([`Error::WatDisabled`]
    /// without the `wat` feature); [`Error::Compile`] if the module is not
    /// valid WebAssembly; [`Error::Refused`] if it is valid but reaches a
    /// known wasmi bug (a memory64 maximum above 2^48 - 1 pages);
    /// [`Error::TranslatorPanic`] if wasmi's translator panics on it.
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
    /// Those of [`Module::new`].
    pub fn with_engine(engine: &Engine, source: impl AsRef<[u8]>) -> Result<Self> {
        let source = source.as_ref();
        if source.starts_with(WASM_MAGIC) {
            return Self::from_wasm(engine, source);
        }
        // Text is UTF-8 without control characters other than whitespace
        // (WAT escapes them in strings); anything else is binary.
        let text = core::str::from_utf8(source)
            .ok()
            .filter(|text| !text.chars().any(|c| c.is_control() && !c.is_whitespace()));
        let Some(text) = text else {
            return Err(Error::NotWasm {
                len: source.len(),
                head: source.iter().copied().take(8).collect(),
            });
        };
        #[cfg(feature = "wat")]
        {
            let wasm = wat::parse_str(text).map_err(Error::wat)?;
            Self::from_wasm(engine, &wasm)
        }
        #[cfg(not(feature = "wat"))]
        {
            let text = text.trim_start();
            if text.starts_with('(') || text.starts_with(";;") {
                return Err(Error::WatDisabled);
            }
            Self::from_wasm(engine, source)
        }
    }

    /// Screens and compiles a binary wasm module.
    pub(crate) fn from_wasm(engine: &Engine, wasm: &[u8]) -> Result<Self> {
        let Some(screened) = screen(wasm)? else {
            // wasmi uses the same parser, so it refuses the module too and
            // says why; should it not, linmem refuses what it cannot screen.
            compile(engine, wasm)?;
            return Err(Error::Refused {
                reason: Box::from("the module's sections could not be screened"),
            });
        };
        if screened.validate_original {
            // The rewrite could make this module valid: check it as given.
            wasmi::Module::validate(engine, wasm).map_err(|error| Error::Compile { error })?;
        }
        match compile(engine, &screened.wasm) {
            Ok(module) => Ok(Self {
                metered: metered(&module),
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
    #[inline]
    pub fn instantiate(&self) -> Result<Guest> {
        crate::lifecycle::builder::instantiate_plain(self, ())
    }

    /// A builder to instantiate the module with host functions, host
    /// memories or another memory export name.
    #[inline]
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

    /// Whether the module's engine meters fuel.
    pub(crate) fn metered(&self) -> bool {
        self.metered
    }
}

/// Whether `module`'s engine meters fuel (asked once per module: wasmi
/// answers "no" with a boxed error, too slow for every instantiation).
fn metered(module: &wasmi::Module) -> bool {
    wasmi::Store::new(module.engine(), ()).set_fuel(0).is_ok()
}

/// A module compiled by wasmi directly: linmem neither screened its types
/// nor compiled it under `catch_unwind`, and wasmi runs its start function.
impl From<wasmi::Module> for Module {
    fn from(module: wasmi::Module) -> Self {
        Self {
            metered: metered(&module),
            module,
            start: None,
        }
    }
}
