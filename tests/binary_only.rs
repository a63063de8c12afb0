//! What a `no_std` or binary-only build (`--no-default-features`) keeps: the
//! embedded fixture, views, calls, host functions and host memories, with
//! modules given as wasm bytes (compiled here by the `wat` dev-dependency,
//! not by linmem's own `wat` feature).

use linmem::{Error, HostContext, LINEAR_MEMORY_WASM, Module};

fn wasm(text: &str) -> Vec<u8> {
    wat::parse_str(text).expect("test module is valid WAT")
}

#[test]
fn reference_scenario_from_the_embedded_binary() {
    let module = Module::new(LINEAR_MEMORY_WASM).unwrap();
    let mut guest = module.instantiate().unwrap();
    assert_eq!(guest.view().read::<u8>(0).unwrap(), 24);
    guest.view_mut().write(1, 25u8).unwrap();
    let read_one = guest
        .export_func::<(), i32>("readWasmMemoryAndReturnIndexOne")
        .unwrap();
    assert_eq!(read_one.call(&mut guest, ()).unwrap(), 25);
    assert!(matches!(
        guest.view().read::<u16>(65_535),
        Err(Error::OutOfBounds {
            addr: 65_535,
            len: 2,
            size: 65_536
        })
    ));
}

#[cfg(not(feature = "wat"))]
#[test]
fn text_input_without_the_wat_feature_is_a_compile_error() {
    let err = Module::new("  (module)").unwrap_err();
    assert!(matches!(err, Error::WatDisabled), "{err:?}");
    assert!(err.to_string().contains("`wat` feature"), "{err}");
    // Other text is not wasm either.
    assert!(matches!(Module::new("hello"), Err(Error::Compile { .. })));
    assert!(matches!(
        Module::new(b"\xff\xfe"),
        Err(Error::NotWasm { len: 2, .. })
    ));
}

#[test]
fn host_functions_and_a_static_memory_work_without_std_features() {
    let module = Module::new(wasm(
        r#"(module
             (import "env" "memory" (memory 1 2))
             (import "env" "sum" (func $sum (param i32 i32) (result i32)))
             (func (export "run") (result i32) (call $sum (i32.const 0) (i32.const 4))))"#,
    ))
    .unwrap();
    let buffer: &'static mut [u8] = Box::leak(vec![0u8; 2 * 65_536].into_boxed_slice());
    let builder = module
        .guest_with(0u32)
        .host_func(
            "env",
            "sum",
            |mut cx: HostContext<'_, u32>, ptr: u32, len: u32| {
                let (view, calls) = cx.view_and_data_mut()?;
                *calls += 1;
                let bytes = view.bytes(ptr, len)?;
                Ok(bytes.iter().map(|&b| u32::from(b)).sum::<u32>())
            },
        )
        .unwrap();
    let mut builder = builder
        .host_memory_static("env", "memory", buffer, 1, Some(2))
        .unwrap();
    let memory = builder.import_memory("env", "memory").unwrap();
    builder
        .view_mut_of(memory)
        .unwrap()
        .write_bytes(0, &[1, 2, 3, 4])
        .unwrap();
    let mut guest = builder.instantiate().unwrap();
    assert_eq!(guest.call::<(), i32>("run", ()).unwrap(), 10);
    assert_eq!(*guest.data(), 1);
}
