//! A host for a C guest that exports its own allocator.
//!
//! Run with `cargo run --example c_guest`. The guest is fixtures/c/alloc.c,
//! built by `scripts/build-guests` with
//! `clang --target=wasm32 -O2 -fno-builtin -nostdlib -Wl,--no-entry -Wl,--export=alloc ...`.
//!
//! C's conventions, as the host sees them:
//! - a pointer is an i32 address in linear memory, `size_t` is 32 bits;
//! - the guest owns its heap: the host asks it for memory with the exported
//!   `alloc(size)` and gives it back with `dealloc(ptr, size)` (linmem's
//!   [`Allocator`] finds and calls them); `alloc` returns 0 when memory
//!   cannot grow any more;
//! - strings are NUL-terminated UTF-8; a result too big for a return value
//!   comes back through an out-pointer the host passes (here `*out_len`).

use linmem::{Allocator, AllocatorKind, Error, Guest, GuestPtr, GuestSlice};

const ALLOC: &[u8] = include_bytes!("../fixtures/c/alloc.wasm");

fn main() -> linmem::Result<()> {
    let mut guest = Guest::new(ALLOC)?;
    println!("C guest: {} pages of memory", guest.view().pages());
    let allocator = Allocator::detect(&guest)?;
    assert_eq!(allocator.kind(), AllocatorKind::AllocDealloc);

    // Two buffers in, one buffer out: concat(a, a_len, b, b_len, &out_len).
    let a = allocator.alloc_bytes(&mut guest, b"hello")?;
    let b = allocator.alloc_bytes(&mut guest, b", wasm")?;
    let out_len = allocator.alloc_slice(&mut guest, &[0u32])?;
    let (a_ptr, a_len) = a.to_i32_pair()?;
    let (b_ptr, b_len) = b.to_i32_pair()?;
    let out_len_ptr = out_len.ptr().to_i32()?;
    let joined: i32 = guest.call("concat", (a_ptr, a_len, b_ptr, b_len, out_len_ptr))?;
    let len = guest.view().load(out_len.ptr())?;
    let joined = GuestSlice::<u8>::new(GuestPtr::from_i32(joined), u64::from(len));
    // Copy the result out and free it in the guest.
    let text = allocator.take_string(&mut guest, joined)?;
    println!("concat -> {text:?} ({len} bytes)");

    // A NUL-terminated string in, a new one out.
    let word = allocator.alloc_bytes(&mut guest, b"stressed\0")?;
    let reversed: i32 = guest.call("reversed", word.ptr().to_i32()?)?;
    let reversed_addr = GuestPtr::<u8>::from_i32(reversed).addr();
    println!(
        "reversed(\"stressed\") -> {:?}",
        guest.view().c_str(reversed_addr, 4096)?
    );

    let live: i32 = guest.call("allocated_bytes", ())?;
    for slice in [a, b, word] {
        allocator.free(&mut guest, slice)?;
    }
    allocator.free(&mut guest, out_len)?;
    guest.call::<(i32, i32), ()>("dealloc", (reversed, 9))?;
    let after: i32 = guest.call("allocated_bytes", ())?;
    println!("allocated: {live} bytes, {after} after freeing everything");

    // The guest's allocator grows memory itself, up to its 16-page maximum;
    // past it, `alloc` returns null and linmem reports it.
    let big = allocator.alloc(&mut guest, 200_000, 8)?;
    println!(
        "alloc(200000) at {}: memory is now {} pages",
        big.addr(),
        guest.view().pages()
    );
    match allocator.alloc(&mut guest, 2_000_000, 8) {
        Err(err @ Error::BadAllocation { .. }) => println!("alloc(2000000): {err}"),
        other => panic!("expected a null allocation, got {other:?}"),
    }
    Ok(())
}
