//! Measures what one guest of the reference scenario costs in memory: the
//! process's resident set size (Linux `/proc/self/status`) before and after
//! instantiating many guests from one compiled module.
//!
//! Run with `cargo run --release --example footprint [guests]`.

use linmem::Module;

/// The resident set size in KiB, from `/proc/self/status`.
fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() -> linmem::Result<()> {
    let count: u64 = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000);
    let before_module = rss_kib();
    let module = Module::linear_memory()?;
    let before_guests = rss_kib();
    let mut guests = Vec::new();
    for _ in 0..count {
        let mut guest = module.instantiate()?;
        guest.view_mut().write(1, 25u8)?; // touch the page, as a real host would
        guests.push(guest);
    }
    let after = rss_kib();
    let ok = guests.iter_mut().all(|guest| {
        guest
            .call::<(), i32>("readWasmMemoryAndReturnIndexOne", ())
            .ok()
            == Some(25)
    });
    assert!(ok, "every guest returns 25");
    match (before_module, before_guests, after) {
        (Some(m), Some(b), Some(a)) => {
            println!("compiled module: {} KiB", b.saturating_sub(m));
            println!(
                "{count} guests: {} KiB, {:.1} KiB per guest (its 64 KiB page included)",
                a.saturating_sub(b),
                a.saturating_sub(b) as f64 / count as f64
            );
        }
        _ => println!("no /proc/self/status on this platform: nothing measured"),
    }
    Ok(())
}
