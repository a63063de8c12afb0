//! Threads: one compiled module shared by many threads, each running its
//! own guests through many round trips, with no cross-talk.
#![cfg(feature = "wat")] // WAT text modules; tests/binary_only.rs covers builds without it

use linmem::{CancelFlag, Deadline, Guest, GuestFunc, Limits, Module};
use std::sync::{Arc, Barrier};

/// Compile-time checks: these fail to build if a type loses `Send`/`Sync`.
const _: () = {
    const fn send<T: Send>() {}
    const fn sync<T: Sync>() {}
    send::<Module>();
    sync::<Module>();
    send::<Guest>();
    sync::<Guest>();
    send::<Guest<Vec<u8>>>();
    send::<GuestFunc<(i32, i32), i32>>();
    sync::<GuestFunc<(i32, i32), i32>>();
    send::<linmem::Error>();
    sync::<linmem::Error>();
    send::<CancelFlag>();
    sync::<CancelFlag>();
    send::<Deadline>();
    sync::<Deadline>();
    send::<Limits>();
    sync::<Limits>();
};

/// `store(addr, byte, len)` fills with the guest's own `memory.fill`;
/// `sum(addr, len)` adds the bytes up.
const WAT: &str = r#"(module
  (memory (export "memory") 1)
  (func (export "fill") (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (local.get 2)))
  (func (export "sum") (param i32 i32) (result i32) (local $s i32)
    (block $done (loop $next
      (br_if $done (i32.eqz (local.get 1)))
      (local.set $s (i32.add (local.get $s) (i32.load8_u (local.get 0))))
      (local.set 0 (i32.add (local.get 0) (i32.const 1)))
      (local.set 1 (i32.sub (local.get 1) (i32.const 1)))
      (br $next)))
    (local.get $s)))"#;

const THREADS: usize = 8;
const GUESTS_PER_THREAD: usize = 3;
const ROUNDS: usize = 2_000;

fn worker(module: &Module, thread: usize) -> linmem::Result<u64> {
    let mut guests: Vec<Guest> = (0..GUESTS_PER_THREAD)
        .map(|_| module.instantiate())
        .collect::<linmem::Result<_>>()?;
    let handles: Vec<_> = guests
        .iter()
        .map(|g| {
            Ok((
                g.export_func::<(i32, i32, i32), ()>("fill")?,
                g.export_func::<(i32, i32), i32>("sum")?,
            ))
        })
        .collect::<linmem::Result<_>>()?;
    let mut trips = 0;
    for round in 0..ROUNDS {
        for (index, (guest, (fill, sum))) in guests.iter_mut().zip(&handles).enumerate() {
            // A pattern unique to (thread, guest, round).
            let tag = u8::try_from((thread * 31 + index * 7 + round) % 251).unwrap();
            let addr = u64::try_from((round * 13) % 60_000).unwrap();
            let key = [
                tag,
                u8::try_from(thread).unwrap(),
                u8::try_from(index).unwrap(),
                0xA5,
            ];
            guest.view_mut().write_bytes(addr, &key)?;
            let expected = key.iter().map(|&b| i32::from(b)).sum::<i32>();
            assert_eq!(
                sum.call(guest, (i32::try_from(addr).unwrap(), 4))?,
                expected
            );
            fill.call(
                guest,
                (i32::try_from(addr).unwrap() + 4, i32::from(tag), 16),
            )?;
            let view = guest.view();
            assert_eq!(view.bytes(addr, 4)?, &key);
            assert!(view.bytes(addr + 4, 16)?.iter().all(|&b| b == tag));
            trips += 2;
        }
    }
    // Each guest's memory holds only its own thread's and index's keys.
    for (index, guest) in guests.iter().enumerate() {
        let view = guest.view();
        for round in (0..ROUNDS).step_by(97) {
            let addr = u64::try_from((round * 13) % 60_000).unwrap();
            let key = view.bytes(addr, 4)?;
            if key[3] == 0xA5 {
                assert_eq!(usize::from(key[1]), thread);
                assert_eq!(usize::from(key[2]), index);
            }
        }
    }
    Ok(trips)
}

#[test]
fn shared_module_many_threads_no_cross_talk() {
    let module = Module::new(WAT).unwrap();
    let start = Arc::new(Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|thread| {
            let module = module.clone();
            let start = Arc::clone(&start);
            std::thread::spawn(move || {
                start.wait();
                worker(&module, thread)
            })
        })
        .collect();
    let trips: u64 = threads
        .into_iter()
        .map(|t| t.join().unwrap().unwrap())
        .sum();
    assert_eq!(
        trips,
        u64::try_from(THREADS * GUESTS_PER_THREAD * ROUNDS * 2).unwrap()
    );
}

#[test]
fn guests_move_between_threads() -> linmem::Result<()> {
    // A guest is Send: build it here, use it there, bring it back.
    let module = Module::new(WAT)?;
    let mut guest = module.instantiate()?;
    guest.view_mut().write_bytes(0, &[1, 2, 3])?;
    let mut guest = std::thread::spawn(move || -> linmem::Result<Guest> {
        assert_eq!(guest.call::<(i32, i32), i32>("sum", (0, 3))?, 6);
        guest.call::<(i32, i32, i32), ()>("fill", (3, 4, 1))?;
        Ok(guest)
    })
    .join()
    .unwrap()?;
    assert_eq!(guest.call::<(i32, i32), i32>("sum", (0, 4))?, 10);
    Ok(())
}

#[test]
fn cancel_flags_stop_only_their_own_guest() {
    // Several threads spin guests under their own flags; cancelling one
    // thread's flag stops that thread only, the others finish their work.
    let spin = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/nasty/spin.wat"
    ))
    .unwrap();
    let module = Module::with_engine(&linmem::metered_engine(), spin).unwrap();
    let flags: Vec<CancelFlag> = (0..4).map(|_| CancelFlag::new()).collect();
    let threads: Vec<_> = flags
        .iter()
        .enumerate()
        .map(|(i, flag)| {
            let module = module.clone();
            let flag = flag.clone();
            std::thread::spawn(move || -> linmem::Result<bool> {
                let mut guest = module
                    .guest()
                    .fuel(if i == 0 { u64::MAX } else { 300_000 })
                    .instantiate()?;
                match guest.call_until::<(), ()>("spin", (), &Deadline::cancel_on(&flag)) {
                    Err(linmem::Error::Cancelled { .. }) => Ok(true),
                    Err(e) if e.trap_code() == Some(linmem::TrapCode::OutOfFuel) => Ok(false),
                    other => panic!("thread {i}: {other:?}"),
                }
            })
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(50));
    flags[0].cancel();
    let cancelled: Vec<bool> = threads
        .into_iter()
        .map(|t| t.join().unwrap().unwrap())
        .collect();
    assert_eq!(cancelled, [true, false, false, false]);
}
