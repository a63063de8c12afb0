//! Workload 2, element access: read, then write, every u8 / u32 / u64 and a
//! 12-byte little-endian [`Record`] over 1 MiB of guest memory from the host.
//!
//! `element/{read,write}_<type>/view`: `LinearMemoryView::read` /
//! `LinearMemoryViewMut::write` per element (checked, `u64` addresses).
//! `.../checked_slice`: indexing the memory's `&[u8]` with a range per element.
//! `.../chunks_exact`: one `chunks_exact(_mut)` pass over the slice, no index.
//! `.../wasmi_memory_read` (and `_write`): the naive `wasmi::Memory::read` /
//! `write` per element, with its store lookup on every call.
//!
//! The memory is bench_loops.wat's (33 pages); the region is its first MiB.

use crate::common::{self, MIB, Record};
use criterion::{Criterion, Throughput};
use linmem::{ByteArray, Guest, LinearMemoryView, LinearMemoryViewMut, MemoryValue};
use std::hint::black_box;

/// An element type of the workload: how to make element `i` and how to fold
/// elements into a checksum (so reads cannot be optimised away).
trait Elem: MemoryValue + Copy {
    const NAME: &'static str;
    const SIZE: usize = size_of::<Self::Bytes>();
    fn make(i: u64) -> Self;
    fn fold(acc: u64, value: Self) -> u64;
}

impl Elem for u8 {
    const NAME: &'static str = "u8";
    fn make(i: u64) -> Self {
        (i.wrapping_mul(31) >> 3) as u8
    }
    #[inline]
    fn fold(acc: u64, value: Self) -> u64 {
        acc.wrapping_add(u64::from(value))
    }
}

impl Elem for u32 {
    const NAME: &'static str = "u32";
    fn make(i: u64) -> Self {
        (i as u32).wrapping_mul(0x9E37_79B9)
    }
    #[inline]
    fn fold(acc: u64, value: Self) -> u64 {
        acc.wrapping_add(u64::from(value))
    }
}

impl Elem for u64 {
    const NAME: &'static str = "u64";
    fn make(i: u64) -> Self {
        i.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
    #[inline]
    fn fold(acc: u64, value: Self) -> u64 {
        acc.wrapping_add(value)
    }
}

impl Elem for Record {
    const NAME: &'static str = "record";
    fn make(i: u64) -> Self {
        Record {
            id: i as u32,
            value: (i as i32).wrapping_mul(-7),
            x: (i % 1000) as i16 - 500,
            kind: (i % 7) as u8,
            flags: (i >> 8) as u8,
        }
    }
    #[inline]
    fn fold(acc: u64, r: Self) -> u64 {
        acc.wrapping_add(u64::from(r.id))
            .wrapping_add(r.value as u64)
            .wrapping_add(r.x as u64)
            .wrapping_add(u64::from(r.kind) << 8)
            .wrapping_add(u64::from(r.flags) << 16)
    }
}

/// How many `T`s fit in the 1 MiB region.
fn count<T: Elem>() -> u64 {
    (MIB / T::SIZE) as u64
}

/// The checksum of elements `0..count::<T>()` of value `make(i)`, computed natively.
fn expected<T: Elem>() -> u64 {
    (0..count::<T>()).fold(0, |acc, i| T::fold(acc, T::make(i)))
}

/// Decodes a `T` from exactly `T::SIZE` bytes.
#[inline]
fn decode<T: Elem>(bytes: &[u8]) -> T {
    let mut array = T::Bytes::ZERO;
    array.as_mut().copy_from_slice(bytes);
    T::from_le_bytes(array)
}

fn read_view<T: Elem>(view: LinearMemoryView<'_>) -> u64 {
    let size = T::SIZE as u64;
    let mut acc = 0;
    for i in 0..count::<T>() {
        acc = T::fold(acc, view.read::<T>(i * size).unwrap());
    }
    acc
}

fn read_checked_slice<T: Elem>(memory: &[u8]) -> u64 {
    let mut acc = 0;
    for i in 0..count::<T>() as usize {
        let at = i * T::SIZE;
        acc = T::fold(acc, decode(&memory[at..at + T::SIZE]));
    }
    acc
}

fn read_chunks_exact<T: Elem>(memory: &[u8]) -> u64 {
    memory[..MIB]
        .chunks_exact(T::SIZE)
        .fold(0, |acc, chunk| T::fold(acc, decode(chunk)))
}

fn read_wasmi<T: Elem>(guest: &Guest) -> u64 {
    let (memory, store) = (
        guest.as_wasmi_memory().expect("a memory"),
        guest.as_wasmi_store(),
    );
    let mut acc = 0;
    let mut array = T::Bytes::ZERO;
    for i in 0..count::<T>() as usize {
        memory.read(store, i * T::SIZE, array.as_mut()).unwrap();
        acc = T::fold(acc, T::from_le_bytes(array));
    }
    acc
}

fn write_view<T: Elem>(mut view: LinearMemoryViewMut<'_>) {
    let size = T::SIZE as u64;
    for i in 0..count::<T>() {
        view.write(i * size, T::make(i)).unwrap();
    }
}

fn write_checked_slice<T: Elem>(memory: &mut [u8]) {
    for i in 0..count::<T>() {
        let at = i as usize * T::SIZE;
        memory[at..at + T::SIZE].copy_from_slice(T::make(i).to_le_bytes().as_ref());
    }
}

fn write_chunks_exact<T: Elem>(memory: &mut [u8]) {
    for (i, chunk) in (0..).zip(memory[..MIB].chunks_exact_mut(T::SIZE)) {
        chunk.copy_from_slice(T::make(i).to_le_bytes().as_ref());
    }
}

fn write_wasmi<T: Elem>(guest: &mut Guest) {
    let memory = guest.as_wasmi_memory().expect("a memory");
    for i in 0..count::<T>() {
        memory
            .write(
                guest.as_wasmi_store_mut(),
                i as usize * T::SIZE,
                T::make(i).to_le_bytes().as_ref(),
            )
            .unwrap();
    }
}

/// Zeroes the region, so that a write benchmark's check proves it wrote.
fn clear(guest: &mut Guest) {
    guest.view_mut().fill(0, MIB as u64, 0).unwrap();
}

/// Panics unless the region holds elements `make(i)`.
fn check_written<T: Elem>(guest: &Guest, want: u64, variant: &str) {
    let got = read_chunks_exact::<T>(guest.view().as_slice());
    assert_eq!(got, want, "write_{}/{variant} wrote wrong data", T::NAME);
}

fn bench_type<T: Elem>(c: &mut Criterion, guest: &mut Guest) {
    let want = expected::<T>();

    // The region holds the elements for the reads; each read checks its sum.
    clear(guest);
    write_chunks_exact::<T>(guest.view_mut().as_mut_slice());
    let mut group = c.benchmark_group(format!("element/read_{}", T::NAME));
    group.throughput(Throughput::Bytes(MIB as u64));
    group.bench_function("view", |b| {
        b.iter(|| assert_eq!(read_view::<T>(black_box(guest.view())), want))
    });
    group.bench_function("checked_slice", |b| {
        b.iter(|| {
            assert_eq!(
                read_checked_slice::<T>(black_box(guest.view().as_slice())),
                want
            )
        })
    });
    group.bench_function("chunks_exact", |b| {
        b.iter(|| {
            assert_eq!(
                read_chunks_exact::<T>(black_box(guest.view().as_slice())),
                want
            )
        })
    });
    group.sample_size(10);
    group.bench_function("wasmi_memory_read", |b| {
        b.iter(|| assert_eq!(read_wasmi::<T>(black_box(&*guest)), want))
    });
    group.finish();

    // Each write starts from a zeroed region and is checked right after.
    let mut group = c.benchmark_group(format!("element/write_{}", T::NAME));
    group.throughput(Throughput::Bytes(MIB as u64));
    clear(guest);
    if common::bench_ran(&mut group, "view", |b| {
        b.iter(|| write_view::<T>(black_box(guest.view_mut())))
    }) {
        check_written::<T>(guest, want, "view");
    }
    clear(guest);
    if common::bench_ran(&mut group, "checked_slice", |b| {
        b.iter(|| write_checked_slice::<T>(black_box(guest.view_mut().as_mut_slice())))
    }) {
        check_written::<T>(guest, want, "checked_slice");
    }
    clear(guest);
    if common::bench_ran(&mut group, "chunks_exact", |b| {
        b.iter(|| write_chunks_exact::<T>(black_box(guest.view_mut().as_mut_slice())))
    }) {
        check_written::<T>(guest, want, "chunks_exact");
    }
    clear(guest);
    group.sample_size(10);
    if common::bench_ran(&mut group, "wasmi_memory_write", |b| {
        b.iter(|| write_wasmi::<T>(black_box(&mut *guest)))
    }) {
        check_written::<T>(guest, want, "wasmi_memory_write");
    }
    group.finish();
}

pub fn benches(c: &mut Criterion) {
    let mut guest = Guest::new(common::wasm(common::LOOPS_WAT)).expect("fixture instantiates");
    bench_type::<u8>(c, &mut guest);
    bench_type::<u32>(c, &mut guest);
    bench_type::<u64>(c, &mut guest);
    bench_type::<Record>(c, &mut guest);
}
