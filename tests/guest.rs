//! The reference scenario, calls, traps, grow and the instantiation errors.
#![cfg(feature = "wat")] // the modules below are WAT text; tests/binary_only.rs covers builds without it

use linmem::{Error, Guest, Module, TrapCode};

#[test]
fn reference_scenario_on_the_fixture() {
    let mut guest = Guest::linear_memory().unwrap();
    // 1. the start function grew the empty memory by one page and stored 24 at 0
    assert_eq!(guest.view().pages(), 1);
    // 2. the host reads address 0
    assert_eq!(guest.view().read::<u8>(0).unwrap(), 24);
    // 3. the host writes 25 at address 1
    guest.view_mut().write(1, 25u8).unwrap();
    // 4. the guest returns address 1
    let value: i32 = guest.call("readWasmMemoryAndReturnIndexOne", ()).unwrap();
    assert_eq!(value, 25);
}

#[test]
fn the_fixture_from_wat_and_from_wasm_behave_the_same() {
    for source in [
        linmem::LINEAR_MEMORY_WAT.as_bytes(),
        linmem::LINEAR_MEMORY_WASM,
    ] {
        let mut guest = Guest::new(source).unwrap();
        assert_eq!(guest.view().read::<u8>(0).unwrap(), 24);
        guest.view_mut().write(1, 99u8).unwrap();
        assert_eq!(
            guest
                .call::<(), i32>("readWasmMemoryAndReturnIndexOne", ())
                .unwrap(),
            99
        );
    }
}

#[test]
fn many_instances_of_one_module_are_independent() {
    let module = Module::linear_memory().unwrap();
    let mut guests: Vec<Guest> = (0..5).map(|_| module.instantiate().unwrap()).collect();
    for (i, guest) in guests.iter_mut().enumerate() {
        guest.view_mut().write(1, i as u8 + 100).unwrap();
    }
    for (i, guest) in guests.iter_mut().enumerate() {
        assert_eq!(
            guest.view().read::<u8>(0).unwrap(),
            24,
            "each start function ran"
        );
        let got: i32 = guest.call("readWasmMemoryAndReturnIndexOne", ()).unwrap();
        assert_eq!(got, i as i32 + 100);
    }
}

#[test]
fn module_and_guest_are_send_and_module_is_sync() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Module>();
    send::<Guest>();
    send::<linmem::GuestFunc<(), i32>>();
}

const TRAPS: &str = r#"(module
  (memory (export "memory") 1 3)
  (func (export "store_then_trap") (param i32)
    (i32.store8 (i32.const 0) (local.get 0))
    unreachable)
  (func (export "load") (param i32) (result i32)
    (i32.load (local.get 0)))
  (func (export "div") (param i32 i32) (result i32)
    (i32.div_s (local.get 0) (local.get 1)))
  (func $recurse (export "recurse") (result i32)
    (i32.add (call $recurse) (i32.const 1)))
  (func (export "grow") (param i32) (result i32)
    (memory.grow (local.get 0)))
  (global (export "g") i32 (i32.const 0)))"#;

#[test]
fn traps_expose_their_kind_and_the_guest_stays_usable() {
    let mut guest = Guest::new(TRAPS).unwrap();
    let err = guest.call::<i32, ()>("store_then_trap", 42).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::UnreachableCodeReached));
    assert!(matches!(&err, Error::Trap { func, .. } if &**func == "store_then_trap"));
    assert_eq!(
        guest.view().read::<u8>(0).unwrap(),
        42,
        "the write before the trap stays"
    );

    let load = guest.export_func::<i32, i32>("load").unwrap();
    let err = load.call(&mut guest, 65_534).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::MemoryOutOfBounds));
    let err = load.call(&mut guest, -1).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::MemoryOutOfBounds));
    assert_eq!(
        load.call(&mut guest, 0).unwrap(),
        42,
        "usable after the traps"
    );

    let err = guest.call::<(i32, i32), i32>("div", (1, 0)).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::IntegerDivisionByZero));
    let err = guest
        .call::<(i32, i32), i32>("div", (i32::MIN, -1))
        .unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::IntegerOverflow));
    let err = guest.call::<(), i32>("recurse", ()).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::StackOverflow));
    assert_eq!(guest.call::<(i32, i32), i32>("div", (7, 2)).unwrap(), 3);

    let message = err.to_string();
    assert!(
        message.contains("recurse") && message.contains("trapped"),
        "{message}"
    );
    assert!(
        std::error::Error::source(&err).is_none(),
        "the message says it all; no chain repeats it"
    );
    assert_eq!(message, "`recurse` trapped: call stack exhausted");
}

#[test]
fn export_lookup_errors_name_the_problem() {
    let mut guest = Guest::new(TRAPS).unwrap();
    assert!(matches!(
        guest.export_func::<(), ()>("nope"),
        Err(Error::MissingExport { name, expected: "function" }) if &*name == "nope"
    ));
    assert!(matches!(
        guest.call::<(), ()>("memory", ()),
        Err(Error::WrongExportKind {
            expected: "function",
            found: "memory",
            ..
        })
    ));
    assert!(matches!(
        guest.export_func::<(), ()>("g"),
        Err(Error::WrongExportKind {
            found: "global",
            ..
        })
    ));
    let err = guest.export_func::<i64, i32>("load").unwrap_err();
    assert!(matches!(&err, Error::SignatureMismatch { name, .. } if &**name == "load"));
    assert!(err.to_string().contains("`load`"));
}

#[test]
fn a_handle_from_another_guest_is_refused() {
    let module = Module::linear_memory().unwrap();
    let mut a = module.instantiate().unwrap();
    let mut b = module.instantiate().unwrap();
    let from_a = a
        .export_func::<(), i32>("readWasmMemoryAndReturnIndexOne")
        .unwrap();
    assert!(matches!(
        from_a.call(&mut b, ()),
        Err(Error::ForeignHandle { .. })
    ));
    assert_eq!(from_a.call(&mut a, ()).unwrap(), 0);
    assert_eq!(from_a.clone().name(), "readWasmMemoryAndReturnIndexOne");
}

#[test]
fn host_grow_returns_the_old_size_and_zeroes_new_pages() {
    let mut guest = Guest::new(TRAPS).unwrap();
    guest.view_mut().fill(0, 65_536, 0xFF).unwrap();
    assert_eq!(guest.grow(1).unwrap(), 1);
    let view = guest.view();
    assert_eq!(view.pages(), 2);
    assert!(view.bytes(65_536, 65_536).unwrap().iter().all(|&b| b == 0));
    assert_eq!(
        view.read::<u8>(65_535).unwrap(),
        0xFF,
        "old bytes survive the grow"
    );
    assert_eq!(guest.grow(0).unwrap(), 2);
}

#[test]
fn growing_past_the_maximum_is_an_error_and_changes_nothing() {
    let mut guest = Guest::new(TRAPS).unwrap();
    guest.view_mut().write(8, 77u64).unwrap();
    let err = guest.grow(3).unwrap_err();
    assert!(
        matches!(
            err,
            Error::GrowPastMaximum {
                current: 1,
                additional: 3,
                maximum: 3
            }
        ),
        "{err:?}"
    );
    assert!(matches!(
        guest.grow(u64::MAX),
        Err(Error::GrowPastMaximum { .. })
    ));
    assert_eq!(guest.view().pages(), 1);
    assert_eq!(guest.view().read::<u64>(8).unwrap(), 77);
    assert_eq!(guest.grow(2).unwrap(), 1, "growing up to the maximum works");
    // the guest's own memory.grow past the maximum gives -1, not a trap
    assert_eq!(guest.call::<i32, i32>("grow", 1).unwrap(), -1);
}

#[test]
fn a_memory_without_maximum_stops_at_4_gib() {
    let mut guest = Guest::new(r#"(module (memory (export "memory") 0))"#).unwrap();
    let err = guest.grow(65_537).unwrap_err();
    assert!(
        matches!(
            err,
            Error::GrowPastMaximum {
                maximum: 65_536,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn guest_growth_is_seen_by_the_next_view() {
    let mut guest = Guest::new(TRAPS).unwrap();
    assert_eq!(guest.call::<i32, i32>("grow", 1).unwrap(), 1);
    assert_eq!(guest.view().pages(), 2);
    guest.view_mut().write(70_000, 5u32).unwrap();
    assert_eq!(guest.call::<i32, i32>("load", 70_000).unwrap(), 5);
}

#[test]
fn instantiation_errors_are_distinct() {
    #[cfg(feature = "wat")]
    {
        let err = Module::new("(module (func (export \"f\") (result i32)").unwrap_err();
        assert!(matches!(err, Error::Wat { .. }), "{err:?}");
        assert!(err.to_string().contains("expected"), "{err}");
    }
    assert!(matches!(
        Module::new(b"\0asm\x01\0\0\0\xff"),
        Err(Error::Compile { .. })
    ));
    assert!(matches!(Module::new(b"\0asm"), Err(Error::Compile { .. })));

    let err = Guest::new(
        r#"(module (import "env" "log" (func (param i32))) (memory (export "memory") 1))"#,
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::MissingImport { module, name, kind: "function" } if &**module == "env" && &**name == "log"),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "missing import `env`.`log` (function)");
    let err = Guest::new(r#"(module (import "env" "memory" (memory 1)))"#).unwrap_err();
    assert!(
        matches!(err, Error::MissingImport { kind: "memory", .. }),
        "{err:?}"
    );

    // An empty module is a valid module: it instantiates, without memory.
    let guest = Guest::new("(module)").unwrap();
    assert!(!guest.view().has_memory());
    assert_eq!(format!("{guest:?}"), "Guest { pages: None, .. }");
    let guest = Guest::linear_memory().unwrap();
    assert_eq!(format!("{guest:?}"), "Guest { pages: Some(1), .. }");
    // A function named `memory` is not a memory: no memory, no error.
    let guest = Guest::new(r#"(module (func (export "memory")))"#).unwrap();
    assert!(!guest.view().has_memory());

    let err =
        Guest::new(r#"(module (memory (export "memory") 1) (func $s unreachable) (start $s))"#)
            .unwrap_err();
    assert!(
        matches!(&err, Error::Trap { func, code: TrapCode::UnreachableCodeReached, .. } if &**func == "(start)")
    );

    let err = Guest::new(r#"(module (memory (export "memory") 1) (data (i32.const 65535) "ab"))"#)
        .unwrap_err();
    assert!(
        matches!(err, Error::Instantiate { .. } | Error::Trap { .. }),
        "{err:?}"
    );
}

#[test]
fn another_memory_export_name_can_be_chosen() {
    let module = Module::new(
        r#"(module (memory (export "a") 1) (memory (export "b") 2)
             (func (export "load_b") (param i32) (result i32) (i32.load8_u 1 (local.get 0))))"#,
    )
    .unwrap();
    let mut guest = module.guest().default_memory("b").instantiate().unwrap();
    assert_eq!(guest.view().pages(), 2);
    guest.view_mut().write(70_000, 9u8).unwrap();
    assert_eq!(guest.call::<i32, i32>("load_b", 70_000).unwrap(), 9);
    let err = module
        .guest()
        .default_memory("c")
        .instantiate()
        .unwrap_err();
    assert!(
        matches!(&err, Error::MissingMemory { name, memories, .. } if &**name == "c" && memories.len() == 2)
    );
}

#[test]
fn escape_hatches_reach_wasmi() {
    let mut guest = Module::linear_memory()
        .unwrap()
        .guest_with(7u32)
        .instantiate()
        .unwrap();
    *guest.data_mut() += 1;
    assert_eq!(*guest.data(), 8);
    assert_eq!(*guest.as_wasmi_store().data().data(), 8);
    let memory = guest.as_wasmi_memory().expect("a memory");
    let instance = guest.as_wasmi_instance();
    memory.write(guest.as_wasmi_store_mut(), 1, &[31]).unwrap();
    let f = instance
        .get_typed_func::<(), i32>(guest.as_wasmi_store(), "readWasmMemoryAndReturnIndexOne")
        .unwrap();
    assert_eq!(f.call(guest.as_wasmi_store_mut(), ()).unwrap(), 31);
    assert!(linmem::Engine::same(
        guest.engine(),
        guest.as_wasmi_store().engine()
    ));
}
