//! Helpers shared by the integration tests (each test file uses some of them).
#![allow(dead_code)]

use linmem::{Error, Guest};

/// One 64 KiB page.
pub const PAGE: u64 = 65_536;

/// A guest with one zeroed page of memory and no code.
#[cfg(feature = "wat")]
pub fn one_page() -> Guest {
    Guest::new(r#"(module (memory (export "memory") 1 4))"#).unwrap()
}

/// Asserts `result` is `Error::OutOfBounds` with exactly this context.
pub fn assert_out_of_bounds<T: std::fmt::Debug>(
    result: linmem::Result<T>,
    addr: u64,
    len: u64,
    size: u64,
) {
    match result {
        Err(Error::OutOfBounds {
            addr: a,
            len: l,
            size: s,
        }) => assert_eq!((a, l, s), (addr, len, size), "wrong context in the error"),
        other => panic!("expected OutOfBounds {{ {addr}, {len}, {size} }}, got {other:?}"),
    }
}
