//! Typed guest pointers and slices: conversions from guest values, checked
//! arithmetic, loads and stores re-checked at every use, iteration, and
//! every out-of-bounds and overflow edge.
#![cfg(feature = "wat")] // the modules below are WAT text; tests/binary_only.rs covers builds without it

mod common;
use common::{PAGE, assert_out_of_bounds};

use linmem::{Error, Guest, GuestPtr, GuestSlice};

/// A guest with one zeroed page (at most 4) and an export reading a u32.
fn one_page() -> Guest {
    Guest::new(
        r#"(module (memory (export "memory") 1 4)
            (func (export "load32") (param i32) (result i32) (i32.load (local.get 0)))
            (func (export "store32") (param i32 i32) (i32.store (local.get 0) (local.get 1))))"#,
    )
    .unwrap()
}

fn assert_overflow<T: std::fmt::Debug>(result: linmem::Result<T>, addr: u64, offset: i128) {
    match result {
        Err(Error::PtrOverflow { addr: a, offset: o }) => {
            assert_eq!((a, o), (addr, offset), "wrong context in the error")
        }
        other => panic!("expected PtrOverflow {{ {addr}, {offset} }}, got {other:?}"),
    }
}

#[test]
fn guest_integers_convert_without_sign_extension() {
    assert_eq!(GuestPtr::<u8>::from_i32(-1).addr(), 0xFFFF_FFFF);
    assert_eq!(GuestPtr::<u8>::from_i32(i32::MIN).addr(), 0x8000_0000);
    assert_eq!(GuestPtr::<u8>::from_i32(1234).addr(), 1234);
    assert_eq!(GuestPtr::<u8>::from_i64(-1).addr(), u64::MAX);
    assert_eq!(GuestPtr::<u8>::from(7u32).addr(), 7);
    assert_eq!(GuestPtr::<u8>::from(u64::MAX).addr(), u64::MAX);
    assert_eq!(u64::from(GuestPtr::<u16>::new(9)), 9);

    let slice = GuestSlice::<u16>::from_i32(-8, -1);
    assert_eq!((slice.addr(), slice.len()), (0xFFFF_FFF8, 0xFFFF_FFFF));
    let slice = GuestSlice::<u16>::from_i64(-8, 3);
    assert_eq!((slice.addr(), slice.len()), (u64::MAX - 7, 3));
}

#[test]
fn pointers_convert_back_to_guest_i32() {
    assert_eq!(GuestPtr::<u8>::new(0xFFFF_FFFF).to_i32().unwrap(), -1);
    assert_eq!(GuestPtr::<u8>::new(0x8000_0000).to_i32().unwrap(), i32::MIN);
    assert!(matches!(
        GuestPtr::<u8>::new(1 << 32).to_i32(),
        Err(Error::TooLargeForI32 {
            value: 0x1_0000_0000
        })
    ));
    assert_eq!(
        GuestSlice::<u8>::from_i32(-4, 5).to_i32_pair().unwrap(),
        (-4, 5)
    );
    assert!(matches!(
        GuestSlice::<u8>::new(GuestPtr::new(4), u64::MAX).to_i32_pair(),
        Err(Error::TooLargeForI32 { value: u64::MAX })
    ));
}

#[test]
fn pointers_are_plain_copyable_numbers() {
    let p = GuestPtr::<u32>::new(8);
    let q = p; // Copy
    assert_eq!(p, q);
    assert_ne!(p, GuestPtr::new(9));
    assert!(GuestPtr::<u32>::new(0).is_null() && !p.is_null());
    assert_eq!(p.cast::<u8>().addr(), 8);
    assert_eq!(format!("{p:?}"), "GuestPtr<u32>(0x8)");
    let s = p.with_len(3);
    assert_eq!(s, GuestSlice::new(p, 3));
    assert_eq!(format!("{s:?}"), "GuestSlice<u32>(0x8, len 3)");
    assert!(GuestSlice::<u32>::new(p, 0).is_empty() && !s.is_empty());
    fn send_sync<T: Send + Sync + Copy>(_: T) {}
    send_sync(p);
    send_sync(s);
}

#[test]
fn arithmetic_is_checked_and_counts_elements() {
    let p = GuestPtr::<u64>::new(16);
    assert_eq!(p.add(0).unwrap(), p);
    assert_eq!(p.add(3).unwrap().addr(), 40);
    assert_eq!(p.offset(3).unwrap().addr(), 19);
    assert_overflow(
        p.add(u64::MAX / 8 + 1),
        16,
        i128::from(u64::MAX / 8 + 1) * 8,
    );
    assert_overflow(p.add(u64::MAX / 8), 16, i128::from(u64::MAX / 8) * 8);
    assert_overflow(GuestPtr::<u8>::new(u64::MAX).add(1), u64::MAX, 1);
    assert_overflow(GuestPtr::<u8>::new(u64::MAX).offset(1), u64::MAX, 1);
    assert_eq!(
        GuestPtr::<u8>::new(u64::MAX - 1).offset(1).unwrap().addr(),
        u64::MAX
    );
    // Zero-sized elements never move.
    assert_eq!(GuestPtr::<[u8; 0]>::new(5).add(u64::MAX).unwrap().addr(), 5);
}

#[test]
fn slice_indexing_and_splitting_are_checked() {
    let s = GuestSlice::<u32>::new(GuestPtr::new(100), 4);
    assert_eq!(s.byte_len().unwrap(), 16);
    assert_eq!(s.get(0).unwrap().addr(), 100);
    assert_eq!(s.get(3).unwrap().addr(), 112);
    assert!(matches!(
        s.get(4),
        Err(Error::IndexOutOfRange { index: 4, len: 4 })
    ));
    assert!(matches!(
        s.get(u64::MAX),
        Err(Error::IndexOutOfRange {
            index: u64::MAX,
            len: 4
        })
    ));

    let (a, b) = s.split_at(1).unwrap();
    assert_eq!((a.addr(), a.len(), b.addr(), b.len()), (100, 1, 104, 3));
    let (a, b) = s.split_at(4).unwrap();
    assert_eq!((a.len(), b.addr(), b.len()), (4, 116, 0));
    let (a, b) = s.split_at(0).unwrap();
    assert_eq!((a.len(), b.len()), (0, 4));
    assert!(matches!(
        s.split_at(5),
        Err(Error::IndexOutOfRange { index: 5, len: 4 })
    ));

    // A slice near the top of the address space: its elements' addresses overflow.
    let top = GuestSlice::<u32>::new(GuestPtr::new(u64::MAX - 5), 4);
    assert_eq!(top.get(1).unwrap().addr(), u64::MAX - 1);
    assert_overflow(top.get(2), u64::MAX - 5, 8);
    assert_overflow(top.split_at(3), u64::MAX - 5, 12);
}

#[test]
fn overflowing_slice_lengths_are_errors() {
    let mut guest = one_page();
    let huge = GuestSlice::<u64>::new(GuestPtr::new(0), u64::MAX / 4);
    let bytes = i128::from(u64::MAX / 4) * 8;
    assert_overflow(huge.byte_len(), 0, bytes);
    assert_overflow(guest.view().iter(huge), 0, bytes);
    assert_overflow(guest.view().load_vec(huge), 0, bytes);
    let mut view = guest.view_mut();
    assert_overflow(view.iter(huge), 0, bytes);
    // The length check comes first, then the byte length.
    assert!(matches!(
        view.store_slice(huge, &[1, 2]),
        Err(Error::LengthMismatch { guest: _, host: 2 })
    ));
    // A byte length that fits but a range that wraps the address space.
    let wraps = GuestSlice::<u32>::new(GuestPtr::new(u64::MAX - 3), 2);
    assert_out_of_bounds(view.iter(wraps), u64::MAX - 3, 8, PAGE);
    assert!(
        view.as_mut_slice().iter().all(|&b| b == 0),
        "nothing was written"
    );
}

#[test]
fn load_and_store_round_trip_and_check_bounds() {
    let mut guest = one_page();
    let mut view = guest.view_mut();
    let p = GuestPtr::<u32>::new(PAGE - 4);
    view.store(p, 0xA1B2_C3D4).unwrap();
    assert_eq!(view.load(p).unwrap(), 0xA1B2_C3D4);
    assert_eq!(view.bytes(PAGE - 4, 4).unwrap(), &[0xD4, 0xC3, 0xB2, 0xA1]);
    let past = GuestPtr::<u32>::new(PAGE - 3);
    assert_out_of_bounds(view.load(past), PAGE - 3, 4, PAGE);
    assert_out_of_bounds(view.store(past, 1), PAGE - 3, 4, PAGE);
    let wild = GuestPtr::<u16>::from_i32(-1);
    assert_out_of_bounds(view.load(wild), 0xFFFF_FFFF, 2, PAGE);
    assert_out_of_bounds(
        guest.view().load(GuestPtr::<u8>::new(u64::MAX)),
        u64::MAX,
        1,
        PAGE,
    );
    // Unaligned is fine.
    guest
        .view_mut()
        .store(GuestPtr::<f64>::new(3), -0.25)
        .unwrap();
    assert_eq!(guest.view().load(GuestPtr::<f64>::new(3)).unwrap(), -0.25);
}

#[test]
fn a_pointer_kept_across_grow_and_calls_is_checked_again() {
    let mut guest = one_page();
    let beyond = GuestPtr::<u32>::new(PAGE + 8);
    assert_out_of_bounds(guest.view().load(beyond), PAGE + 8, 4, PAGE);
    guest.grow(1).unwrap();
    // The same pointer is now inside the memory.
    guest.view_mut().store(beyond, 77).unwrap();
    let from_guest: i32 = guest.call("load32", beyond.to_i32().unwrap()).unwrap();
    assert_eq!(from_guest, 77);
    // The guest writes through the pointer; the host reads after the call.
    guest
        .call::<_, ()>("store32", (beyond.to_i32().unwrap(), 99))
        .unwrap();
    assert_eq!(guest.view().load(beyond).unwrap(), 99);
}

#[test]
fn iteration_reads_little_endian_elements_once_checked() {
    let mut guest = one_page();
    let s = GuestSlice::<u32>::from_i32(33, 4); // unaligned on purpose
    guest
        .view_mut()
        .store_slice(s, &[1, 0x0102_0304, u32::MAX, 7])
        .unwrap();
    assert_eq!(guest.view().bytes(37, 4).unwrap(), &[4, 3, 2, 1]);

    let view = guest.view();
    let mut iter = view.iter(s).unwrap();
    assert_eq!(iter.len(), 4);
    assert_eq!(iter.next(), Some(1));
    assert_eq!(iter.next_back(), Some(7));
    assert_eq!(iter.len(), 2);
    assert_eq!(iter.clone().collect::<Vec<_>>(), [0x0102_0304, u32::MAX]);
    assert_eq!(iter.next(), Some(0x0102_0304));
    assert_eq!(iter.next(), Some(u32::MAX));
    assert_eq!(iter.next(), None);
    assert_eq!(iter.next_back(), None);
    assert_eq!(view.load_vec(s).unwrap(), [1, 0x0102_0304, u32::MAX, 7]);
    assert_eq!(
        view.iter(s).unwrap().rev().collect::<Vec<_>>(),
        [7, u32::MAX, 0x0102_0304, 1]
    );

    // Empty slices iterate nothing, even at the very end of memory.
    let empty = GuestSlice::<u64>::new(GuestPtr::new(PAGE), 0);
    assert_eq!(view.iter(empty).unwrap().count(), 0);
    // Zero-sized elements: the count without memory.
    let zst = GuestSlice::<[u8; 0]>::new(GuestPtr::new(PAGE), 3);
    assert_eq!(view.load_vec(zst).unwrap(), [[0u8; 0]; 3]);
    // One element too many is out of bounds for the whole range, up front.
    let last = GuestSlice::<u16>::new(GuestPtr::new(PAGE - 6), 3);
    assert_eq!(view.iter(last).unwrap().count(), 3);
    let over = GuestSlice::<u16>::new(GuestPtr::new(PAGE - 6), 4);
    assert_out_of_bounds(view.iter(over), PAGE - 6, 8, PAGE);
}

#[test]
fn iteration_matches_element_loads_for_every_width() {
    let mut guest = one_page();
    let bytes: Vec<u8> = (0..=255u8)
        .cycle()
        .take(512)
        .map(|b| b.wrapping_mul(31))
        .collect();
    guest.view_mut().write_bytes(0, &bytes).unwrap();
    let view = guest.view();
    fn check<T: linmem::MemoryValue + PartialEq + std::fmt::Debug>(
        view: linmem::LinearMemoryView<'_>,
        addr: u64,
        len: u64,
    ) {
        let s = GuestSlice::<T>::new(GuestPtr::new(addr), len);
        let by_index: Vec<T> = (0..len)
            .map(|i| view.load(s.get(i).unwrap()).unwrap())
            .collect();
        assert_eq!(view.load_vec(s).unwrap(), by_index);
    }
    for addr in [0, 1, 3, 7] {
        check::<u8>(view, addr, 100);
        check::<i16>(view, addr, 50);
        check::<u32>(view, addr, 30);
        check::<f32>(view, addr, 30);
        check::<i64>(view, addr, 20);
        check::<u128>(view, addr, 10);
        check::<[u8; 3]>(view, addr, 10);
    }
}

#[test]
fn store_slice_checks_lengths_and_writes_nothing_on_error() {
    let mut guest = one_page();
    let mut view = guest.view_mut();
    let dst = GuestSlice::<u16>::new(GuestPtr::new(10), 3);
    assert!(matches!(
        view.store_slice(dst, &[1, 2]),
        Err(Error::LengthMismatch { guest: 3, host: 2 })
    ));
    let end = GuestSlice::<u16>::new(GuestPtr::new(PAGE - 4), 3);
    assert_out_of_bounds(view.store_slice(end, &[1, 2, 3]), PAGE - 4, 6, PAGE);
    assert!(view.as_mut_slice().iter().all(|&b| b == 0));
    view.store_slice(dst, &[0x0102, 0x0304, 0x0506]).unwrap();
    assert_eq!(view.bytes(10, 6).unwrap(), &[2, 1, 4, 3, 6, 5]);
}

#[test]
fn byte_slices_borrow_without_copying() {
    let mut guest = one_page();
    let buf = GuestSlice::<u8>::from_i32(200, 5);
    guest
        .view_mut()
        .slice_mut(buf)
        .unwrap()
        .copy_from_slice(b"bytes");
    assert_eq!(guest.view().slice(buf).unwrap(), b"bytes");
    assert_eq!(guest.view_mut().slice(buf).unwrap(), b"bytes");
    let bad = GuestSlice::<u8>::from_i32(-2, 5);
    assert_out_of_bounds(guest.view().slice(bad), 0xFFFF_FFFE, 5, PAGE);
    assert_out_of_bounds(guest.view_mut().slice_mut(bad), 0xFFFF_FFFE, 5, PAGE);
}

#[test]
fn error_messages_carry_the_context() {
    assert_eq!(
        GuestPtr::<u64>::new(8)
            .add(u64::MAX / 4)
            .unwrap_err()
            .to_string(),
        format!(
            "pointer arithmetic overflows: address 8 offset by {} bytes",
            i128::from(u64::MAX / 4) * 8
        )
    );
    assert_eq!(
        GuestSlice::<u8>::new(GuestPtr::new(0), 2)
            .get(2)
            .unwrap_err()
            .to_string(),
        "index 2 out of range for a guest slice of 2 elements"
    );
}

#[test]
fn host_functions_take_typed_pointers_and_bad_ones_fail_the_call() {
    use linmem::HostContext;
    let module = linmem::Module::new(
        r#"(module
            (import "env" "sum_u32" (func $sum (param i32 i32) (result i32)))
            (import "env" "log" (func $log (param i32 i32)))
            (memory (export "memory") 1)
            (data (i32.const 64) "\01\00\00\00\02\00\00\00\03\00\00\00")
            (data (i32.const 100) "from the guest")
            (func (export "sum") (param i32 i32) (result i32) (call $sum (local.get 0) (local.get 1)))
            (func (export "log") (param i32 i32) (call $log (local.get 0) (local.get 1))))"#,
    )
    .unwrap();
    let mut guest = module
        .guest_with(Vec::<String>::new())
        .host_func(
            "env",
            "sum_u32",
            |cx: HostContext<'_, Vec<String>>, ptr: i32, len: i32| {
                let slice = GuestSlice::<u32>::from_i32(ptr, len);
                Ok(cx.view()?.iter(slice)?.fold(0u32, u32::wrapping_add))
            },
        )
        .unwrap()
        .host_func(
            "env",
            "log",
            |mut cx: HostContext<'_, Vec<String>>, ptr: i32, len: i32| {
                let slice = GuestSlice::<u8>::from_i32(ptr, len);
                let line = cx.view()?.str(slice.addr(), slice.len())?.to_owned();
                cx.data_mut().push(line);
                Ok(())
            },
        )
        .unwrap()
        .instantiate()
        .unwrap();
    assert_eq!(guest.call::<(i32, i32), i32>("sum", (64, 3)).unwrap(), 6);
    guest.call::<(i32, i32), ()>("log", (100, 14)).unwrap();
    assert_eq!(guest.data(), &["from the guest"]);

    // Bad pointers from the guest: errors that reach the caller intact.
    let source = |err: Error| match err {
        Error::HostFunc { error: source, .. } => *source,
        other => panic!("expected HostFunc, got {other:?}"),
    };
    let err = guest.call::<(i32, i32), i32>("sum", (-4, 2)).unwrap_err();
    assert!(matches!(
        source(err),
        Error::OutOfBounds {
            addr: 0xFFFF_FFFC,
            len: 8,
            size: PAGE
        }
    ));
    let err = guest
        .call::<(i32, i32), ()>("log", (PAGE as i32 - 2, 10))
        .unwrap_err();
    assert!(matches!(source(err), Error::OutOfBounds { len: 10, .. }));
    // u32::MAX elements of 4 bytes fit a u64 but not the memory.
    let err = guest.call::<(i32, i32), i32>("sum", (0, -1)).unwrap_err();
    assert!(matches!(
        source(err),
        Error::OutOfBounds {
            addr: 0,
            len: 0x3_FFFF_FFFC,
            ..
        }
    ));
    // The guest stays usable.
    assert_eq!(guest.call::<(i32, i32), i32>("sum", (68, 2)).unwrap(), 5);
}

/// A small deterministic generator (xorshift64*), biased towards the edges
/// of the address space, for the oracle tests.
struct Edges(u64);

impl Edges {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let r = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        match r % 6 {
            0 => r >> (r % 64),             // any magnitude
            1 => u64::MAX - (r % 64),       // just below the top
            2 => r % 64,                    // tiny
            3 => (1 << 32) - (r % 64) + 32, // around 4 GiB
            4 => u64::MAX / ((r % 16) + 1), // fractions of the space
            _ => r,
        }
    }
}

#[test]
fn arithmetic_matches_a_u128_oracle() {
    fn check<T: linmem::MemoryValue>(edges: &mut Edges) {
        let size = size_of::<T::Bytes>() as u128;
        for _ in 0..20_000 {
            let (addr, n) = (edges.next(), edges.next());
            let expected = u128::from(addr) + u128::from(n) * size;
            let ptr = GuestPtr::<T>::new(addr);
            match ptr.add(n) {
                Ok(p) => assert_eq!(u128::from(p.addr()), expected),
                Err(Error::PtrOverflow { addr: a, .. }) => {
                    assert_eq!(a, addr);
                    assert!(expected > u128::from(u64::MAX), "{addr} + {n} × {size}");
                }
                Err(other) => panic!("unexpected {other:?}"),
            }
            let slice = GuestSlice::<T>::new(ptr, n);
            let bytes = u128::from(n) * size;
            match slice.byte_len() {
                Ok(len) => assert_eq!(u128::from(len), bytes),
                Err(_) => assert!(bytes > u128::from(u64::MAX)),
            }
            let mid = edges.next();
            match slice.split_at(mid) {
                Ok((a, b)) => {
                    assert!(mid <= n);
                    assert_eq!((a.addr(), a.len(), b.len()), (addr, mid, n - mid));
                    assert_eq!(
                        u128::from(b.addr()),
                        u128::from(addr) + u128::from(mid) * size
                    );
                }
                Err(Error::IndexOutOfRange { .. }) => assert!(mid > n),
                Err(Error::PtrOverflow { .. }) => {
                    assert!(u128::from(addr) + u128::from(mid) * size > u128::from(u64::MAX))
                }
                Err(other) => panic!("unexpected {other:?}"),
            }
        }
    }
    let mut edges = Edges(0x9E37_79B9_7F4A_7C15);
    check::<u8>(&mut edges);
    check::<u16>(&mut edges);
    check::<u64>(&mut edges);
    check::<[u8; 24]>(&mut edges);
    check::<u128>(&mut edges);
}

#[test]
fn an_empty_memory_has_no_valid_pointer_but_empty_ranges() {
    let guest = Guest::new(r#"(module (memory (export "memory") 0))"#).unwrap();
    let view = guest.view();
    assert_out_of_bounds(view.load(GuestPtr::<u8>::new(0)), 0, 1, 0);
    assert_eq!(
        view.load_vec(GuestSlice::<u32>::new(GuestPtr::new(0), 0))
            .unwrap(),
        []
    );
    assert_out_of_bounds(
        view.iter(GuestSlice::<u32>::new(GuestPtr::new(0), 1)),
        0,
        4,
        0,
    );
    assert_out_of_bounds(view.c_str(0, 8), 0, 8, 0);
    assert_eq!(view.utf16_string(0, 0).unwrap(), "");
    assert_eq!(view.hex_dump(0, 0).unwrap().to_string(), "");
    assert_out_of_bounds(view.assemblyscript_string(4), 0, 4, 0);
}
