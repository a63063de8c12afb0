//! Workload 6, async calls (fixtures/async_guest.wat, metering engine):
//!
//! `async/loop/{call,call_async,call_async_tokio}`: a long guest loop
//! (`sum` of 3 000 000, about 0.03 s) by a plain call against `call_async` at the
//! default slice, polled by a minimal executor and by tokio's current-thread
//! runtime. (`call_unmetered`: the plain call on an engine without fuel
//! metering, what metering itself costs.)
//! `async/yield_latency/<slice>`: one poll of an endless guest, i.e. the
//! time between two yields to the executor, per slice size.
//! `async/host_round_trip/{sync_call,sync_in_async,async}`: 1 000 calls of
//! a host function that reads 4 bytes of guest memory and writes 4 back:
//! sync host function under a plain call, sync under `call_async`, async
//! (its future awaits a ready future) under `call_async`.
//! `async/many_guests/{sequential,concurrent}`: 1 000 guests each running a
//! loop of about 3 default slices, one after the other with plain calls,
//! and all at once on one thread (round robin over `call_async` futures).
//! After the timed groups, one more concurrent and sequential run reports
//! the spread of the guests' completion times (fairness) on stderr.

use crate::common;
use criterion::Criterion;
use linmem::{Deadline, Engine, Guest, HostContext, Module};
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

#[path = "../../tests/support/executor.rs"]
mod executor;

const GUEST_WAT: &str = include_str!("../../fixtures/async_guest.wat");

/// Full sizes in an optimized build; small ones in `cargo test --benches`
/// (a debug build that runs each benchmark once, to check the answers).
const FULL: bool = !cfg!(debug_assertions);
/// The long loop's length.
const LOOP: i64 = if FULL { 3_000_000 } else { 30_000 };
/// Guests in the many-guests group.
const GUESTS: usize = if FULL { 1_000 } else { 20 };
/// Each one's loop: about 3 default slices.
const GUEST_LOOP: i64 = if FULL { 50_000 } else { 5_000 };

/// 1 + 2 + ... + n, wrapping like the guest.
fn sum_to(n: i64) -> i64 {
    (1..=n).fold(0i64, i64::wrapping_add)
}

/// Polls `future` to completion with a waker that does nothing: the
/// cheapest executor there is (the future wakes itself when it yields).
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

/// A guest of the async fixture: `fetch` async, `fetch_sync` sync, both
/// reading the 4-byte request and writing its bytes reversed back.
fn guest(module: &Module) -> Guest {
    module
        .guest()
        .host_func_async("env", "fetch", |mut cx, (ptr, len): (u32, u32)| {
            Box::pin(async move {
                let mut bytes: [u8; 4] = cx.view(|view| view.read(ptr))?;
                std::future::ready(()).await;
                bytes.reverse();
                cx.view_mut(|mut view| view.write(ptr, bytes))?;
                Ok(len)
            })
        })
        .expect("fetch defined")
        .host_func(
            "env",
            "fetch_sync",
            |mut cx: HostContext<'_, ()>, ptr: u32, len: u32| {
                let mut view = cx.view_mut()?;
                let mut bytes: [u8; 4] = view.read(ptr)?;
                bytes.reverse();
                view.write(ptr, bytes)?;
                Ok(len)
            },
        )
        .expect("fetch_sync defined")
        .instantiate()
        .expect("fixture instantiates")
}

pub fn benches(c: &mut Criterion) {
    let wasm = common::wasm(GUEST_WAT);
    let module = Module::with_engine(&linmem::metered_engine(), &wasm).expect("fixture compiles");
    let unmetered = Module::with_engine(&Engine::default(), &wasm).expect("fixture compiles");

    // A long loop: plain call against call_async at the default slice.
    {
        let n = LOOP;
        let want = sum_to(n);
        let mut group = c.benchmark_group("async/loop");
        group.sample_size(10);
        let mut guest = guest(&module);
        let sum = guest.export_func::<i64, i64>("sum").expect("sum");
        group.bench_function("call", |b| {
            b.iter(|| assert_eq!(sum.call(&mut guest, black_box(n)).unwrap(), want))
        });
        group.bench_function("call_async", |b| {
            b.iter(|| {
                assert_eq!(
                    block_on(sum.call_async(&mut guest, black_box(n))).unwrap(),
                    want
                )
            })
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("tokio runtime");
        group.bench_function("call_async_tokio", |b| {
            b.iter(|| {
                let got = runtime.block_on(sum.call_async(&mut guest, black_box(n)));
                assert_eq!(got.unwrap(), want);
            })
        });
        let mut plain = self::guest(&unmetered);
        let plain_sum = plain.export_func::<i64, i64>("sum").expect("sum");
        group.bench_function("call_unmetered", |b| {
            b.iter(|| assert_eq!(plain_sum.call(&mut plain, black_box(n)).unwrap(), want))
        });
        group.finish();
    }

    // The time between two yields, per slice size: one poll of an endless guest.
    {
        let mut group = c.benchmark_group("async/yield_latency");
        for slice in [1_000u64, 10_000, 100_000, 1_000_000] {
            let mut guest = guest(&module);
            let deadline = Deadline::none().fuel_slice(slice);
            let mut call = Box::pin(guest.call_async_until::<(), ()>("spin", (), &deadline));
            let mut cx = Context::from_waker(Waker::noop());
            group.bench_function(slice.to_string(), |b| {
                b.iter(|| assert!(call.as_mut().poll(&mut cx).is_pending()))
            });
        }
        group.finish();
    }

    // A host function round trip, sync and async.
    {
        let calls = 1_000i32;
        let want = 4 * calls;
        let mut group = c.benchmark_group("async/host_round_trip");
        let mut guest = guest(&module);
        let sync_n = guest
            .export_func::<i32, i32>("fetch_sync_n")
            .expect("fetch_sync_n");
        let async_n = guest.export_func::<i32, i32>("fetch_n").expect("fetch_n");
        group.bench_function("sync_call", |b| {
            b.iter(|| assert_eq!(sync_n.call(&mut guest, black_box(calls)).unwrap(), want))
        });
        group.bench_function("sync_in_async", |b| {
            b.iter(|| {
                let got = block_on(sync_n.call_async(&mut guest, black_box(calls)));
                assert_eq!(got.unwrap(), want);
            })
        });
        group.bench_function("async", |b| {
            b.iter(|| {
                let got = block_on(async_n.call_async(&mut guest, black_box(calls)));
                assert_eq!(got.unwrap(), want);
            })
        });
        // An even number of reversals leaves the request as it was.
        assert_eq!(guest.view().bytes(64, 4).unwrap(), b"ping");
        group.finish();
    }

    // 1 000 guests, one after the other and all at once on one thread.
    {
        let n = GUEST_LOOP;
        let want = sum_to(n);
        let mut group = c.benchmark_group("async/many_guests");
        group.sample_size(10);
        let mut guests: Vec<Guest> = (0..GUESTS).map(|_| guest(&module)).collect();
        let sums: Vec<_> = guests
            .iter()
            .map(|guest| guest.export_func::<i64, i64>("sum").expect("sum"))
            .collect();
        group.bench_function("sequential", |b| {
            b.iter(|| {
                for (guest, sum) in guests.iter_mut().zip(&sums) {
                    assert_eq!(sum.call(guest, black_box(n)).unwrap(), want);
                }
            })
        });
        group.bench_function("concurrent", |b| {
            b.iter(|| {
                let tasks: Vec<executor::Task<'_, linmem::Result<i64>>> = guests
                    .iter_mut()
                    .zip(&sums)
                    .map(|(guest, sum)| {
                        Box::pin(sum.call_async(guest, black_box(n))) as executor::Task<'_, _>
                    })
                    .collect();
                for task in executor::run_all(tasks).expect("no stall") {
                    assert_eq!(task.output.unwrap(), want);
                }
            })
        });
        group.finish();
        if FULL {
            fairness(&mut guests, &sums, n, want);
        }
    }
}

/// Runs the guests once concurrently and once sequentially, and prints the
/// spread of their completion times (time from the start until each guest's
/// call returned): round robin should finish them all within the last
/// round; one after the other spreads them over the whole run.
fn fairness(guests: &mut [Guest], sums: &[linmem::GuestFunc<i64, i64>], n: i64, want: i64) {
    let start = Instant::now();
    let tasks: Vec<executor::Task<'_, (linmem::Result<i64>, Instant)>> = guests
        .iter_mut()
        .zip(sums)
        .map(|(guest, sum)| {
            Box::pin(async move {
                let got = sum.call_async(guest, n).await;
                (got, Instant::now())
            }) as executor::Task<'_, _>
        })
        .collect();
    let mut concurrent: Vec<Duration> = executor::run_all(tasks)
        .expect("no stall")
        .into_iter()
        .map(|task| {
            let (got, at) = task.output;
            assert_eq!(got.unwrap(), want);
            at - start
        })
        .collect();
    let start = Instant::now();
    let mut sequential: Vec<Duration> = guests
        .iter_mut()
        .zip(sums)
        .map(|(guest, sum)| {
            assert_eq!(sum.call(guest, n).unwrap(), want);
            start.elapsed()
        })
        .collect();
    for (name, times) in [
        ("concurrent", &mut concurrent),
        ("sequential", &mut sequential),
    ] {
        times.sort();
        let first = times[0];
        let median = times[times.len() / 2];
        let last = times[times.len() - 1];
        eprintln!(
            "async/many_guests/{name} completion times: first {first:?}, median {median:?}, \
             last {last:?}; spread (last - first) / last = {:.3}",
            (last - first).as_secs_f64() / last.as_secs_f64()
        );
    }
}
