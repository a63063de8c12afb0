//! Workload 6, the price of containment (issue 10, docs/CONTAINMENT.md):
//! compiling untrusted code eagerly inside `catch_unwind`, as linmem's
//! engines do, against wasmi's default lazy translation.
//!
//! `contain/compile/<module>/linmem_eager`: `linmem::Module::with_engine` on
//! an engine of `contained_config()` (screening, eager translation of every
//! function, `catch_unwind`). `.../wasmi_lazy`: `wasmi::Module::new` on an
//! engine with wasmi's default `LazyTranslation` (validation only; each
//! function is translated at its first call). `.../wasmi_eager`: raw wasmi,
//! eager, to separate linmem's own overhead from the translation's.
//!
//! Modules: `fixtures` (every committed `.wasm` fixture of a real toolchain
//! and the reference module, compiled one after the other), and `large`, a
//! generated module of 4 000 functions with loops, memory accesses and
//! calls (about 0.9 MB), the case where translating everything up front
//! costs most if only a few functions ever run.

use criterion::Criterion;
use linmem::wasmi::{CompilationMode, Config};
use linmem::{Engine, Module};
use std::fmt::Write;
use std::hint::black_box;

/// The committed binary fixtures from real toolchains.
fn fixtures() -> Vec<Vec<u8>> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures");
    let mut out = vec![linmem::LINEAR_MEMORY_WASM.to_vec()];
    for dir in ["assemblyscript", "c"] {
        let mut paths: Vec<_> = std::fs::read_dir(format!("{root}/{dir}"))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "wasm"))
            .collect();
        paths.sort();
        out.extend(paths.iter().map(|path| std::fs::read(path).unwrap()));
    }
    assert!(out.len() >= 10, "{} fixtures", out.len());
    out
}

/// A large generated module: `funcs` functions, each a counted loop over
/// memory that also calls its predecessor.
pub fn large_module(funcs: usize) -> Vec<u8> {
    let mut wat = String::from("(module (memory (export \"memory\") 1)\n");
    for i in 0..funcs {
        let call = if i == 0 {
            String::from("(i32.const 1)")
        } else {
            format!("(call $f{} (i32.and (local.get 0) (i32.const 3)))", i - 1)
        };
        writeln!(
            wat,
            "(func $f{i} (export \"f{i}\") (param i32) (result i32) (local i32 i64)
               (block (loop
                 (br_if 1 (i32.eqz (local.get 0)))
                 (local.set 1 (i32.add (local.get 1) (i32.load8_u offset={off} (local.get 0))))
                 (local.set 2 (i64.mul (local.get 2) (i64.extend_i32_u (local.get 1))))
                 (i32.store offset={off} (local.get 1) (i32.wrap_i64 (local.get 2)))
                 (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
                 (br 0)))
               (i32.add (local.get 1) {call}))",
            off = i % 1000
        )
        .unwrap();
    }
    wat.push(')');
    wat::parse_str(&wat).unwrap()
}

fn raw_engine(mode: CompilationMode) -> Engine {
    let mut config = Config::default();
    config.compilation_mode(mode);
    Engine::new(&config)
}

pub fn benches(c: &mut Criterion) {
    let contained = Engine::new(&linmem::contained_config());
    let lazy = raw_engine(CompilationMode::LazyTranslation);
    let eager = raw_engine(CompilationMode::Eager);
    let large = large_module(4_000);
    eprintln!(
        "contain/compile/large: {} bytes, 4 000 functions",
        large.len()
    );
    for (label, modules) in [("fixtures", fixtures()), ("large", vec![large])] {
        let mut group = c.benchmark_group(format!("contain/compile/{label}"));
        group.sample_size(10);
        group.bench_function("linmem_eager", |b| {
            b.iter(|| {
                for wasm in &modules {
                    let module = Module::with_engine(&contained, black_box(wasm)).unwrap();
                    assert!(module.as_wasmi().exports().count() > 0);
                }
            })
        });
        for (name, engine) in [("wasmi_lazy", &lazy), ("wasmi_eager", &eager)] {
            group.bench_function(name, |b| {
                b.iter(|| {
                    for wasm in &modules {
                        let module = linmem::wasmi::Module::new(engine, black_box(wasm)).unwrap();
                        assert!(module.exports().count() > 0);
                    }
                })
            });
        }
        group.finish();
    }
}
