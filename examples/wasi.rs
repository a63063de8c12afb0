//! Runs WASI commands: a Rust `wasm32-wasi` program and a C program on
//! wasi-libc, with arguments, environment, stdin and a preopened directory;
//! prints what they wrote and their exit codes.
//!
//! Run with `cargo run --example wasi --features wasi`. The guests are
//! fixtures/rust/wasi_command.rs and fixtures/c/wasi_numbers.c, built by
//! `scripts/build-guests`.

use linmem::{Guest, Module, WasiConfig};

const RUST_COMMAND: &[u8] = include_bytes!("../fixtures/rust/wasi_command.wasm");
const C_NUMBERS: &[u8] = include_bytes!("../fixtures/c/wasi_numbers.wasm");

fn report(name: &str, guest: &Guest, code: i32) {
    println!("--- {name}: exit code {code}");
    print!("stdout: {}", String::from_utf8_lossy(&guest.wasi_stdout()));
    print!("stderr: {}", String::from_utf8_lossy(&guest.wasi_stderr()));
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A scratch directory the guests see as /data.
    let dir = std::env::temp_dir().join(format!("linmem-wasi-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("input.txt"), "alpha\nbeta\ngamma\n")?;
    std::fs::write(dir.join("numbers.txt"), "42 -7 19 3 -1 0\n")?;

    // The Rust command: reads /data/input.txt, writes /data/output.txt,
    // exits with the code it is given.
    let module = Module::new(RUST_COMMAND)?;
    let config = WasiConfig::new()
        .args(["wasi_command", "--exit", "3"])
        .env("GREETING_NAME", "linmem")
        .stdin(b"bytes on stdin".to_vec())
        .preopen_dir(&dir, "/data");
    let mut guest = module.guest().wasi(config)?.instantiate()?;
    let code = guest.run_command()?;
    report("wasi_command (Rust)", &guest, code);
    assert_eq!(code, 3);
    print!(
        "/data/output.txt:\n{}",
        std::fs::read_to_string(dir.join("output.txt"))?
    );

    // The C command: sorts /data/numbers.txt with qsort, exits with the
    // number of negative values.
    let module = Module::new(C_NUMBERS)?;
    let config = WasiConfig::new()
        .arg("wasi_numbers")
        .preopen_dir(&dir, "/data");
    let mut guest = module.guest().wasi(config)?.instantiate()?;
    let code = guest.run_command()?;
    report("wasi_numbers (C)", &guest, code);
    assert_eq!(code, 2);
    println!(
        "/data/sorted.txt: {:?}",
        std::fs::read_to_string(dir.join("sorted.txt"))?
    );

    // The same program on a read-only directory: reading works, writing fails.
    let config = WasiConfig::new()
        .arg("wasi_numbers")
        .preopen_dir_read_only(&dir, "/data");
    let mut guest = module.guest().wasi(config)?.instantiate()?;
    let code = guest.run_command()?;
    report("wasi_numbers on a read-only /data", &guest, code);

    // A panic in the Rust command is a trap, not an exit code.
    let module = Module::new(RUST_COMMAND)?;
    let config = WasiConfig::new()
        .args(["wasi_command", "--panic"])
        .preopen_dir(&dir, "/data");
    let mut guest = module.guest().wasi(config)?.instantiate()?;
    let err = guest.run_command().unwrap_err();
    println!("--- wasi_command --panic: {err}");
    print!("stderr: {}", String::from_utf8_lossy(&guest.wasi_stderr()));

    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
