//! The public face of snapshots: [`Snapshotter`] prepares a module and
//! snapshots its initialised guests; [`Snapshot`] is the result.

use crate::error::{Error, Result};
use crate::lifecycle::guest::Guest;
use crate::lifecycle::module::Module;
use crate::lifecycle::snapshot::capture::{Captured, capture};
use crate::lifecycle::snapshot::emit::{EmitOptions, emit};
use crate::lifecycle::snapshot::error::SnapshotError;
use crate::lifecycle::snapshot::info::{ModuleInfo, read};
use crate::lifecycle::snapshot::instrument::instrument;
use crate::lifecycle::snapshot::reset::reset;
use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};
use wasmi::Engine;

/// A fresh identity for an instrumented module or a resettable snapshot.
fn next_token() -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(0x5a17_0000);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Prepares a module for snapshots: an instrumented copy to instantiate
/// and initialise, from which [`snapshot`](Self::snapshot) makes a
/// [`Snapshot`].
///
/// The instrumented [`module`](Self::module) behaves exactly as the
/// original; it also exports every mutable global, memory and table under
/// names starting with `__linmem_snapshot` (so that linmem can read them),
/// and records whether the guest dropped a segment or changed a table.
/// Instantiate it with the imports the guest needs, run the initialisation
/// (its start function runs at instantiation; then any calls the host
/// likes, e.g. `_initialize`), and snapshot the guest:
///
/// ```
/// # fn main() -> linmem::Result<()> {
/// use linmem::{Module, Snapshotter};
///
/// let snapshotter = Snapshotter::new(r#"(module
///     (memory (export "memory") 1)
///     (global $calls (mut i32) (i32.const 0))
///     (func (export "init") (i32.store (i32.const 16) (i32.const 42)))
///     (func (export "next") (result i32)
///         (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
///         (i32.add (i32.load (i32.const 16)) (global.get $calls))))"#)?
///     .remove_export("init");
/// let mut guest = snapshotter.module().instantiate()?;
/// guest.call::<(), ()>("init", ())?;
/// assert_eq!(guest.call::<(), i32>("next", ())?, 43); // $calls is 1 now
///
/// let snapshot = snapshotter.snapshot(&guest)?;
/// let bytes: &[u8] = snapshot.wasm(); // an ordinary module: write it to a file
/// let mut fresh = Module::new(bytes)?.instantiate()?;
/// assert_eq!(fresh.view().read::<u32>(16)?, 42);
/// assert_eq!(fresh.call::<(), i32>("next", ())?, 44); // $calls was 1 in the snapshot
/// assert!(fresh.call::<(), ()>("init", ()).is_err()); // removed
/// # Ok(()) }
/// ```
///
/// What cannot be snapshotted is refused with an
/// [`Error::Snapshot`]: see [`SnapshotError`] and the crate's
/// `docs/SNAPSHOTS.md` for the rules.
#[derive(Debug, Clone)]
pub struct Snapshotter {
    original: Arc<[u8]>,
    info: Arc<ModuleInfo>,
    module: Module,
    token: u32,
    remove_exports: Vec<Box<str>>,
    resettable: bool,
}

impl Snapshotter {
    /// Reads `source` (wasm bytes or, with the `wat` feature, WAT text) and
    /// compiles its instrumented copy on a new engine.
    ///
    /// # Errors
    ///
    /// [`Error::Snapshot`] if the module imports a memory, a mutable global,
    /// a table or a tag, has a shared memory, already exports a
    /// `__linmem_snapshot` name, or cannot be read; [`Error::Wat`] if the
    /// text does not parse; [`Error::Compile`] if the module is not valid.
    pub fn new(source: impl AsRef<[u8]>) -> Result<Self> {
        Self::with_engine(&Engine::default(), source)
    }

    /// Like [`new`](Self::new), compiling on `engine` (e.g. a
    /// [`metered_engine`](crate::metered_engine)).
    ///
    /// # Errors
    ///
    /// Those of [`new`](Self::new).
    pub fn with_engine(engine: &Engine, source: impl AsRef<[u8]>) -> Result<Self> {
        let original: Arc<[u8]> = Arc::from(wasm_bytes(source.as_ref())?);
        let info = read(&original)?;
        let token = next_token();
        let instrumented = instrument(&original, &info, token)?;
        let module = Module::with_engine(engine, &instrumented)?;
        Ok(Self {
            original,
            info: Arc::new(info),
            module,
            token,
            remove_exports: Vec::new(),
            resettable: false,
        })
    }

    /// The instrumented module, to instantiate and initialise before
    /// [`snapshot`](Self::snapshot).
    #[must_use]
    pub fn module(&self) -> &Module {
        &self.module
    }

    /// Leaves the export `name` out of the snapshots (typically the
    /// initialisation function, which must not run twice).
    #[must_use]
    pub fn remove_export(mut self, name: &str) -> Self {
        self.remove_exports.push(Box::from(name));
        self
    }

    /// Whether snapshots can [`reset`](Snapshot::reset) their guests in
    /// place (default: no). A resettable snapshot also exports its mutable
    /// globals and memories under `__linmem_snapshot` names, and refuses
    /// modules whose code can drop segments or change tables, which an
    /// in-place reset could not undo.
    #[must_use]
    pub fn resettable(mut self, resettable: bool) -> Self {
        self.resettable = resettable;
        self
    }

    /// Snapshots `guest`, an instance of [`module`](Self::module), in its
    /// current state: memories (contents and sizes) and mutable globals,
    /// with the start function removed.
    ///
    /// Only the guest's main instance is snapshotted (not those of
    /// [`Guest::add_instance`]).
    ///
    /// # Errors
    ///
    /// [`Error::Snapshot`] with [`SnapshotError::ForeignGuest`] if `guest`
    /// is not an instance of this snapshotter's module;
    /// [`SnapshotError::TableMutated`] or [`SnapshotError::TableResized`] if
    /// a table changed; [`SnapshotError::ReferenceGlobal`] if a mutable
    /// global holds a non-null reference; [`SnapshotError::NoSuchExport`] if
    /// an export to remove does not exist; [`SnapshotError::NotResettable`]
    /// for a resettable snapshot of a module that drops segments or changes
    /// tables.
    pub fn snapshot<T>(&self, guest: &Guest<T>) -> Result<Snapshot> {
        let captured = capture(&guest.store, guest.instance, &self.info, self.token)?;
        let reset_token = if self.resettable {
            if let Some(instruction) = self.info.reset_blocker() {
                return Err(SnapshotError::NotResettable { instruction }.into());
            }
            Some(next_token())
        } else {
            None
        };
        let options = EmitOptions {
            remove_exports: &self.remove_exports,
            reset_token,
        };
        let wasm = emit(&self.original, &self.info, &captured, options)?;
        Ok(Snapshot {
            wasm,
            captured,
            reset_token,
            original_len: self.original.len(),
        })
    }
}

/// Input bytes as wasm: binary as is, text compiled (with `wat`).
fn wasm_bytes(source: &[u8]) -> Result<Cow<'_, [u8]>> {
    if source.starts_with(b"\0asm") {
        return Ok(Cow::Borrowed(source));
    }
    #[cfg(feature = "wat")]
    if let Ok(text) = core::str::from_utf8(source) {
        return wat::parse_str(text).map(Cow::Owned).map_err(Error::wat);
    }
    // Neither: whatever `Module::new` says about it (not wasm, WAT disabled).
    Module::new(source)?;
    Ok(Cow::Borrowed(source))
}

/// An initialised guest's state as a module: its [`wasm`](Self::wasm)
/// bytes instantiate, with no start function, into a guest whose memories
/// and globals are those of the guest snapshotted.
///
/// Made by [`Snapshotter::snapshot`]. With
/// [`Snapshotter::resettable`], [`reset`](Self::reset) also returns a
/// guest of the snapshot to that state in place.
#[derive(Debug, Clone)]
pub struct Snapshot {
    wasm: Vec<u8>,
    captured: Captured,
    reset_token: Option<u32>,
    original_len: usize,
}

impl Snapshot {
    /// The snapshot module's bytes: an ordinary `.wasm` file.
    #[must_use]
    pub fn wasm(&self) -> &[u8] {
        &self.wasm
    }

    /// The snapshot module's bytes, owned.
    #[must_use]
    pub fn into_wasm(self) -> Vec<u8> {
        self.wasm
    }

    /// The size in bytes of the module the snapshot was made from.
    #[must_use]
    pub fn original_len(&self) -> usize {
        self.original_len
    }

    /// Compiles the snapshot module on `engine`.
    ///
    /// # Errors
    ///
    /// [`Error::Compile`] if wasmi refuses it (which would be a linmem bug).
    pub fn module(&self, engine: &Engine) -> Result<Module> {
        Module::with_engine(engine, &self.wasm)
    }

    /// Whether [`reset`](Self::reset) is available.
    #[must_use]
    pub fn is_resettable(&self) -> bool {
        self.reset_token.is_some()
    }

    /// Returns `guest`, an instance of this (resettable) snapshot's module,
    /// to the snapshot's state in place: every memory byte and every
    /// mutable global as they were at the snapshot. Host data, fuel and
    /// limits are not touched.
    ///
    /// A memory that grew since cannot shrink: the reset then fails and
    /// the host takes a fresh instance instead.
    ///
    /// ```
    /// # fn main() -> linmem::Result<()> {
    /// let snapshotter = linmem::Snapshotter::new(r#"(module (memory (export "memory") 1)
    ///     (global $n (mut i32) (i32.const 0))
    ///     (func (export "bump") (result i32)
    ///         (global.set $n (i32.add (global.get $n) (i32.const 1)))
    ///         (i32.store8 (global.get $n) (i32.const 9)) (global.get $n)))"#)?
    ///     .resettable(true);
    /// let snapshot = snapshotter.snapshot(&snapshotter.module().instantiate()?)?;
    /// let mut guest = snapshot.module(snapshotter.module().engine())?.instantiate()?;
    /// assert_eq!(guest.call::<(), i32>("bump", ())?, 1);
    /// assert_eq!(guest.call::<(), i32>("bump", ())?, 2);
    /// snapshot.reset(&mut guest)?;
    /// assert_eq!(guest.view().bytes(0, 4)?, [0, 0, 0, 0]);
    /// assert_eq!(guest.call::<(), i32>("bump", ())?, 1);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Snapshot`] with [`SnapshotError::ResetUnavailable`] if the
    /// snapshot is not resettable; [`SnapshotError::ForeignGuest`] if
    /// `guest` is not an instance of it; [`SnapshotError::ResetAfterGrow`]
    /// if a memory grew (the guest is then unchanged).
    pub fn reset<T>(&self, guest: &mut Guest<T>) -> Result<()> {
        let token = self.reset_token.ok_or(SnapshotError::ResetUnavailable)?;
        reset(&mut guest.store, guest.instance, &self.captured, token)?;
        Ok(())
    }
}

impl From<SnapshotError> for Error {
    fn from(source: SnapshotError) -> Self {
        Self::Snapshot(source)
    }
}
