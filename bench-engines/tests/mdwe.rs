//! Which engines run where executable memory is refused, from a run: the
//! reference round trip (fixtures/linear_memory.wasm: the start function
//! stores 24 at 0, the host reads it and writes 25 at 1, the guest returns
//! it) on linmem, raw wasmi, wasmtime's Pulley interpreter and wasmtime's
//! Cranelift JIT, each in a child process of its own, without a lockdown,
//! under Linux's MDWE, and under MDWE plus a seccomp filter refusing every
//! executable mapping (see ../tests/support/no_exec.rs). A child that crashes
//! cannot take the parent down; how each ended goes in the table.
//!
//! Run from bench-engines/ with
//! `cargo test --test mdwe -- --nocapture`: it prints the table of
//! docs/NO_JIT.md. On a kernel without PR_SET_MDWE it says so on stderr and
//! is skipped (`LINMEM_REQUIRE_MDWE=1` makes that a failure).
#![cfg(target_os = "linux")]

#[path = "../../tests/support/no_exec.rs"]
mod no_exec;

use no_exec::{Lockdown, report};

const TEST: &str = "engines_under_mdwe";

/// The environment variable naming the engine a child runs.
const ENGINE_ENV: &str = "LINMEM_MDWE_ENGINE";

const WASM: &[u8] = include_bytes!("../../fixtures/linear_memory.wasm");
const EXPORT: &str = "readWasmMemoryAndReturnIndexOne";

/// The engines, by key, with the name the table shows.
const ENGINES: [(&str, &str); 4] = [
    ("linmem", "linmem 0.1 (wasmi 2.0 interpreter)"),
    ("wasmi", "wasmi 2.0, its own API"),
    ("pulley", "wasmtime 46, Pulley interpreter (`pulley64`)"),
    ("cranelift", "wasmtime 46, Cranelift JIT (default config)"),
];

/// The round trip's two answers, or the step that failed and its error.
type Outcome = Result<(u8, i32), String>;

fn on_linmem() -> Outcome {
    let step = |what: &'static str| move |err: linmem::Error| format!("{what}: {err}");
    let mut guest = linmem::Guest::new(WASM).map_err(step("instantiate"))?;
    let byte0 = guest.view().read::<u8>(0).map_err(step("read"))?;
    guest.view_mut().write(1, 25u8).map_err(step("write"))?;
    let returned = guest.call::<(), i32>(EXPORT, ()).map_err(step("call"))?;
    Ok((byte0, returned))
}

fn on_wasmi() -> Outcome {
    use linmem::wasmi::{Engine, Linker, Module, Store};
    let step = |what: &'static str| move |err: linmem::wasmi::Error| format!("{what}: {err}");
    let engine = Engine::default();
    let module = Module::new(&engine, WASM).map_err(step("Module::new"))?;
    let mut store = Store::new(&engine, ());
    let instance = Linker::<()>::new(&engine)
        .instantiate_and_start(&mut store, &module)
        .map_err(step("instantiate"))?;
    let memory = instance
        .get_memory(&store, "memory")
        .ok_or("no memory export")?;
    let data = memory.data_mut(&mut store);
    let byte0 = *data.first().ok_or("empty memory")?;
    *data.get_mut(1).ok_or("memory under 2 bytes")? = 25;
    let func = instance
        .get_typed_func::<(), i32>(&store, EXPORT)
        .map_err(step("export"))?;
    let returned = func.call(&mut store, ()).map_err(step("call"))?;
    Ok((byte0, returned))
}

fn on_wasmtime(pulley: bool) -> Outcome {
    // `{:#}` prints wasmtime's error with its whole chain of causes.
    let step = |what: &'static str| move |err: wasmtime::Error| format!("{what}: {err:#}");
    let mut config = wasmtime::Config::new();
    if pulley {
        config.target("pulley64").map_err(step("Config::target"))?;
    }
    let engine = wasmtime::Engine::new(&config).map_err(step("Engine::new"))?;
    let module = wasmtime::Module::new(&engine, WASM).map_err(step("Module::new"))?;
    let mut store = wasmtime::Store::new(&engine, ());
    let instance =
        wasmtime::Instance::new(&mut store, &module, &[]).map_err(step("Instance::new"))?;
    let memory = instance
        .get_memory(&mut store, "memory")
        .ok_or("no memory export")?;
    let data = memory.data_mut(&mut store);
    let byte0 = *data.first().ok_or("empty memory")?;
    *data.get_mut(1).ok_or("memory under 2 bytes")? = 25;
    let func = instance
        .get_typed_func::<(), i32>(&mut store, EXPORT)
        .map_err(step("export"))?;
    let returned = func.call(&mut store, ()).map_err(step("call"))?;
    Ok((byte0, returned))
}

fn run_engine(engine: &str) -> Outcome {
    match engine {
        "linmem" => on_linmem(),
        "wasmi" => on_wasmi(),
        "pulley" => on_wasmtime(true),
        "cranelift" => on_wasmtime(false),
        other => panic!("no engine {other:?}"),
    }
}

/// How one child's run went, for the table and the assertions.
struct Cell {
    /// The round trip gave 24 and 25.
    ran: bool,
    text: String,
}

fn cell(engine: &str, child: &no_exec::ChildRun) -> Cell {
    match child.reports.get(engine) {
        Some(value) if child.status.success() => Cell {
            ran: value == "ok: 24, 25",
            text: value.clone(),
        },
        // A crash: say how, with the last line of stderr.
        _ => Cell {
            ran: false,
            text: format!(
                "crashed: {} ({})",
                child.ending(),
                child.stderr.lines().last().unwrap_or("no stderr")
            ),
        },
    }
}

#[test]
fn engines_under_mdwe() {
    if let Some(lockdown) = no_exec::child_lockdown() {
        let engine = std::env::var(ENGINE_ENV).expect("the parent names the engine");
        if no_exec::enter(lockdown) {
            match run_engine(&engine) {
                Ok((byte0, returned)) => report(&engine, format!("ok: {byte0}, {returned}")),
                Err(err) => report(&engine, format!("error at {}", err.replace('\n', " | "))),
            }
        }
        return;
    }
    if !no_exec::mdwe_available(TEST) {
        return;
    }
    let mut table =
        String::from("| engine | no lockdown | MDWE | MDWE + seccomp |\n|---|---|---|---|\n");
    let mut failures = Vec::new();
    for (engine, title) in ENGINES {
        let mut row = format!("| {title} |");
        for lockdown in Lockdown::ALL {
            let child = no_exec::run_child(TEST, lockdown, &[(ENGINE_ENV, engine)]);
            if lockdown == Lockdown::MdweSeccomp
                && child
                    .reports
                    .get("seccomp")
                    .is_some_and(|seccomp| seccomp.starts_with("unavailable"))
            {
                let message = format!(
                    "SKIPPED {engine} under MDWE + seccomp: {}",
                    child.report("seccomp")
                );
                assert!(!no_exec::required(), "{message}");
                no_exec::notice(&message);
                row.push_str(" skipped |");
                continue;
            }
            let cell = cell(engine, &child);
            // Only the JIT needs executable memory.
            let expected = lockdown == Lockdown::None || engine != "cranelift";
            if cell.ran != expected {
                failures.push(format!(
                    "{engine} under {}: expected {}, got {}\n{child}",
                    lockdown.name(),
                    if expected { "a run" } else { "a failure" },
                    cell.text
                ));
            }
            let text = cell.text.replace('|', "\\|");
            match text.strip_prefix("ok: ") {
                Some(answers) if cell.ran => row.push_str(&format!(" **runs** ({answers}) |")),
                _ => row.push_str(&format!(" **fails**: {text} |")),
            }
        }
        table.push_str(&row);
        table.push('\n');
    }
    println!("kernel {}\n{table}", no_exec::kernel_release());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
