//! What the workloads share: fixtures, test data, a raw-wasmi instance and the
//! bench-local record type.

use criterion::measurement::WallTime;
use criterion::{Bencher, BenchmarkGroup, Criterion};
use linmem::MemoryValue;
use linmem::wasmi::{Instance, Linker, Memory, Module, Store, TypedFunc, WasmParams, WasmResults};
use std::time::Duration;

pub const KIB: usize = 1 << 10;
pub const MIB: usize = 1 << 20;

pub const ROUND_TRIP_WAT: &str = include_str!("../../fixtures/bench_round_trip.wat");
pub const LOOPS_WAT: &str = include_str!("../../fixtures/bench_loops.wat");
pub const BULK_WAT: &str = include_str!("../../fixtures/bench_bulk.wat");
pub const MEMORY_1PAGE_WAT: &str = include_str!("../../fixtures/bench_memory_1page.wat");
pub const MEMORY_48PAGES_WAT: &str = include_str!("../../fixtures/bench_memory_48pages.wat");

/// A fixture compiled from WAT to wasm bytes (outside any timed code).
pub fn wasm(wat: &str) -> Vec<u8> {
    wat::parse_str(wat).expect("bench fixture parses")
}

/// The criterion configuration for every group: modest sample sizes and
/// measurement times so that a full `cargo bench` stays near 10 minutes on a
/// shared 2-core machine.
pub fn criterion() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args()
}

/// A zeroed buffer of `len` bytes whose first byte sits at `page_offset`
/// within a 4 KiB page (the Vec, and the index of that first byte).
///
/// Copy speed depends on where source and destination sit relative to each
/// other within a page (the CPU's "4K aliasing" of loads and stores), so the
/// bulk benchmarks give every variant the same relative placement.
pub fn buffer_at_page_offset(len: usize, page_offset: usize) -> (Vec<u8>, usize) {
    let buffer = vec![0u8; len + 4096];
    let address = buffer.as_ptr() as usize;
    let start = (page_offset + 4096 - address % 4096) % 4096;
    (buffer, start)
}

/// Runs one benchmark and tells whether criterion ran it: a filter on the
/// command line skips it, and then the check that follows it must be skipped too.
pub fn bench_ran(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: &str,
    mut routine: impl FnMut(&mut Bencher<'_>),
) -> bool {
    let mut ran = false;
    group.bench_function(id, |b| {
        ran = true;
        routine(b);
    });
    ran
}

/// `len` deterministic pseudo-random bytes (xorshift64*), so that no sum or
/// hash is trivially predictable.
pub fn test_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend_from_slice(&state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A module instantiated with wasmi's own API only, the "raw wasmi" baseline:
/// what a user writes without linmem.
pub struct RawWasmi {
    pub store: Store<()>,
    pub instance: Instance,
    pub memory: Memory,
}

impl RawWasmi {
    pub fn instantiate(module: &Module) -> Self {
        let mut store = Store::new(module.engine(), ());
        let linker = Linker::<()>::new(module.engine());
        let instance = linker
            .instantiate_and_start(&mut store, module)
            .expect("fixture instantiates");
        let memory = instance
            .get_memory(&store, "memory")
            .expect("fixture exports its memory");
        Self {
            store,
            instance,
            memory,
        }
    }

    pub fn func<P: WasmParams, R: WasmResults>(&self, name: &str) -> TypedFunc<P, R> {
        self.instance
            .get_typed_func::<P, R>(&self.store, name)
            .expect("fixture export has this type")
    }
}

/// A small little-endian record, 12 bytes with no padding, as a guest would
/// lay out `struct { u32 id; i32 value; i16 x; u8 kind; u8 flags; }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    pub id: u32,
    pub value: i32,
    pub x: i16,
    pub kind: u8,
    pub flags: u8,
}

impl MemoryValue for Record {
    type Bytes = [u8; 12];

    #[inline]
    fn from_le_bytes(bytes: [u8; 12]) -> Self {
        let [i0, i1, i2, i3, v0, v1, v2, v3, x0, x1, kind, flags] = bytes;
        Self {
            id: u32::from_le_bytes([i0, i1, i2, i3]),
            value: i32::from_le_bytes([v0, v1, v2, v3]),
            x: i16::from_le_bytes([x0, x1]),
            kind,
            flags,
        }
    }

    #[inline]
    fn to_le_bytes(&self) -> [u8; 12] {
        let [i0, i1, i2, i3] = self.id.to_le_bytes();
        let [v0, v1, v2, v3] = self.value.to_le_bytes();
        let [x0, x1] = self.x.to_le_bytes();
        [
            i0, i1, i2, i3, v0, v1, v2, v3, x0, x1, self.kind, self.flags,
        ]
    }
}
