//! 300 guests on one thread: each runs a loop of its own length (yielding
//! to the executor every fuel slice), then calls an async host function
//! that reads the request from guest memory, awaits a timer, and writes
//! its answer back into guest memory. Results are printed as the guests
//! finish; nothing blocks the thread.
//!
//! `cargo run --release --example async_guests` (tokio, a dev-dependency,
//! is the executor here; linmem itself runs on any).

use linmem::{Guest, HostContext, Module};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

const GUESTS: u32 = 300;

/// What each guest's host data holds: its number.
struct Id(u32);

fn guest(module: &Module, id: u32) -> linmem::Result<Guest<Id>> {
    module
        .guest_with(Id(id))
        // The async host function: request in, timer awaited, answer out.
        .host_func_async("env", "fetch", |mut cx, (ptr, len): (u32, u32)| {
            Box::pin(async move {
                let request = cx.view(|view| view.bytes(ptr, len).map(<[u8]>::to_vec))?;
                let id = cx.data().0;
                // The guest is suspended here; the other guests run.
                tokio::time::sleep(Duration::from_millis(u64::from(id % 40))).await;
                let answer = format!("{}#{id}", String::from_utf8_lossy(&request).to_uppercase());
                let written = answer.len().min(16);
                cx.view_mut(|mut view| view.write_bytes(ptr, &answer.as_bytes()[..written]))?;
                Ok(u32::try_from(written).unwrap_or(0))
            })
        })?
        // A sync host function next to it (unused by this example's calls).
        .host_func(
            "env",
            "fetch_sync",
            |_cx: HostContext<'_, Id>, _ptr: u32, len: u32| Ok(len),
        )?
        .instantiate()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> linmem::Result<()> {
    let module = Module::with_engine(
        &linmem::metered_engine(),
        include_str!("../../fixtures/async_guest.wat"),
    )?;
    let start = Instant::now();
    let (done, mut finished) = mpsc::unbounded_channel();
    let local = tokio::task::LocalSet::new();
    for id in 0..GUESTS {
        let mut guest = guest(&module, id)?;
        let done = done.clone();
        local.spawn_local(async move {
            let outcome = async {
                // A loop of its own length, in fuel slices.
                let n = 1_000 + i64::from(id % 7) * 4_000;
                let sum = guest.call_async::<i64, i64>("sum", n).await?;
                // The async host function, called by the guest.
                let len = guest.call_async::<i32, i32>("fetch", 4).await?;
                let len = u64::try_from(len).unwrap_or(0);
                let answer = guest.view().str(64, len)?.to_owned();
                Ok::<_, linmem::Error>((sum, answer))
            }
            .await;
            let _ = done.send((id, start.elapsed(), outcome));
        });
    }
    drop(done);
    let printer = async {
        let mut count = 0;
        while let Some((id, at, outcome)) = finished.recv().await {
            let (sum, answer) = outcome?;
            count += 1;
            println!(
                "#{count:>3}: guest {id:>3} finished at {at:>9.3?}: sum {sum}, answer {answer:?}"
            );
        }
        Ok::<_, linmem::Error>(count)
    };
    let (count, ()) = tokio::join!(printer, local);
    let count = count?;
    assert_eq!(count, GUESTS);
    println!(
        "{count} guests finished on one thread in {:.3?}",
        start.elapsed()
    );
    Ok(())
}
