//! Workload 3, bulk transfer: copies of 4 KiB, 1 MiB and 64 MiB between a host
//! buffer and guest memory, in both directions.
//!
//! `bulk/host_to_guest/<size>/memcpy`: `copy_from_slice` between two host
//! buffers, the ceiling. `.../view`: `LinearMemoryViewMut::write_bytes`.
//! `.../wasmi_raw`: `wasmi::Memory::write`. The same three for
//! `bulk/guest_to_host/<size>` with `LinearMemoryView::read_bytes` and
//! `wasmi::Memory::read`. The guest is bench_bulk.wat (1025 pages).

use crate::common::{self, KIB, MIB};
use criterion::{Criterion, Throughput};
use linmem::Guest;
use std::hint::black_box;

/// Guest address of the copies: not 0, so that a copy to the wrong place shows.
const AT: usize = 4 * KIB;

pub fn benches(c: &mut Criterion) {
    let mut guest = Guest::new(common::wasm(common::BULK_WAT)).expect("fixture instantiates");
    for (label, size) in [("4KiB", 4 * KIB), ("1MiB", MIB), ("64MiB", 64 * MIB)] {
        let source = common::test_bytes(size, size as u64);
        let mut host = vec![0u8; size];
        let at = AT as u64;

        let mut group = c.benchmark_group(format!("bulk/host_to_guest/{label}"));
        group.throughput(Throughput::Bytes(size as u64));
        if size >= MIB {
            group.sample_size(10);
        }
        if common::bench_ran(&mut group, "memcpy", |b| {
            b.iter(|| host.copy_from_slice(black_box(&source)));
        }) {
            assert!(host == source, "memcpy copied wrong data");
        }
        guest.view_mut().as_mut_slice().fill(0);
        if common::bench_ran(&mut group, "view", |b| {
            b.iter(|| {
                guest
                    .view_mut()
                    .write_bytes(at, black_box(&source))
                    .unwrap()
            });
        }) {
            assert!(
                guest.view().bytes(at, size as u64).unwrap() == source,
                "view wrote wrong data"
            );
        }
        guest.view_mut().as_mut_slice().fill(0);
        let memory = guest.memory();
        if common::bench_ran(&mut group, "wasmi_raw", |b| {
            b.iter(|| {
                memory
                    .write(guest.store_mut(), AT, black_box(&source))
                    .unwrap()
            });
        }) {
            assert!(
                guest.view().bytes(at, size as u64).unwrap() == source,
                "wasmi wrote wrong data"
            );
        }
        group.finish();

        guest.view_mut().write_bytes(at, &source).unwrap();
        let mut group = c.benchmark_group(format!("bulk/guest_to_host/{label}"));
        group.throughput(Throughput::Bytes(size as u64));
        if size >= MIB {
            group.sample_size(10);
        }
        host.fill(0);
        let mut other = source.clone();
        if common::bench_ran(&mut group, "memcpy", |b| {
            b.iter(|| host.copy_from_slice(black_box(&other)));
        }) {
            assert!(host == source, "memcpy copied wrong data");
        }
        other.clear();
        host.fill(0);
        if common::bench_ran(&mut group, "view", |b| {
            b.iter(|| guest.view().read_bytes(at, black_box(&mut host)).unwrap());
        }) {
            assert!(host == source, "view read wrong data");
        }
        host.fill(0);
        if common::bench_ran(&mut group, "wasmi_raw", |b| {
            b.iter(|| {
                memory
                    .read(guest.store(), AT, black_box(&mut host))
                    .unwrap()
            });
        }) {
            assert!(host == source, "wasmi read wrong data");
        }
        group.finish();
    }
}
