//! The round trip of `round_trip/u8` as a plain program, for counting
//! instructions where timing is too noisy (see BENCHMARKS.md):
//!
//! ```sh
//! cargo bench --bench round_trip_count --no-run   # prints the executable's path
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null <path> cached 10000
//! ```
//!
//! Arguments: a variant (`raw`, `cached`, `by_name`) and a number of round
//! trips; instructions per round trip = (Ir(2N) − Ir(N)) / N. Without them (as
//! under `cargo bench` or `cargo test --benches`) it runs every variant 1000
//! times and checks the answers.

use linmem::wasmi::{Linker, Store};
use linmem::{Engine, Module};
use std::hint::black_box;

const VARIANTS: [&str; 3] = ["raw", "cached", "by_name"];
const WAT: &str = include_str!("../fixtures/bench_round_trip.wat");

/// Round trip `i`: the byte written and the address, as in `round_trip/u8`.
fn case(i: u32) -> (u8, u32) {
    (
        i.wrapping_mul(0x9E37_79B9) as u8,
        i.wrapping_mul(52) & 0xfffc,
    )
}

/// Runs `n` round trips through `variant` and returns the sum of the results.
fn run(module: &Module, variant: &str, n: u32) -> u64 {
    let mut sum = 0u64;
    match variant {
        "raw" => {
            let wasmi = module.as_wasmi();
            let mut store = Store::new(wasmi.engine(), ());
            let instance = Linker::<()>::new(wasmi.engine())
                .instantiate_and_start(&mut store, wasmi)
                .unwrap();
            let memory = instance.get_memory(&store, "memory").unwrap();
            let load = instance
                .get_typed_func::<i32, i32>(&store, "load_u8")
                .unwrap();
            for i in 0..n {
                let (byte, addr) = case(i);
                memory.data_mut(&mut store)[addr as usize] = byte;
                let got = load.call(&mut store, black_box(addr as i32)).unwrap();
                sum += u64::try_from(got).unwrap();
            }
        }
        "cached" => {
            let mut guest = module.instantiate().unwrap();
            let load = guest.export_func::<i32, i32>("load_u8").unwrap();
            for i in 0..n {
                let (byte, addr) = case(i);
                guest.view_mut().write(addr, byte).unwrap();
                let got = load.call(&mut guest, black_box(addr as i32)).unwrap();
                sum += u64::try_from(got).unwrap();
            }
        }
        "by_name" => {
            let mut guest = module.instantiate().unwrap();
            for i in 0..n {
                let (byte, addr) = case(i);
                guest.view_mut().write(addr, byte).unwrap();
                let got: i32 = guest.call("load_u8", black_box(addr as i32)).unwrap();
                sum += u64::try_from(got).unwrap();
            }
        }
        other => panic!("unknown variant {other:?}: use raw, cached or by_name"),
    }
    sum
}

fn main() {
    let wasm = wat::parse_str(WAT).expect("fixture parses");
    let module = Module::with_engine(&Engine::default(), wasm).expect("fixture compiles");
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let (variants, n) = match args.as_slice() {
        [variant, n] if VARIANTS.contains(&variant.as_str()) => (
            vec![variant.as_str()],
            n.parse().expect("a number of round trips"),
        ),
        _ => (VARIANTS.to_vec(), 1000),
    };
    let want: u64 = (0..n).map(|i| u64::from(case(i).0)).sum();
    for variant in variants {
        assert_eq!(run(&module, variant, n), want, "{variant}: wrong answers");
    }
}
