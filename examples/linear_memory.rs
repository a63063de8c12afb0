//! The "WebAssembly linear memory" round trip on wasmi, with the embedded fixture.
//!
//! Run with `cargo run --example linear_memory`.

use linmem::{Guest, LINEAR_MEMORY_WAT};

fn main() -> linmem::Result<()> {
    println!("guest module (fixtures/linear_memory.wat):");
    for line in LINEAR_MEMORY_WAT
        .lines()
        .filter(|line| !line.starts_with(";;"))
    {
        println!("  {line}");
    }

    // 1. Instantiating runs the start function: memory.grow 1, then store8 24 at 0.
    let mut guest = Guest::linear_memory()?;
    let view = guest.view();
    println!(
        "1. start function ran: memory is {} page(s), {} bytes",
        view.pages(),
        view.len()
    );

    // 2. The host views memory as bytes and reads address 0.
    let byte0: u8 = view.read(0)?;
    println!("2. host reads  memory[0] = {byte0}");

    // 3. The host writes 25 at address 1 (a mutable view: the shared one is gone).
    guest.view_mut().write(1, 25u8)?;
    println!("3. host writes memory[1] = 25");

    // 4. The guest loads address 1 and returns it.
    let read_one = guest.export_func::<(), i32>("readWasmMemoryAndReturnIndexOne")?;
    let returned = read_one.call(&mut guest, ())?;
    println!("4. guest readWasmMemoryAndReturnIndexOne() returned {returned}");

    // What JavaScript gets wrong: after a grow, `new Uint8Array(memory.buffer)`
    // is detached. In linmem the old view cannot exist any more; a new one sees
    // the old bytes and the new zeroed page.
    let previous = guest.grow(1)?;
    let view = guest.view();
    println!(
        "5. host grows memory from {previous} to {} pages; a new view still reads memory[0] = {}, memory[1] = {}, and the new page starts zeroed: memory[65536] = {}",
        view.pages(),
        view.read::<u8>(0)?,
        view.read::<u8>(1)?,
        view.read::<u8>(65_536)?
    );

    assert_eq!(
        (byte0, returned),
        (24, 25),
        "the round trip must give 24 and 25"
    );
    Ok(())
}
