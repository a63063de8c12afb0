//! Runs the reference round trip on a module read from a file at run time
//! (wasm, or WAT with the `wat` feature), the way a real host loads guests.
//! It is also the host whose release size the README's footprint table gives.
//!
//! `cargo run --example run_file fixtures/linear_memory.wat`

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: run_file <module.wasm|module.wat>")?;
    let source = std::fs::read(&path)?;
    let mut guest = linmem::Module::new(source)?.instantiate()?;
    println!(
        "{path}: memory of {} page(s), byte 0 = {}",
        guest.view().pages(),
        guest.view().read::<u8>(0)?
    );
    guest.view_mut().write(1, 25u8)?;
    let returned: i32 = guest.call("readWasmMemoryAndReturnIndexOne", ())?;
    println!("readWasmMemoryAndReturnIndexOne() = {returned}");
    Ok(())
}
