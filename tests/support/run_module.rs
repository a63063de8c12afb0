//! What the `module` fuzz target (fuzz/fuzz_targets/module.rs) does with
//! each module, shared with tests/bad_modules.rs so that its findings
//! replay as ordinary tests: compile on a metering engine, instantiate
//! under tight limits and a fuel budget, call every exported function with
//! zero arguments (plainly, and as a `Deadline` call with a tiny fuel slice
//! for the nullary ones), and check that the guest still gives a
//! consistent view. Nothing may panic.
#![allow(dead_code)]

use linmem::wasmi::{Func, Val};
use linmem::{Deadline, Guest, Limits, Module};

/// The per-memory limit the runner sets.
pub const MEMORY_LIMIT: u64 = 16 << 20;

/// How far a module got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reached {
    /// `Module::with_engine` refused it.
    Compile,
    /// Instantiation refused it.
    Instantiate,
    /// It ran; this many exported functions were called.
    Called(usize),
}

fn limits() -> Limits {
    Limits::new()
        .max_memory_bytes(MEMORY_LIMIT)
        .max_store_memory_bytes(24 << 20)
        .max_table_elements(10_000)
        .fuel(200_000)
}

fn call_all(guest: &mut Guest) -> usize {
    let funcs: Vec<(String, Func)> = guest
        .as_wasmi_instance()
        .exports(guest.as_wasmi_store())
        .filter_map(|export| {
            let name = export.name().to_owned();
            export.into_func().map(|f| (name, f))
        })
        .collect();
    let deadline = Deadline::none().fuel_slice(97);
    for (name, func) in &funcs {
        let ty = func.ty(guest.as_wasmi_store());
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
        let _ = func.call(guest.as_wasmi_store_mut(), &params, &mut results);
        let _ = guest.set_fuel(200_000);
        // The typed, resumable path.
        let _ = guest.call_until::<(), ()>(name, (), &deadline);
        let _ = guest.call_until::<(), i32>(name, (), &deadline);
        let _ = guest.set_fuel(200_000);
    }
    funcs.len()
}

/// Runs `bytes` (wasm or WAT) as the fuzz target does.
pub fn run(bytes: &[u8]) -> Reached {
    let engine = linmem::metered_engine();
    let Ok(module) = Module::with_engine(&engine, bytes) else {
        return Reached::Compile;
    };
    let memory = module
        .as_wasmi()
        .exports()
        .find(|e| e.ty().memory().is_some())
        .map_or_else(|| "memory".to_owned(), |e| e.name().to_owned());
    let Ok(mut guest) = module
        .guest()
        .default_memory(&memory)
        .limits(limits())
        .instantiate()
    else {
        return Reached::Instantiate;
    };
    let called = call_all(&mut guest);
    let view = guest.view();
    assert_eq!(view.len(), view.as_slice().len() as u64);
    assert!(
        view.len() <= MEMORY_LIMIT,
        "limit not enforced: {} bytes",
        view.len()
    );
    Reached::Called(called)
}
