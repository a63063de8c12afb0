//! A small inspector for any wasm module: its imports and exports with
//! their types, a call to any export with arguments parsed by its type, and
//! a hex dump of its memory afterwards.
//!
//! ```text
//! cargo run --example inspect -- FILE
//! cargo run --example inspect -- FILE --call NAME [ARG...] [--dump ADDR:LEN]
//! ```
//!
//! FILE is wasm or WAT. Imports are stubbed so that any module
//! instantiates: functions print their arguments and return zeros, memories
//! and tables get their declared minimum, globals a zero. Arguments are
//! read as the export's parameter types expect (`42`, `-1`, `0xff`, `1.5`,
//! `nan`, `null`); results print in wasm text (`i32.const 42`).

use linmem::{ExternType, HostContext, Module, Value};
use std::process::ExitCode;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// What the command line asks for.
struct Args {
    file: String,
    call: Option<(String, Vec<String>)>,
    dump: Option<(u64, u64)>,
}

const USAGE: &str = "usage: inspect FILE [--call NAME ARG...] [--dump ADDR:LEN]";

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1).peekable();
    let file = args.next().ok_or(USAGE)?;
    let (mut call, mut dump) = (None, None);
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--call" => {
                let name = args.next().ok_or("--call needs an export name")?;
                let mut values = Vec::new();
                while let Some(arg) = args.next_if(|arg| !arg.starts_with("--")) {
                    values.push(arg);
                }
                call = Some((name, values));
            }
            "--dump" => {
                let range = args.next().ok_or("--dump needs ADDR:LEN")?;
                dump = Some(parse_range(&range)?);
            }
            other => return Err(format!("unknown argument `{other}`; {USAGE}")),
        }
    }
    Ok(Args { file, call, dump })
}

/// `ADDR:LEN`, each decimal or `0x` hex.
fn parse_range(text: &str) -> Result<(u64, u64), String> {
    let number = |part: &str| match part.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => part.parse(),
    };
    let (addr, len) = text
        .split_once(':')
        .ok_or_else(|| format!("--dump `{text}`: expected ADDR:LEN"))?;
    let bad = |what: &str, part: &str| format!("--dump `{text}`: {what} `{part}` is not a number");
    Ok((
        number(addr).map_err(|_| bad("address", addr))?,
        number(len).map_err(|_| bad("length", len))?,
    ))
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    let bytes = std::fs::read(&args.file).map_err(|e| format!("{}: {e}", args.file))?;
    let module = Module::new(bytes)?;

    println!("{}", args.file);
    println!("imports:");
    for import in module.imports() {
        println!("  {import}");
    }
    println!("exports:");
    for export in module.exports() {
        println!("  {export}");
    }

    // Stub every import so that any module instantiates.
    let mut builder = module.guest();
    for import in module.imports() {
        let (m, n) = (import.module(), import.name());
        builder = match import.ty() {
            ExternType::Func(ty) => {
                let label = format!("{m}.{n}");
                builder.host_func_dynamic(
                    m,
                    n,
                    ty.clone(),
                    move |_: HostContext<'_, ()>, params: &[Value], _: &mut [Value]| {
                        let params: Vec<String> = params.iter().map(Value::to_string).collect();
                        println!("  (stub) {label}({}) returns zeros", params.join(", "));
                        Ok(())
                    },
                )?
            }
            ExternType::Memory(ty) => {
                let pages = |n: u64| {
                    u32::try_from(n)
                        .map_err(|_| format!("{m}.{n}: memory64 imports are not stubbed"))
                };
                let maximum = ty.maximum.map(pages).transpose()?;
                builder.host_memory(m, n, pages(ty.minimum)?, maximum)?
            }
            ExternType::Table(ty) => {
                let count = |v: u64| {
                    u32::try_from(v).map_err(|_| format!("{m}.{n}: table too large to stub"))
                };
                let maximum = ty.maximum.map(count).transpose()?;
                builder.host_table(m, n, ty.element, count(ty.minimum)?, maximum)?
            }
            ExternType::Global(ty) => {
                builder.host_global(m, n, Value::default_for(ty.content), ty.mutable)?
            }
            other => return Err(format!("{m}.{n}: cannot stub {other}").into()),
        };
    }
    let mut guest = builder.instantiate()?;
    let view = guest.view();
    if view.has_memory() {
        println!(
            "default memory: {} page(s), {} bytes",
            view.pages(),
            view.len()
        );
    } else {
        println!("default memory: none");
    }

    if let Some((name, texts)) = &args.call {
        let func = guest.export_dynamic_func(name)?;
        let ty = func.ty();
        if texts.len() != ty.params().len() {
            return Err(format!(
                "`{name}` has type {ty}: give {} argument(s), not {}",
                ty.params().len(),
                texts.len()
            )
            .into());
        }
        let params = ty
            .params()
            .iter()
            .zip(texts)
            .map(|(&ty, text)| Value::parse(ty, text))
            .collect::<linmem::Result<Vec<_>>>()?;
        let shown: Vec<String> = params.iter().map(|v| format!("{v:#}")).collect();
        match func.call(&mut guest, &params) {
            Ok(results) => {
                let results: Vec<String> = results.iter().map(Value::to_string).collect();
                println!(
                    "{name}({}) = {}",
                    shown.join(", "),
                    if results.is_empty() {
                        "()".to_owned()
                    } else {
                        results.join(", ")
                    }
                );
            }
            Err(error) => println!("{name}({}) failed: {error}", shown.join(", ")),
        }
    }

    if let Some((addr, len)) = args.dump {
        print!("{}", guest.view().hex_dump(addr, len)?);
    }
    Ok(())
}
