//! Why a module or a guest cannot be snapshotted, or a guest not reset.

use alloc::boxed::Box;
use snapshot_wasmparser as wasmparser;

/// Why a snapshot was refused, inside [`Error::Snapshot`](crate::Error::Snapshot).
///
/// The rules behind each variant are in the crate's `docs/SNAPSHOTS.md`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotError {
    /// The module bytes could not be read as a WebAssembly module.
    #[error("cannot snapshot: the module cannot be read")]
    Parse {
        /// wasmparser's error, with the offset in the module.
        #[source]
        source: wasmparser::BinaryReaderError,
    },

    /// The module imports a memory: its contents belong to the host, so a
    /// snapshot cannot carry them.
    #[error("cannot snapshot: the module imports its memory `{module}`.`{name}`")]
    ImportedMemory {
        /// The import's module name.
        module: Box<str>,
        /// The import's field name.
        name: Box<str>,
    },

    /// The module imports a mutable global: its value belongs to the host.
    #[error("cannot snapshot: the module imports the mutable global `{module}`.`{name}`")]
    ImportedMutableGlobal {
        /// The import's module name.
        module: Box<str>,
        /// The import's field name.
        name: Box<str>,
    },

    /// The module imports a table (or a tag): its contents belong to the host.
    #[error("cannot snapshot: the module imports the {kind} `{module}`.`{name}`")]
    UnsupportedImport {
        /// The import's module name.
        module: Box<str>,
        /// The import's field name.
        name: Box<str>,
        /// What is imported: `table` or `tag`.
        kind: &'static str,
    },

    /// A memory is shared (threads proposal); linmem's guests have none.
    #[error("cannot snapshot: memory {index} is shared")]
    SharedMemory {
        /// The memory's index.
        index: u32,
    },

    /// The module already exports a name that snapshots reserve.
    #[error("cannot snapshot: the module exports `{name}`, a name reserved for snapshots")]
    ReservedExportName {
        /// The export name.
        name: Box<str>,
    },

    /// A section the rewriter does not know (e.g. a component-model section).
    #[error("cannot snapshot: unsupported section (id {id})")]
    UnsupportedSection {
        /// The section id.
        id: u8,
    },

    /// Rewriting a section with wasm-encoder failed (an expression that is
    /// not constant, a type it cannot re-encode).
    #[error("cannot snapshot: the {section} section cannot be re-encoded")]
    Reencode {
        /// Which section.
        section: &'static str,
    },

    /// The guest was not instantiated from this snapshotter's module (or
    /// from this snapshot, for a reset).
    #[error("cannot snapshot: the guest is not an instance of this {expected}")]
    ForeignGuest {
        /// `snapshotter's module` or `snapshot`.
        expected: &'static str,
    },

    /// The guest's code changed a table (`table.set`, `table.grow`,
    /// `table.fill`, `table.copy` or `table.init` ran) before the snapshot:
    /// function references cannot be written into a module.
    #[error("cannot snapshot: the guest mutated a table at run time")]
    TableMutated,

    /// A table's size differs from its declared minimum (the host grew it).
    #[error("cannot snapshot: table {index} has {size} elements, not its initial {initial}")]
    TableResized {
        /// The table's index.
        index: u32,
        /// Its declared minimum.
        initial: u64,
        /// Its size at the snapshot.
        size: u64,
    },

    /// A mutable global of a reference type holds a non-null reference,
    /// which a module cannot spell as a constant.
    #[error("cannot snapshot: global {index} holds a non-null reference")]
    ReferenceGlobal {
        /// The global's index.
        index: u32,
    },

    /// An export asked to be removed does not exist.
    #[error("cannot snapshot: the module exports nothing named `{name}` to remove")]
    NoSuchExport {
        /// The export name.
        name: Box<str>,
    },

    /// A resettable snapshot was asked for a module whose code can drop
    /// segments or change tables: resetting in place could not undo that.
    #[error("cannot make a resettable snapshot: the module's code contains `{instruction}`")]
    NotResettable {
        /// The first such instruction found.
        instruction: &'static str,
    },

    /// [`Snapshot::reset`](crate::Snapshot::reset) on a snapshot made
    /// without [`Snapshotter::resettable`](crate::Snapshotter::resettable).
    #[error("cannot reset: the snapshot was not made resettable")]
    ResetUnavailable,

    /// The guest grew a memory past the snapshot's size; memories cannot
    /// shrink, so only a fresh instance restores it.
    #[error("cannot reset: memory {index} has {pages} pages, the snapshot {snapshot_pages}")]
    ResetAfterGrow {
        /// The memory's index.
        index: u32,
        /// Its size now, in pages.
        pages: u64,
        /// Its size in the snapshot, in pages.
        snapshot_pages: u64,
    },
}
