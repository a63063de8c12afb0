//! Snapshots of random valid modules (wasm-smith), checked differentially:
//! the guest that ran its start function and the guest instantiated from
//! its snapshot must hold the same state (every memory byte and every
//! mutable global, read through the instrumented exports of both) and
//! answer every export the same way (results, traps), with the state
//! compared again after each call.
//!
//! `SNAPSHOT_FUZZ_CASES=5000 cargo test --release -p linmem-dev --test snapshot_fuzz` runs
//! more cases than the default.

use arbitrary::Unstructured;
use linmem::wasmi::{Extern, Func, Val};
use linmem::{Error, Guest, Limits, Module, SnapshotError, Snapshotter};

const FUEL: u64 = 100_000;

fn config() -> wasm_smith::Config {
    // What wasmi (as linmem builds it) implements, minus imports: a module
    // whose start function needs the host is a test of the host. Every
    // module has a memory and exports its functions, so that each is
    // called on both guests.
    wasm_smith::Config {
        max_imports: 0,
        threads_enabled: false,
        exceptions_enabled: false,
        gc_enabled: false,
        simd_enabled: false,
        relaxed_simd_enabled: false,
        wide_arithmetic_enabled: false,
        custom_page_sizes_enabled: false,
        max_memories: 2,
        max_tables: 2,
        max_memory32_bytes: 4 * 65_536,
        max_memory64_bytes: 4 * 65_536,
        max_table_elements: 1000,
        max_funcs: 20,
        max_instructions: 200,
        allow_start_export: true,
        min_memories: 1,
        min_funcs: 2,
        export_everything: true,
        ..wasm_smith::Config::default()
    }
}

/// Bytes from a xorshift generator, one stream per case.
fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()[3]
        })
        .collect()
}

/// A value as the comparison sees it: references only by nullness (their
/// handles belong to each store).
fn describe(value: &Val) -> String {
    match value {
        Val::FuncRef(func) => format!("funcref null={}", func.is_null()),
        Val::ExternRef(extern_ref) => format!("externref null={}", extern_ref.is_null()),
        other => format!("{other:?}"),
    }
}

/// The state readable through the instrumentation's exports, by name.
fn state(guest: &Guest) -> Vec<(String, String)> {
    let mut state: Vec<(String, String)> = guest
        .as_wasmi_instance()
        .exports(guest.as_wasmi_store())
        .filter(|export| {
            let name = export.name();
            name.starts_with("__linmem_snapshot_global_")
                || name.starts_with("__linmem_snapshot_memory_")
        })
        .map(|export| {
            let name = export.name().to_owned();
            let value = match export.into_extern() {
                Extern::Global(global) => describe(&global.get(guest.as_wasmi_store())),
                Extern::Memory(memory) => {
                    let data = memory.data(guest.as_wasmi_store());
                    let hash = data.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
                        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
                    });
                    format!("{} bytes, fnv1a {hash:016x}", data.len())
                }
                _ => String::new(),
            };
            (name, value)
        })
        .collect();
    state.sort();
    state
}

/// Calls `func` with zeros, on fresh fuel; what happened, comparable.
fn call(guest: &mut Guest, func: Func) -> String {
    guest.as_wasmi_store_mut().set_fuel(FUEL).unwrap();
    let ty = func.ty(guest.as_wasmi_store());
    let params: Vec<Val> = ty
        .params()
        .iter()
        .map(|ty| Val::default_for_ty(*ty))
        .collect();
    let mut results: Vec<Val> = ty
        .results()
        .iter()
        .map(|ty| Val::default_for_ty(*ty))
        .collect();
    match func.call(guest.as_wasmi_store_mut(), &params, &mut results) {
        Ok(()) => results.iter().map(describe).collect::<Vec<_>>().join(","),
        Err(error) => format!("error {:?}", error.as_trap_code()),
    }
}

fn instantiate(module: &Module) -> Option<Guest> {
    // The views want a memory named `memory`; not every random module has one,
    // so the guest is built on the module's first memory export if any.
    let memory = module
        .as_wasmi()
        .exports()
        .find_map(|export| export.ty().memory().map(|_| export.name().to_owned()))?;
    module
        .guest()
        .limits(Limits::new().fuel(FUEL))
        .default_memory(&memory)
        .instantiate()
        .ok()
}

#[derive(Debug, Default)]
struct Tally {
    generated: u32,
    no_guest: u32,
    refused: u32,
    compared: u32,
    calls: u32,
}

fn one_case(seed: u64, tally: &mut Tally) {
    let bytes = random_bytes(seed, 4096);
    let Ok(module) = wasm_smith::Module::new(config(), &mut Unstructured::new(&bytes)) else {
        return;
    };
    tally.generated += 1;
    let wasm = module.to_bytes();
    let engine = linmem::metered_engine();
    let snapshotter = match Snapshotter::with_engine(&engine, &wasm) {
        Ok(snapshotter) => snapshotter,
        Err(Error::Compile { .. }) => return, // wasmi refuses it; nothing to snapshot
        Err(other) => panic!("seed {seed}: {other}"),
    };
    // A guest needs an exported memory (instrumented modules export every
    // memory, so only memory-less modules are skipped).
    let Some(mut initialised) = instantiate(snapshotter.module()) else {
        tally.no_guest += 1;
        return;
    };
    let snapshot = match snapshotter.snapshot(&initialised) {
        Ok(snapshot) => snapshot,
        Err(Error::Snapshot(
            SnapshotError::TableMutated | SnapshotError::ReferenceGlobal { .. },
        )) => {
            tally.refused += 1;
            return;
        }
        Err(other) => panic!("seed {seed}: {other}"),
    };
    // The snapshot, instrumented the same way, so that its state can be read.
    let again = Snapshotter::with_engine(&engine, snapshot.wasm())
        .unwrap_or_else(|e| panic!("seed {seed}: the snapshot does not load: {e}"));
    let mut restored = instantiate(again.module())
        .unwrap_or_else(|| panic!("seed {seed}: the snapshot does not instantiate"));
    assert_eq!(
        state(&initialised),
        state(&restored),
        "seed {seed}: after instantiation"
    );
    tally.compared += 1;
    let exports: Vec<String> = module_exports(&wasm);
    for name in exports {
        let func = |guest: &Guest| match guest
            .as_wasmi_instance()
            .get_export(guest.as_wasmi_store(), &name)
        {
            Some(Extern::Func(func)) => Some(func),
            _ => None,
        };
        let (Some(a), Some(b)) = (func(&initialised), func(&restored)) else {
            continue;
        };
        let first = call(&mut initialised, a);
        let second = call(&mut restored, b);
        assert_eq!(first, second, "seed {seed}: `{name}`");
        assert_eq!(
            state(&initialised),
            state(&restored),
            "seed {seed}: after `{name}`"
        );
        tally.calls += 1;
    }
}

fn module_exports(wasm: &[u8]) -> Vec<String> {
    let module = linmem::wasmi::Module::new(&linmem::metered_engine(), wasm).unwrap();
    module.exports().map(|e| e.name().to_owned()).collect()
}

#[test]
fn random_modules_snapshot_to_the_same_state_and_behaviour() {
    let cases: u64 = std::env::var("SNAPSHOT_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(300);
    let mut tally = Tally::default();
    for seed in 0..cases {
        one_case(seed, &mut tally);
    }
    eprintln!("{tally:?}");
    assert!(
        tally.compared >= u32::try_from(cases / 4).unwrap(),
        "{tally:?}"
    );
    assert!(tally.calls >= tally.compared, "{tally:?}");
}
