//! User records declared with `memory_record!`: C layout, little-endian,
//! zeroed padding, nesting, and the guest reading what the host wrote.
#![cfg(feature = "wat")] // the modules below are WAT text; tests/binary_only.rs covers builds without it

use linmem::{Guest, GuestPtr, GuestSlice, MemoryValue, RecordField};

linmem::memory_record! {
    /// The issue's example: no padding inside, 8-byte alignment.
    #[derive(Debug, Clone, Copy, PartialEq)]
    pub struct Header {
        pub magic: u32,
        pub qty: u32,
        pub price: f64,
    }
}

linmem::memory_record! {
    /// Padding after `tag` (3 bytes), after `flag` (1 byte) and at the end (4).
    #[derive(Debug, Clone, Copy, PartialEq)]
    struct Padded {
        tag: u8,
        count: i32,
        flag: u8,
        word: u16,
        big: i64,
        name: [u8; 3],
    }
}

linmem::memory_record! {
    /// A record inside a record, and a u128 (alignment 16).
    #[derive(Debug, Clone, Copy, PartialEq)]
    struct Outer {
        kind: u16,
        header: Header,
        wide: u128,
    }
}

linmem::memory_record! {
    /// Field names that shadow the macro's own locals must not clash.
    #[derive(Debug, Clone, Copy, PartialEq)]
    struct Awkward { bytes: u8, offsets: u32, value: u16 }
}

fn size<T: MemoryValue>() -> usize {
    size_of::<T::Bytes>()
}

#[test]
fn layouts_are_the_c_layouts() {
    assert_eq!((size::<Header>(), Header::ALIGN), (16, 8));
    // tag@0, count@4, flag@8, word@10, big@16, name@24..27, size 32
    assert_eq!((size::<Padded>(), Padded::ALIGN), (32, 8));
    // kind@0, header@8..24, wide@32..48
    assert_eq!((size::<Outer>(), Outer::ALIGN), (48, 16));
    // bytes@0, offsets@4, value@8, size 12
    assert_eq!((size::<Awkward>(), Awkward::ALIGN), (12, 4));
}

#[test]
fn fields_land_at_their_offsets_little_endian() {
    let p = Padded {
        tag: 0xAA,
        count: -2,
        flag: 1,
        word: 0x0102,
        big: 0x0102_0304_0506_0708,
        name: *b"abc",
    };
    let bytes = p.to_le_bytes();
    #[rustfmt::skip]
    let expected: [u8; 32] = [
        0xAA, 0, 0, 0,  0xFE, 0xFF, 0xFF, 0xFF,
        1, 0, 0x02, 0x01,  0, 0, 0, 0,
        8, 7, 6, 5, 4, 3, 2, 1,
        b'a', b'b', b'c', 0, 0, 0, 0, 0,
    ];
    assert_eq!(bytes, expected);
    assert_eq!(Padded::from_le_bytes(bytes), p);
}

#[test]
fn padding_is_written_as_zeros_over_garbage() {
    let mut guest = Guest::new(r#"(module (memory (export "memory") 1))"#).unwrap();
    guest.view_mut().fill(0, 256, 0xEE).unwrap();
    let ptr = GuestPtr::<Outer>::new(64);
    let value = Outer {
        kind: 0xFFFF,
        header: Header {
            magic: u32::MAX,
            qty: u32::MAX,
            price: f64::from_bits(u64::MAX),
        },
        wide: u128::MAX,
    };
    guest.view_mut().store(ptr, value).unwrap();
    let view = guest.view();
    let raw = view.bytes(64, 48).unwrap();
    // All fields are 0xFF bytes, so the zeros are exactly the padding.
    let zeros: Vec<usize> = (0..48).filter(|&i| raw[i] == 0).collect();
    assert_eq!(zeros, [2, 3, 4, 5, 6, 7, 24, 25, 26, 27, 28, 29, 30, 31]);
    assert!(
        view.bytes(112, 16).unwrap().iter().all(|&b| b == 0xEE),
        "nothing written past the record"
    );
    let back = view.load(ptr).unwrap();
    assert_eq!(back.kind, value.kind);
    assert_eq!(back.header.price.to_bits(), u64::MAX);
    assert_eq!(back.wide, u128::MAX);
}

#[test]
fn awkward_field_names_round_trip() {
    let a = Awkward {
        bytes: 7,
        offsets: 0xDEAD_BEEF,
        value: 513,
    };
    assert_eq!(Awkward::from_le_bytes(a.to_le_bytes()), a);
    assert_eq!(
        a.to_le_bytes(),
        [7, 0, 0, 0, 0xEF, 0xBE, 0xAD, 0xDE, 1, 2, 0, 0]
    );
}

#[test]
fn the_guest_reads_what_the_host_wrote() {
    // The guest computes qty * price from a Header at the given address.
    let mut guest = Guest::new(
        r#"(module (memory (export "memory") 1)
            (func (export "total") (param $p i32) (result f64)
                (f64.mul (f64.convert_i32_u (i32.load offset=4 (local.get $p)))
                         (f64.load offset=8 (local.get $p))))
            (func (export "magic") (param $p i32) (result i32) (i32.load (local.get $p))))"#,
    )
    .unwrap();
    let headers = GuestSlice::<Header>::new(GuestPtr::new(1024), 3);
    let values = [
        Header {
            magic: 1,
            qty: 2,
            price: 1.25,
        },
        Header {
            magic: 2,
            qty: 10,
            price: 0.5,
        },
        Header {
            magic: 3,
            qty: 0,
            price: 99.0,
        },
    ];
    guest.view_mut().store_slice(headers, &values).unwrap();
    for (i, header) in values.iter().enumerate() {
        let ptr = headers.get(i as u64).unwrap();
        assert_eq!(ptr.addr(), 1024 + 16 * i as u64);
        let total: f64 = guest.call("total", ptr.to_i32().unwrap()).unwrap();
        assert_eq!(total, f64::from(header.qty) * header.price);
        let magic: i32 = guest.call("magic", ptr.to_i32().unwrap()).unwrap();
        assert_eq!(magic as u32, header.magic);
    }
    assert_eq!(guest.view().load_vec(headers).unwrap(), values);
}
