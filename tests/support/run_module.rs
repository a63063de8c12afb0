//! What the `module` fuzz target (fuzz/fuzz_targets/module.rs) does with
//! each module, shared with tests/bad_modules.rs so that its findings
//! replay as ordinary tests: compile on a metering engine, instantiate
//! under tight limits and a fuel budget, call every exported function with
//! zero arguments (plainly, and as a `Deadline` call with a tiny fuel slice
//! for the nullary ones), and check that the guest still gives a
//! consistent view. Nothing may panic, and nothing wasmi's validator
//! refuses may compile.
#![allow(dead_code)]

use linmem::{Deadline, Guest, Limits, Module, Value};

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

/// Calls every exported function with default arguments, through
/// linmem's dynamic calls and its typed, resumable path.
fn call_all(module: &Module, guest: &mut Guest) -> usize {
    let funcs: Vec<(&str, Vec<Value>)> = module
        .exports()
        .filter_map(|export| {
            let params = export.ty().func()?.params().iter();
            Some((
                export.name(),
                params.map(|&ty| Value::default_for(ty)).collect(),
            ))
        })
        .collect();
    let deadline = Deadline::none().fuel_slice(97);
    for (name, params) in &funcs {
        let _ = guest.call_dynamic(name, params);
        let _ = guest.set_fuel(200_000);
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
    // linmem's rewrites (the start function moved to an export) must never
    // make valid what wasmi's validator refuses.
    if bytes.starts_with(b"\0asm") {
        assert!(
            linmem::wasmi::Module::validate(&engine, bytes).is_ok(),
            "linmem accepted a module wasmi's validator refuses"
        );
    }
    // Any module instantiates; its first memory export (or none) is the
    // default memory.
    let Ok(mut guest) = module.guest().limits(limits()).instantiate() else {
        return Reached::Instantiate;
    };
    let called = call_all(&module, &mut guest);
    let view = guest.view();
    assert_eq!(Ok(view.len()), u64::try_from(view.as_slice().len()));
    assert!(
        view.len() <= MEMORY_LIMIT,
        "limit not enforced: {} bytes",
        view.len()
    );
    Reached::Called(called)
}
