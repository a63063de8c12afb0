//! The `wasi` feature: exits and traps, captured and discarded output,
//! read-only preopens, setup errors, and limits, fuel, deadlines, views and
//! allocators on WASI guests. (dev/tests/real_guests.rs compares the real
//! guests' WASI runs with node's.)
#![cfg(feature = "wasi")]

use linmem::{
    Allocator, AllocatorKind, Deadline, Error, Guest, Limits, Module, TrapCode, WasiConfig,
    WasiOutput,
};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).expect("fixture")
}

/// A fresh empty directory for one test.
fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("linmem-wasi-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a scratch directory");
    dir
}

/// A WAT command: writes "tick\n" to stdout, then does `$tail`.
fn tick_then(tail: &str) -> String {
    format!(
        r#"(module
        (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
        (memory (export "memory") 1)
        (data (i32.const 8) "\10\00\00\00\05\00\00\00tick\n")
        (func (export "_start")
            (drop (call $write (i32.const 1) (i32.const 8) (i32.const 1) (i32.const 0)))
            {tail}))"#
    )
}

fn run(wat: &str, config: WasiConfig) -> (linmem::Result<i32>, Guest) {
    let module = Module::new(wat).unwrap();
    let mut guest = module.guest().wasi(config).unwrap().instantiate().unwrap();
    (guest.run_command(), guest)
}

#[test]
fn exit_zero_a_return_and_a_trap_are_told_apart() {
    let (code, guest) = run(&tick_then("(call $exit (i32.const 0))"), WasiConfig::new());
    assert_eq!(code.unwrap(), 0);
    assert_eq!(guest.wasi_stdout(), b"tick\n");

    let (code, _) = run(&tick_then(""), WasiConfig::new());
    assert_eq!(code.unwrap(), 0, "a returning _start is exit code 0");

    let (code, guest) = run(&tick_then("unreachable"), WasiConfig::new());
    let err = code.unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::UnreachableCodeReached));
    assert_eq!(err.exit_code(), None);
    assert_eq!(
        guest.wasi_stdout(),
        b"tick\n",
        "output before the trap is kept"
    );

    // Through `call`, an exit is a typed error, not a trap, even with code 0.
    let module = Module::new(tick_then("(call $exit (i32.const 0))")).unwrap();
    let mut guest = module
        .guest()
        .wasi(WasiConfig::new())
        .unwrap()
        .instantiate()
        .unwrap();
    let err = guest.call::<(), ()>("_start", ()).unwrap_err();
    assert!(matches!(&err, Error::Exit { code: 0, func } if &**func == "_start"));
    assert_eq!(err.exit_code(), Some(0));
    assert_eq!(err.trap_code(), None);
    assert_eq!(err.to_string(), "`_start` exited with code 0");
}

#[test]
fn every_exit_code_is_reported_as_passed() {
    for code in [1, 125, 126, 255, 256, -1, i32::MAX] {
        let (result, _) = run(
            &tick_then(&format!("(call $exit (i32.const {code}))")),
            WasiConfig::new(),
        );
        assert_eq!(result.unwrap(), code);
    }
}

#[test]
fn an_exit_from_a_start_function_fails_instantiation_with_the_code() {
    let module = Module::new(
        r#"(module
        (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
        (memory (export "memory") 1)
        (start $init)
        (func $init (call $exit (i32.const 7))))"#,
    )
    .unwrap();
    let err = module
        .guest()
        .wasi(WasiConfig::new())
        .unwrap()
        .instantiate()
        .unwrap_err();
    assert!(
        matches!(&err, Error::Exit { code: 7, func } if &**func == "(start)"),
        "{err:?}"
    );
}

#[test]
fn without_wasi_the_imports_are_missing() {
    let module = Module::new(fixture("fixtures/rust/wasi_command.wasm")).unwrap();
    let err = module.instantiate().expect_err("a missing import");
    assert!(
        matches!(&err, Error::MissingImport { module, .. } if &**module == "wasi_snapshot_preview1"),
        "{err:?}"
    );
}

#[test]
fn wasi_twice_is_an_error() {
    let module = Module::new(tick_then("")).unwrap();
    let builder = module.guest().wasi(WasiConfig::new()).unwrap();
    assert!(matches!(
        builder.wasi(WasiConfig::new()),
        Err(Error::Instantiate { .. })
    ));
}

#[test]
fn args_env_stdin_and_files_reach_a_rust_command() {
    let dir = scratch_dir("command");
    std::fs::write(dir.join("input.txt"), "a\nb\n").unwrap();
    let module = Module::new(fixture("fixtures/rust/wasi_command.wasm")).unwrap();
    let config = WasiConfig::new()
        .args(["cmd", "--exit", "9"])
        .env("GREETING_NAME", "tester")
        .stdin(b"xyz".to_vec())
        .preopen_dir(&dir, "/data");
    let mut guest = module.guest().wasi(config).unwrap().instantiate().unwrap();
    assert_eq!(guest.run_command().unwrap(), 9);
    let stdout = String::from_utf8(guest.wasi_stdout()).unwrap();
    assert!(
        stdout.starts_with("hello, tester, from a WASI command\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains(r#"3 arguments: ["cmd", "--exit", "9"]"#),
        "{stdout}"
    );
    assert!(stdout.contains(r#"stdin: 3 bytes, "xyz""#), "{stdout}");
    assert_eq!(
        String::from_utf8(guest.wasi_stderr()).unwrap(),
        "wrote 12 bytes to /data/output.txt\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("output.txt")).unwrap(),
        "  1 A\n  2 B\n"
    );
    // take_* empties the buffers; the copies do not.
    assert!(!guest.take_wasi_stdout().is_empty());
    assert!(guest.wasi_stdout().is_empty());
    assert_eq!(guest.wasi_output_dropped(), (0, 0));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_read_only_preopen_can_be_read_and_not_written() {
    let dir = scratch_dir("read-only");
    std::fs::write(dir.join("numbers.txt"), "4 -1 2\n").unwrap();
    let module = Module::new(fixture("fixtures/c/wasi_numbers.wasm")).unwrap();
    let config = WasiConfig::new()
        .arg("wasi_numbers")
        .preopen_dir_read_only(&dir, "/data");
    let mut guest = module.guest().wasi(config).unwrap().instantiate().unwrap();
    // One negative number: exit code 1; reading worked, writing did not.
    assert_eq!(guest.run_command().unwrap(), 1);
    let stdout = String::from_utf8(guest.wasi_stdout()).unwrap();
    assert!(
        stdout.contains("count 3 sum 5 min -1 median 2 max 4"),
        "{stdout}"
    );
    assert_eq!(
        String::from_utf8(guest.wasi_stderr()).unwrap(),
        "/data/sorted.txt: Read-only file system\n"
    );
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["numbers.txt"]);
    std::fs::remove_dir_all(dir).unwrap();
}

/// WASI calls on a read-only preopen (fd 3), each returning its errno.
const FS_OPS: &str = r#"(module
    (import "wasi_snapshot_preview1" "path_open" (func $open
        (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "path_create_directory" (func $mkdir (param i32 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "path_unlink_file" (func $unlink (param i32 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "path_filestat_set_times" (func $set_times
        (param i32 i32 i32 i32 i64 i64 i32) (result i32)))
    (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "fd_filestat_set_times" (func $fd_set_times (param i32 i64 i64 i32) (result i32)))
    (memory (export "memory") 1)
    ;; the opened fd goes to address 0; an iovec {64, 16} at 8; nread/nwritten at 16.
    (data (i32.const 8) "\40\00\00\00\10\00\00\00")
    (func (export "open") (param $path i32) (param $len i32) (param $oflags i32) (param $rights i64) (result i32)
        (call $open (i32.const 3) (i32.const 0) (local.get $path) (local.get $len)
            (local.get $oflags) (local.get $rights) (i64.const 0) (i32.const 0) (i32.const 0)))
    (func (export "mkdir") (param i32 i32) (result i32) (call $mkdir (i32.const 3) (local.get 0) (local.get 1)))
    (func (export "unlink") (param i32 i32) (result i32) (call $unlink (i32.const 3) (local.get 0) (local.get 1)))
    (func (export "set_times") (param i32 i32) (result i32)
        (call $set_times (i32.const 3) (i32.const 0) (local.get 0) (local.get 1) (i64.const 0) (i64.const 0) (i32.const 2)))
    (func (export "read_opened") (result i32)
        (call $read (i32.load (i32.const 0)) (i32.const 8) (i32.const 1) (i32.const 16)))
    (func (export "write_opened") (result i32)
        (call $write (i32.load (i32.const 0)) (i32.const 8) (i32.const 1) (i32.const 16)))
    (func (export "fd_set_times_opened") (result i32)
        (call $fd_set_times (i32.load (i32.const 0)) (i64.const 0) (i64.const 0) (i32.const 2))))"#;

const EROFS: i32 = 69;
const EBADF: i32 = 8;
const FD_READ: i64 = 1 << 1;
const FD_WRITE: i64 = 1 << 6;
const O_CREAT: i32 = 1;
const O_TRUNC: i32 = 8;

#[test]
fn every_write_to_a_read_only_preopen_fails_with_erofs() {
    let dir = scratch_dir("fs-ops");
    std::fs::write(dir.join("keep.txt"), "keep me").unwrap();
    let module = Module::new(FS_OPS).unwrap();
    let config = WasiConfig::new().preopen_dir_read_only(&dir, "/data");
    let mut guest = module.guest().wasi(config).unwrap().instantiate().unwrap();
    // The path strings go into the WASI guest's memory through a view.
    guest.view_mut().write_bytes(100, b"keep.txt").unwrap();
    guest.view_mut().write_bytes(200, b"new").unwrap();
    let keep = (100, 8);
    let new = (200, 3);

    let open = |g: &mut Guest, (p, l): (i32, i32), oflags: i32, rights: i64| {
        g.call::<(i32, i32, i32, i64), i32>("open", (p, l, oflags, rights))
            .unwrap()
    };
    assert_eq!(open(&mut guest, keep, 0, FD_WRITE), EROFS);
    assert_eq!(open(&mut guest, new, O_CREAT, FD_READ), EROFS);
    assert_eq!(open(&mut guest, keep, O_TRUNC, FD_READ), EROFS);
    assert_eq!(guest.call::<_, i32>("mkdir", new).unwrap(), EROFS);
    assert_eq!(guest.call::<_, i32>("unlink", keep).unwrap(), EROFS);
    assert_eq!(guest.call::<_, i32>("set_times", keep).unwrap(), EROFS);
    // Reading works, through the same file the writes are refused on.
    assert_eq!(open(&mut guest, keep, 0, FD_READ), 0);
    assert_eq!(guest.call::<(), i32>("read_opened", ()).unwrap(), 0);
    assert_eq!(guest.view().read::<u32>(16).unwrap(), 7);
    assert_eq!(guest.view().bytes(64, 7).unwrap(), b"keep me");
    assert_eq!(guest.call::<(), i32>("write_opened", ()).unwrap(), EBADF);
    assert_eq!(
        guest.call::<(), i32>("fd_set_times_opened", ()).unwrap(),
        EROFS
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("keep.txt")).unwrap(),
        "keep me"
    );
    assert!(!dir.join("new").exists());

    // The same calls on a writable preopen succeed.
    let config = WasiConfig::new().preopen_dir(&dir, "/data");
    let mut guest = module.guest().wasi(config).unwrap().instantiate().unwrap();
    guest.view_mut().write_bytes(200, b"new").unwrap();
    assert_eq!(guest.call::<_, i32>("mkdir", new).unwrap(), 0);
    assert!(dir.join("new").is_dir());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn captured_output_stops_at_its_limit() {
    let module = Module::new(fixture("fixtures/rust/wasi_command.wasm")).unwrap();
    let config = WasiConfig::new()
        .arg("cmd")
        .stdout(WasiOutput::Capture { limit: 10 });
    let mut guest = module.guest().wasi(config).unwrap().instantiate().unwrap();
    // Rust's println! panics when stdout accepts nothing: a trap, with the
    // panic message on (captured) stderr.
    let err = guest.run_command().unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::UnreachableCodeReached));
    assert_eq!(guest.wasi_stdout(), b"hello, nob");
    let stderr = String::from_utf8(guest.wasi_stderr()).unwrap();
    assert!(stderr.contains("failed printing to stdout"), "{stderr}");
    let (dropped, _) = guest.wasi_output_dropped();
    assert!(dropped > 0);
}

#[test]
fn discarded_output_is_dropped() {
    let config = WasiConfig::new().stdout(WasiOutput::Discard);
    let (code, guest) = run(&tick_then("(call $exit (i32.const 4))"), config);
    assert_eq!(code.unwrap(), 4);
    assert!(guest.wasi_stdout().is_empty());
}

#[test]
fn setup_errors_name_what_failed() {
    let module = Module::new(tick_then("")).unwrap();
    let missing = std::env::temp_dir().join("linmem-wasi-no-such-directory");
    let err = module
        .guest()
        .wasi(WasiConfig::new().preopen_dir(&missing, "/data"))
        .expect_err("a missing directory");
    assert!(matches!(err, Error::WasiSetup { .. }));
    assert!(
        err.to_string()
            .starts_with("cannot set up WASI: preopen `/data` from `"),
        "{err}"
    );

    let err = module
        .guest()
        .wasi(WasiConfig::new().arg("a\0b"))
        .unwrap_err();
    assert_eq!(err.to_string(), r#"cannot set up WASI: argument "a\0b""#);
    let err = module
        .guest()
        .wasi(WasiConfig::new().env("K\0", "v"))
        .unwrap_err();
    assert!(matches!(err, Error::WasiSetup { .. }), "{err}");
}

#[test]
fn memory_limits_apply_to_a_wasi_reactor() {
    let module = Module::new(fixture("fixtures/rust/wasi_reactor.wasm")).unwrap();
    let pages = 18;
    let limits = Limits::new().max_memory_bytes(pages * 65_536);
    let mut guest = module
        .guest()
        .limits(limits)
        .wasi(WasiConfig::new().env("REACTOR_TITLE", "t"))
        .unwrap()
        .instantiate()
        .unwrap();
    let allocator = Allocator::new(&guest, AllocatorKind::AllocDealloc).unwrap();
    // The guest's allocator cannot grow memory past the limit: null.
    let err = allocator.alloc(&mut guest, 4 << 20, 8).unwrap_err();
    assert!(matches!(err, Error::BadAllocation { .. }), "{err:?}");
    assert!(guest.view().pages() <= pages);
    // Small strings still go in and out through the allocator, views and pointers.
    let line = allocator.alloc_str(&mut guest, "pears").unwrap();
    let (ptr, len) = line.to_i32_pair().unwrap();
    assert_eq!(
        guest.call::<(i32, i32), i32>("push", (ptr, len)).unwrap(),
        1
    );
    let packed = guest.call::<(), i64>("render", ()).unwrap().cast_unsigned();
    let text = guest
        .view()
        .str(packed >> 32, packed & 0xffff_ffff)
        .unwrap()
        .to_owned();
    assert_eq!(text, "== t ==\n1. pears\n");
    assert_eq!(guest.take_wasi_stdout(), b"push #1: pears\n");
}

#[test]
fn fuel_runs_out_in_a_wasi_command() {
    let bytes = fixture("fixtures/rust/wasi_command.wasm");
    let module = Module::with_engine(&linmem::metered_engine(), &bytes).unwrap();
    let config = || WasiConfig::new().args(["cmd", "--exit", "5"]);
    let mut guest = module
        .guest()
        .fuel(2_000)
        .wasi(config())
        .unwrap()
        .instantiate()
        .unwrap();
    let err = guest.run_command().unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::OutOfFuel), "{err:?}");

    let mut guest = module
        .guest()
        .fuel(50_000_000)
        .wasi(config())
        .unwrap()
        .instantiate()
        .unwrap();
    assert_eq!(guest.run_command().unwrap(), 5);
    let used = 50_000_000 - guest.fuel().unwrap();
    assert!(used > 2_000, "the command used {used} fuel units");
}

#[test]
fn a_deadline_stops_a_spinning_wasi_guest_and_keeps_its_output() {
    let module = Module::with_engine(&linmem::metered_engine(), tick_then("(loop br 0)")).unwrap();
    let mut guest = module
        .guest()
        .wasi(WasiConfig::new())
        .unwrap()
        .instantiate()
        .unwrap();
    let err = guest
        .run_command_until(&Deadline::after(Duration::from_millis(30)))
        .unwrap_err();
    assert!(matches!(err, Error::DeadlineExceeded { .. }), "{err:?}");
    assert_eq!(guest.wasi_stdout(), b"tick\n");
}

#[test]
fn an_exit_through_a_deadline_call_is_the_same_exit() {
    let bytes = fixture("fixtures/rust/wasi_command.wasm");
    let module = Module::with_engine(&linmem::metered_engine(), &bytes).unwrap();
    let config = || {
        WasiConfig::new()
            .args(["cmd", "--exit", "200"])
            .env("GREETING_NAME", "d")
    };
    let mut plain = module
        .guest()
        .wasi(config())
        .unwrap()
        .instantiate()
        .unwrap();
    let mut sliced = module
        .guest()
        .wasi(config())
        .unwrap()
        .instantiate()
        .unwrap();
    assert_eq!(plain.run_command().unwrap(), 200);
    let deadline = Deadline::after(Duration::from_secs(60)).fuel_slice(1_000);
    assert_eq!(sliced.run_command_until(&deadline).unwrap(), 200);
    assert_eq!(plain.wasi_stdout(), sliced.wasi_stdout());
    assert_eq!(plain.wasi_stderr(), sliced.wasi_stderr());
}

#[test]
fn a_wasi_guest_is_send_and_runs_on_another_thread() {
    fn assert_send<T: Send>(_: &T) {}
    let (_, guest) = run(&tick_then(""), WasiConfig::new());
    assert_send(&guest);
    let module = Module::new(tick_then("(call $exit (i32.const 6))")).unwrap();
    let handle = std::thread::spawn(move || {
        let mut guest = module
            .guest()
            .wasi(WasiConfig::new())
            .unwrap()
            .instantiate()
            .unwrap();
        (guest.run_command().unwrap(), guest.wasi_stdout())
    });
    assert_eq!(handle.join().unwrap(), (6, b"tick\n".to_vec()));
}
