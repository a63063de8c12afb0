//! Host items whose types the host decides at run time: functions of any
//! signature, globals and tables.

use crate::dynamic::types::{FuncType, ValueType};
use crate::dynamic::value::Value;
use crate::error::{Error, Result};
use crate::host::context::HostContext;
use crate::host::func::guarded;
use crate::lifecycle::builder::GuestBuilder;
use crate::lifecycle::guest::GuestState;
use alloc::boxed::Box;
use alloc::vec::Vec;
use wasmi::{Caller, Global, Mutability, Ref, Table, Val};

impl<T: 'static> GuestBuilder<'_, T> {
    /// Gives the guest a host function of type `ty`, decided at run time,
    /// to import as `module`.`name`: the closure gets the arguments as
    /// [`Value`]s and fills one result slot per result type.
    ///
    /// ```
    /// # fn main() -> linmem::Result<()> {
    /// use linmem::{FuncType, HostContext, Value, ValueType};
    /// let module = linmem::Module::new(r#"(module
    ///     (import "env" "sum" (func $sum (param i64 i64) (result i64)))
    ///     (func (export "run") (result i64) (call $sum (i64.const 40) (i64.const 2))))"#)?;
    /// let ty = FuncType::new([ValueType::I64, ValueType::I64], [ValueType::I64]);
    /// let mut guest = module
    ///     .guest()
    ///     .host_func_dynamic("env", "sum", ty, |_: HostContext<'_, ()>, args: &[Value], results: &mut [Value]| {
    ///         let total = args.iter().filter_map(Value::i64).sum::<i64>();
    ///         results[0] = Value::I64(total);
    ///         Ok(())
    ///     })?
    ///     .instantiate()?;
    /// assert_eq!(guest.call::<(), i64>("run", ())?, 42);
    /// # Ok(()) }
    /// ```
    ///
    /// A result slot left with a value of another type, or a reference of
    /// another guest, fails the guest's call with [`Error::HostFunc`]
    /// wrapping [`Error::HostResultMismatch`] or [`Error::ForeignHandle`].
    ///
    /// # Errors
    ///
    /// [`Error::Instantiate`] if `module`.`name` is already defined or `ty`
    /// has more parameters or results than wasmi allows.
    pub fn host_func_dynamic(
        mut self,
        module: &str,
        name: &str,
        ty: FuncType,
        func: impl Fn(HostContext<'_, T>, &[Value], &mut [Value]) -> Result<()> + Send + Sync + 'static,
    ) -> Result<Self> {
        let params = || ty.params().iter().map(|t| t.to_wasmi());
        let results = || ty.results().iter().map(|t| t.to_wasmi());
        wasmi_core::FuncType::new(params(), results()).map_err(|source| Error::Instantiate {
            error: wasmi::Error::new(alloc::format!("function type {ty}: {source}")),
        })?;
        let wasmi_ty = wasmi::FuncType::new(params(), results());
        let label: Box<str> = Box::from(name);
        let qualified: Box<str> = alloc::format!("{module}.{name}").into_boxed_str();
        self.as_wasmi_linker_mut()
            .func_new(
                module,
                name,
                wasmi_ty,
                move |caller: Caller<'_, GuestState<T>>, args: &[Val], out: &mut [Val]| {
                    // Contained like every host function: see `HostFunc`.
                    let cx = HostContext::enter(caller, &qualified).map_err(wasmi::Error::host)?;
                    guarded(&qualified, || {
                        call_dynamic_host(&func, &ty, &label, cx, args, out)
                    })
                    .map_err(wasmi::Error::host)
                },
            )
            .map_err(|source| Error::Instantiate {
                error: source.into(),
            })?;
        Ok(self)
    }

    /// Gives the guest a global of `value`'s type, mutable or not, to
    /// import as `module`.`name` (e.g. the spec tests' `spectest`.`global_i32`).
    ///
    /// # Errors
    ///
    /// [`Error::ForeignHandle`] if `value` is a non-null reference (a
    /// builder's guest has none yet); [`Error::Instantiate`] if
    /// `module`.`name` is already defined.
    pub fn host_global(
        mut self,
        module: &str,
        name: &str,
        value: Value,
        mutable: bool,
    ) -> Result<Self> {
        let guest = self.guest_id();
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
                error: source.into(),
            })?;
        Ok(self)
    }

    /// Gives the guest a table of `element` references (`funcref` or
    /// `externref`), `minimum` null elements at most `maximum`, to import as
    /// `module`.`name`.
    ///
    /// # Errors
    ///
    /// [`Error::Instantiate`] if `element` is not a reference type, the
    /// limits are invalid or `module`.`name` is already defined;
    /// [`Error::LimitExceeded`] if `minimum` passes the builder's
    /// [`limits`](Self::limits).
    pub fn host_table(
        mut self,
        module: &str,
        name: &str,
        element: ValueType,
        minimum: u32,
        maximum: Option<u32>,
    ) -> Result<Self> {
        let (ref_type, init) = match element {
            ValueType::FuncRef => (wasmi::RefType::Func, Ref::Func(wasmi::Nullable::Null)),
            ValueType::ExternRef => (wasmi::RefType::Extern, Ref::Extern(wasmi::Nullable::Null)),
            _ => {
                return Err(Error::Instantiate {
                    error: wasmi::Error::new(alloc::format!(
                        "a table holds references, not {element}"
                    )),
                });
            }
        };
        if maximum.is_some_and(|maximum| maximum < minimum) {
            return Err(Error::Instantiate {
                error: wasmi::Error::new(alloc::format!(
                    "a table's minimum {minimum} is above its maximum"
                )),
            });
        }
        let ty = wasmi::TableType::new(ref_type, minimum, maximum);
        let table = self.create_item(|store| Table::new(store, ty, init))?;
        self.as_wasmi_linker_mut()
            .define(module, name, table)
            .map_err(|source| Error::Instantiate {
                error: source.into(),
            })?;
        Ok(self)
    }
}

/// Runs a dynamic host function: wasmi's values in, linmem's values out,
/// results checked against the function's type.
fn call_dynamic_host<T>(
    func: &impl Fn(HostContext<'_, T>, &[Value], &mut [Value]) -> Result<()>,
    ty: &FuncType,
    name: &str,
    cx: HostContext<'_, T>,
    args: &[Val],
    out: &mut [Val],
) -> Result<()> {
    let guest = cx.caller.data().guest_id();
    let args: Vec<Value> = args.iter().map(|v| Value::from_wasmi(v, guest)).collect();
    let mut results: Vec<Value> = ty
        .results()
        .iter()
        .map(|&t| Value::default_for(t))
        .collect();
    func(cx, &args, &mut results)?;
    if results.iter().zip(ty.results()).any(|(v, &t)| v.ty() != t) {
        return Err(Error::HostResultMismatch {
            func: Box::from(name),
            expected: ty.clone(),
            given: results.iter().map(Value::ty).collect(),
        });
    }
    for (slot, value) in out.iter_mut().zip(results) {
        *slot = value.to_wasmi(guest, name)?;
    }
    Ok(())
}
