//! Fuzz target `smith`: valid modules from wasm-smith, built to reach what
//! issue 10 found by hand (memory64 with maxima up to 2^48 pages and
//! beyond, several memories, large offsets, huge tables), with every
//! function import given as a dynamic host function that panics, re-enters
//! the guest through the raw wasmi caller, or does nothing; every export
//! called with arbitrary arguments under fuel (plainly and with
//! `call_until`), the start function run with `instantiate_until`, and
//! host grows of every exported memory by arbitrary amounts.
//!
//! Nothing may abort, panic out of linmem or hang: a host function's panic
//! must come back as `Error::HostPanic`, re-entry must stop at
//! `Limits::max_host_call_depth`, and every loop at the fuel budget.
//!
//! Run: `nice -n 19 cargo +nightly fuzz run smith -- -max_total_time=1800`
//!
//! To turn a crash into a fixture, replay it with `LINMEM_FUZZ_DUMP=path`
//! set: the module's wasm bytes are written there.
#![no_main]

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use linmem::wasmi::{Extern, Func, Val, ValType};
use linmem::{Deadline, Error, ExternType, FuncType, HostContext, Limits, Module, Value};
use std::sync::Once;

/// The text of every deliberate panic, told apart by the panic hook.
const DELIBERATE: &str = "linmem-fuzz: deliberate host panic";

/// libfuzzer-sys's panic hook aborts on every panic, before unwinding: keep
/// it for the panics that matter, skip the deliberate ones (which linmem
/// catches) and the translator's (which linmem catches at compile time and
/// reports as `Error::TranslatorPanic`; an uncaught one still aborts when
/// it reaches wasmi's non-unwinding frames or the fuzz harness).
fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let fuzzer_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let text = info
                .payload()
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| info.payload().downcast_ref::<String>().map(String::as_str))
                .unwrap_or("");
            if text.contains(DELIBERATE) {
                return;
            }
            let translator = info
                .location()
                .is_some_and(|at| at.file().contains("wasmi") && at.file().contains("translator"));
            if translator {
                eprintln!("caught translator panic: {info}");
                return;
            }
            fuzzer_hook(info);
        }));
    });
}

fn smith(u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
    let config = wasm_smith::Config {
        max_imports: 8,
        min_memories: 1,
        max_memories: 4,
        memory64_enabled: true,
        // Maxima up to 2^64 bytes: 2^48 pages and just below.
        max_memory32_bytes: u64::from(u32::MAX) + 1,
        max_memory64_bytes: u128::from(u64::MAX) + 1,
        max_tables: 2,
        max_table_elements: 1_000_000,
        max_funcs: 20,
        max_instructions: 200,
        export_everything: true,
        simd_enabled: false,
        relaxed_simd_enabled: false,
        threads_enabled: false,
        gc_enabled: false,
        exceptions_enabled: false,
        wide_arithmetic_enabled: false,
        // wasmi 2.0 (wasmparser 0.228) predates the compact import section.
        compact_imports_enabled: false,
        custom_page_sizes_enabled: false,
        ..wasm_smith::Config::default()
    };
    Ok(wasm_smith::Module::new(config, u)?.to_bytes())
}

/// The host data: the guest's exported function names, for `reenter`.
type Exports = Vec<String>;

/// A host function that calls one of the guest's exports (picked by its
/// first argument) through the raw wasmi caller: unbounded re-entry when
/// that export calls back.
fn reenter(
    mut cx: HostContext<'_, Exports>,
    args: &[Value],
    _: &mut [Value],
) -> linmem::Result<()> {
    let names = cx.data();
    if names.is_empty() {
        return Ok(());
    }
    let pick = match args.first() {
        Some(Value::I32(v)) => usize::try_from(v.unsigned_abs()).unwrap_or(0),
        Some(Value::I64(v)) => usize::try_from(v.unsigned_abs()).unwrap_or(0),
        _ => 0,
    };
    let name = names[pick % names.len()].clone();
    let caller = cx.as_wasmi_caller();
    let Some(Extern::Func(func)) = caller.get_export(&name) else {
        return Ok(());
    };
    let ty = func.ty(&*caller);
    let params: Vec<Val> = ty
        .params()
        .iter()
        .map(|t| Val::default_for_ty(*t))
        .collect();
    let mut results: Vec<Val> = ty
        .results()
        .iter()
        .map(|t| Val::default_for_ty(*t))
        .collect();
    match func.call(&mut *caller, &params, &mut results) {
        // Pass linmem's own errors (re-entry limit, panics) up.
        Err(error) if error.downcast_ref::<Error>().is_some() => {
            Err(Error::custom(std::io::Error::other(error.to_string())))
        }
        _ => Ok(()),
    }
}

fn arbitrary_val(u: &mut Unstructured<'_>, ty: ValType) -> Result<Val> {
    Ok(match ty {
        ValType::I32 => Val::I32(u.arbitrary()?),
        ValType::I64 => Val::I64(u.arbitrary()?),
        ValType::F32 => Val::F32(f32::from_bits(u.arbitrary()?).into()),
        ValType::F64 => Val::F64(f64::from_bits(u.arbitrary()?).into()),
        other => Val::default_for_ty(other),
    })
}

fn run(data: &[u8]) -> Result<()> {
    let mut u = Unstructured::new(data);
    let wasm = smith(&mut u)?;
    if let Ok(path) = std::env::var("LINMEM_FUZZ_DUMP") {
        std::fs::write(path, &wasm).expect("LINMEM_FUZZ_DUMP is writable");
    }
    let module = match Module::with_engine(&linmem::metered_engine(), &wasm) {
        Ok(module) => module,
        // A proposal wasmi does not implement: not a finding.
        Err(Error::Compile { .. }) => return Ok(()),
        Err(_) => return Ok(()), // refused or translator panic: contained
    };
    let exports: Exports = module
        .as_wasmi()
        .exports()
        .filter(|e| e.ty().func().is_some())
        .map(|e| e.name().to_owned())
        .collect();
    let depth: u32 = u.int_in_range(0..=12)?;
    let limits = Limits::new()
        .max_memory_bytes(16 << 20)
        .max_store_memory_bytes(32 << 20)
        .max_table_elements(100_000)
        .max_host_call_depth(depth)
        .fuel(300_000);
    let mut builder = module.guest_with(exports.clone()).limits(limits);
    // Every function import is a host function that, by its index, panics
    // (when its first argument is odd, or always without arguments),
    // re-enters the guest through the raw wasmi caller, or does nothing.
    // Imports of other kinds stay missing (instantiation then fails).
    let imports: Vec<(String, String, FuncType)> = module
        .imports()
        .filter_map(|import| match import.ty() {
            ExternType::Func(ty) => Some((
                import.module().to_owned(),
                import.name().to_owned(),
                ty.clone(),
            )),
            _ => None,
        })
        .collect();
    for (index, (module_name, name, ty)) in imports.into_iter().enumerate() {
        let defined = match index % 3 {
            0 => builder.host_func_dynamic(&module_name, &name, ty, |_, args: &[Value], _| {
                let odd = match args.first() {
                    Some(Value::I32(v)) => v & 1 == 1,
                    Some(Value::I64(v)) => v & 1 == 1,
                    Some(_) => false,
                    None => true,
                };
                if odd {
                    panic!("{DELIBERATE}");
                }
                Ok(())
            }),
            1 => builder.host_func_dynamic(&module_name, &name, ty, reenter),
            _ => builder.host_func_dynamic(&module_name, &name, ty, |_, _, _| Ok(())),
        };
        builder = match defined {
            Ok(builder) => builder,
            Err(_) => return Ok(()),
        };
    }
    let builder: linmem::Result<_> = Ok(builder);
    let Ok(builder) = builder else {
        return Ok(());
    };
    let memory = module
        .as_wasmi()
        .exports()
        .find(|e| e.ty().memory().is_some())
        .map_or_else(|| "memory".to_owned(), |e| e.name().to_owned());
    let slice = u.int_in_range(1..=5_000)?;
    let Ok(mut guest) = builder
        .default_memory(&memory)
        .instantiate_until(&Deadline::none().fuel_slice(slice))
    else {
        return Ok(());
    };
    let funcs: Vec<Func> = guest
        .as_wasmi_instance()
        .exports(guest.as_wasmi_store())
        .filter_map(|e| e.into_func())
        .collect();
    for func in funcs {
        let ty = func.ty(guest.as_wasmi_store());
        let mut params = Vec::new();
        for t in ty.params() {
            params.push(arbitrary_val(&mut u, *t)?);
        }
        let mut results: Vec<Val> = ty
            .results()
            .iter()
            .map(|t| Val::default_for_ty(*t))
            .collect();
        let _ = func.call(guest.as_wasmi_store_mut(), &params, &mut results);
        let _ = guest.set_fuel(300_000);
    }
    for name in exports {
        let _ = guest.call_until::<(), ()>(&name, (), &Deadline::none().fuel_slice(slice));
        let _ = guest.set_fuel(300_000);
    }
    // Host grows of every memory, by arbitrary amounts.
    let memories: Vec<String> = module
        .as_wasmi()
        .exports()
        .filter(|e| e.ty().memory().is_some())
        .map(|e| e.name().to_owned())
        .collect();
    for name in memories {
        if let Ok(handle) = guest.export_memory(&name) {
            let pages: u64 = u.arbitrary()?;
            let _ = guest.grow_memory(handle, pages);
            let _ = guest.grow_memory(handle, pages & 0xff);
            let view = guest.view_of(handle).expect("own handle");
            assert!(
                view.len() <= 16 << 20,
                "limit not enforced: {} bytes",
                view.len()
            );
        }
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    install_hook();
    let _ = run(data);
});
