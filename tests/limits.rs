//! Resource limits: memory per memory and per store, table elements,
//! instance/table/memory counts; guest grows get -1 (or a trap), host grows
//! an error that names the limit, distinct from the declared maximum.
#![cfg(feature = "wat")] // WAT text modules; tests/binary_only.rs covers builds without it

use linmem::{Denial, Error, Guest, Limit, Limits, Module, TrapCode};

const PAGE: u64 = 65_536;

fn nasty(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/fixtures/nasty/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn guest(name: &str, limits: Limits) -> linmem::Result<Guest> {
    Module::new(nasty(name))?
        .guest()
        .limits(limits)
        .instantiate()
}

#[test]
fn guest_grow_past_memory_limit_returns_minus_one_and_records_why() -> linmem::Result<()> {
    let mut guest = guest("grow_bomb.wat", Limits::new().max_memory_bytes(5 * PAGE))?;
    guest.view_mut().write(100, 0xDEAD_BEEF_u32)?;
    assert_eq!(guest.last_denial(), None);
    // The bomb grows one page at a time until refused: 4 more pages.
    assert_eq!(guest.call::<(), i32>("bomb", ())?, 4);
    assert_eq!(guest.view().pages(), 5);
    assert_eq!(
        guest.last_denial(),
        Some(Denial {
            limit: Limit::MemoryBytes,
            requested: 6 * PAGE,
            allowed: 5 * PAGE
        })
    );
    assert_eq!(guest.call::<i32, i32>("grow", 1)?, -1);
    assert_eq!(guest.call::<i32, i32>("grow", 0)?, 5);
    assert_eq!(guest.view().read::<u32>(100)?, 0xDEAD_BEEF);
    Ok(())
}

#[test]
fn host_grow_past_limit_is_grow_denied_not_grow_past_maximum() -> linmem::Result<()> {
    let module = Module::new(r#"(module (memory (export "memory") 1 8))"#)?;
    let mut guest = module
        .guest()
        .limits(Limits::new().max_memory_bytes(3 * PAGE))
        .instantiate()?;
    guest.view_mut().fill(0, PAGE, 0x5A)?;
    assert_eq!(guest.grow(2)?, 1);
    match guest.grow(1) {
        Err(Error::GrowDenied {
            current: 3,
            additional: 1,
            denial,
        }) => assert_eq!(
            denial,
            Denial {
                limit: Limit::MemoryBytes,
                requested: 4 * PAGE,
                allowed: 3 * PAGE
            }
        ),
        other => panic!("expected GrowDenied, got {other:?}"),
    }
    // Past the declared maximum (8) is the other error, even under a limit.
    match guest.grow(6) {
        Err(Error::GrowPastMaximum {
            current: 3,
            additional: 6,
            maximum: 8,
        }) => {}
        other => panic!("expected GrowPastMaximum, got {other:?}"),
    }
    assert_eq!(guest.view().pages(), 3);
    assert!(guest.view().bytes(0, PAGE)?.iter().all(|&b| b == 0x5A));
    assert!(guest.view().bytes(PAGE, 2 * PAGE)?.iter().all(|&b| b == 0));
    let err = guest.grow(1).unwrap_err().to_string();
    assert!(err.contains("per-memory size limit"), "{err}");
    Ok(())
}

#[test]
fn trap_on_grow_failure_traps_and_keeps_memory() -> linmem::Result<()> {
    let limits = Limits::new()
        .max_memory_bytes(2 * PAGE)
        .trap_on_grow_failure(true);
    let mut guest = guest("grow_bomb.wat", limits)?;
    assert!(guest.limits().traps_on_grow_failure());
    guest.view_mut().write(8, 77u64)?;
    let err = guest.call::<(), i32>("bomb", ()).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::GrowthOperationLimited));
    assert_eq!(guest.view().pages(), 2);
    assert_eq!(guest.view().read::<u64>(8)?, 77);
    // The host's grow still gets the error, not a trap.
    assert!(matches!(guest.grow(1), Err(Error::GrowDenied { .. })));
    // Within the limit the guest keeps working.
    assert_eq!(guest.call::<i32, i32>("grow", 0)?, 2);
    Ok(())
}

#[test]
fn store_limit_counts_all_memories() -> linmem::Result<()> {
    let limits = Limits::new()
        .max_memory_bytes(4 * PAGE)
        .max_store_memory_bytes(6 * PAGE);
    let mut guest = guest("two_memories.wat", limits)?;
    assert_eq!(guest.call::<i32, i32>("grow0", 1)?, 2); // 3 + 2 = 5 pages
    assert_eq!(guest.call::<i32, i32>("grow1", 2)?, -1); // 3 + 4 = 7 > 6
    assert_eq!(
        guest.last_denial(),
        Some(Denial {
            limit: Limit::StoreMemoryBytes,
            requested: 7 * PAGE,
            allowed: 6 * PAGE
        })
    );
    assert_eq!(guest.call::<i32, i32>("grow1", 1)?, 2); // 3 + 3 = 6
    assert_eq!(guest.call::<i32, i32>("grow0", 1)?, -1);
    match guest.grow(1) {
        Err(Error::GrowDenied { denial, .. }) => assert_eq!(denial.limit, Limit::StoreMemoryBytes),
        other => panic!("expected GrowDenied, got {other:?}"),
    }
    Ok(())
}

#[test]
fn growth_refused_for_lack_of_fuel_gives_its_bytes_back() -> linmem::Result<()> {
    // memory.grow costs fuel per byte; a grow the limiter allowed but fuel
    // refused must not count against the store limit afterwards.
    let module = Module::with_engine(&linmem::metered_engine(), nasty("grow_bomb.wat"))?;
    let limits = Limits::new().max_store_memory_bytes(3 * PAGE).fuel(1_000);
    let mut guest = module.guest().limits(limits).instantiate()?;
    let err = guest.call::<i32, i32>("grow", 2).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::OutOfFuel));
    assert_eq!(guest.view().pages(), 1);
    guest.set_fuel(10_000_000)?;
    assert_eq!(guest.call::<i32, i32>("grow", 2)?, 1);
    assert_eq!(guest.view().pages(), 3);
    assert_eq!(guest.call::<i32, i32>("grow", 1)?, -1);
    Ok(())
}

#[test]
fn initial_memory_past_limit_fails_instantiation_with_the_limit() {
    let err = guest(
        "huge_initial_memory.wat",
        Limits::new().max_memory_bytes(16 * PAGE),
    )
    .unwrap_err();
    match err {
        Error::LimitExceeded {
            limit: Limit::MemoryBytes,
            requested: Some(requested),
            allowed,
            ..
        } => {
            assert_eq!(requested, 65_536 * PAGE);
            assert_eq!(allowed, 16 * PAGE);
        }
        other => panic!("expected LimitExceeded, got {other:?}"),
    }
    let err = guest(
        "huge_initial_memory.wat",
        Limits::new().max_store_memory_bytes(PAGE),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::LimitExceeded {
                limit: Limit::StoreMemoryBytes,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("per-store memory limit"), "{err}");
}

#[test]
fn table_limits() -> linmem::Result<()> {
    let err = guest("table_bomb.wat", Limits::new().max_table_elements(1_000)).unwrap_err();
    match err {
        Error::LimitExceeded {
            limit: Limit::TableElements,
            requested: Some(10_000_000),
            allowed: 1_000,
            ..
        } => {}
        other => panic!("expected LimitExceeded, got {other:?}"),
    }
    let mut guest = guest("small_table.wat", Limits::new().max_table_elements(15))?;
    assert_eq!(guest.call::<i32, i32>("grow", 5)?, 10);
    assert_eq!(guest.call::<i32, i32>("grow", 1)?, -1);
    assert_eq!(guest.call::<(), i32>("size", ())?, 15);
    assert_eq!(
        guest.last_denial(),
        Some(Denial {
            limit: Limit::TableElements,
            requested: 16,
            allowed: 15
        })
    );
    Ok(())
}

#[test]
fn count_limits() {
    let cases = [
        (
            Limits::new().max_memories(0),
            Limit::Memories,
            "grow_bomb.wat",
        ),
        (
            Limits::new().max_memories(1),
            Limit::Memories,
            "two_memories.wat",
        ),
        (
            Limits::new().max_tables(0),
            Limit::Tables,
            "small_table.wat",
        ),
        (
            Limits::new().max_instances(0),
            Limit::Instances,
            "grow_bomb.wat",
        ),
    ];
    for (limits, expected, file) in cases {
        match guest(file, limits) {
            Err(Error::LimitExceeded {
                limit,
                requested: None,
                allowed,
                ..
            }) => {
                assert_eq!(limit, expected, "{file}");
                assert!(allowed <= 1);
            }
            other => panic!("{file}: expected LimitExceeded, got {other:?}"),
        }
    }
    // At the limit is fine.
    assert!(guest("two_memories.wat", Limits::new().max_memories(2)).is_ok());
    assert!(
        guest(
            "small_table.wat",
            Limits::new().max_tables(1).max_instances(1)
        )
        .is_ok()
    );
}

#[test]
fn memory64_growth_is_limited_without_overflow() -> linmem::Result<()> {
    let mut guest = guest(
        "memory64_grow.wat",
        Limits::new().max_memory_bytes(2 * PAGE),
    )?;
    for pages in [i64::MAX, -1, 1 << 48, 2] {
        assert_eq!(
            guest.call::<i64, i64>("grow", pages)?,
            -1,
            "grow by {pages}"
        );
    }
    assert_eq!(guest.call::<i64, i64>("grow", 1)?, 1);
    assert!(matches!(
        guest.grow(u64::MAX),
        Err(Error::GrowPastMaximum { .. })
    ));
    assert!(matches!(guest.grow(1), Err(Error::GrowDenied { .. })));
    assert_eq!(guest.view().pages(), 2);
    Ok(())
}

#[test]
fn default_limits_allow_what_wasmi_allows() -> linmem::Result<()> {
    let mut guest = guest("grow_bomb.wat", Limits::default())?;
    assert_eq!(*guest.limits(), Limits::new());
    assert_eq!(guest.call::<i32, i32>("grow", 100)?, 1);
    assert_eq!(guest.grow(100)?, 101);
    assert_eq!(guest.last_denial(), None);
    Ok(())
}

#[test]
fn host_memories_count_against_the_limits() -> linmem::Result<()> {
    let module = Module::new(
        r#"(module (import "env" "memory" (memory 1))
            (memory $own (export "own") 1)
            (func (export "grow_host") (param i32) (result i32) (memory.grow 0 (local.get 0)))
            (func (export "grow_own") (param i32) (result i32) (memory.grow $own (local.get 0))))"#,
    )?;
    // Too big for the limit at creation.
    match module
        .guest()
        .limits(Limits::new().max_memory_bytes(2 * PAGE))
        .host_memory("env", "memory", 3, None)
    {
        Err(Error::LimitExceeded {
            limit: Limit::MemoryBytes,
            requested: Some(r),
            allowed,
            ..
        }) => {
            assert_eq!((r, allowed), (3 * PAGE, 2 * PAGE));
        }
        other => panic!("{other:?}"),
    }
    // The host memory and the module's own share the per-store limit.
    let mut guest = module
        .guest()
        .limits(Limits::new().max_store_memory_bytes(4 * PAGE))
        .host_memory("env", "memory", 1, None)?
        .default_memory("own")
        .instantiate()?;
    let host = guest.import_memory("env", "memory")?;
    assert_eq!(guest.call::<i32, i32>("grow_host", 1)?, 1); // 2 + 1 pages
    assert_eq!(guest.call::<i32, i32>("grow_own", 2)?, -1); // 3 + 2 > 4
    assert_eq!(guest.call::<i32, i32>("grow_own", 1)?, 1); // 4
    match guest.grow_memory(host, 1) {
        Err(Error::GrowDenied {
            current: 2,
            additional: 1,
            denial,
        }) => {
            assert_eq!(denial.limit, Limit::StoreMemoryBytes);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(guest.view_of(host)?.pages(), 2);
    Ok(())
}
