//! The round trip and the guest loops of linmem's benches on the other
//! engines a user could pick, in one run, side by side:
//!
//! - `native`: the same algorithm in Rust (benches/linmem/native.rs);
//! - `wasmi_raw` / `linmem`: wasmi through its own API / through linmem;
//! - `pulley`: wasmtime's portable interpreter (`Config::target("pulley64")`),
//!   the other no-JIT engine in Rust;
//! - `cranelift`: wasmtime's JIT, what a platform that allows one would use.
//!
//! Group names: `engines/round_trip/{u8,u32}/<engine>` and
//! `engines/guest_loop/<loop>/<engine>`. Every benchmark asserts the answer
//! computed natively first. Run from this directory with `cargo bench`, then
//! `../scripts/bench-report` at the root prints the ratios.

#[allow(dead_code)]
#[path = "../../benches/linmem/common.rs"]
mod common;
#[path = "../../benches/linmem/native.rs"]
mod native;

use common::{MIB, RawWasmi};
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use std::fmt::Debug;
use std::hint::black_box;

const SRC: usize = 0;
/// Half a page past the source's end, so that source and destination bytes
/// do not share page offsets (4K aliasing would slow every engine's copy loop).
const DST: usize = MIB + 2 * 1024;
const LEN: usize = MIB;
const FILL_BYTE: u8 = 0x5a;

/// One instance on wasmtime.
struct Wasmtime {
    store: wasmtime::Store<()>,
    instance: wasmtime::Instance,
    memory: wasmtime::Memory,
}

impl Wasmtime {
    /// `pulley`: wasmtime's interpreter; otherwise its native JIT (cranelift).
    fn new(wasm: &[u8], pulley: bool) -> Self {
        let mut config = wasmtime::Config::new();
        if pulley {
            config
                .target("pulley64")
                .expect("pulley64 is a known target");
        }
        let engine = wasmtime::Engine::new(&config).expect("engine");
        let module = wasmtime::Module::new(&engine, wasm).expect("fixture compiles");
        let mut store = wasmtime::Store::new(&engine, ());
        let instance = wasmtime::Instance::new(&mut store, &module, &[]).expect("instantiates");
        let memory = instance
            .get_memory(&mut store, "memory")
            .expect("fixture exports its memory");
        Self {
            store,
            instance,
            memory,
        }
    }

    fn func<P: wasmtime::WasmParams, R: wasmtime::WasmResults>(
        &mut self,
        name: &str,
    ) -> wasmtime::TypedFunc<P, R> {
        self.instance
            .get_typed_func::<P, R>(&mut self.store, name)
            .expect("fixture export has this type")
    }
}

/// All the engines, each with its own instance of one fixture.
struct Engines {
    raw: RawWasmi,
    guest: linmem::Guest,
    pulley: Wasmtime,
    cranelift: Wasmtime,
}

impl Engines {
    fn new(wasm: &[u8]) -> Self {
        let module = linmem::Module::new(wasm).expect("fixture compiles");
        Self {
            raw: RawWasmi::instantiate(module.as_wasmi()),
            guest: module.instantiate().expect("instantiates"),
            pulley: Wasmtime::new(wasm, true),
            cranelift: Wasmtime::new(wasm, false),
        }
    }

    /// Each engine's memory, mutably.
    fn memories(&mut self) -> [&mut [u8]; 4] {
        [
            self.raw.memory.data_mut(&mut self.raw.store),
            self.guest.view_mut().into_mut_slice(),
            self.pulley.memory.data_mut(&mut self.pulley.store),
            self.cranelift.memory.data_mut(&mut self.cranelift.store),
        ]
    }

    /// Benches the export `name` on every engine, asserting `want` each call.
    fn bench<P, R>(
        &mut self,
        group: &mut BenchmarkGroup<'_, WallTime>,
        name: &str,
        params: P,
        want: R,
    ) -> [bool; 4]
    where
        P: linmem::wasmi::WasmParams + wasmtime::WasmParams + Copy,
        R: linmem::wasmi::WasmResults + wasmtime::WasmResults + PartialEq + Debug + Copy,
    {
        let raw = self.raw.func::<P, R>(name);
        let store = &mut self.raw.store;
        let raw_ran = common::bench_ran(group, "wasmi_raw", |b| {
            b.iter(|| assert_eq!(raw.call(&mut *store, black_box(params)).unwrap(), want))
        });
        let func = self.guest.export_func::<P, R>(name).expect("export");
        let guest = &mut self.guest;
        let linmem_ran = common::bench_ran(group, "linmem", |b| {
            b.iter(|| assert_eq!(func.call(guest, black_box(params)).unwrap(), want))
        });
        let mut ran = [raw_ran, linmem_ran, false, false];
        for (slot, label, engine) in [
            (2, "pulley", &mut self.pulley),
            (3, "cranelift", &mut self.cranelift),
        ] {
            let func = engine.func::<P, R>(name);
            let store = &mut engine.store;
            ran[slot] = common::bench_ran(group, label, |b| {
                b.iter(|| assert_eq!(func.call(&mut *store, black_box(params)).unwrap(), want))
            });
        }
        ran
    }
}

/// The value and address of round trip `i`; the guest must return the value.
fn case(i: u32) -> (u32, usize) {
    (
        i.wrapping_mul(0x9E37_79B9),
        (i.wrapping_mul(52) & 0xfffc) as usize,
    )
}

/// `engines/round_trip/{u8,u32}`: write `width` bytes, call `load_<ty>`, check.
fn round_trip(c: &mut Criterion) {
    let wasm = common::wasm(common::ROUND_TRIP_WAT);
    let mut engines = Engines::new(&wasm);
    for (ty, width) in [("u8", 1usize), ("u32", 4)] {
        let export = format!("load_{ty}");
        let mask = if width == 1 { 0xff } else { u32::MAX };
        let mut group = c.benchmark_group(format!("engines/round_trip/{ty}"));
        let mut i = 0u32;

        let mut native = vec![0u8; 65_536];
        group.bench_function("native", |b| {
            b.iter(|| {
                i = i.wrapping_add(1);
                let (value, at) = case(i);
                native[at..at + width].copy_from_slice(&value.to_le_bytes()[..width]);
                let got = native_load(black_box(&native), black_box(at), width);
                assert_eq!(got, (value & mask) as i32);
            })
        });

        let Engines {
            raw,
            guest,
            pulley,
            cranelift,
        } = &mut engines;
        let load = raw.func::<i32, i32>(&export);
        group.bench_function("wasmi_raw", |b| {
            b.iter(|| {
                i = i.wrapping_add(1);
                let (value, at) = case(i);
                raw.memory.data_mut(&mut raw.store)[at..at + width]
                    .copy_from_slice(&value.to_le_bytes()[..width]);
                let got = load.call(&mut raw.store, black_box(at as i32)).unwrap();
                assert_eq!(got, (value & mask) as i32);
            })
        });
        let load = guest.export_func::<i32, i32>(&export).expect("export");
        group.bench_function("linmem", |b| {
            b.iter(|| {
                i = i.wrapping_add(1);
                let (value, at) = case(i);
                guest
                    .view_mut()
                    .write_bytes(at as u64, &value.to_le_bytes()[..width])
                    .unwrap();
                let got = load.call(guest, black_box(at as i32)).unwrap();
                assert_eq!(got, (value & mask) as i32);
            })
        });
        for (label, engine) in [("pulley", pulley), ("cranelift", cranelift)] {
            let load = engine.func::<i32, i32>(&export);
            group.bench_function(label, |b| {
                b.iter(|| {
                    i = i.wrapping_add(1);
                    let (value, at) = case(i);
                    engine.memory.data_mut(&mut engine.store)[at..at + width]
                        .copy_from_slice(&value.to_le_bytes()[..width]);
                    let got = load.call(&mut engine.store, black_box(at as i32)).unwrap();
                    assert_eq!(got, (value & mask) as i32);
                })
            });
        }
        group.finish();
    }
}

#[inline(never)]
fn native_load(memory: &[u8], at: usize, width: usize) -> i32 {
    let mut bytes = [0u8; 4];
    bytes[..width].copy_from_slice(&memory[at..at + width]);
    i32::from_le_bytes(bytes)
}

fn loop_group<'c>(c: &'c mut Criterion, name: &str) -> BenchmarkGroup<'c, WallTime> {
    let mut group = c.benchmark_group(format!("engines/guest_loop/{name}"));
    group.throughput(Throughput::Bytes(LEN as u64));
    group.sample_size(10);
    group
}

/// `engines/guest_loop/<loop>`: the loops of bench_loops.wat on every engine.
fn guest_loops(c: &mut Criterion) {
    let wasm = common::wasm(common::LOOPS_WAT);
    let mut engines = Engines::new(&wasm);
    let data = common::test_bytes(LEN, 0x5eed);
    for memory in engines.memories() {
        memory[SRC..SRC + LEN].copy_from_slice(&data);
    }
    let (src, dst, len) = (SRC as i32, DST as i32, LEN as i32);

    let want = native::sum_bytes(&data);
    let mut g = loop_group(c, "sum_bytes");
    g.bench_function("native", |b| {
        b.iter(|| assert_eq!(native::sum_bytes(black_box(&data)), want))
    });
    engines.bench(&mut g, "sum_bytes", (src, len), want as i32);
    g.finish();

    let want = native::sum_u64(&data);
    let mut g = loop_group(c, "sum_u64");
    g.bench_function("native", |b| {
        b.iter(|| assert_eq!(native::sum_u64(black_box(&data)), want))
    });
    engines.bench(&mut g, "sum_u64", (src, len), want as i64);
    g.finish();

    let want = native::fnv1a(&data);
    let mut g = loop_group(c, "fnv1a");
    g.bench_function("native", |b| {
        b.iter(|| assert_eq!(native::fnv1a(black_box(&data)), want))
    });
    engines.bench(&mut g, "fnv1a", (src, len), want as i32);
    g.finish();

    let filled = vec![FILL_BYTE; LEN];
    let mut host = vec![0u8; LEN];
    for (name, export, want) in [
        ("fill_loop", "fill_loop", &filled),
        ("memory_fill", "bulk_fill", &filled),
        ("copy_loop", "copy_loop", &data),
        ("memory_copy", "bulk_copy", &data),
    ] {
        let mut g = loop_group(c, name);
        host.fill(0);
        let native_ran = common::bench_ran(&mut g, "native", |b| match name {
            "fill_loop" => b.iter(|| native::fill_loop(black_box(&mut host), black_box(FILL_BYTE))),
            "memory_fill" => b.iter(|| black_box(&mut host).fill(black_box(FILL_BYTE))),
            "copy_loop" => b.iter(|| native::copy_loop(black_box(&mut host), black_box(&data))),
            _ => b.iter(|| black_box(&mut host).copy_from_slice(black_box(&data))),
        });
        if native_ran {
            assert!(&host == want, "native {name} wrong");
        }
        for memory in engines.memories() {
            memory[DST..DST + LEN].fill(0);
        }
        let ran = if export.contains("fill") {
            engines.bench(&mut g, export, (dst, len, i32::from(FILL_BYTE)), ())
        } else {
            engines.bench(&mut g, export, (dst, src, len), ())
        };
        let engine_names = ["wasmi_raw", "linmem", "pulley", "cranelift"];
        for ((engine, memory), ran) in engine_names.into_iter().zip(engines.memories()).zip(ran) {
            if ran {
                assert!(
                    &memory[DST..DST + LEN] == want.as_slice(),
                    "{engine} {name} wrong"
                );
            }
        }
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = round_trip, guest_loops
}
criterion_main!(benches);
