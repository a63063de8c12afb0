//! The async API on tokio: many guests on a current-thread runtime with an
//! async host function awaiting tokio's timer and channels, a guest call
//! spawned on the multi-threaded runtime (the future is `Send`), and a call
//! dropped by `tokio::time::timeout`.

use linmem::{Deadline, Error, Guest, Module};
use std::time::Duration;
use tokio::sync::mpsc;

const GUEST: &str = include_str!("../../fixtures/async_guest.wat");

/// A guest whose `fetch` sleeps `delay_ms` of tokio time, then uppercases.
fn guest(module: &Module, delay_ms: u64) -> Guest {
    module
        .guest()
        .host_func_async("env", "fetch", move |mut cx, (ptr, len): (u32, u32)| {
            Box::pin(async move {
                let request = cx.view(|view| view.bytes(ptr, len).map(<[u8]>::to_vec))?;
                tokio::time::sleep(Duration::from_millis(delay_ms)).await;
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

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn many_guests_sleep_concurrently_on_one_thread() {
    let module = Module::with_engine(&linmem::metered_engine(), GUEST).unwrap();
    let local = tokio::task::LocalSet::new();
    let (tx, mut rx) = mpsc::unbounded_channel();
    for index in 0..200u64 {
        let mut guest = guest(&module, 1_000 - index);
        let tx = tx.clone();
        local.spawn_local(async move {
            let fetched = guest.call_async::<i32, i32>("fetch_n", 2).await;
            let memory = guest.view().bytes(64, 4).map(<[u8]>::to_vec);
            tx.send((index, fetched, memory)).unwrap();
        });
    }
    drop(tx);
    let start = tokio::time::Instant::now();
    local.await;
    // 200 guests, each sleeping twice for up to a second: concurrently, two
    // seconds of (paused) tokio time, not 200 seconds.
    assert!(
        start.elapsed() <= Duration::from_millis(2_001),
        "{:?}",
        start.elapsed()
    );
    let mut order = Vec::new();
    while let Some((index, fetched, memory)) = rx.recv().await {
        assert_eq!(fetched.unwrap(), 8);
        assert_eq!(memory.unwrap(), b"PING");
        order.push(index);
    }
    // The shortest sleepers finish first.
    assert_eq!(order.len(), 200);
    assert_eq!(order[0], 199);
    assert_eq!(order[199], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_spawned_on_the_multi_threaded_runtime() {
    let module = Module::with_engine(&linmem::metered_engine(), GUEST).unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let mut guest = guest(&module, 1);
            tokio::spawn(async move {
                let sum = guest.call_async::<i64, i64>("sum", 50_000).await?;
                let fetched = guest.call_async::<i32, i32>("fetch_n", 3).await?;
                Ok::<_, linmem::Error>((sum, fetched))
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), (1_250_025_000, 12));
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_timeout_drops_the_call_and_the_guest_stays_usable() {
    let module = Module::with_engine(&linmem::metered_engine(), GUEST).unwrap();
    let mut guest = guest(&module, 0);
    let deadline = Deadline::none().fuel_slice(10_000);
    let spun = tokio::time::timeout(
        Duration::from_millis(20),
        guest.call_async_until::<(), ()>("spin", (), &deadline),
    )
    .await;
    assert!(
        spun.is_err(),
        "the endless guest was stopped by the timeout"
    );
    let count = guest.call_async::<(), i64>("count", ()).await.unwrap();
    assert!(count > 0);
    assert_eq!(guest.call_async::<i64, i64>("sum", 4).await.unwrap(), 10);
    assert!(matches!(
        guest.call::<i32, i32>("fetch", 4),
        Err(Error::AsyncHostFuncInSyncCall { .. })
    ));
}
