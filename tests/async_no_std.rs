//! The async API in a `no_std` build (`cargo test --no-default-features
//! --lib --tests`): an async call in fuel slices and an async host
//! function, on the `core` + `alloc` executor of tests/support/executor.rs,
//! with the module given as wasm bytes (the `wat` dev-dependency compiles
//! it; linmem's own `wat` feature is off).

#[path = "support/executor.rs"]
mod executor;

use executor::{Task, Turns, block_on, run_all};
use linmem::{Guest, Module};

fn guest() -> Guest {
    let wasm = wat::parse_str(include_str!("../fixtures/async_guest.wat")).unwrap();
    let module = Module::with_engine(&linmem::metered_engine(), wasm).unwrap();
    module
        .guest()
        .host_func_async("env", "fetch", |mut cx, (ptr, len): (u32, u32)| {
            Box::pin(async move {
                let request = cx.view(|view| view.bytes(ptr, len).map(<[u8]>::to_vec))?;
                Turns(2).await;
                cx.view_mut(|mut view| view.write_bytes(ptr, &request.to_ascii_uppercase()))?;
                Ok(len)
            })
        })
        .unwrap()
        .host_func(
            "env",
            "fetch_sync",
            |_cx: linmem::HostContext<'_, ()>, _: u32, len: u32| Ok(len),
        )
        .unwrap()
        .instantiate()
        .unwrap()
}

#[test]
fn async_calls_and_async_host_functions_without_std() -> linmem::Result<()> {
    let mut guest = guest();
    let (result, polls) = block_on(guest.call_async::<i64, i64>("sum", 100_000)).unwrap();
    assert_eq!(result?, 5_000_050_000);
    assert!(polls > 1, "{polls}");
    let (result, polls) = block_on(guest.call_async::<i32, i32>("fetch", 4)).unwrap();
    assert_eq!((result?, polls), (4, 3));
    assert_eq!(guest.view().bytes(64, 4)?, b"PING");
    // Two guests at once on the same executor.
    let mut other = self::guest();
    let tasks: Vec<Task<'_, linmem::Result<i32>>> = vec![
        Box::pin(guest.call_async::<i32, i32>("fetch_n", 3)),
        Box::pin(other.call_async::<i32, i32>("fetch_n", 3)),
    ];
    for task in run_all(tasks).unwrap() {
        assert_eq!(task.output?, 12);
    }
    Ok(())
}
