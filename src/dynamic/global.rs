//! Exported globals, read and set through linmem.

use crate::dynamic::types::GlobalType;
use crate::dynamic::value::Value;
use crate::error::{Error, Result};
use crate::lifecycle::access::{GuestAccess, check_owner};
use crate::lifecycle::guest::{Guest, GuestId, export_error};
use crate::lifecycle::instance::GuestInstance;
use alloc::boxed::Box;
use alloc::string::ToString;
use wasmi::{Extern, Global};

/// A handle to one exported global of one [`Guest`], from
/// [`Guest::export_global`].
///
/// ```
/// # fn main() -> linmem::Result<()> {
/// use linmem::Value;
/// let mut guest = linmem::Guest::new(r#"(module
///     (global (export "count") (mut i64) (i64.const 41))
///     (global (export "limit") i32 (i32.const 9)))"#)?;
/// let count = guest.export_global("count")?;
/// assert_eq!(count.ty(&guest)?.to_string(), "global (mut i64)");
/// let Value::I64(n) = count.get(&guest)? else { panic!("an i64") };
/// count.set(&mut guest, Value::I64(n + 1))?;
/// assert_eq!(count.get(&guest)?, Value::I64(42));
/// let limit = guest.export_global("limit")?;
/// assert!(limit.set(&mut guest, Value::I32(10)).is_err()); // immutable
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct GuestGlobal {
    global: Global,
    name: Box<str>,
    guest: GuestId,
}

impl GuestGlobal {
    fn check(&self, guest: &impl GuestAccess) -> Result<()> {
        check_owner(guest, self.guest, &self.name)
    }

    /// The export name the handle was looked up by.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The global's type.
    ///
    /// # Errors
    ///
    /// [`Error::ForeignHandle`] if `guest` is not the guest it came from.
    pub fn ty(&self, guest: &impl GuestAccess) -> Result<GlobalType> {
        self.check(guest)?;
        Ok(GlobalType::from_wasmi(&self.global.ty(guest.store())))
    }

    /// The global's current value.
    ///
    /// # Errors
    ///
    /// [`Error::ForeignHandle`] if `guest` is not the guest it came from.
    pub fn get(&self, guest: &impl GuestAccess) -> Result<Value> {
        self.check(guest)?;
        Ok(Value::from_wasmi(
            &self.global.get(guest.store()),
            self.guest,
        ))
    }

    /// Sets the global, which must be mutable, to `value` of its type.
    ///
    /// # Errors
    ///
    /// [`Error::ForeignHandle`] if `guest` (or a reference `value`) is not
    /// the guest it came from; [`Error::GlobalSet`] if the global is
    /// immutable or `value` has another type.
    pub fn set(&self, guest: &mut impl GuestAccess, value: Value) -> Result<()> {
        let ty = self.ty(guest)?;
        let wasmi_value = value.to_wasmi(self.guest, &self.name)?;
        if !ty.mutable || ty.content != value.ty() {
            return Err(Error::GlobalSet {
                name: self.name.clone(),
                ty,
                value: value.to_string().into_boxed_str(),
            });
        }
        self.global
            .set(guest.store_mut(), wasmi_value)
            .map_err(|_| Error::GlobalSet {
                name: self.name.clone(),
                ty,
                value: value.to_string().into_boxed_str(),
            })
    }

    /// The underlying wasmi global (escape hatch).
    #[must_use]
    pub fn as_wasmi(&self) -> Global {
        self.global
    }
}

impl<T> Guest<T> {
    /// The global the guest exports as `name`.
    ///
    /// # Errors
    ///
    /// [`Error::MissingExport`] or [`Error::WrongExportKind`] if the guest
    /// exports no global of that name.
    pub fn export_global(&self, name: &str) -> Result<GuestGlobal> {
        self.export_global_in(self.main_instance(), name)
    }

    /// A global exported by `instance`, an instance of this guest's store.
    ///
    /// # Errors
    ///
    /// [`Error::ForeignHandle`] if `instance` belongs to another guest; then
    /// those of [`export_global`](Self::export_global).
    pub fn export_global_in(&self, instance: GuestInstance, name: &str) -> Result<GuestGlobal> {
        let instance = self.own_instance(instance, name)?;
        match instance.get_export(&self.store, name) {
            Some(Extern::Global(global)) => Ok(GuestGlobal {
                global,
                name: Box::from(name),
                guest: self.id,
            }),
            other => Err(export_error(name, "global", other)),
        }
    }
}
