//! Workload 6, snapshots (issue 14): start-up from a snapshot against
//! instantiating and initialising, and in-place reset against a fresh
//! instance.
//!
//! `snapshot/<init>_<n>p/{initialise,from_snapshot}`: a guest of `n` pages
//! (1, 16, 256) whose start function does `cheap` init (two stores) or
//! `expensive` init (a 32 KiB table of hashed values, ~1 M wasm
//! instructions); `initialise` instantiates the module and lets the start
//! function run, `from_snapshot` instantiates the snapshot module. Both
//! check a table entry and the memory size.
//!
//! `snapshot/reset_<n>p/{fresh_instance,reset_in_place}`: a request (a call
//! that writes memory and bumps a global) on a guest in the snapshot's
//! state, then back to that state: a new instance of the snapshot module
//! before each request, or [`Snapshot::reset`] after it. The request's
//! answer, which depends on the state it starts from, is asserted.

use criterion::Criterion;
use linmem::{Guest, Module, Snapshot, Snapshotter};
use std::hint::black_box;

/// Entries of the expensive init's table (u32 each: 32 KiB).
const TABLE_ENTRIES: u32 = 8192;

/// A guest of `pages` pages whose start function builds its state.
pub fn guest_wat(pages: u32, expensive: bool) -> String {
    let init = if expensive {
        format!(
            "(local $i i32) (local $x i32) (local $round i32)
            (loop $entries
                (local.set $x (i32.add (local.get $i) (i32.const 0x9e3779b9)))
                (local.set $round (i32.const 0))
                (loop $rounds
                    (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 13))))
                    (local.set $x (i32.xor (local.get $x) (i32.shr_u (local.get $x) (i32.const 17))))
                    (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 5))))
                    (local.set $round (i32.add (local.get $round) (i32.const 1)))
                    (br_if $rounds (i32.lt_u (local.get $round) (i32.const 16))))
                (i32.store (i32.shl (local.get $i) (i32.const 2)) (local.get $x))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br_if $entries (i32.lt_u (local.get $i) (i32.const {TABLE_ENTRIES}))))"
        )
    } else {
        "(i32.store (i32.const 0) (i32.const 7)) (i32.store (i32.const 4) (i32.const 11))"
            .to_owned()
    };
    format!(
        r#"(module
        (memory (export "memory") {pages})
        (global $served (mut i32) (i32.const 0))
        (func $init {init})
        (start $init)
        (func (export "lookup") (param i32) (result i32)
            (i32.load (i32.shl (local.get 0) (i32.const 2))))
        (func (export "request") (param i32) (result i32)
            (global.set $served (i32.add (global.get $served) (i32.const 1)))
            (i32.store (i32.const 40000) (i32.add (i32.load (i32.const 40000)) (local.get 0)))
            (i32.add (i32.load (i32.const 40000))
                (i32.add (global.get $served) (i32.load (i32.const 4))))))"#
    )
}

/// The expensive init's table entry `i`, computed natively.
pub fn table_entry(i: u32) -> u32 {
    let mut x = i.wrapping_add(0x9e37_79b9);
    for _ in 0..16 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
    }
    x
}

/// A snapshot of the guest right after its start function.
pub fn snapshot(wat: &str, resettable: bool) -> (Snapshotter, Snapshot) {
    let snapshotter = Snapshotter::new(wat).unwrap().resettable(resettable);
    let guest = snapshotter.module().instantiate().unwrap();
    let snapshot = snapshotter.snapshot(&guest).unwrap();
    (snapshotter, snapshot)
}

fn check(guest: &mut Guest, pages: u64, expensive: bool) {
    assert_eq!(guest.view().pages(), pages);
    let (index, expected) = if expensive {
        (4321, table_entry(4321))
    } else {
        (1, 11)
    };
    let found = guest.call::<i32, i32>("lookup", index).unwrap();
    assert_eq!(found.cast_unsigned(), expected);
}

pub fn benches(c: &mut Criterion) {
    for expensive in [false, true] {
        for pages in [1u32, 16, 256] {
            let wat = guest_wat(pages, expensive);
            let original = Module::new(&wat).unwrap();
            let (snapshotter, snapshot) = snapshot(&wat, false);
            let from_snapshot = snapshot.module(snapshotter.module().engine()).unwrap();
            let init = if expensive { "expensive" } else { "cheap" };
            let mut group = c.benchmark_group(format!("snapshot/{init}_{pages}p"));
            let pages = u64::from(pages);
            group.bench_function("initialise", |b| {
                b.iter(|| {
                    let mut guest = black_box(&original).instantiate().unwrap();
                    check(&mut guest, pages, expensive);
                })
            });
            group.bench_function("from_snapshot", |b| {
                b.iter(|| {
                    let mut guest = black_box(&from_snapshot).instantiate().unwrap();
                    check(&mut guest, pages, expensive);
                })
            });
            group.finish();
        }
    }
    for pages in [1u32, 16, 256] {
        let wat = guest_wat(pages, true);
        let (snapshotter, snapshot) = snapshot(&wat, true);
        let module = snapshot.module(snapshotter.module().engine()).unwrap();
        // From the snapshot's state: served = 0, [40000] = 0, [4] = table_entry(1).
        let answer = 5u32
            .wrapping_add(1)
            .wrapping_add(table_entry(1))
            .cast_signed();
        let mut group = c.benchmark_group(format!("snapshot/reset_{pages}p"));
        group.bench_function("fresh_instance", |b| {
            b.iter(|| {
                let mut guest = module.instantiate().unwrap();
                assert_eq!(guest.call::<i32, i32>("request", 5).unwrap(), answer);
            })
        });
        let mut guest = module.instantiate().unwrap();
        group.bench_function("reset_in_place", |b| {
            b.iter(|| {
                assert_eq!(guest.call::<i32, i32>("request", 5).unwrap(), answer);
                snapshot.reset(&mut guest).unwrap();
            })
        });
        group.finish();
    }
}
