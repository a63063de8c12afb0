//! Every typed width, unaligned addresses, the last valid byte and every
//! out-of-bounds edge of the views.
#![cfg(feature = "wat")] // the modules below are WAT text; tests/binary_only.rs covers builds without it

mod common;
use common::{PAGE, assert_out_of_bounds, one_page};

use linmem::{Error, Guest, MemoryValue};

/// Writes `value` at every address of the first 9 and last `size + 8` bytes,
/// reads it back, checks the bytes are little-endian, and checks the first
/// address past the end fails.
fn round_trip<T>(value: T)
where
    T: MemoryValue + PartialEq + std::fmt::Debug + Copy,
{
    let mut guest = one_page();
    let bytes = value.to_le_bytes();
    let size = bytes.as_ref().len() as u64;
    let last = PAGE - size;
    for addr in (0..9).chain(last - 8..=last) {
        let mut view = guest.view_mut();
        view.write(addr, value).unwrap();
        assert_eq!(view.read::<T>(addr).unwrap(), value, "at {addr}");
        assert_eq!(view.bytes(addr, size).unwrap(), bytes.as_ref(), "at {addr}");
        assert_eq!(guest.view().read::<T>(addr).unwrap(), value);
    }
    let mut view = guest.view_mut();
    assert_out_of_bounds(view.read::<T>(last + 1), last + 1, size, PAGE);
    assert_out_of_bounds(view.write(last + 1, value), last + 1, size, PAGE);
    assert_out_of_bounds(view.read::<T>(u64::MAX), u64::MAX, size, PAGE);
    assert_out_of_bounds(view.write(u64::MAX, value), u64::MAX, size, PAGE);
}

#[test]
fn every_width_round_trips_at_unaligned_addresses_and_the_end() {
    round_trip(0xABu8);
    round_trip(-2i8);
    round_trip(0xBEEFu16);
    round_trip(-12_345i16);
    round_trip(0xDEAD_BEEFu32);
    round_trip(-123_456_789i32);
    round_trip(0x0123_4567_89AB_CDEFu64);
    round_trip(i64::MIN + 7);
    round_trip(u128::MAX - 1);
    round_trip(i128::MIN);
    round_trip(3.5f32);
    round_trip(-1.0e300f64);
    round_trip([1u8, 2, 3, 4, 5]);
    round_trip([9u8; 16]);
}

#[test]
fn values_are_little_endian() {
    let mut guest = one_page();
    let mut view = guest.view_mut();
    view.write(1, 0x0102_0304u32).unwrap();
    assert_eq!(view.bytes(1, 4).unwrap(), &[4, 3, 2, 1]);
    view.write(10, 1.0f32).unwrap();
    assert_eq!(view.bytes(10, 4).unwrap(), &[0, 0, 0x80, 0x3f]);
    view.write_bytes(20, &[0xff, 0xff, 0xff, 0x7f]).unwrap();
    assert_eq!(view.read::<i32>(20).unwrap(), i32::MAX);
    assert_eq!(view.read::<i16>(22).unwrap(), 0x7fff);
}

#[test]
fn last_byte_is_valid_and_one_past_is_not() {
    let mut guest = one_page();
    let mut view = guest.view_mut();
    view.write(PAGE - 1, 7u8).unwrap();
    assert_eq!(view.read::<u8>(PAGE - 1).unwrap(), 7);
    assert_out_of_bounds(view.read::<u8>(PAGE), PAGE, 1, PAGE);
    assert_out_of_bounds(view.read::<u16>(PAGE - 1), PAGE - 1, 2, PAGE);
    assert_eq!(
        view.bytes(PAGE, 0).unwrap(),
        &[] as &[u8],
        "an empty range at the end is in bounds"
    );
    assert_out_of_bounds(view.bytes(PAGE + 1, 0), PAGE + 1, 0, PAGE);
}

/// A wasm32 guest's pointers and lengths go in as it passes them (`i32`,
/// `u32`), read as unsigned like its own loads read them; memory64's `i64`
/// likewise; host `usize` lengths too.
#[test]
fn guest_integer_types_are_addresses_and_lengths() {
    let mut guest = one_page();
    let mut view = guest.view_mut();
    let (ptr, len): (i32, i32) = (16, 3);
    view.write_bytes(ptr, b"abc").unwrap();
    assert_eq!(view.bytes(ptr, len).unwrap(), b"abc");
    assert_eq!(view.str(16u32, 3u32).unwrap(), "abc");
    assert_eq!(view.read::<u8>(17i64).unwrap(), b'b');
    assert_eq!(view.to_vec(16usize, b"abc".len()).unwrap(), b"abc");
    // Negative numbers are addresses of 2 GiB and more, never below zero.
    assert_out_of_bounds(view.read::<u8>(-1i32), 0xFFFF_FFFF, 1, PAGE);
    assert_out_of_bounds(view.bytes(0, i32::MIN), 0, 0x8000_0000, PAGE);
    assert_out_of_bounds(view.read::<u16>(-2i64), u64::MAX - 1, 2, PAGE);
    assert_out_of_bounds(view.fill(0i32, -1i32, 7), 0, 0xFFFF_FFFF, PAGE);
    assert_eq!(
        view.bytes(ptr, len).unwrap(),
        b"abc",
        "failed writes changed nothing"
    );
}

#[test]
fn overflowing_ranges_are_errors_not_panics() {
    let mut guest = one_page();
    let mut view = guest.view_mut();
    assert_out_of_bounds(view.bytes(u64::MAX, 2), u64::MAX, 2, PAGE);
    assert_out_of_bounds(view.bytes(1, u64::MAX), 1, u64::MAX, PAGE);
    assert_out_of_bounds(view.bytes_mut(u64::MAX - 1, 5), u64::MAX - 1, 5, PAGE);
    assert_out_of_bounds(view.to_vec(0, u64::MAX), 0, u64::MAX, PAGE);
    assert_out_of_bounds(view.fill(2, u64::MAX, 1), 2, u64::MAX, PAGE);
    assert_out_of_bounds(view.copy_within(0, u64::MAX, 2), u64::MAX, 2, PAGE);
    assert_out_of_bounds(view.copy_within(u64::MAX, 0, 2), u64::MAX, 2, PAGE);
    assert_out_of_bounds(view.str(u64::MAX, 1), u64::MAX, 1, PAGE);
    assert_out_of_bounds(
        view.read::<u32>(u64::from(u32::MAX)),
        u64::from(u32::MAX),
        4,
        PAGE,
    );
    assert!(
        view.as_mut_slice().iter().all(|&b| b == 0),
        "failed writes changed nothing"
    );
}

#[test]
fn a_negative_i32_pointer_is_a_huge_address_not_a_panic() {
    let guest = one_page();
    let ptr: i32 = -4;
    let addr = u64::from(ptr.cast_unsigned());
    assert_eq!(addr, 0xFFFF_FFFC);
    assert_out_of_bounds(guest.view().read::<u32>(addr), addr, 4, PAGE);
}

#[test]
fn byte_copies_in_and_out() {
    let mut guest = one_page();
    let mut view = guest.view_mut();
    view.write_bytes(100, b"hello").unwrap();
    let mut out = [0u8; 5];
    view.read_bytes(100, &mut out).unwrap();
    assert_eq!(&out, b"hello");
    assert_eq!(view.to_vec(99, 7).unwrap(), b"\0hello\0");
    view.bytes_mut(100, 1).unwrap()[0] = b'j';
    assert_eq!(view.str(100, 5).unwrap(), "jello");
    let mut big = [1u8; 8];
    assert_out_of_bounds(view.read_bytes(PAGE - 4, &mut big), PAGE - 4, 8, PAGE);
    assert_eq!(big, [1; 8], "a failed copy leaves the buffer alone");
    assert_out_of_bounds(view.write_bytes(PAGE - 4, &big), PAGE - 4, 8, PAGE);
    assert_eq!(view.bytes(PAGE - 4, 4).unwrap(), &[0; 4]);
}

#[test]
fn str_rejects_invalid_utf8_with_the_address() {
    let mut guest = one_page();
    let mut view = guest.view_mut();
    view.write_bytes(10, &[b'o', b'k', 0xff, b'!']).unwrap();
    match view.str(10, 4) {
        Err(Error::InvalidUtf8 {
            addr: 10,
            len: 4,
            valid_up_to: 12,
            ..
        }) => {}
        other => panic!("expected InvalidUtf8 at 12, got {other:?}"),
    }
    assert_eq!(view.str(10, 2).unwrap(), "ok");
    view.write_bytes(20, "é".as_bytes()).unwrap();
    assert!(matches!(
        view.str(20, 1),
        Err(Error::InvalidUtf8 {
            valid_up_to: 20,
            ..
        })
    ));
}

#[test]
fn fill_and_copy_within_match_a_vec_model() {
    let mut guest = one_page();
    let mut model = vec![0u8; PAGE as usize];
    let mut view = guest.view_mut();
    for i in 0..64u8 {
        view.write(u64::from(i), i).unwrap();
        model[usize::from(i)] = i;
    }
    view.fill(10, 20, 0xAA).unwrap();
    model[10..30].fill(0xAA);
    view.copy_within(0, 5, 40).unwrap(); // overlapping forward
    model.copy_within(0..40, 5);
    view.copy_within(20, 2, 30).unwrap(); // overlapping backward
    model.copy_within(20..50, 2);
    view.copy_within(PAGE - 3, 0, 3).unwrap(); // from the very end
    model.copy_within(PAGE as usize - 3.., 0);
    view.fill(PAGE, 0, 1).unwrap(); // empty fill at the end
    assert_eq!(view.as_mut_slice(), &model[..]);
}

#[test]
fn sizes_and_pages() {
    let mut guest = one_page();
    let view = guest.view();
    assert_eq!(
        (view.len(), view.pages(), view.page_size(), view.is_empty()),
        (PAGE, 1, 65_536, false)
    );
    assert_eq!(view.as_slice().len(), PAGE as usize);
    assert_eq!(guest.grow(2).unwrap(), 1);
    let view = guest.view_mut();
    assert_eq!((view.len(), view.pages()), (3 * PAGE, 3));
    let empty = Guest::new(r#"(module (memory (export "memory") 0))"#).unwrap();
    assert!(empty.view().is_empty());
    assert_out_of_bounds(empty.view().read::<u8>(0), 0, 1, 0);
}

#[test]
fn a_mut_view_converts_to_a_shared_one() {
    let mut guest = one_page();
    let mut view = guest.view_mut();
    view.write(0, 5u8).unwrap();
    let shared: linmem::LinearMemoryView<'_> = view.into();
    assert_eq!(shared.read::<u8>(0).unwrap(), 5);
}
