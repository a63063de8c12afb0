//! The public API's shape: names that say direction, one builder style.
#![cfg(feature = "wat")] // the modules below are WAT text; tests/binary_only.rs covers builds without it

use linmem::{Error, HostContext, Module};

const IMPORTS: &str = r#"(module
  (import "env" "memory" (memory 1 4))
  (import "env" "double" (func $double (param i32) (result i32)))
  (func (export "run") (param i32) (result i32)
    (i32.store (i32.const 0) (call $double (local.get 0)))
    (i32.load (i32.const 0))))"#;

#[test]
fn the_builder_chains_host_memories_and_host_functions() {
    let module = Module::new(IMPORTS).unwrap();
    let mut guest = module
        .guest_with(0u32)
        .limits(linmem::Limits::new().max_memory_bytes(4 * 65_536))
        .host_memory("env", "memory", 1, Some(4))
        .unwrap()
        .host_func("env", "double", |mut cx: HostContext<'_, u32>, x: i32| {
            *cx.data_mut() += 1;
            Ok(x.wrapping_mul(2))
        })
        .unwrap()
        .instantiate()
        .unwrap();
    assert_eq!(guest.call::<i32, i32>("run", 21).unwrap(), 42);
    assert_eq!(*guest.data(), 1);
    let memory = guest.import_memory("env", "memory").unwrap();
    assert_eq!(guest.view_of(memory).unwrap().read::<i32>(0).unwrap(), 42);
    guest.view_mut_of(memory).unwrap().write(8, 7u8).unwrap();
    assert_eq!(
        guest.view().read::<u8>(8).unwrap(),
        7,
        "the host memory is the default one"
    );
}

#[test]
fn an_undefined_import_is_named() {
    let module = Module::new(IMPORTS).unwrap();
    let builder = module
        .guest()
        .host_memory("env", "memory", 1, None)
        .unwrap();
    let err = builder.import_memory("env", "mem").unwrap_err();
    assert!(
        matches!(&err, Error::UndefinedImport { module, name, expected: "memory" } if &**module == "env" && &**name == "mem"),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "the host defined no memory as `env`.`mem`");
    // a function of that name is not a memory either
    let guest = module
        .guest()
        .host_memory("env", "memory", 1, Some(4))
        .unwrap()
        .host_func("env", "double", |_: HostContext<'_, ()>, x: i32| Ok(x))
        .unwrap()
        .instantiate()
        .unwrap();
    assert!(matches!(
        guest.import_memory("env", "double"),
        Err(Error::UndefinedImport { .. })
    ));
}

#[test]
fn exports_are_looked_up_with_export_names() {
    let module = Module::new(
        r#"(module (memory (export "heap") 1) (memory (export "scratch") 1)
             (func (export "id") (param i64) (result i64) (local.get 0)))"#,
    )
    .unwrap();
    let mut guest = module.guest().default_memory("heap").instantiate().unwrap();
    let id = guest.export_func::<i64, i64>("id").unwrap();
    assert_eq!(id.call(&mut guest, -5).unwrap(), -5);
    let main = guest.main_instance();
    assert!(guest.export_func_in::<i64, i64>(main, "id").is_ok());
    let scratch = guest.export_memory("scratch").unwrap();
    guest.view_mut_of(scratch).unwrap().write(0, 9u8).unwrap();
    let heap = guest.export_memory("heap").unwrap();
    guest.view_mut_of(heap).unwrap().write(0, 3u8).unwrap();
    assert_eq!(
        guest.view().read::<u8>(0).unwrap(),
        3,
        "heap is the default"
    );
    assert_eq!(guest.view_of(scratch).unwrap().read::<u8>(0).unwrap(), 9);
    assert!(matches!(
        guest.export_memory_in(main, "id"),
        Err(Error::WrongExportKind { .. })
    ));
}

#[test]
fn a_memory_exported_under_another_name_is_the_default() {
    let mut guest = linmem::Guest::new(
        r#"(module (memory (export "heap") 1) (memory (export "scratch") 1)
             (func (export "put") (i32.store8 (i32.const 3) (i32.const 9))))"#,
    )
    .unwrap();
    guest.call::<(), ()>("put", ()).unwrap();
    assert_eq!(
        guest.view().read::<u8>(3).unwrap(),
        9,
        "the first memory export"
    );
}

#[test]
fn a_missing_memory_lists_the_memories_to_choose_from() {
    let module = Module::new(
        r#"(module (memory (export "heap") 1) (memory (export "scratch") 1)
             (func (export "f")))"#,
    )
    .unwrap();
    let err = module
        .guest()
        .default_memory("memory")
        .instantiate()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the guest exports no memory named `memory`; its exported memories are `heap`, \
         `scratch`: choose one with `GuestBuilder::default_memory`, e.g. `default_memory(\"heap\")`"
    );
    let err = module
        .guest()
        .default_memory("f")
        .instantiate()
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("the guest exports no memory named `f` (`f` is a function); its"),
        "{err}"
    );
    let one = Module::new(r#"(module (memory (export "heap") 1))"#).unwrap();
    let err = one.guest().default_memory("mem").instantiate().unwrap_err();
    assert!(
        err.to_string().ends_with(
            "its one exported memory is `heap`: choose it with `GuestBuilder::default_memory(\"heap\")`"
        ),
        "{err}"
    );
}

#[test]
fn a_host_function_of_a_guest_without_memory_gets_a_no_memory_error() {
    let module = Module::new(
        r#"(module (import "env" "peek" (func $peek (result i32)))
             (func (export "run") (result i32) (call $peek)))"#,
    )
    .unwrap();
    let mut guest = module
        .guest()
        .host_func("env", "peek", |cx: HostContext<'_, ()>| {
            Ok(i32::from(cx.view()?.read::<u8>(0)?))
        })
        .unwrap()
        .instantiate()
        .unwrap();
    match guest.call::<(), i32>("run", ()) {
        Err(Error::HostFunc { error: source, .. }) => assert!(matches!(*source, Error::NoMemory)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn host_functions_call_the_calling_instance_with_the_same_checks() {
    use linmem::{Allocator, Value};
    let module = Module::new(
        r#"(module
             (import "env" "greet" (func $greet (param i32) (result i32)))
             (memory (export "memory") 1)
             (global $next (mut i32) (i32.const 1024))
             (func (export "malloc") (param $size i32) (result i32)
               (global.get $next)
               (global.set $next (i32.add (global.get $next) (local.get $size))))
             (func (export "free") (param i32))
             (func (export "inc") (param i64) (result i64) (i64.add (local.get 0) (i64.const 1)))
             (func (export "run") (param i32) (result i32) (call $greet (local.get 0))))"#,
    )
    .unwrap();
    let other =
        Module::new(r#"(module (func (export "inc") (param i64) (result i64) (local.get 0)))"#)
            .unwrap()
            .instantiate()
            .unwrap();
    let foreign = other.export_func::<i64, i64>("inc").unwrap();
    let mut guest = module
        .guest()
        .host_func(
            "env",
            "greet",
            move |mut cx: HostContext<'_, ()>, case: i32| {
                match case {
                    // the guest's allocator, from inside the host function
                    0 => {
                        let allocator = Allocator::detect(&cx)?;
                        let slice = allocator.alloc_str(&mut cx, "hi")?;
                        Ok(i32::try_from(slice.addr()).unwrap_or(-1))
                    }
                    // a dynamic call back into the guest
                    1 => {
                        let out = cx.call_dynamic("inc", &[Value::I64(41)])?;
                        Ok(i32::try_from(out[0].i64().unwrap_or(0)).unwrap_or(-1))
                    }
                    // a handle of another guest is refused, not a wasmi panic
                    2 => foreign.call(&mut cx, 1).map(|_| 0),
                    // the wrong signature names both types
                    3 => cx.call::<i32, i32>("inc", 1),
                    _ => cx.call::<(), ()>("missing", ()).map(|()| 0),
                }
            },
        )
        .unwrap()
        .instantiate()
        .unwrap();
    let addr = guest.call::<i32, i32>("run", 0).unwrap();
    assert_eq!(addr, 1024);
    assert_eq!(guest.view().str(1024, 2).unwrap(), "hi");
    assert_eq!(guest.call::<i32, i32>("run", 1).unwrap(), 42);
    let inner = |case: i32, guest: &mut linmem::Guest| match guest.call::<i32, i32>("run", case) {
        Err(Error::HostFunc { error, .. }) => *error,
        other => panic!("{other:?}"),
    };
    assert!(matches!(inner(2, &mut guest), Error::ForeignHandle { .. }));
    assert_eq!(
        inner(3, &mut guest).to_string(),
        "the guest's function `inc` has type (i64) -> i64, not the requested (i32) -> i32"
    );
    assert!(matches!(inner(4, &mut guest), Error::MissingExport { .. }));
}
