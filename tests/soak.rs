//! Soak: a million round trips in one process (host writes, guest calls a
//! host function that reads and writes its memory, host reads), with
//! memory grows, traps, out-of-fuel stops, deadline calls and fresh guests
//! along the way; the process's resident memory (VmRSS) must stay within a
//! bound once warmed up.
//!
//! Ignored by default (about 10 s in debug, under a second in release). Run:
//!
//! ```text
//! cargo test --release --test soak -- --ignored --nocapture
//! ```
#![cfg(feature = "wat")] // WAT text modules; tests/binary_only.rs covers builds without it

use linmem::{Deadline, Guest, HostContext, Limits, Module, TrapCode};

const ROUND_TRIPS: u64 = 1_000_000;
/// Round trips per guest before it is dropped and a fresh one made.
const PER_GUEST: u64 = 20_000;
/// Allowed growth of VmRSS between the warmed-up point and the end.
const RSS_BOUND_KIB: u64 = 4 * 1024;

const WAT: &str = r#"(module
  (import "env" "bump" (func $bump (param i32) (result i32)))
  (memory (export "memory") 1 64)
  ;; Has the host function read the u32 at addr and write value + 1 at
  ;; addr + 4; returns value * 2 from what the host returned.
  (func (export "echo") (param $addr i32) (result i32)
    (i32.mul (call $bump (local.get $addr)) (i32.const 2)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "trap") unreachable)
  (func (export "spin") (loop br 0)))"#;

/// The process's resident set in KiB, from /proc/self/status.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .expect("VmRSS line");
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// A guest whose host function counts its calls in the host data.
fn fresh(module: &Module) -> Guest<u64> {
    let limits = Limits::new().max_memory_bytes(8 << 20).fuel(u64::MAX);
    module
        .guest_with(0u64)
        .limits(limits)
        .host_func("env", "bump", |mut cx: HostContext<'_, u64>, addr: u32| {
            let (mut view, calls) = cx.view_and_data_mut()?;
            let value = view.read::<u32>(addr)?;
            view.write(u64::from(addr) + 4, value + 1)?;
            *calls += 1;
            Ok(value)
        })
        .unwrap()
        .instantiate()
        .unwrap()
}

#[test]
#[ignore = "soak: a million round trips; run with --ignored --nocapture"]
fn million_round_trips_in_bounded_memory() {
    let module = Module::with_engine(&linmem::metered_engine(), WAT).unwrap();
    let mut guest = fresh(&module);
    let mut echo = guest.export_func::<i32, i32>("echo").unwrap();
    let (mut grows, mut denied, mut traps, mut stops, mut guests) = (0u64, 0u64, 0u64, 0u64, 1u64);
    let mut host_calls = 0u64;
    let mut samples = Vec::new();
    let start_rss = rss_kib();
    let started = std::time::Instant::now();
    for trip in 0..ROUND_TRIPS {
        if trip > 0 && trip % PER_GUEST == 0 {
            assert_eq!(*guest.data(), PER_GUEST, "host function calls per guest");
            host_calls += *guest.data();
            guest = fresh(&module);
            echo = guest.export_func::<i32, i32>("echo").unwrap();
            guests += 1;
            // Sampled with a fresh guest each time, so samples compare.
            samples.push(rss_kib());
        }
        let pages = guest.view().pages();
        let addr = u32::try_from((trip * 8) % (pages * 65_536 - 8)).unwrap();
        let value = u32::try_from(trip % 1_000_003).unwrap();
        guest.view_mut().write(addr, value).unwrap();
        let doubled = echo.call(&mut guest, i32::try_from(addr).unwrap()).unwrap();
        assert_eq!(doubled, i32::try_from(value * 2).unwrap());
        assert_eq!(
            guest.view().read::<u32>(u64::from(addr) + 4).unwrap(),
            value + 1
        );
        match trip % 1_000 {
            // Grows by the guest and by the host, up to the limit (128 pages)
            // or the declared maximum (64): some succeed, some are refused.
            1 => match guest.call::<i32, i32>("grow", 3).unwrap() {
                -1 => denied += 1,
                _ => grows += 1,
            },
            2 => match guest.grow(2) {
                Ok(_) => grows += 1,
                Err(_) => denied += 1,
            },
            3 => {
                let err = guest.call::<(), ()>("trap", ()).unwrap_err();
                assert_eq!(err.trap_code(), Some(TrapCode::UnreachableCodeReached));
                traps += 1;
            }
            4 => {
                // A spinning call stopped by its budget, then topped up.
                let fuel = guest.fuel().unwrap();
                guest.set_fuel(20_000).unwrap();
                let err = guest.call::<(), ()>("spin", ()).unwrap_err();
                assert_eq!(err.trap_code(), Some(TrapCode::OutOfFuel));
                guest.set_fuel(fuel).unwrap();
                stops += 1;
            }
            5 => {
                // A spinning call stopped by a deadline already passed
                // after a few slices.
                let deadline =
                    Deadline::after(std::time::Duration::from_micros(200)).fuel_slice(5_000);
                assert!(guest.call_until::<(), ()>("spin", (), &deadline).is_err());
                stops += 1;
            }
            _ => {}
        }
    }
    host_calls += *guest.data();
    let end_rss = rss_kib();
    let elapsed = started.elapsed();
    // Warmed up after three guests (allocator pools and wasmi's cached
    // stacks reach their size); the later samples must stay near it.
    let warm_rss = samples[2];
    let last_rss = *samples.last().unwrap();
    let max_rss = *samples.iter().max().unwrap();
    eprintln!("soak: VmRSS KiB at each fresh guest: {samples:?}");
    eprintln!(
        "soak: {ROUND_TRIPS} round trips ({host_calls} host function calls) in {elapsed:.2?}, {guests} guests, {grows} grows, \
         {denied} refused grows, {traps} traps, {stops} stopped spins; VmRSS start {start_rss} KiB, \
         warm {warm_rss} KiB, last fresh-guest sample {last_rss} KiB, max sample {max_rss} KiB, \
         end (guest grown) {end_rss} KiB"
    );
    assert!(grows > 0 && denied > 0 && traps > 0 && stops > 0);
    assert_eq!(host_calls, ROUND_TRIPS);
    assert!(
        max_rss <= warm_rss + RSS_BOUND_KIB,
        "VmRSS grew from {warm_rss} KiB to {max_rss} KiB"
    );
    // The guest in use at the end holds at most its 8 MiB limit on top.
    assert!(end_rss <= warm_rss + RSS_BOUND_KIB + 8 * 1024);
}
