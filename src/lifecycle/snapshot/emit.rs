//! The snapshot module: the original with the captured state written in.
//!
//! - each defined memory's minimum becomes its size at the snapshot;
//! - each mutable global's initialiser becomes a constant of its value;
//! - the data section holds the captured memory (non-zero runs) as active
//!   segments, after the original segments, which keep their indices for
//!   `memory.init`/`data.drop`: an active one becomes an empty passive
//!   segment (an active segment is dropped once instantiated, and a dropped
//!   segment behaves exactly as an empty one), a passive one keeps its
//!   bytes unless the guest dropped it;
//! - a passive element segment the guest dropped becomes empty;
//! - the start function is removed, and the exports the host named;
//! - everything else (types, imports, code, tables, element segments,
//!   custom sections) is copied byte for byte.

use crate::lifecycle::snapshot::capture::Captured;
use crate::lifecycle::snapshot::error::SnapshotError;
use crate::lifecycle::snapshot::info::{self, ID_EXPORT, ModuleInfo, parse_error};
use crate::lifecycle::snapshot::instrument::append_entries;
use crate::lifecycle::snapshot::sections::{Sections, contents, id};
use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::vec::Vec;
use snapshot_wasmparser as wasmparser;
use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{
    ConstExpr, DataSection, ElementSection, Elements, Encode, ExportKind, ExportSection,
    GlobalSection, GlobalType, Ieee32, Ieee64, MemorySection, ValType,
};
use wasmparser::{
    BinaryReader, DataKind, DataSectionReader, ElementItems, ElementKind, ElementSectionReader,
    ExportSectionReader, GlobalSectionReader,
};

/// What the host asked of the snapshot module.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EmitOptions<'o> {
    /// Exports to leave out (e.g. the initialisation function).
    pub(crate) remove_exports: &'o [Box<str>],
    /// For a resettable snapshot, its identity: mutable globals and
    /// memories are then exported under the reserved names.
    pub(crate) reset_token: Option<u32>,
}

fn reencode_error(
    section: &'static str,
) -> impl Fn(wasm_encoder::reencode::Error) -> SnapshotError {
    move |_| SnapshotError::Reencode { section }
}

/// The snapshot module's bytes.
///
/// # Errors
///
/// [`SnapshotError::NoSuchExport`] if an export to remove does not exist;
/// [`SnapshotError::Parse`] or [`SnapshotError::Reencode`] if a section
/// cannot be rewritten.
pub(crate) fn emit(
    wasm: &[u8],
    info: &ModuleInfo,
    captured: &Captured,
    options: EmitOptions<'_>,
) -> Result<Vec<u8>, SnapshotError> {
    for name in options.remove_exports {
        if !info.exports.contains(name) {
            return Err(SnapshotError::NoSuchExport { name: name.clone() });
        }
    }
    let mut sections = Sections::of(wasm, info);
    if !info.memories.is_empty() {
        sections.set(id::MEMORY, Some(memories(info, captured)));
    }
    let globals = globals(sections.get(id::GLOBAL), captured, info, options)?;
    sections.set(id::GLOBAL, globals);
    let exports = exports(sections.get(id::EXPORT), info, options)?;
    sections.set(id::EXPORT, exports);
    sections.set(id::START, None);
    if !captured.dropped_elem.is_empty() {
        let elements = sections.get(id::ELEMENT).unwrap_or(&[]);
        let elements = element_section(elements, captured)?;
        sections.set(id::ELEMENT, Some(elements));
    }
    let (data, count) = data_section(sections.get(id::DATA), info, captured)?;
    if info.has_section(id::DATA_COUNT) {
        let mut bytes = Vec::new();
        count.encode(&mut bytes);
        sections.set(id::DATA_COUNT, Some(bytes));
    }
    sections.set(id::DATA, (count > 0).then_some(data));
    Ok(sections.encode())
}

/// The memory section with each minimum set to the captured size.
fn memories(info: &ModuleInfo, captured: &Captured) -> Vec<u8> {
    let mut section = MemorySection::new();
    for (memory, image) in info.memories.iter().zip(&captured.memories) {
        let ty = memory.ty;
        section.memory(wasm_encoder::MemoryType {
            minimum: image.pages,
            maximum: ty.maximum,
            memory64: ty.memory64,
            shared: ty.shared,
            page_size_log2: ty.page_size_log2,
        });
    }
    contents(&section)
}

/// The global section with each mutable global's initialiser replaced.
fn globals(
    original: Option<&[u8]>,
    captured: &Captured,
    info: &ModuleInfo,
    options: EmitOptions<'_>,
) -> Result<Option<Vec<u8>>, SnapshotError> {
    let mut section = GlobalSection::new();
    let mut reencoder = RoundtripReencoder;
    if let Some(original) = original {
        let reader =
            GlobalSectionReader::new(BinaryReader::new(original, 0)).map_err(parse_error)?;
        for (defined, global) in reader.into_iter().enumerate() {
            let global = global.map_err(parse_error)?;
            let index = info.global_index(defined);
            let value = captured
                .globals
                .iter()
                .find(|(captured, _)| *captured == index)
                .map(|(_, value)| value);
            match value {
                Some(value) if global.ty.mutable => {
                    let ty = reencoder
                        .global_type(global.ty)
                        .map_err(reencode_error("global"))?;
                    let init = constant(value, ty.val_type)?;
                    section.global(ty, &init);
                }
                _ => reencoder
                    .parse_global(&mut section, global)
                    .map_err(reencode_error("global"))?,
            }
        }
    }
    if let Some(token) = options.reset_token {
        let ty = GlobalType {
            val_type: ValType::I32,
            mutable: false,
            shared: false,
        };
        section.global(ty, &ConstExpr::i32_const(token.cast_signed()));
    }
    Ok((!section.is_empty()).then(|| contents(&section)))
}

/// A constant expression of `value`, of type `ty`.
fn constant(value: &wasmi::Val, ty: ValType) -> Result<ConstExpr, SnapshotError> {
    Ok(match (value, ty) {
        (wasmi::Val::I32(value), _) => ConstExpr::i32_const(*value),
        (wasmi::Val::I64(value), _) => ConstExpr::i64_const(*value),
        (wasmi::Val::F32(value), _) => ConstExpr::f32_const(Ieee32::new(value.to_bits())),
        (wasmi::Val::F64(value), _) => ConstExpr::f64_const(Ieee64::new(value.to_bits())),
        (wasmi::Val::V128(value), _) => ConstExpr::v128_const(value.as_u128().cast_signed()),
        (wasmi::Val::FuncRef(_) | wasmi::Val::ExternRef(_), ValType::Ref(ty)) => {
            // The capture refused non-null references.
            ConstExpr::ref_null(ty.heap_type)
        }
        _ => return Err(SnapshotError::Reencode { section: "global" }),
    })
}

/// The export section without the removed exports; for a resettable
/// snapshot, with the reserved exports of its mutable globals, memories and
/// identity.
fn exports(
    original: Option<&[u8]>,
    info: &ModuleInfo,
    options: EmitOptions<'_>,
) -> Result<Option<Vec<u8>>, SnapshotError> {
    let mut section = ExportSection::new();
    let mut reencoder = RoundtripReencoder;
    if let Some(original) = original {
        let reader =
            ExportSectionReader::new(BinaryReader::new(original, 0)).map_err(parse_error)?;
        for export in reader {
            let export = export.map_err(parse_error)?;
            if options
                .remove_exports
                .iter()
                .any(|name| **name == *export.name)
            {
                continue;
            }
            let kind = reencoder
                .export_kind(export.kind)
                .map_err(reencode_error("export"))?;
            section.export(export.name, kind, export.index);
        }
    }
    if options.reset_token.is_some() {
        let mut reserved = ExportSection::new();
        for (defined, &mutable) in info.globals_mutable.iter().enumerate() {
            if mutable {
                let index = info.global_index(defined);
                reserved.export(&info::global_export(index), ExportKind::Global, index);
            }
        }
        for index in 0..info.memories.len() {
            let index = u32::try_from(index).unwrap_or(u32::MAX);
            reserved.export(&info::memory_export(index), ExportKind::Memory, index);
        }
        reserved.export(ID_EXPORT, ExportKind::Global, info.global_count());
        let merged = append_entries(Some(&contents(&section)), &reserved)?;
        return Ok(Some(merged));
    }
    Ok((!section.is_empty()).then(|| contents(&section)))
}

/// The element section with the passive segments the guest dropped emptied.
fn element_section(original: &[u8], captured: &Captured) -> Result<Vec<u8>, SnapshotError> {
    let reader = ElementSectionReader::new(BinaryReader::new(original, 0)).map_err(parse_error)?;
    let mut section = ElementSection::new();
    let mut reencoder = RoundtripReencoder;
    for (index, element) in reader.into_iter().enumerate() {
        let element = element.map_err(parse_error)?;
        let index = u32::try_from(index).unwrap_or(u32::MAX);
        if matches!(element.kind, ElementKind::Passive) && captured.dropped_elem.contains(&index) {
            let empty = match element.items {
                ElementItems::Functions(_) => Elements::Functions(Cow::Borrowed(&[])),
                ElementItems::Expressions(ty, _) => {
                    let ty = reencoder.ref_type(ty).map_err(reencode_error("element"))?;
                    Elements::Expressions(ty, Cow::Borrowed(&[]))
                }
            };
            section.passive(empty);
        } else {
            reencoder
                .parse_element(&mut section, element)
                .map_err(reencode_error("element"))?;
        }
    }
    Ok(contents(&section))
}

/// The data section and its segment count: the original segments (if code
/// can name them) as passive ones, then the captured memory.
fn data_section(
    original: Option<&[u8]>,
    info: &ModuleInfo,
    captured: &Captured,
) -> Result<(Vec<u8>, u32), SnapshotError> {
    let mut section = DataSection::new();
    // Without a data count section no instruction can name a segment, so
    // the original segments (all applied or unused) can go.
    if let (Some(original), true) = (original, info.has_section(id::DATA_COUNT)) {
        let reader = DataSectionReader::new(BinaryReader::new(original, 0)).map_err(parse_error)?;
        for (index, data) in reader.into_iter().enumerate() {
            let data = data.map_err(parse_error)?;
            let index = u32::try_from(index).unwrap_or(u32::MAX);
            match data.kind {
                DataKind::Passive if !captured.dropped_data.contains(&index) => {
                    section.passive(data.data.iter().copied());
                }
                DataKind::Passive | DataKind::Active { .. } => {
                    section.passive(core::iter::empty());
                }
            }
        }
    }
    for (image, memory) in captured.memories.iter().zip(&info.memories) {
        for segment in &image.segments {
            let offset = if memory.ty.memory64 {
                ConstExpr::i64_const(segment.offset.cast_signed())
            } else {
                let offset = u32::try_from(segment.offset).unwrap_or(u32::MAX);
                ConstExpr::i32_const(offset.cast_signed())
            };
            section.active(image.index, &offset, segment.bytes.iter().copied());
        }
    }
    Ok((contents(&section), section.len()))
}
