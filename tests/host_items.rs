//! Host-created globals and tables (`GuestBuilder::host_global`,
//! `GuestBuilder::host_table`) and binary-only compilation
//! (`Module::from_binary`): what the spec suite's `spectest` module needs,
//! checked on their own.
#![cfg(feature = "wat")]

use linmem::{Engine, Error, Limit, Limits, Module, Value, ValueType};

#[test]
fn a_mutable_host_global_is_shared_with_the_guest() -> linmem::Result<()> {
    let module = Module::new(
        r#"(module
            (import "env" "counter" (global $counter (mut i64)))
            (export "counter" (global $counter))
            (func (export "bump") (global.set $counter (i64.add (global.get $counter) (i64.const 1)))))"#,
    )?;
    let mut guest = module
        .guest()
        .host_global("env", "counter", Value::I64(41), true)?
        .instantiate()?;
    guest.call::<(), ()>("bump", ())?;
    let counter = guest.export_global("counter")?;
    assert_eq!(counter.get(&guest)?.i64(), Some(42));
    counter.set(&mut guest, Value::I64(7))?;
    guest.call::<(), ()>("bump", ())?;
    assert_eq!(counter.get(&guest)?.i64(), Some(8));
    Ok(())
}

#[test]
fn host_global_types_must_match_the_import() -> linmem::Result<()> {
    let module = Module::new(r#"(module (import "env" "g" (global i32)))"#)?;
    // Wrong value type, and a mutable global for an immutable import.
    for (value, mutable) in [(Value::I64(1), false), (Value::I32(1), true)] {
        let result = module
            .guest()
            .host_global("env", "g", value, mutable)?
            .instantiate();
        assert!(
            matches!(result, Err(Error::ImportMismatch { .. })),
            "{result:?}"
        );
    }
    // A float keeps its bits, NaN payload included.
    let module = Module::new(
        r#"(module (import "env" "nan" (global $g f32))
            (func (export "bits") (result i32) (i32.reinterpret_f32 (global.get $g))))"#,
    )?;
    let nan = f32::from_bits(0x7fa0_0001);
    let mut guest = module
        .guest()
        .host_global("env", "nan", Value::F32(nan), false)?
        .instantiate()?;
    assert_eq!(guest.call::<(), i32>("bits", ())?, 0x7fa0_0001);
    Ok(())
}

#[test]
fn a_host_global_twice_or_with_a_foreign_reference_is_refused() -> linmem::Result<()> {
    let module = Module::new("(module)")?;
    let twice = module
        .guest()
        .host_global("env", "g", Value::I32(1), false)?
        .host_global("env", "g", Value::I32(2), false);
    assert!(matches!(twice, Err(Error::Instantiate { .. })), "{twice:?}");
    let mut other = Module::new("(module)")?.instantiate()?;
    let foreign = other.extern_ref(5u32);
    let result = module
        .guest()
        .host_global("env", "r", Value::ExternRef(Some(foreign)), false);
    assert!(
        matches!(result, Err(Error::ForeignHandle { .. })),
        "{result:?}"
    );
    Ok(())
}

#[test]
fn a_host_table_is_shared_by_the_modules_of_a_guest() -> linmem::Result<()> {
    let writer = Module::new(
        r#"(module (import "env" "table" (table 2 funcref))
            (func $seven (result i32) (i32.const 7))
            (elem (i32.const 1) func $seven))"#,
    )?;
    let reader = Module::with_engine(
        writer.engine(),
        r#"(module (import "env" "table" (table 2 funcref))
            (type $t (func (result i32)))
            (func (export "call") (param i32) (result i32) (call_indirect (type $t) (local.get 0))))"#,
    )?;
    let mut guest = writer
        .guest()
        .host_table("env", "table", ValueType::FuncRef, 2, Some(4))?
        .instantiate()?;
    let second = guest.add_instance(&reader)?;
    let call = guest.export_func_in::<i32, i32>(second, "call")?;
    assert_eq!(call.call(&mut guest, 1)?, 7);
    // Entry 0 is the null reference the table was created with.
    let trap = call.call(&mut guest, 0);
    assert!(
        matches!(
            trap,
            Err(Error::Trap {
                code: linmem::TrapCode::IndirectCallToNull,
                ..
            })
        ),
        "{trap:?}"
    );
    Ok(())
}

#[test]
fn an_externref_host_table_starts_null() -> linmem::Result<()> {
    let module = Module::new(
        r#"(module (import "env" "refs" (table 3 externref))
            (func (export "null0") (result i32) (ref.is_null (table.get (i32.const 0))))
            (func (export "size") (result i32) (table.size)))"#,
    )?;
    let mut guest = module
        .guest()
        .host_table("env", "refs", ValueType::ExternRef, 3, None)?
        .instantiate()?;
    assert_eq!(guest.call::<(), i32>("null0", ())?, 1);
    assert_eq!(guest.call::<(), i32>("size", ())?, 3);
    Ok(())
}

#[test]
fn invalid_host_tables_are_errors_not_panics() -> linmem::Result<()> {
    let module = Module::new("(module)")?;
    // wasmi's TableType::new would panic on initial > maximum.
    let result = module
        .guest()
        .host_table("env", "t", ValueType::FuncRef, 5, Some(4));
    assert!(
        matches!(result, Err(Error::Instantiate { .. })),
        "{result:?}"
    );
    let result = module
        .guest()
        .host_table("env", "t", ValueType::I32, 1, None);
    assert!(
        matches!(result, Err(Error::Instantiate { .. })),
        "{result:?}"
    );
    let result = module
        .guest()
        .limits(Limits::new().max_table_elements(10))
        .host_table("env", "t", ValueType::FuncRef, 11, None);
    assert!(
        matches!(
            result,
            Err(Error::LimitExceeded {
                limit: Limit::TableElements,
                ..
            })
        ),
        "{result:?}"
    );
    let twice = module
        .guest()
        .host_table("env", "t", ValueType::FuncRef, 1, None)?
        .host_table("env", "t", ValueType::FuncRef, 1, None);
    assert!(matches!(twice, Err(Error::Instantiate { .. })), "{twice:?}");
    Ok(())
}

#[test]
fn from_binary_never_reads_text() -> linmem::Result<()> {
    let engine = Engine::default();
    // Module::with_engine reads anything without the wasm magic as WAT.
    assert!(Module::with_engine(&engine, b"(module)").is_ok());
    for input in [&b""[..], b"(module)", b"\0asm", b"\0asm\x02\0\0\0"] {
        let result = Module::from_binary(&engine, input);
        assert!(
            matches!(result, Err(Error::Compile { .. })),
            "{input:?}: {result:?}"
        );
    }
    let module = Module::from_binary(&engine, b"\0asm\x01\0\0\0")?;
    assert_eq!(module.exports().count(), 0);
    Ok(())
}

/// linmem compiles a module with a start function as a rewrite that
/// exports it; the module as given must still be valid (regressions the
/// spec suite found: start.wast, ref_func.wast).
#[test]
fn the_start_rewrite_keeps_invalid_modules_invalid() {
    let invalid = [
        // A start function must take and return nothing.
        r#"(module (func $main (result i32) (i32.const 0)) (start $main))"#,
        r#"(module (func $main (param i32)) (start $main))"#,
        // `ref.func` needs a declared function; the start function is not.
        r#"(module (func $f) (start $f) (func (drop (ref.func $f))))"#,
    ];
    for text in invalid {
        let wasm = wat::parse_str(text).expect("valid text");
        let result = Module::from_binary(&Engine::default(), &wasm);
        assert!(
            matches!(result, Err(Error::Compile { .. })),
            "{text}: {result:?}"
        );
        let result = Module::new(&wasm);
        assert!(
            matches!(result, Err(Error::Compile { .. })),
            "{text}: {result:?}"
        );
    }
    let valid =
        r#"(module (func $f) (start $f) (elem declare func $f) (func (drop (ref.func $f))))"#;
    assert!(Module::new(valid).is_ok());
}
