//! Hex dumps: the exact xxd layout, partial lines, large addresses, and
//! checked ranges.
#![cfg(feature = "wat")] // the modules below are WAT text; tests/binary_only.rs covers builds without it

use linmem::{Error, Guest};

const PAGE: u64 = 65_536;

fn one_page() -> Guest {
    Guest::new(r#"(module (memory (export "memory") 1))"#).unwrap()
}

#[test]
fn full_and_partial_lines_match_xxd() {
    let mut guest = one_page();
    let data: Vec<u8> = (0..40u8)
        .map(|i| i.wrapping_mul(7).wrapping_add(0x1E))
        .collect();
    guest.view_mut().write_bytes(0x100, &data).unwrap();
    guest.view_mut().write_bytes(0x108, b"Hi there").unwrap();
    let dump = guest.view().hex_dump(0x100, 40).unwrap().to_string();
    // What `xxd -s 256 -l 40` prints for the same bytes.
    let expected = "\
00000100: 1e25 2c33 3a41 484f 4869 2074 6865 7265  .%,3:AHOHi there
00000110: 8e95 9ca3 aab1 b8bf c6cd d4db e2e9 f0f7  ................
00000120: fe05 0c13 1a21 282f                      .....!(/
";
    assert_eq!(dump, expected);
    for line in dump.lines() {
        assert!(line.len() <= 8 + 2 + 39 + 2 + 16);
    }
}

#[test]
fn non_printable_bytes_are_dots_and_space_is_kept() {
    let mut guest = one_page();
    guest
        .view_mut()
        .write_bytes(0, &[0, b' ', b'~', 0x7F, 0x80, 0xFF, b'A'])
        .unwrap();
    assert_eq!(
        guest.view().hex_dump(0, 7).unwrap().to_string(),
        "00000000: 0020 7e7f 80ff 41                        . ~...A\n"
    );
}

#[test]
fn empty_dumps_and_accessors() {
    let guest = one_page();
    let view = guest.view();
    let dump = view.hex_dump(PAGE, 0).unwrap();
    assert_eq!(dump.to_string(), "");
    assert_eq!((dump.addr(), dump.bytes().len()), (PAGE, 0));
    let dump = view.hex_dump(16, 32).unwrap();
    assert_eq!((dump.addr(), dump.bytes()), (16, &[0u8; 32][..]));
    assert_eq!(dump.to_string().lines().count(), 2);
}

#[test]
fn offsets_are_guest_addresses_up_to_the_last_byte() {
    let mut guest = one_page();
    let dump = guest
        .view_mut()
        .hex_dump(PAGE - 17, 17)
        .unwrap()
        .to_string();
    assert_eq!(
        dump,
        "0000ffef: 0000 0000 0000 0000 0000 0000 0000 0000  ................\n\
         0000ffff: 00                                       .\n"
    );
}

#[test]
fn out_of_bounds_ranges_are_errors() {
    let guest = one_page();
    for (addr, len) in [(PAGE - 1, 2), (PAGE + 1, 0), (u64::MAX, 1), (1, u64::MAX)] {
        match guest.view().hex_dump(addr, len) {
            Err(Error::OutOfBounds {
                addr: a,
                len: l,
                size,
            }) => assert_eq!((a, l, size), (addr, len, PAGE)),
            other => panic!("expected OutOfBounds, got {other:?}"),
        }
    }
}
