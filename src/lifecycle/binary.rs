//! Compiling a module from wasm bytes only, never as text.

#[cfg(doc)]
use crate::error::Error;
use crate::error::Result;
use crate::lifecycle::module::Module;
use wasmi::Engine;

impl Module {
    /// Compiles a binary wasm module on `engine`, never reading the input
    /// as WAT text (which [`Module::with_engine`] does, with the `wat`
    /// feature, for anything that does not start with `\0asm`). For bytes
    /// from a file, the network or a fuzzer, where anything but a valid
    /// wasm binary must be [`Error::Compile`], whatever the crate features;
    /// the spec test suite's `assert_malformed` modules go through it.
    ///
    /// ```
    /// # fn main() -> linmem::Result<()> {
    /// let engine = linmem::Engine::default();
    /// let module = linmem::Module::from_binary(&engine, linmem::LINEAR_MEMORY_WASM)?;
    /// assert!(module.exports().any(|export| export.name() == "readWasmMemoryAndReturnIndexOne"));
    /// assert!(matches!(linmem::Module::from_binary(&engine, b""), Err(linmem::Error::Compile { .. })));
    /// assert!(matches!(linmem::Module::from_binary(&engine, b"(module)"), Err(linmem::Error::Compile { .. })));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Compile`] if `wasm` is not a valid binary WebAssembly
    /// module; [`Error::Refused`] or [`Error::TranslatorPanic`] as for
    /// [`Module::new`].
    pub fn from_binary(engine: &Engine, wasm: &[u8]) -> Result<Self> {
        Self::from_wasm(engine, wasm)
    }
}
