//! Host functions, host memories, shared memories, multi-memory and memory64.
#![cfg(feature = "wat")] // the modules below are WAT text; tests/binary_only.rs covers builds without it

use linmem::{Error, Guest, HostContext, Module, TrapCode};

const LOGGER: &str = r#"(module
  (import "env" "log" (func $log (param i32 i32)))
  (import "env" "fill_buffer" (func $fill (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "first line")
  (func (export "log") (param i32 i32) (call $log (local.get 0) (local.get 1)))
  (func (export "fill") (param i32 i32) (result i32) (call $fill (local.get 0) (local.get 1)))
  (func (export "log_twice_then_trap")
    (call $log (i32.const 100) (i32.const 5))
    (call $log (i32.const 106) (i32.const 4))
    unreachable))"#;

#[derive(Default)]
struct Host {
    lines: Vec<String>,
    supply: Vec<u8>,
}

fn logger() -> Guest<Host> {
    let host = Host {
        lines: Vec::new(),
        supply: b"0123456789".to_vec(),
    };
    Module::new(LOGGER)
        .unwrap()
        .guest_with(host)
        .host_func(
            "env",
            "log",
            |mut cx: HostContext<'_, Host>, ptr: u32, len: u32| {
                let (view, host) = cx.view_and_data_mut()?;
                let line = view.str(ptr, len)?;
                host.lines.push(line.to_owned());
                Ok(())
            },
        )
        .unwrap()
        .host_func(
            "env",
            "fill_buffer",
            |mut cx: HostContext<'_, Host>, ptr: u32, cap: u32| {
                let (mut view, host) = cx.view_and_data_mut()?;
                let n = host
                    .supply
                    .len()
                    .min(usize::try_from(cap).unwrap_or(usize::MAX));
                view.write_bytes(ptr, &host.supply[..n])?;
                host.supply.drain(..n);
                Ok(u32::try_from(n).unwrap())
            },
        )
        .unwrap()
        .instantiate()
        .unwrap()
}

#[test]
fn log_reads_guest_memory_into_host_state() {
    let mut guest = logger();
    guest.call::<(i32, i32), ()>("log", (100, 10)).unwrap();
    guest
        .view_mut()
        .write_bytes(200, "héllo".as_bytes())
        .unwrap();
    guest.call::<(i32, i32), ()>("log", (200, 6)).unwrap();
    assert_eq!(guest.data().lines, ["first line", "héllo"]);
}

#[test]
fn fill_buffer_writes_guest_memory_and_returns_a_length() {
    let mut guest = logger();
    assert_eq!(guest.call::<(i32, i32), i32>("fill", (300, 4)).unwrap(), 4);
    assert_eq!(
        guest.call::<(i32, i32), i32>("fill", (304, 100)).unwrap(),
        6
    );
    assert_eq!(
        guest.call::<(i32, i32), i32>("fill", (310, 100)).unwrap(),
        0
    );
    assert_eq!(guest.view().bytes(300, 11).unwrap(), b"0123456789\0");
}

#[test]
fn a_bad_pointer_in_a_host_function_is_an_error_for_the_caller() {
    let mut guest = logger();
    let err = guest
        .call::<(i32, i32), ()>("log", (65_530, 10))
        .unwrap_err();
    match &err {
        Error::HostFunc {
            func,
            error: source,
        } => {
            assert_eq!(&**func, "log");
            assert!(
                matches!(
                    **source,
                    Error::OutOfBounds {
                        addr: 65_530,
                        len: 10,
                        size: 65_536
                    }
                ),
                "{source:?}"
            );
        }
        other => panic!("expected HostFunc, got {other:?}"),
    }
    // a negative i32 pointer arrives as a large u32 and is refused the same way
    let err = guest.call::<(i32, i32), ()>("log", (-1, 1)).unwrap_err();
    assert!(matches!(&err, Error::HostFunc { error: source, .. }
        if matches!(**source, Error::OutOfBounds { addr: 0xFFFF_FFFF, .. })));
    // invalid UTF-8 is reported with its address
    guest
        .view_mut()
        .write_bytes(400, &[b'a', 0xC0, b'b'])
        .unwrap();
    let err = guest.call::<(i32, i32), ()>("log", (400, 3)).unwrap_err();
    assert!(matches!(&err, Error::HostFunc { error: source, .. }
        if matches!(**source, Error::InvalidUtf8 { valid_up_to: 401, .. })));
    // nothing was logged, and the guest still works
    assert!(guest.data().lines.is_empty());
    guest.call::<(i32, i32), ()>("log", (100, 5)).unwrap();
    assert_eq!(guest.data().lines, ["first"]);
}

#[test]
fn host_state_survives_a_trap_after_host_calls() {
    let mut guest = logger();
    let err = guest.call::<(), ()>("log_twice_then_trap", ()).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::UnreachableCodeReached));
    assert_eq!(guest.data().lines, ["first", "line"]);
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("quota exceeded: {used} of {limit}")]
struct Quota {
    used: u32,
    limit: u32,
}

#[test]
fn a_host_error_reaches_the_caller_intact() {
    let module = Module::new(
        r#"(module (import "host" "check" (func $check (param i32)))
             (memory (export "memory") 1)
             (func (export "run") (param i32) (call $check (local.get 0))))"#,
    )
    .unwrap();
    let mut guest = module
        .guest()
        .host_func("host", "check", |_: HostContext<'_, ()>, used: u32| {
            if used > 10 {
                return Err(Error::custom(Quota { used, limit: 10 }));
            }
            Ok(())
        })
        .unwrap()
        .instantiate()
        .unwrap();
    guest.call::<i32, ()>("run", 3).unwrap();
    let err = guest.call::<i32, ()>("run", 11).unwrap_err();
    assert_eq!(
        err.custom_ref::<Quota>(),
        Some(&Quota {
            used: 11,
            limit: 10
        })
    );
    assert_eq!(
        err.to_string(),
        "a host function failed during `run`: quota exceeded: 11 of 10"
    );
    assert!(std::error::Error::source(&err).is_none());
    guest.call::<i32, ()>("run", 0).unwrap();
}

#[test]
fn host_functions_run_during_the_start_function() {
    let module = Module::new(
        r#"(module (import "env" "seed" (func $seed))
             (memory (export "memory") 1)
             (func $start (call $seed))
             (start $start))"#,
    )
    .unwrap();
    let guest = module
        .guest_with(0u32)
        .host_func("env", "seed", |mut cx: HostContext<'_, u32>| {
            cx.view_mut()?.write(0, 0xC0FFEEu32)?;
            *cx.data_mut() += 1;
            Ok(())
        })
        .unwrap()
        .instantiate()
        .unwrap();
    assert_eq!(guest.view().read::<u32>(0).unwrap(), 0xC0FFEE);
    assert_eq!(*guest.data(), 1);
}

#[test]
fn a_failing_start_function_host_call_is_reported() {
    let module = Module::new(
        r#"(module (import "env" "boom" (func $boom)) (memory (export "memory") 1) (start $boom))"#,
    )
    .unwrap();
    let err = module
        .guest()
        .host_func(
            "env",
            "boom",
            |_: HostContext<'_, ()>| -> linmem::Result<()> {
                Err(Error::custom(Quota { used: 1, limit: 0 }))
            },
        )
        .unwrap()
        .instantiate()
        .unwrap_err();
    assert!(
        matches!(&err, Error::HostFunc { func, .. } if &**func == "(start)"),
        "{err:?}"
    );
    assert!(err.custom_ref::<Quota>().is_some());
}

#[test]
fn defining_the_same_import_twice_is_an_error() {
    let module = Module::linear_memory().unwrap();
    let builder = module
        .guest()
        .host_func("env", "f", |_: HostContext<'_, ()>| Ok(()))
        .unwrap();
    let err = builder
        .host_func("env", "f", |_: HostContext<'_, ()>| Ok(()))
        .unwrap_err();
    assert!(matches!(err, Error::Instantiate { .. }), "{err:?}");
}

#[test]
fn a_host_function_of_the_wrong_type_is_an_instantiation_error() {
    let module = Module::new(
        r#"(module (import "env" "f" (func (param i32))) (memory (export "memory") 1))"#,
    )
    .unwrap();
    let err = module
        .guest()
        .host_func("env", "f", |_: HostContext<'_, ()>, _: i64| Ok(()))
        .unwrap()
        .instantiate()
        .unwrap_err();
    assert!(matches!(err, Error::ImportMismatch { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "the import `env`.`f` expects func (i32) -> () but the host gave func (i64) -> ()"
    );
}

const AS_ABORT: &str = r#"(module
  (import "env" "abort" (func $abort (param i32 i32 i32 i32)))
  (memory (export "memory") 1)
  ;; AssemblyScript strings: u32 byte length at ptr - 4, then UTF-16LE
  (data (i32.const 12) "\0a\00\00\00o\00o\00p\00s\00\e9\00")
  (data (i32.const 28) "\10\00\00\00i\00n\00d\00e\00x\00.\00t\00s\00")
  (data (i32.const 60) "\03\00\00\00a\00")
  (func (export "abort") (call $abort (i32.const 16) (i32.const 32) (i32.const 7) (i32.const 11)))
  (func (export "abort_null") (call $abort (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 2)))
  (func (export "abort_bad") (call $abort (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 2)))
  (func (export "abort_huge") (call $abort (i32.const 64) (i32.const 0) (i32.const 1) (i32.const 2)))
  (data (i32.const 60) "\ff\ff\ff\ff")
  (func (export "ok") (result i32) (i32.const 1)))"#;

#[test]
fn assemblyscript_abort_decodes_message_file_line_and_column() {
    let module = Module::new(AS_ABORT).unwrap();
    let mut guest = module
        .guest()
        .assemblyscript_abort()
        .unwrap()
        .instantiate()
        .unwrap();
    let err = guest.call::<(), ()>("abort", ()).unwrap_err();
    let Error::HostFunc {
        func,
        error: source,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(&**func, "abort");
    match &**source {
        Error::Abort {
            message,
            file,
            line,
            column,
        } => {
            assert_eq!(
                (message.as_str(), file.as_str(), *line, *column),
                ("oopsé", "index.ts", 7, 11)
            );
        }
        other => panic!("expected Abort, got {other:?}"),
    }
    let err = guest.call::<(), ()>("abort_null", ()).unwrap_err();
    assert!(matches!(&err, Error::HostFunc { error: source, .. }
        if matches!(&**source, Error::Abort { message, file, line: 1, column: 2 } if message.is_empty() && file.is_empty())));
    // a string pointer below 4 has no length header: an error, not a panic
    let err = guest.call::<(), ()>("abort_bad", ()).unwrap_err();
    assert!(
        matches!(&err, Error::HostFunc { error: source, .. } if matches!(**source, Error::PtrOverflow { addr: 2, .. })),
        "{err:?}"
    );
    // a length header of 4 GiB is refused before anything is allocated
    let err = guest.call::<(), ()>("abort_huge", ()).unwrap_err();
    assert!(
        matches!(&err, Error::HostFunc { error: source, .. } if matches!(**source, Error::OutOfBounds { len: 0xFFFF_FFFF, .. })),
        "{err:?}"
    );
    assert_eq!(guest.call::<(), i32>("ok", ()).unwrap(), 1);
}

const IMPORTS_MEMORY: &str = r#"(module
  (import "env" "memory" (memory 1 3))
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#;

#[test]
fn a_host_memory_is_writable_before_instantiation_and_shared_after() {
    let module = Module::new(IMPORTS_MEMORY).unwrap();
    let mut builder = module
        .guest()
        .host_memory("env", "memory", 2, Some(3))
        .unwrap();
    let memory = builder.import_memory("env", "memory").unwrap();
    assert_eq!(builder.view_of(memory).unwrap().pages(), 2);
    builder
        .view_mut_of(memory)
        .unwrap()
        .write(70_000, 1234u32)
        .unwrap();
    let mut guest = builder.instantiate().unwrap();
    assert_eq!(guest.call::<i32, i32>("load", 70_000).unwrap(), 1234);
    guest.call::<(i32, i32), ()>("store", (8, -7)).unwrap();
    assert_eq!(guest.view_of(memory).unwrap().read::<i32>(8).unwrap(), -7);
    assert_eq!(
        guest.view().read::<i32>(8).unwrap(),
        -7,
        "the host memory is the default memory"
    );
    assert_eq!(guest.call::<i32, i32>("grow", 1).unwrap(), 2);
    assert_eq!(
        guest.call::<i32, i32>("grow", 1).unwrap(),
        -1,
        "past the maximum of 3"
    );
    assert!(matches!(
        guest.grow(1),
        Err(Error::GrowPastMaximum {
            current: 3,
            maximum: 3,
            ..
        })
    ));
}

#[test]
fn a_host_memory_smaller_than_the_import_requires_is_an_instantiation_error() {
    let module = Module::new(IMPORTS_MEMORY).unwrap();
    let builder = module
        .guest()
        .host_memory("env", "memory", 0, Some(3))
        .unwrap();
    assert!(matches!(
        builder.instantiate(),
        Err(Error::ImportMismatch { .. })
    ));
    assert!(matches!(
        module.guest().host_memory("env", "memory", 4, Some(3)),
        Err(Error::Instantiate { .. })
    ));
}

#[test]
fn two_guests_share_one_host_memory_in_one_store() {
    let first = Module::new(IMPORTS_MEMORY).unwrap();
    let second = Module::with_engine(
        first.engine(),
        r#"(module (import "env" "memory" (memory 1))
             (func (export "sum") (param i32 i32) (result i32)
               (i32.add (i32.load (local.get 0)) (i32.load (local.get 1)))))"#,
    )
    .unwrap();
    let mut guest = first
        .guest()
        .host_memory("env", "memory", 1, Some(3))
        .unwrap()
        .instantiate()
        .unwrap();
    let shared = guest.import_memory("env", "memory").unwrap();
    let other = guest.add_instance(&second).unwrap();
    guest.call::<(i32, i32), ()>("store", (0, 40)).unwrap();
    guest.view_mut_of(shared).unwrap().write(4, 2i32).unwrap();
    let sum = guest
        .export_func_in::<(i32, i32), i32>(other, "sum")
        .unwrap();
    assert_eq!(sum.call(&mut guest, (0, 4)).unwrap(), 42);
    // growth by one is seen by the other
    assert_eq!(guest.call::<i32, i32>("grow", 1).unwrap(), 1);
    guest.view_mut().write(65_536, 1i32).unwrap();
    assert_eq!(sum.call(&mut guest, (65_536, 0)).unwrap(), 41);
    // a module from another engine is refused instead of panicking in wasmi
    let foreign = Module::new(r#"(module (import "env" "memory" (memory 1)))"#).unwrap();
    assert!(matches!(
        guest.add_instance(&foreign),
        Err(Error::EngineMismatch)
    ));
}

#[test]
fn handles_of_one_guest_are_refused_by_another() {
    let module = Module::new(IMPORTS_MEMORY).unwrap();
    let a = module
        .guest()
        .host_memory("env", "memory", 1, Some(3))
        .unwrap();
    let memory_a = a.import_memory("env", "memory").unwrap();
    let mut a = a.instantiate().unwrap();
    let b = module
        .guest()
        .host_memory("env", "memory", 1, Some(3))
        .unwrap();
    assert!(matches!(
        b.view_of(memory_a),
        Err(Error::ForeignHandle { .. })
    ));
    let mut b = b.instantiate().unwrap();
    assert!(matches!(
        b.view_of(memory_a),
        Err(Error::ForeignHandle { .. })
    ));
    assert!(matches!(
        b.view_mut_of(memory_a),
        Err(Error::ForeignHandle { .. })
    ));
    assert!(matches!(
        b.grow_memory(memory_a, 1),
        Err(Error::ForeignHandle { .. })
    ));
    let instance_a = a.main_instance();
    assert!(matches!(
        b.export_func_in::<i32, i32>(instance_a, "load"),
        Err(Error::ForeignHandle { .. })
    ));
    assert!(a.view_mut_of(memory_a).is_ok());
}

#[test]
fn a_static_buffer_serves_as_guest_memory() {
    let buffer: &'static mut [u8] = Box::leak(vec![0xAAu8; 3 * 65_536].into_boxed_slice());
    let module = Module::new(IMPORTS_MEMORY).unwrap();
    let mut builder = module
        .guest()
        .host_memory_static("env", "memory", buffer, 1, Some(3))
        .unwrap();
    let memory = builder.import_memory("env", "memory").unwrap();
    let view = builder.view_of(memory).unwrap();
    assert_eq!(view.len(), 65_536);
    assert!(
        view.as_slice().iter().all(|&b| b == 0),
        "the initial pages are zeroed"
    );
    builder.view_mut_of(memory).unwrap().write(0, 5u32).unwrap();
    let mut guest = builder.instantiate().unwrap();
    assert_eq!(guest.call::<i32, i32>("load", 0).unwrap(), 5);
    assert_eq!(guest.grow(2).unwrap(), 1);
    assert_eq!(guest.view().len(), 3 * 65_536);
    guest
        .call::<(i32, i32), ()>("store", (3 * 65_536 - 4, 9))
        .unwrap();
    assert_eq!(guest.view().read::<u32>(3 * 65_536 - 4).unwrap(), 9);
    assert_eq!(guest.call::<i32, i32>("grow", 1).unwrap(), -1);
    // a buffer smaller than the initial size is refused
    let small: &'static mut [u8] = Box::leak(vec![0u8; 65_536].into_boxed_slice());
    assert!(matches!(
        module
            .guest()
            .host_memory_static("env", "memory", small, 2, Some(3)),
        Err(Error::Instantiate { .. })
    ));
    // a buffer smaller than the maximum lowers the maximum to the buffer,
    // so neither the host nor the guest can grow past it
    let module = Module::new(
        r#"(module (import "env" "memory" (memory 1))
        (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#,
    )
    .unwrap();
    let two_pages: &'static mut [u8] = Box::leak(vec![0u8; 2 * 65_536 + 100].into_boxed_slice());
    let mut guest = module
        .guest()
        .host_memory_static("env", "memory", two_pages, 1, Some(3))
        .unwrap()
        .instantiate()
        .unwrap();
    assert_eq!(guest.call::<i32, i32>("grow", 1).unwrap(), 1);
    assert_eq!(
        guest.call::<i32, i32>("grow", 1).unwrap(),
        -1,
        "no panic past the buffer"
    );
    assert!(matches!(
        guest.grow(1),
        Err(Error::GrowPastMaximum {
            current: 2,
            maximum: 2,
            ..
        })
    ));
    assert_eq!(guest.view().pages(), 2);
}

#[test]
fn every_exported_memory_of_a_multi_memory_module_is_reachable() {
    let mut guest = Guest::new(
        r#"(module
             (memory (export "memory") 1)
             (memory (export "second") 1 2)
             (func (export "copy_0_to_1") (param i32 i32 i32)
               (memory.copy 1 0 (local.get 1) (local.get 0) (local.get 2))))"#,
    )
    .unwrap();
    guest.view_mut().write_bytes(10, b"multi").unwrap();
    guest
        .call::<(i32, i32, i32), ()>("copy_0_to_1", (10, 20, 5))
        .unwrap();
    let second = guest.export_memory("second").unwrap();
    assert_eq!(
        guest.view_of(second).unwrap().bytes(20, 5).unwrap(),
        b"multi"
    );
    assert_eq!(guest.grow_memory(second, 1).unwrap(), 1);
    assert!(matches!(
        guest.grow_memory(second, 1),
        Err(Error::GrowPastMaximum { .. })
    ));
    assert_eq!(guest.view().pages(), 1, "the default memory did not grow");
    assert!(matches!(
        guest.export_memory("third"),
        Err(Error::MissingExport { .. })
    ));
    assert!(matches!(
        guest.export_memory("copy_0_to_1"),
        Err(Error::WrongExportKind { .. })
    ));
}

#[test]
fn a_memory64_guest_uses_the_same_u64_api() {
    let mut guest = Guest::new(
        r#"(module
             (memory (export "memory") i64 1 4)
             (func (export "load") (param i64) (result i64) (i64.load (local.get 0)))
             (func (export "size") (result i64) (memory.size))
             (func (export "grow") (param i64) (result i64) (memory.grow (local.get 0))))"#,
    )
    .unwrap();
    guest.view_mut().write(65_528, u64::MAX - 1).unwrap();
    assert_eq!(guest.call::<i64, i64>("load", 65_528).unwrap(), -2);
    assert_eq!(guest.call::<i64, i64>("grow", 1).unwrap(), 1);
    assert_eq!(guest.view().len(), 2 * 65_536);
    // an address above 4 GiB is just another checked u64
    let above_4_gib = 5u64 << 30;
    assert!(matches!(
        guest.view().read::<u64>(above_4_gib),
        Err(Error::OutOfBounds { addr, len: 8, size: 131_072 }) if addr == above_4_gib
    ));
    let err = guest
        .call::<i64, i64>("load", i64::try_from(above_4_gib).unwrap())
        .unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::MemoryOutOfBounds));
    assert!(matches!(
        guest.grow(3),
        Err(Error::GrowPastMaximum { maximum: 4, .. })
    ));
    assert_eq!(guest.call::<(), i64>("size", ()).unwrap(), 2);
}
