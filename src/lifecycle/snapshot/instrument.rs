//! The instrumented module: the original, plus exports of every mutable
//! global, memory and table under reserved names, and flags that record
//! what the code did that a snapshot must know (a dropped segment, a
//! mutated table).
//!
//! The original's index spaces are untouched: the flag globals come after
//! every original global, and only function bodies that contain
//! `data.drop`, `elem.drop` or a table-mutating instruction are re-encoded
//! (each such instruction gains `i32.const 1; global.set $flag`); every
//! other byte of code is copied as it was.

use crate::lifecycle::snapshot::error::SnapshotError;
use crate::lifecycle::snapshot::info::{
    self, ID_EXPORT, ModuleInfo, TABLE_MUTATED_EXPORT, parse_error, table_mutator,
};
use crate::lifecycle::snapshot::sections::{Sections, contents, id};
use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use snapshot_wasmparser as wasmparser;
use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{
    CodeSection, ConstExpr, Encode, ExportKind, ExportSection, GlobalSection, GlobalType,
    Instruction, ValType,
};
use wasmparser::{BinaryReader, CodeSectionReader, Operator};

/// The flag globals the instrumentation adds, by what they record.
#[derive(Debug, Default)]
struct Flags {
    data: BTreeMap<u32, u32>,
    elem: BTreeMap<u32, u32>,
    table: Option<u32>,
}

/// The instrumented module's bytes; `token` goes into its identity global.
///
/// # Errors
///
/// [`SnapshotError::Parse`] or [`SnapshotError::Reencode`] if a function
/// body that needs rewriting cannot be re-encoded.
pub(crate) fn instrument(
    wasm: &[u8],
    info: &ModuleInfo,
    token: u32,
) -> Result<Vec<u8>, SnapshotError> {
    let mut sections = Sections::of(wasm, info);

    // Globals: the flags, all zero, then the identity.
    let mut next = info.global_count();
    let mut take = || {
        let index = next;
        next = next.saturating_add(1);
        index
    };
    let mut flags = Flags::default();
    for &segment in &info.dropped_data {
        flags.data.insert(segment, take());
    }
    for &segment in &info.dropped_elem {
        flags.elem.insert(segment, take());
    }
    if info.table_mutator.is_some() {
        flags.table = Some(take());
    }
    let id_global = take();
    let flag_count = flags.data.len() + flags.elem.len() + usize::from(flags.table.is_some());
    let mut globals = GlobalSection::new();
    for _ in 0..flag_count {
        let ty = GlobalType {
            val_type: ValType::I32,
            mutable: true,
            shared: false,
        };
        globals.global(ty, &ConstExpr::i32_const(0));
    }
    let ty = GlobalType {
        val_type: ValType::I32,
        mutable: false,
        shared: false,
    };
    globals.global(ty, &ConstExpr::i32_const(token.cast_signed()));
    let merged = append_entries(sections.get(id::GLOBAL), &globals)?;
    sections.set(id::GLOBAL, Some(merged));

    // Exports: every mutable global, memory and table, the flags, the identity.
    let mut exports = ExportSection::new();
    for (defined, &mutable) in info.globals_mutable.iter().enumerate() {
        if mutable {
            let index = info.global_index(defined);
            exports.export(&info::global_export(index), ExportKind::Global, index);
        }
    }
    for index in 0..info.memories.len() {
        let index = u32::try_from(index).unwrap_or(u32::MAX);
        exports.export(&info::memory_export(index), ExportKind::Memory, index);
    }
    for index in 0..info.tables.len() {
        let index = u32::try_from(index).unwrap_or(u32::MAX);
        exports.export(&info::table_export(index), ExportKind::Table, index);
    }
    for (&segment, &global) in &flags.data {
        exports.export(
            &info::data_dropped_export(segment),
            ExportKind::Global,
            global,
        );
    }
    for (&segment, &global) in &flags.elem {
        exports.export(
            &info::elem_dropped_export(segment),
            ExportKind::Global,
            global,
        );
    }
    if let Some(global) = flags.table {
        exports.export(TABLE_MUTATED_EXPORT, ExportKind::Global, global);
    }
    exports.export(ID_EXPORT, ExportKind::Global, id_global);
    let merged = append_entries(sections.get(id::EXPORT), &exports)?;
    sections.set(id::EXPORT, Some(merged));

    // Code: only the bodies that need flags are re-encoded.
    if info.bodies_to_rewrite.iter().any(|&rewrite| rewrite) {
        let code = sections.get(id::CODE).unwrap_or(&[]);
        let code = rewrite_code(code, info, &flags)?;
        sections.set(id::CODE, Some(code));
    }
    Ok(sections.encode())
}

/// Re-encodes a code section, adding the flag writes.
fn rewrite_code(code: &[u8], info: &ModuleInfo, flags: &Flags) -> Result<Vec<u8>, SnapshotError> {
    let reader = CodeSectionReader::new(BinaryReader::new(code, 0)).map_err(parse_error)?;
    let mut section = CodeSection::new();
    for (body, &rewrite) in reader.into_iter().zip(info.bodies_to_rewrite.iter()) {
        let body = body.map_err(parse_error)?;
        if !rewrite {
            let range = body.range();
            let start = usize::try_from(range.start).unwrap_or(usize::MAX);
            let end = usize::try_from(range.end).unwrap_or(usize::MAX);
            section.raw(code.get(start..end).unwrap_or(&[]));
            continue;
        }
        let code_error = |_| SnapshotError::Reencode { section: "code" };
        let mut reencoder = RoundtripReencoder;
        let mut func = reencoder
            .new_function_with_parsed_locals(&body)
            .map_err(code_error)?;
        let mut reader = body.get_operators_reader().map_err(parse_error)?;
        let set_flag = |func: &mut wasm_encoder::Function, global: Option<&u32>| {
            if let Some(&global) = global {
                func.instruction(&Instruction::I32Const(1));
                func.instruction(&Instruction::GlobalSet(global));
            }
        };
        while !reader.eof() {
            let op = reader.read().map_err(parse_error)?;
            let mutator = table_mutator(&op).is_some();
            let dropped = match op {
                Operator::DataDrop { data_index } => flags.data.get(&data_index),
                Operator::ElemDrop { elem_index } => flags.elem.get(&elem_index),
                _ => None,
            };
            if mutator {
                set_flag(&mut func, flags.table.as_ref());
            }
            func.instruction(&reencoder.instruction(op).map_err(code_error)?);
            set_flag(&mut func, dropped);
        }
        section.function(&func);
    }
    Ok(contents(&section))
}

/// A vector section's contents with `extra`'s entries appended: the count
/// is updated and the original entries are copied unchanged.
pub(crate) fn append_entries(
    original: Option<&[u8]>,
    extra: &impl wasm_encoder::Section,
) -> Result<Vec<u8>, SnapshotError> {
    let extra = contents(extra);
    let (extra_count, extra_entries) = read_count(&extra)?;
    let (count, entries) = match original {
        Some(original) => read_count(original)?,
        None => (0, &[][..]),
    };
    let mut merged = Vec::with_capacity(entries.len() + extra_entries.len() + 5);
    count.saturating_add(extra_count).encode(&mut merged);
    merged.extend_from_slice(entries);
    merged.extend_from_slice(extra_entries);
    Ok(merged)
}

/// A vector's count and the bytes after it.
fn read_count(bytes: &[u8]) -> Result<(u32, &[u8]), SnapshotError> {
    let mut reader = BinaryReader::new(bytes, 0);
    let count = reader.read_var_u32().map_err(parse_error)?;
    let at = reader.current_position();
    Ok((count, bytes.get(at..).unwrap_or(&[])))
}
