//! Calls whose types the host learns at run time.

use crate::dynamic::types::FuncType;
use crate::dynamic::value::Value;
use crate::error::{Error, Result};
use crate::lifecycle::access::{GuestAccess, check_owner};
use crate::lifecycle::guest::{Guest, GuestId, export_error};
use crate::lifecycle::instance::GuestInstance;
use alloc::boxed::Box;
use alloc::vec::Vec;
use wasmi::{Extern, Func, Val};

/// A handle to one exported function of one [`Guest`], called with
/// [`Value`]s checked against its type at run time; from
/// [`Guest::export_dynamic_func`]. Look it up once and call it many times:
/// the lookup and the type are cached.
///
/// ```
/// # fn main() -> linmem::Result<()> {
/// use linmem::Value;
/// let mut guest = linmem::Guest::new(r#"(module
///     (func (export "add") (param i32 i64) (result i64)
///       (i64.add (i64.extend_i32_s (local.get 0)) (local.get 1))))"#)?;
/// let add = guest.export_dynamic_func("add")?;
/// assert_eq!(add.ty().to_string(), "(i32, i64) -> i64");
/// assert_eq!(add.call(&mut guest, &[Value::I32(-2), Value::I64(44)])?, [Value::I64(42)]);
/// let err = add.call(&mut guest, &[Value::I32(1)]).unwrap_err();
/// assert_eq!(err.to_string(), "`add` has type (i32, i64) -> i64 but was called with (i32)");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct DynamicFunc {
    func: Func,
    ty: FuncType,
    name: Box<str>,
    guest: GuestId,
}

impl DynamicFunc {
    pub(crate) fn new(func: Func, ty: FuncType, name: Box<str>, guest: GuestId) -> Self {
        Self {
            func,
            ty,
            name,
            guest,
        }
    }

    /// The export name the handle was looked up by.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The function's type.
    #[must_use]
    pub fn ty(&self) -> &FuncType {
        &self.ty
    }

    /// Calls the function in `guest`, which must be the guest it came from,
    /// and returns its results.
    ///
    /// # Errors
    ///
    /// [`Error::ForeignHandle`] if `guest` (or a reference among `params`)
    /// is not the guest this handle came from; [`Error::ArgumentMismatch`]
    /// if `params` do not match the function's parameter types (nothing
    /// runs then); [`Error::Trap`], [`Error::HostFunc`] or [`Error::Call`]
    /// if the call fails.
    pub fn call(&self, guest: &mut impl GuestAccess, params: &[Value]) -> Result<Vec<Value>> {
        let mut results: Vec<Value> = self
            .ty
            .results()
            .iter()
            .map(|&ty| Value::default_for(ty))
            .collect();
        self.call_into(guest, params, &mut results)?;
        Ok(results)
    }

    /// Calls the function and writes its results into `results`, which
    /// must have one slot per result.
    ///
    /// # Errors
    ///
    /// [`Error::ResultSlots`] if `results` has the wrong length; then those
    /// of [`call`](Self::call).
    pub fn call_into(
        &self,
        guest: &mut impl GuestAccess,
        params: &[Value],
        results: &mut [Value],
    ) -> Result<()> {
        check_owner(guest, self.guest, &self.name)?;
        if params.len() != self.ty.params().len()
            || params
                .iter()
                .zip(self.ty.params())
                .any(|(v, &ty)| v.ty() != ty)
        {
            return Err(Error::ArgumentMismatch {
                func: self.name.clone(),
                expected: self.ty.clone(),
                given: params.iter().map(Value::ty).collect(),
            });
        }
        if results.len() != self.ty.results().len() {
            return Err(Error::ResultSlots {
                func: self.name.clone(),
                expected: self.ty.results().len(),
                given: results.len(),
            });
        }
        let wasmi_params = params
            .iter()
            .map(|v| v.to_wasmi(self.guest, &self.name))
            .collect::<Result<Vec<Val>>>()?;
        let mut wasmi_results: Vec<Val> = self
            .ty
            .results()
            .iter()
            .map(|&ty| {
                Value::default_for(ty)
                    .to_wasmi(self.guest, &self.name)
                    .unwrap_or(Val::I32(0))
            })
            .collect();
        self.func
            .call(guest.store_mut(), &wasmi_params, &mut wasmi_results)
            .map_err(|source| Error::from_call(&self.name, source))?;
        for (slot, value) in results.iter_mut().zip(&wasmi_results) {
            *slot = Value::from_wasmi(value, self.guest);
        }
        Ok(())
    }

    /// The underlying wasmi function (escape hatch).
    #[must_use]
    pub fn as_wasmi(&self) -> Func {
        self.func
    }
}

impl<T> Guest<T> {
    /// Calls the exported function `name` with [`Value`]s, for a host that
    /// learns the function's type at run time; see [`DynamicFunc`]. For
    /// repeated calls, look the function up once with
    /// [`export_dynamic_func`](Self::export_dynamic_func).
    ///
    /// ```
    /// # fn main() -> linmem::Result<()> {
    /// use linmem::Value;
    /// let mut guest = linmem::Guest::new(r#"(module
    ///     (func (export "swap") (param f32 i32) (result i32 f32) (local.get 1) (local.get 0)))"#)?;
    /// let results = guest.call_dynamic("swap", &[Value::F32(1.5), Value::I32(7)])?;
    /// assert_eq!(results, [Value::I32(7), Value::F32(1.5)]);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// Those of [`export_dynamic_func`](Self::export_dynamic_func) and
    /// [`DynamicFunc::call`].
    pub fn call_dynamic(&mut self, name: &str, params: &[Value]) -> Result<Vec<Value>> {
        self.export_dynamic_func(name)?.call(self, params)
    }

    /// Looks up the exported function `name` once, with its type, for
    /// calls with [`Value`]s.
    ///
    /// # Errors
    ///
    /// [`Error::MissingExport`] if there is no export `name`;
    /// [`Error::WrongExportKind`] if it is not a function.
    pub fn export_dynamic_func(&self, name: &str) -> Result<DynamicFunc> {
        self.export_dynamic_func_in(self.main_instance(), name)
    }

    /// Looks up a function exported by `instance`, an instance of this
    /// guest's store; see [`export_dynamic_func`](Self::export_dynamic_func).
    ///
    /// # Errors
    ///
    /// [`Error::ForeignHandle`] if `instance` belongs to another guest; then
    /// those of [`export_dynamic_func`](Self::export_dynamic_func).
    pub fn export_dynamic_func_in(
        &self,
        instance: GuestInstance,
        name: &str,
    ) -> Result<DynamicFunc> {
        let instance = self.own_instance(instance, name)?;
        match instance.get_export(&self.store, name) {
            Some(Extern::Func(func)) => Ok(DynamicFunc {
                func,
                ty: FuncType::from_wasmi(&func.ty(&self.store)),
                name: Box::from(name),
                guest: self.id,
            }),
            other => Err(export_error(name, "function", other)),
        }
    }
}
