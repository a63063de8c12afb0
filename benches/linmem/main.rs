//! linmem's benchmarks: `cargo bench` runs every group, then
//! `scripts/bench-report` prints the ratio table (see BENCHMARKS.md).
//!
//! Group names read as a table, `<workload>/<case>/<variant>`; every
//! benchmark computes its expected answer natively first and asserts it inside
//! or right after the timed closure, so `cargo test --benches` (criterion's
//! test mode: each benchmark once, untimed) checks every answer.

mod async_calls;
mod bulk;
mod common;
mod contain;
mod element_access;
mod guest_loops;
mod hot_paths;
mod native;
mod round_trip;
mod snapshot;
mod startup;

use criterion::{criterion_group, criterion_main};

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = round_trip::benches, element_access::benches, bulk::benches,
        guest_loops::benches, startup::benches, contain::benches, hot_paths::benches,
        snapshot::benches, async_calls::benches
}
criterion_main!(benches);
