//! Snapshots of the guests real toolchains made (fixtures/assemblyscript,
//! fixtures/c, fixtures/rust), checked against reality: for each guest, one copy
//! initialises itself (its start function, then the host calls of the
//! initialisation), another is instantiated from the snapshot of an
//! instrumented copy that did the same. Then the host code of
//! tests/real_guests.rs runs on both, and every call's result (or trap,
//! or abort) and every memory byte after every step must be the same.
#![cfg(feature = "snapshot")]

use linmem::{Error, Guest, GuestBuilder, Module, SnapshotError, Snapshotter, wasmi};
use std::fmt::Debug;
use std::path::Path;

const PAGE: u64 = 65_536;

fn bytes(path: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A builder with the imports the fixture needs (AssemblyScript's `env.abort`).
fn with_imports(module: &Module) -> GuestBuilder<'_, ()> {
    let imports_abort = module
        .as_wasmi()
        .imports()
        .any(|import| import.module() == "env" && import.name() == "abort");
    let builder = module.guest();
    if imports_abort {
        builder.assemblyscript_abort().expect("env.abort")
    } else {
        builder
    }
}

/// What a call did, comparable across the two guests: its results, or
/// how it failed (trap code, or the abort's message).
fn outcome<R: Debug>(result: &Result<R, Error>) -> String {
    match result {
        Ok(results) => format!("{results:?}"),
        Err(Error::Trap { code, .. }) => format!("trap {code:?}"),
        Err(Error::HostFunc { error, .. }) => format!("host error {error}"),
        Err(other) => panic!("unexpected error {other}"),
    }
}

/// The guest that initialised itself and the one from the snapshot.
struct Pair {
    name: &'static str,
    original: Guest,
    snapshot: Guest,
    steps: usize,
}

impl Pair {
    fn same_memory(&mut self, what: &str) {
        self.steps += 1;
        let (a, b) = (self.original.view(), self.snapshot.view());
        assert_eq!(a.pages(), b.pages(), "{}: pages after {what}", self.name);
        if a.as_slice() != b.as_slice() {
            let at = a
                .as_slice()
                .iter()
                .zip(b.as_slice())
                .position(|(x, y)| x != y)
                .unwrap();
            panic!("{}: memories differ at {at} after {what}", self.name);
        }
    }

    fn call<P: wasmi::WasmParams + Clone + Debug, R: wasmi::WasmResults + Debug>(
        &mut self,
        func: &str,
        params: P,
    ) -> Option<R> {
        let original = self.original.call::<P, R>(func, params.clone());
        let snapshot = self.snapshot.call::<P, R>(func, params.clone());
        let what = format!("{func}{params:?}");
        assert_eq!(
            outcome(&original),
            outcome(&snapshot),
            "{}: {what}",
            self.name
        );
        self.same_memory(&what);
        original.ok()
    }

    fn write(&mut self, at: u64, bytes: &[u8]) {
        for guest in [&mut self.original, &mut self.snapshot] {
            guest.view_mut().write_bytes(at, bytes).expect("host write");
        }
        self.same_memory("a host write");
    }

    fn write_c_string(&mut self, at: u64, text: &str) {
        let mut bytes = text.as_bytes().to_vec();
        bytes.push(0);
        self.write(at, &bytes);
    }

    fn read_u32(&self, at: u64) -> u32 {
        self.original.view().read::<u32>(at).expect("host read")
    }

    fn grow(&mut self, by: u64) {
        let a = self.original.grow(by).map_err(|e| e.to_string());
        let b = self.snapshot.grow(by).map_err(|e| e.to_string());
        assert_eq!(a, b, "{}: grow({by})", self.name);
        self.same_memory("a host grow");
    }
}

fn addr(value: i32) -> u64 {
    u64::from(value.cast_unsigned())
}

/// Initialises a guest: host calls after the start function ran.
type Init = fn(&mut Guest);

/// Runs the comparison for one fixture; returns the number of steps checked.
fn check(name: &'static str, path: &str, init: Init, scenario: fn(&mut Pair)) -> usize {
    let wasm = bytes(path);
    // The guest that initialises itself, from the untouched module.
    let module = Module::new(&wasm).expect("compile");
    let mut original = with_imports(&module).instantiate().expect("instantiate");
    init(&mut original);
    // The same initialisation on the instrumented module, then a snapshot.
    let snapshotter = Snapshotter::new(&wasm).expect("snapshotter");
    let mut initialised = with_imports(snapshotter.module())
        .instantiate()
        .expect("instantiate the instrumented module");
    init(&mut initialised);
    let snapshot = snapshotter.snapshot(&initialised).expect("snapshot");
    let snapshot_module = snapshot
        .module(snapshotter.module().engine())
        .expect("compile the snapshot");
    assert!(
        !snapshot_module
            .as_wasmi()
            .exports()
            .any(|e| e.name().starts_with("__linmem")),
        "{name}: reserved exports left in the snapshot"
    );
    let snapshot = with_imports(&snapshot_module)
        .instantiate()
        .expect("instantiate the snapshot");
    let mut pair = Pair {
        name,
        original,
        snapshot,
        steps: 0,
    };
    pair.same_memory("instantiation");
    scenario(&mut pair);
    pair.steps
}

fn nothing(_: &mut Guest) {}

// ------------------------------------------------------ the host code

fn linear_memory(g: &mut Pair) {
    assert_eq!(g.original.view().read::<u8>(0).unwrap(), 24);
    g.write(1, &[25]);
    assert_eq!(
        g.call::<(), i32>("readWasmMemoryAndReturnIndexOne", ()),
        Some(25)
    );
    g.grow(1);
    g.write(PAGE + 1, &[26]);
    g.call::<(), i32>("readWasmMemoryAndReturnIndexOne", ());
}

fn export_start_init(guest: &mut Guest) {
    guest.call::<(), ()>("_start", ()).expect("_start");
}

fn export_start(g: &mut Pair) {
    g.call::<(), ()>("_start", ()); // runs once only: a no-op now, on both
    g.write(1, &[25]);
    g.call::<(), i32>("readWasmMemoryAndReturnIndexOne", ());
}

fn as_buffers(g: &mut Pair) {
    let data = [1u8, 2, 3, 250, 251, 252, 0, 9];
    let len = i32::try_from(data.len()).unwrap();
    let ptr: i32 = g.call("alloc", (len,)).unwrap();
    g.write(addr(ptr), &data);
    g.call::<_, i32>("sum", (ptr, len));
    g.call::<_, i32>("fnv1a", (ptr, len));
    g.call::<_, ()>("reverse", (ptr, len));
    let words: i32 = g.call("alloc", (17,)).unwrap();
    g.write(addr(words) + 1, &[0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0]);
    g.call::<_, i64>("sumU32", (words + 1, 2));
    let floats: i32 = g.call("alloc", (12,)).unwrap();
    g.write(addr(floats), &1.5f32.to_le_bytes());
    g.call::<_, ()>("scale", (floats, 1, 3.0f32));
    let copy: i32 = g.call("duplicate", (ptr, len)).unwrap();
    g.call::<_, ()>("dealloc", (copy,));
}

fn as_structs(g: &mut Pair) {
    g.call::<(), i32>("particleSize", ());
    g.call::<(), i64>("particleOffsets", ());
    g.grow(2);
    let b = i32::try_from(PAGE).unwrap();
    let mut floats = Vec::new();
    for value in [3.0f64, 4.0, -1.5, 0.25] {
        floats.extend_from_slice(&value.to_le_bytes());
    }
    g.write(PAGE, &floats);
    g.call::<_, f64>("vec2Length", (b,));
    g.call::<_, ()>("vec2Add", (b, b + 16, b + 32));
    let p: i32 = g
        .call("newParticle", (7, 2.5f32, 1.0f64, 2.0f64, 0.5f64, -4.0f64))
        .unwrap();
    g.call::<_, ()>("step", (p, 0.5f64));
    g.call::<_, f64>("totalMass", (p, 1));
}

fn as_grow(g: &mut Pair) {
    let page = i32::try_from(PAGE).unwrap();
    g.call::<(), i32>("pages", ());
    g.call::<_, i32>("writeLastByte", (0xab,));
    g.call::<_, i32>("grow", (1,));
    g.call::<_, i32>("writeLastByte", (0xcd,));
    g.grow(1);
    g.call::<_, i32>("grow", (1,)); // past the maximum: -1 on both
    g.grow(1); // refused on both
    g.call::<_, ()>("storeU32", (3 * page - 4, 0x0102_0304));
    g.call::<_, ()>("storeU32", (3 * page - 2, 0x0506_0708)); // trap
    g.call::<_, i32>("readByte", (3 * page,)); // trap
}

fn as_abort(g: &mut Pair) {
    let end = i32::try_from(g.original.view().len()).unwrap();
    g.call::<_, i32>("checkedDivide", (84, 2));
    g.call::<_, i32>("checkedDivide", (1, 0)); // abort
    g.call::<_, i32>("fail", (7,));
    g.call::<(), ()>("crash", ());
    g.call::<_, i32>("divide", (i32::MIN, -1));
    g.call::<_, i32>("loadU32", (end - 3,));
    g.call::<_, i32>("checkedDivide", (9, 3));
}

fn as_strings(g: &mut Pair) {
    let new_string = |g: &mut Pair, text: &str| -> i32 {
        let bytes: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let len = i32::try_from(bytes.len()).unwrap();
        let ptr: i32 = g.call("__new", (len, 2)).unwrap();
        g.write(addr(ptr), &bytes);
        g.call::<_, i32>("__pin", (ptr,));
        ptr
    };
    let name = new_string(g, "Wörld \u{1F30D}");
    let greeting: i32 = g.call("greet", (name,)).unwrap();
    assert_eq!(
        g.snapshot
            .view()
            .assemblyscript_string(addr(greeting))
            .unwrap(),
        g.original
            .view()
            .assemblyscript_string(addr(greeting))
            .unwrap()
    );
    g.call::<_, i32>("utf8Length", (name,));
    let utf8: i32 = g.call("encodeUtf8", (name,)).unwrap();
    g.call::<_, i32>("sumBytes", (utf8,));
    g.call::<_, i32>("repeat", (name, 3));
    g.call::<_, i32>("charAt", (name, 1));
    g.call::<(), i32>("banner", ());
    g.call::<_, i32>("repeat", (name, -1)); // abort
    g.call::<_, ()>("__unpin", (name,));
    g.call::<_, ()>("__unpin", (name,)); // abort
    g.call::<(), ()>("__collect", ());
    g.call::<_, i32>("length", (name,));
}

fn c_buffers(g: &mut Pair) {
    let buf: i32 = g.call("shared_buffer", ()).unwrap();
    let data = [10u8, 20, 30, 40, 50, 255, 0, 7, 7];
    let len = i32::try_from(data.len()).unwrap();
    g.write(addr(buf), &data);
    g.call::<_, i32>("sum_bytes", (buf, len));
    g.call::<_, i32>("fnv1a", (buf, len));
    g.call::<_, ()>("reverse", (buf, len));
    g.grow(1);
    g.call::<_, ()>("histogram", (buf, len, i32::try_from(2 * PAGE).unwrap()));
    g.call::<_, i64>("sum_i64", (buf, 1));
    g.call::<(), ()>("trap", ());
    g.call::<_, i32>("divide", (7, 0));
    g.call::<_, i32>("load_u32", (-1,));
}

fn c_strings(g: &mut Pair) {
    let buf: i32 = g.call("output_buffer", ()).unwrap();
    let input = buf + 96;
    g.write_c_string(addr(input), "hello, wasm");
    g.call::<_, i32>("to_upper", (input,));
    g.write_c_string(addr(input), "na\u{ef}ve \u{1F30D}");
    g.call::<_, i32>("utf8_count", (input,));
    g.call::<_, i32>("greet", (input, buf, 64));
    g.call::<_, i32>("greet", (input, buf, 10));
    g.write_c_string(addr(input) + 16, "ve");
    g.call::<_, i32>("find", (input, input + 16));
    g.call::<(), i32>("version", ());
}

fn c_structs(g: &mut Pair) {
    g.call::<(), i32>("record_size", ());
    let s: i32 = g.call("scratch_buffer", ()).unwrap();
    g.write(
        addr(s),
        &[3, 0, 0, 0, 0xfc, 0xff, 0xff, 0xff, 10, 0, 0, 0, 20, 0, 0, 0],
    );
    g.call::<_, ()>("point_add", (s, s + 8, s + 16));
    g.call::<_, i64>("point_dot", (s, s + 8));
    g.call::<_, ()>("point_scale", (s + 24, s, -3));
    g.call::<_, ()>("record_init", (s + 64, 0x41, 1001, 2.5f64, 0));
    g.call::<_, f64>("record_chain_score", (s + 64,));
}

fn c_traps(g: &mut Pair) {
    let twice: i32 = g.call("twice_index", ()).unwrap();
    let nothing: i32 = g.call("nothing_index", ()).unwrap();
    g.call::<_, i32>("call_unary", (twice, 21));
    g.call::<_, i32>("call_unary", (0, 1));
    g.call::<_, i32>("call_unary", (nothing, 1));
    g.call::<_, i32>("call_unary", (1000, 1));
    g.call::<_, i32>("truncate", (f64::NAN,));
    g.call::<_, i32>("remainder", (i32::MIN, -1));
    g.call::<_, i32>("recurse", (500,));
    g.call::<_, i32>("recurse", (100_000_000,)); // stack overflow on both
    g.call::<_, i32>("recurse", (10,));
}

/// The allocator's state (a mutable global, a free list in memory) is
/// part of the initialisation here: two blocks are allocated and filled.
fn c_alloc_init(guest: &mut Guest) {
    let a: i32 = guest.call("alloc", (5,)).unwrap();
    guest.view_mut().write_bytes(addr(a), b"hello").unwrap();
    let b: i32 = guest.call("alloc", (6,)).unwrap();
    guest.view_mut().write_bytes(addr(b), b", wasm").unwrap();
}

fn c_alloc(g: &mut Pair) {
    let page = i32::try_from(PAGE).unwrap();
    let out_len: i32 = g.call("alloc", (4,)).unwrap();
    // The two blocks of the initialisation are the first two the allocator gave.
    let first: i32 = g.call("alloc", (1,)).unwrap();
    g.call::<_, ()>("dealloc", (first, 1));
    g.call::<(), i32>("allocated_bytes", ());
    let s: i32 = g.call("alloc", (16,)).unwrap();
    g.write_c_string(addr(s), "stressed");
    g.call::<_, i32>("reversed", (s,));
    let len = g.read_u32(addr(out_len));
    g.call::<_, i32>("concat", (s, 3, s, 3, out_len));
    assert_eq!(g.read_u32(addr(out_len)), 6, "{len}");
    g.call::<_, i32>("alloc", (3 * page,)); // the allocator grows memory
    g.call::<_, i32>("alloc", (16 * page,)); // past the maximum: null
    g.call::<(), i32>("allocated_bytes", ());
}

/// The Rust plugin's initialisation: its panic hook, then calls that fill
/// its allocator and the `HashMap` of call counts.
fn rust_plugin_init(guest: &mut Guest) {
    guest.call::<(), ()>("init", ()).unwrap();
    let name: i32 = guest.call("alloc", (5,)).unwrap();
    guest.view_mut().write_bytes(addr(name), b"world").unwrap();
    guest.call::<(i32, i32), i64>("greet", (name, 5)).unwrap();
}

fn rust_plugin(g: &mut Pair) {
    let text: i32 = g.call("alloc", (32,)).unwrap();
    g.write(addr(text), b"the cat and the hat and the bat");
    g.call::<_, i64>("greet", (text, 7));
    g.call::<_, i64>("word_counts", (text, 31));
    // A panic is a trap on both; its message is kept by the hook installed
    // during the initialisation.
    g.write(addr(text), b"12x");
    g.call::<_, i32>("parse", (text, 3));
    g.call::<(), i64>("last_panic", ());
    g.write(addr(text), b" 42");
    g.call::<_, i32>("parse", (text, 3));
    let values: i32 = g.call("alloc", (16,)).unwrap();
    g.write(
        addr(values),
        &[1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0],
    );
    g.call::<_, i32>("stats", (values, 4));
    g.call::<_, i32>("element", (values, 4, 2));
    g.call::<_, i32>("element", (values, 4, 9)); // out of range: a panic
    g.call::<(), i64>("call_counts", ());
    g.call::<_, ()>("dealloc", (values, 16));
}

type Case = (&'static str, &'static str, Init, fn(&mut Pair));

const CASES: &[Case] = &[
    (
        "as/linear_memory",
        "fixtures/assemblyscript/linear_memory.wasm",
        nothing,
        linear_memory,
    ),
    (
        "as/linear_memory.stub",
        "fixtures/assemblyscript/linear_memory.stub.wasm",
        nothing,
        linear_memory,
    ),
    (
        "as/linear_memory.optimized",
        "fixtures/assemblyscript/linear_memory.optimized.wasm",
        nothing,
        linear_memory,
    ),
    (
        "as/linear_memory.membase100",
        "fixtures/assemblyscript/linear_memory.membase100.wasm",
        nothing,
        linear_memory,
    ),
    (
        "as/linear_memory.exportstart",
        "fixtures/assemblyscript/linear_memory.exportstart.wasm",
        export_start_init,
        export_start,
    ),
    (
        "as/buffers",
        "fixtures/assemblyscript/buffers.wasm",
        nothing,
        as_buffers,
    ),
    (
        "as/structs",
        "fixtures/assemblyscript/structs.wasm",
        nothing,
        as_structs,
    ),
    (
        "as/grow",
        "fixtures/assemblyscript/grow.wasm",
        nothing,
        as_grow,
    ),
    (
        "as/abort",
        "fixtures/assemblyscript/abort.wasm",
        nothing,
        as_abort,
    ),
    (
        "as/strings",
        "fixtures/assemblyscript/strings.wasm",
        nothing,
        as_strings,
    ),
    ("c/buffers", "fixtures/c/buffers.wasm", nothing, c_buffers),
    ("c/strings", "fixtures/c/strings.wasm", nothing, c_strings),
    ("c/structs", "fixtures/c/structs.wasm", nothing, c_structs),
    ("c/traps", "fixtures/c/traps.wasm", nothing, c_traps),
    ("c/alloc", "fixtures/c/alloc.wasm", c_alloc_init, c_alloc),
    (
        "rust/plugin",
        "fixtures/rust/plugin.wasm",
        rust_plugin_init,
        rust_plugin,
    ),
];

#[test]
fn every_real_guest_from_a_snapshot_behaves_as_one_that_initialised_itself() {
    let mut steps = 0;
    for &(name, path, init, scenario) in CASES {
        let checked = check(name, path, init, scenario);
        assert!(checked >= 3, "{name}: only {checked} steps");
        steps += checked;
    }
    assert!(steps >= 100, "only {steps} steps checked");
}

#[test]
fn every_wasm_fixture_is_covered_or_refused_for_a_reason() {
    let mut fixtures: Vec<String> = ["fixtures/assemblyscript", "fixtures/c", "fixtures/rust"]
        .iter()
        .flat_map(|dir| {
            std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(dir))
                .unwrap()
                .map(move |entry| format!("{dir}/{}", entry.unwrap().file_name().to_string_lossy()))
        })
        .filter(|path| path.ends_with(".wasm"))
        .collect();
    fixtures.sort();
    for path in fixtures {
        let covered = CASES.iter().any(|case| case.1 == path);
        match path.as_str() {
            _ if covered => {}
            "fixtures/assemblyscript/linear_memory.importmemory.wasm" => {
                // The memory belongs to the host: refused, naming the import.
                let error = Snapshotter::new(bytes(&path)).unwrap_err();
                assert!(
                    matches!(&error, Error::Snapshot(SnapshotError::ImportedMemory { module, name })
                        if &**module == "env" && &**name == "memory"),
                    "{error}"
                );
                assert_eq!(
                    error.to_string(),
                    "cannot snapshot: the module imports its memory `env`.`memory`"
                );
            }
            "fixtures/assemblyscript/start_abort.wasm" => {
                // Its initialisation aborts: there is no guest to snapshot.
                let snapshotter = Snapshotter::new(bytes(&path)).unwrap();
                assert!(with_imports(snapshotter.module()).instantiate().is_err());
            }
            "fixtures/c/wasi_numbers.wasm"
            | "fixtures/rust/wasi_command.wasm"
            | "fixtures/rust/wasi_reactor.wasm" => {
                // WASI guests: their state also lives in the host's WASI
                // context (open files, preopens), which a module cannot
                // carry; only their imports are checked to be WASI's.
                let module = Module::new(bytes(&path)).unwrap();
                assert!(
                    module
                        .as_wasmi()
                        .imports()
                        .any(|import| import.module() == "wasi_snapshot_preview1"),
                    "{path}"
                );
            }
            other => panic!("{other}: no snapshot check"),
        }
    }
}

#[test]
fn snapshots_are_smaller_than_or_close_to_the_original() {
    for &(name, path, init, _) in CASES {
        let wasm = bytes(path);
        let snapshotter = Snapshotter::new(&wasm).unwrap();
        let mut guest = with_imports(snapshotter.module()).instantiate().unwrap();
        init(&mut guest);
        let snapshot = snapshotter.snapshot(&guest).unwrap();
        eprintln!(
            "{name}: original {} bytes, snapshot {} bytes",
            wasm.len(),
            snapshot.wasm().len()
        );
        // The code is copied as is; the data is the initialised memory's
        // non-zero bytes, which toolchains' own segments mostly already were.
        assert!(
            snapshot.wasm().len() <= wasm.len() + 2048,
            "{name}: {} bytes from {}",
            snapshot.wasm().len(),
            wasm.len()
        );
    }
}
