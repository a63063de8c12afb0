//! A host for a C guest that exports its own allocator.
//!
//! Run with `cargo run --example c_guest`. The guest is fixtures/c/alloc.c,
//! built by `scripts/build-guests` with
//! `clang --target=wasm32 -O2 -fno-builtin -nostdlib -Wl,--no-entry -Wl,--export=alloc ...`.
//!
//! C's conventions, as the host sees them:
//! - a pointer is an i32 address in linear memory, `size_t` is 32 bits;
//! - the guest owns its heap: the host asks it for memory with the exported
//!   `alloc(size)` and gives it back with `dealloc(ptr, size)`; `alloc`
//!   returns 0 when memory cannot grow any more;
//! - strings are NUL-terminated UTF-8; a result too big for a return value
//!   comes back through an out-pointer the host passes (here `*out_len`).

use linmem::{Guest, LinearMemoryView};

const ALLOC: &[u8] = include_bytes!("../fixtures/c/alloc.wasm");

/// A guest address as the u64 linmem's views take.
fn addr(ptr: i32) -> u64 {
    u64::from(ptr.cast_unsigned())
}

/// Copies `bytes` into a fresh guest allocation and returns its address.
fn put<T>(guest: &mut Guest<T>, bytes: &[u8]) -> linmem::Result<i32> {
    let len = i32::try_from(bytes.len()).expect("a small buffer");
    let ptr: i32 = guest.call("alloc", len)?;
    assert_ne!(ptr, 0, "the guest is out of memory");
    guest.view_mut().write_bytes(addr(ptr), bytes)?;
    Ok(ptr)
}

/// Reads the NUL-terminated string at `ptr`.
fn c_string<'a>(view: &LinearMemoryView<'a>, ptr: i32) -> linmem::Result<&'a str> {
    let start = addr(ptr);
    let rest = view.bytes(start, view.len().saturating_sub(start))?;
    let len = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
    view.str(start, u64::try_from(len).expect("fits"))
}

fn main() -> linmem::Result<()> {
    let mut guest = Guest::new(ALLOC)?;
    println!("C guest: {} pages of memory", guest.view().pages());

    // Two buffers in, one buffer out: concat(a, a_len, b, b_len, &out_len).
    let a = put(&mut guest, b"hello")?;
    let b = put(&mut guest, b", wasm")?;
    let out_len = put(&mut guest, &[0; 4])?;
    let joined: i32 = guest.call("concat", (a, 5, b, 6, out_len))?;
    let view = guest.view();
    let len = view.read::<u32>(addr(out_len))?;
    println!(
        "concat -> {:?} ({len} bytes at {joined})",
        view.str(addr(joined), len.into())?
    );

    // A string in, a new string out, which the host frees afterwards.
    let word = put(&mut guest, b"stressed\0")?;
    let reversed: i32 = guest.call("reversed", word)?;
    println!(
        "reversed(\"stressed\") -> {:?}",
        c_string(&guest.view(), reversed)?
    );

    let live: i32 = guest.call("allocated_bytes", ())?;
    for (ptr, size) in [
        (a, 5),
        (b, 6),
        (out_len, 4),
        (joined, 11),
        (word, 9),
        (reversed, 9),
    ] {
        guest.call::<(i32, i32), ()>("dealloc", (ptr, size))?;
    }
    let after: i32 = guest.call("allocated_bytes", ())?;
    println!("allocated: {live} bytes, {after} after dealloc");

    // The guest's allocator grows memory itself, up to its 16-page maximum.
    let big: i32 = guest.call("alloc", 200_000)?;
    println!(
        "alloc(200000) = {big}: memory is now {} pages",
        guest.view().pages()
    );
    let too_big: i32 = guest.call("alloc", 2_000_000)?;
    println!("alloc(2000000) = {too_big} (null: memory.grow failed at the maximum)");
    Ok(())
}
