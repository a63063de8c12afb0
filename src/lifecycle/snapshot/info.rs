//! What the rewriter needs to know about a module, read once with wasmparser,
//! and the static rules that refuse a module before anything runs.

use crate::lifecycle::snapshot::error::SnapshotError;
use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::collections::BTreeSet;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::ops::Range;
use snapshot_wasmparser as wasmparser;
use wasmparser::{DataKind, Operator, Parser, Payload, TypeRef};

/// The prefix of every export name the instrumentation adds.
pub(crate) const RESERVED_PREFIX: &str = "__linmem_snapshot";

/// The export name of global `index`.
pub(crate) fn global_export(index: u32) -> String {
    format!("{RESERVED_PREFIX}_global_{index}")
}

/// The export name of memory `index`.
pub(crate) fn memory_export(index: u32) -> String {
    format!("{RESERVED_PREFIX}_memory_{index}")
}

/// The export name of table `index`.
pub(crate) fn table_export(index: u32) -> String {
    format!("{RESERVED_PREFIX}_table_{index}")
}

/// The export name of the flag that says data segment `index` was dropped.
pub(crate) fn data_dropped_export(index: u32) -> String {
    format!("{RESERVED_PREFIX}_data_dropped_{index}")
}

/// The export name of the flag that says element segment `index` was dropped.
pub(crate) fn elem_dropped_export(index: u32) -> String {
    format!("{RESERVED_PREFIX}_elem_dropped_{index}")
}

/// The export name of the flag that says a table was mutated.
pub(crate) const TABLE_MUTATED_EXPORT: &str = "__linmem_snapshot_table_mutated";

/// The export name of the global that identifies an instrumented module or
/// a resettable snapshot.
pub(crate) const ID_EXPORT: &str = "__linmem_snapshot_id";

/// One section of the module: its id and where its contents are.
#[derive(Debug, Clone)]
pub(crate) struct RawSection {
    pub(crate) id: u8,
    pub(crate) range: Range<usize>,
}

/// A defined memory's type, as the module declares it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MemoryInfo {
    pub(crate) ty: wasmparser::MemoryType,
}

/// What the rewriter knows about a module.
#[derive(Debug, Clone)]
pub(crate) struct ModuleInfo {
    /// Every section in order, custom ones included.
    pub(crate) sections: Vec<RawSection>,
    /// The number of imported globals (defined ones follow them).
    pub(crate) imported_globals: u32,
    /// Whether each defined global is mutable.
    pub(crate) globals_mutable: Vec<bool>,
    /// The defined memories (imported ones are refused).
    pub(crate) memories: Vec<MemoryInfo>,
    /// The declared minimum of each defined table (imported ones are refused).
    pub(crate) tables: Vec<u64>,
    /// For each data segment, whether it is passive.
    pub(crate) data_passive: Vec<bool>,
    /// Data segments some `data.drop` names.
    pub(crate) dropped_data: BTreeSet<u32>,
    /// Element segments some `elem.drop` names.
    pub(crate) dropped_elem: BTreeSet<u32>,
    /// The first table-mutating instruction in the code, if any.
    pub(crate) table_mutator: Option<&'static str>,
    /// For each function body, whether the instrumentation rewrites it.
    pub(crate) bodies_to_rewrite: Vec<bool>,
    /// The names the module exports.
    pub(crate) exports: Vec<Box<str>>,
}

impl ModuleInfo {
    /// The total number of globals, imported and defined.
    pub(crate) fn global_count(&self) -> u32 {
        let defined = u32::try_from(self.globals_mutable.len()).unwrap_or(u32::MAX);
        self.imported_globals.saturating_add(defined)
    }

    /// The index in the global space of defined global `i`.
    pub(crate) fn global_index(&self, defined: usize) -> u32 {
        let defined = u32::try_from(defined).unwrap_or(u32::MAX);
        self.imported_globals.saturating_add(defined)
    }

    /// The first instruction that makes in-place reset impossible, if any.
    pub(crate) fn reset_blocker(&self) -> Option<&'static str> {
        if !self.dropped_data.is_empty() {
            Some("data.drop")
        } else if !self.dropped_elem.is_empty() {
            Some("elem.drop")
        } else {
            self.table_mutator
        }
    }

    /// Whether the module has a section with this id.
    pub(crate) fn has_section(&self, id: u8) -> bool {
        self.sections.iter().any(|s| s.id == id)
    }
}

/// The name of a table-mutating instruction, if `op` is one.
pub(crate) fn table_mutator(op: &Operator<'_>) -> Option<&'static str> {
    match op {
        Operator::TableSet { .. } => Some("table.set"),
        Operator::TableGrow { .. } => Some("table.grow"),
        Operator::TableFill { .. } => Some("table.fill"),
        Operator::TableCopy { .. } => Some("table.copy"),
        Operator::TableInit { .. } => Some("table.init"),
        _ => None,
    }
}

pub(crate) fn parse_error(source: wasmparser::BinaryReaderError) -> SnapshotError {
    SnapshotError::Parse { source }
}

fn to_usize(range: Range<u64>) -> Range<usize> {
    let start = usize::try_from(range.start).unwrap_or(usize::MAX);
    let end = usize::try_from(range.end).unwrap_or(usize::MAX);
    start..end
}

/// Reads `wasm` and applies the static rules.
///
/// # Errors
///
/// [`SnapshotError::Parse`] for unreadable bytes, and the refusals of
/// imported memories, mutable globals, tables and tags, shared memories,
/// reserved export names and component sections.
pub(crate) fn read(wasm: &[u8]) -> Result<ModuleInfo, SnapshotError> {
    let mut info = ModuleInfo {
        sections: Vec::new(),
        imported_globals: 0,
        globals_mutable: Vec::new(),
        memories: Vec::new(),
        tables: Vec::new(),
        data_passive: Vec::new(),
        dropped_data: BTreeSet::new(),
        dropped_elem: BTreeSet::new(),
        table_mutator: None,
        bodies_to_rewrite: Vec::new(),
        exports: Vec::new(),
    };
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(parse_error)?;
        if let Some((id, range)) = payload.as_section() {
            info.sections.push(RawSection {
                id,
                range: to_usize(range),
            });
        }
        match payload {
            Payload::Version {
                encoding: wasmparser::Encoding::Component,
                ..
            } => return Err(SnapshotError::UnsupportedSection { id: 0 }),
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    read_import(&mut info, &import.map_err(parse_error)?)?;
                }
            }
            Payload::TableSection(reader) => {
                for table in reader {
                    info.tables.push(table.map_err(parse_error)?.ty.initial);
                }
            }
            Payload::MemorySection(reader) => {
                for ty in reader {
                    let ty = ty.map_err(parse_error)?;
                    if ty.shared {
                        let index = u32::try_from(info.memories.len()).unwrap_or(u32::MAX);
                        return Err(SnapshotError::SharedMemory { index });
                    }
                    info.memories.push(MemoryInfo { ty });
                }
            }
            Payload::GlobalSection(reader) => {
                for global in reader {
                    info.globals_mutable
                        .push(global.map_err(parse_error)?.ty.mutable);
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let name = export.map_err(parse_error)?.name;
                    if name.starts_with(RESERVED_PREFIX) {
                        return Err(SnapshotError::ReservedExportName {
                            name: Box::from(name),
                        });
                    }
                    info.exports.push(Box::from(name));
                }
            }
            Payload::DataSection(reader) => {
                for data in reader {
                    let passive = matches!(data.map_err(parse_error)?.kind, DataKind::Passive);
                    info.data_passive.push(passive);
                }
            }
            Payload::CodeSectionEntry(body) => {
                let rewrite = scan_body(&mut info, &body)?;
                info.bodies_to_rewrite.push(rewrite);
            }
            Payload::UnknownSection { id, .. } => {
                return Err(SnapshotError::UnsupportedSection { id });
            }
            _ => {}
        }
    }
    Ok(info)
}

fn read_import(
    info: &mut ModuleInfo,
    import: &wasmparser::Import<'_>,
) -> Result<(), SnapshotError> {
    let module = || Box::from(import.module);
    let name = || Box::from(import.name);
    match import.ty {
        TypeRef::Func(_) | TypeRef::FuncExact(_) => Ok(()),
        TypeRef::Global(ty) if ty.mutable => Err(SnapshotError::ImportedMutableGlobal {
            module: module(),
            name: name(),
        }),
        TypeRef::Global(_) => {
            info.imported_globals = info.imported_globals.saturating_add(1);
            Ok(())
        }
        TypeRef::Memory(_) => Err(SnapshotError::ImportedMemory {
            module: module(),
            name: name(),
        }),
        TypeRef::Table(_) => Err(SnapshotError::UnsupportedImport {
            module: module(),
            name: name(),
            kind: "table",
        }),
        TypeRef::Tag(_) => Err(SnapshotError::UnsupportedImport {
            module: module(),
            name: name(),
            kind: "tag",
        }),
    }
}

/// Notes the instructions the instrumentation tracks; returns whether the
/// body contains one.
fn scan_body(
    info: &mut ModuleInfo,
    body: &wasmparser::FunctionBody<'_>,
) -> Result<bool, SnapshotError> {
    let mut reader = body.get_operators_reader().map_err(parse_error)?;
    let mut rewrite = false;
    while !reader.eof() {
        let op = reader.read().map_err(parse_error)?;
        match op {
            Operator::DataDrop { data_index } => {
                info.dropped_data.insert(data_index);
                rewrite = true;
            }
            Operator::ElemDrop { elem_index } => {
                info.dropped_elem.insert(elem_index);
                rewrite = true;
            }
            ref other => {
                if let Some(name) = table_mutator(other) {
                    info.table_mutator.get_or_insert(name);
                    rewrite = true;
                }
            }
        }
    }
    Ok(rewrite)
}

/// The bytes of section `section` of `wasm`.
pub(crate) fn section_bytes<'a>(wasm: &'a [u8], section: &RawSection) -> Cow<'a, [u8]> {
    Cow::Borrowed(wasm.get(section.range.clone()).unwrap_or(&[]))
}
