//! Snapshots: initialise a guest once, save it as a `.wasm` file, and give
//! every request a fresh guest that starts in the initialised state.
//!
//! The guest is a small "plugin" whose start function builds a 32 KiB
//! lookup table (about a million wasm instructions) and whose `configure`
//! export the host calls once with a setting. Each request then needs a
//! guest of its own (isolation between users). The naive path instantiates
//! the original module and initialises it per request; the snapshot path
//! instantiates the snapshot module, or resets one guest in place.
//!
//! `cargo run --release --example snapshot` (the default 2000 requests;
//! pass another count as the first argument).

use linmem::{Guest, Module, Snapshotter};
use std::time::{Duration, Instant};

const PLUGIN: &str = r#"(module
    (memory (export "memory") 2)
    (global $scale (mut i32) (i32.const 1))
    (global $served (mut i32) (i32.const 0))
    (func $build_table (local $i i32) (local $x i32) (local $round i32)
        (loop $entries
            (local.set $x (i32.add (local.get $i) (i32.const 0x9e3779b9)))
            (local.set $round (i32.const 0))
            (loop $rounds
                (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 13))))
                (local.set $x (i32.xor (local.get $x) (i32.shr_u (local.get $x) (i32.const 17))))
                (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 5))))
                (local.set $round (i32.add (local.get $round) (i32.const 1)))
                (br_if $rounds (i32.lt_u (local.get $round) (i32.const 16))))
            (i32.store (i32.shl (local.get $i) (i32.const 2)) (local.get $x))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $entries (i32.lt_u (local.get $i) (i32.const 8192)))))
    (start $build_table)
    (func (export "configure") (param i32) (global.set $scale (local.get 0)))
    ;; A request: look a key up, scale it, remember that it was served.
    (func (export "handle") (param i32) (result i32)
        (global.set $served (i32.add (global.get $served) (i32.const 1)))
        (i32.store (i32.const 70000) (local.get 0))
        (i32.add (global.get $served)
            (i32.mul (global.get $scale)
                (i32.load (i32.shl (i32.and (local.get 0) (i32.const 8191)) (i32.const 2)))))))"#;

/// The host's one-off configuration, part of the initialisation.
const SCALE: i32 = 3;

fn naive(module: &Module) -> linmem::Result<Guest> {
    let mut guest = module.instantiate()?; // the start function builds the table
    guest.call::<i32, ()>("configure", SCALE)?;
    Ok(guest)
}

fn mean(total: Duration, count: u32) -> f64 {
    total.as_secs_f64() * 1e6 / f64::from(count)
}

fn main() -> linmem::Result<()> {
    let requests: u32 = std::env::args()
        .nth(1)
        .and_then(|arg| arg.parse().ok())
        .unwrap_or(2000);

    // 1. Initialise once and snapshot; the snapshot must not be configured twice.
    let snapshotter = Snapshotter::new(PLUGIN)?
        .remove_export("configure")
        .resettable(true);
    let mut guest = snapshotter.module().instantiate()?;
    guest.call::<i32, ()>("configure", SCALE)?;
    let snapshot = snapshotter.snapshot(&guest)?;
    let path = std::env::temp_dir().join("linmem-snapshot-example.wasm");
    std::fs::write(&path, snapshot.wasm()).expect("write the snapshot");
    println!(
        "snapshot: {} ({} bytes; the original module is {} bytes)",
        path.display(),
        snapshot.wasm().len(),
        snapshot.original_len()
    );

    // 2. Later (another process, another day): load the file.
    let bytes = std::fs::read(&path).expect("read the snapshot");
    let from_file = Module::new(bytes)?;
    let original = Module::new(PLUGIN)?;

    // 3. Serve each request on a fresh guest, both ways; the answers must match.
    let (mut naive_start, mut snapshot_start, mut reset_time) =
        (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let mut resettable = from_file.instantiate()?;
    for request in 0..requests {
        let key = i32::try_from(request).unwrap_or(0).wrapping_mul(7919);

        let started = Instant::now();
        let mut slow = naive(&original)?;
        naive_start += started.elapsed();
        let expected = slow.call::<i32, i32>("handle", key)?;

        let started = Instant::now();
        let mut fast = from_file.instantiate()?;
        snapshot_start += started.elapsed();
        assert_eq!(fast.call::<i32, i32>("handle", key)?, expected);

        assert_eq!(resettable.call::<i32, i32>("handle", key)?, expected);
        let started = Instant::now();
        snapshot.reset(&mut resettable)?;
        reset_time += started.elapsed();
    }
    let naive_us = mean(naive_start, requests);
    let snapshot_us = mean(snapshot_start, requests);
    let reset_us = mean(reset_time, requests);
    println!(
        "{requests} requests, each on a guest in the initialised state; mean start-up per request:"
    );
    println!("  instantiate + initialise (naive):   {naive_us:>9.2} µs");
    println!(
        "  instantiate the snapshot:           {snapshot_us:>9.2} µs  ({:.0}x faster)",
        naive_us / snapshot_us
    );
    println!(
        "  reset one guest in place:           {reset_us:>9.2} µs  ({:.0}x faster)",
        naive_us / reset_us
    );
    Ok(())
}
