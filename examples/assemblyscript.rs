//! A host for AssemblyScript guests: the reference page's program as asc
//! builds it, then strings through memory and `abort`.
//!
//! Run with `cargo run --example assemblyscript`. The guests are the committed
//! builds in fixtures/assemblyscript/ (see `scripts/build-guests`).
//!
//! AssemblyScript's conventions, as the host sees them:
//! - a managed object (string, ArrayBuffer) is a pointer to its payload; the
//!   u32 at `ptr - 4` is the payload's byte length and the u32 at `ptr - 8`
//!   its class id (1 = ArrayBuffer, 2 = String);
//! - strings are UTF-16LE;
//! - with `--exportRuntime`, the host allocates objects with `__new(size, id)`
//!   and keeps them alive across calls with `__pin` / `__unpin`;
//! - `assert`, `throw` and runtime errors call the import
//!   `env.abort(message, file, line, column)`.

use linmem::{Error, Guest, Module};

const SEED: &[u8] = include_bytes!("../fixtures/assemblyscript/linear_memory.wasm");
const SEED_EXPORT_START: &[u8] =
    include_bytes!("../fixtures/assemblyscript/linear_memory.exportstart.wasm");
const STRINGS: &[u8] = include_bytes!("../fixtures/assemblyscript/strings.wasm");

/// AssemblyScript's class id of `String`.
const STRING_ID: i32 = 2;

/// A guest address as the u64 linmem's views take.
fn addr(ptr: i32) -> u64 {
    u64::from(ptr.cast_unsigned())
}

/// Allocates `text` as a pinned AssemblyScript string in the guest, as
/// AssemblyScript's own JavaScript loader does.
fn new_string<T>(guest: &mut Guest<T>, text: &str) -> linmem::Result<i32> {
    let byte_len = text.encode_utf16().count() * 2;
    let len = i32::try_from(byte_len).expect("a short string");
    let ptr: i32 = guest.call("__new", (len, STRING_ID))?;
    guest.view_mut().write_utf16(addr(ptr), text)?;
    guest.call::<i32, i32>("__pin", ptr)?;
    Ok(ptr)
}

fn main() -> linmem::Result<()> {
    // 1. The reference page's program, `asc index.ts -o index.wasm`: the start
    //    function grows the (0-page) memory to 1 page and stores 24 at 0.
    let mut guest = Guest::new(SEED)?;
    println!(
        "seed: {} page(s) after the start function",
        guest.view().pages()
    );
    println!("      memory[0] = {}", guest.view().read::<u8>(0)?);
    guest.view_mut().write(1, 25u8)?;
    let one: i32 = guest.call("readWasmMemoryAndReturnIndexOne", ())?;
    println!("      host wrote 25 at 1; readWasmMemoryAndReturnIndexOne() = {one}");

    // 2. With --exportStart _start, nothing runs at instantiation: memory is
    //    empty until the host calls _start, and reading before it traps.
    let mut guest = Guest::new(SEED_EXPORT_START)?;
    println!(
        "--exportStart: {} page(s) before _start",
        guest.view().pages()
    );
    let early = guest.call::<(), i32>("readWasmMemoryAndReturnIndexOne", ());
    println!("      reading before _start: {}", early.unwrap_err());
    guest.call::<(), ()>("_start", ())?;
    println!(
        "      after _start: {} page(s), memory[0] = {}",
        guest.view().pages(),
        guest.view().read::<u8>(0)?
    );

    // 3. Strings: the guest imports env.abort; linmem provides AssemblyScript's.
    let module = Module::new(STRINGS)?;
    let mut guest = module.guest().assemblyscript_abort()?.instantiate()?;
    let name = new_string(&mut guest, "Wörld 🌍")?;
    let greeting: i32 = guest.call("greet", name)?;
    println!(
        "strings: greet(\"Wörld 🌍\") = {:?}",
        guest.view().assemblyscript_string(addr(greeting))?
    );
    let units: i32 = guest.call("length", name)?;
    let utf8: i32 = guest.call("utf8Length", name)?;
    println!("      {units} UTF-16 code units, {utf8} UTF-8 bytes");

    // 4. abort: `"x".repeat(-1)` throws a RangeError in the guest, which calls
    //    env.abort; the call fails with the decoded message and location.
    match guest.call::<(i32, i32), i32>("repeat", (name, -1)) {
        Err(Error::HostFunc { error: source, .. }) => {
            println!("      repeat(-1) aborted: {source}")
        }
        other => panic!("expected an abort, got {other:?}"),
    }
    // The guest stays usable after an abort.
    guest.call::<i32, ()>("__unpin", name)?;
    guest.call::<(), ()>("__collect", ())?;
    let name = new_string(&mut guest, "again")?;
    let again: i32 = guest.call("greet", name)?;
    println!(
        "      afterwards: {:?}",
        guest.view().assemblyscript_string(addr(again))?
    );
    Ok(())
}
