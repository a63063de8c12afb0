//! Strings: NUL-terminated with a maximum length, UTF-16LE, AssemblyScript's
//! layout, the writers, and every invalid or out-of-bounds case with the
//! address where it went wrong.
#![cfg(feature = "wat")] // the modules below are WAT text; tests/binary_only.rs covers builds without it

mod common;
use common::{PAGE, assert_out_of_bounds, one_page};

use linmem::{Error, Guest, GuestPtr};

fn assert_invalid_utf16<T: std::fmt::Debug>(
    result: linmem::Result<T>,
    addr: u64,
    len: u64,
    valid_up_to: u64,
) {
    match result {
        Err(Error::InvalidUtf16 {
            addr: a,
            len: l,
            valid_up_to: v,
        }) => {
            assert_eq!(
                (a, l, v),
                (addr, len, valid_up_to),
                "wrong context in the error"
            )
        }
        other => panic!("expected InvalidUtf16 {{ {addr}, {len}, {valid_up_to} }}, got {other:?}"),
    }
}

#[test]
fn c_strings_stop_at_the_nul() {
    let mut guest = one_page();
    guest.view_mut().write_bytes(100, b"abc\0def\0").unwrap();
    let view = guest.view();
    assert_eq!(view.c_str(100, 100).unwrap(), "abc");
    assert_eq!(view.c_bytes(104, 4).unwrap(), b"def");
    // The NUL is the last byte allowed.
    assert_eq!(view.c_str(100, 4).unwrap(), "abc");
    // An empty string.
    assert_eq!(view.c_str(103, 1).unwrap(), "");
    assert_eq!(guest.view_mut().c_str(100, 8).unwrap(), "abc");
    assert_eq!(guest.view_mut().c_bytes(100, 8).unwrap(), b"abc");
}

#[test]
fn c_strings_without_a_nul_within_the_maximum_are_errors() {
    let mut guest = one_page();
    guest.view_mut().write_bytes(100, b"abc\0").unwrap();
    let view = guest.view();
    assert!(matches!(
        view.c_str(100, 3),
        Err(Error::MissingNul {
            addr: 100,
            max_len: 3
        })
    ));
    assert!(matches!(
        view.c_bytes(100, 0),
        Err(Error::MissingNul {
            addr: 100,
            max_len: 0
        })
    ));
    assert_eq!(
        view.c_str(100, 2).unwrap_err().to_string(),
        "no NUL byte in the 2 bytes at address 100"
    );
}

#[test]
fn a_nul_less_c_string_at_the_end_of_memory_is_out_of_bounds() {
    let mut guest = one_page();
    guest.view_mut().fill(PAGE - 10, 10, b'x').unwrap();
    let view = guest.view();
    assert_out_of_bounds(view.c_str(PAGE - 10, 100), PAGE - 10, 100, PAGE);
    assert_out_of_bounds(view.c_bytes(PAGE - 10, u64::MAX), PAGE - 10, u64::MAX, PAGE);
    // Exactly the bytes up to the end, no NUL: the maximum is reached in bounds.
    assert!(matches!(
        view.c_bytes(PAGE - 10, 10),
        Err(Error::MissingNul { max_len: 10, .. })
    ));
    // Starting at or past the end.
    assert_out_of_bounds(view.c_str(PAGE, 1), PAGE, 1, PAGE);
    assert_out_of_bounds(view.c_str(u64::MAX, 16), u64::MAX, 16, PAGE);
    assert!(matches!(view.c_str(PAGE, 0), Err(Error::MissingNul { .. })));
    // A NUL in the last byte is found.
    guest.view_mut().write(PAGE - 1, 0u8).unwrap();
    assert_eq!(guest.view().c_str(PAGE - 10, 100).unwrap(), "xxxxxxxxx");
}

#[test]
fn c_strings_must_be_utf8_before_the_nul() {
    let mut guest = one_page();
    guest
        .view_mut()
        .write_bytes(10, &[b'o', b'k', 0xC3, b'!', 0])
        .unwrap();
    match guest.view().c_str(10, 64) {
        Err(Error::InvalidUtf8 {
            addr: 10,
            len: 4,
            valid_up_to: 12,
            ..
        }) => {}
        other => panic!("expected InvalidUtf8 at 12, got {other:?}"),
    }
    // The bytes themselves are still reachable.
    assert_eq!(
        guest.view().c_bytes(10, 64).unwrap(),
        &[b'o', b'k', 0xC3, b'!']
    );
}

#[test]
fn utf16_round_trips_through_the_writer() {
    let mut guest = one_page();
    for (addr, text) in [
        (0, ""),
        (1, "plain ascii"),
        (77, "ünïcödé"),
        (200, "🦀 crabs 𝄞 and ❤"),
    ] {
        let written = guest.view_mut().write_utf16(addr, text).unwrap();
        assert_eq!(written.ptr(), GuestPtr::new(addr));
        assert_eq!(written.len(), text.encode_utf16().count() as u64);
        let units: Vec<u16> = guest.view().load_vec(written).unwrap();
        assert_eq!(units, text.encode_utf16().collect::<Vec<_>>());
        assert_eq!(
            guest
                .view()
                .utf16_string(addr, written.byte_len().unwrap())
                .unwrap(),
            text
        );
        assert_eq!(
            guest
                .view_mut()
                .utf16_string(addr, written.byte_len().unwrap())
                .unwrap(),
            text
        );
    }
}

#[test]
fn invalid_utf16_reports_the_first_bad_unit() {
    let mut guest = one_page();
    let mut put = |addr: u64, units: &[u16]| {
        let mut view = guest.view_mut();
        for (i, unit) in units.iter().enumerate() {
            view.write(addr + 2 * i as u64, *unit).unwrap();
        }
    };
    // A lone low surrogate after two valid units.
    put(100, &[0x41, 0x42, 0xDC00, 0x43]);
    // A high surrogate followed by a non-surrogate.
    put(200, &[0x41, 0xD83E, 0x41]);
    // A high surrogate as the last unit.
    put(300, &[0x41, 0x42, 0x43, 0xD83E]);
    // A valid pair before a lone surrogate: the pair counts as two units.
    put(400, &[0xD83E, 0xDD80, 0xDFFF]);
    let view = guest.view();
    assert_invalid_utf16(view.utf16_string(100, 8), 100, 8, 104);
    assert_invalid_utf16(view.utf16_string(200, 6), 200, 6, 202);
    assert_invalid_utf16(view.utf16_string(300, 8), 300, 8, 306);
    assert_invalid_utf16(view.utf16_string(400, 6), 400, 6, 404);
    assert_eq!(view.utf16_string(400, 4).unwrap(), "🦀");
    // An odd byte length: the lone last byte is where it went wrong.
    assert_invalid_utf16(view.utf16_string(100, 3), 100, 3, 102);
    assert_eq!(
        view.utf16_string(100, 8).unwrap_err().to_string(),
        "invalid UTF-16 in the 8 bytes at address 100: valid up to address 104"
    );
}

#[test]
fn utf16_ranges_are_checked() {
    let guest = one_page();
    let view = guest.view();
    assert_out_of_bounds(view.utf16_string(PAGE - 2, 4), PAGE - 2, 4, PAGE);
    assert_out_of_bounds(view.utf16_string(2, u64::MAX), 2, u64::MAX, PAGE);
    assert_eq!(view.utf16_string(PAGE, 0).unwrap(), "");
}

/// Lays out `text` as AssemblyScript does: `rtSize` (byte length) at `addr - 4`.
fn put_as_string(guest: &mut Guest, addr: u64, text: &str) {
    let units: Vec<u16> = text.encode_utf16().collect();
    let mut view = guest.view_mut();
    view.write(addr - 4, (units.len() * 2) as u32).unwrap();
    view.write_utf16(addr, text).unwrap();
}

#[test]
fn assemblyscript_strings_read_their_length_from_the_header() {
    let mut guest = one_page();
    put_as_string(&mut guest, 64, "index out of range");
    put_as_string(&mut guest, 200, "~lib/array.ts");
    put_as_string(&mut guest, 300, "");
    let view = guest.view();
    assert_eq!(
        view.assemblyscript_string(64).unwrap(),
        "index out of range"
    );
    assert_eq!(view.assemblyscript_string(200).unwrap(), "~lib/array.ts");
    assert_eq!(view.assemblyscript_string(300).unwrap(), "");
    assert_eq!(
        guest.view_mut().assemblyscript_string(64).unwrap(),
        "index out of range"
    );
}

#[test]
fn bad_assemblyscript_strings_are_errors() {
    let mut guest = one_page();
    // No room for a header below the pointer.
    for addr in 0..4 {
        assert!(matches!(
            guest.view().assemblyscript_string(addr),
            Err(Error::PtrOverflow { addr: a, offset: -4 }) if a == addr
        ));
    }
    // The header itself is out of bounds (a negative i32 pointer).
    let wild = GuestPtr::<u16>::from_i32(-8).addr();
    assert_out_of_bounds(guest.view().assemblyscript_string(wild), wild - 4, 4, PAGE);
    // A length that runs past the end of memory.
    guest.view_mut().write(PAGE - 12, 1000u32).unwrap();
    assert_out_of_bounds(
        guest.view().assemblyscript_string(PAGE - 8),
        PAGE - 8,
        1000,
        PAGE,
    );
    // A length of u32::MAX.
    guest.view_mut().write(16, u32::MAX).unwrap();
    assert_out_of_bounds(
        guest.view().assemblyscript_string(20),
        20,
        u64::from(u32::MAX),
        PAGE,
    );
    // An odd length and a lone surrogate.
    guest.view_mut().write(96, 3u32).unwrap();
    assert_invalid_utf16(guest.view().assemblyscript_string(100), 100, 3, 102);
    put_as_string(&mut guest, 500, "ab");
    guest.view_mut().write(502, 0xD800u16).unwrap();
    assert_invalid_utf16(guest.view().assemblyscript_string(500), 500, 4, 502);
}

#[test]
fn write_str_returns_the_slice_and_checks_bounds() {
    let mut guest = one_page();
    let slice = guest.view_mut().write_str(PAGE - 6, "héllo").unwrap();
    assert_eq!((slice.addr(), slice.len()), (PAGE - 6, 6));
    assert_eq!(
        guest.view().str(slice.addr(), slice.len()).unwrap(),
        "héllo"
    );
    assert_eq!(
        std::str::from_utf8(guest.view().slice(slice).unwrap()).unwrap(),
        "héllo"
    );
    assert_out_of_bounds(
        guest.view_mut().write_str(PAGE - 5, "héllo"),
        PAGE - 5,
        6,
        PAGE,
    );
    assert_out_of_bounds(
        guest.view_mut().write_utf16(PAGE - 3, "ab"),
        PAGE - 3,
        4,
        PAGE,
    );
    assert_eq!(
        guest.view().bytes(PAGE - 6, 6).unwrap(),
        "héllo".as_bytes(),
        "failed writes wrote nothing"
    );
}

#[test]
fn the_guest_reads_a_string_the_host_wrote() {
    // The guest counts the bytes of a C string.
    let mut guest = Guest::new(
        r#"(module (memory (export "memory") 1)
            (func (export "strlen") (param $p i32) (result i32)
                (local $n i32)
                (block $done (loop $next
                    (br_if $done (i32.eqz (i32.load8_u (i32.add (local.get $p) (local.get $n)))))
                    (local.set $n (i32.add (local.get $n) (i32.const 1)))
                    (br $next)))
                (local.get $n)))"#,
    )
    .unwrap();
    let s = guest.view_mut().write_str(40, "twelve bytes").unwrap();
    let n: i32 = guest.call("strlen", s.ptr().to_i32().unwrap()).unwrap();
    assert_eq!(n, 12);
    assert_eq!(guest.view().c_str(40, 64).unwrap(), "twelve bytes");
}

/// The naive reading of a C string: scan byte by byte. Like every range of
/// the views, even an empty one must not start past the end of memory.
fn naive_c_bytes(memory: &[u8], addr: u64, max_len: u64) -> Result<Vec<u8>, &'static str> {
    if addr > memory.len() as u64 {
        return Err("oob");
    }
    let mut out = Vec::new();
    for i in 0..max_len {
        let Some(at) = addr.checked_add(i) else {
            return Err("oob");
        };
        match memory.get(at as usize) {
            None => return Err("oob"),
            Some(0) => return Ok(out),
            Some(&b) => out.push(b),
        }
    }
    Err("no nul")
}

#[test]
fn c_bytes_match_a_naive_scan() {
    let mut guest = one_page();
    // Sparse NULs in pseudo-random bytes, with a NUL-less tail at the end.
    let mut state = 0x1234_5678_9ABC_DEF1u64;
    let mut memory = vec![0u8; PAGE as usize];
    for (i, byte) in memory.iter_mut().enumerate() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        *byte = if i >= PAGE as usize - 300 {
            0x41
        } else if state.is_multiple_of(37) {
            0
        } else {
            (state >> 8) as u8 | 1
        };
    }
    guest.view_mut().write_bytes(0, &memory).unwrap();
    let view = guest.view();
    for _ in 0..5_000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let addr = match state % 4 {
            0 => PAGE - (state >> 8) % 400,
            1 => PAGE + (state >> 8) % 3,
            _ => (state >> 8) % PAGE,
        };
        let max_len = match (state >> 40) % 3 {
            0 => (state >> 20) % 8,
            1 => (state >> 20) % 200,
            _ => u64::MAX - (state >> 20) % 2,
        };
        let got = view.c_bytes(addr, max_len);
        match naive_c_bytes(&memory, addr, max_len) {
            Ok(expected) => assert_eq!(got.unwrap(), &expected[..], "at {addr}, max {max_len}"),
            Err("oob") => assert!(
                matches!(got, Err(Error::OutOfBounds { .. })),
                "at {addr}, max {max_len}: {got:?}"
            ),
            Err(_) => assert!(
                matches!(got, Err(Error::MissingNul { .. })),
                "at {addr}, max {max_len}: {got:?}"
            ),
        }
    }
}
