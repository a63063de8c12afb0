//! A host for a Rust plugin built for `wasm32-unknown-unknown`.
//!
//! Run with `cargo run --example rust_plugin`. The guest is
//! fixtures/rust/plugin.rs, built by `scripts/build-guests` with Debian's
//! rustc 1.63 (`--target wasm32-unknown-unknown --crate-type cdylib`).
//!
//! The plugin's conventions, as most hand-written Rust plugins have them:
//! - it exports its allocator as `alloc(size) -> ptr` and
//!   `dealloc(ptr, size)` (linmem's [`Allocator`] finds them);
//! - a string goes in as a (ptr, len) pair of UTF-8 in a block from `alloc`;
//!   a string comes out as an `i64` packing `ptr << 32 | len` of a block the
//!   host frees with `dealloc`;
//! - structs are `#[repr(C)]`, passed by pointer (the host declares the same
//!   layout with [`memory_record!`](linmem::memory_record));
//! - a panic aborts: the call traps with `unreachable`, and the plugin's
//!   panic hook keeps the message for the host to ask for.

use linmem::{Allocator, AllocatorKind, Error, Guest, GuestPtr, GuestSlice, TrapCode};

const PLUGIN: &[u8] = include_bytes!("../fixtures/rust/plugin.wasm");

linmem::memory_record! {
    /// `plugin.rs`'s `Rect { origin: Point, size: Point }`, flattened.
    #[derive(Debug, Clone, Copy, PartialEq)]
    struct Rect {
        x: f64,
        y: f64,
        width: f64,
        height: f64,
    }
}

linmem::memory_record! {
    /// `plugin.rs`'s `Point`.
    #[derive(Debug, Clone, Copy, PartialEq)]
    struct Point {
        x: f64,
        y: f64,
    }
}

linmem::memory_record! {
    /// `plugin.rs`'s `Stats`: count, min, max, median, then the mean.
    #[derive(Debug, Clone, Copy, PartialEq)]
    struct Stats {
        count: u32,
        min: i32,
        max: i32,
        median: i32,
        mean: f64,
    }
}

/// A string the plugin returned as `ptr << 32 | len`, copied out and freed.
fn take_string(guest: &mut Guest, allocator: &Allocator, packed: i64) -> linmem::Result<String> {
    let bits = packed.cast_unsigned();
    let slice = GuestSlice::<u8>::new(GuestPtr::new(bits >> 32), bits & 0xffff_ffff);
    allocator.take_string(guest, slice)
}

/// Calls an export that takes one string and returns one.
fn string_call(
    guest: &mut Guest,
    allocator: &Allocator,
    func: &str,
    text: &str,
) -> linmem::Result<String> {
    let input = allocator.alloc_str(guest, text)?;
    let packed: i64 = guest.call(func, input.to_i32_pair()?)?;
    allocator.free(guest, input)?;
    take_string(guest, allocator, packed)
}

fn main() -> linmem::Result<()> {
    let mut guest = Guest::new(PLUGIN)?;
    let allocator = Allocator::detect(&guest)?;
    assert_eq!(allocator.kind(), AllocatorKind::AllocDealloc);
    guest.call::<(), ()>("init", ())?; // installs the panic hook

    // Strings in and out.
    let greeting = string_call(&mut guest, &allocator, "greet", "wörld")?;
    println!("greet(\"wörld\") -> {greeting:?}");
    assert_eq!(greeting, "Hello, WÖRLD!");
    let counts = string_call(&mut guest, &allocator, "word_counts", "the cat and the hat")?;
    println!("word_counts -> {counts:?}");
    assert_eq!(counts, "the 2\nand 1\ncat 1\nhat 1\n");

    // A struct in; a struct out through an out-pointer; a string out.
    let rect = Rect {
        x: 1.5,
        y: -2.0,
        width: 4.0,
        height: 2.5,
    };
    let rect_ptr = allocator.alloc_slice(&mut guest, &[rect])?.ptr();
    let area: f64 = guest.call("rect_area", rect_ptr.to_i32()?)?;
    println!("rect_area({rect:?}) -> {area}");
    assert_eq!(area, 10.0);
    let center = allocator
        .alloc_slice(&mut guest, &[Point { x: 0.0, y: 0.0 }])?
        .ptr();
    guest.call::<(i32, i32), ()>("rect_center", (rect_ptr.to_i32()?, center.to_i32()?))?;
    let Point { x, y } = guest.view().load(center)?;
    println!("rect_center -> ({x}, {y})");
    assert_eq!((x, y), (3.5, -0.75));
    let packed: i64 = guest.call("rect_describe", rect_ptr.to_i32()?)?;
    println!(
        "rect_describe -> {:?}",
        take_string(&mut guest, &allocator, packed)?
    );

    // An array in, a heap struct out (freed with dealloc(ptr, 24)).
    let values = allocator.alloc_slice(&mut guest, &[5i32, -3, 12, 7, 0, -8, 5])?;
    let stats: i32 = guest.call("stats", values.to_i32_pair()?)?;
    let stats_ptr = GuestPtr::<Stats>::from_i32(stats);
    let stats_value = guest.view().load(stats_ptr)?;
    println!("stats -> {stats_value:?}");
    assert_eq!(
        (stats_value.min, stats_value.max, stats_value.median),
        (-8, 12, 5)
    );
    guest.call::<(i32, i32), ()>("dealloc", (stats, 24))?;

    // A panic: the call traps, the host asks for the message, and the
    // plugin stays usable.
    let (ptr, len) = values.to_i32_pair()?;
    let err = guest
        .call::<(i32, i32, i32), i32>("element", (ptr, len, 7))
        .unwrap_err();
    assert!(matches!(
        err,
        Error::Trap {
            code: TrapCode::UnreachableCodeReached,
            ..
        }
    ));
    let packed: i64 = guest.call("last_panic", ())?;
    let message = take_string(&mut guest, &allocator, packed)?;
    println!("element(.., 7) -> {err}: {message}");
    assert!(message.contains("index out of bounds: the len is 7 but the index is 7"));
    let again = string_call(&mut guest, &allocator, "greet", "again")?;
    assert_eq!(again, "Hello, AGAIN!");
    println!("after the panic: {again:?}");
    Ok(())
}
