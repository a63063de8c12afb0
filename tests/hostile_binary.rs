//! Limits, fuel and cancellation in every build, including `no_std` +
//! `alloc` (`--no-default-features`): modules are given as wasm bytes,
//! compiled here by the `wat` dev-dependency, and no clock is involved.

use linmem::{CancelFlag, Deadline, Error, Limit, Limits, Module, TrapCode};

const PAGE: u64 = 65_536;

fn wasm(text: &str) -> Vec<u8> {
    wat::parse_str(text).unwrap()
}

#[test]
fn limits_and_denials_without_std() -> linmem::Result<()> {
    let module = Module::new(wasm(
        r#"(module (memory (export "memory") 1)
            (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#,
    ))?;
    let mut guest = module
        .guest()
        .limits(Limits::new().max_memory_bytes(2 * PAGE))
        .instantiate()?;
    assert_eq!(guest.call::<i32, i32>("grow", 2)?, -1);
    assert_eq!(
        guest.last_denial().map(|d| d.limit),
        Some(Limit::MemoryBytes)
    );
    assert_eq!(guest.call::<i32, i32>("grow", 1)?, 1);
    assert!(matches!(
        guest.grow(1),
        Err(Error::GrowDenied {
            current: 2,
            additional: 1,
            ..
        })
    ));
    assert_eq!(guest.view().pages(), 2);
    Ok(())
}

#[test]
fn fuel_and_cancellation_without_std() -> linmem::Result<()> {
    let module = Module::with_engine(
        &linmem::metered_engine(),
        wasm(
            r#"(module (memory (export "memory") 1)
            (func (export "spin") (loop br 0))
            (func (export "one") (result i32) i32.const 1))"#,
        ),
    )?;
    let mut guest = module
        .guest()
        .limits(Limits::new().fuel(10_000))
        .instantiate()?;
    let err = guest
        .call_until::<(), ()>("spin", (), &Deadline::none())
        .unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::OutOfFuel));
    guest.set_fuel(10_000)?;
    let flag = CancelFlag::new();
    flag.cancel();
    let err = guest
        .call_until::<(), ()>("spin", (), &Deadline::cancel_on(&flag))
        .unwrap_err();
    assert!(matches!(err, Error::Cancelled { .. }));
    assert_eq!(guest.fuel()?, 10_000);
    flag.reset();
    assert_eq!(
        guest.call_until::<(), i32>("one", (), &Deadline::cancel_on(&flag))?,
        1
    );
    Ok(())
}
