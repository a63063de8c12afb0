//! The three hot paths of issue 11, side by side in one process.
//!
//! `hot/read_<u8|u32|u64>/{view,form_span,form_get,checked_slice}`: 1 MiB
//! read element by element through linmem's view, through the two forms of
//! the bounds check (written out here on the same bytes: `span`, linmem's
//! `start <= size - n` then `bytes[start..][..n]`, and `get`,
//! `bytes.get(start..).and_then(|r| r.get(..n))`), and a plain checked
//! slice loop.
//! `hot/instantiate_1page/{wasmi_raw,wasmi_limited,linmem}`: a new store and
//! instance of an already compiled one-page module (`wasmi_limited`: with a
//! `StoreLimits` limiter in the store).
//! `hot/call/{wasmi_typed,cached,by_name,wasmi_by_name,dynamic_cached,dynamic_by_name}`:
//! one call of `load_u8`, through a cached handle or looked up by name.

use crate::common::{self, MIB, RawWasmi};
use criterion::{Criterion, Throughput};
use linmem::{Guest, LinearMemoryView, MemoryValue, Module, Value};
use std::hint::black_box;

trait Elem: MemoryValue + Copy {
    const NAME: &'static str;
    const SIZE: usize;
    fn decode(bytes: &[u8]) -> Self;
    fn fold(acc: u64, value: Self) -> u64;
}

macro_rules! elem {
    ($($ty:ty),*) => {$(
        impl Elem for $ty {
            const NAME: &'static str = stringify!($ty);
            const SIZE: usize = size_of::<$ty>();
            #[inline]
            fn decode(bytes: &[u8]) -> Self {
                let mut array = [0u8; size_of::<$ty>()];
                array.copy_from_slice(bytes);
                <$ty>::from_le_bytes(array)
            }
            #[inline]
            fn fold(acc: u64, value: Self) -> u64 {
                acc.wrapping_mul(31).wrapping_add(u64::from(value))
            }
        }
    )*};
}
elem!(u8, u32, u64);

/// The error both forms return, built out of line as linmem's is.
#[cold]
#[inline(never)]
fn out_of_bounds(addr: u64, len: u64, size: usize) -> linmem::Error {
    linmem::Error::OutOfBounds {
        addr,
        len,
        size: size as u64,
    }
}

/// linmem's form: `start <= size - n`, then `bytes[start..][..n]`.
#[inline]
fn form_span(bytes: &[u8], addr: u64, len: u64) -> linmem::Result<&[u8]> {
    if let (Ok(start), Ok(n)) = (usize::try_from(addr), usize::try_from(len))
        && n <= bytes.len()
        && start <= bytes.len() - n
    {
        return Ok(&bytes[start..][..n]);
    }
    Err(out_of_bounds(addr, len, bytes.len()))
}

/// The issue's form: `bytes.get(start..).and_then(|r| r.get(..n))`.
#[inline]
fn form_get(bytes: &[u8], addr: u64, len: u64) -> linmem::Result<&[u8]> {
    if let (Ok(start), Ok(n)) = (usize::try_from(addr), usize::try_from(len))
        && let Some(slice) = bytes.get(start..).and_then(|rest| rest.get(..n))
    {
        return Ok(slice);
    }
    Err(out_of_bounds(addr, len, bytes.len()))
}

fn read_with<T: Elem>(
    bytes: &[u8],
    form: impl Fn(&[u8], u64, u64) -> linmem::Result<&[u8]>,
) -> u64 {
    let size = T::SIZE as u64;
    let mut acc = 0;
    for i in 0..(MIB / T::SIZE) as u64 {
        acc = T::fold(acc, T::decode(form(bytes, i * size, size).unwrap()));
    }
    acc
}

fn read_view<T: Elem>(view: LinearMemoryView<'_>) -> u64 {
    let size = T::SIZE as u64;
    let mut acc = 0;
    for i in 0..(MIB / T::SIZE) as u64 {
        acc = T::fold(acc, view.read::<T>(i * size).unwrap());
    }
    acc
}

fn read_slice<T: Elem>(bytes: &[u8]) -> u64 {
    let mut acc = 0;
    for i in 0..MIB / T::SIZE {
        let at = i * T::SIZE;
        acc = T::fold(acc, T::decode(&bytes[at..at + T::SIZE]));
    }
    acc
}

fn bench_reads<T: Elem>(c: &mut Criterion, guest: &Guest) {
    let bytes = guest.view().as_slice();
    let want = read_slice::<T>(bytes);
    let mut group = c.benchmark_group(format!("hot/read_{}", T::NAME));
    group.throughput(Throughput::Bytes(MIB as u64));
    group.bench_function("view", |b| {
        b.iter(|| assert_eq!(read_view::<T>(black_box(guest).view()), want))
    });
    group.bench_function("form_span", |b| {
        b.iter(|| assert_eq!(read_with::<T>(black_box(bytes), form_span), want))
    });
    group.bench_function("form_get", |b| {
        b.iter(|| assert_eq!(read_with::<T>(black_box(bytes), form_get), want))
    });
    group.bench_function("checked_slice", |b| {
        b.iter(|| assert_eq!(read_slice::<T>(black_box(bytes)), want))
    });
    group.finish();
}

pub fn benches(c: &mut Criterion) {
    // Reads: 17 pages of pseudo-random bytes.
    let mut guest = Guest::new(r#"(module (memory (export "memory") 17))"#).expect("module");
    let data = common::test_bytes(MIB, 11);
    guest.view_mut().write_bytes(0, &data).expect("fits");
    bench_reads::<u8>(c, &guest);
    bench_reads::<u32>(c, &guest);
    bench_reads::<u64>(c, &guest);

    // Instantiation of a compiled one-page module.
    let wasm = common::wasm(common::MEMORY_1PAGE_WAT);
    let module = Module::new(&wasm).expect("fixture compiles");
    let mut group = c.benchmark_group("hot/instantiate_1page");
    group.bench_function("wasmi_raw", |b| {
        b.iter(|| {
            let raw = RawWasmi::instantiate(black_box(module.as_wasmi()));
            assert_eq!(raw.memory.data(&raw.store).len(), 65_536);
        })
    });
    // Raw wasmi with a limiter in its store, the least a host of untrusted
    // guests sets up (linmem always keeps state and a limiter there).
    group.bench_function("wasmi_limited", |b| {
        b.iter(|| {
            let wasmi = black_box(module.as_wasmi());
            let limits = wasmi::StoreLimitsBuilder::new()
                .memory_size(1 << 30)
                .build();
            let mut store = wasmi::Store::new(wasmi.engine(), limits);
            store.limiter(|limits| limits);
            let linker = wasmi::Linker::new(wasmi.engine());
            let instance = linker.instantiate_and_start(&mut store, wasmi).unwrap();
            let memory = instance.get_memory(&store, "memory").unwrap();
            assert_eq!(memory.data(&store).len(), 65_536);
        })
    });
    group.bench_function("linmem", |b| {
        b.iter(|| {
            let guest = black_box(&module).instantiate().unwrap();
            assert_eq!(guest.view().len(), 65_536);
        })
    });
    group.finish();

    // Calls of `load_u8`, cached or by name.
    let module = Module::new(common::wasm(common::ROUND_TRIP_WAT)).expect("fixture compiles");
    let mut raw = RawWasmi::instantiate(module.as_wasmi());
    raw.memory.data_mut(&mut raw.store)[7] = 42;
    let mut guest = module.instantiate().expect("instantiates");
    guest.view_mut().write(7, 42u8).expect("fits");
    let mut group = c.benchmark_group("hot/call");
    let typed = raw.func::<i32, i32>("load_u8");
    group.bench_function("wasmi_typed", |b| {
        b.iter(|| assert_eq!(typed.call(&mut raw.store, black_box(7)).unwrap(), 42))
    });
    group.bench_function("wasmi_by_name", |b| {
        b.iter(|| {
            let f = raw
                .instance
                .get_typed_func::<i32, i32>(&raw.store, black_box("load_u8"))
                .unwrap();
            assert_eq!(f.call(&mut raw.store, black_box(7)).unwrap(), 42);
        })
    });
    let cached = guest.export_func::<i32, i32>("load_u8").expect("export");
    group.bench_function("cached", |b| {
        b.iter(|| assert_eq!(cached.call(&mut guest, black_box(7)).unwrap(), 42))
    });
    group.bench_function("by_name", |b| {
        b.iter(|| {
            let got = guest.call::<i32, i32>(black_box("load_u8"), black_box(7));
            assert_eq!(got.unwrap(), 42);
        })
    });
    let dynamic = guest.export_dynamic_func("load_u8").expect("export");
    group.bench_function("dynamic_cached", |b| {
        b.iter(|| {
            let got = dynamic
                .call(&mut guest, &[Value::I32(black_box(7))])
                .unwrap();
            assert_eq!(got, [Value::I32(42)]);
        })
    });
    group.bench_function("dynamic_by_name", |b| {
        b.iter(|| {
            let got = guest
                .call_dynamic(black_box("load_u8"), &[Value::I32(7)])
                .unwrap();
            assert_eq!(got, [Value::I32(42)]);
        })
    });
    group.finish();
}
