//! Workload 4, guest loops over 1 MiB: the loops of bench_loops.wat run by
//! wasmi, against the same algorithm in native Rust.
//!
//! `guest_loop/<loop>/native`: the Rust function below on a host buffer.
//! `.../wasmi_raw`: the export called through a cached `wasmi::TypedFunc`.
//! `.../linmem`: the same export called through a cached `GuestFunc` (what
//! linmem adds: a guest-id check and the error mapping, once per call).

use crate::common::{self, MIB, RawWasmi};
use crate::native::{copy_loop, fill_loop, fnv1a, sum_bytes, sum_u64};
use criterion::{BenchmarkGroup, Criterion, Throughput, measurement::WallTime};
use linmem::wasmi::{Engine, TypedFunc, WasmParams, WasmResults};
use linmem::{Guest, GuestFunc, Module};
use std::fmt::Debug;
use std::hint::black_box;

/// Where the loops read (source) and write (destination), in guest memory.
const SRC: usize = 0;
/// Half a page past the source's end, so that source and destination bytes
/// do not share page offsets (4K aliasing would slow every engine's copy loop).
const DST: usize = MIB + 2 * 1024;
const LEN: usize = MIB;
const FILL_BYTE: u8 = 0x5a;

/// The three ways to run one export.
struct Runners<'a> {
    raw: &'a mut RawWasmi,
    guest: &'a mut Guest,
}

impl Runners<'_> {
    fn bench<P, R>(
        &mut self,
        group: &mut BenchmarkGroup<'_, WallTime>,
        name: &str,
        params: P,
        want: R,
    ) -> [bool; 2]
    where
        P: WasmParams + Copy,
        R: WasmResults + PartialEq + Debug + Copy,
    {
        let raw_func: TypedFunc<P, R> = self.raw.func(name);
        let store = &mut self.raw.store;
        let raw_ran = common::bench_ran(group, "wasmi_raw", |b| {
            b.iter(|| assert_eq!(raw_func.call(&mut *store, black_box(params)).unwrap(), want))
        });
        let func: GuestFunc<P, R> = self.guest.export_func(name).expect("export");
        let guest = &mut *self.guest;
        let linmem_ran = common::bench_ran(group, "linmem", |b| {
            b.iter(|| assert_eq!(func.call(guest, black_box(params)).unwrap(), want))
        });
        [raw_ran, linmem_ran]
    }

    /// Zeroes the destination region of both instances.
    fn clear_destination(&mut self) {
        self.guest
            .view_mut()
            .fill(DST as u64, LEN as u64, 0)
            .unwrap();
        self.raw.memory.data_mut(&mut self.raw.store)[DST..DST + LEN].fill(0);
    }

    /// Panics unless the destination region of each instance that `ran`
    /// (wasmi_raw, linmem) equals `want`.
    fn check_destination(&self, ran: [bool; 2], want: &[u8], what: &str) {
        let [raw_ran, linmem_ran] = ran;
        if raw_ran {
            let raw = &self.raw.memory.data(&self.raw.store)[DST..DST + LEN];
            assert!(raw == want, "wasmi_raw {what} wrong");
        }
        if linmem_ran {
            let guest = self.guest.view();
            let bytes = guest.bytes(DST as u64, LEN as u64).unwrap();
            assert!(bytes == want, "linmem {what} wrong");
        }
    }
}

fn group<'c>(c: &'c mut Criterion, name: &str) -> BenchmarkGroup<'c, WallTime> {
    let mut group = c.benchmark_group(format!("guest_loop/{name}"));
    group.throughput(Throughput::Bytes(LEN as u64));
    group.sample_size(10);
    group
}

pub fn benches(c: &mut Criterion) {
    let wasm = common::wasm(common::LOOPS_WAT);
    let module = Module::with_engine(&Engine::default(), &wasm).expect("fixture compiles");
    let data = common::test_bytes(LEN, 0x5eed);

    let mut raw = RawWasmi::instantiate(module.as_wasmi());
    raw.memory.data_mut(&mut raw.store)[SRC..SRC + LEN].copy_from_slice(&data);
    let mut guest = module.instantiate().expect("fixture instantiates");
    guest.view_mut().write_bytes(SRC as u64, &data).unwrap();
    let mut run = Runners {
        raw: &mut raw,
        guest: &mut guest,
    };
    let (src, dst, len) = (SRC as i32, DST as i32, LEN as i32);

    let want = sum_bytes(&data);
    let mut g = group(c, "sum_bytes");
    g.bench_function("native", |b| {
        b.iter(|| assert_eq!(sum_bytes(black_box(&data)), want))
    });
    run.bench(&mut g, "sum_bytes", (src, len), want as i32);
    g.finish();

    let want = sum_u64(&data);
    let mut g = group(c, "sum_u64");
    g.bench_function("native", |b| {
        b.iter(|| assert_eq!(sum_u64(black_box(&data)), want))
    });
    run.bench(&mut g, "sum_u64", (src, len), want as i64);
    g.finish();

    let want = fnv1a(&data);
    let mut g = group(c, "fnv1a");
    g.bench_function("native", |b| {
        b.iter(|| assert_eq!(fnv1a(black_box(&data)), want))
    });
    run.bench(&mut g, "fnv1a", (src, len), want as i32);
    g.finish();

    // Writes: each variant starts from a zeroed destination and is checked after.
    let filled = vec![FILL_BYTE; LEN];
    let mut host = vec![0u8; LEN];
    for (name, export, want) in [
        ("fill_loop", "fill_loop", &filled),
        ("memory_fill", "bulk_fill", &filled),
        ("copy_loop", "copy_loop", &data),
        ("memory_copy", "bulk_copy", &data),
    ] {
        let mut g = group(c, name);
        host.fill(0);
        let native_ran = common::bench_ran(&mut g, "native", |b| match name {
            "fill_loop" => b.iter(|| fill_loop(black_box(&mut host), black_box(FILL_BYTE))),
            "memory_fill" => b.iter(|| black_box(&mut host).fill(black_box(FILL_BYTE))),
            "copy_loop" => b.iter(|| copy_loop(black_box(&mut host), black_box(&data))),
            _ => b.iter(|| black_box(&mut host).copy_from_slice(black_box(&data))),
        });
        if native_ran {
            assert!(&host == want, "native {name} wrong");
        }
        run.clear_destination();
        let ran = if name.contains("fill") {
            run.bench(&mut g, export, (dst, len, i32::from(FILL_BYTE)), ())
        } else {
            run.bench(&mut g, export, (dst, src, len), ())
        };
        run.check_destination(ran, want, name);
        g.finish();
    }
}
