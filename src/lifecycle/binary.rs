//! Compiling a module from wasm bytes only, never as text.

use crate::error::{Error, Result};
use crate::lifecycle::module::Module;
use wasmi::Engine;

impl Module {
    /// Compiles a binary wasm module on `engine`, never reading the input
    /// as WAT text (which [`Module::with_engine`] does for anything that
    /// does not start with `\0asm`, so that an empty or truncated binary
    /// there would compile as the empty text module). For bytes from a
    /// file, the network or a fuzzer, where "not a wasm binary" must be an
    /// error.
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
    /// module.
    pub fn from_binary(engine: &Engine, wasm: &[u8]) -> Result<Self> {
        wasmi::Module::new(engine, wasm)
            .map(Self::from)
            .map_err(|source| Error::Compile { source })
    }
}
