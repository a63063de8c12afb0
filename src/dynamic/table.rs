//! Exported tables, read through linmem.

use crate::dynamic::types::TableType;
use crate::dynamic::value::Value;
use crate::error::{Error, Result};
use crate::lifecycle::access::{GuestAccess, check_owner};
use crate::lifecycle::guest::{Guest, GuestId, export_error};
use crate::lifecycle::instance::GuestInstance;
use alloc::boxed::Box;
use wasmi::{Extern, Table};

/// A handle to one exported table of one [`Guest`], from
/// [`Guest::export_table`].
///
/// ```
/// # fn main() -> linmem::Result<()> {
/// use linmem::Value;
/// let guest = linmem::Guest::new(r#"(module
///     (table (export "t") 3 funcref)
///     (func $f) (elem (i32.const 1) $f))"#)?;
/// let table = guest.export_table("t")?;
/// assert_eq!(table.size(&guest)?, 3);
/// assert_eq!(table.get(&guest, 0)?, Value::FuncRef(None));
/// assert!(matches!(table.get(&guest, 1)?, Value::FuncRef(Some(_))));
/// assert!(table.get(&guest, 3).is_err());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct GuestTable {
    table: Table,
    name: Box<str>,
    guest: GuestId,
}

impl GuestTable {
    fn check(&self, guest: &impl GuestAccess) -> Result<()> {
        check_owner(guest, self.guest, &self.name)
    }

    /// The export name the handle was looked up by.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The table's type (its minimum is the declared one, not the current size).
    ///
    /// # Errors
    ///
    /// [`Error::ForeignHandle`] if `guest` is not the guest it came from.
    pub fn ty(&self, guest: &impl GuestAccess) -> Result<TableType> {
        self.check(guest)?;
        Ok(TableType::from_wasmi(&self.table.ty(guest.store())))
    }

    /// The table's current number of elements.
    ///
    /// # Errors
    ///
    /// [`Error::ForeignHandle`] if `guest` is not the guest it came from.
    pub fn size(&self, guest: &impl GuestAccess) -> Result<u64> {
        self.check(guest)?;
        Ok(self.table.size(guest.store()))
    }

    /// The element at `index`.
    ///
    /// # Errors
    ///
    /// [`Error::ForeignHandle`] if `guest` is not the guest it came from;
    /// [`Error::TableOutOfRange`] if `index` is not below the table's size.
    pub fn get(&self, guest: &impl GuestAccess, index: u64) -> Result<Value> {
        self.check(guest)?;
        match self.table.get(guest.store(), index) {
            Some(element) => Ok(Value::from_wasmi_ref(element, self.guest)),
            None => Err(Error::TableOutOfRange {
                name: self.name.clone(),
                index,
                size: self.table.size(guest.store()),
            }),
        }
    }

    /// The underlying wasmi table (escape hatch).
    #[must_use]
    pub fn as_wasmi(&self) -> Table {
        self.table
    }
}

impl<T> Guest<T> {
    /// The table the guest exports as `name`.
    ///
    /// # Errors
    ///
    /// [`Error::MissingExport`] or [`Error::WrongExportKind`] if the guest
    /// exports no table of that name.
    pub fn export_table(&self, name: &str) -> Result<GuestTable> {
        self.export_table_in(self.main_instance(), name)
    }

    /// A table exported by `instance`, an instance of this guest's store.
    ///
    /// # Errors
    ///
    /// [`Error::ForeignHandle`] if `instance` belongs to another guest; then
    /// those of [`export_table`](Self::export_table).
    pub fn export_table_in(&self, instance: GuestInstance, name: &str) -> Result<GuestTable> {
        let instance = self.own_instance(instance, name)?;
        match instance.get_export(&self.store, name) {
            Some(Extern::Table(table)) => Ok(GuestTable {
                table,
                name: Box::from(name),
                guest: self.id,
            }),
            other => Err(export_error(name, "table", other)),
        }
    }
}
