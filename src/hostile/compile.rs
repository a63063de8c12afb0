//! Compiling untrusted code: wasmi engines that translate every function
//! when the module is created, and compilation inside `catch_unwind`.

use crate::error::{Error, Result};
#[cfg(feature = "std")]
use alloc::string::String;
use wasmi::{CompilationMode, Config, Engine};

/// The wasmi configuration linmem uses for its own engines
/// ([`Module::new`](crate::Module::new), [`metered_engine`](crate::metered_engine)):
/// wasmi's defaults with [`CompilationMode::Eager`](https://docs.rs/wasmi/2/wasmi/enum.CompilationMode.html#variant.Eager).
///
/// Eager compilation translates every function when the
/// [`Module`](crate::Module) is created, inside `catch_unwind`: a panic of
/// wasmi 2.0's translator on a valid module (SECURITY.md, wasmi bug W3)
/// becomes [`Error::TranslatorPanic`] there. Under lazy translation the
/// same panic would happen inside guest execution, where it cannot unwind
/// and aborts the process, and would leave the function marked as being
/// compiled, so that every later call of it spins forever. Eager
/// compilation costs more up front for modules whose code mostly never
/// runs (measured in docs/CONTAINMENT.md); wasmi's default lazy mode is
/// an explicit opt-out: [`Engine::new`] on your own [`Config`](https://docs.rs/wasmi/2/wasmi/struct.Config.html) with
/// [`Module::with_engine`](crate::Module::with_engine), for trusted
/// modules only.
///
/// ```
/// # fn main() -> linmem::Result<()> {
/// let mut config = linmem::contained_config();
/// config.consume_fuel(true); // what `metered_engine` does
/// let engine = linmem::Engine::new(&config);
/// let module = linmem::Module::with_engine(&engine, linmem::LINEAR_MEMORY_WAT)?;
/// assert_eq!(module.instantiate()?.view().read::<u8>(0)?, 24);
/// # Ok(()) }
/// ```
#[must_use]
pub fn contained_config() -> Config {
    let mut config = Config::default();
    config.compilation_mode(CompilationMode::Eager);
    config
}

/// The engine of [`Module::new`](crate::Module::new): [`contained_config`].
pub(crate) fn default_engine() -> Engine {
    Engine::new(&contained_config())
}

/// `wasmi::Module::new`, with a panic of wasmi's translator caught (with
/// `std`) and returned as [`Error::TranslatorPanic`].
pub(crate) fn compile(engine: &Engine, wasm: &[u8]) -> Result<wasmi::Module> {
    #[cfg(feature = "std")]
    {
        let compiled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            wasmi::Module::new(engine, wasm)
        }));
        match compiled {
            Ok(module) => module.map_err(|source| Error::Compile { error: source }),
            Err(payload) => match wasmi::Module::validate(engine, wasm) {
                // wasmi 2.0 translates while it validates under eager
                // compilation: its translator can trip on an invalid
                // module before the validator refuses it. That module is
                // a plain compile error.
                Err(source) => Err(Error::Compile { error: source }),
                Ok(()) => Err(Error::TranslatorPanic {
                    message: panic_message(payload.as_ref()),
                }),
            },
        }
    }
    #[cfg(not(feature = "std"))]
    {
        wasmi::Module::new(engine, wasm).map_err(|source| Error::Compile { error: source })
    }
}

/// The text of a panic's payload (`&str` or `String`), or an empty string.
#[cfg(feature = "std")]
pub(crate) fn panic_message(payload: &(dyn core::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        return String::from(*text);
    }
    payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default()
}
