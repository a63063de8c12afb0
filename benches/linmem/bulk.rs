//! Workload 3, bulk transfer: copies of 4 KiB, 1 MiB and 64 MiB between a host
//! buffer and guest memory, in both directions.
//!
//! `bulk/host_to_guest/<size>/memcpy`: `copy_from_slice` between two host
//! buffers, the ceiling. `.../view`: `LinearMemoryViewMut::write_bytes`.
//! `.../wasmi_raw`: `wasmi::Memory::write`. The same three for
//! `bulk/guest_to_host/<size>` with `LinearMemoryView::read_bytes` and
//! `wasmi::Memory::read`. The guest is bench_bulk.wat (1025 pages). Source
//! and destination sit at the same offsets within a page in every variant
//! (see [`common::buffer_at_page_offset`]).

use crate::common::{self, KIB, MIB};
use criterion::{Criterion, Throughput};
use linmem::Guest;
use std::hint::black_box;

/// Guest address of the copies: not 0, so that a copy to the wrong place shows.
const AT: usize = 4 * KIB;

pub fn benches(c: &mut Criterion) {
    let mut guest = Guest::new(common::wasm(common::BULK_WAT)).expect("fixture instantiates");
    // Where the guest's bytes at AT sit within a page; the host buffer sits
    // half a page away from that, and the memcpy baseline copies between two
    // host buffers placed the same way.
    let guest_offset = (guest.view().as_slice().as_ptr() as usize + AT) % 4096;
    let host_offset = (guest_offset + 2048) % 4096;
    for (label, size) in [("4KiB", 4 * KIB), ("1MiB", MIB), ("64MiB", 64 * MIB)] {
        let source = common::test_bytes(size, size as u64);
        let (mut host_buffer, host_start) = common::buffer_at_page_offset(size, host_offset);
        let host = &mut host_buffer[host_start..host_start + size];
        let (mut like_guest_buffer, like_guest_start) =
            common::buffer_at_page_offset(size, guest_offset);
        let like_guest = &mut like_guest_buffer[like_guest_start..like_guest_start + size];
        let at = AT as u64;

        let mut group = c.benchmark_group(format!("bulk/host_to_guest/{label}"));
        group.throughput(Throughput::Bytes(size as u64));
        if size >= MIB {
            group.sample_size(10);
        }
        host.copy_from_slice(&source);
        if common::bench_ran(&mut group, "memcpy", |b| {
            b.iter(|| like_guest.copy_from_slice(black_box(&*host)));
        }) {
            assert!(*like_guest == *source, "memcpy copied wrong data");
        }
        guest.view_mut().as_mut_slice().fill(0);
        if common::bench_ran(&mut group, "view", |b| {
            b.iter(|| guest.view_mut().write_bytes(at, black_box(&*host)).unwrap());
        }) {
            let copied = guest.view().bytes(at, size as u64).unwrap() == source;
            assert!(copied, "view wrote wrong data");
        }
        guest.view_mut().as_mut_slice().fill(0);
        let memory = guest.as_wasmi_memory().expect("a memory");
        if common::bench_ran(&mut group, "wasmi_raw", |b| {
            b.iter(|| {
                memory
                    .write(guest.as_wasmi_store_mut(), AT, black_box(&*host))
                    .unwrap()
            });
        }) {
            let copied = guest.view().bytes(at, size as u64).unwrap() == source;
            assert!(copied, "wasmi wrote wrong data");
        }
        group.finish();

        let mut group = c.benchmark_group(format!("bulk/guest_to_host/{label}"));
        group.throughput(Throughput::Bytes(size as u64));
        if size >= MIB {
            group.sample_size(10);
        }
        guest.view_mut().write_bytes(at, &source).unwrap();
        like_guest.copy_from_slice(&source);
        host.fill(0);
        if common::bench_ran(&mut group, "memcpy", |b| {
            b.iter(|| host.copy_from_slice(black_box(&*like_guest)));
        }) {
            assert!(*host == *source, "memcpy copied wrong data");
        }
        host.fill(0);
        if common::bench_ran(&mut group, "view", |b| {
            b.iter(|| guest.view().read_bytes(at, black_box(&mut *host)).unwrap());
        }) {
            assert!(*host == *source, "view read wrong data");
        }
        host.fill(0);
        if common::bench_ran(&mut group, "wasmi_raw", |b| {
            b.iter(|| {
                memory
                    .read(guest.as_wasmi_store(), AT, black_box(&mut *host))
                    .unwrap()
            });
        }) {
            assert!(*host == *source, "wasmi read wrong data");
        }
        group.finish();
    }
}
