//! The no-JIT claim, proven under the kernel's W^X enforcement: linmem runs
//! its guests in a process that may not create executable memory.
//!
//! The test starts itself again as a child under Linux's MDWE
//! (`prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN)`, set before `execve`), then
//! under MDWE plus a seccomp filter that refuses every new executable
//! mapping (tests/support/no_exec.rs says what each refuses). Each child first
//! proves executable memory is refused, then runs the reference round trip,
//! a grow, an AssemblyScript guest, a C guest, a host function, a fuel budget
//! and a deadline, asserting every answer, and reports each to the parent.
//! A third child without either is the control. On a kernel without
//! PR_SET_MDWE the test says so on stderr and is skipped (set
//! `LINMEM_REQUIRE_MDWE=1` to make that a failure, as .ci/run does).
//!
//! `cargo test --test no_jit -- --nocapture` shows the children's reports.
#![cfg(all(target_os = "linux", feature = "wat"))]

#[path = "support/no_exec.rs"]
mod no_exec;

use linmem::{
    Allocator, Deadline, Error, Guest, GuestPtr, GuestSlice, HostContext, Limits, Module, TrapCode,
};
use no_exec::{Lockdown, report};
use std::time::{Duration, Instant};

/// This test's name, for the child's filter.
const TEST: &str = "linmem_runs_where_executable_memory_is_refused";

/// What the child runs, by the key it reports each under.
const WORKLOADS: [&str; 7] = [
    "round trip",
    "grow",
    "assemblyscript",
    "c",
    "host function",
    "fuel",
    "deadline",
];

#[test]
fn linmem_runs_where_executable_memory_is_refused() {
    if let Some(lockdown) = no_exec::child_lockdown() {
        if no_exec::enter(lockdown) {
            workloads().expect("every workload runs");
            report("done", WORKLOADS.len());
        }
        return;
    }
    if !no_exec::mdwe_available(TEST) {
        return;
    }
    for lockdown in Lockdown::ALL {
        let child = no_exec::run_child(TEST, lockdown, &[]);
        child.assert_success();
        if lockdown == Lockdown::MdweSeccomp && child.report("seccomp").starts_with("unavailable") {
            let message = format!(
                "SKIPPED {TEST} under MDWE + seccomp: the filter could not be installed: {}",
                child.report("seccomp")
            );
            assert!(!no_exec::required(), "{message}");
            no_exec::notice(&message);
            continue;
        }
        if lockdown == Lockdown::None {
            // The control: executable memory is normally allowed. Where the
            // environment already refuses it (a parent under MDWE, systemd's
            // MemoryDenyWriteExecute), the control proves nothing; say so.
            let refused: Vec<_> = no_exec::PROBES
                .into_iter()
                .filter(|probe| child.report(probe) != "allowed")
                .collect();
            if !refused.is_empty() {
                no_exec::notice(&format!(
                    "NOTE {TEST}: this environment refuses executable memory already \
                     ({refused:?}; {}), so the control run shows no difference",
                    child.report("mdwe")
                ));
            }
        } else {
            assert_eq!(child.report("mdwe"), "PR_GET_MDWE = 1");
        }
        for probe in no_exec::PROBES
            .into_iter()
            .filter(|_| lockdown != Lockdown::None)
        {
            assert_eq!(
                child.report(probe),
                no_exec::expected_probe(lockdown, probe).to_string(),
                "{probe} under {lockdown:?}\n{child}"
            );
        }
        for workload in WORKLOADS {
            assert!(
                child.report(workload).starts_with("ok"),
                "{workload} under {lockdown:?}\n{child}"
            );
        }
        assert_eq!(child.report("done"), WORKLOADS.len().to_string());
        println!(
            "{TEST} under {}: {} probes and {} workloads as expected",
            lockdown.name(),
            no_exec::PROBES.len(),
            WORKLOADS.len()
        );
        for (key, value) in &child.reports {
            println!("  {key}: {value}");
        }
    }
}

const AS_STRINGS: &[u8] = include_bytes!("../fixtures/assemblyscript/strings.wasm");
const C_ALLOC: &[u8] = include_bytes!("../fixtures/c/alloc.wasm");
const SPIN: &str = include_str!("../fixtures/nasty/spin.wat");

/// AssemblyScript's class id of `String`.
const STRING_ID: i32 = 2;

fn addr(ptr: i32) -> u64 {
    u64::from(ptr.cast_unsigned())
}

/// Everything the child runs, each asserted and then reported.
fn workloads() -> linmem::Result<()> {
    // The reference round trip: the start function grew memory and stored
    // 24; the host reads it, writes 25, and the guest reads that back.
    let mut guest = Guest::linear_memory()?;
    let byte0: u8 = guest.view().read(0)?;
    assert_eq!(byte0, 24);
    guest.view_mut().write(1, 25u8)?;
    let returned: i32 = guest.call("readWasmMemoryAndReturnIndexOne", ())?;
    assert_eq!(returned, 25);
    report(
        "round trip",
        format!("ok: memory[0] = {byte0}, readWasmMemoryAndReturnIndexOne() = {returned}"),
    );

    // A grow keeps the bytes and adds a zeroed page.
    let before = guest.grow(1)?;
    let view = guest.view();
    assert_eq!((before, view.pages()), (1, 2));
    assert_eq!(view.bytes(0, 2)?, [24, 25]);
    assert_eq!(view.read::<u8>(65_536)?, 0);
    guest.view_mut().write(131_071, 7u8)?;
    assert_eq!(guest.view().read::<u8>(131_071)?, 7);
    assert_eq!(
        guest.call::<(), i32>("readWasmMemoryAndReturnIndexOne", ())?,
        25
    );
    report("grow", format!("ok: {before} -> 2 pages, bytes kept"));

    // AssemblyScript (fixtures/assemblyscript/strings.ts): strings through
    // memory, and env.abort from a guest exception.
    let module = Module::new(AS_STRINGS)?;
    let mut guest = module.guest().assemblyscript_abort()?.instantiate()?;
    let text = "Wörld 🌍";
    let len = i32::try_from(text.encode_utf16().count() * 2).unwrap();
    let name: i32 = guest.call("__new", (len, STRING_ID))?;
    guest.view_mut().write_utf16(addr(name), text)?;
    guest.call::<i32, i32>("__pin", name)?;
    let greeting: i32 = guest.call("greet", name)?;
    let greeting = guest.view().assemblyscript_string(addr(greeting))?;
    assert_eq!(greeting, "Hello, Wörld 🌍!");
    let aborted = guest.call::<(i32, i32), i32>("repeat", (name, -1));
    assert!(
        matches!(aborted, Err(Error::HostFunc { .. })),
        "{aborted:?}"
    );
    assert_eq!(guest.call::<i32, i32>("utf8Length", name)?, 11);
    report(
        "assemblyscript",
        format!("ok: greet = {greeting:?}, abort caught"),
    );

    // C (fixtures/c/alloc.c): the guest's own allocator, buffers in and out.
    let mut guest = Guest::new(C_ALLOC)?;
    let allocator = Allocator::detect(&guest)?;
    let a = allocator.alloc_bytes(&mut guest, b"hello")?;
    let b = allocator.alloc_bytes(&mut guest, b", wasm")?;
    let out_len = allocator.alloc_slice(&mut guest, &[0u32])?;
    let (a_ptr, a_len) = a.to_i32_pair()?;
    let (b_ptr, b_len) = b.to_i32_pair()?;
    let joined: i32 = guest.call(
        "concat",
        (a_ptr, a_len, b_ptr, b_len, out_len.ptr().to_i32()?),
    )?;
    let len = guest.view().load(out_len.ptr())?;
    let joined = GuestSlice::<u8>::new(GuestPtr::from_i32(joined), u64::from(len));
    let text = allocator.take_string(&mut guest, joined)?;
    assert_eq!(text, "hello, wasm");
    let big = allocator.alloc(&mut guest, 200_000, 8)?;
    assert!(guest.view().pages() >= 4, "alloc grew memory for {big:?}");
    report("c", format!("ok: concat = {text:?}, alloc grew memory"));

    // A host function the guest calls, reading and writing guest memory.
    let wat = r#"(module
      (import "env" "checksum" (func $checksum (param i32 i32) (result i32)))
      (memory (export "memory") 1)
      (data (i32.const 16) "no jit here")
      (func (export "run") (result i32) (call $checksum (i32.const 16) (i32.const 11))))"#;
    let mut guest = Module::new(wat)?
        .guest_with(0u32)
        .host_func(
            "env",
            "checksum",
            |mut cx: HostContext<'_, u32>, ptr: u32, len: u32| {
                let sum = cx
                    .view()?
                    .bytes(ptr, len)?
                    .iter()
                    .map(|&byte| u32::from(byte))
                    .sum::<u32>();
                cx.view_mut()?.write(0, sum)?;
                *cx.data_mut() += 1;
                Ok(sum)
            },
        )?
        .instantiate()?;
    let expected: u32 = b"no jit here".iter().map(|&byte| u32::from(byte)).sum();
    let sum: i32 = guest.call("run", ())?;
    assert_eq!(sum.cast_unsigned(), expected);
    assert_eq!(guest.view().read::<u32>(0)?, expected);
    assert_eq!(*guest.data(), 1);
    report("host function", format!("ok: checksum = {sum}"));

    // Fuel: an endless loop stops when its budget is spent.
    let spin = Module::with_engine(&linmem::metered_engine(), SPIN)?;
    let mut guest = spin
        .guest()
        .limits(Limits::new().fuel(50_000))
        .instantiate()?;
    let err = guest.call::<(), ()>("spin", ()).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::OutOfFuel), "{err:?}");
    let count = guest.view().read::<u64>(0)?;
    assert!(count > 1_000, "{count} iterations");
    report("fuel", format!("ok: out of fuel after {count} iterations"));

    // A deadline stops the endless loop, and the guest stays usable.
    let mut guest = spin.guest().limits(Limits::new()).instantiate()?;
    let timeout = Duration::from_millis(50);
    let start = Instant::now();
    let err = guest
        .call_until::<(), ()>("spin", (), &Deadline::after(timeout))
        .unwrap_err();
    let elapsed = start.elapsed();
    assert!(matches!(err, Error::DeadlineExceeded { .. }), "{err:?}");
    assert!(elapsed >= timeout);
    assert_eq!(guest.call::<(), i32>("answer", ())?, 42);
    report("deadline", "ok: stopped at its deadline, guest usable");
    Ok(())
}
