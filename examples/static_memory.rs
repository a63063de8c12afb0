//! A guest whose linear memory is a buffer the host allocated up front, as
//! on a board without a general-purpose heap for big allocations.
//!
//! Run with `cargo run --example static_memory`. On an embedded target the
//! buffer would come from a `static` (e.g. through `static_cell::StaticCell`)
//! instead of `Box::leak`; linmem only needs a `&'static mut [u8]`.

use linmem::{HostContext, Module};

/// The guest imports its memory (as `asc --importMemory` or
/// `clang -Wl,--import-memory` produce) and reports back through a host
/// function that reads a string from that memory.
const GUEST: &str = r#"(module
  (import "env" "memory" (memory 1 4))
  (import "env" "report" (func $report (param i32 i32)))
  (data (i32.const 64) "static memory works")
  (func (export "run") (param $n i32) (result i32)
    (call $report (i32.const 64) (i32.const 19))
    (memory.grow (local.get $n))))"#;

const PAGE: usize = 65_536;

fn main() -> linmem::Result<()> {
    // Sizing: at least `initial` pages; the maximum the guest can reach is the
    // declared maximum or the buffer's whole pages, whichever is less.
    let buffer: &'static mut [u8] = Box::leak(vec![0u8; 2 * PAGE].into_boxed_slice());
    println!(
        "host buffer: {} bytes ({} pages) at a fixed address",
        buffer.len(),
        buffer.len() / PAGE
    );

    let module = Module::new(GUEST)?;
    let mut builder = module
        .guest_with(Vec::<String>::new())
        .host_func(
            "env",
            "report",
            |mut cx: HostContext<'_, Vec<String>>, ptr: u32, len: u32| {
                let (view, reports) = cx.view_and_data_mut()?;
                reports.push(view.str(ptr, len)?.to_owned());
                Ok(())
            },
        )?
        .host_memory_static("env", "memory", buffer, 1, Some(4))?;
    let memory = builder.import_memory("env", "memory")?;
    builder.view_mut_of(memory)?.write(0, 0xFEED_u32)?; // written before the guest exists
    let mut guest = builder.instantiate()?;

    let old_pages: i32 = guest.call("run", 1)?;
    println!(
        "guest reported {:?} and grew memory from {old_pages} page(s)",
        guest.data()
    );
    let refused: i32 = guest.call("run", 1)?;
    println!(
        "a second grow past the 2-page buffer returns {refused} to the guest, with no reallocation"
    );
    println!(
        "host reads back 0x{:X} at address 0",
        guest.view().read::<u32>(0)?
    );

    assert_eq!((old_pages, refused, guest.view().pages()), (1, -1, 2));
    Ok(())
}
