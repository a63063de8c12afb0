//! Fuel budgets, deadlines and cancellation: an endless guest is stopped,
//! the host reads and tops up fuel, and the guest stays usable with its
//! memory as it left it.
#![cfg(feature = "wat")] // WAT text modules; tests/binary_only.rs covers builds without it

use linmem::{CancelFlag, Deadline, Error, Guest, Limits, Module, TrapCode};
use std::time::{Duration, Instant};

fn spin_module() -> Module {
    let wat = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/nasty/spin.wat"
    ))
    .unwrap();
    Module::with_engine(&linmem::metered_engine(), wat).unwrap()
}

fn spin(limits: Limits) -> Guest {
    spin_module().guest().limits(limits).instantiate().unwrap()
}

#[test]
fn infinite_loop_runs_out_of_fuel_and_can_be_topped_up() -> linmem::Result<()> {
    let mut guest = spin(Limits::new().fuel(50_000));
    assert_eq!(guest.fuel()?, 50_000);
    let err = guest.call::<(), ()>("spin", ()).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::OutOfFuel));
    assert!(matches!(&err, Error::Trap { func, .. } if &**func == "spin"));
    // What is left is less than the loop body's cost.
    assert!(guest.fuel()? < 20, "{} fuel left", guest.fuel()?);
    // The loop's counter is in memory, as the guest left it.
    let count = guest.view().read::<u64>(0)?;
    assert!(count > 1_000, "the guest ran {count} iterations");
    guest.set_fuel(0)?;
    assert_eq!(
        guest
            .call::<(), i64>("count", ())
            .map_err(|e| e.trap_code()),
        Err(Some(TrapCode::OutOfFuel))
    );
    assert_eq!(guest.add_fuel(1_000)?, 1_000);
    assert_eq!(
        guest.call::<(), i64>("count", ())?,
        i64::try_from(count).unwrap()
    );
    assert!(guest.fuel()? < 1_000);
    // Another budget, another run, continuing from the same memory.
    guest.set_fuel(50_000)?;
    assert!(guest.call::<(), ()>("spin", ()).is_err());
    assert!(guest.view().read::<u64>(0)? > count);
    Ok(())
}

#[test]
fn fuel_needs_a_metering_engine() -> linmem::Result<()> {
    let wat = r#"(module (memory (export "memory") 1) (func (export "f")))"#;
    let mut guest = Guest::new(wat)?;
    assert!(matches!(guest.fuel(), Err(Error::FuelDisabled)));
    assert!(matches!(guest.set_fuel(1), Err(Error::FuelDisabled)));
    assert!(matches!(guest.add_fuel(1), Err(Error::FuelDisabled)));
    let deadline = Deadline::after(Duration::from_secs(1));
    assert!(matches!(
        guest.call_until::<(), ()>("f", (), &deadline),
        Err(Error::FuelDisabled)
    ));
    guest.call::<(), ()>("f", ())?;
    let err = Module::new(wat)?
        .guest()
        .fuel(10)
        .instantiate()
        .unwrap_err();
    assert!(matches!(err, Error::FuelDisabled), "{err:?}");
    assert!(err.to_string().contains("metered_engine"));
    Ok(())
}

#[test]
fn metered_guest_without_a_budget_is_unlimited() -> linmem::Result<()> {
    let guest = spin(Limits::new());
    assert_eq!(guest.fuel()?, u64::MAX);
    assert_eq!(guest.limits().fuel_budget(), None);
    Ok(())
}

#[test]
fn deadline_stops_an_endless_guest_which_stays_usable() -> linmem::Result<()> {
    let mut guest = spin(Limits::new());
    let timeout = Duration::from_millis(50);
    let start = Instant::now();
    let err = guest
        .call_until::<(), ()>("spin", (), &Deadline::after(timeout))
        .unwrap_err();
    let elapsed = start.elapsed();
    assert!(
        matches!(&err, Error::DeadlineExceeded { func } if &**func == "spin"),
        "{err:?}"
    );
    assert!(elapsed >= timeout);
    // Bounded: one fuel slice after the deadline; a generous margin for a
    // loaded 2-core machine.
    assert!(
        elapsed < timeout + Duration::from_secs(5),
        "stopped after {elapsed:?}"
    );
    let count = guest.view().read::<u64>(0)?;
    assert!(count > 0);
    assert_eq!(guest.call::<(), i32>("answer", ())?, 42);
    assert_eq!(
        guest.call::<(), i64>("count", ())?,
        i64::try_from(count).unwrap()
    );
    // The fuel the stopped call used is spent, the rest still there.
    assert!(guest.fuel()? < u64::MAX);
    Ok(())
}

#[test]
fn cancel_flag_stops_a_call_from_another_thread() -> linmem::Result<()> {
    let mut guest = spin(Limits::new());
    let flag = CancelFlag::new();
    let remote = flag.clone();
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(30));
        remote.cancel();
    });
    let err = guest
        .call_until::<(), ()>("spin", (), &Deadline::cancel_on(&flag))
        .unwrap_err();
    canceller.join().unwrap();
    assert!(
        matches!(&err, Error::Cancelled { func } if &**func == "spin"),
        "{err:?}"
    );
    assert!(flag.is_cancelled());
    assert!(guest.view().read::<u64>(0)? > 0);
    // A set flag stops the next call before it starts; reset re-arms it.
    guest.view_mut().write(0, 0u64)?;
    assert!(matches!(
        guest.call_until::<(), i32>("answer", (), &Deadline::cancel_on(&flag)),
        Err(Error::Cancelled { .. })
    ));
    flag.reset();
    assert_eq!(
        guest.call_until::<(), i32>("answer", (), &Deadline::cancel_on(&flag))?,
        42
    );
    assert_eq!(guest.view().read::<u64>(0)?, 0);
    Ok(())
}

#[test]
fn deadline_or_flag_whichever_comes_first() -> linmem::Result<()> {
    let mut guest = spin(Limits::new());
    let flag = CancelFlag::new();
    let deadline = Deadline::after(Duration::from_millis(20)).or_cancel_on(&flag);
    assert!(matches!(
        guest.call_until::<(), ()>("spin", (), &deadline),
        Err(Error::DeadlineExceeded { .. })
    ));
    flag.cancel();
    let later = Deadline::after(Duration::from_secs(3600)).or_cancel_on(&flag);
    assert!(matches!(
        guest.call_until::<(), ()>("spin", (), &later),
        Err(Error::Cancelled { .. })
    ));
    Ok(())
}

#[test]
fn passed_deadline_runs_no_guest_code() -> linmem::Result<()> {
    let mut guest = spin(Limits::new().fuel(1_000_000));
    let past = Deadline::at(Instant::now());
    assert!(matches!(
        guest.call_until::<(), ()>("spin", (), &past),
        Err(Error::DeadlineExceeded { .. })
    ));
    assert_eq!(guest.view().read::<u64>(0)?, 0);
    assert_eq!(guest.fuel()?, 1_000_000);
    Ok(())
}

#[test]
fn deadline_call_uses_the_fuel_of_a_plain_call() -> linmem::Result<()> {
    let module = Module::with_engine(
        &linmem::metered_engine(),
        r#"(module (memory (export "memory") 1)
            (func (export "sum") (param i32) (result i64) (local i64)
              (loop
                (local.set 1 (i64.add (local.get 1) (i64.extend_i32_u (local.get 0))))
                (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
                (br_if 0 (local.get 0)))
              (local.get 1)))"#,
    )?;
    // The first call of a function pays for translating it, once per
    // engine: pay that on a third guest so both compared calls skip it.
    module
        .guest()
        .fuel(10_000)
        .instantiate()?
        .call::<i32, i64>("sum", 1)?;
    let mut plain = module.guest().fuel(10_000_000).instantiate()?;
    let mut sliced = module.guest().fuel(10_000_000).instantiate()?;
    let func = sliced.export_func::<i32, i64>("sum")?;
    assert_eq!(plain.call::<i32, i64>("sum", 100_000)?, 5_000_050_000);
    let deadline = Deadline::after(Duration::from_secs(3600)).fuel_slice(1_000);
    assert_eq!(deadline.slice(), 1_000);
    assert_eq!(
        func.call_until(&mut sliced, 100_000, &deadline)?,
        5_000_050_000
    );
    // The same work, plus at most a few units per slice boundary (wasmi
    // charges a block's fuel again when it resumes inside it).
    let plain_used = 10_000_000 - plain.fuel()?;
    let sliced_used = 10_000_000 - sliced.fuel()?;
    let slices = sliced_used / 1_000 + 1;
    assert!(plain_used > 100_000);
    assert!(
        (plain_used..=plain_used + 10 * slices).contains(&sliced_used),
        "plain {plain_used}, sliced {sliced_used}"
    );
    Ok(())
}

#[test]
fn budget_runs_out_inside_a_deadline_call() -> linmem::Result<()> {
    let mut guest = spin(Limits::new().fuel(30_000));
    let deadline = Deadline::after(Duration::from_secs(3600)).fuel_slice(1_000);
    let err = guest
        .call_until::<(), ()>("spin", (), &deadline)
        .unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::OutOfFuel), "{err:?}");
    assert!(guest.fuel()? < 1_000);
    let count = guest.view().read::<u64>(0)?;
    assert!(count > 100);
    guest.add_fuel(1_000)?;
    assert_eq!(
        guest.call_until::<(), i32>("answer", (), &Deadline::none())?,
        42
    );
    Ok(())
}

#[test]
fn traps_and_wrong_handles_inside_deadline_calls() -> linmem::Result<()> {
    let module = Module::with_engine(
        &linmem::metered_engine(),
        r#"(module (memory (export "memory") 1)
            (func (export "boom") (i32.store (i32.const 4) (i32.const 9)) unreachable))"#,
    )?;
    let mut guest = module.instantiate()?;
    let mut other = module.instantiate()?;
    let deadline = Deadline::after(Duration::from_secs(10));
    let err = guest
        .call_until::<(), ()>("boom", (), &deadline)
        .unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::UnreachableCodeReached));
    assert_eq!(guest.view().read::<i32>(4)?, 9);
    let boom = guest.export_func::<(), ()>("boom")?;
    assert!(matches!(
        boom.call_until(&mut other, (), &deadline),
        Err(Error::ForeignHandle { .. })
    ));
    assert_eq!(other.view().read::<i32>(4)?, 0);
    assert!(matches!(
        guest.call_until::<(), ()>("nope", (), &deadline),
        Err(Error::MissingExport { .. })
    ));
    Ok(())
}

#[test]
fn tiny_slices_still_spend_the_budget() -> linmem::Result<()> {
    // Whatever the slice, the budget bounds the work: a spinning guest ends
    // out of fuel, having run no more loop iterations than its budget allows.
    for slice in [1, 2, 3, 7, 64] {
        let mut guest = spin(Limits::new().fuel(20_000));
        let deadline = Deadline::none().fuel_slice(slice);
        let err = guest
            .call_until::<(), ()>("spin", (), &deadline)
            .unwrap_err();
        assert_eq!(
            err.trap_code(),
            Some(TrapCode::OutOfFuel),
            "slice {slice}: {err:?}"
        );
        let sliced = guest.view().read::<u64>(0)?;
        let mut plain = spin(Limits::new().fuel(20_000));
        assert!(plain.call::<(), ()>("spin", ()).is_err());
        let expected = plain.view().read::<u64>(0)?;
        assert!(
            sliced <= expected,
            "slice {slice}: {sliced} iterations, plain {expected}"
        );
        assert!(
            sliced * 2 > expected,
            "slice {slice}: {sliced} iterations, plain {expected}"
        );
    }
    Ok(())
}

#[test]
fn lazily_compiling_engine_with_tiny_slices() -> linmem::Result<()> {
    // On a lazily compiling engine the first call is charged for
    // translating its callee before it starts; call_until must still make
    // progress with slices smaller than that charge.
    let mut config = linmem::wasmi::Config::default();
    config.consume_fuel(true);
    let engine = linmem::Engine::new(&config);
    let wat = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/nasty/spin.wat"
    ))
    .unwrap();
    let module = Module::with_engine(&engine, wat)?;
    let mut guest = module.guest().fuel(5_000).instantiate()?;
    let err = guest
        .call_until::<(), ()>("spin", (), &Deadline::none().fuel_slice(1))
        .unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::OutOfFuel), "{err:?}");
    assert!(guest.view().read::<u64>(0)? > 100);
    guest.add_fuel(1_000)?;
    assert_eq!(
        guest.call_until::<(), i32>("answer", (), &Deadline::none().fuel_slice(1))?,
        42
    );
    Ok(())
}

#[test]
fn host_function_errors_inside_deadline_calls_keep_their_fields() -> linmem::Result<()> {
    let module = Module::with_engine(
        &linmem::metered_engine(),
        r#"(module
            (import "env" "host" (func $host (param i32)))
            (memory (export "memory") 1)
            (func (export "run") (param i32) (call $host (local.get 0))))"#,
    )?;
    let mut guest = module
        .guest()
        .host_func(
            "env",
            "host",
            |cx: linmem::HostContext<'_, ()>, arg: i32| match arg {
                0 => Ok(()),
                1 => cx.view()?.read::<u64>(65_530).map(|_| ()),
                _ => Err(Error::custom(std::fmt::Error)),
            },
        )?
        .instantiate()?;
    let deadline = Deadline::after(Duration::from_secs(3600));
    guest.call_until::<i32, ()>("run", 0, &deadline)?;
    match guest.call_until::<i32, ()>("run", 1, &deadline) {
        Err(Error::HostFunc {
            func,
            error: source,
        }) => {
            assert_eq!(&*func, "run");
            assert!(matches!(
                *source,
                Error::OutOfBounds {
                    addr: 65_530,
                    len: 8,
                    size: 65_536
                }
            ));
        }
        other => panic!("{other:?}"),
    }
    match guest.call_until::<i32, ()>("run", 2, &deadline) {
        // A custom error keeps its text (wasmi only lends it).
        Err(Error::HostFunc { error, .. }) => {
            assert_eq!(error.to_string(), std::fmt::Error.to_string());
        }
        other => panic!("{other:?}"),
    }
    guest.call_until::<i32, ()>("run", 0, &deadline)?;
    Ok(())
}

#[test]
fn a_host_function_can_cancel_its_own_call() -> linmem::Result<()> {
    // The guest loops calling the host; the host sets the flag on its
    // tenth call; the call stops at the next slice boundary.
    let module = Module::with_engine(
        &linmem::metered_engine(),
        r#"(module
            (import "env" "tick" (func $tick))
            (memory (export "memory") 1)
            (func (export "run") (loop (call $tick) (br 0))))"#,
    )?;
    let flag = CancelFlag::new();
    let remote = flag.clone();
    let mut guest = module
        .guest_with(0u32)
        .host_func(
            "env",
            "tick",
            move |mut cx: linmem::HostContext<'_, u32>| {
                *cx.data_mut() += 1;
                if *cx.data() == 10 {
                    remote.cancel();
                }
                Ok(())
            },
        )?
        .instantiate()?;
    let err = guest
        .call_until::<(), ()>("run", (), &Deadline::cancel_on(&flag).fuel_slice(50))
        .unwrap_err();
    assert!(matches!(err, Error::Cancelled { .. }), "{err:?}");
    let ticks = *guest.data();
    assert!((10..20).contains(&ticks), "{ticks} ticks");
    Ok(())
}
