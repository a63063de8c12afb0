//! Issue 10: nothing a guest does may abort, panic or hang the host. One
//! regression test per class of failure found; every case that could abort
//! the process runs in a child process (this test binary re-invoking itself
//! with `LINMEM_CHILD` set), so that a regression is a failed test, not a
//! crashed test run.
#![cfg(feature = "wat")]

use linmem::wasmi::{Extern, Val};
use linmem::{
    CancelFlag, Deadline, Error, GuestPtr, GuestSlice, HostContext, Limits, Module, TrapCode,
};
use std::process::Command;
use std::time::{Duration, Instant};

/// Runs the test `name` in a child process (unless this is that child) and
/// checks that it passed there. Returns `true` in the child, which then
/// runs the case.
fn in_child(name: &str) -> bool {
    if std::env::var("LINMEM_CHILD").as_deref() == Ok(name) {
        return true;
    }
    let output = Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env("LINMEM_CHILD", name)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "the child running `{name}` failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    false
}

/// Declares a test whose body runs in a child process.
macro_rules! child_test {
    ($(#[$attr:meta])* fn $name:ident() $body:block) => {
        $(#[$attr])*
        #[test]
        fn $name() {
            if in_child(stringify!($name)) $body
        }
    };
}

// ---- 1. memory64 maxima that overflow wasmi_core -------------------------

const MEMORY64_2_POW_48: &str = r#"(module
    (memory (export "memory") i64 0 0x1000000000000)
    (func (export "grow") (result i64) (memory.grow (i64.const 1))))"#;

child_test! {
    /// wasmi_core computes a memory64 maximum of 2^48 pages as 2^64 bytes in
    /// a `u64` and panics inside `memory.grow` (process abort); linmem
    /// refuses the module before wasmi sees it.
    fn memory64_maximum_of_2_pow_48_pages_is_refused() {
        for engine in [linmem::Engine::default(), linmem::metered_engine()] {
            match Module::with_engine(&engine, MEMORY64_2_POW_48) {
                Err(Error::Refused { reason }) => {
                    assert!(reason.contains("281474976710656 pages"), "{reason}");
                }
                other => panic!("{other:?}"),
            }
        }
        // An imported memory of that type too.
        let imported = r#"(module (import "env" "memory" (memory i64 0 0x1000000000000)))"#;
        assert!(matches!(Module::new(imported), Err(Error::Refused { .. })));
        // 2^48 - 1 pages: accepted, and both grows behave, under limits.
        let module = Module::new(
            r#"(module (memory (export "memory") i64 0 0xffffffffffff)
                (func (export "grow") (param i64) (result i64) (memory.grow (local.get 0))))"#,
        )
        .unwrap();
        let mut guest = module
            .guest()
            .limits(Limits::untrusted())
            .instantiate()
            .unwrap();
        assert_eq!(guest.call::<i64, i64>("grow", 1).unwrap(), 0);
        assert_eq!(guest.grow(1).unwrap(), 1);
        assert_eq!(guest.call::<i64, i64>("grow", i64::MAX).unwrap(), -1);
        assert!(guest.grow(u64::MAX).is_err());
        assert!(guest.grow(1 << 40).is_err());
        assert_eq!(guest.view().pages(), 2);
    }
}

// ---- 2. host functions that panic ----------------------------------------

child_test! {
    /// A panicking host closure used to abort the process ("panic in a
    /// function that cannot unwind"); now the call fails with
    /// `Error::HostPanic` inside `Error::HostFunc`, and the guest stays
    /// usable, with the fuel budget and the nesting depth intact.
    fn host_function_panic_is_an_error_and_the_guest_stays_usable() {
        let module = Module::with_engine(
            &linmem::metered_engine(),
            r#"(module
                (import "env" "boom" (func $boom (param i32)))
                (memory (export "memory") 1)
                (func (export "run") (param i32) (result i32)
                    (i32.store8 (i32.const 0) (i32.const 7))
                    (call $boom (local.get 0))
                    (i32.const 42)))"#,
        )
        .unwrap();
        let mut guest = module
            .guest()
            .limits(Limits::new().fuel(10_000_000).max_host_call_depth(4))
            .host_func("env", "boom", |_: HostContext<'_, ()>, code: i32| {
                assert!(code == 0, "boom {code}");
                Ok(())
            })
            .unwrap()
            .instantiate()
            .unwrap();
        // More panics than the nesting limit: the depth is restored each time.
        for round in 0..20 {
            let err = guest.call::<i32, i32>("run", 1 + round).unwrap_err();
            match &err {
                Error::HostFunc { func, error: source } => {
                    assert_eq!(&**func, "run");
                    match &**source {
                        Error::HostPanic { func, message } => {
                            assert_eq!(&**func, "env.boom");
                            assert_eq!(message, &format!("boom {}", 1 + round));
                        }
                        other => panic!("{other:?}"),
                    }
                }
                other => panic!("{other:?}"),
            }
            assert!(err.to_string().contains("a host function failed during `run`"));
            assert_eq!(guest.view().read::<u8>(0).unwrap(), 7);
            assert_eq!(guest.call::<i32, i32>("run", 0).unwrap(), 42);
        }
        // Inside a deadline call: the fuel kept back between slices survives.
        let before = guest.fuel().unwrap();
        let deadline = Deadline::none().fuel_slice(10);
        let err = guest.call_until::<i32, i32>("run", 3, &deadline).unwrap_err();
        assert!(matches!(
            err,
            Error::HostFunc { error: ref source, .. } if matches!(**source, Error::HostPanic { .. })
        ));
        let after = guest.fuel().unwrap();
        assert!(before - after < 100, "fuel lost: {before} -> {after}");
        assert_eq!(guest.call_until::<i32, i32>("run", 0, &deadline).unwrap(), 42);
    }
}

child_test! {
    /// A panic with a non-text payload, in a start function's host call.
    fn host_panic_in_the_start_function() {
        let module = Module::new(
            r#"(module (import "env" "boom" (func $boom))
                (memory (export "memory") 1) (start $boom))"#,
        )
        .unwrap();
        let err = module
            .guest()
            .host_func("env", "boom", |_: HostContext<'_, ()>| -> linmem::Result<()> {
                std::panic::panic_any(17_u32)
            })
            .unwrap()
            .instantiate()
            .unwrap_err();
        match err {
            Error::HostFunc { func, error: source } => {
                assert_eq!(&*func, "(start)");
                assert!(matches!(*source, Error::HostPanic { ref message, .. } if message.is_empty()));
            }
            other => panic!("{other:?}"),
        }
    }
}

// ---- 3. host -> guest re-entry -------------------------------------------

/// A guest whose export `down` calls the host's `env.down`, which calls
/// `down` again through the raw wasmi caller: unbounded re-entry. Returns
/// the error and the deepest level reached.
fn reenter(limits: Limits) -> (Error, u32) {
    let module = Module::new(
        r#"(module
            (import "env" "down" (func $down (param i32) (result i32)))
            (memory (export "memory") 1)
            (func (export "down") (param i32) (result i32)
                (call $down (i32.add (local.get 0) (i32.const 1)))))"#,
    )
    .unwrap();
    let mut guest = module
        .guest_with(0u32)
        .limits(limits)
        .host_func(
            "env",
            "down",
            |mut cx: HostContext<'_, u32>, level: i32| -> linmem::Result<i32> {
                let level_u = u32::try_from(level).unwrap();
                let deepest = cx.data_mut();
                *deepest = (*deepest).max(level_u);
                let caller = cx.as_wasmi_caller();
                let Some(Extern::Func(down)) = caller.get_export("down") else {
                    unreachable!("the guest exports `down`");
                };
                let mut result = [Val::I32(0)];
                down.call(&mut *caller, &[Val::I32(level)], &mut result)
                    .map_err(|error| Error::custom(std::io::Error::other(error.to_string())))?;
                Ok(result[0].i32().unwrap())
            },
        )
        .unwrap()
        .instantiate()
        .unwrap();
    let err = guest.call::<i32, i32>("down", 0).unwrap_err();
    // The guest stays usable: depth back at 0, so a shallow call works.
    let deepest = *guest.data();
    (err, deepest)
}

child_test! {
    /// Unbounded host -> guest -> host re-entry used to overflow the host
    /// stack at a few thousand levels (abort); now the host call past
    /// `Limits::max_host_call_depth` is refused. Run on a 2 MiB thread (a
    /// spawned thread's default) with the default limit.
    fn reentry_is_bounded_on_a_2_mib_thread() {
        let (err, deepest) = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(|| reenter(Limits::new()))
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(deepest, Limits::DEFAULT_HOST_CALL_DEPTH);
        let text = format!("{err:?}");
        assert!(text.contains("ReentryLimit") || text.contains("nested host calls"), "{text}");
        // A limit of 1: the first host call runs, its nested one is refused.
        let (_, deepest) = reenter(Limits::new().max_host_call_depth(1));
        assert_eq!(deepest, 1);
        // A limit of 0 refuses every host call, before it runs.
        let (err, deepest) = reenter(Limits::new().max_host_call_depth(0));
        assert_eq!(deepest, 0);
        match err {
            Error::HostFunc { error: source, .. } => {
                assert!(matches!(*source, Error::ReentryLimit { depth: 0, ref func } if &**func == "env.down"));
            }
            other => panic!("{other:?}"),
        }
    }
}

// ---- 4. the wasmi translator's unreachable!() -----------------------------

/// The minimal trigger of wasmi 2.0's translator `unreachable!()` (issue 10).
const TRANSLATOR_BUG: &str = r#"(module (memory (export "memory") 1)
    (func (export "f") (param i32 i32)
        (local.set 0 (i32.add (local.get 0) (local.get 1)))
        (i32.store8 offset=70000 (local.get 0) (local.get 0))))"#;

child_test! {
    /// Lazily translated, this aborts the process when first reached from a
    /// guest-to-guest call, and spins forever on every later call after a
    /// caught panic. linmem's engines compile eagerly inside
    /// `catch_unwind`: the module is refused with `Error::TranslatorPanic`
    /// and the engine keeps serving other modules and threads.
    fn translator_panic_is_a_compile_error_and_the_engine_stays_usable() {
        let engine = linmem::metered_engine();
        for _ in 0..50 {
            for engine in [&engine, &linmem::Engine::new(&linmem::contained_config())] {
                match Module::with_engine(engine, TRANSLATOR_BUG) {
                    Err(Error::TranslatorPanic { message }) => {
                        assert!(message.contains("unreachable"), "{message}");
                    }
                    other => panic!("{other:?}"),
                }
            }
            assert!(matches!(Module::new(TRANSLATOR_BUG), Err(Error::TranslatorPanic { .. })));
        }
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let engine = engine.clone();
                std::thread::spawn(move || {
                    let module = Module::with_engine(&engine, linmem::LINEAR_MEMORY_WAT).unwrap();
                    let mut guest = module.instantiate().unwrap();
                    guest.view_mut().write(1, 25u8).unwrap();
                    guest.call::<(), i32>("readWasmMemoryAndReturnIndexOne", ()).unwrap()
                })
            })
            .collect();
        for thread in threads {
            assert_eq!(thread.join().unwrap(), 25);
        }
        // The fuzzer's module (SECURITY.md fuzz finding 3), reached through
        // a guest-to-guest call in the original: refused the same way.
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/nasty/fuzz/wasmi_store_unreachable.wasm");
        let wasm = std::fs::read(path).unwrap();
        assert!(matches!(
            Module::with_engine(&engine, &wasm),
            Err(Error::TranslatorPanic { .. })
        ));
    }
}

// ---- 5. nested calls inside call_until ------------------------------------

#[test]
fn nested_call_inside_call_until_has_the_whole_budget() {
    let module = Module::with_engine(
        &linmem::metered_engine(),
        r#"(module
            (import "env" "work" (func $work (result i32)))
            (memory (export "memory") 1)
            (func (export "count") (param i32) (result i32)
                (loop (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
                      (br_if 0 (local.get 0)))
                (i32.const 7))
            (func (export "run") (result i32) (call $work)))"#,
    )
    .unwrap();
    let mut guest = module
        .guest()
        .limits(Limits::new().fuel(10_000_000))
        .host_func(
            "env",
            "work",
            |mut cx: HostContext<'_, ()>| -> linmem::Result<i32> {
                let caller = cx.as_wasmi_caller();
                let Some(Extern::Func(count)) = caller.get_export("count") else {
                    unreachable!("the guest exports `count`");
                };
                let mut result = [Val::I32(0)];
                // 100 000 iterations: far more than one slice of 1 000 units.
                count
                    .call(&mut *caller, &[Val::I32(100_000)], &mut result)
                    .map_err(|error| Error::custom(std::io::Error::other(error.to_string())))?;
                Ok(result[0].i32().unwrap())
            },
        )
        .unwrap()
        .instantiate()
        .unwrap();
    let plain_before = guest.fuel().unwrap();
    assert_eq!(guest.call::<(), i32>("run", ()).unwrap(), 7);
    let plain = plain_before - guest.fuel().unwrap();
    assert!(plain > 100_000, "the nested loop costs {plain}");
    let before = guest.fuel().unwrap();
    let deadline = Deadline::none().fuel_slice(1_000);
    assert_eq!(
        guest.call_until::<(), i32>("run", (), &deadline).unwrap(),
        7
    );
    let used = before - guest.fuel().unwrap();
    assert!(
        used.abs_diff(plain) < 100,
        "plain call {plain}, deadline call {used}"
    );
    // The budget still bounds the nested call.
    guest.set_fuel(50_000).unwrap();
    let err = guest
        .call_until::<(), i32>("run", (), &deadline)
        .unwrap_err();
    assert!(format!("{err:?}").contains("all fuel consumed"), "{err:?}");
}

// ---- 6. bounded instantiation --------------------------------------------

const SPINNING_START: &str = r#"(module (memory (export "memory") 1)
    (func $spin (loop br 0)) (start $spin))"#;

/// `instantiate` (of a module whose start function spins) fails with
/// `DeadlineExceeded` for the function `(start)` within 5 s of a 50 ms
/// deadline, and with `Cancelled` under a flag already set.
fn assert_start_stops<T: std::fmt::Debug>(
    mut instantiate: impl FnMut(&Deadline) -> linmem::Result<T>,
) {
    let started = Instant::now();
    let err = instantiate(&Deadline::after(Duration::from_millis(50))).unwrap_err();
    assert!(
        matches!(err, Error::DeadlineExceeded { ref func } if &**func == "(start)"),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    let flag = CancelFlag::new();
    flag.cancel();
    let err = instantiate(&Deadline::cancel_on(&flag)).unwrap_err();
    assert!(matches!(err, Error::Cancelled { .. }), "{err:?}");
}

#[test]
fn start_function_stops_at_a_deadline_or_a_flag() {
    let module = Module::with_engine(&linmem::metered_engine(), SPINNING_START).unwrap();
    assert_eq!(module.start_export(), Some("linmem:start"));
    assert_start_stops(|deadline| module.guest().instantiate_until(deadline));
    // A fuel budget bounds it too, with or without a deadline.
    let err = module.guest().fuel(100_000).instantiate().unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::OutOfFuel));
    // Without a start function, instantiate_until needs no metering.
    let plain = Module::new(r#"(module (memory (export "memory") 1))"#).unwrap();
    assert_eq!(plain.start_export(), None);
    plain.guest().instantiate_until(&Deadline::none()).unwrap();
}

/// An instance added to a running guest has its start function bounded the
/// same way, and a stopped one leaves the guest as it was.
#[test]
fn an_added_instance_start_function_stops_at_a_deadline() {
    let engine = linmem::metered_engine();
    let first = Module::with_engine(
        &engine,
        r#"(module (memory (export "memory") 1)
            (func (export "answer") (result i32) (i32.const 42)))"#,
    )
    .unwrap();
    let spinner = Module::with_engine(&engine, SPINNING_START).unwrap();
    let mut guest = first.instantiate().unwrap();
    assert_start_stops(|deadline| guest.add_instance_until(&spinner, deadline));
    assert_eq!(guest.call::<(), i32>("answer", ()).unwrap(), 42);
    // A module without a start function is added under any deadline.
    let second = guest.add_instance_until(&first, &Deadline::none()).unwrap();
    let answer = guest.export_func_in::<(), i32>(second, "answer").unwrap();
    assert_eq!(answer.call(&mut guest, ()).unwrap(), 42);
}

#[test]
fn start_function_export_keeps_the_module_behaviour() {
    // The start function writes memory and calls an import; a module with
    // its own `linmem:start` export keeps it.
    let module = Module::new(
        r#"(module
            (import "env" "note" (func $note (param i32)))
            (memory (export "memory") 1)
            (func (export "linmem:start") (result i32) (i32.const 5))
            (func $init (i32.store8 (i32.const 3) (i32.const 9)) (call $note (i32.const 4)))
            (start $init))"#,
    )
    .unwrap();
    assert_eq!(module.start_export(), Some("linmem:start_"));
    let mut guest = module
        .guest_with(0)
        .host_func("env", "note", |mut cx: HostContext<'_, i32>, n: i32| {
            assert_eq!(cx.view()?.read::<u8>(3)?, 9);
            *cx.data_mut() = n;
            Ok(())
        })
        .unwrap()
        .instantiate()
        .unwrap();
    assert_eq!(*guest.data(), 4);
    assert_eq!(guest.call::<(), i32>("linmem:start", ()).unwrap(), 5);
    // An imported function as the start function.
    let module = Module::new(
        r#"(module (import "env" "init" (func $init)) (memory (export "memory") 1) (start $init))"#,
    )
    .unwrap();
    let guest = module
        .guest_with(false)
        .host_func("env", "init", |mut cx: HostContext<'_, bool>| {
            *cx.data_mut() = true;
            Ok(())
        })
        .unwrap()
        .instantiate()
        .unwrap();
    assert!(*guest.data());
}

#[test]
fn fuel_zero_with_a_start_function_is_an_out_of_fuel_trap() {
    let module = Module::with_engine(
        &linmem::metered_engine(),
        r#"(module (memory (export "memory") 1) (func $s) (start $s))"#,
    )
    .unwrap();
    let err = module.guest().fuel(0).instantiate().unwrap_err();
    assert!(
        matches!(err, Error::Trap { ref func, code: TrapCode::OutOfFuel, .. } if &**func == "(start)"),
        "{err:?}"
    );
}

// ---- 7. huge initial memory ---------------------------------------------

child_test! {
    /// A 20-byte module asking for 65 536 initial pages zero-filled 4 GiB on
    /// a guest without limits; `Limits::untrusted()` refuses it up front.
    fn huge_initial_memory_is_refused_by_the_untrusted_limits() {
        let module = Module::new(r#"(module (memory (export "memory") 65536))"#).unwrap();
        let started = Instant::now();
        let err = module.guest().limits(Limits::untrusted()).instantiate().unwrap_err();
        assert!(matches!(err, Error::LimitExceeded { .. }), "{err:?}");
        assert!(started.elapsed() < Duration::from_secs(1));
        let tables = Module::new(r#"(module (table 4000000000 funcref))"#).unwrap();
        let err = tables.guest().limits(Limits::untrusted()).instantiate().unwrap_err();
        assert!(matches!(err, Error::LimitExceeded { .. }), "{err:?}");
    }
}

// ---- 8. host functions called from an added instance ---------------------

#[test]
fn host_function_sees_the_calling_instance_memory() {
    let engine = linmem::metered_engine();
    let source = |byte: u8| {
        format!(
            r#"(module (import "env" "peek" (func $peek (result i32)))
                (memory (export "memory") 1) (data (i32.const 0) "\{byte:02x}")
                (func (export "peek") (result i32) (call $peek)))"#
        )
    };
    let main = Module::with_engine(&engine, source(1)).unwrap();
    let second = Module::with_engine(&engine, source(2)).unwrap();
    let mut guest = main
        .guest()
        .host_func("env", "peek", |cx: HostContext<'_, ()>| {
            Ok(i32::from(cx.view()?.read::<u8>(0)?))
        })
        .unwrap()
        .instantiate()
        .unwrap();
    let added = guest.add_instance(&second).unwrap();
    assert_eq!(guest.call::<(), i32>("peek", ()).unwrap(), 1);
    let peek = guest.export_func_in::<(), i32>(added, "peek").unwrap();
    assert_eq!(peek.call(&mut guest, ()).unwrap(), 2);
    assert_eq!(guest.call::<(), i32>("peek", ()).unwrap(), 1);
    // An added instance without a memory export (and no host memory to
    // share): the host function gets an error, not the main memory.
    let bare = Module::with_engine(
        &engine,
        r#"(module (import "env" "peek" (func $peek (result i32)))
            (func (export "peek") (result i32) (call $peek)))"#,
    )
    .unwrap();
    let bare = guest.add_instance(&bare).unwrap();
    let err = guest
        .export_func_in::<(), i32>(bare, "peek")
        .unwrap()
        .call(&mut guest, ())
        .unwrap_err();
    assert!(
        matches!(err, Error::HostFunc { error: ref source, .. } if matches!(**source, Error::NoMemory)),
        "{err:?}"
    );
}

// ---- 9. the small ones ---------------------------------------------------

#[test]
fn zero_sized_elements_are_bounded_by_the_memory() {
    let guest = linmem::Guest::new(r#"(module (memory (export "memory") 1))"#).unwrap();
    let view = guest.view();
    let huge = GuestSlice::<[u8; 0]>::new(GuestPtr::new(0), u64::MAX);
    let started = Instant::now();
    assert!(matches!(
        view.load_vec(huge),
        Err(Error::OutOfBounds { .. })
    ));
    assert!(matches!(view.iter(huge), Err(Error::OutOfBounds { .. })));
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(
        view.load_vec(GuestSlice::<[u8; 0]>::new(GuestPtr::new(10), 100))
            .unwrap()
            .len(),
        100
    );
}

#[test]
fn deadline_slices_are_capped() {
    assert_eq!(
        Deadline::none().fuel_slice(u64::MAX).slice(),
        Deadline::MAX_SLICE
    );
    assert_eq!(Deadline::none().fuel_slice(0).slice(), 1);
}

/// Host stack used per level of host -> guest -> host nesting, measured from
/// the address of a local in the host function at each level. Prints the
/// figures (`--nocapture`) and checks that the default depth fits in half
/// of a spawned thread's 2 MiB stack.
#[test]
fn default_reentry_depth_fits_a_2_mib_stack() {
    let module = Module::new(
        r#"(module
            (import "env" "down" (func $down (param i32) (result i32)))
            (memory (export "memory") 1)
            (func (export "down") (param i32) (result i32)
                (call $down (i32.add (local.get 0) (i32.const 1)))))"#,
    )
    .unwrap();
    let levels = 32;
    let mut guest = module
        .guest_with(Vec::<usize>::new())
        .limits(Limits::new().max_host_call_depth(levels))
        .host_func(
            "env",
            "down",
            |mut cx: HostContext<'_, Vec<usize>>, level: i32| -> linmem::Result<i32> {
                let marker = 0u8;
                cx.data_mut().push(std::ptr::addr_of!(marker).addr());
                let caller = cx.as_wasmi_caller();
                let Some(Extern::Func(down)) = caller.get_export("down") else {
                    unreachable!("the guest exports `down`");
                };
                let mut result = [Val::I32(0)];
                let _ = down.call(&mut *caller, &[Val::I32(level)], &mut result);
                Ok(0)
            },
        )
        .unwrap()
        .instantiate()
        .unwrap();
    let _ = guest.call::<i32, i32>("down", 0);
    let marks = guest.data();
    assert_eq!(marks.len(), usize::try_from(levels).unwrap());
    let first = marks[0];
    let last = marks[marks.len() - 1];
    let per_level = first.abs_diff(last) / (marks.len() - 1);
    let default = usize::try_from(Limits::DEFAULT_HOST_CALL_DEPTH).unwrap();
    println!(
        "host stack per nesting level: {per_level} bytes ({} build); default depth {default} needs {} KiB",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        per_level * default / 1024
    );
    assert!(per_level > 0);
    assert!(per_level * default < 1 << 20, "{per_level} bytes per level");
}
