//! `hot/instantiate_1page` as a plain program, for counting instructions
//! where timing is too noisy (see BENCHMARKS.md):
//!
//! ```sh
//! cargo bench --bench instantiate_count --no-run   # prints the executable's path
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null <path> linmem 10000
//! ```
//!
//! Arguments: a variant (`raw`, `limited`, `linmem`, `builder`) and a number
//! of instantiations; instructions per instantiation = (Ir(2N) − Ir(N)) / N.
//! Without them (as under `cargo bench` or `cargo test --benches`) it runs
//! every variant 100 times and checks each guest's memory.
//!
//! `time N` times the variants interleaved instead: 15 rounds of N
//! instantiations each, every variant once per round, and prints each
//! variant's fastest round per instantiation. On a shared machine whose
//! speed drifts between criterion's groups, the minimum of interleaved rounds
//! is the steadier comparison.
//!
//! - `raw`: wasmi with `Store<()>`, the least a host can do;
//! - `limited`: wasmi with a `StoreLimits` limiter in its store, the least a
//!   host of untrusted guests does (linmem always keeps its state and a
//!   limiter there);
//! - `linmem`: `Module::instantiate`;
//! - `builder`: `module.guest().instantiate()`.

use linmem::Module;
use linmem::wasmi::{Linker, Store, StoreLimitsBuilder};
use std::hint::black_box;
use std::time::Instant;

const VARIANTS: [&str; 4] = ["raw", "limited", "linmem", "builder"];
const WAT: &str = include_str!("../fixtures/bench_memory_1page.wat");

/// One instantiation through `variant`; the default memory's first byte
/// (the fixture's data segment starts with `l`).
fn instantiate(module: &Module, variant: &str) -> u8 {
    let wasmi = black_box(module).as_wasmi();
    match variant {
        "raw" => {
            let mut store = Store::new(wasmi.engine(), ());
            let linker = Linker::<()>::new(wasmi.engine());
            let instance = linker.instantiate_and_start(&mut store, wasmi).unwrap();
            let memory = instance.get_memory(&store, "memory").unwrap();
            memory.data(&store)[0]
        }
        "limited" => {
            let limits = StoreLimitsBuilder::new().memory_size(1 << 30).build();
            let mut store = Store::new(wasmi.engine(), limits);
            store.limiter(|limits| limits);
            let linker = Linker::new(wasmi.engine());
            let instance = linker.instantiate_and_start(&mut store, wasmi).unwrap();
            let memory = instance.get_memory(&store, "memory").unwrap();
            memory.data(&store)[0]
        }
        "linmem" => {
            let guest = black_box(module).instantiate().unwrap();
            guest.view().read::<u8>(0).unwrap()
        }
        "builder" => {
            let guest = black_box(module).guest().instantiate().unwrap();
            guest.view().read::<u8>(0).unwrap()
        }
        other => panic!("unknown variant {other:?}: use raw, limited, linmem or builder"),
    }
}

fn main() {
    let wasm = wat::parse_str(WAT).expect("fixture parses");
    // As `hot/instantiate_1page` compiles it.
    let module = Module::new(wasm).expect("fixture compiles");
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if let [mode, n] = args.as_slice()
        && mode == "time"
    {
        time(&module, n.parse().expect("a number of instantiations"));
        return;
    }
    let (variants, n) = match args.as_slice() {
        [variant, n] if VARIANTS.contains(&variant.as_str()) => (
            vec![variant.as_str()],
            n.parse::<u32>().expect("a number of instantiations"),
        ),
        _ => (VARIANTS.to_vec(), 100),
    };
    for variant in variants {
        for _ in 0..n {
            assert_eq!(
                instantiate(&module, variant),
                b'l',
                "{variant}: wrong memory"
            );
        }
    }
}

/// Prints each variant's fastest of 15 interleaved rounds of `n`.
fn time(module: &Module, n: u32) {
    let mut best = [f64::MAX; VARIANTS.len()];
    for _ in 0..15 {
        for (variant, best) in VARIANTS.iter().zip(&mut best) {
            let start = Instant::now();
            for _ in 0..n {
                assert_eq!(
                    instantiate(module, variant),
                    b'l',
                    "{variant}: wrong memory"
                );
            }
            *best = best.min(start.elapsed().as_secs_f64() / f64::from(n));
        }
    }
    let [raw, limited, ..] = best;
    for (variant, best) in VARIANTS.iter().zip(best) {
        println!(
            "{variant:>8}: {:7.1} ns   {:.3}x raw   {:.3}x limited",
            best * 1e9,
            best / raw,
            best / limited,
        );
    }
}
