//! Workload 1, round trip: the host writes a byte (or a u32), calls the guest
//! export that loads it, and reads the result.
//!
//! `round_trip/{u8,u32}/native`: the same write and a non-inlined load in Rust.
//! `.../wasmi_raw`: `Memory::data_mut` + a cached `TypedFunc`.
//! `.../linmem_cached`: `guest.view_mut().write` + a cached `GuestFunc`.
//! `.../linmem_by_name`: `guest.view_mut().write` + `guest.call(name, ..)`.

use crate::common::{self, RawWasmi};
use criterion::Criterion;
use linmem::{Engine, Guest, Module};
use std::hint::black_box;

/// Addresses cycle through the first page, 4-byte aligned and in bounds for a u32.
const ADDR_MASK: u32 = 0xfffc;

/// The value and address of iteration `i`: the expected answer is the value.
fn case(i: u32) -> (u32, u32) {
    (i.wrapping_mul(0x9E37_79B9), i.wrapping_mul(52) & ADDR_MASK)
}

#[inline(never)]
fn native_load_u8(memory: &[u8], addr: u32) -> i32 {
    i32::from(memory[addr as usize])
}

#[inline(never)]
fn native_load_u32(memory: &[u8], addr: u32) -> i32 {
    let at = addr as usize;
    i32::from_le_bytes(memory[at..at + 4].try_into().expect("4 bytes"))
}

pub fn benches(c: &mut Criterion) {
    let wasm = common::wasm(common::ROUND_TRIP_WAT);
    let module = Module::with_engine(&Engine::default(), &wasm).expect("fixture compiles");

    // u8
    {
        let mut group = c.benchmark_group("round_trip/u8");
        let mut native = vec![0u8; 65_536];
        let mut i = 0u32;
        group.bench_function("native", |b| {
            b.iter(|| {
                i = i.wrapping_add(1);
                let (value, addr) = case(i);
                let byte = value as u8;
                native[addr as usize] = byte;
                let got = native_load_u8(black_box(&native), black_box(addr));
                assert_eq!(got, i32::from(byte));
            })
        });

        let mut raw = RawWasmi::instantiate(module.as_wasmi());
        let load = raw.func::<i32, i32>("load_u8");
        group.bench_function("wasmi_raw", |b| {
            b.iter(|| {
                i = i.wrapping_add(1);
                let (value, addr) = case(i);
                let byte = value as u8;
                raw.memory.data_mut(&mut raw.store)[addr as usize] = byte;
                let got = load.call(&mut raw.store, black_box(addr as i32)).unwrap();
                assert_eq!(got, i32::from(byte));
            })
        });

        let mut guest = module.instantiate().expect("fixture instantiates");
        let load = guest.export_func::<i32, i32>("load_u8").expect("export");
        group.bench_function("linmem_cached", |b| {
            b.iter(|| {
                i = i.wrapping_add(1);
                let (value, addr) = case(i);
                let byte = value as u8;
                guest.view_mut().write(addr, byte).unwrap();
                let got = load.call(&mut guest, black_box(addr as i32)).unwrap();
                assert_eq!(got, i32::from(byte));
            })
        });
        group.bench_function("linmem_by_name", |b| {
            b.iter(|| {
                i = i.wrapping_add(1);
                let (value, addr) = case(i);
                let byte = value as u8;
                guest.view_mut().write(addr, byte).unwrap();
                let got: i32 = guest.call("load_u8", black_box(addr as i32)).unwrap();
                assert_eq!(got, i32::from(byte));
            })
        });
        group.finish();
    }

    // u32
    {
        let mut group = c.benchmark_group("round_trip/u32");
        let mut native = vec![0u8; 65_536];
        let mut i = 0u32;
        group.bench_function("native", |b| {
            b.iter(|| {
                i = i.wrapping_add(1);
                let (value, addr) = case(i);
                let at = addr as usize;
                native[at..at + 4].copy_from_slice(&value.to_le_bytes());
                let got = native_load_u32(black_box(&native), black_box(addr));
                assert_eq!(got, value as i32);
            })
        });

        let mut raw = RawWasmi::instantiate(module.as_wasmi());
        let load = raw.func::<i32, i32>("load_u32");
        group.bench_function("wasmi_raw", |b| {
            b.iter(|| {
                i = i.wrapping_add(1);
                let (value, addr) = case(i);
                let at = addr as usize;
                raw.memory.data_mut(&mut raw.store)[at..at + 4]
                    .copy_from_slice(&value.to_le_bytes());
                let got = load.call(&mut raw.store, black_box(addr as i32)).unwrap();
                assert_eq!(got, value as i32);
            })
        });

        let mut guest: Guest = module.instantiate().expect("fixture instantiates");
        let load = guest.export_func::<i32, i32>("load_u32").expect("export");
        group.bench_function("linmem_cached", |b| {
            b.iter(|| {
                i = i.wrapping_add(1);
                let (value, addr) = case(i);
                guest.view_mut().write(addr, value).unwrap();
                let got = load.call(&mut guest, black_box(addr as i32)).unwrap();
                assert_eq!(got, value as i32);
            })
        });
        group.bench_function("linmem_by_name", |b| {
            b.iter(|| {
                i = i.wrapping_add(1);
                let (value, addr) = case(i);
                guest.view_mut().write(addr, value).unwrap();
                let got: i32 = guest.call("load_u32", black_box(addr as i32)).unwrap();
                assert_eq!(got, value as i32);
            })
        });
        group.finish();
    }
}
