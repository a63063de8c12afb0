//! Workload 5, startup: compiling a module and instantiating guests.
//!
//! `startup/compile/{eager,lazy_translation,lazy}`: `wasmi::Module::new` of
//! bench_loops.wat's bytes under each `wasmi::CompilationMode`
//! (`lazy_translation`, validate now and translate on first call, is wasmi's
//! and linmem's default; `lazy` also defers validation).
//! `startup/instantiate_<n>page(s)/{wasmi_raw,linmem}`: a new store and
//! instance from an already compiled module, 1 or 48 pages of memory.
//! `startup/new_guest_1page/linmem`: `Guest::new(bytes)`, engine + compile +
//! instantiate, for scale.

use crate::common::{self, RawWasmi};
use criterion::Criterion;
use linmem::wasmi::{CompilationMode, Config};
use linmem::{Engine, Guest, Module};
use std::hint::black_box;

/// The exports of bench_loops.wat, sorted.
const LOOP_EXPORTS: [&str; 8] = [
    "bulk_copy",
    "bulk_fill",
    "copy_loop",
    "fill_loop",
    "fnv1a",
    "memory",
    "sum_bytes",
    "sum_u64",
];

fn engine(mode: CompilationMode) -> Engine {
    let mut config = Config::default();
    config.compilation_mode(mode);
    Engine::new(&config)
}

/// Panics unless `memory` is `pages` pages holding the data segment "linmem".
fn check_memory(memory: &[u8], pages: usize) {
    assert_eq!(memory.len(), pages * 65_536);
    assert_eq!(&memory[..6], b"linmem");
}

pub fn benches(c: &mut Criterion) {
    let loops = common::wasm(common::LOOPS_WAT);
    let mut group = c.benchmark_group("startup/compile");
    for (name, mode) in [
        ("eager", CompilationMode::Eager),
        ("lazy_translation", CompilationMode::LazyTranslation),
        ("lazy", CompilationMode::Lazy),
    ] {
        let engine = engine(mode);
        group.bench_function(name, |b| {
            b.iter(|| {
                let module = linmem::wasmi::Module::new(&engine, black_box(&loops)).unwrap();
                let mut exports: Vec<&str> = module.exports().map(|e| e.name()).collect();
                exports.sort_unstable();
                assert_eq!(exports, LOOP_EXPORTS);
            })
        });
    }
    group.finish();

    for (label, wat, pages) in [
        ("instantiate_1page", common::MEMORY_1PAGE_WAT, 1),
        ("instantiate_48pages", common::MEMORY_48PAGES_WAT, 48),
    ] {
        let wasm = common::wasm(wat);
        let module = Module::with_engine(&Engine::default(), &wasm).expect("fixture compiles");
        let mut group = c.benchmark_group(format!("startup/{label}"));
        group.bench_function("wasmi_raw", |b| {
            b.iter(|| {
                let raw = RawWasmi::instantiate(black_box(module.as_wasmi()));
                check_memory(raw.memory.data(&raw.store), pages);
            })
        });
        group.bench_function("linmem", |b| {
            b.iter(|| {
                let guest = black_box(&module).instantiate().unwrap();
                check_memory(guest.view().as_slice(), pages);
            })
        });
        group.finish();
    }

    let wasm = common::wasm(common::MEMORY_1PAGE_WAT);
    let mut group = c.benchmark_group("startup/new_guest_1page");
    group.bench_function("linmem", |b| {
        b.iter(|| {
            let guest = Guest::new(black_box(&wasm)).unwrap();
            check_memory(guest.view().as_slice(), 1);
        })
    });
    group.finish();
}
