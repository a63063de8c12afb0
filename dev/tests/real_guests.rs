//! Guests from real toolchains (AssemblyScript's asc, clang), replayed
//! through linmem and compared with what V8 did for the same host code.
//!
//! `scripts/v8-oracle.mjs` plays the host's part in node and records every
//! event (calls with their arguments and results or trap kinds, host reads
//! and writes, grows, `env.abort` calls, strings, and a hash of all of memory)
//! in `fixtures/v8-expected.json`. Each function below does the same as its
//! JavaScript counterpart with linmem's API and records the same events; the
//! test fails on the first event that differs, and if a scenario of the file
//! has no replay here (or the reverse). Only the committed `.wasm` files are
//! read: no node, npm or clang is needed. The WASI scenarios (node's
//! `node:wasi` as the oracle's host) replay with the `wasi` feature only:
//! `cargo test -p linmem-dev --features wasi --test real_guests`.

use linmem::{Error, GuestBuilder, HostContext, MemoryValue, Module, TrapCode};
use serde_json::{Value, json};
use std::path::Path;

type Guest = linmem::Guest<Log>;

/// The events of one scenario; it lives in the guest's store so that host
/// functions (`env.abort`) record theirs in order.
type Log = Vec<Value>;

const PAGE: u64 = 65_536;

// ------------------------------------------------------------ value encoding

/// A wasm value as the oracle writes it: `i32:-5`, `i64:7`, floats by their bits.
trait Encode {
    fn encode(&self) -> String;
}

impl Encode for i32 {
    fn encode(&self) -> String {
        format!("i32:{self}")
    }
}

impl Encode for i64 {
    fn encode(&self) -> String {
        format!("i64:{self}")
    }
}

impl Encode for f32 {
    fn encode(&self) -> String {
        format!("f32:0x{:08x}", self.to_bits())
    }
}

impl Encode for f64 {
    fn encode(&self) -> String {
        format!("f64:0x{:016x}", self.to_bits())
    }
}

/// The parameters or results of a call, encoded.
trait Values {
    fn values(&self) -> Vec<String>;
}

macro_rules! impl_values {
    ($($name:ident),*) => {
        impl<$($name: Encode),*> Values for ($($name,)*) {
            #[allow(non_snake_case)]
            fn values(&self) -> Vec<String> {
                let ($($name,)*) = self;
                vec![$($name.encode()),*]
            }
        }
    };
}

impl_values!();
impl_values!(A);
impl_values!(A, B);
impl_values!(A, B, C);
impl_values!(A, B, C, D);
impl_values!(A, B, C, D, E);
impl_values!(A, B, C, D, E, F);

impl Values for i32 {
    fn values(&self) -> Vec<String> {
        vec![self.encode()]
    }
}

impl Values for i64 {
    fn values(&self) -> Vec<String> {
        vec![self.encode()]
    }
}

impl Values for f64 {
    fn values(&self) -> Vec<String> {
        vec![self.encode()]
    }
}

/// A trap as the replay records it: wasmi's `TrapCode` by name. The oracle
/// records V8's message instead; its `trap_kinds` table says which codes each
/// message stands for.
fn trap_name(code: TrapCode) -> String {
    format!("{code:?}")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// 64-bit FNV-1a, as the oracle computes it over all of memory.
fn fnv1a64(bytes: &[u8]) -> String {
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{hash:016x}")
}

fn addr(value: i32) -> u64 {
    u64::from(value.cast_unsigned())
}

// --------------------------------------------------------------- the host

fn module(path: &str) -> Module {
    let bytes = std::fs::read(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).join(path))
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    Module::new(bytes).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn log<'b>(builder: &'b mut GuestBuilder<'_, Log>) -> &'b mut Log {
    builder.as_wasmi_store_mut().data_mut().data_mut()
}

fn instantiate(builder: GuestBuilder<'_, Log>) -> Guest {
    let mut guest = builder.instantiate().expect("instantiate");
    let pages = guest.view().pages();
    guest
        .data_mut()
        .push(json!({"op": "instantiate", "pages": pages}));
    guest
}

/// Calls an export, records the call with its results, trap kind or host
/// error, and returns the results if there were any.
fn call<P: Values + linmem::wasmi::WasmParams, R: Values + linmem::wasmi::WasmResults>(
    guest: &mut Guest,
    func: &str,
    params: P,
) -> Option<R> {
    let args = params.values();
    let outcome = guest.call::<P, R>(func, params);
    let mut event = json!({"op": "call", "func": func, "args": args});
    let results = match outcome {
        Ok(results) => {
            event["results"] = json!(results.values());
            Some(results)
        }
        Err(Error::Trap { code, .. }) => {
            event["trap"] = json!(trap_name(code));
            None
        }
        Err(Error::HostFunc { error: source, .. }) => match *source {
            Error::Abort {
                message,
                file,
                line,
                column,
            } => {
                guest.data_mut().push(json!({
                    "op": "abort", "message": message, "file": file, "line": line, "column": column
                }));
                event["host_error"] = json!("abort");
                None
            }
            other => panic!("{func}: unexpected host error {other}"),
        },
        Err(other) => panic!("{func}: unexpected error {other}"),
    };
    guest.data_mut().push(event);
    results
}

fn read(guest: &mut Guest, at: u64, len: u64) -> Vec<u8> {
    let bytes = guest.view().to_vec(at, len).expect("host read");
    guest
        .data_mut()
        .push(json!({"op": "read", "addr": at, "hex": hex(&bytes)}));
    bytes
}

fn read_u32(guest: &mut Guest, at: u64) -> u32 {
    let bytes = read(guest, at, 4);
    u32::from_le_bytes(bytes.try_into().expect("4 bytes"))
}

fn write(guest: &mut Guest, at: u64, bytes: &[u8]) {
    guest.view_mut().write_bytes(at, bytes).expect("host write");
    guest
        .data_mut()
        .push(json!({"op": "write", "addr": at, "hex": hex(bytes)}));
}

/// Writes little-endian values one after another with typed writes, recorded as one write.
fn write_values<T: MemoryValue + Copy>(guest: &mut Guest, at: u64, values: &[T]) {
    let mut bytes = Vec::new();
    let mut view = guest.view_mut();
    let mut next = at;
    for value in values {
        view.write(next, *value).expect("host write");
        let le = value.to_le_bytes();
        next += u64::try_from(le.as_ref().len()).unwrap();
        bytes.extend_from_slice(le.as_ref());
    }
    guest
        .data_mut()
        .push(json!({"op": "write", "addr": at, "hex": hex(&bytes)}));
}

/// Writes a NUL-terminated UTF-8 string.
fn write_c_string(guest: &mut Guest, at: u64, text: &str) {
    let mut bytes = text.as_bytes().to_vec();
    bytes.push(0);
    write(guest, at, &bytes);
}

fn grow(guest: &mut Guest, by: u64) {
    let result = match guest.grow(by) {
        Ok(previous) => json!(previous),
        Err(Error::GrowPastMaximum { .. }) => json!("error"),
        Err(other) => panic!("grow: unexpected error {other}"),
    };
    guest
        .data_mut()
        .push(json!({"op": "grow", "by": by, "result": result}));
}

/// Reads an AssemblyScript string with linmem's own decoder, so that V8's
/// `TextDecoder` checks it.
fn as_string(guest: &mut Guest, ptr: i32) {
    let at = addr(ptr);
    let view = guest.view();
    let value = view
        .assemblyscript_string(at)
        .expect("an AssemblyScript string");
    let len = view
        .read::<u32>(at.checked_sub(4).expect("a string address is at least 4"))
        .expect("string header");
    guest
        .data_mut()
        .push(json!({"op": "as_string", "addr": at, "bytes": len, "value": value}));
}

/// Reads a NUL-terminated UTF-8 string with linmem's `c_str`.
fn c_string(guest: &mut Guest, ptr: i32) {
    let at = addr(ptr);
    let value = guest
        .view()
        .c_str(at, 4096)
        .expect("a NUL-terminated UTF-8 string")
        .to_owned();
    guest
        .data_mut()
        .push(json!({"op": "c_string", "addr": at, "value": value}));
}

/// The memory's size and a hash of all of its bytes.
fn snapshot(guest: &mut Guest) {
    let view = guest.view();
    let event = json!({"op": "memory", "pages": view.pages(), "fnv1a64": fnv1a64(view.as_slice())});
    guest.data_mut().push(event);
}

fn finish(guest: Guest) -> Log {
    guest.data().clone()
}

// ------------------------------------------------------------ the scenarios

/// The reference page's host code.
fn reference_page(guest: &mut Guest) {
    // const wasmByteMemoryArray = new Uint8Array(memory.buffer);
    // console.log(wasmByteMemoryArray[0]);  // 24
    read(guest, 0, 1);
    // wasmByteMemoryArray[1] = 25;
    write(guest, 1, &[25]);
    // console.log(exports.readWasmMemoryAndReturnIndexOne());  // 25
    call::<(), i32>(guest, "readWasmMemoryAndReturnIndexOne", ());
    snapshot(guest);
}

fn linear_memory(path: &str) -> Log {
    let module = module(path);
    let mut guest = instantiate(module.guest_with(Log::new()));
    reference_page(&mut guest);
    // The host grows memory too; the guest still sees what the host wrote.
    grow(&mut guest, 1);
    write(&mut guest, PAGE + 1, &[26]);
    call::<(), i32>(&mut guest, "readWasmMemoryAndReturnIndexOne", ());
    snapshot(&mut guest);
    finish(guest)
}

fn as_linear_memory() -> Log {
    linear_memory("fixtures/assemblyscript/linear_memory.wasm")
}

fn as_linear_memory_stub() -> Log {
    linear_memory("fixtures/assemblyscript/linear_memory.stub.wasm")
}

fn as_linear_memory_optimized() -> Log {
    linear_memory("fixtures/assemblyscript/linear_memory.optimized.wasm")
}

fn as_linear_memory_membase100() -> Log {
    linear_memory("fixtures/assemblyscript/linear_memory.membase100.wasm")
}

fn as_linear_memory_exportstart() -> Log {
    let module = module("fixtures/assemblyscript/linear_memory.exportstart.wasm");
    let mut guest = instantiate(module.guest_with(Log::new())); // 0 pages
    call::<(), i32>(&mut guest, "readWasmMemoryAndReturnIndexOne", ()); // trap
    call::<(), ()>(&mut guest, "_start", ());
    read(&mut guest, 0, 1);
    write(&mut guest, 1, &[25]);
    call::<(), i32>(&mut guest, "readWasmMemoryAndReturnIndexOne", ());
    call::<(), ()>(&mut guest, "_start", ()); // runs once only
    snapshot(&mut guest);
    finish(guest)
}

fn as_linear_memory_importmemory() -> Log {
    let module = module("fixtures/assemblyscript/linear_memory.importmemory.wasm");
    // The host creates env.memory with one page and writes before the guest exists.
    let mut builder = module
        .guest_with(Log::new())
        .host_memory("env", "memory", 1, None)
        .expect("env.memory");
    let memory = builder.import_memory("env", "memory").expect("env.memory");
    builder
        .view_mut_of(memory)
        .expect("host memory")
        .write(1, 7u8)
        .expect("write");
    log(&mut builder).push(json!({"op": "write", "addr": 1, "hex": "07"}));
    let mut guest = instantiate(builder);
    read(&mut guest, 0, 2);
    call::<(), i32>(&mut guest, "readWasmMemoryAndReturnIndexOne", ());
    write(&mut guest, 1, &[25]);
    call::<(), i32>(&mut guest, "readWasmMemoryAndReturnIndexOne", ());
    snapshot(&mut guest);
    finish(guest)
}

fn as_buffers() -> Log {
    let module = module("fixtures/assemblyscript/buffers.wasm");
    let mut g = instantiate(module.guest_with(Log::new()));
    let data = [1u8, 2, 3, 250, 251, 252, 0, 9];
    let len = i32::try_from(data.len()).unwrap();
    let ptr: i32 = call(&mut g, "alloc", (len,)).unwrap();
    write(&mut g, addr(ptr), &data);
    call::<_, i32>(&mut g, "sum", (ptr, len));
    call::<_, i32>(&mut g, "fnv1a", (ptr, len));
    call::<_, ()>(&mut g, "reverse", (ptr, len));
    read(&mut g, addr(ptr), u64::try_from(data.len()).unwrap());
    // u32 values at an odd address: wasm loads are unaligned.
    let words: i32 = call(&mut g, "alloc", (17,)).unwrap();
    write_values::<u32>(
        &mut g,
        addr(words) + 1,
        &[0xffff_ffff, 1, 0x8000_0000, 12345],
    );
    call::<_, i64>(&mut g, "sumU32", (words + 1, 4));
    let floats: i32 = call(&mut g, "alloc", (12,)).unwrap();
    write_values::<f32>(&mut g, addr(floats), &[1.5, -2.25, 1e-3]);
    call::<_, ()>(&mut g, "scale", (floats, 3, 3.0f32));
    read(&mut g, addr(floats), 12);
    let copy: i32 = call(&mut g, "duplicate", (ptr, len)).unwrap();
    read(&mut g, addr(copy), u64::try_from(data.len()).unwrap());
    call::<_, ()>(&mut g, "dealloc", (copy,));
    snapshot(&mut g);
    finish(g)
}

fn as_structs() -> Log {
    let module = module("fixtures/assemblyscript/structs.wasm");
    let mut g = instantiate(module.guest_with(Log::new()));
    call::<(), i32>(&mut g, "particleSize", ());
    call::<(), i64>(&mut g, "particleOffsets", ());
    // Memory starts with 0 pages; the guest's heap (page 0) grows on demand.
    grow(&mut g, 2);
    let base = PAGE;
    let b = i32::try_from(base).unwrap();
    write_values::<f64>(&mut g, base, &[3.0, 4.0, -1.5, 0.25]);
    call::<_, f64>(&mut g, "vec2Length", (b,));
    call::<_, ()>(&mut g, "vec2Add", (b, b + 16, b + 32));
    read(&mut g, base + 32, 16);
    let p: i32 = call(
        &mut g,
        "newParticle",
        (7, 2.5f32, 1.0f64, 2.0f64, 0.5f64, -4.0f64),
    )
    .unwrap();
    read(&mut g, addr(p), 32);
    let vel = read_u32(&mut g, addr(p) + 12);
    read(&mut g, vel.into(), 16);
    call::<_, ()>(&mut g, "step", (p, 0.5f64));
    read(&mut g, addr(p), 32);
    // Three particles written by the host; only `mass` matters to totalMass.
    let arr = base + 64;
    for (i, mass) in [1.25f32, 2.5, -0.75].into_iter().enumerate() {
        let at = arr + 32 * u64::try_from(i).unwrap();
        write_values::<u32>(&mut g, at, &[u32::try_from(i).unwrap() + 1]);
        write_values::<f32>(&mut g, at + 8, &[mass]);
    }
    call::<_, f64>(&mut g, "totalMass", (i32::try_from(arr).unwrap(), 3));
    snapshot(&mut g);
    finish(g)
}

fn as_grow() -> Log {
    let module = module("fixtures/assemblyscript/grow.wasm");
    let mut g = instantiate(module.guest_with(Log::new()));
    let page = i32::try_from(PAGE).unwrap();
    call::<(), i32>(&mut g, "pages", ());
    call::<_, i32>(&mut g, "writeLastByte", (0xab,));
    read(&mut g, PAGE - 1, 1);
    call::<_, i32>(&mut g, "grow", (1,)); // the guest grows: 1 -> 2
    call::<(), i32>(&mut g, "pages", ());
    read(&mut g, PAGE - 1, 2);
    call::<_, i32>(&mut g, "writeLastByte", (0xcd,));
    grow(&mut g, 1); // the host grows: 2 -> 3, the maximum
    call::<(), i32>(&mut g, "pages", ());
    call::<_, i32>(&mut g, "grow", (1,)); // past the maximum: -1
    grow(&mut g, 1); // past the maximum: refused
    call::<_, i32>(&mut g, "readByte", (2 * page - 1,));
    call::<_, ()>(&mut g, "storeU32", (3 * page - 4, 0x0102_0304));
    call::<_, ()>(&mut g, "storeU32", (3 * page - 2, 0x0506_0708)); // trap
    read(&mut g, 3 * PAGE - 4, 4); // the trapped store wrote nothing
    call::<_, i32>(&mut g, "readByte", (3 * page,)); // trap
    call::<(), i32>(&mut g, "pages", ()); // still usable
    snapshot(&mut g);
    finish(g)
}

fn abort_calls(g: &mut Guest) {
    let end = i32::try_from(g.view().len()).unwrap();
    call::<_, i32>(g, "checkedDivide", (84, 2));
    call::<_, i32>(g, "checkedDivide", (1, 0));
    call::<_, i32>(g, "fail", (0,));
    call::<_, i32>(g, "fail", (7,));
    call::<(), ()>(g, "crash", ());
    call::<_, i32>(g, "divide", (7, 0));
    call::<_, i32>(g, "divide", (i32::MIN, -1));
    call::<_, i32>(g, "divide", (-7, 2));
    call::<_, i32>(g, "loadU32", (end - 3,));
    call::<_, i32>(g, "checkedDivide", (9, 3)); // usable after all that
    snapshot(g);
}

fn as_abort() -> Log {
    let module = module("fixtures/assemblyscript/abort.wasm");
    // linmem's ready-made env.abort: decodes the strings and fails the call.
    let builder = module
        .guest_with(Log::new())
        .assemblyscript_abort()
        .expect("env.abort");
    let mut g = instantiate(builder);
    abort_calls(&mut g);
    finish(g)
}

fn as_abort_returning() -> Log {
    let module = module("fixtures/assemblyscript/abort.wasm");
    // A host whose abort records and returns: the guest then executes `unreachable`.
    let builder = module
        .guest_with(Log::new())
        .host_func(
            "env",
            "abort",
            |mut cx: HostContext<'_, Log>, message: u32, file: u32, line: u32, column: u32| {
                let (view, log) = cx.view_and_data_mut()?;
                let view = view.as_view();
                let message = view.assemblyscript_string(message)?;
                let file = view.assemblyscript_string(file)?;
                log.push(json!({
                    "op": "abort", "message": message, "file": file, "line": line, "column": column
                }));
                Ok(())
            },
        )
        .expect("env.abort");
    let mut g = instantiate(builder);
    abort_calls(&mut g);
    finish(g)
}

const START_ABORT: &str = "fixtures/assemblyscript/start_abort.wasm";

/// A failed assert in top-level code: instantiation fails. JavaScript has no
/// memory to decode the message from yet, so the oracle records only line and
/// column; linmem can read the memory during the start function, and the
/// replay checks the decoded message as well.
fn as_start_abort() -> Log {
    let module = module(START_ABORT);
    let builder = module
        .guest_with(Log::new())
        .assemblyscript_abort()
        .expect("env.abort");
    let err = builder
        .instantiate()
        .expect_err("the start function aborts");
    let Error::HostFunc {
        func,
        error: source,
    } = err
    else {
        panic!("expected a host function error, got {err}");
    };
    assert_eq!(&*func, "(start)");
    let Error::Abort {
        message,
        file,
        line,
        column,
    } = *source
    else {
        panic!("expected an abort, got {source}");
    };
    assert_eq!(
        (message.as_str(), file.as_str()),
        ("needs 2 pages of memory", "start_abort.ts")
    );
    vec![
        json!({"op": "abort", "line": line, "column": column}),
        json!({"op": "instantiate", "host_error": "abort"}),
    ]
}

/// The same with an abort that returns: the start function then traps.
fn as_start_abort_returning() -> Log {
    let module = module(START_ABORT);
    // The guest's store (and its data) is gone when instantiation fails, so
    // the host function records into a log shared with the test.
    let shared = std::sync::Arc::new(std::sync::Mutex::new(Log::new()));
    let log = std::sync::Arc::clone(&shared);
    let builder = module
        .guest_with(Log::new())
        .host_func(
            "env",
            "abort",
            move |cx: HostContext<'_, Log>, message: u32, file: u32, line: u32, column: u32| {
                let view = cx.view()?;
                let message = view.assemblyscript_string(message)?;
                let file = view.assemblyscript_string(file)?;
                assert_eq!(
                    (message.as_str(), file.as_str()),
                    ("needs 2 pages of memory", "start_abort.ts")
                );
                log.lock()
                    .unwrap()
                    .push(json!({"op": "abort", "line": line, "column": column}));
                Ok(())
            },
        )
        .expect("env.abort");
    let err = builder.instantiate().expect_err("the start function traps");
    let Error::Trap { func, code, .. } = err else {
        panic!("expected a trap, got {err}");
    };
    assert_eq!(&*func, "(start)");
    let mut events = shared.lock().unwrap().clone();
    events.push(json!({"op": "instantiate", "trap": trap_name(code)}));
    events
}

fn as_strings() -> Log {
    const STRING_ID: i32 = 2;
    const ARRAYBUFFER_ID: i32 = 1;
    let module = module("fixtures/assemblyscript/strings.wasm");
    let builder = module
        .guest_with(Log::new())
        .assemblyscript_abort()
        .expect("env.abort");
    let mut g = instantiate(builder);
    // What AssemblyScript's loader does for a string argument: __new, write UTF-16LE, __pin.
    let new_string = |g: &mut Guest, text: &str| -> i32 {
        let bytes: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let len = i32::try_from(bytes.len()).unwrap();
        let ptr: i32 = call(g, "__new", (len, STRING_ID)).unwrap();
        write(g, addr(ptr), &bytes);
        call::<_, i32>(g, "__pin", (ptr,));
        ptr
    };
    let name = new_string(&mut g, "Wörld \u{1F30D}");
    as_string(&mut g, name);
    read(&mut g, addr(name) - 20, 20); // the object header
    let greeting: i32 = call(&mut g, "greet", (name,)).unwrap();
    as_string(&mut g, greeting);
    call::<_, i32>(&mut g, "length", (name,));
    call::<_, i32>(&mut g, "utf8Length", (name,));
    let utf8: i32 = call(&mut g, "encodeUtf8", (name,)).unwrap();
    read(&mut g, addr(utf8) - 8, 4); // rtId of ArrayBuffer: 1
    let utf8_len = read_u32(&mut g, addr(utf8) - 4);
    read(&mut g, addr(utf8), utf8_len.into());
    call::<_, i32>(&mut g, "sumBytes", (utf8,));
    let repeated: i32 = call(&mut g, "repeat", (name, 3)).unwrap();
    as_string(&mut g, repeated);
    let second: i32 = call(&mut g, "charAt", (name, 1)).unwrap();
    as_string(&mut g, second);
    let none: i32 = call(&mut g, "charAt", (name, 99)).unwrap();
    as_string(&mut g, none);
    let banner: i32 = call(&mut g, "banner", ()).unwrap();
    as_string(&mut g, banner);
    // An ArrayBuffer from the host: __new(len, 1).
    let text = "from the host: \u{e9}\u{e8}".as_bytes();
    let buf: i32 = call(
        &mut g,
        "__new",
        (i32::try_from(text.len()).unwrap(), ARRAYBUFFER_ID),
    )
    .unwrap();
    write(&mut g, addr(buf), text);
    call::<_, i32>(&mut g, "__pin", (buf,));
    let decoded: i32 = call(&mut g, "decodeUtf8", (buf,)).unwrap();
    as_string(&mut g, decoded);
    call::<_, i32>(&mut g, "sumBytes", (buf,));
    call::<_, i32>(&mut g, "repeat", (name, -1)); // abort
    call::<_, ()>(&mut g, "__unpin", (buf,));
    call::<_, ()>(&mut g, "__unpin", (name,));
    call::<_, ()>(&mut g, "__unpin", (name,)); // not pinned any more: abort
    call::<(), ()>(&mut g, "__collect", ());
    call::<_, i32>(&mut g, "length", (name,));
    snapshot(&mut g);
    finish(g)
}

fn c_buffers() -> Log {
    let module = module("fixtures/c/buffers.wasm");
    let mut g = instantiate(module.guest_with(Log::new()));
    let buf: i32 = call(&mut g, "shared_buffer", ()).unwrap();
    let data = [10u8, 20, 30, 40, 50, 255, 0, 7, 7];
    let len = i32::try_from(data.len()).unwrap();
    write(&mut g, addr(buf), &data);
    call::<_, i32>(&mut g, "sum_bytes", (buf, len));
    call::<_, i32>(&mut g, "fnv1a", (buf, len));
    call::<_, ()>(&mut g, "reverse", (buf, len));
    read(&mut g, addr(buf), u64::try_from(data.len()).unwrap());
    call::<_, ()>(&mut g, "reverse", (buf, 1));
    call::<_, ()>(&mut g, "reverse", (buf, 0));
    grow(&mut g, 1);
    let out = 2 * PAGE;
    call::<_, ()>(&mut g, "histogram", (buf, len, i32::try_from(out).unwrap()));
    read(&mut g, out, 256 * 4);
    write_values::<i64>(&mut g, addr(buf) + 16, &[-5, 1 << 62, 1 << 62, 3]);
    call::<_, i64>(&mut g, "sum_i64", (buf + 16, 4)); // wraps around
    call::<(), ()>(&mut g, "trap", ());
    call::<_, i32>(&mut g, "divide", (7, 0));
    call::<_, i32>(&mut g, "divide", (i32::MIN, -1));
    call::<_, i32>(&mut g, "divide", (-7, 2));
    let end = i32::try_from(g.view().len()).unwrap();
    call::<_, i32>(&mut g, "load_u32", (end - 2,));
    call::<_, i32>(&mut g, "load_u32", (-1,)); // 0xffffffff as an address
    call::<_, i32>(&mut g, "load_u32", (buf,));
    snapshot(&mut g);
    finish(g)
}

fn c_strings() -> Log {
    let module = module("fixtures/c/strings.wasm");
    let mut g = instantiate(module.guest_with(Log::new()));
    let buf: i32 = call(&mut g, "output_buffer", ()).unwrap();
    let input = buf + 96;
    write_c_string(&mut g, addr(input), "hello, wasm");
    call::<_, i32>(&mut g, "c_strlen", (input,));
    call::<_, i32>(&mut g, "to_upper", (input,));
    c_string(&mut g, input);
    write_c_string(&mut g, addr(input), "na\u{ef}ve \u{1F30D}");
    call::<_, i32>(&mut g, "c_strlen", (input,));
    call::<_, i32>(&mut g, "utf8_count", (input,));
    call::<_, i32>(&mut g, "greet", (input, buf, 64));
    c_string(&mut g, buf);
    call::<_, i32>(&mut g, "greet", (input, buf, 10)); // does not fit: -1
    write_c_string(&mut g, addr(input), "abcabd");
    write_c_string(&mut g, addr(input) + 16, "abd");
    let found: i32 = call(&mut g, "find", (input, input + 16)).unwrap();
    c_string(&mut g, found);
    write_c_string(&mut g, addr(input) + 16, "xyz");
    call::<_, i32>(&mut g, "find", (input, input + 16));
    let version: i32 = call(&mut g, "version", ()).unwrap();
    c_string(&mut g, version);
    snapshot(&mut g);
    finish(g)
}

fn c_structs() -> Log {
    let module = module("fixtures/c/structs.wasm");
    let mut g = instantiate(module.guest_with(Log::new()));
    call::<(), i32>(&mut g, "record_size", ());
    call::<(), i64>(&mut g, "record_offsets", ());
    let s: i32 = call(&mut g, "scratch_buffer", ()).unwrap();
    write_values::<i32>(&mut g, addr(s), &[3, -4, 10, 20]); // two struct point
    call::<_, ()>(&mut g, "point_add", (s, s + 8, s + 16));
    read(&mut g, addr(s) + 16, 8);
    call::<_, i64>(&mut g, "point_dot", (s, s + 8));
    call::<_, ()>(&mut g, "point_scale", (s + 24, s, -3)); // sret: result at s + 24
    read(&mut g, addr(s) + 24, 8);
    // A chain of two records: the guest fills one, the host writes the other.
    let (a, b) = (s + 64, s + 96);
    call::<_, ()>(&mut g, "record_init", (a, 0x41, 1001, 2.5f64, b));
    read(&mut g, addr(a), 32);
    let b = addr(b);
    write(&mut g, b, &[0x42, 0xee, 0xee, 0xee]); // tag and padding
    write_values::<u32>(&mut g, b + 4, &[1002]);
    write_values::<f64>(&mut g, b + 8, &[-0.75]);
    write_values::<i16>(&mut g, b + 16, &[100, 200, 300]);
    write_values::<u32>(&mut g, b + 24, &[0]);
    call::<_, f64>(&mut g, "record_chain_score", (a,));
    call::<_, i32>(&mut g, "records_delta_sum", (a, 2));
    snapshot(&mut g);
    finish(g)
}

fn c_traps() -> Log {
    let module = module("fixtures/c/traps.wasm");
    let mut g = instantiate(module.guest_with(Log::new()));
    let twice: i32 = call(&mut g, "twice_index", ()).unwrap();
    let nothing: i32 = call(&mut g, "nothing_index", ()).unwrap();
    call::<_, i32>(&mut g, "call_unary", (twice, 21));
    call::<_, i32>(&mut g, "call_unary", (0, 1)); // the table's null entry
    call::<_, i32>(&mut g, "call_unary", (nothing, 1)); // another signature
    call::<_, i32>(&mut g, "call_unary", (1000, 1)); // past the end of the table
    call::<_, i32>(&mut g, "truncate", (-2.75f64,));
    call::<_, i32>(&mut g, "truncate", (3e9f64,));
    call::<_, i32>(&mut g, "truncate", (f64::NAN,));
    call::<_, i32>(&mut g, "remainder", (-7, 3));
    call::<_, i32>(&mut g, "remainder", (7, 0));
    call::<_, i32>(&mut g, "remainder", (i32::MIN, -1)); // defined: 0
    call::<_, i32>(&mut g, "divide_unsigned", (-1, 2));
    call::<_, i32>(&mut g, "divide_unsigned", (1, 0));
    call::<_, i32>(&mut g, "recurse", (500,));
    call::<_, i32>(&mut g, "recurse", (100_000_000,)); // the call stack overflows
    call::<_, i32>(&mut g, "recurse", (10,)); // usable after it
    snapshot(&mut g);
    finish(g)
}

fn c_alloc() -> Log {
    let module = module("fixtures/c/alloc.wasm");
    let mut g = instantiate(module.guest_with(Log::new()));
    let page = i32::try_from(PAGE).unwrap();
    let a: i32 = call(&mut g, "alloc", (5,)).unwrap();
    write(&mut g, addr(a), b"hello");
    let b: i32 = call(&mut g, "alloc", (6,)).unwrap();
    write(&mut g, addr(b), b", wasm");
    let out_len: i32 = call(&mut g, "alloc", (4,)).unwrap();
    let joined: i32 = call(&mut g, "concat", (a, 5, b, 6, out_len)).unwrap();
    let len = read_u32(&mut g, addr(out_len));
    read(&mut g, addr(joined), len.into());
    call::<(), i32>(&mut g, "allocated_bytes", ());
    let s: i32 = call(&mut g, "alloc", (16,)).unwrap();
    write_c_string(&mut g, addr(s), "stressed");
    let reversed: i32 = call(&mut g, "reversed", (s,)).unwrap();
    c_string(&mut g, reversed);
    call::<_, ()>(&mut g, "dealloc", (joined, i32::try_from(len).unwrap()));
    call::<_, ()>(&mut g, "dealloc", (a, 5));
    call::<(), i32>(&mut g, "allocated_bytes", ());
    call::<_, i32>(&mut g, "alloc", (8,)); // reuses a freed block
    // Larger than memory: the guest's allocator grows memory itself.
    call::<_, i32>(&mut g, "alloc", (3 * page,));
    snapshot(&mut g);
    call::<_, i32>(&mut g, "alloc", (16 * page,)); // past the maximum: null
    call::<_, i32>(&mut g, "alloc", (-16,)); // 0xfffffff0 bytes: null
    call::<(), i32>(&mut g, "allocated_bytes", ());
    snapshot(&mut g);
    finish(g)
}

// ------------------------------------------------------------ Rust and WASI

/// Reads `len` bytes of UTF-8 with linmem's `str`.
fn utf8(guest: &mut Guest, at: u64, len: u64) -> String {
    let value = guest.view().str(at, len).expect("UTF-8").to_owned();
    guest
        .data_mut()
        .push(json!({"op": "utf8", "addr": at, "bytes": len, "value": value}));
    value
}

/// A Rust string passed in: allocated with the guest's `alloc`, UTF-8 written.
fn rust_string(g: &mut Guest, text: &str) -> (i32, i32) {
    let len = i32::try_from(text.len()).unwrap();
    let ptr: i32 = call(g, "alloc", (len,)).unwrap();
    write(g, addr(ptr), text.as_bytes());
    (ptr, len)
}

/// A Rust string returned as `ptr << 32 | len`: read it, then free it with `dealloc`.
fn take_rust_string(g: &mut Guest, packed: Option<i64>) -> String {
    let bits = packed.expect("a packed string").cast_unsigned();
    let (ptr, len) = (bits >> 32, bits & 0xffff_ffff);
    let value = utf8(g, ptr, len);
    let args = (
        u32::try_from(ptr).unwrap().cast_signed(),
        u32::try_from(len).unwrap().cast_signed(),
    );
    call::<_, ()>(g, "dealloc", args);
    value
}

fn rust_plugin() -> Log {
    let module = module("fixtures/rust/plugin.wasm");
    let mut g = instantiate(module.guest_with(Log::new()));
    call::<(), ()>(&mut g, "init", ());
    let (name, name_len) = rust_string(&mut g, "wörld");
    let greeting = call(&mut g, "greet", (name, name_len));
    take_rust_string(&mut g, greeting);
    call::<_, ()>(&mut g, "dealloc", (name, name_len));
    let (text, text_len) = rust_string(&mut g, "The cat and the hat; THE bat, and a cat.");
    let counts = call(&mut g, "word_counts", (text, text_len));
    take_rust_string(&mut g, counts);
    call::<_, ()>(&mut g, "dealloc", (text, text_len));
    let rect: i32 = call(&mut g, "alloc", (32,)).unwrap();
    write_values(&mut g, addr(rect), &[1.5f64, -2.0, 4.0, 2.5]);
    call::<_, f64>(&mut g, "rect_area", (rect,));
    let center: i32 = call(&mut g, "alloc", (16,)).unwrap();
    call::<_, ()>(&mut g, "rect_center", (rect, center));
    read(&mut g, addr(center), 16);
    let described = call(&mut g, "rect_describe", (rect,));
    take_rust_string(&mut g, described);
    let values: i32 = call(&mut g, "alloc", (28,)).unwrap();
    write_values(&mut g, addr(values), &[5i32, -3, 12, 7, 0, -8, 5]);
    let stats: i32 = call(&mut g, "stats", (values, 7)).unwrap();
    read(&mut g, addr(stats), 24);
    call::<_, ()>(&mut g, "dealloc", (stats, 24));
    call::<_, i32>(&mut g, "stats", (values, 0));
    call::<_, i32>(&mut g, "element", (values, 7, 2));
    call::<_, i32>(&mut g, "element", (values, 7, 7)); // panics: trap
    let panic = call(&mut g, "last_panic", ());
    take_rust_string(&mut g, panic);
    let (good, good_len) = rust_string(&mut g, " 42 ");
    call::<_, i32>(&mut g, "parse", (good, good_len));
    let (bad, bad_len) = rust_string(&mut g, "4x2");
    call::<_, i32>(&mut g, "parse", (bad, bad_len)); // panics: trap
    let panic = call(&mut g, "last_panic", ());
    take_rust_string(&mut g, panic);
    let (again, again_len) = rust_string(&mut g, "again");
    let greeting = call(&mut g, "greet", (again, again_len));
    take_rust_string(&mut g, greeting);
    let counts = call(&mut g, "call_counts", ());
    take_rust_string(&mut g, counts);
    snapshot(&mut g);
    finish(g)
}

/// A WASI scenario's configuration, as the oracle's `withWasi` takes it.
#[cfg(feature = "wasi")]
#[derive(Default)]
struct WasiScenario {
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
    stdin: &'static str,
    files: &'static [(&'static str, &'static str)],
}

/// The files of a directory, by name, as `[name, text]` pairs.
#[cfg(feature = "wasi")]
fn list_files(dir: &Path) -> Value {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .into_string()
                .expect("a name")
        })
        .collect();
    names.sort();
    let files: Vec<Value> = names
        .iter()
        .map(|name| {
            json!([
                name,
                std::fs::read_to_string(dir.join(name)).expect("a text file")
            ])
        })
        .collect();
    json!(files)
}

/// What the guest wrote to stdout and stderr since the last time, as events.
#[cfg(feature = "wasi")]
fn streams(g: &mut Guest) {
    for (name, bytes) in [
        ("stdout", g.take_wasi_stdout()),
        ("stderr", g.take_wasi_stderr()),
    ] {
        if !bytes.is_empty() {
            let text = String::from_utf8(bytes).expect("UTF-8 output");
            g.data_mut().push(json!({"op": name, "text": text}));
        }
    }
}

/// linmem as the host of a WASI guest, like the oracle's `withWasi`: a
/// fresh directory preopened as `/data`, captured stdout and stderr.
#[cfg(feature = "wasi")]
fn with_wasi(path: &str, scenario: &WasiScenario, body: fn(&mut Guest)) -> Log {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "linmem-replay-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let data = dir.join("data");
    std::fs::create_dir_all(&data).expect("create the data directory");
    for (name, text) in scenario.files {
        std::fs::write(data.join(name), text).expect("write an input file");
    }
    let config = linmem::WasiConfig::new()
        .args(scenario.args.iter().copied())
        .stdin(scenario.stdin.as_bytes().to_vec())
        .preopen_dir(&data, "/data");
    let config = scenario
        .env
        .iter()
        .fold(config, |config, (name, value)| config.env(*name, *value));
    let module = module(path);
    let mut builder = module.guest_with(Log::new()).wasi(config).expect("WASI");
    let env: Vec<Value> = scenario.env.iter().map(|(k, v)| json!([k, v])).collect();
    let files = list_files(&data);
    log(&mut builder).push(json!({
        "op": "wasi", "args": scenario.args, "env": env, "stdin": scenario.stdin, "files": files
    }));
    let mut g = instantiate(builder);
    body(&mut g);
    streams(&mut g);
    let files = list_files(&data);
    g.data_mut().push(json!({"op": "files", "files": files}));
    std::fs::remove_dir_all(&dir).expect("remove the scenario's directory");
    finish(g)
}

/// Runs a command's `_start`: an exit event with its code or its trap.
#[cfg(feature = "wasi")]
fn run_command(g: &mut Guest) {
    let event = match g.run_command() {
        Ok(code) => json!({"op": "exit", "code": code}),
        Err(Error::Trap { code, .. }) => json!({"op": "exit", "trap": trap_name(code)}),
        Err(other) => panic!("_start: unexpected error {other}"),
    };
    g.data_mut().push(event);
}

#[cfg(feature = "wasi")]
const INPUT: &str = "first line\nsecond line, longer\nthird\n";
#[cfg(feature = "wasi")]
const RUST_COMMAND: &str = "fixtures/rust/wasi_command.wasm";
#[cfg(feature = "wasi")]
const C_NUMBERS: &str = "fixtures/c/wasi_numbers.wasm";

#[cfg(feature = "wasi")]
fn wasi_rust_command() -> Log {
    let scenario = WasiScenario {
        args: &["wasi_command", "--exit", "3"],
        env: &[("GREETING_NAME", "linmem"), ("UNUSED", "x=y")],
        stdin: "some input\n",
        files: &[("input.txt", INPUT)],
    };
    with_wasi(RUST_COMMAND, &scenario, run_command)
}

#[cfg(feature = "wasi")]
fn wasi_rust_command_return() -> Log {
    let scenario = WasiScenario {
        args: &["wasi_command"],
        files: &[("input.txt", INPUT)],
        ..WasiScenario::default()
    };
    with_wasi(RUST_COMMAND, &scenario, run_command)
}

#[cfg(feature = "wasi")]
fn wasi_rust_command_panic() -> Log {
    let scenario = WasiScenario {
        args: &["wasi_command", "--panic"],
        env: &[("GREETING_NAME", "panicker")],
        files: &[("input.txt", INPUT)],
        ..WasiScenario::default()
    };
    with_wasi(RUST_COMMAND, &scenario, run_command)
}

#[cfg(feature = "wasi")]
fn wasi_rust_command_paths() -> Log {
    let scenario = WasiScenario {
        args: &[
            "wasi_command",
            "--input",
            "/data/missing.txt",
            "--exit",
            "0",
        ],
        files: &[("input.txt", INPUT)],
        ..WasiScenario::default()
    };
    with_wasi(RUST_COMMAND, &scenario, run_command)
}

#[cfg(feature = "wasi")]
fn wasi_rust_command_outside() -> Log {
    let scenario = WasiScenario {
        args: &[
            "wasi_command",
            "--output",
            "/elsewhere/out.txt",
            "--exit",
            "255",
        ],
        files: &[("input.txt", INPUT)],
        ..WasiScenario::default()
    };
    with_wasi(RUST_COMMAND, &scenario, run_command)
}

#[cfg(feature = "wasi")]
fn wasi_c_numbers() -> Log {
    let scenario = WasiScenario {
        args: &["wasi_numbers"],
        files: &[(
            "numbers.txt",
            "5 -3 12\n7 0 -8 5\n100 2147483647 -2147483648\n",
        )],
        ..WasiScenario::default()
    };
    with_wasi(C_NUMBERS, &scenario, run_command)
}

#[cfg(feature = "wasi")]
fn wasi_c_numbers_positive() -> Log {
    let scenario = WasiScenario {
        args: &["wasi_numbers", "/data/in.txt", "/data/out.txt"],
        files: &[("in.txt", "3 1 2\n")],
        ..WasiScenario::default()
    };
    with_wasi(C_NUMBERS, &scenario, run_command)
}

#[cfg(feature = "wasi")]
fn wasi_c_numbers_missing() -> Log {
    let scenario = WasiScenario {
        args: &["wasi_numbers", "/data/absent.txt"],
        ..WasiScenario::default()
    };
    with_wasi(C_NUMBERS, &scenario, run_command)
}

#[cfg(feature = "wasi")]
fn wasi_rust_reactor() -> Log {
    let scenario = WasiScenario {
        env: &[("REACTOR_TITLE", "groceries")],
        ..WasiScenario::default()
    };
    with_wasi("fixtures/rust/wasi_reactor.wasm", &scenario, |g| {
        for item in ["pears", "apples", "dates ünd figs"] {
            let (ptr, len) = rust_string(g, item);
            call::<_, i32>(g, "push", (ptr, len));
            call::<_, ()>(g, "dealloc", (ptr, len));
        }
        streams(g);
        let rendered = call(g, "render", ());
        take_rust_string(g, rendered);
        streams(g);
        call::<(), ()>(g, "clear", ());
        let (ptr, len) = rust_string(g, "milk");
        call::<_, i32>(g, "push", (ptr, len));
        let rendered = call(g, "render", ());
        take_rust_string(g, rendered);
        snapshot(g);
    })
}

/// A replay: the oracle's scenario name, the module it loads, the host code.
type Replay = (&'static str, &'static str, fn() -> Log);

/// Every replay, by the oracle's scenario name.
const REPLAYS: &[Replay] = &[
    (
        "as/linear_memory",
        "fixtures/assemblyscript/linear_memory.wasm",
        as_linear_memory,
    ),
    (
        "as/linear_memory.stub",
        "fixtures/assemblyscript/linear_memory.stub.wasm",
        as_linear_memory_stub,
    ),
    (
        "as/linear_memory.optimized",
        "fixtures/assemblyscript/linear_memory.optimized.wasm",
        as_linear_memory_optimized,
    ),
    (
        "as/linear_memory.membase100",
        "fixtures/assemblyscript/linear_memory.membase100.wasm",
        as_linear_memory_membase100,
    ),
    (
        "as/linear_memory.exportstart",
        "fixtures/assemblyscript/linear_memory.exportstart.wasm",
        as_linear_memory_exportstart,
    ),
    (
        "as/linear_memory.importmemory",
        "fixtures/assemblyscript/linear_memory.importmemory.wasm",
        as_linear_memory_importmemory,
    ),
    (
        "as/buffers",
        "fixtures/assemblyscript/buffers.wasm",
        as_buffers,
    ),
    (
        "as/structs",
        "fixtures/assemblyscript/structs.wasm",
        as_structs,
    ),
    ("as/grow", "fixtures/assemblyscript/grow.wasm", as_grow),
    ("as/abort", "fixtures/assemblyscript/abort.wasm", as_abort),
    (
        "as/abort.returning",
        "fixtures/assemblyscript/abort.wasm",
        as_abort_returning,
    ),
    ("as/start_abort", START_ABORT, as_start_abort),
    (
        "as/start_abort.returning",
        START_ABORT,
        as_start_abort_returning,
    ),
    (
        "as/strings",
        "fixtures/assemblyscript/strings.wasm",
        as_strings,
    ),
    ("c/buffers", "fixtures/c/buffers.wasm", c_buffers),
    ("c/strings", "fixtures/c/strings.wasm", c_strings),
    ("c/structs", "fixtures/c/structs.wasm", c_structs),
    ("c/traps", "fixtures/c/traps.wasm", c_traps),
    ("c/alloc", "fixtures/c/alloc.wasm", c_alloc),
    ("rust/plugin", "fixtures/rust/plugin.wasm", rust_plugin),
    #[cfg(feature = "wasi")]
    ("wasi/rust_command", RUST_COMMAND, wasi_rust_command),
    #[cfg(feature = "wasi")]
    (
        "wasi/rust_command.return",
        RUST_COMMAND,
        wasi_rust_command_return,
    ),
    #[cfg(feature = "wasi")]
    (
        "wasi/rust_command.panic",
        RUST_COMMAND,
        wasi_rust_command_panic,
    ),
    #[cfg(feature = "wasi")]
    (
        "wasi/rust_command.paths",
        RUST_COMMAND,
        wasi_rust_command_paths,
    ),
    #[cfg(feature = "wasi")]
    (
        "wasi/rust_command.outside",
        RUST_COMMAND,
        wasi_rust_command_outside,
    ),
    #[cfg(feature = "wasi")]
    ("wasi/c_numbers", C_NUMBERS, wasi_c_numbers),
    #[cfg(feature = "wasi")]
    (
        "wasi/c_numbers.positive",
        C_NUMBERS,
        wasi_c_numbers_positive,
    ),
    #[cfg(feature = "wasi")]
    ("wasi/c_numbers.missing", C_NUMBERS, wasi_c_numbers_missing),
    #[cfg(feature = "wasi")]
    (
        "wasi/rust_reactor",
        "fixtures/rust/wasi_reactor.wasm",
        wasi_rust_reactor,
    ),
];

/// Whether a scenario of the oracle needs the `wasi` feature to replay.
fn needs_wasi(name: &str) -> bool {
    name.starts_with("wasi/")
}

fn expected() -> Value {
    let path =
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).join("fixtures/v8-expected.json");
    let text = std::fs::read_to_string(&path).expect("fixtures/v8-expected.json");
    serde_json::from_str(&text).expect("valid JSON")
}

/// Whether linmem's event is V8's: equal, except that a trap matches when
/// wasmi's code is one of those `trap_kinds` lists for V8's message.
fn same_event(expected: &Value, actual: &Value, trap_kinds: &Value) -> bool {
    let (Some(v8_trap), Some(code)) = (expected.get("trap"), actual.get("trap")) else {
        return expected == actual;
    };
    let matches = trap_kinds[v8_trap.as_str().expect("a message")]
        .as_array()
        .is_some_and(|codes| codes.contains(code));
    let without_trap = |event: &Value| {
        let mut event = event.clone();
        event.as_object_mut().expect("an event").remove("trap");
        event
    };
    matches && without_trap(expected) == without_trap(actual)
}

/// The first difference between V8's events and linmem's, if any.
fn first_difference(expected: &[Value], actual: &[Value], trap_kinds: &Value) -> Option<String> {
    let shared = expected.len().min(actual.len());
    if let Some(i) = (0..shared).find(|&i| !same_event(&expected[i], &actual[i], trap_kinds)) {
        return Some(format!(
            "event {i}:\n    V8:     {}\n    linmem: {}",
            expected[i], actual[i]
        ));
    }
    (expected.len() != actual.len()).then(|| {
        format!(
            "{} events from V8, {} from linmem; first unmatched: {}",
            expected.len(),
            actual.len(),
            expected.get(shared).or(actual.get(shared)).unwrap()
        )
    })
}

#[test]
fn every_scenario_matches_v8() {
    let expected = expected();
    let scenarios: Vec<&Value> = expected["scenarios"]
        .as_array()
        .expect("scenarios")
        .iter()
        .filter(|s| cfg!(feature = "wasi") || !needs_wasi(s["name"].as_str().expect("name")))
        .collect();
    assert_eq!(
        scenarios.len(),
        REPLAYS.len(),
        "the oracle has {} scenarios, the replay {}",
        scenarios.len(),
        REPLAYS.len()
    );
    let mut failures = Vec::new();
    for scenario in &scenarios {
        let name = scenario["name"].as_str().expect("name");
        let module = scenario["module"].as_str().expect("module");
        let events = scenario["events"].as_array().expect("events");
        let Some(&(_, replay_module, replay)) = REPLAYS.iter().find(|(n, ..)| *n == name) else {
            failures.push(format!("{name}: no replay in tests/real_guests.rs"));
            continue;
        };
        assert_eq!(replay_module, module, "{name}: module path");
        assert!(
            events.len() > 1,
            "{name}: the oracle recorded {} events",
            events.len()
        );
        if let Some(diff) = first_difference(events, &replay(), &expected["trap_kinds"]) {
            failures.push(format!("{name}: {diff}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} scenarios differ from V8:\n{}",
        failures.len(),
        scenarios.len(),
        failures.join("\n")
    );
}

#[test]
fn the_trap_table_names_real_trap_codes_and_covers_every_v8_trap() {
    let expected = expected();
    let all_codes = [
        TrapCode::UnreachableCodeReached,
        TrapCode::MemoryOutOfBounds,
        TrapCode::TableOutOfBounds,
        TrapCode::IndirectCallToNull,
        TrapCode::IntegerDivisionByZero,
        TrapCode::IntegerOverflow,
        TrapCode::BadConversionToInteger,
        TrapCode::StackOverflow,
        TrapCode::BadSignature,
        TrapCode::OutOfFuel,
        TrapCode::GrowthOperationLimited,
        TrapCode::OutOfSystemMemory,
    ]
    .map(trap_name);
    let table = expected["trap_kinds"].as_object().expect("trap_kinds");
    for (message, codes) in table {
        for code in codes.as_array().expect("a list of codes") {
            let code = code.as_str().expect("a code name");
            assert!(
                all_codes.iter().any(|c| c == code),
                "V8's {message:?} maps to {code}, which is no TrapCode"
            );
        }
    }
    let mut traps = 0;
    for scenario in expected["scenarios"].as_array().expect("scenarios") {
        for event in scenario["events"].as_array().expect("events") {
            if let Some(message) = event.get("trap") {
                assert!(
                    table.contains_key(message.as_str().expect("a message")),
                    "{event} has a trap message the table does not map"
                );
                traps += 1;
            }
        }
    }
    assert!(traps >= 20, "only {traps} traps in the expected file");
}

#[test]
fn the_fnv1a64_digest_is_the_oracles() {
    // The published FNV-1a 64 test vectors, which the oracle's two-halves version also gives.
    assert_eq!(fnv1a64(b""), "cbf29ce484222325");
    assert_eq!(fnv1a64(b"a"), "af63dc4c8601ec8c");
    assert_eq!(fnv1a64(b"foobar"), "85944171f73967e8");
}
