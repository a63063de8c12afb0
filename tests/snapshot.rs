//! Snapshots of hand-written modules: each rule of docs/SNAPSHOTS.md, the
//! state carried (memories, globals, sizes, dropped segments), the
//! refusals, and in-place reset checked against a fresh instance.
#![cfg(all(feature = "snapshot", feature = "wat"))]

use linmem::{Error, Guest, Module, Snapshot, SnapshotError, Snapshotter, TrapCode};

fn snapshotter(wat: &str) -> Snapshotter {
    Snapshotter::new(wat).expect("snapshotter")
}

fn fresh(snapshot: &Snapshot, snapshotter: &Snapshotter) -> Guest {
    snapshot
        .module(snapshotter.module().engine())
        .expect("the snapshot compiles")
        .instantiate()
        .expect("the snapshot instantiates")
}

fn refusal(result: linmem::Result<impl std::fmt::Debug>) -> SnapshotError {
    match result {
        Err(Error::Snapshot(error)) => error,
        other => panic!("expected a snapshot refusal, got {other:?}"),
    }
}

/// The kinds of a module's exports, by name, in order.
fn exports(wasm: &[u8]) -> Vec<String> {
    Module::new(wasm)
        .unwrap()
        .as_wasmi()
        .exports()
        .map(|export| export.name().to_owned())
        .collect()
}

const COUNTER: &str = r#"(module
    (memory (export "memory") 1 4)
    (global $starts (mut i32) (i32.const 0))
    (global $wide (mut i64) (i64.const 0))
    (global $f (mut f32) (f32.const 0))
    (global $d (mut f64) (f64.const 0))
    (global $fixed i32 (i32.const 7))
    (func $start
        (global.set $starts (i32.add (global.get $starts) (i32.const 1)))
        (i32.store (i32.const 100) (i32.const 0xdeadbeef)))
    (start $start)
    (func (export "init")
        (drop (memory.grow (i32.const 1)))
        (i32.store (i32.const 70000) (i32.const 5))
        (global.set $wide (i64.const -2))
        (global.set $f (f32.reinterpret_i32 (i32.const 0x7fc00001)))
        (global.set $d (f64.const -0.5)))
    (func (export "starts") (result i32) (global.get $starts))
    (func (export "wide") (result i64) (global.get $wide))
    (func (export "f_bits") (result i32) (i32.reinterpret_f32 (global.get $f)))
    (func (export "d") (result f64) (global.get $d))
    (func (export "fixed") (result i32) (global.get $fixed)))"#;

#[test]
fn memory_globals_and_size_are_carried_and_the_start_function_is_gone() {
    let snapshotter = snapshotter(COUNTER).remove_export("init");
    let mut guest = snapshotter.module().instantiate().unwrap();
    guest.call::<(), ()>("init", ()).unwrap();
    let snapshot = snapshotter.snapshot(&guest).unwrap();
    let mut copy = fresh(&snapshot, &snapshotter);
    assert_eq!(copy.view().pages(), 2);
    assert_eq!(copy.view().as_slice(), guest.view().as_slice());
    assert_eq!(
        copy.call::<(), i32>("starts", ()).unwrap(),
        1,
        "start ran once, not twice"
    );
    assert_eq!(copy.call::<(), i64>("wide", ()).unwrap(), -2);
    assert_eq!(
        copy.call::<(), i32>("f_bits", ()).unwrap(),
        0x7fc0_0001,
        "NaN payload kept"
    );
    assert_eq!(copy.call::<(), f64>("d", ()).unwrap(), -0.5);
    assert_eq!(copy.call::<(), i32>("fixed", ()).unwrap(), 7);
    assert!(matches!(
        copy.call::<(), ()>("init", ()),
        Err(Error::MissingExport { .. })
    ));
    // The snapshot module is an ordinary module: no reserved exports.
    assert!(
        exports(snapshot.wasm())
            .iter()
            .all(|name| !name.starts_with("__linmem"))
    );
    // The declared maximum is kept.
    assert_eq!(copy.grow(2).unwrap(), 2);
    assert!(copy.grow(1).is_err());
}

#[test]
fn a_snapshot_of_a_snapshot_is_the_same_state() {
    let snapshotter = snapshotter(COUNTER);
    let mut guest = snapshotter.module().instantiate().unwrap();
    guest.call::<(), ()>("init", ()).unwrap();
    let first = snapshotter.snapshot(&guest).unwrap();
    let again = Snapshotter::new(first.wasm()).unwrap();
    let second = again
        .snapshot(&again.module().instantiate().unwrap())
        .unwrap();
    assert_eq!(first.wasm(), second.wasm());
}

#[test]
fn host_writes_and_grows_before_the_snapshot_are_captured() {
    let snapshotter = snapshotter(r#"(module (memory (export "memory") 1))"#);
    let mut guest = snapshotter.module().instantiate().unwrap();
    guest.grow(2).unwrap();
    guest
        .view_mut()
        .write_bytes(3 * 65_536 - 3, b"end")
        .unwrap();
    guest.view_mut().write_bytes(0, b"start").unwrap();
    let snapshot = snapshotter.snapshot(&guest).unwrap();
    let copy = fresh(&snapshot, &snapshotter);
    assert_eq!(copy.view().as_slice(), guest.view().as_slice());
    assert!(snapshot.wasm().len() < 200, "zero pages are not stored");
}

#[test]
fn several_memories_and_memory64_are_carried() {
    let snapshotter = snapshotter(
        r#"(module
        (memory $a (export "memory") 1)
        (memory $b i64 1)
        (func (export "init")
            (i32.store8 $a (i32.const 1) (i32.const 11))
            (drop (memory.grow $b (i64.const 1)))
            (i64.store $b (i64.const 65530) (i64.const 0x0102030405060708))
            (i32.store8 $b (i64.const 65540) (i32.const 22)))
        (func (export "b") (param i64) (result i32) (i32.load8_u $b (local.get 0))))"#,
    );
    let mut guest = snapshotter.module().instantiate().unwrap();
    guest.call::<(), ()>("init", ()).unwrap();
    let snapshot = snapshotter.snapshot(&guest).unwrap();
    let mut copy = fresh(&snapshot, &snapshotter);
    assert_eq!(copy.view().read::<u8>(1).unwrap(), 11);
    for at in [65530_i64, 65537, 65540, 65541] {
        let original = guest.call::<i64, i32>("b", at).unwrap();
        assert_eq!(
            copy.call::<i64, i32>("b", at).unwrap(),
            original,
            "address {at}"
        );
    }
    assert_eq!(copy.call::<i64, i32>("b", 65540).unwrap(), 22);
}

const PASSIVE: &str = r#"(module
    (memory (export "memory") 1)
    (data $kept "kept")
    (data $dropped "dropped")
    (data "active at 200" )
    (data (i32.const 200) "active")
    (func (export "init") (data.drop $dropped) (memory.init $kept (i32.const 8) (i32.const 0) (i32.const 4)))
    (func (export "copy_kept") (memory.init $kept (i32.const 16) (i32.const 0) (i32.const 4)))
    (func (export "copy_dropped") (memory.init $dropped (i32.const 16) (i32.const 0) (i32.const 1)))
    (func (export "copy_active") (memory.init 3 (i32.const 16) (i32.const 0) (i32.const 1)))
    (func (export "empty_dropped") (memory.init $dropped (i32.const 16) (i32.const 0) (i32.const 0))))"#;

#[test]
fn dropped_and_kept_passive_segments_behave_as_in_the_original() {
    let snapshotter = snapshotter(PASSIVE);
    let mut guest = snapshotter.module().instantiate().unwrap();
    guest.call::<(), ()>("init", ()).unwrap();
    let snapshot = snapshotter.snapshot(&guest).unwrap();
    let mut copy = fresh(&snapshot, &snapshotter);
    assert_eq!(copy.view().as_slice(), guest.view().as_slice());
    for func in ["copy_kept", "copy_dropped", "copy_active", "empty_dropped"] {
        let original = guest.call::<(), ()>(func, ()).map_err(|e| e.trap_code());
        let snapshotted = copy.call::<(), ()>(func, ()).map_err(|e| e.trap_code());
        assert_eq!(original, snapshotted, "{func}");
        assert_eq!(copy.view().as_slice(), guest.view().as_slice(), "{func}");
    }
    assert_eq!(
        copy.call::<(), ()>("copy_dropped", ())
            .unwrap_err()
            .trap_code(),
        Some(TrapCode::MemoryOutOfBounds)
    );
}

#[test]
fn a_segment_dropped_in_code_that_did_not_run_stays() {
    let snapshotter = snapshotter(PASSIVE);
    let guest = snapshotter.module().instantiate().unwrap();
    let snapshot = snapshotter.snapshot(&guest).unwrap();
    let mut copy = fresh(&snapshot, &snapshotter);
    copy.call::<(), ()>("copy_dropped", ()).unwrap();
    assert_eq!(copy.view().read::<u8>(16).unwrap(), b'd');
}

const TABLES: &str = r#"(module
    (memory (export "memory") 1)
    (type $t (func (result i32)))
    (table $table 2 funcref)
    (elem (i32.const 0) $one)
    (elem $later func $two)
    (func $one (result i32) (i32.const 1))
    (func $two (result i32) (i32.const 2))
    (func (export "drop_later") (elem.drop $later))
    (func (export "set") (table.set $table (i32.const 1) (ref.func $one)))
    (func (export "init_later") (table.init $table $later (i32.const 1) (i32.const 0) (i32.const 1)))
    (func (export "call") (param i32) (result i32) (call_indirect (type $t) (local.get 0))))"#;

#[test]
fn tables_are_carried_unless_mutated() {
    let snapshotter = snapshotter(TABLES);
    // Code that could change a table but did not run: accepted.
    let guest = snapshotter.module().instantiate().unwrap();
    let snapshot = snapshotter.snapshot(&guest).unwrap();
    let mut copy = fresh(&snapshot, &snapshotter);
    assert_eq!(copy.call::<i32, i32>("call", 0).unwrap(), 1);
    copy.call::<(), ()>("init_later", ()).unwrap();
    assert_eq!(copy.call::<i32, i32>("call", 1).unwrap(), 2);

    // table.set ran: refused.
    let mut guest = snapshotter.module().instantiate().unwrap();
    guest.call::<(), ()>("set", ()).unwrap();
    assert!(matches!(
        refusal(snapshotter.snapshot(&guest)),
        SnapshotError::TableMutated
    ));

    // elem.drop ran: the snapshot's segment is empty too.
    let mut guest = snapshotter.module().instantiate().unwrap();
    guest.call::<(), ()>("drop_later", ()).unwrap();
    let snapshot = snapshotter.snapshot(&guest).unwrap();
    let mut copy = fresh(&snapshot, &snapshotter);
    let original = guest.call::<(), ()>("init_later", ()).unwrap_err();
    let snapshotted = copy.call::<(), ()>("init_later", ()).unwrap_err();
    assert_eq!(original.trap_code(), snapshotted.trap_code());
    assert_eq!(snapshotted.trap_code(), Some(TrapCode::TableOutOfBounds));
}

#[test]
fn the_host_growing_a_table_is_refused() {
    let snapshotter =
        snapshotter(r#"(module (memory (export "memory") 1) (table (export "t") 1 10 funcref))"#);
    let mut guest = snapshotter.module().instantiate().unwrap();
    let table = match guest
        .as_wasmi_instance()
        .get_export(guest.as_wasmi_store(), "t")
    {
        Some(linmem::wasmi::Extern::Table(table)) => table,
        _ => panic!("table"),
    };
    table
        .grow(
            guest.as_wasmi_store_mut(),
            1,
            linmem::wasmi::Ref::Func(linmem::wasmi::Nullable::Null),
        )
        .unwrap();
    assert!(matches!(
        refusal(snapshotter.snapshot(&guest)),
        SnapshotError::TableResized {
            index: 0,
            initial: 1,
            size: 2
        }
    ));
}

#[test]
fn what_a_snapshot_cannot_own_is_refused_up_front() {
    type Expect = fn(&SnapshotError) -> bool;
    let cases: [(&str, Expect); 5] = [
        (
            r#"(module (import "env" "memory" (memory 1)))"#,
            |e| matches!(e, SnapshotError::ImportedMemory { module, name } if &**module == "env" && &**name == "memory"),
        ),
        (r#"(module (import "env" "g" (global (mut i32))))"#, |e| {
            matches!(e, SnapshotError::ImportedMutableGlobal { .. })
        }),
        (r#"(module (import "env" "t" (table 1 funcref)))"#, |e| {
            matches!(e, SnapshotError::UnsupportedImport { kind: "table", .. })
        }),
        (r#"(module (func (export "__linmem_snapshot_id")))"#, |e| {
            matches!(e, SnapshotError::ReservedExportName { .. })
        }),
        ("\0asm\x01\0\0\0\x05\x03\x01", |e| {
            matches!(e, SnapshotError::Parse { .. })
        }),
    ];
    for (wat, expected) in cases {
        let error = refusal(Snapshotter::new(wat));
        assert!(expected(&error), "{wat}: {error}");
        assert!(error.to_string().starts_with("cannot snapshot"), "{error}");
    }
    // An immutable imported global is fine: the snapshot imports it too.
    let snapshotter =
        snapshotter(r#"(module (import "env" "g" (global i32)) (memory (export "memory") 1))"#);
    let imports: Vec<_> = snapshotter
        .module()
        .as_wasmi()
        .imports()
        .map(|i| i.name().to_owned())
        .collect();
    assert_eq!(imports, ["g"]);
}

#[test]
fn misuse_is_refused() {
    let snapshotter = snapshotter(COUNTER);
    let other = self::snapshotter(COUNTER);
    let guest = other.module().instantiate().unwrap();
    assert!(matches!(
        refusal(snapshotter.snapshot(&guest)),
        SnapshotError::ForeignGuest { .. }
    ));
    let plain = Module::new(COUNTER).unwrap().instantiate().unwrap();
    assert!(matches!(
        refusal(snapshotter.snapshot(&plain)),
        SnapshotError::ForeignGuest { .. }
    ));
    let guest = snapshotter.module().instantiate().unwrap();
    let wrong = snapshotter.clone().remove_export("inti");
    assert!(matches!(
        refusal(wrong.snapshot(&guest)),
        SnapshotError::NoSuchExport { name } if &*name == "inti"
    ));
    let snapshot = snapshotter.snapshot(&guest).unwrap();
    let mut copy = fresh(&snapshot, &snapshotter);
    assert!(matches!(
        refusal(snapshot.reset(&mut copy)),
        SnapshotError::ResetUnavailable
    ));
}

#[test]
fn a_non_null_reference_global_is_refused() {
    let snapshotter = snapshotter(
        r#"(module (memory (export "memory") 1)
        (global $g (mut funcref) (ref.null func))
        (func $f) (elem declare func $f)
        (func (export "init") (global.set $g (ref.func $f))))"#,
    );
    let guest = snapshotter.module().instantiate().unwrap();
    let snapshot = snapshotter.snapshot(&guest).unwrap();
    fresh(&snapshot, &snapshotter);
    let mut guest = snapshotter.module().instantiate().unwrap();
    guest.call::<(), ()>("init", ()).unwrap();
    assert!(matches!(
        refusal(snapshotter.snapshot(&guest)),
        SnapshotError::ReferenceGlobal { index: 0 }
    ));
}

const REQUESTS: &str = r#"(module
    (memory (export "memory") 1 3)
    (global $count (mut i32) (i32.const 0))
    (global $sum (mut i64) (i64.const 0))
    (func (export "init")
        (i32.store (i32.const 4000) (i32.const 77))
        (global.set $sum (i64.const 1000)))
    (func (export "request") (param i32) (result i64)
        (global.set $count (i32.add (global.get $count) (i32.const 1)))
        (i32.store (i32.mul (local.get 0) (i32.const 4)) (local.get 0))
        (global.set $sum (i64.add (global.get $sum) (i64.extend_i32_u (local.get 0))))
        (i64.add (global.get $sum) (i64.extend_i32_u (global.get $count))))
    (func (export "grow") (drop (memory.grow (i32.const 1)))))"#;

/// Every memory byte and every global (through the reserved exports of a
/// resettable snapshot) of a guest.
fn state(guest: &Guest) -> (Vec<u8>, Vec<String>) {
    let memory = guest.view().as_slice().to_vec();
    let mut globals: Vec<String> = guest
        .as_wasmi_instance()
        .exports(guest.as_wasmi_store())
        .filter_map(|export| {
            let name = export.name().to_owned();
            let global = export.into_global()?;
            Some(format!("{name}={:?}", global.get(guest.as_wasmi_store())))
        })
        .collect();
    globals.sort();
    (memory, globals)
}

#[test]
fn reset_restores_exactly_the_state_of_a_fresh_instance() {
    let snapshotter = snapshotter(REQUESTS).resettable(true);
    let mut guest = snapshotter.module().instantiate().unwrap();
    guest.call::<(), ()>("init", ()).unwrap();
    let snapshot = snapshotter.snapshot(&guest).unwrap();
    assert!(snapshot.is_resettable());
    let mut served = fresh(&snapshot, &snapshotter);
    let pristine = state(&fresh(&snapshot, &snapshotter));
    assert_eq!(pristine.0, guest.view().as_slice());
    for request in [1, 5000, 16_383, 2] {
        let first = served.call::<i32, i64>("request", request).unwrap();
        assert_ne!(state(&served), pristine);
        snapshot.reset(&mut served).unwrap();
        assert_eq!(state(&served), pristine, "after request {request}");
        assert_eq!(served.call::<i32, i64>("request", request).unwrap(), first);
        snapshot.reset(&mut served).unwrap();
    }
    // A grown memory cannot shrink: refused, nothing changed.
    served.call::<i32, i64>("request", 9).unwrap();
    served.call::<(), ()>("grow", ()).unwrap();
    let before = state(&served);
    assert!(matches!(
        refusal(snapshot.reset(&mut served)),
        SnapshotError::ResetAfterGrow {
            index: 0,
            pages: 2,
            snapshot_pages: 1
        }
    ));
    assert_eq!(state(&served), before);
    // A guest of another snapshot is refused.
    let other = snapshotter.snapshot(&guest).unwrap();
    let mut stranger = fresh(&other, &snapshotter);
    assert!(matches!(
        refusal(snapshot.reset(&mut stranger)),
        SnapshotError::ForeignGuest { .. }
    ));
}

#[test]
fn a_module_that_drops_segments_cannot_be_made_resettable() {
    let snapshotter = snapshotter(PASSIVE).resettable(true);
    let guest = snapshotter.module().instantiate().unwrap();
    assert!(matches!(
        refusal(snapshotter.snapshot(&guest)),
        SnapshotError::NotResettable {
            instruction: "data.drop"
        }
    ));
    let snapshotter = self::snapshotter(TABLES).resettable(true);
    let guest = snapshotter.module().instantiate().unwrap();
    assert!(matches!(
        refusal(snapshotter.snapshot(&guest)),
        SnapshotError::NotResettable { .. }
    ));
}

#[test]
fn the_instrumented_module_behaves_as_the_original() {
    let snapshotter = snapshotter(REQUESTS);
    let mut instrumented = snapshotter.module().instantiate().unwrap();
    let mut original = Guest::new(REQUESTS).unwrap();
    for guest in [&mut instrumented, &mut original] {
        guest.call::<(), ()>("init", ()).unwrap();
    }
    for request in [3, 8, 1] {
        assert_eq!(
            instrumented.call::<i32, i64>("request", request).unwrap(),
            original.call::<i32, i64>("request", request).unwrap()
        );
    }
    assert_eq!(instrumented.view().as_slice(), original.view().as_slice());
}
