//! The linmem backend: every script through linmem's public API only.
//!
//! One [`Guest`] per script, built from an empty root module with the
//! `spectest` imports defined on its [`GuestBuilder`](linmem::GuestBuilder)
//! (host functions, globals, table and memory); every module of the script
//! is added to it with [`Guest::add_instance`], `register` is
//! [`Guest::register`], calls are dynamic ([`Guest::export_dynamic_func_in`])
//! and globals are read with [`Guest::export_global_in`].
//!
//! The memory cross-check: after each command, every memory the current
//! instance exports (and the spectest memory) is read through linmem's view
//! and by the guest's own loads, at a sample of addresses and widths; both
//! must agree, out-of-bounds included (an `OutOfBounds` error for the view,
//! a `MemoryOutOfBounds` trap for the load). The loads run in a small probe
//! module, compiled per memory and added to the same guest, that imports
//! the memory (through `register`) and exports one load per width.

use crate::script::{Backend, Failure};
use crate::value::Value as V;
use linmem::{
    Engine, Error, Guest, GuestFunc, GuestInstance, GuestMemory, HostContext, IndexType, Module,
    TrapCode, Value, ValueType,
};

/// One instance of the script, with what the memory cross-check needs.
#[derive(Clone)]
pub struct Instance {
    instance: GuestInstance,
    index: usize,
}

/// The loads of one probe module.
struct Probe {
    memory: GuestMemory,
    is_64: bool,
    load8: ProbeFunc<i32>,
    load16: ProbeFunc<i32>,
    load32: ProbeFunc<i32>,
    load64: ProbeFunc<i64>,
}

/// A probe load: an `i32` or an `i64` address.
enum ProbeFunc<R: linmem::wasmi::WasmRet> {
    Addr32(GuestFunc<i32, R>),
    Addr64(GuestFunc<i64, R>),
}

impl<R: linmem::wasmi::WasmRet + linmem::wasmi::WasmResults> ProbeFunc<R> {
    fn load(&self, guest: &mut Guest, addr: u64) -> linmem::Result<R> {
        match self {
            // A 32-bit address is passed as the guest would pass a `u32`.
            Self::Addr32(func) => {
                let addr =
                    u32::try_from(addr).map_err(|_| Error::TooLargeForI32 { value: addr })?;
                func.call(guest, addr.cast_signed())
            }
            Self::Addr64(func) => func.call(guest, addr.cast_signed()),
        }
    }
}

pub struct LinmemBackend {
    engine: Engine,
    guest: Guest,
    /// Per instance of the script: its exported memories (name, 64-bit),
    /// from [`Module::exports`].
    memories: Vec<Vec<(String, bool)>>,
    /// Per instance: its exported memories' probes, made on first use.
    probes: Vec<Option<Vec<Probe>>>,
    /// The spectest memory's probe, made when a module imports that memory.
    spectest_probe: Option<Probe>,
}

impl LinmemBackend {
    pub fn new(config: &linmem::wasmi::Config) -> Self {
        let engine = Engine::new(config);
        let guest = spectest_guest(&engine).expect("the spectest guest instantiates");
        Self {
            engine,
            guest,
            memories: Vec::new(),
            probes: Vec::new(),
            spectest_probe: None,
        }
    }

    /// Compiles a probe importing `module`.`name`, a memory with the page
    /// size of `memory`, and adds it to the guest.
    ///
    /// The page size is the view's, and if the import is refused the other
    /// one the custom-page-sizes proposal allows: a memory of 0 pages
    /// reports 65 536 even when declared with `(pagesize 1)`, because
    /// wasmi 2.0 keeps a memory type's page size private (see
    /// docs/SPEC_TESTS.md).
    fn probe(
        &mut self,
        module: &str,
        name: &str,
        memory: GuestMemory,
        is_64: bool,
    ) -> Result<Probe, String> {
        let view = self.guest.view_of(memory).map_err(|e| e.to_string())?;
        let (reported, pages) = (view.page_size(), view.pages());
        let mut last_error = String::new();
        for page_size in [reported, if reported == 1 { 65_536 } else { 1 }] {
            match self.probe_with_page_size(module, name, memory, is_64, page_size) {
                Ok(probe) => {
                    if page_size != reported && pages > 0 {
                        return Err(format!(
                            "the view reports pages of {reported} bytes, the memory has pages of {page_size}"
                        ));
                    }
                    return Ok(probe);
                }
                Err(error) => last_error = error,
            }
        }
        Err(last_error)
    }

    fn probe_with_page_size(
        &mut self,
        module: &str,
        name: &str,
        memory: GuestMemory,
        is_64: bool,
        page_size: u32,
    ) -> Result<Probe, String> {
        let (index, addr) = if is_64 { ("i64 ", "i64") } else { ("", "i32") };
        let page = if page_size == 65_536 {
            String::new()
        } else {
            format!(" (pagesize {page_size})")
        };
        let wat = format!(
            r#"(module (import {module:?} {name:?} (memory {index}0{page}))
                (func (export "load8") (param {addr}) (result i32) (i32.load8_u (local.get 0)))
                (func (export "load16") (param {addr}) (result i32) (i32.load16_u (local.get 0)))
                (func (export "load32") (param {addr}) (result i32) (i32.load (local.get 0)))
                (func (export "load64") (param {addr}) (result i64) (i64.load (local.get 0))))"#
        );
        let wasm = wat::parse_str(&wat).map_err(|e| e.to_string())?;
        let module = Module::from_binary(&self.engine, &wasm).map_err(|e| format!("{e:?}"))?;
        let instance = self
            .guest
            .add_instance(&module)
            .map_err(|e| format!("{e:?}"))?;
        let guest = &self.guest;
        macro_rules! func {
            ($name:literal) => {
                if is_64 {
                    ProbeFunc::Addr64(
                        guest
                            .export_func_in(instance, $name)
                            .map_err(|e| e.to_string())?,
                    )
                } else {
                    ProbeFunc::Addr32(
                        guest
                            .export_func_in(instance, $name)
                            .map_err(|e| e.to_string())?,
                    )
                }
            };
        }
        Ok(Probe {
            memory,
            is_64,
            load8: func!("load8"),
            load16: func!("load16"),
            load32: func!("load32"),
            load64: func!("load64"),
        })
    }

    /// The probes of `instance`'s exported memories.
    fn probes_of(&mut self, instance: &Instance) -> Result<(), String> {
        if self.probes[instance.index].is_some() {
            return Ok(());
        }
        let memories = self.memories[instance.index].clone();
        // Made once, even when a probe fails (the failure is reported once).
        self.probes[instance.index] = Some(Vec::new());
        if memories.is_empty() {
            return Ok(());
        }
        let module = format!("linmem-probe-{}", instance.index);
        self.guest
            .register(&module, instance.instance)
            .map_err(|e| format!("register for the probe: {e:?}"))?;
        let mut probes = Vec::new();
        let mut result = Ok(());
        for (name, is_64) in memories {
            let probe = self
                .guest
                .export_memory_in(instance.instance, &name)
                .map_err(|e| e.to_string())
                .and_then(|memory| self.probe(&module, &name, memory, is_64));
            match probe {
                Ok(probe) => probes.push(probe),
                Err(error) => result = Err(format!("probe of memory {name:?}: {error}")),
            }
        }
        self.probes[instance.index] = Some(probes);
        result
    }

    fn wasm_value(&mut self, value: &V) -> Value {
        match *value {
            V::I32(v) => Value::I32(v),
            V::I64(v) => Value::I64(v),
            V::F32(bits) => Value::F32(f32::from_bits(bits)),
            V::F64(bits) => Value::F64(f64::from_bits(bits)),
            V::FuncRef(_) => Value::FuncRef(None),
            V::ExternRef(None) => Value::ExternRef(None),
            V::ExternRef(Some(n)) => Value::ExternRef(Some(self.guest.extern_ref(n))),
        }
    }

    fn harness_value(&self, value: &Value) -> Result<V, Failure> {
        Ok(match value {
            Value::I32(v) => V::I32(*v),
            Value::I64(v) => V::I64(*v),
            Value::F32(v) => V::F32(v.to_bits()),
            Value::F64(v) => V::F64(v.to_bits()),
            Value::FuncRef(r) => V::FuncRef(r.is_some()),
            Value::ExternRef(None) => V::ExternRef(None),
            Value::ExternRef(Some(r)) => {
                let data = self
                    .guest
                    .extern_ref_data(*r)
                    .map_err(|e| Failure::Other(e.to_string()))?;
                let n = data
                    .downcast_ref::<u32>()
                    .ok_or_else(|| Failure::Other("externref of a foreign type".into()))?;
                V::ExternRef(Some(*n))
            }
            other => return Err(Failure::Other(format!("unexpected value {other:?}"))),
        })
    }
}

/// The root guest: an empty module, with the `spectest` module of the
/// reference interpreter defined on the builder.
fn spectest_guest(engine: &Engine) -> linmem::Result<Guest> {
    let root = Module::from_binary(engine, b"\0asm\x01\0\0\0")?;
    let builder = root
        .guest()
        .host_func("spectest", "print", |_: HostContext<'_, ()>| Ok(()))?
        .host_func("spectest", "print_i32", |_: HostContext<'_, ()>, _: i32| {
            Ok(())
        })?
        .host_func("spectest", "print_i64", |_: HostContext<'_, ()>, _: i64| {
            Ok(())
        })?
        .host_func("spectest", "print_f32", |_: HostContext<'_, ()>, _: f32| {
            Ok(())
        })?
        .host_func("spectest", "print_f64", |_: HostContext<'_, ()>, _: f64| {
            Ok(())
        })?
        .host_func(
            "spectest",
            "print_i32_f32",
            |_: HostContext<'_, ()>, _: i32, _: f32| Ok(()),
        )?
        .host_func(
            "spectest",
            "print_f64_f64",
            |_: HostContext<'_, ()>, _: f64, _: f64| Ok(()),
        )?
        .host_global("spectest", "global_i32", Value::I32(666), false)?
        .host_global("spectest", "global_i64", Value::I64(666), false)?
        .host_global("spectest", "global_f32", Value::F32(666.6), false)?
        .host_global("spectest", "global_f64", Value::F64(666.6), false)?
        .host_table("spectest", "table", ValueType::FuncRef, 10, Some(20))?
        .host_memory("spectest", "memory", 1, Some(2))?;
    builder.instantiate()
}

/// Sorts linmem's errors into the harness's failures, as
/// [`raw::failure`](crate::raw::failure) sorts wasmi's.
fn failure(error: Error) -> Failure {
    match error {
        Error::Trap { code, .. } => Failure::Trap(code),
        Error::MissingImport { .. } | Error::ImportMismatch { .. } => {
            Failure::Link(error.to_string())
        }
        Error::Instantiate { error } => match crate::raw::failure(&error) {
            Failure::Other(message) => Failure::Other(message),
            other => other,
        },
        other => Failure::Other(format!("{other}: {other:?}")),
    }
}

impl Backend for LinmemBackend {
    type Instance = Instance;

    fn compile(&mut self, wasm: &[u8]) -> Result<(), String> {
        Module::from_binary(&self.engine, wasm)
            .map(|_| ())
            .map_err(|error| error.to_string())
    }

    fn instantiate(&mut self, wasm: &[u8]) -> Result<Instance, Failure> {
        let mut module = Module::from_binary(&self.engine, wasm)
            .map_err(|error| Failure::Other(format!("{error:?}")))?;
        // Export every memory, for the cross-check to see it.
        let imported = module
            .imports()
            .filter(|import| import.ty().memory().is_some())
            .count();
        let imported = u32::try_from(imported).unwrap_or(0);
        if let Some(rewritten) = crate::exports::export_all_memories(wasm, imported) {
            module = Module::from_binary(&self.engine, &rewritten).map_err(|error| {
                Failure::Other(format!("the module with its memories exported: {error:?}"))
            })?;
        }
        let imports_spectest_memory = module
            .imports()
            .any(|import| import.module() == "spectest" && import.name() == "memory");
        if imports_spectest_memory && self.spectest_probe.is_none() {
            let memory = self.guest.default_memory().map_err(failure)?;
            let probe = self.probe("spectest", "memory", memory, false);
            self.spectest_probe = Some(probe.map_err(Failure::Other)?);
        }
        let instance = self.guest.add_instance(&module).map_err(failure)?;
        let memories = module
            .exports()
            .filter_map(|export| {
                let memory = export.ty().memory()?;
                // Each memory once, under the name the rewrite gave it.
                if !export.name().starts_with("linmem-memory-") {
                    return None;
                }
                Some((export.name().to_owned(), memory.index == IndexType::I64))
            })
            .collect();
        self.memories.push(memories);
        self.probes.push(None);
        Ok(Instance {
            instance,
            index: self.probes.len() - 1,
        })
    }

    fn register(&mut self, name: &str, instance: &Instance) -> Result<(), String> {
        self.guest
            .register(name, instance.instance)
            .map_err(|error| format!("{error:?}"))
    }

    fn invoke(&mut self, instance: &Instance, name: &str, args: &[V]) -> Result<Vec<V>, Failure> {
        let func = self
            .guest
            .export_dynamic_func_in(instance.instance, name)
            .map_err(|error| Failure::Other(error.to_string()))?;
        let params: Vec<Value> = args.iter().map(|arg| self.wasm_value(arg)).collect();
        let results = func.call(&mut self.guest, &params).map_err(failure)?;
        results
            .iter()
            .map(|value| self.harness_value(value))
            .collect()
    }

    fn global(&mut self, instance: &Instance, name: &str) -> Result<V, Failure> {
        let global = self
            .guest
            .export_global_in(instance.instance, name)
            .map_err(|error| Failure::Other(error.to_string()))?;
        let value = global.get(&self.guest).map_err(failure)?;
        self.harness_value(&value)
    }

    fn check_memory(&mut self, instance: &Instance) -> Result<u64, String> {
        self.probes_of(instance)?;
        let mut reads = 0;
        // The probes are taken out while they borrow the guest mutably.
        let probes = self.probes[instance.index].take().unwrap_or_default();
        let spectest = self.spectest_probe.take();
        let result = probes
            .iter()
            .chain(spectest.as_ref())
            .try_for_each(|probe| {
                reads += cross_check(&mut self.guest, probe)?;
                Ok::<(), String>(())
            });
        self.probes[instance.index] = Some(probes);
        self.spectest_probe = spectest;
        result.map(|()| reads)
    }
}

/// Compares the view of `probe`'s memory with the guest's own loads at a
/// sample of addresses (the first bytes, the last bytes, just past the end,
/// a spread over the memory, and for 64-bit memories addresses past 2^32
/// and near 2^64) and every width; returns the number of reads compared.
fn cross_check(guest: &mut Guest, probe: &Probe) -> Result<u64, String> {
    let len = guest
        .view_of(probe.memory)
        .map_err(|e| e.to_string())?
        .len();
    let mut addrs: Vec<u64> = (0..4).collect();
    addrs.extend((1..=9).filter_map(|back| len.checked_sub(back)));
    addrs.extend([len, len + 1]);
    addrs.extend((1..8).map(|i| len / 8 * i + i));
    if probe.is_64 {
        addrs.extend([1 << 32, u64::MAX - 3, u64::MAX]);
    } else {
        addrs.push(u64::from(u32::MAX) - 3);
    }
    let mut reads = 0;
    for addr in addrs {
        let view = guest.view_of(probe.memory).map_err(|e| e.to_string())?;
        let host: [linmem::Result<u64>; 4] = [
            view.read::<u8>(addr).map(u64::from),
            view.read::<u16>(addr).map(u64::from),
            view.read::<u32>(addr).map(u64::from),
            view.read::<u64>(addr),
        ];
        let loads: [linmem::Result<u64>; 4] = [
            probe
                .load8
                .load(guest, addr)
                .map(|v| u64::from(v.cast_unsigned())),
            probe
                .load16
                .load(guest, addr)
                .map(|v| u64::from(v.cast_unsigned())),
            probe
                .load32
                .load(guest, addr)
                .map(|v| u64::from(v.cast_unsigned())),
            probe.load64.load(guest, addr).map(i64::cast_unsigned),
        ];
        for (width, (host, load)) in [1, 2, 4, 8].into_iter().zip(host.into_iter().zip(loads)) {
            reads += 1;
            match (host, load) {
                (Ok(host), Ok(load)) if host == load => {}
                (
                    Err(Error::OutOfBounds { .. }),
                    Err(Error::Trap {
                        code: TrapCode::MemoryOutOfBounds,
                        ..
                    }),
                ) => {}
                (host, load) => {
                    return Err(format!(
                        "{width} bytes at {addr} of a memory of {len} bytes: the view gives {host:?}, the guest's load {load:?}"
                    ));
                }
            }
        }
    }
    Ok(reads)
}
