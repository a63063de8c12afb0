//! The baseline: the same scripts on wasmi directly, as a wasmi embedder
//! would write it, without linmem.

use crate::script::{Backend, Failure};
use crate::value::Value;
use wasmi::errors::ErrorKind;
use wasmi::{
    Engine, ExternRef, Func, Global, Instance, Linker, Memory, MemoryType, Module, Mutability,
    Nullable, Ref, RefType, Store, Table, TableType, Val,
};

/// One script's wasmi engine, store and linker.
pub struct RawWasmi {
    engine: Engine,
    store: Store<()>,
    linker: Linker<()>,
}

impl RawWasmi {
    pub fn new(config: &wasmi::Config) -> Self {
        let engine = Engine::new(config);
        let mut store = Store::new(&engine, ());
        let mut linker = Linker::new(&engine);
        linker.allow_shadowing(true);
        define_spectest(&mut store, &mut linker);
        Self {
            engine,
            store,
            linker,
        }
    }

    fn wasm_value(&mut self, value: &Value) -> Val {
        match *value {
            Value::I32(v) => Val::I32(v),
            Value::I64(v) => Val::I64(v),
            Value::F32(bits) => Val::F32(wasmi::F32::from_bits(bits)),
            Value::F64(bits) => Val::F64(wasmi::F64::from_bits(bits)),
            Value::FuncRef(_) => Val::FuncRef(Nullable::Null),
            Value::ExternRef(None) => Val::ExternRef(Nullable::Null),
            Value::ExternRef(Some(n)) => {
                Val::ExternRef(Nullable::Val(ExternRef::new(&mut self.store, n)))
            }
        }
    }

    fn harness_value(&self, val: &Val) -> Result<Value, Failure> {
        Ok(match val {
            Val::I32(v) => Value::I32(*v),
            Val::I64(v) => Value::I64(*v),
            Val::F32(v) => Value::F32(v.to_bits()),
            Val::F64(v) => Value::F64(v.to_bits()),
            Val::FuncRef(func) => Value::FuncRef(!func.is_null()),
            Val::ExternRef(Nullable::Null) => Value::ExternRef(None),
            Val::ExternRef(Nullable::Val(extern_ref)) => {
                let n = extern_ref
                    .data(&self.store)
                    .downcast_ref::<u32>()
                    .ok_or_else(|| Failure::Other("externref of a foreign type".into()))?;
                Value::ExternRef(Some(*n))
            }
            Val::V128(_) => return Err(Failure::Other("v128 result".into())),
        })
    }
}

/// The `spectest` module of the reference interpreter.
fn define_spectest(store: &mut Store<()>, linker: &mut Linker<()>) {
    let ok = "spectest definitions are valid";
    linker.func_wrap("spectest", "print", || {}).expect(ok);
    linker
        .func_wrap("spectest", "print_i32", |_: i32| {})
        .expect(ok);
    linker
        .func_wrap("spectest", "print_i64", |_: i64| {})
        .expect(ok);
    linker
        .func_wrap("spectest", "print_f32", |_: f32| {})
        .expect(ok);
    linker
        .func_wrap("spectest", "print_f64", |_: f64| {})
        .expect(ok);
    linker
        .func_wrap("spectest", "print_i32_f32", |_: i32, _: f32| {})
        .expect(ok);
    linker
        .func_wrap("spectest", "print_f64_f64", |_: f64, _: f64| {})
        .expect(ok);
    let globals = [
        ("global_i32", Val::I32(666)),
        ("global_i64", Val::I64(666)),
        ("global_f32", Val::F32(666.6f32.into())),
        ("global_f64", Val::F64(666.6f64.into())),
    ];
    for (name, value) in globals {
        let global = Global::new(&mut *store, value, Mutability::Const);
        linker.define("spectest", name, global).expect(ok);
    }
    let table = Table::new(
        &mut *store,
        TableType::new(RefType::Func, 10, Some(20)),
        Ref::Func(Nullable::Null),
    )
    .expect(ok);
    linker.define("spectest", "table", table).expect(ok);
    let memory = Memory::new(&mut *store, MemoryType::new(1, Some(2))).expect(ok);
    linker.define("spectest", "memory", memory).expect(ok);
}

/// Sorts a wasmi error into the harness's failures.
pub fn failure(error: &wasmi::Error) -> Failure {
    if let Some(code) = error.as_trap_code() {
        return Failure::Trap(code);
    }
    match error.kind() {
        ErrorKind::Linker(_) => Failure::Link(error.to_string()),
        ErrorKind::Instantiation(_) => Failure::Link(error.to_string()),
        _ => Failure::Other(error.to_string()),
    }
}

impl Backend for RawWasmi {
    type Instance = Instance;

    fn compile(&mut self, wasm: &[u8]) -> Result<(), String> {
        Module::new(&self.engine, wasm)
            .map(|_| ())
            .map_err(|error| error.to_string())
    }

    fn instantiate(&mut self, wasm: &[u8]) -> Result<Instance, Failure> {
        let module =
            Module::new(&self.engine, wasm).map_err(|error| Failure::Other(error.to_string()))?;
        self.linker
            .instantiate_and_start(&mut self.store, &module)
            .map_err(|error| failure(&error))
    }

    fn register(&mut self, name: &str, instance: &Instance) -> Result<(), String> {
        self.linker
            .instance(&mut self.store, name, *instance)
            .map(|_| ())
            .map_err(|error| error.to_string())
    }

    fn invoke(
        &mut self,
        instance: &Instance,
        name: &str,
        args: &[Value],
    ) -> Result<Vec<Value>, Failure> {
        let func: Func = instance
            .get_func(&self.store, name)
            .ok_or_else(|| Failure::Other(format!("no function export {name:?}")))?;
        let ty = func.ty(&self.store);
        let params: Vec<Val> = args.iter().map(|arg| self.wasm_value(arg)).collect();
        let mut results: Vec<Val> = ty
            .results()
            .iter()
            .map(|ty| Val::default_for_ty(*ty))
            .collect();
        func.call(&mut self.store, &params, &mut results)
            .map_err(|error| failure(&error))?;
        results.iter().map(|val| self.harness_value(val)).collect()
    }

    fn global(&mut self, instance: &Instance, name: &str) -> Result<Value, Failure> {
        let global = instance
            .get_global(&self.store, name)
            .ok_or_else(|| Failure::Other(format!("no global export {name:?}")))?;
        let value = global.get(&self.store);
        self.harness_value(&value)
    }
}
