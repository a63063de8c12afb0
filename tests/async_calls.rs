//! Async calls and async host functions, on a minimal hand-written executor
//! (tests/support/executor.rs, `core` + `alloc` only): results match plain
//! calls, guests interleave slice by slice, host functions suspend the
//! guest and write their answers back, synchronous calls get a typed error,
//! deadlines and flags stop async calls, and a dropped call leaves the guest
//! usable in the documented state. tests/async_tokio.rs runs the same API on
//! tokio; tests/async_no_std.rs in a `--no-default-features` build.
#![cfg(feature = "wat")]

#[path = "support/executor.rs"]
mod executor;

use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};
use executor::{Stalled, Task, Turns, block_on, run_all};
use linmem::{
    AsyncHostContext, CancelFlag, Deadline, Error, Guest, GuestBuilder, HostContext, HostFuture,
    Limits, Module, TrapCode,
};
use std::time::Duration;

const GUEST: &str = include_str!("../fixtures/async_guest.wat");

/// What the host functions count, in the guest's host data.
#[derive(Debug, Default)]
struct Counts {
    async_calls: u32,
    sync_calls: u32,
}

fn metered() -> Module {
    Module::with_engine(&linmem::metered_engine(), GUEST).unwrap()
}

/// The guest's `fetch` import: uppercases the request after `turns` turns
/// of the executor.
fn fetch(
    turns: u32,
) -> impl for<'a> Fn(AsyncHostContext<'a, Counts>, (u32, u32)) -> HostFuture<'a, u32> + Send + Sync
{
    move |mut cx, (ptr, len)| {
        Box::pin(async move {
            let request = cx.view(|view| view.bytes(ptr, len).map(<[u8]>::to_vec))?;
            Turns(turns).await; // the guest is suspended here
            let answer = request.to_ascii_uppercase();
            cx.view_and_data_mut(|mut view, counts| {
                counts.async_calls += 1;
                view.write_bytes(ptr, &answer)
            })?;
            Ok(len)
        })
    }
}

/// The guest's `fetch_sync` import: reverses the request.
fn fetch_sync(mut cx: HostContext<'_, Counts>, ptr: u32, len: u32) -> linmem::Result<u32> {
    let (mut view, counts) = cx.view_and_data_mut()?;
    counts.sync_calls += 1;
    let mut bytes = view.bytes(ptr, len)?.to_vec();
    bytes.reverse();
    view.write_bytes(ptr, &bytes)?;
    Ok(len)
}

fn builder(module: &Module, turns: u32) -> GuestBuilder<'_, Counts> {
    module
        .guest_with(Counts::default())
        .host_func_async("env", "fetch", fetch(turns))
        .unwrap()
        .host_func("env", "fetch_sync", fetch_sync)
        .unwrap()
}

fn guest(module: &Module, turns: u32) -> Guest<Counts> {
    builder(module, turns).instantiate().unwrap()
}

fn sum_to(n: i64) -> i64 {
    (1..=n).fold(0i64, i64::wrapping_add)
}

/// Polls `future` once with a waker that does nothing.
fn poll_once<F: Future>(future: core::pin::Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn call_async_returns_what_call_returns_and_yields_between_slices() -> linmem::Result<()> {
    let module = metered();
    let mut guest = guest(&module, 0);
    let n = 300_000;
    let plain: i64 = guest.call("sum", n)?;
    assert_eq!(plain, sum_to(n));
    let sum = guest.export_func::<i64, i64>("sum")?;
    let (result, polls) = block_on(sum.call_async(&mut guest, n)).unwrap();
    assert_eq!(result?, plain);
    // Each iteration costs a few fuel units: many 100 000-unit slices.
    assert!(polls > 5, "polled {polls} times");
    // A smaller slice yields more often.
    let deadline = Deadline::none().fuel_slice(10_000);
    let (result, small) = block_on(sum.call_async_until(&mut guest, n, &deadline)).unwrap();
    assert_eq!(result?, plain);
    assert!(
        small > polls * 5,
        "{small} polls at 10 000, {polls} at 100 000"
    );
    // By name, too.
    let (result, _) = block_on(guest.call_async::<i64, i64>("sum", 10)).unwrap();
    assert_eq!(result?, 55);
    Ok(())
}

#[test]
fn without_fuel_metering_call_async_runs_in_one_piece() -> linmem::Result<()> {
    let module = Module::new(GUEST)?;
    let mut guest = guest(&module, 1);
    let (result, polls) = block_on(guest.call_async::<i64, i64>("sum", 300_000)).unwrap();
    assert_eq!(result?, sum_to(300_000));
    assert_eq!(polls, 1);
    // Async host functions still suspend it.
    let (result, polls) = block_on(guest.call_async::<i32, i32>("fetch_n", 3)).unwrap();
    assert_eq!(result?, 12);
    assert_eq!(polls, 1 + 3);
    // A deadline needs fuel, as call_until's does.
    let err = block_on(guest.call_async_until::<i64, i64>("sum", 1, &Deadline::none()))
        .unwrap()
        .0
        .unwrap_err();
    assert!(matches!(err, Error::FuelDisabled), "{err:?}");
    Ok(())
}

#[test]
fn guests_interleave_slice_by_slice_on_one_thread() -> linmem::Result<()> {
    let module = metered();
    let mut guests: Vec<Guest<Counts>> = (0..50).map(|_| guest(&module, 0)).collect();
    let n = 20_000;
    let deadline = Deadline::none().fuel_slice(10_000);
    let tasks: Vec<Task<'_, linmem::Result<i64>>> = guests
        .iter_mut()
        .map(|guest| {
            Box::pin(guest.call_async_until::<i64, i64>("sum", n, &deadline)) as Task<'_, _>
        })
        .collect();
    let done = run_all(tasks).unwrap();
    assert_eq!(done.len(), 50);
    let polls: Vec<u64> = done.iter().map(|task| task.polls).collect();
    for task in done {
        assert_eq!(task.output?, sum_to(n));
    }
    // Every guest needed the same number of slices, and round robin gave
    // each its turn: none finished before the others had run all but
    // their last slice.
    let (min, max) = (polls.iter().min().unwrap(), polls.iter().max().unwrap());
    assert!(*min > 5, "{polls:?}");
    assert!(max - min <= 1, "{polls:?}");
    Ok(())
}

#[test]
fn async_host_function_reads_awaits_and_writes_back() -> linmem::Result<()> {
    let module = metered();
    let mut guest = guest(&module, 3);
    let (result, polls) = block_on(guest.call_async::<i32, i32>("fetch", 4)).unwrap();
    assert_eq!(result?, 4);
    assert_eq!(guest.view().bytes(64, 4)?, b"PING");
    assert_eq!(guest.data().async_calls, 1);
    // Suspended for the host function's 3 turns.
    assert_eq!(polls, 1 + 3);
    let (result, _) = block_on(guest.call_async::<i32, i32>("fetch_n", 10)).unwrap();
    assert_eq!(result?, 40);
    assert_eq!(guest.data().async_calls, 11);
    Ok(())
}

/// A one-value channel whose receiver is a future: the sender's `send`
/// wakes it.
#[derive(Default)]
struct Slot {
    value: Option<u32>,
    waker: Option<Waker>,
}

struct Receive(std::sync::Arc<std::sync::Mutex<Slot>>);

impl Future for Receive {
    type Output = u32;

    fn poll(self: core::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        let mut slot = self.0.lock().unwrap();
        match slot.value.take() {
            Some(value) => Poll::Ready(value),
            None => {
                slot.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

fn send(slot: &std::sync::Mutex<Slot>, value: u32) {
    let mut slot = slot.lock().unwrap();
    slot.value = Some(value);
    if let Some(waker) = slot.waker.take() {
        waker.wake();
    }
}

#[test]
fn an_async_host_function_lets_other_guests_run_while_it_waits() -> linmem::Result<()> {
    // Guest A's host function waits for a message that guest B's host
    // function sends: they only finish if A is suspended while B runs.
    let channel = std::sync::Arc::new(std::sync::Mutex::new(Slot::default()));
    let module = metered();
    let receiver = std::sync::Arc::clone(&channel);
    let mut waiter = module
        .guest_with(Counts::default())
        .host_func_async("env", "fetch", move |_cx, (_ptr, _len): (u32, u32)| {
            let receive = Receive(std::sync::Arc::clone(&receiver));
            Box::pin(async move { Ok(receive.await) })
        })?
        .host_func("env", "fetch_sync", fetch_sync)?
        .instantiate()?;
    let sender = std::sync::Arc::clone(&channel);
    let mut sender = module
        .guest_with(Counts::default())
        .host_func_async("env", "fetch", move |_cx, (_ptr, len): (u32, u32)| {
            let sender = std::sync::Arc::clone(&sender);
            Box::pin(async move {
                Turns(5).await;
                send(&sender, 7);
                Ok(len)
            })
        })?
        .host_func("env", "fetch_sync", fetch_sync)?
        .instantiate()?;
    let tasks: Vec<Task<'_, linmem::Result<i32>>> = vec![
        Box::pin(waiter.call_async::<i32, i32>("fetch", 4)),
        Box::pin(sender.call_async::<i32, i32>("fetch", 4)),
    ];
    let done = run_all(tasks).unwrap();
    let order: Vec<usize> = done.iter().map(|task| task.index).collect();
    assert_eq!(order, [1, 0], "the sender finishes first, then the waiter");
    let outputs: Vec<i32> = done.into_iter().map(|task| task.output.unwrap()).collect();
    assert_eq!(outputs, [4, 7]);
    Ok(())
}

#[test]
fn sync_and_async_host_functions_mix_in_one_guest() -> linmem::Result<()> {
    let module = metered();
    let mut guest = guest(&module, 1);
    let (result, _) = block_on(guest.call_async::<(), i32>("mixed", ())).unwrap();
    assert_eq!(result?, 8);
    // Uppercased by the async one, then reversed by the sync one.
    assert_eq!(guest.view().bytes(64, 4)?, b"GNIP");
    assert_eq!((guest.data().async_calls, guest.data().sync_calls), (1, 1));
    Ok(())
}

#[test]
fn an_async_call_into_a_guest_with_only_sync_host_functions() -> linmem::Result<()> {
    let module = metered();
    let mut guest = module
        .guest_with(Counts::default())
        .host_func("env", "fetch", fetch_sync)?
        .host_func("env", "fetch_sync", fetch_sync)?
        .instantiate()?;
    let (result, _) = block_on(guest.call_async::<i32, i32>("fetch_n", 3)).unwrap();
    assert_eq!(result?, 12);
    assert_eq!(guest.view().bytes(64, 4)?, b"gnip");
    assert_eq!(guest.data().sync_calls, 3);
    Ok(())
}

#[test]
fn a_sync_call_reaching_an_async_host_function_fails_with_a_typed_error() -> linmem::Result<()> {
    let module = metered();
    let mut guest = guest(&module, 0);
    let check = |err: Error| match err {
        Error::AsyncHostFuncInSyncCall { func, module, name } => {
            assert_eq!((&*func, &*module, &*name), ("fetch_n", "env", "fetch"));
        }
        other => panic!("expected AsyncHostFuncInSyncCall, got {other:?}"),
    };
    check(guest.call::<i32, i32>("fetch_n", 2).unwrap_err());
    let deadline = Deadline::after(Duration::from_secs(60));
    check(
        guest
            .call_until::<i32, i32>("fetch_n", 2, &deadline)
            .unwrap_err(),
    );
    let message = guest
        .call::<i32, i32>("fetch_n", 2)
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("env`.`fetch") && message.contains("call_async"),
        "{message}"
    );
    // Nothing was written, and the guest stays usable, sync and async.
    assert_eq!(guest.view().bytes(64, 4)?, b"ping");
    assert_eq!(guest.call::<i64, i64>("sum", 4)?, 10);
    let (result, _) = block_on(guest.call_async::<i32, i32>("fetch_n", 2)).unwrap();
    assert_eq!(result?, 8);
    Ok(())
}

#[test]
fn a_start_function_reaching_an_async_host_function_fails_instantiation() {
    let module = Module::new(
        r#"(module (import "env" "wait" (func $wait))
            (memory (export "memory") 1) (start $wait))"#,
    )
    .unwrap();
    let err = module
        .guest()
        .host_func_async("env", "wait", |_cx, (): ()| Box::pin(async { Ok(()) }))
        .unwrap()
        .instantiate()
        .unwrap_err();
    assert!(
        matches!(&err, Error::AsyncHostFuncInSyncCall { func, .. } if &**func == "(start)"),
        "{err:?}"
    );
}

#[test]
fn an_async_host_functions_error_fails_the_call_intact() -> linmem::Result<()> {
    #[derive(Debug, PartialEq)]
    struct Refused(u32);
    impl std::fmt::Display for Refused {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "refused {}", self.0)
        }
    }
    impl std::error::Error for Refused {}
    let module = metered();
    let mut guest = module
        .guest()
        .host_func_async("env", "fetch", |_cx, (_ptr, len): (u32, u32)| {
            Box::pin(async move {
                Turns(1).await;
                Err::<u32, _>(Error::custom(Refused(len)))
            })
        })?
        .host_func(
            "env",
            "fetch_sync",
            |_cx: HostContext<'_, ()>, _: u32, len: u32| Ok(len),
        )?
        .instantiate()?;
    let (result, _) = block_on(guest.call_async::<i32, i32>("fetch_n", 3)).unwrap();
    let err = result.unwrap_err();
    assert!(
        matches!(&err, Error::HostFunc { func, .. } if &**func == "fetch_n"),
        "{err:?}"
    );
    assert_eq!(err.custom_ref::<Refused>(), Some(&Refused(4)));
    // A sync host function's error in an async call, too.
    let mut guest = module
        .guest()
        .host_func_async("env", "fetch", |_cx, (_ptr, len): (u32, u32)| {
            Box::pin(async move { Ok(len) })
        })?
        .host_func(
            "env",
            "fetch_sync",
            |_cx: HostContext<'_, ()>, _: u32, len: u32| Err::<u32, _>(Error::custom(Refused(len))),
        )?
        .instantiate()?;
    let (result, _) = block_on(guest.call_async::<(), i32>("mixed", ())).unwrap();
    let err = result.unwrap_err();
    assert!(matches!(&err, Error::HostFunc { .. }), "{err:?}");
    assert!(err.to_string().contains("mixed"));
    assert_eq!(guest.call::<i64, i64>("sum", 3)?, 6);
    Ok(())
}

#[test]
fn async_host_functions_take_and_return_every_value_type() -> linmem::Result<()> {
    let module = Module::new(
        r#"(module
            (import "env" "mix" (func $mix (param i32 i64 f32 f64) (result i64 f64 i32)))
            (import "env" "one" (func $one (param i32) (result i32)))
            (import "env" "none" (func $none))
            (memory (export "memory") 1)
            (func (export "run") (result i64 f64 i32)
              (call $none)
              (call $mix (call $one (i32.const -5)) (i64.const -7) (f32.const 1.5) (f64.const 2.25))))"#,
    )?;
    let mut guest = module
        .guest()
        .host_func_async("env", "mix", |_cx, (a, b, c, d): (u32, i64, f32, f64)| {
            Box::pin(async move {
                Turns(1).await;
                Ok((
                    u64::from(a),
                    f64::from(c) + d,
                    i32::try_from(b).unwrap_or(0),
                ))
            })
        })?
        .host_func_async("env", "one", |_cx, x: i32| {
            Box::pin(async move { Ok(x * 2) })
        })?
        .host_func_async("env", "none", |_cx, (): ()| Box::pin(async { Ok(()) }))?
        .instantiate()?;
    let (result, _) = block_on(guest.call_async::<(), (i64, f64, i32)>("run", ())).unwrap();
    // -10 as u32, widened.
    assert_eq!(result?, (4_294_967_286, 3.75, -7));
    Ok(())
}

#[test]
fn deadlines_and_flags_stop_async_calls() -> linmem::Result<()> {
    let module = metered();
    let mut guest = guest(&module, 0);
    let flag = CancelFlag::new();
    let deadline = Deadline::cancel_on(&flag).fuel_slice(10_000);
    {
        let mut call = pin!(guest.call_async_until::<(), ()>("spin", (), &deadline));
        for _ in 0..3 {
            assert!(poll_once(call.as_mut()).is_pending());
        }
        flag.cancel();
        match poll_once(call.as_mut()) {
            Poll::Ready(Err(Error::Cancelled { func })) => assert_eq!(&*func, "spin"),
            other => panic!("expected Cancelled, got {other:?}"),
        }
    }
    // Already cancelled: stops before running.
    let before = guest.call::<(), i64>("count", ())?;
    let (result, polls) =
        block_on(guest.call_async_until::<(), ()>("spin", (), &deadline)).unwrap();
    assert!(matches!(result, Err(Error::Cancelled { .. })));
    assert_eq!((polls, guest.call::<(), i64>("count", ())?), (1, before));
    flag.reset();
    // A wall-clock deadline.
    let deadline = Deadline::after(Duration::from_millis(30));
    let (result, _) = block_on(guest.call_async_until::<(), ()>("spin", (), &deadline)).unwrap();
    assert!(
        matches!(result, Err(Error::DeadlineExceeded { .. })),
        "{result:?}"
    );
    assert!(guest.call::<(), i64>("count", ())? > before);
    Ok(())
}

#[test]
fn a_fuel_budget_ends_an_async_call_with_an_out_of_fuel_trap() -> linmem::Result<()> {
    let module = metered();
    let mut guest = builder(&module, 0)
        .limits(Limits::new().fuel(1_000_000))
        .instantiate()?;
    let (result, polls) = block_on(guest.call_async::<(), ()>("spin", ())).unwrap();
    assert_eq!(result.unwrap_err().trap_code(), Some(TrapCode::OutOfFuel));
    assert!(polls >= 10, "{polls} polls for 10 slices");
    assert!(guest.fuel()? < 100);
    // The same fuel as a plain call of the same work, plus a few units per
    // slice (wasmi charges a block again when it resumes inside it). The
    // first call pays for translating `sum`: make it before measuring.
    let n = 100_000;
    guest.set_fuel(10_000_000)?;
    guest.call::<i64, i64>("sum", 1)?;
    guest.set_fuel(10_000_000)?;
    guest.call::<i64, i64>("sum", n)?;
    let plain = 10_000_000 - guest.fuel()?;
    guest.set_fuel(10_000_000)?;
    let (result, polls) = block_on(guest.call_async::<i64, i64>("sum", n)).unwrap();
    assert_eq!(result?, sum_to(n));
    let sliced = 10_000_000 - guest.fuel()?;
    assert!(
        (plain..=plain + 10 * polls).contains(&sliced),
        "plain {plain}, async {sliced} in {polls} polls"
    );
    Ok(())
}

#[test]
fn a_dropped_call_leaves_the_guest_usable_with_what_it_wrote() -> linmem::Result<()> {
    let module = metered();
    let mut guest = builder(&module, 0)
        .limits(Limits::new().fuel(50_000_000))
        .instantiate()?;
    {
        let deadline = Deadline::none().fuel_slice(10_000);
        let mut call = pin!(guest.call_async_until::<(), ()>("spin", (), &deadline));
        for _ in 0..10 {
            assert!(poll_once(call.as_mut()).is_pending());
        }
    } // dropped mid-call
    // The counter holds what the guest had counted: about 10 slices' worth.
    let count = guest.call::<(), i64>("count", ())?;
    assert!(count > 1_000, "{count}");
    // The fuel it used is spent; the rest is back in the budget (none lost
    // with the dropped slice's reserve).
    let fuel = guest.fuel()?;
    assert!(
        fuel < 50_000_000 && fuel > 50_000_000 - 11 * 10_000,
        "{fuel}"
    );
    // The next calls start afresh, sync and async.
    assert_eq!(guest.call::<i64, i64>("sum", 10)?, 55);
    let (result, _) = block_on(guest.call_async::<i32, i32>("fetch_n", 2)).unwrap();
    assert_eq!(result?, 8);
    Ok(())
}

#[test]
fn a_call_dropped_inside_an_async_host_function_leaves_the_guest_usable() -> linmem::Result<()> {
    let module = metered();
    // The host function writes half its answer, then waits forever.
    let mut guest = module
        .guest_with(Counts::default())
        .host_func_async("env", "fetch", |mut cx, (ptr, _len): (u32, u32)| {
            Box::pin(async move {
                cx.view_mut(|mut view| view.write_bytes(ptr, b"PI"))?;
                core::future::pending::<()>().await;
                Ok(0)
            })
        })?
        .host_func("env", "fetch_sync", fetch_sync)?
        .instantiate()?;
    {
        let mut call = pin!(guest.call_async::<i32, i32>("fetch", 4));
        for _ in 0..5 {
            assert!(poll_once(call.as_mut()).is_pending());
        }
    } // dropped while the host function waits
    // Memory holds what the host function wrote before its last await.
    assert_eq!(guest.view().bytes(64, 4)?, b"PIng");
    // The guest is usable; a sync call into the async import still gets the
    // typed error (the dropped call left no async state behind).
    assert_eq!(guest.call::<i64, i64>("sum", 10)?, 55);
    assert!(matches!(
        guest.call::<i32, i32>("fetch", 4),
        Err(Error::AsyncHostFuncInSyncCall { .. })
    ));
    let (result, _) = block_on(guest.call_async::<i32, i32>("fetch_sync_n", 1)).unwrap();
    assert_eq!(result?, 4);
    assert_eq!(guest.view().bytes(64, 4)?, b"gnIP");
    Ok(())
}

#[test]
fn a_handle_from_another_guest_is_refused() -> linmem::Result<()> {
    let module = metered();
    let mut first = guest(&module, 0);
    let mut second = guest(&module, 0);
    let sum = first.export_func::<i64, i64>("sum")?;
    let (result, _) = block_on(sum.call_async(&mut second, 3)).unwrap();
    assert!(matches!(result, Err(Error::ForeignHandle { .. })));
    let (result, _) = block_on(sum.call_async(&mut first, 3)).unwrap();
    assert_eq!(result?, 6);
    Ok(())
}

#[test]
fn the_executor_detects_a_future_that_never_wakes() {
    // The test executor itself: a pending future without a wake-up is
    // reported, so the tests above would catch a lost wake-up.
    let result = block_on(core::future::pending::<()>());
    assert_eq!(result.unwrap_err(), Stalled { pending: 1 });
}

#[test]
fn call_futures_are_send_when_the_host_data_is() {
    fn assert_send<F: Future + Send>(_: &F) {}
    let module = metered();
    let mut guest = guest(&module, 0);
    let sum = guest.export_func::<i64, i64>("sum").unwrap();
    assert_send(&sum.call_async(&mut guest, 1));
    assert_send(&guest.call_async::<i32, i32>("fetch", 4));
    let deadline = Deadline::none();
    assert_send(&guest.call_async_until::<i32, i32>("fetch", 4, &deadline));
}

#[test]
fn a_re_exported_async_import_called_directly_fails_cleanly() -> linmem::Result<()> {
    let module = Module::new(
        r#"(module (import "env" "wait" (func $wait (result i32)))
            (memory (export "memory") 1) (export "wait" (func $wait)))"#,
    )?;
    let mut guest = module
        .guest()
        .host_func_async("env", "wait", |_cx, (): ()| Box::pin(async { Ok(1i32) }))?
        .instantiate()?;
    let (result, polls) = block_on(guest.call_async::<(), i32>("wait", ())).unwrap();
    assert_eq!(polls, 1);
    let err = result.unwrap_err();
    assert!(err.to_string().contains("wait"), "{err}");
    assert!(matches!(
        guest.call::<(), i32>("wait", ()),
        Err(Error::AsyncHostFuncInSyncCall { .. })
    ));
    Ok(())
}
