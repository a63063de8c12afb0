//! Run WebAssembly guests on the [wasmi](https://docs.rs/wasmi/2) interpreter and exchange data with
//! them through a safe, borrow-checked view of their linear memory.
//!
//! linmem is for hosts that may not run a JIT (iOS and other W^X platforms,
//! consoles, hardened servers, embedded boards). A [`Guest`] is one
//! instance with its store; [`Guest::view`] and [`Guest::view_mut`] borrow
//! its memory as a [`LinearMemoryView`] or [`LinearMemoryViewMut`], with
//! checked addresses (taken as the guest passes them, see [`GuestAddr`]) and
//! little-endian typed access. Because a view is
//! a borrow, a view kept across a memory grow or a call into the guest does
//! not compile: the "detached `ArrayBuffer`" of the JavaScript API cannot
//! happen.
//!
//! The reference scenario of the "WebAssembly linear memory" page:
//!
//! ```
//! # fn main() -> linmem::Result<()> {
//! use linmem::Guest;
//!
//! // The guest's start function: memory.grow(1); store<u8>(0, 24).
//! let mut guest = Guest::new(linmem::LINEAR_MEMORY_WAT)?;
//!
//! assert_eq!(guest.view().read::<u8>(0)?, 24); // the host reads 24
//! guest.view_mut().write(1, 25u8)?; // the host writes 25 at address 1
//! let one: i32 = guest.call("readWasmMemoryAndReturnIndexOne", ())?;
//! assert_eq!(one, 25); // the guest read what the host wrote
//! # Ok(()) }
//! ```
//!
//! # What a host can do
//!
//! | to ... | use |
//! | --- | --- |
//! | compile once, instantiate many | [`Module::new`] (wasm or WAT), [`Module::instantiate`], [`Module::guest`] for a [`GuestBuilder`] |
//! | read and write memory | [`Guest::view`] / [`Guest::view_mut`]: [`read`](LinearMemoryView::read), [`write`](LinearMemoryViewMut::write), [`bytes`](LinearMemoryView::bytes), [`hex_dump`](LinearMemoryView::hex_dump) |
//! | call exports | [`Guest::call`], or a cached [`GuestFunc`] from [`Guest::export_func`] |
//! | give the guest host functions | [`GuestBuilder::host_func`] with a closure taking a [`HostContext`] (the calling guest's memory, host data, and its exports: [`HostContext::call`]) |
//! | follow the guest's pointers | [`GuestPtr`], [`GuestSlice`]: typed, checked at every use, safe to keep across calls |
//! | read and write C structs | [`memory_record!`] (C layout, little-endian), [`MemoryValue`] |
//! | pass strings | [`str`](LinearMemoryView::str), [`c_str`](LinearMemoryView::c_str) (bounded), [`utf16_string`](LinearMemoryView::utf16_string), [`assemblyscript_string`](LinearMemoryView::assemblyscript_string), and their writes |
//! | use the guest's allocator | [`Allocator`] (`alloc`/`dealloc`, `malloc`/`free`, wasm-bindgen, `cabi_realloc`), from the host or from inside a host function ([`GuestAccess`]) |
//! | keep host data in guest memory | [`HostRegion`], a bump allocator over a range the guest leaves alone |
//! | provide the memory | [`GuestBuilder::host_memory`], [`GuestBuilder::host_memory_static`] (a pre-allocated buffer) |
//! | bound hostile guests | [`Limits`], fuel ([`metered_engine`]), a [`Deadline`] or [`CancelFlag`] per call |
//! | handle types known at run time | [`Module::imports`], [`Module::exports`], [`Value`], [`DynamicFunc`], [`GuestGlobal`], [`GuestTable`], [`GuestBuilder::host_func_dynamic`] |
//! | run any valid module | a module without memory instantiates; its views fail with [`Error::NoMemory`] |
//!
//! A host function that hands the guest a new string, through the guest's
//! own allocator, with pointers and errors checked:
//!
//! ```
//! # fn main() -> linmem::Result<()> {
//! use linmem::{Allocator, HostContext, Module};
//! let module = Module::new(r#"(module
//!     (import "env" "hello" (func $hello (param i32) (result i32)))
//!     (memory (export "memory") 1)
//!     (global $next (mut i32) (i32.const 1024))
//!     (func (export "alloc") (param $n i32) (result i32)
//!         (global.get $next)
//!         (global.set $next (i32.add (global.get $next) (local.get $n))))
//!     (func (export "run") (result i32) (call $hello (i32.const 3))))"#)?;
//! let mut guest = module
//!     .guest()
//!     .host_func("env", "hello", |mut cx: HostContext<'_, ()>, times: u32| {
//!         let text = "hi ".repeat(usize::try_from(times).unwrap_or(0));
//!         let slice = Allocator::detect(&cx)?.alloc_str(&mut cx, &text)?;
//!         u32::try_from(slice.addr()).map_err(linmem::Error::custom)
//!     })?
//!     .instantiate()?;
//! let ptr = guest.call::<(), u32>("run", ())?;
//! assert_eq!(guest.view().str(ptr, 9)?, "hi hi hi ");
//! # Ok(()) }
//! ```
//!
//! Every failure is an [`Error`] whose message says what happened with the
//! numbers and names involved, e.g. `out of bounds: 4 bytes at address
//! 65534 in a memory of 65536 bytes`, or `the guest's function `add` has
//! type (i32, i32) -> i32, not the requested (i32) -> i32`.
//!
//! # Features
//!
//! | feature | default | what it does |
//! | --- | --- | --- |
//! | `std` | yes | `std` conveniences; without it the crate is `#![no_std]` with `alloc`, and the view, errors, guests, host functions and host (including static) memories all remain |
//! | `wat` | yes (implies `std`) | [`Module::new`] also accepts WebAssembly text |
//! | `snapshot` | yes | [`Snapshotter`]: snapshot an initialised guest into a module that starts in that state (`docs/SNAPSHOTS.md`); works without `std` |
//! | `wasi` | no (implies `std`) | WASI preview 1 for Rust `wasm32-wasi` and wasi-libc guests, on wasmi's `wasmi_wasi`: `GuestBuilder::wasi` with a `WasiConfig`, `Guest::run_command` (docs/WASI.md) |
//! | `portable-dispatch` | no | wasmi's loop-based instruction dispatch instead of tail calls, for targets where tail calls are unreliable |
//!
//! # Threads and platform
//!
//! - [`Module`] is `Send + Sync` and cheap to clone: compile once, share it,
//!   instantiate a [`Guest`] per thread.
//! - [`Guest<T>`](Guest) is `Send` (and `Sync`) when `T` is; a guest runs on
//!   one thread at a time because every call takes `&mut Guest`.
//! - [`GuestFunc`], [`GuestMemory`], [`GuestInstance`], the views and
//!   [`Error`] are `Send + Sync`.
//! - What linmem needs from the platform: a global allocator (`alloc`), and
//!   atomics for a 32-bit counter (as wasmi does). It needs no threads, no
//!   file system, no clock and no executable memory: wasmi interprets, it
//!   never generates machine code, so W^X platforms are fine.
//! - A guest's memory is a heap `Vec<u8>` by default; a host without a
//!   large heap gives it a pre-allocated buffer with
//!   [`GuestBuilder::host_memory_static`].
//!
//! # Hostile guests
//!
//! For guests the host did not write: [`Limits`] (memory per memory and per
//! store, table elements, instance/table/memory counts, a fuel budget) set
//! with [`GuestBuilder::limits`]; fuel on an engine from [`metered_engine`]
//! ([`Guest::fuel`], [`Guest::add_fuel`]); a [`Deadline`] or a
//! [`CancelFlag`] per call with [`Guest::call_until`]. A denied grow is
//! [`Error::GrowDenied`], a stopped call [`Error::DeadlineExceeded`] or
//! [`Error::Cancelled`]; after any failure the guest stays usable (see
//! [`Guest`], "State after a failure"). The crate's `SECURITY.md` lists
//! what is promised and what is not, the tests behind each promise and the
//! fuzzing record.
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
#![warn(
    missing_docs,
    missing_debug_implementations,
    rust_2018_idioms,
    clippy::missing_errors_doc,
    clippy::cast_lossless,
    clippy::as_conversions
)]
#![doc(test(attr(deny(warnings))))]

extern crate alloc;

mod dynamic;
mod error;
mod host;
mod hostile;
mod integrations;
mod lifecycle;
mod memory;

#[cfg(feature = "wasi")]
pub use self::integrations::wasi::config::{WasiConfig, WasiOutput};
#[cfg(feature = "snapshot")]
pub use self::lifecycle::snapshot::{
    error::SnapshotError,
    snapshotter::{Snapshot, Snapshotter},
};
pub use self::{
    dynamic::{
        func::DynamicFunc,
        global::GuestGlobal,
        module::{ExportType, ImportType},
        table::GuestTable,
        types::{ExternType, FuncType, GlobalType, IndexType, MemoryType, TableType, ValueType},
        value::{ExternRef, FuncRef, Value},
    },
    error::{AllocationFault, Error, Result},
    host::{
        allocator::{Allocator, AllocatorKind},
        context::HostContext,
        context_async::AsyncHostContext,
        func::HostFunc,
        func_async::HostFuture,
        signature::{HostParams, HostResults, HostValue},
    },
    hostile::{
        compile::contained_config,
        deadline::{CancelFlag, Deadline},
        limits::{Denial, Limit, Limits, metered_engine},
    },
    lifecycle::{
        access::GuestAccess,
        builder::GuestBuilder,
        func::GuestFunc,
        guest::{Guest, GuestState},
        instance::GuestInstance,
        module::{LINEAR_MEMORY_WASM, LINEAR_MEMORY_WAT, Module},
    },
    memory::{
        addr::GuestAddr,
        handle::GuestMemory,
        hexdump::HexDump,
        ptr::{GuestIter, GuestPtr, GuestSlice},
        record::RecordField,
        region::HostRegion,
        value::{ByteArray, MemoryValue},
        view::{LinearMemoryView, LinearMemoryViewMut},
    },
};
pub use wasmi::{self, Engine, TrapCode};

/// What [`memory_record!`] expands to; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::memory::record::{Layout, field, layout, read_field, write_field};
}

/// The README's examples, compiled and run as doctests so they cannot drift.
#[cfg(all(doctest, feature = "wat"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// The hostile-guests guide's example, compiled and run as a doctest.
#[cfg(all(doctest, feature = "wat"))]
#[doc = include_str!("../docs/HOSTILE_GUESTS.md")]
struct HostileGuestsDoctests;
