//! Globals the host creates for a guest to import.

use crate::dynamic::value::Value;
use crate::error::{Error, Result};
use crate::lifecycle::builder::GuestBuilder;
use wasmi::{Global, Mutability};

impl<T> GuestBuilder<'_, T> {
    /// Creates a global holding `value` in the guest's store, for the guest
    /// to import as `module`.`name` (e.g. the `spectest` globals of the
    /// WebAssembly test suite, or a configuration constant). A `mutable`
    /// global can be set by the guest and read back after instantiation
    /// through an export of it ([`Guest::export_global`](crate::Guest::export_global)).
    ///
    /// ```
    /// # fn main() -> linmem::Result<()> {
    /// use linmem::Value;
    /// let module = linmem::Module::new(r#"(module
    ///     (import "env" "base" (global $base i32))
    ///     (func (export "plus_base") (param i32) (result i32)
    ///         (i32.add (local.get 0) (global.get $base))))"#)?;
    /// let mut guest = module.guest().host_global("env", "base", Value::I32(1000), false)?.instantiate()?;
    /// assert_eq!(guest.call::<i32, i32>("plus_base", 7)?, 1007);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::ForeignHandle`] if `value` is a reference from another
    /// guest; [`Error::Instantiate`] if `module`.`name` is already defined.
    pub fn host_global(
        mut self,
        module: &str,
        name: &str,
        value: Value,
        mutable: bool,
    ) -> Result<Self> {
        let guest = self.as_wasmi_store_mut().data().guest;
        let value = value.to_wasmi(guest, name)?;
        let mutability = if mutable {
            Mutability::Var
        } else {
            Mutability::Const
        };
        let global = Global::new(self.as_wasmi_store_mut(), value, mutability);
        self.as_wasmi_linker_mut()
            .define(module, name, global)
            .map_err(|source| Error::Instantiate {
                source: source.into(),
            })?;
        Ok(self)
    }
}
