//! Tables the host creates for a guest to import.

use crate::dynamic::types::ValueType;
use crate::error::{Error, Result};
use crate::lifecycle::builder::GuestBuilder;
use alloc::format;
use wasmi::{Nullable, Ref, RefType, Table, TableType};

impl<T> GuestBuilder<'_, T> {
    /// Creates a table of `initial` null references (at most `maximum`) in
    /// the guest's store, for the guest to import as `module`.`name` (e.g.
    /// the `spectest` table of the WebAssembly test suite, or a table that
    /// several modules of one guest share through
    /// [`Guest::add_instance`](crate::Guest::add_instance)).
    /// `element` is [`ValueType::FuncRef`] or [`ValueType::ExternRef`].
    ///
    /// ```
    /// # fn main() -> linmem::Result<()> {
    /// use linmem::ValueType;
    /// let module = linmem::Module::new(r#"(module
    ///     (import "env" "table" (table 10 20 funcref))
    ///     (func (export "size") (result i32) (table.size)))"#)?;
    /// let mut guest = module
    ///     .guest()
    ///     .host_table("env", "table", ValueType::FuncRef, 10, Some(20))?
    ///     .instantiate()?;
    /// assert_eq!(guest.call::<(), i32>("size", ())?, 10);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Instantiate`] if `element` is not a reference type,
    /// `initial > maximum`, the table cannot be allocated or
    /// `module`.`name` is already defined; [`Error::LimitExceeded`] if
    /// `initial` passes the [`limits`](Self::limits).
    pub fn host_table(
        mut self,
        module: &str,
        name: &str,
        element: ValueType,
        initial: u32,
        maximum: Option<u32>,
    ) -> Result<Self> {
        let invalid = |message: alloc::string::String| Error::Instantiate {
            source: wasmi::Error::new(message),
        };
        let (element, init) = match element {
            ValueType::FuncRef => (RefType::Func, Ref::Func(Nullable::Null)),
            ValueType::ExternRef => (RefType::Extern, Ref::Extern(Nullable::Null)),
            other => {
                return Err(invalid(format!(
                    "a table holds funcref or externref elements, not {other}"
                )));
            }
        };
        if maximum.is_some_and(|maximum| initial > maximum) {
            return Err(invalid(format!(
                "a table's initial size {initial} is above its maximum {maximum:?}"
            )));
        }
        // wasmi's constructor asserts what was checked just above.
        let ty = TableType::new(element, initial, maximum);
        let store = self.as_wasmi_store_mut();
        let denials = store.data().limiter.denials();
        let table = Table::new(&mut *store, ty, init).map_err(|source| {
            store
                .data()
                .limiter
                .instantiation_error(denials, source)
                .unwrap_or_else(|source| Error::Instantiate { source })
        })?;
        self.as_wasmi_linker_mut()
            .define(module, name, table)
            .map_err(|source| Error::Instantiate {
                source: source.into(),
            })?;
        Ok(self)
    }
}
