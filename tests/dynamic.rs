//! Dynamic calls, values, types, imports and exports, globals and tables.
#![cfg(feature = "wat")] // the modules below are WAT text; tests/binary_only.rs covers builds without it

use linmem::{Error, ExternType, FuncType, Guest, IndexType, Module, Value, ValueType};

const MODULE: &str = r#"(module
  (import "env" "memory" (memory 1 4))
  (import "env" "log" (func $log (param i32 i32)))
  (import "env" "table" (table 2 10 funcref))
  (import "env" "g" (global (mut i64)))
  (memory $m64 (export "wide") i64 2)
  (table (export "tab") 3 externref)
  (global (export "gi") (mut i32) (i32.const 5))
  (global (export "gf") f64 (f64.const 2.5))
  (func (export "add") (param i32 i64) (result i64)
    (i64.add (i64.extend_i32_s (local.get 0)) (local.get 1)))
  (func (export "two") (result i32 f32) (i32.const 1) (f32.const -0.0))
  (func (export "trap") (unreachable)))"#;

#[test]
fn imports_and_exports_with_their_types() {
    let module = Module::new(MODULE).unwrap();
    let imports: Vec<String> = module.imports().map(|i| i.to_string()).collect();
    assert_eq!(
        imports,
        [
            "env.log: func (i32, i32) -> ()",
            "env.table: table 2 10 funcref",
            "env.memory: memory 1 4",
            "env.g: global (mut i64)",
        ]
    );
    let exports: Vec<String> = module.exports().map(|e| e.to_string()).collect();
    assert_eq!(
        exports,
        [
            "add: func (i32, i64) -> i64",
            "gf: global f64",
            "gi: global (mut i32)",
            "tab: table 3 externref",
            "trap: func () -> ()",
            "two: func () -> (i32, f32)",
            "wide: memory i64 2",
        ]
    );
    let Some(ExternType::Memory(wide)) = module.export("wide") else {
        panic!("a memory")
    };
    assert_eq!(
        (wide.minimum, wide.maximum, wide.index, wide.page_size),
        (2, None, IndexType::I64, 65_536)
    );
    assert_eq!(module.export("nope"), None);
    let import = module.imports().next().unwrap();
    assert_eq!(
        (import.module(), import.name(), import.ty().kind()),
        ("env", "log", "function")
    );
}

#[test]
fn dynamic_calls_check_types_and_return_values() {
    let mut guest = Guest::new(
        r#"(module
             (func (export "add") (param i32 i64) (result i64)
               (i64.add (i64.extend_i32_s (local.get 0)) (local.get 1)))
             (func (export "two") (result i32 f32) (i32.const 1) (f32.const -0.0))
             (func (export "nan") (param f64) (result f64) (local.get 0))
             (func (export "trap") (unreachable)))"#,
    )
    .unwrap();
    assert_eq!(
        guest
            .call_dynamic("add", &[Value::I32(-1), Value::I64(43)])
            .unwrap(),
        [Value::I64(42)]
    );
    let two = guest.export_dynamic_func("two").unwrap();
    assert_eq!(
        two.ty(),
        &FuncType::new([], [ValueType::I32, ValueType::F32])
    );
    let results = two.call(&mut guest, &[]).unwrap();
    assert_eq!(results, [Value::I32(1), Value::F32(-0.0)]);
    assert_ne!(results[1], Value::F32(0.0), "bit-exact: -0.0 is not 0.0");
    let mut slots = [Value::I32(0)];
    assert!(matches!(
        two.call_into(&mut guest, &[], &mut slots),
        Err(Error::ResultSlots {
            expected: 2,
            given: 1,
            ..
        })
    ));
    // NaN payloads survive the round trip
    let payload = f64::from_bits(0x7ff0_0000_0000_0001);
    let back = guest.call_dynamic("nan", &[Value::F64(payload)]).unwrap();
    assert_eq!(back, [Value::F64(payload)]);
    assert_eq!(back[0].to_string(), "f64.const nan:0x1");
    // wrong arguments: nothing runs, both types named
    let err = guest
        .call_dynamic("add", &[Value::I64(1), Value::I64(2)])
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "`add` has type (i32, i64) -> i64 but was called with (i64, i64)"
    );
    // a trap is the usual trap error
    let err = guest.call_dynamic("trap", &[]).unwrap_err();
    assert_eq!(
        err.trap_code(),
        Some(linmem::TrapCode::UnreachableCodeReached)
    );
    // a handle from another guest is refused
    let mut other = Guest::new(r#"(module (func (export "trap") (unreachable)))"#).unwrap();
    assert!(matches!(
        two.call(&mut other, &[]),
        Err(Error::ForeignHandle { .. })
    ));
    assert!(matches!(
        guest.call_dynamic("missing", &[]),
        Err(Error::MissingExport { .. })
    ));
}

#[test]
fn references_stay_with_their_guest() {
    let src = r#"(module (func (export "id") (param externref) (result externref) (local.get 0)))"#;
    let mut a = Guest::new(src).unwrap();
    let mut b = Guest::new(src).unwrap();
    let from_a = a.extern_ref(7u32);
    let [Value::ExternRef(Some(back))] = a
        .call_dynamic("id", &[Value::ExternRef(Some(from_a))])
        .unwrap()[..]
    else {
        panic!("an externref")
    };
    assert_eq!(
        a.extern_ref_data(back).unwrap().downcast_ref::<u32>(),
        Some(&7)
    );
    assert!(matches!(
        b.call_dynamic("id", &[Value::ExternRef(Some(from_a))]),
        Err(Error::ForeignHandle { .. })
    ));
    assert!(matches!(
        b.extern_ref_data(from_a),
        Err(Error::ForeignHandle { .. })
    ));
    assert_eq!(
        b.call_dynamic("id", &[Value::ExternRef(None)]).unwrap(),
        [Value::ExternRef(None)]
    );
}

#[test]
fn globals_and_tables_through_linmem() {
    let mut guest = Guest::new(
        r#"(module
             (global (export "gi") (mut i32) (i32.const 5))
             (global (export "gf") f64 (f64.const 2.5))
             (table (export "tab") 3 externref)
             (func (export "get") (result i32) (global.get 0)))"#,
    )
    .unwrap();
    let gi = guest.export_global("gi").unwrap();
    assert_eq!(gi.get(&guest).unwrap(), Value::I32(5));
    gi.set(&mut guest, Value::I32(-3)).unwrap();
    assert_eq!(guest.call::<(), i32>("get", ()).unwrap(), -3);
    let err = gi.set(&mut guest, Value::I64(1)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot set the global `gi` (global (mut i32)) to i64.const 1"
    );
    let gf = guest.export_global("gf").unwrap();
    assert_eq!(gf.get(&guest).unwrap(), Value::F64(2.5));
    assert!(matches!(
        gf.set(&mut guest, Value::F64(1.0)),
        Err(Error::GlobalSet { .. })
    ));
    assert!(matches!(
        guest.export_global("tab"),
        Err(Error::WrongExportKind {
            expected: "global",
            found: "table",
            ..
        })
    ));
    let tab = guest.export_table("tab").unwrap();
    assert_eq!(tab.size(&guest).unwrap(), 3);
    assert_eq!(tab.ty(&guest).unwrap().to_string(), "table 3 externref");
    assert_eq!(tab.get(&guest, 2).unwrap(), Value::ExternRef(None));
    assert_eq!(
        tab.get(&guest, 3).unwrap_err().to_string(),
        "index 3 out of range for the table `tab` of 3 elements"
    );
    let other = Guest::new(r#"(module (table (export "tab") 1 funcref))"#).unwrap();
    assert!(matches!(tab.size(&other), Err(Error::ForeignHandle { .. })));
}

#[test]
fn values_parse_and_print_in_wasm_notation() {
    use ValueType::*;
    let cases: &[(ValueType, &str, Value, &str)] = &[
        (I32, "42", Value::I32(42), "i32.const 42"),
        (
            I32,
            "-2147483648",
            Value::I32(i32::MIN),
            "i32.const -2147483648",
        ),
        (I32, "4294967295", Value::I32(-1), "i32.const -1"),
        (I32, "0x10", Value::I32(16), "i32.const 16"),
        (I32, "1_000", Value::I32(1000), "i32.const 1000"),
        (I64, "18446744073709551615", Value::I64(-1), "i64.const -1"),
        (F32, "1.5", Value::F32(1.5), "f32.const 1.5"),
        (F32, "-inf", Value::F32(f32::NEG_INFINITY), "f32.const -inf"),
        (
            F32,
            "nan",
            Value::F32(f32::from_bits(0x7fc0_0000)),
            "f32.const nan",
        ),
        (
            F32,
            "-nan:0x1",
            Value::F32(f32::from_bits(0xff80_0001)),
            "f32.const -nan:0x1",
        ),
        (F64, "1e-300", Value::F64(1e-300), "f64.const 1e-300"),
        (F64, "-0", Value::F64(-0.0), "f64.const -0.0"),
        (FuncRef, "null", Value::FuncRef(None), "ref.null func"),
        (ExternRef, "null", Value::ExternRef(None), "ref.null extern"),
    ];
    for &(ty, text, want, shown) in cases {
        let got = Value::parse(ty, text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(got, want, "{text}");
        assert_eq!(got.to_string(), shown, "{text}");
        assert_eq!(got.ty(), ty);
        let bare = format!("{got:#}");
        assert_eq!(
            Value::parse(ty, &bare).ok(),
            Some(want),
            "{bare} reads back"
        );
    }
    for (ty, text) in [
        (I32, "4294967296"),
        (I32, "-2147483649"),
        (I32, "1.5"),
        (I32, ""),
        (I32, "-"),
        (I64, "0x"),
        (F32, "nan:0x0"),
        (F32, "nan:0x800000"),
        (F64, "one"),
        (FuncRef, "0"),
    ] {
        let err = Value::parse(ty, text).unwrap_err();
        assert!(
            matches!(&err, Error::ParseValue { text: t, ty: t2, .. } if &**t == text && *t2 == ty),
            "{text}: {err:?}"
        );
        assert!(
            err.to_string()
                .starts_with(&format!("cannot read `{text}` as {ty}"))
        );
    }
}

#[test]
fn instances_link_through_register() {
    let lib = Module::new(
        r#"(module (global (export "base") i32 (i32.const 40))
             (func (export "two") (result i32) (i32.const 2)))"#,
    )
    .unwrap();
    let app = Module::with_engine(
        lib.engine(),
        r#"(module (import "lib" "base" (global i32)) (import "lib" "two" (func $two (result i32)))
             (func (export "run") (result i32) (i32.add (global.get 0) (call $two))))"#,
    )
    .unwrap();
    let mut guest = lib.instantiate().unwrap();
    guest.register("lib", guest.main_instance()).unwrap();
    let app = guest.add_instance(&app).unwrap();
    let run = guest.export_dynamic_func_in(app, "run").unwrap();
    assert_eq!(run.call(&mut guest, &[]).unwrap(), [Value::I32(42)]);
    let other = Guest::new("(module)").unwrap();
    assert!(matches!(
        guest.register("x", other.main_instance()),
        Err(Error::ForeignHandle { .. })
    ));
}

#[test]
fn host_items_of_run_time_types() {
    use linmem::HostContext;
    let module = Module::new(
        r#"(module
             (import "spectest" "print_i32_f32" (func $p (param i32 f32)))
             (import "spectest" "twice" (func $twice (param i64) (result i64)))
             (import "spectest" "bad" (func $bad (result i32)))
             (import "spectest" "global_i32" (global $g i32))
             (import "spectest" "counter" (global $c (mut i64)))
             (import "spectest" "table" (table 10 20 funcref))
             (func (export "run") (result i64)
               (call $p (global.get $g) (f32.const 1.5))
               (global.set $c (call $twice (i64.const 21)))
               (global.get $c))
             (func (export "bad") (result i32) (call $bad))
             (func (export "size") (result i32) (table.size 0)))"#,
    )
    .unwrap();
    let i32_f32 = FuncType::new([ValueType::I32, ValueType::F32], []);
    let i64_i64 = FuncType::new([ValueType::I64], [ValueType::I64]);
    let mut guest = module
        .guest_with(Vec::<String>::new())
        .host_func_dynamic(
            "spectest",
            "print_i32_f32",
            i32_f32,
            |mut cx: HostContext<'_, Vec<String>>, args: &[Value], _: &mut [Value]| {
                let line = args.iter().map(|a| format!("{a:#}")).collect::<Vec<_>>();
                cx.data_mut().push(line.join(" "));
                Ok(())
            },
        )
        .unwrap()
        .host_func_dynamic(
            "spectest",
            "twice",
            i64_i64,
            |_: HostContext<'_, Vec<String>>, args: &[Value], results: &mut [Value]| {
                results[0] = Value::I64(args[0].i64().unwrap_or(0) * 2);
                Ok(())
            },
        )
        .unwrap()
        .host_func_dynamic(
            "spectest",
            "bad",
            FuncType::new([], [ValueType::I32]),
            |_: HostContext<'_, Vec<String>>, _: &[Value], results: &mut [Value]| {
                results[0] = Value::F64(1.0);
                Ok(())
            },
        )
        .unwrap()
        .host_global("spectest", "global_i32", Value::I32(666), false)
        .unwrap()
        .host_global("spectest", "counter", Value::I64(0), true)
        .unwrap()
        .host_table("spectest", "table", ValueType::FuncRef, 10, Some(20))
        .unwrap()
        .instantiate()
        .unwrap();
    assert_eq!(guest.call::<(), i64>("run", ()).unwrap(), 42);
    assert_eq!(guest.data(), &["666 1.5"]);
    assert_eq!(guest.call::<(), i32>("size", ()).unwrap(), 10);
    let err = guest.call::<(), i32>("bad", ()).unwrap_err();
    let Error::HostFunc { error: source, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        source.to_string(),
        "the host function `bad` of type () -> i32 returned (f64)"
    );
    // misuse is an error, not a panic
    assert!(
        module
            .guest()
            .host_table("m", "t", ValueType::I32, 1, None)
            .is_err()
    );
    assert!(
        module
            .guest()
            .host_table("m", "t", ValueType::FuncRef, 2, Some(1))
            .is_err()
    );
    let too_many = FuncType::new(vec![ValueType::I32; 100_000], []);
    assert!(matches!(
        module.guest().host_func_dynamic(
            "m",
            "f",
            too_many,
            |_: HostContext<'_, ()>, _: &[Value], _: &mut [Value]| Ok(())
        ),
        Err(Error::Instantiate { .. })
    ));
}
