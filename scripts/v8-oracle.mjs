#!/usr/bin/env node
// The V8 oracle: plays the host's part for every real-toolchain guest in
// fixtures/ with the JavaScript WebAssembly API, and records what V8 did into
// fixtures/v8-expected.json. tests/real_guests.rs replays the same scenarios
// through linmem and compares every event.
//
//   node scripts/v8-oracle.mjs           # rewrite fixtures/v8-expected.json
//   node scripts/v8-oracle.mjs --check   # exit 1 if V8's results differ from it
//
// It needs only node and the committed .wasm files (no npm package).
//
// Each scenario is a list of events, written identically by the Rust replay:
//   {"op":"instantiate","pages":N}             start ran; memory size after it
//   {"op":"read","addr":A,"hex":"..."}          host read bytes
//   {"op":"write","addr":A,"hex":"..."}         host wrote bytes
//   {"op":"call","func":F,"args":[...],"results":[...]}   or "trap":MESSAGE / "host_error":"abort"
//   {"op":"grow","by":N,"result":OLD}           host grew memory ("result":"error" if refused)
//   {"op":"abort","message":M,"file":F,"line":L,"column":C}   the guest called env.abort
//                                               (no message/file from a start function: JS has no memory yet)
//   {"op":"as_string","addr":A,"bytes":N,"value":S}   an AssemblyScript string (UTF-16LE, byte length at A-4)
//   {"op":"c_string","addr":A,"value":S}        a NUL-terminated UTF-8 string
//   {"op":"memory","pages":N,"fnv1a64":H}       size and FNV-1a 64 of all of memory
//   {"op":"utf8","addr":A,"bytes":N,"value":S}  N bytes of UTF-8 at A (a Rust guest's string)
// WASI guests (node:wasi, preview 1, as the host) add:
//   {"op":"wasi","args":[...],"env":[[K,V],...],"stdin":S,"files":[[NAME,TEXT],...]}
//                                               the configuration: files are /data's before the run
//   {"op":"exit","code":N}                      _start returned (0) or the guest called proc_exit(N)
//   {"op":"exit","trap":MESSAGE}                _start trapped
//   {"op":"stdout","text":S} / {"op":"stderr","text":S}   what the guest wrote since the last such event
//   {"op":"files","files":[[NAME,TEXT],...]}    /data's files after the run, by name
// Values are "i32:-5", "i64:7", "f32:0x3fc00000", "f64:0x3ff8000000000000"
// (floats by their bits). A trap is V8's message; "trap_kinds" in the output
// maps each message to the wasmi TrapCodes that match it.

import {
  closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { WASI } from "node:wasi";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const expectedPath = join(root, "fixtures", "v8-expected.json");
const PAGE = 65536;

// V8's trap messages (WebAssembly.RuntimeError, and RangeError for the call
// stack), each with the wasmi TrapCodes it stands for. Events record V8's
// message; the replay passes when wasmi's code is one of the message's. V8 says
// "float unrepresentable in integer range" both for an out-of-range float
// (wasmi, like the spec's tests: IntegerOverflow) and for NaN
// (BadConversionToInteger), and one message for a null entry and a signature
// mismatch.
const TRAP_KINDS = {
  "unreachable": ["UnreachableCodeReached"],
  "memory access out of bounds": ["MemoryOutOfBounds"],
  "divide by zero": ["IntegerDivisionByZero"],
  "remainder by zero": ["IntegerDivisionByZero"],
  "divide result unrepresentable": ["IntegerOverflow"],
  "float unrepresentable in integer range": ["IntegerOverflow", "BadConversionToInteger"],
  "table index is out of bounds": ["TableOutOfBounds"],
  "null function or function signature mismatch": ["IndirectCallToNull", "BadSignature"],
  "Maximum call stack size exceeded": ["StackOverflow"],
};

class AbortError extends Error {}

const hex = (bytes) => Buffer.from(bytes).toString("hex");

function fnv1a64(bytes) {
  // 64-bit FNV-1a on two 32-bit halves (BigInt per byte is slow).
  let hi = 0xcbf29ce4, lo = 0x84222325;
  for (let i = 0; i < bytes.length; i++) {
    lo = (lo ^ bytes[i]) >>> 0;
    // multiply (hi, lo) by the prime 0x100000001b3 = 2^40 + 0x1b3, modulo 2^64
    const loMul = lo * 0x1b3;
    const carry = Math.floor(loMul / 0x100000000);
    const newLo = loMul >>> 0;
    const newHi = (Math.imul(hi, 0x1b3) + carry + ((lo << 8) >>> 0)) >>> 0;
    lo = newLo;
    hi = newHi;
  }
  return hi.toString(16).padStart(8, "0") + lo.toString(16).padStart(8, "0");
}

function f32Bits(x) {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, x, true);
  return "0x" + view.getUint32(0, true).toString(16).padStart(8, "0");
}

function f64Bits(x) {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x, true);
  return "0x" + view.getBigUint64(0, true).toString(16).padStart(16, "0");
}

function encode(type, value) {
  switch (type) {
    case "i32": return `i32:${value | 0}`;
    case "i64": return `i64:${BigInt.asIntN(64, BigInt(value))}`;
    case "f32": return `f32:${f32Bits(value)}`;
    case "f64": return `f64:${f64Bits(value)}`;
    default: throw new Error(`unknown type ${type}`);
  }
}

/** Parses "i32,i32->i64" into parameter and result types. */
function signature(sig) {
  const [params, results] = sig.split("->");
  const list = (s) => (s ? s.split(",").map((t) => t.trim()).filter(Boolean) : []);
  return { params: list(params), results: list(results) };
}

function decodeUtf16(bytes) {
  return new TextDecoder("utf-16le", { fatal: true }).decode(bytes);
}

/** One scenario: a guest, the host's actions on it, and the events recorded. */
class Host {
  constructor(name, module) {
    this.name = name;
    this.module = module;
    this.events = [];
    this.memory = null;
    this.exports = null;
  }

  /** The bytes of memory now: a fresh view every time, so a grow never leaves it detached. */
  get bytes() {
    return new Uint8Array(this.memory.buffer);
  }

  instantiate(imports = {}, { memory } = {}) {
    const bytes = readFileSync(join(root, this.module));
    const module = new WebAssembly.Module(bytes);
    try {
      const instance = new WebAssembly.Instance(module, imports);
      this.instance = instance;
      this.exports = instance.exports;
      this.memory = memory ?? instance.exports.memory;
      this.events.push({ op: "instantiate", pages: this.pages() });
    } catch (error) {
      this.events.push({ op: "instantiate", ...classify(error) });
      throw error;
    }
    return this.exports;
  }

  pages() {
    return this.memory.buffer.byteLength / PAGE;
  }

  read(addr, len) {
    const bytes = this.bytes.slice(addr, addr + len);
    if (bytes.length !== len) throw new Error(`host read out of bounds at ${addr}`);
    this.events.push({ op: "read", addr, hex: hex(bytes) });
    return bytes;
  }

  readU32(addr) {
    return new DataView(this.read(addr, 4).buffer).getUint32(0, true);
  }

  write(addr, data) {
    const bytes = Uint8Array.from(data);
    if (addr + bytes.length > this.bytes.length) throw new Error(`host write out of bounds at ${addr}`);
    this.bytes.set(bytes, addr);
    this.events.push({ op: "write", addr, hex: hex(bytes) });
  }

  /** Writes little-endian values of one type ("u8", "u32", "i16", "f32", "f64", "i64"). */
  writeValues(addr, type, values) {
    const sizes = { u8: 1, i16: 2, u32: 4, i32: 4, f32: 4, f64: 8, i64: 8 };
    const size = sizes[type];
    const view = new DataView(new ArrayBuffer(size * values.length));
    values.forEach((v, i) => {
      const at = i * size;
      switch (type) {
        case "u8": view.setUint8(at, v); break;
        case "i16": view.setInt16(at, v, true); break;
        case "u32": view.setUint32(at, v, true); break;
        case "i32": view.setInt32(at, v, true); break;
        case "f32": view.setFloat32(at, v, true); break;
        case "f64": view.setFloat64(at, v, true); break;
        case "i64": view.setBigInt64(at, BigInt(v), true); break;
      }
    });
    this.write(addr, new Uint8Array(view.buffer));
  }

  /** Calls an export with the given signature; returns its result, or undefined after a trap. */
  call(func, sig, ...args) {
    const { params, results } = signature(sig);
    if (params.length !== args.length) throw new Error(`${func}: ${args.length} args for ${sig}`);
    const event = { op: "call", func, args: params.map((t, i) => encode(t, args[i])) };
    let value;
    try {
      value = this.exports[func](...args);
    } catch (error) {
      this.events.push({ ...event, ...classify(error) });
      return undefined;
    }
    const values = results.length === 0 ? [] : results.length === 1 ? [value] : value;
    this.events.push({ ...event, results: results.map((t, i) => encode(t, values[i])) });
    return value;
  }

  grow(by) {
    let result;
    try {
      result = this.memory.grow(by);
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      result = "error";
    }
    this.events.push({ op: "grow", by, result });
    return result;
  }

  /** Reads an AssemblyScript string: UTF-16LE, byte length in the u32 at ptr - 4. */
  asString(ptr) {
    const view = new DataView(this.memory.buffer);
    const len = view.getUint32(ptr - 4, true);
    const value = decodeUtf16(this.bytes.slice(ptr, ptr + len));
    this.events.push({ op: "as_string", addr: ptr, bytes: len, value });
    return value;
  }

  /** Reads a NUL-terminated UTF-8 string. */
  cString(ptr) {
    const bytes = this.bytes;
    let end = ptr;
    while (bytes[end] !== 0) {
      if (end >= bytes.length) throw new Error(`unterminated string at ${ptr}`);
      end++;
    }
    const value = new TextDecoder("utf-8", { fatal: true }).decode(bytes.slice(ptr, end));
    this.events.push({ op: "c_string", addr: ptr, value });
    return value;
  }

  /** Reads `len` bytes of UTF-8 at `ptr`. */
  utf8(ptr, len) {
    const value = new TextDecoder("utf-8", { fatal: true }).decode(this.bytes.slice(ptr, ptr + len));
    this.events.push({ op: "utf8", addr: ptr, bytes: len, value });
    return value;
  }

  /** Writes a NUL-terminated UTF-8 string; returns its byte length without the NUL. */
  writeCString(addr, text) {
    const bytes = new TextEncoder().encode(text);
    this.write(addr, [...bytes, 0]);
    return bytes.length;
  }

  /** The memory's size and a hash of all of its bytes. */
  snapshot() {
    this.events.push({ op: "memory", pages: this.pages(), fnv1a64: fnv1a64(this.bytes) });
  }

  /** `env.abort` as AssemblyScript's JS loader does it: decode, then throw. */
  abortImport({ throws = true } = {}) {
    return (message, file, line, column) => {
      if (this.memory === null) {
        // Called by the start function: JavaScript has no instance yet, so
        // no exported memory to decode the strings from.
        this.events.push({ op: "abort", line, column });
      } else {
        const decode = (ptr) => {
          if (ptr === 0) return null;
          const len = new DataView(this.memory.buffer).getUint32(ptr - 4, true);
          return decodeUtf16(this.bytes.slice(ptr, ptr + len));
        };
        this.events.push({ op: "abort", message: decode(message), file: decode(file), line, column });
      }
      if (throws) throw new AbortError("abort");
    };
  }
}

function classify(error) {
  if (error instanceof AbortError) return { host_error: "abort" };
  if (error instanceof WebAssembly.RuntimeError || error instanceof RangeError) {
    if (Object.hasOwn(TRAP_KINDS, error.message)) return { trap: error.message };
  }
  throw new Error(`unclassified error: ${error}`);
}

const I32_MIN = -2147483648;

// ------------------------------------------------------------------ scenarios

const scenarios = [];
const scenario = (name, module, host) => scenarios.push({ name, module, host });

// The reference page's host code, for each build of its program.
function referencePage(h, imports = {}) {
  const exports = h.instantiate(imports);
  // const wasmByteMemoryArray = new Uint8Array(memory.buffer);
  // console.log(wasmByteMemoryArray[0]);  // 24
  h.read(0, 1);
  // wasmByteMemoryArray[1] = 25;
  h.write(1, [25]);
  // console.log(exports.readWasmMemoryAndReturnIndexOne());  // 25
  h.call("readWasmMemoryAndReturnIndexOne", "->i32");
  h.snapshot();
  return exports;
}

for (const build of ["", ".stub", ".optimized", ".membase100"]) {
  scenario(`as/linear_memory${build}`, `fixtures/assemblyscript/linear_memory${build}.wasm`, (h) => {
    referencePage(h);
    // The host grows memory too; the guest still sees what the host wrote.
    h.grow(1);
    h.write(PAGE + 1, [26]);
    h.call("readWasmMemoryAndReturnIndexOne", "->i32");
    h.snapshot();
  });
}

scenario("as/linear_memory.exportstart", "fixtures/assemblyscript/linear_memory.exportstart.wasm", (h) => {
  h.instantiate(); // no start function ran: memory has 0 pages
  h.call("readWasmMemoryAndReturnIndexOne", "->i32"); // load at 1 in 0 pages: trap
  h.call("_start", "->");
  h.read(0, 1);
  h.write(1, [25]);
  h.call("readWasmMemoryAndReturnIndexOne", "->i32");
  h.call("_start", "->"); // runs once only: no second grow
  h.snapshot();
});

scenario("as/linear_memory.importmemory", "fixtures/assemblyscript/linear_memory.importmemory.wasm", (h) => {
  // The host creates env.memory with one page and writes before the guest exists.
  const memory = new WebAssembly.Memory({ initial: 1 });
  h.memory = memory;
  h.write(1, [7]);
  h.instantiate({ env: { memory } }, { memory });
  h.read(0, 2);
  h.call("readWasmMemoryAndReturnIndexOne", "->i32");
  h.write(1, [25]);
  h.call("readWasmMemoryAndReturnIndexOne", "->i32");
  h.snapshot();
});

scenario("as/buffers", "fixtures/assemblyscript/buffers.wasm", (h) => {
  h.instantiate();
  const data = [1, 2, 3, 250, 251, 252, 0, 9];
  const ptr = h.call("alloc", "i32->i32", data.length);
  h.write(ptr, data);
  h.call("sum", "i32,i32->i32", ptr, data.length);
  h.call("fnv1a", "i32,i32->i32", ptr, data.length);
  h.call("reverse", "i32,i32->", ptr, data.length);
  h.read(ptr, data.length);
  // u32 values at an odd address: wasm loads are unaligned.
  const words = h.call("alloc", "i32->i32", 17);
  h.writeValues(words + 1, "u32", [0xffffffff, 1, 0x80000000, 12345]);
  h.call("sumU32", "i32,i32->i64", words + 1, 4);
  const floats = h.call("alloc", "i32->i32", 12);
  h.writeValues(floats, "f32", [1.5, -2.25, 1e-3]);
  h.call("scale", "i32,i32,f32->", floats, 3, 3);
  h.read(floats, 12);
  const copy = h.call("duplicate", "i32,i32->i32", ptr, data.length);
  h.read(copy, data.length);
  h.call("dealloc", "i32->", copy);
  h.snapshot();
});

scenario("as/structs", "fixtures/assemblyscript/structs.wasm", (h) => {
  h.instantiate();
  h.call("particleSize", "->i32");
  h.call("particleOffsets", "->i64");
  // Two Vec2 {x: f64, y: f64} written by the host, at an address the guest's heap will not use.
  // Memory starts with 0 pages; the guest's heap (page 0) grows on demand.
  h.grow(2);
  const base = PAGE;
  h.writeValues(base, "f64", [3, 4, -1.5, 0.25]);
  h.call("vec2Length", "i32->f64", base);
  h.call("vec2Add", "i32,i32,i32->", base, base + 16, base + 32);
  h.read(base + 32, 16);
  const p = h.call("newParticle", "i32,f32,f64,f64,f64,f64->i32", 7, 2.5, 1, 2, 0.5, -4);
  h.read(p, 32);
  const vel = h.readU32(p + 12);
  h.read(vel, 16);
  h.call("step", "i32,f64->", p, 0.5);
  h.read(p, 32);
  // An array of three particles written by the host; only `mass` matters to totalMass.
  const arr = base + 64;
  for (const [i, mass] of [1.25, 2.5, -0.75].entries()) {
    h.writeValues(arr + i * 32, "u32", [i + 1]);
    h.writeValues(arr + i * 32 + 8, "f32", [mass]);
  }
  h.call("totalMass", "i32,i32->f64", arr, 3);
  h.snapshot();
});

scenario("as/grow", "fixtures/assemblyscript/grow.wasm", (h) => {
  h.instantiate();
  h.call("pages", "->i32");
  h.call("writeLastByte", "i32->i32", 0xab);
  h.read(PAGE - 1, 1);
  h.call("grow", "i32->i32", 1); // guest grows: 1 -> 2
  h.call("pages", "->i32");
  h.read(PAGE - 1, 2); // the old last byte and the new page's first
  h.call("writeLastByte", "i32->i32", 0xcd);
  h.grow(1); // host grows: 2 -> 3, the maximum
  h.call("pages", "->i32");
  h.call("grow", "i32->i32", 1); // past the maximum: -1
  h.grow(1); // past the maximum: refused
  h.call("readByte", "i32->i32", 2 * PAGE - 1);
  h.call("storeU32", "i32,i32->", 3 * PAGE - 4, 0x01020304);
  h.call("storeU32", "i32,i32->", 3 * PAGE - 2, 0x05060708); // straddles the end: trap
  h.read(3 * PAGE - 4, 4); // the trapped store wrote nothing
  h.call("readByte", "i32->i32", 3 * PAGE); // one past the end: trap
  h.call("pages", "->i32"); // still usable after the traps
  h.snapshot();
});

function abortScenario(h, throws) {
  h.instantiate({ env: { abort: h.abortImport({ throws }) } });
  h.call("checkedDivide", "i32,i32->i32", 84, 2);
  h.call("checkedDivide", "i32,i32->i32", 1, 0);
  h.call("fail", "i32->i32", 0);
  h.call("fail", "i32->i32", 7);
  h.call("crash", "->");
  h.call("divide", "i32,i32->i32", 7, 0);
  h.call("divide", "i32,i32->i32", I32_MIN, -1);
  h.call("divide", "i32,i32->i32", -7, 2);
  h.call("loadU32", "i32->i32", h.pages() * PAGE - 3);
  h.call("checkedDivide", "i32,i32->i32", 9, 3); // usable after all that
  h.snapshot();
}

scenario("as/abort", "fixtures/assemblyscript/abort.wasm", (h) => abortScenario(h, true));
// A host whose abort records and returns: the guest then executes `unreachable`.
scenario("as/abort.returning", "fixtures/assemblyscript/abort.wasm", (h) => abortScenario(h, false));

// A failed assert in top-level code: instantiation itself fails.
function startAbortScenario(h, throws) {
  try {
    h.instantiate({ env: { abort: h.abortImport({ throws }) } });
  } catch {
    return; // recorded by instantiate
  }
  throw new Error("instantiation should have failed");
}

scenario("as/start_abort", "fixtures/assemblyscript/start_abort.wasm", (h) => startAbortScenario(h, true));
scenario("as/start_abort.returning", "fixtures/assemblyscript/start_abort.wasm", (h) =>
  startAbortScenario(h, false),
);

scenario("as/strings", "fixtures/assemblyscript/strings.wasm", (h) => {
  h.instantiate({ env: { abort: h.abortImport() } });
  const STRING_ID = 2, ARRAYBUFFER_ID = 1;
  // What AssemblyScript's loader does for a string argument: __new, write UTF-16LE, __pin.
  const newString = (text) => {
    const units = text.length; // UTF-16 code units
    const ptr = h.call("__new", "i32,i32->i32", units * 2, STRING_ID);
    const bytes = new Uint8Array(units * 2);
    for (let i = 0; i < units; i++) {
      const unit = text.charCodeAt(i);
      bytes[2 * i] = unit & 0xff;
      bytes[2 * i + 1] = unit >> 8;
    }
    h.write(ptr, bytes);
    h.call("__pin", "i32->i32", ptr);
    return ptr;
  };
  const name = newString("Wörld \u{1F30D}");
  h.asString(name);
  h.read(name - 20, 20); // the object header: mmInfo, gcInfo, gcInfo2, rtId = 2, rtSize
  h.asString(h.call("greet", "i32->i32", name));
  h.call("length", "i32->i32", name);
  h.call("utf8Length", "i32->i32", name);
  const utf8 = h.call("encodeUtf8", "i32->i32", name);
  h.read(utf8 - 8, 4); // rtId of ArrayBuffer: 1
  const utf8Len = h.readU32(utf8 - 4);
  h.read(utf8, utf8Len);
  h.call("sumBytes", "i32->i32", utf8);
  h.asString(h.call("repeat", "i32,i32->i32", name, 3));
  h.asString(h.call("charAt", "i32,i32->i32", name, 1));
  h.asString(h.call("charAt", "i32,i32->i32", name, 99)); // out of range: ""
  h.asString(h.call("banner", "->i32"));
  // An ArrayBuffer from the host: __new(len, 1).
  const text = new TextEncoder().encode("from the host: \u00e9\u00e8");
  const buf = h.call("__new", "i32,i32->i32", text.length, ARRAYBUFFER_ID);
  h.write(buf, text);
  h.call("__pin", "i32->i32", buf);
  h.asString(h.call("decodeUtf8", "i32->i32", buf));
  h.call("sumBytes", "i32->i32", buf);
  h.call("repeat", "i32,i32->i32", name, -1); // RangeError in the guest: abort
  h.call("__unpin", "i32->", buf);
  h.call("__unpin", "i32->", name);
  h.call("__unpin", "i32->", name); // not pinned any more: abort
  h.call("__collect", "->");
  h.call("length", "i32->i32", name); // still readable: memory is not cleared on free
  h.snapshot();
});

scenario("c/buffers", "fixtures/c/buffers.wasm", (h) => {
  h.instantiate();
  const buf = h.call("shared_buffer", "->i32");
  const data = [10, 20, 30, 40, 50, 255, 0, 7, 7];
  h.write(buf, data);
  h.call("sum_bytes", "i32,i32->i32", buf, data.length);
  h.call("fnv1a", "i32,i32->i32", buf, data.length);
  h.call("reverse", "i32,i32->", buf, data.length);
  h.read(buf, data.length);
  h.call("reverse", "i32,i32->", buf, 1);
  h.call("reverse", "i32,i32->", buf, 0);
  // The histogram of the 9 bytes goes to a second-page buffer the host grew.
  h.grow(1);
  const out = 2 * PAGE;
  h.call("histogram", "i32,i32,i32->", buf, data.length, out);
  h.read(out, 256 * 4);
  h.writeValues(buf + 16, "i64", [-5, 2n ** 62n, 2n ** 62n, 3]);
  h.call("sum_i64", "i32,i32->i64", buf + 16, 4); // wraps around
  h.call("trap", "->");
  h.call("divide", "i32,i32->i32", 7, 0);
  h.call("divide", "i32,i32->i32", I32_MIN, -1);
  h.call("divide", "i32,i32->i32", -7, 2);
  h.call("load_u32", "i32->i32", h.pages() * PAGE - 2);
  h.call("load_u32", "i32->i32", -1); // 0xffffffff as an address
  h.call("load_u32", "i32->i32", buf);
  h.snapshot();
});

scenario("c/strings", "fixtures/c/strings.wasm", (h) => {
  h.instantiate();
  const buf = h.call("output_buffer", "->i32");
  const input = buf + 96;
  h.writeCString(input, "hello, wasm");
  h.call("c_strlen", "i32->i32", input);
  h.call("to_upper", "i32->i32", input);
  h.cString(input);
  h.writeCString(input, "na\u00efve \u{1F30D}");
  h.call("c_strlen", "i32->i32", input);
  h.call("utf8_count", "i32->i32", input);
  h.call("greet", "i32,i32,i32->i32", input, buf, 64);
  h.cString(buf);
  h.call("greet", "i32,i32,i32->i32", input, buf, 10); // does not fit: -1
  h.writeCString(input, "abcabd");
  h.writeCString(input + 16, "abd");
  const found = h.call("find", "i32,i32->i32", input, input + 16);
  h.cString(found);
  h.writeCString(input + 16, "xyz");
  h.call("find", "i32,i32->i32", input, input + 16);
  h.cString(h.call("version", "->i32"));
  h.snapshot();
});

scenario("c/structs", "fixtures/c/structs.wasm", (h) => {
  h.instantiate();
  h.call("record_size", "->i32");
  h.call("record_offsets", "->i64");
  const s = h.call("scratch_buffer", "->i32");
  h.writeValues(s, "i32", [3, -4, 10, 20]); // two struct point
  h.call("point_add", "i32,i32,i32->", s, s + 8, s + 16);
  h.read(s + 16, 8);
  h.call("point_dot", "i32,i32->i64", s, s + 8);
  h.call("point_scale", "i32,i32,i32->", s + 24, s, -3); // sret: result at s + 24
  h.read(s + 24, 8);
  // A chain of two records: the guest fills one, the host writes the other.
  const a = s + 64, b = s + 96;
  h.call("record_init", "i32,i32,i32,f64,i32->", a, 0x41, 1001, 2.5, b);
  h.read(a, 32);
  h.write(b, [0x42, 0xee, 0xee, 0xee]); // tag and padding
  h.writeValues(b + 4, "u32", [1002]);
  h.writeValues(b + 8, "f64", [-0.75]);
  h.writeValues(b + 16, "i16", [100, 200, 300]);
  h.writeValues(b + 24, "u32", [0]);
  h.call("record_chain_score", "i32->f64", a);
  h.call("records_delta_sum", "i32,i32->i32", a, 2);
  h.snapshot();
});

scenario("c/traps", "fixtures/c/traps.wasm", (h) => {
  h.instantiate();
  const twice = h.call("twice_index", "->i32");
  const nothing = h.call("nothing_index", "->i32");
  h.call("call_unary", "i32,i32->i32", twice, 21);
  h.call("call_unary", "i32,i32->i32", 0, 1); // the table's null entry
  h.call("call_unary", "i32,i32->i32", nothing, 1); // another signature
  h.call("call_unary", "i32,i32->i32", 1000, 1); // past the end of the table
  h.call("truncate", "f64->i32", -2.75);
  h.call("truncate", "f64->i32", 3e9);
  h.call("truncate", "f64->i32", NaN);
  h.call("remainder", "i32,i32->i32", -7, 3);
  h.call("remainder", "i32,i32->i32", 7, 0);
  h.call("remainder", "i32,i32->i32", I32_MIN, -1); // defined: 0
  h.call("divide_unsigned", "i32,i32->i32", -1, 2);
  h.call("divide_unsigned", "i32,i32->i32", 1, 0);
  h.call("recurse", "i32->i32", 500);
  h.call("recurse", "i32->i32", 100000000); // the call stack overflows
  h.call("recurse", "i32->i32", 10); // usable after it
  h.snapshot();
});

scenario("c/alloc", "fixtures/c/alloc.wasm", (h) => {
  h.instantiate();
  const a = h.call("alloc", "i32->i32", 5);
  h.write(a, [...new TextEncoder().encode("hello")]);
  const b = h.call("alloc", "i32->i32", 6);
  h.write(b, [...new TextEncoder().encode(", wasm")]);
  const outLen = h.call("alloc", "i32->i32", 4);
  const joined = h.call("concat", "i32,i32,i32,i32,i32->i32", a, 5, b, 6, outLen);
  const len = h.readU32(outLen);
  h.read(joined, len);
  h.call("allocated_bytes", "->i32");
  const s = h.call("alloc", "i32->i32", 16);
  h.writeCString(s, "stressed");
  h.cString(h.call("reversed", "i32->i32", s));
  h.call("dealloc", "i32,i32->", joined, len);
  h.call("dealloc", "i32,i32->", a, 5);
  h.call("allocated_bytes", "->i32");
  h.call("alloc", "i32->i32", 8); // reuses a freed block
  // Larger than memory: the guest's allocator grows memory itself.
  h.call("alloc", "i32->i32", 3 * PAGE);
  h.snapshot();
  h.call("alloc", "i32->i32", 16 * PAGE); // past the 16-page maximum: memory.grow fails, null
  h.call("alloc", "i32->i32", -16); // 0xfffffff0 bytes: the size check refuses it, null
  h.call("allocated_bytes", "->i32");
  h.snapshot();
});

// ------------------------------------------------------------ Rust and WASI

/** A Rust string passed in: allocated with the guest's `alloc`, UTF-8 written. */
function rustString(h, text) {
  const bytes = new TextEncoder().encode(text);
  const ptr = h.call("alloc", "i32->i32", bytes.length);
  h.write(ptr, bytes);
  return [ptr, bytes.length];
}

/** A Rust string returned as `ptr << 32 | len`: read it, then free it with `dealloc`. */
function takeRustString(h, packed) {
  const bits = BigInt.asUintN(64, packed);
  const ptr = Number(bits >> 32n), len = Number(bits & 0xffffffffn);
  const value = h.utf8(ptr, len);
  h.call("dealloc", "i32,i32->", ptr, len);
  return value;
}

scenario("rust/plugin", "fixtures/rust/plugin.wasm", (h) => {
  h.instantiate();
  h.call("init", "->");
  const [name, nameLen] = rustString(h, "wörld");
  takeRustString(h, h.call("greet", "i32,i32->i64", name, nameLen));
  h.call("dealloc", "i32,i32->", name, nameLen);
  const [text, textLen] = rustString(h, "The cat and the hat; THE bat, and a cat.");
  takeRustString(h, h.call("word_counts", "i32,i32->i64", text, textLen));
  h.call("dealloc", "i32,i32->", text, textLen);
  // A Rect {origin: {x, y}, size: {x, y}} of four f64, written by the host.
  const rect = h.call("alloc", "i32->i32", 32);
  h.writeValues(rect, "f64", [1.5, -2, 4, 2.5]);
  h.call("rect_area", "i32->f64", rect);
  const center = h.call("alloc", "i32->i32", 16);
  h.call("rect_center", "i32,i32->", rect, center);
  h.read(center, 16);
  takeRustString(h, h.call("rect_describe", "i32->i64", rect));
  // Stats {count: u32, min, max, median: i32, mean: f64} returned in a heap block.
  const values = h.call("alloc", "i32->i32", 28);
  h.writeValues(values, "i32", [5, -3, 12, 7, 0, -8, 5]);
  const stats = h.call("stats", "i32,i32->i32", values, 7);
  h.read(stats, 24);
  h.call("dealloc", "i32,i32->", stats, 24);
  h.call("stats", "i32,i32->i32", values, 0); // no values: null
  h.call("element", "i32,i32,i32->i32", values, 7, 2);
  h.call("element", "i32,i32,i32->i32", values, 7, 7); // index out of bounds: panic, trap
  takeRustString(h, h.call("last_panic", "->i64"));
  const [good, goodLen] = rustString(h, " 42 ");
  h.call("parse", "i32,i32->i32", good, goodLen);
  const [bad, badLen] = rustString(h, "4x2");
  h.call("parse", "i32,i32->i32", bad, badLen); // panics with the parse error: trap
  takeRustString(h, h.call("last_panic", "->i64"));
  // Usable after the panics: the allocator and the HashMap still work.
  const [again, againLen] = rustString(h, "again");
  takeRustString(h, h.call("greet", "i32,i32->i64", again, againLen));
  takeRustString(h, h.call("call_counts", "->i64"));
  h.snapshot();
});

/** Files of a directory, by name, as [name, text] pairs. */
function listFiles(dir) {
  return readdirSync(dir).sort().map((name) => [name, readFileSync(join(dir, name), "utf8")]);
}

/**
 * node:wasi as the host of a WASI guest: `config` gives args, env (pairs),
 * stdin (text) and the files of the preopened directory /data (pairs). Runs
 * `body(h, wasi, streams)` between instantiation and the final events.
 */
function withWasi(h, config, body) {
  const dir = mkdtempSync(join(tmpdir(), "linmem-oracle-"));
  const data = join(dir, "data");
  const io = join(dir, "io");
  try {
    mkdirSync(data);
    mkdirSync(io);
    for (const [name, text] of config.files ?? []) writeFileSync(join(data, name), text);
    writeFileSync(join(io, "stdin"), config.stdin ?? "");
    const fds = {
      stdin: openSync(join(io, "stdin"), "r"),
      stdout: openSync(join(io, "stdout"), "w+"),
      stderr: openSync(join(io, "stderr"), "w+"),
    };
    const wasi = new WASI({
      version: "preview1",
      args: config.args ?? [],
      env: Object.fromEntries(config.env ?? []),
      preopens: { "/data": data },
      ...fds,
      returnOnExit: true,
    });
    h.events.push({
      op: "wasi",
      args: config.args ?? [],
      env: config.env ?? [],
      stdin: config.stdin ?? "",
      files: listFiles(data),
    });
    const seen = { stdout: 0, stderr: 0 };
    const streams = () => {
      for (const name of ["stdout", "stderr"]) {
        const text = readFileSync(join(io, name), "utf8");
        const fresh = text.slice(seen[name]);
        seen[name] = text.length;
        if (fresh.length > 0) h.events.push({ op: name, text: fresh });
      }
    };
    h.instantiate(wasi.getImportObject());
    body(h, wasi, streams);
    streams();
    h.events.push({ op: "files", files: listFiles(data) });
    for (const fd of Object.values(fds)) closeSync(fd);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs a command's `_start`: an exit event with its code or its trap. */
function runCommand(h, wasi) {
  let code;
  try {
    code = wasi.start(h.instance) ?? 0;
  } catch (error) {
    h.events.push({ op: "exit", ...classify(error) });
    return;
  }
  h.events.push({ op: "exit", code });
}

const INPUT = "first line\nsecond line, longer\nthird\n";

const command = (name, config) =>
  scenario(name, "fixtures/rust/wasi_command.wasm", (h) => withWasi(h, config, runCommand));

command("wasi/rust_command", {
  args: ["wasi_command", "--exit", "3"],
  env: [["GREETING_NAME", "linmem"], ["UNUSED", "x=y"]],
  stdin: "some input\n",
  files: [["input.txt", INPUT]],
});
command("wasi/rust_command.return", {
  args: ["wasi_command"],
  files: [["input.txt", INPUT]],
});
command("wasi/rust_command.panic", {
  args: ["wasi_command", "--panic"],
  env: [["GREETING_NAME", "panicker"]],
  files: [["input.txt", INPUT]],
});
command("wasi/rust_command.paths", {
  args: ["wasi_command", "--input", "/data/missing.txt", "--exit", "0"],
  files: [["input.txt", INPUT]],
});
command("wasi/rust_command.outside", {
  args: ["wasi_command", "--output", "/elsewhere/out.txt", "--exit", "255"],
  files: [["input.txt", INPUT]],
});

const numbers = (name, config) =>
  scenario(name, "fixtures/c/wasi_numbers.wasm", (h) => withWasi(h, config, runCommand));

numbers("wasi/c_numbers", {
  args: ["wasi_numbers"],
  files: [["numbers.txt", "5 -3 12\n7 0 -8 5\n100 2147483647 -2147483648\n"]],
});
numbers("wasi/c_numbers.positive", {
  args: ["wasi_numbers", "/data/in.txt", "/data/out.txt"],
  files: [["in.txt", "3 1 2\n"]],
});
numbers("wasi/c_numbers.missing", {
  args: ["wasi_numbers", "/data/absent.txt"],
  files: [],
});

scenario("wasi/rust_reactor", "fixtures/rust/wasi_reactor.wasm", (h) =>
  withWasi(h, { env: [["REACTOR_TITLE", "groceries"]] }, (h, wasi, streams) => {
    wasi.initialize(h.instance);
    for (const item of ["pears", "apples", "dates ünd figs"]) {
      const [ptr, len] = rustString(h, item);
      h.call("push", "i32,i32->i32", ptr, len);
      h.call("dealloc", "i32,i32->", ptr, len);
    }
    streams();
    takeRustString(h, h.call("render", "->i64"));
    streams();
    h.call("clear", "->");
    const [ptr, len] = rustString(h, "milk");
    h.call("push", "i32,i32->i32", ptr, len);
    takeRustString(h, h.call("render", "->i64"));
    h.snapshot();
  }),
);

// ---------------------------------------------------------------------- output

const results = scenarios.map(({ name, module, host }) => {
  const h = new Host(name, module);
  host(h);
  return { name, module, events: h.events };
});

const line = (value) => JSON.stringify(value);
const text =
  "{\n" +
  ` "about": ${line("Written by scripts/v8-oracle.mjs: what V8 (node) did for each scenario; replayed by tests/real_guests.rs.")},\n` +
  ` "trap_kinds": {\n` +
  Object.entries(TRAP_KINDS).map(([m, codes]) => `  ${line(m)}: ${line(codes)}`).join(",\n") +
  `\n },\n` +
  ` "scenarios": [\n` +
  results
    .map(
      (s) =>
        `  {"name": ${line(s.name)}, "module": ${line(s.module)}, "events": [\n` +
        s.events.map((e) => `   ${line(e)}`).join(",\n") +
        "\n  ]}",
    )
    .join(",\n") +
  "\n ]\n}\n";

if (process.argv.includes("--check")) {
  const committed = readFileSync(expectedPath, "utf8");
  if (committed !== text) {
    const a = committed.split("\n"), b = text.split("\n");
    const i = a.findIndex((l, n) => l !== b[n]);
    console.error(`fixtures/v8-expected.json differs from V8's results at line ${i + 1}:`);
    console.error(`  committed: ${a[i]}`);
    console.error(`  V8 now:    ${b[i]}`);
    process.exit(1);
  }
  console.log(`v8-oracle: ${results.length} scenarios, same as fixtures/v8-expected.json`);
} else {
  writeFileSync(expectedPath, text);
  console.log(`v8-oracle: wrote ${results.length} scenarios to fixtures/v8-expected.json`);
}
