//! Hostile guests: stack exhaustion, and the guest's state after each kind
//! of failure (memory, globals and usability checked, not just the error).
#![cfg(feature = "wat")] // WAT text modules; tests/binary_only.rs covers builds without it

use linmem::{Error, Guest, Module, TrapCode};

fn nasty(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/fixtures/nasty/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn recursion_traps(guest: &mut Guest) -> linmem::Result<()> {
    let err = guest.call::<i32, i32>("recurse", 1).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::StackOverflow), "{err:?}");
    assert!(matches!(&err, Error::Trap { func, .. } if &**func == "recurse"));
    // The guest recorded its depth before each call: it got deep, and its
    // memory holds the last depth it wrote.
    let depth = guest.call::<(), i32>("depth", ())?;
    assert!(depth > 100, "depth {depth}");
    assert_eq!(guest.view().read::<i32>(0)?, depth);
    let err = guest.call::<i64, i64>("fat", 0).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::StackOverflow), "{err:?}");
    // Still usable, repeatedly.
    for _ in 0..3 {
        assert_eq!(
            guest
                .call::<i32, i32>("recurse", 1)
                .unwrap_err()
                .trap_code(),
            Some(TrapCode::StackOverflow)
        );
    }
    assert_eq!(guest.call::<(), i32>("depth", ())?, depth);
    Ok(())
}

#[test]
fn unbounded_recursion_is_a_stack_overflow_trap() -> linmem::Result<()> {
    let mut guest = Guest::new(nasty("recurse.wat"))?;
    recursion_traps(&mut guest)
}

/// A small host stack for guest work: 256 KiB in optimized builds. wasmi's
/// unoptimized executor has large frames: any call, even a trivial one,
/// needs 0.4 to 0.5 MiB of host stack in a debug build (measured: 384 KiB
/// overflows, 512 KiB does not), whatever the guest does, so debug test
/// runs use 768 KiB. Run `cargo test --release --test hostile` for 256 KiB.
const SMALL_STACK: usize = if cfg!(debug_assertions) { 768 } else { 256 } * 1024;

#[test]
fn unbounded_recursion_on_a_small_host_stack() {
    // wasmi keeps the guest's call stack on the heap: a thread with a small
    // stack survives compiling, instantiating and running the recursion,
    // and the host stack needed does not grow with the guest's depth.
    let module = Module::new(nasty("recurse.wat")).unwrap();
    let outcome = std::thread::Builder::new()
        .stack_size(SMALL_STACK)
        .spawn(move || -> linmem::Result<()> {
            let mut guest = module.instantiate()?;
            recursion_traps(&mut guest)?;
            let mut fresh = Guest::new(nasty("recurse.wat"))?;
            recursion_traps(&mut fresh)
        })
        .unwrap()
        .join();
    outcome.expect("the thread did not panic").unwrap();
}

#[test]
fn deep_nesting_compiles_and_runs_on_a_small_host_stack() {
    // 20 000 nested blocks in binary form (no text parser involved): wasmi's
    // validation and translation must not recurse on the host stack.
    let depth = 20_000usize;
    let mut body = vec![0x00]; // no locals
    body.extend(std::iter::repeat_n([0x02, 0x40], depth).flatten()); // block (empty type)
    body.extend(std::iter::repeat_n(0x0b, depth)); // end
    body.push(0x0b); // end of function
    let wasm = module_with_body(&body);
    std::thread::Builder::new()
        .stack_size(SMALL_STACK)
        .spawn(move || -> linmem::Result<()> {
            let mut guest = Module::new(&wasm)?.instantiate()?;
            guest.call::<(), ()>("f", ())
        })
        .unwrap()
        .join()
        .expect("no panic")
        .expect("wasmi accepts and runs 20 000 nested blocks");
}

/// A module with a memory export `memory` and one `() -> ()` function `f`
/// with the given body (locals and code).
fn module_with_body(body: &[u8]) -> Vec<u8> {
    fn leb(mut n: usize, out: &mut Vec<u8>) {
        loop {
            let byte = u8::try_from(n & 0x7f).unwrap();
            n >>= 7;
            if n == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }
    fn section(id: u8, content: &[u8], out: &mut Vec<u8>) {
        out.push(id);
        leb(content.len(), out);
        out.extend_from_slice(content);
    }
    let mut wasm = b"\0asm\x01\0\0\0".to_vec();
    section(1, &[1, 0x60, 0, 0], &mut wasm); // type () -> ()
    section(3, &[1, 0], &mut wasm); // one function of type 0
    section(5, &[1, 0, 1], &mut wasm); // memory min 1
    section(
        7,
        &[
            2, 1, b'f', 0, 0, 6, b'm', b'e', b'm', b'o', b'r', b'y', 2, 0,
        ],
        &mut wasm,
    ); // exports
    let mut code = vec![1];
    leb(body.len(), &mut code);
    code.extend_from_slice(body);
    section(10, &code, &mut wasm);
    wasm
}

const STATEFUL: &str = r#"(module
  (memory (export "memory") 1)
  (global $g (export "g") (mut i32) (i32.const 0))
  (func (export "get") (result i32) (global.get $g))
  ;; Writes 0xAA over [0, 8), sets g = 5, then traps.
  (func (export "write_then_trap")
    (memory.fill (i32.const 0) (i32.const 0xAA) (i32.const 8))
    (global.set $g (i32.const 5))
    unreachable)
  ;; An out-of-bounds store after a good one.
  (func (export "write_then_oob")
    (i32.store (i32.const 16) (i32.const 0x01020304))
    (i32.store (i32.const 65535) (i32.const 1)))
  (func (export "div") (param i32) (result i32) (i32.div_s (i32.const 1) (local.get 0))))"#;

#[test]
fn after_a_trap_memory_and_globals_are_as_the_guest_left_them() -> linmem::Result<()> {
    let mut guest = Guest::new(STATEFUL)?;
    guest.view_mut().write_bytes(100, b"host data")?;
    let err = guest.call::<(), ()>("write_then_trap", ()).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::UnreachableCodeReached));
    assert_eq!(
        guest.view().bytes(0, 9)?,
        &[0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0]
    );
    assert_eq!(guest.call::<(), i32>("get", ())?, 5);
    assert_eq!(guest.view().bytes(100, 9)?, b"host data");

    let err = guest.call::<(), ()>("write_then_oob", ()).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::MemoryOutOfBounds));
    assert_eq!(guest.view().read::<u32>(16)?, 0x01020304);
    // The out-of-bounds store wrote nothing, not even its in-bounds byte.
    assert_eq!(guest.view().read::<u8>(65535)?, 0);

    let err = guest.call::<i32, i32>("div", 0).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::IntegerDivisionByZero));
    assert!(err.to_string().contains("`div` trapped"), "{err}");
    assert_eq!(guest.call::<i32, i32>("div", 1)?, 1);
    assert_eq!(guest.view().len(), 65_536);
    Ok(())
}

#[test]
fn out_of_bounds_bulk_fill_traps_before_writing() -> linmem::Result<()> {
    let mut guest = Guest::new(nasty("oob_fill.wat"))?;
    let err = guest.call::<(), ()>("fill", ()).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::MemoryOutOfBounds));
    assert_eq!(guest.view().read::<u8>(0)?, 1);
    assert!(guest.view().bytes(1, 65_535)?.iter().all(|&b| b == 0));
    Ok(())
}

#[test]
fn start_function_trap_is_an_error_naming_the_start_function() {
    let err = Guest::new(nasty("start_traps.wat")).unwrap_err();
    match &err {
        Error::Trap { func, code, .. } => {
            assert_eq!(&**func, "(start)");
            assert_eq!(*code, TrapCode::UnreachableCodeReached);
        }
        other => panic!("expected a trap, got {other:?}"),
    }
    assert!(err.to_string().contains("(start)"));
}

#[test]
fn host_view_errors_change_nothing() -> linmem::Result<()> {
    let mut guest = Guest::new(STATEFUL)?;
    guest.view_mut().fill(0, 65_536, 0x11)?;
    let before = guest.view().to_vec(0, 65_536)?;
    let mut view = guest.view_mut();
    for (addr, len) in [
        (65_530, 7),
        (u64::MAX, 1),
        (u64::from(u32::MAX), 2),
        (0, 65_537),
    ] {
        assert!(matches!(
            view.fill(addr, len, 0xFF),
            Err(Error::OutOfBounds { .. })
        ));
        assert!(matches!(
            view.copy_within(0, addr, len),
            Err(Error::OutOfBounds { .. })
        ));
        let data = vec![0xFF; usize::try_from(len).unwrap()];
        assert!(matches!(
            view.write_bytes(addr, &data),
            Err(Error::OutOfBounds { .. })
        ));
    }
    assert!(matches!(
        view.write(65_535, 0u16),
        Err(Error::OutOfBounds {
            addr: 65_535,
            len: 2,
            size: 65_536
        })
    ));
    assert_eq!(guest.view().to_vec(0, 65_536)?, before);
    Ok(())
}

/// A guest that writes, calls the host, then writes again.
const CALLS_HOST: &str = r#"(module
  (import "env" "host" (func $host (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "run") (param i32) (result i32)
    (i32.store8 (i32.const 0) (i32.const 1))
    (drop (call $host (local.get 0)))
    (i32.store8 (i32.const 1) (i32.const 2))
    (i32.const 7)))"#;

#[derive(Debug)]
struct Refused(u32);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "refused {}", self.0)
    }
}

impl std::error::Error for Refused {}

fn calls_host() -> linmem::Result<Guest<u32>> {
    Module::new(CALLS_HOST)?
        .guest_with(0u32)
        .host_func(
            "env",
            "host",
            |mut cx: linmem::HostContext<'_, u32>, arg: i32| {
                *cx.data_mut() += 1;
                cx.view_mut()?.write(8, 0xEE_u8)?;
                match arg {
                    0 => Ok(0),
                    1 => Err(Error::custom(Refused(1))),
                    // A bad address inside the host function.
                    _ => cx.view()?.read::<i32>(u64::MAX).map(|_| 0),
                }
            },
        )?
        .instantiate()
}

#[test]
fn after_a_host_function_error_state_is_as_left() -> linmem::Result<()> {
    let mut guest = calls_host()?;
    let err = guest.call::<i32, i32>("run", 1).unwrap_err();
    match &err {
        Error::HostFunc {
            func,
            error: source,
        } => {
            assert_eq!(&**func, "run");
            assert_eq!(source.custom_ref::<Refused>().map(|r| r.0), Some(1));
        }
        other => panic!("expected HostFunc, got {other:?}"),
    }
    // The guest's write before the call and the host's write stay; the
    // guest's write after the call never happened.
    assert_eq!(guest.view().bytes(0, 2)?, &[1, 0]);
    assert_eq!(guest.view().read::<u8>(8)?, 0xEE);
    assert_eq!(*guest.data(), 1);

    let err = guest.call::<i32, i32>("run", 2).unwrap_err();
    match &err {
        Error::HostFunc { error: source, .. } => assert!(
            matches!(
                **source,
                Error::OutOfBounds {
                    addr: u64::MAX,
                    len: 4,
                    size: 65_536
                }
            ),
            "{source:?}"
        ),
        other => panic!("expected HostFunc, got {other:?}"),
    }
    assert_eq!(*guest.data(), 2);
    // And the guest is usable: a good call completes.
    assert_eq!(guest.call::<i32, i32>("run", 0)?, 7);
    assert_eq!(guest.view().bytes(0, 2)?, &[1, 2]);
    assert_eq!(*guest.data(), 3);
    Ok(())
}

#[test]
fn deeply_nested_text_parses_on_a_small_host_stack() {
    // 100 000 nested folded `(block` expressions: the text parser must not
    // recurse on the host stack either.
    let depth = 100_000;
    let text = format!(
        r#"(module (memory (export "memory") 1) (func (export "f") {} {}))"#,
        "(block ".repeat(depth),
        ")".repeat(depth)
    );
    std::thread::Builder::new()
        .stack_size(SMALL_STACK)
        .spawn(move || -> linmem::Result<()> { Guest::new(text)?.call::<(), ()>("f", ()) })
        .unwrap()
        .join()
        .expect("no panic")
        .expect("parsed, compiled and run");
}
