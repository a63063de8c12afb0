//! Screening of module bytes before wasmi sees them: types that reach a
//! panic in wasmi 2.0 are refused, and the start function is turned into
//! an export so that linmem can run it itself (under fuel slices and a
//! deadline).

use crate::error::{Error, Result};
use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use wasmparser::{
    CompositeInnerType, FunctionSectionReader, Parser, Payload, RecGroup, TypeRef,
    TypeSectionReader,
};

/// The largest memory64 maximum (in 64 KiB pages) that wasmi 2.0 handles:
/// at 2^48 pages the maximum's size in bytes (2^64) overflows the `u64`
/// that wasmi_core computes it in, and the first `memory.grow` panics
/// (SECURITY.md, wasmi bug W1).
pub(crate) const MAX_MEMORY64_PAGES: u64 = (1 << 48) - 1;

/// The export name linmem gives a module's start function, made unique
/// against the module's own exports by appending `_`.
const START_EXPORT: &str = "linmem:start";

/// A module's bytes after screening.
#[derive(Debug)]
pub(crate) struct Screened<'a> {
    /// The bytes to compile: the input, or a copy without its start
    /// section whose export section also exports the start function.
    pub(crate) wasm: Cow<'a, [u8]>,
    /// The export name of the start function, if the module has one.
    pub(crate) start: Option<Box<str>>,
    /// Whether the module as given must be validated too: exporting the
    /// start function can make an invalid module valid (a start function
    /// of the wrong type; a `ref.func` of it that nothing else declares;
    /// spec tests start.wast, ref_func.wast), and the screen could not rule
    /// that out.
    pub(crate) validate_original: bool,
}

/// Checks a binary module's memory types and moves its start function into
/// an export.
///
/// `Ok(None)` if the bytes do not parse: wasmi then reports the error.
pub(crate) fn screen(wasm: &[u8]) -> Result<Option<Screened<'_>>> {
    let mut start = None;
    // Kept to be read only if the module has a start function.
    let mut types = None;
    let mut functions = None;
    let mut exports = None;
    let mut code = None;
    // The type index of each imported function (imports are read anyway).
    let mut imported_funcs: Vec<u32> = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        let Ok(payload) = payload else {
            return Ok(None);
        };
        match payload {
            Payload::TypeSection(reader) => types = Some(reader),
            Payload::ImportSection(reader) => {
                for (index, import) in reader.into_iter().enumerate() {
                    let Ok(import) = import else {
                        return Ok(None);
                    };
                    match import.ty {
                        TypeRef::Memory(ty) => check_memory(&ty, index, "imported ")?,
                        TypeRef::Func(ty) => imported_funcs.push(ty),
                        _ => {}
                    }
                }
            }
            Payload::FunctionSection(reader) => functions = Some(reader),
            Payload::MemorySection(reader) => {
                for (index, memory) in reader.into_iter().enumerate() {
                    let Ok(memory) = memory else {
                        return Ok(None);
                    };
                    check_memory(&memory, index, "")?;
                }
            }
            Payload::ExportSection(reader) => exports = Some(reader),
            Payload::StartSection { func, range } => start = Some((func, range)),
            Payload::CodeSectionStart { range, .. } => code = Some(range),
            _ => {}
        }
    }
    let Some((func, start_range)) = start else {
        return Ok(Some(Screened {
            wasm: Cow::Borrowed(wasm),
            start: None,
            validate_original: false,
        }));
    };
    let nullary = is_nullary(&imported_funcs, functions, types, func);
    let code = code.and_then(|range| wasm.get(range)).unwrap_or(&[]);
    let validate_original = nullary != Some(true) || may_ref_func(code, func);
    let mut names = Vec::new();
    for export in exports.clone().into_iter().flatten() {
        let Ok(export) = export else {
            return Ok(None);
        };
        names.push(export.name);
    }
    let mut name = String::from(START_EXPORT);
    while names.contains(&name.as_str()) {
        name.push('_');
    }
    let export_section = exports.map(|reader| reader.range());
    let Some(wasm) = move_start_to_export(wasm, func, start_range, export_section, &name) else {
        return Ok(None);
    };
    Ok(Some(Screened {
        wasm: Cow::Owned(wasm),
        start: Some(name.into_boxed_str()),
        validate_original,
    }))
}

/// Whether function `func` takes and returns nothing; `None` if the
/// sections do not say (the module is then validated as given).
fn is_nullary(
    imported_funcs: &[u32],
    functions: Option<FunctionSectionReader<'_>>,
    types: Option<TypeSectionReader<'_>>,
    func: u32,
) -> Option<bool> {
    let func = usize::try_from(func).ok()?;
    let ty = match imported_funcs.get(func) {
        Some(&ty) => ty,
        None => functions?
            .into_iter()
            .nth(func.checked_sub(imported_funcs.len())?)?
            .ok()?,
    };
    let ty = types?
        .into_iter()
        .map_while(core::result::Result::ok)
        .flat_map(RecGroup::into_types)
        .nth(usize::try_from(ty).ok()?)?;
    match ty.composite_type.inner {
        CompositeInnerType::Func(func) => {
            Some(func.params().is_empty() && func.results().is_empty())
        }
        _ => None,
    }
}

/// Whether `code` may hold a `ref.func func`: some `0xD2` byte (the
/// opcode) followed by an LEB128 of `func`, in any of its encodings. Never
/// a false "no"; a "yes" from an immediate or a constant that happens to
/// look like one only costs a validation.
fn may_ref_func(code: &[u8], func: u32) -> bool {
    let mut rest = code;
    while let Some(at) = rest.iter().position(|&byte| byte == 0xD2) {
        let Some(after) = rest.get(at.saturating_add(1)..) else {
            return false;
        };
        let mut immediate = after;
        if read_leb(&mut immediate) == Some(func) {
            return true;
        }
        rest = after;
    }
    false
}

/// Refuses a memory type that wasmi 2.0 accepts but then panics on.
fn check_memory(ty: &wasmparser::MemoryType, index: usize, kind: &str) -> Result<()> {
    let wasm_pages = ty.page_size_log2.is_none_or(|log2| log2 == 16);
    if ty.memory64
        && wasm_pages
        && let Some(maximum) = ty.maximum
        && maximum > MAX_MEMORY64_PAGES
    {
        return Err(Error::Refused {
            reason: format!(
                "{kind}memory {index} declares a maximum of {maximum} pages; wasmi 2.0 \
                 overflows on memory64 maxima above {MAX_MEMORY64_PAGES} pages"
            )
            .into_boxed_str(),
        });
    }
    Ok(())
}

/// A copy of `wasm` without its start section, whose export section also
/// exports function `func` as `name`. `None` if the layout is not the one
/// the binary format prescribes (wasmi then reports the error).
fn move_start_to_export(
    wasm: &[u8],
    func: u32,
    start: core::ops::Range<usize>,
    exports: Option<core::ops::Range<usize>>,
    name: &str,
) -> Option<Vec<u8>> {
    let start_section = section_bounds(wasm, start)?;
    let mut entry = Vec::new();
    leb(&mut entry, u32::try_from(name.len()).ok()?);
    entry.extend_from_slice(name.as_bytes());
    entry.push(0x00); // function export
    leb(&mut entry, func);
    let mut out = Vec::with_capacity(wasm.len().checked_add(entry.len())?.checked_add(16)?);
    match exports {
        Some(range) => {
            // The export section (id 7) always comes before the start section.
            let bounds = section_bounds(wasm, range.clone())?;
            let mut content = wasm.get(range)?;
            let count = read_leb(&mut content)?;
            let mut body = Vec::with_capacity(content.len().checked_add(entry.len())?);
            leb(&mut body, count.checked_add(1)?);
            body.extend_from_slice(content);
            body.extend_from_slice(&entry);
            out.extend_from_slice(wasm.get(..bounds.start)?);
            push_section(&mut out, 7, &body)?;
            out.extend_from_slice(wasm.get(bounds.end..start_section.start)?);
        }
        None => {
            let mut body = Vec::with_capacity(entry.len().checked_add(1)?);
            leb(&mut body, 1);
            body.extend_from_slice(&entry);
            out.extend_from_slice(wasm.get(..start_section.start)?);
            push_section(&mut out, 7, &body)?;
        }
    }
    out.extend_from_slice(wasm.get(start_section.end..)?);
    Some(out)
}

/// The whole section (id byte and size included) whose content is `content`.
fn section_bounds(
    wasm: &[u8],
    content: core::ops::Range<usize>,
) -> Option<core::ops::Range<usize>> {
    // The header is the id byte and the size as LEB128 (1 to 5 bytes); the
    // content's length fixes the size, so find the header that encodes it.
    let len = u32::try_from(content.len()).ok()?;
    let mut size = Vec::new();
    leb(&mut size, len);
    // wasm encoders may pad the size to 5 bytes: accept any encoding that
    // decodes to the length.
    for width in size.len()..=5 {
        let header = content.start.checked_sub(width.checked_add(1)?)?;
        let mut bytes = wasm.get(header.checked_add(1)?..content.start)?;
        if read_leb(&mut bytes) == Some(len) && bytes.is_empty() {
            return Some(header..content.end);
        }
    }
    None
}

fn push_section(out: &mut Vec<u8>, id: u8, body: &[u8]) -> Option<()> {
    out.push(id);
    leb(out, u32::try_from(body.len()).ok()?);
    out.extend_from_slice(body);
    Some(())
}

/// Appends `value` as unsigned LEB128.
fn leb(out: &mut Vec<u8>, mut value: u32) {
    loop {
        let byte = u8::try_from(value & 0x7f).unwrap_or(0);
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Reads an unsigned LEB128 `u32` from the front of `bytes`.
fn read_leb(bytes: &mut &[u8]) -> Option<u32> {
    let mut value: u32 = 0;
    for shift in [0u32, 7, 14, 21, 28] {
        let (&byte, rest) = bytes.split_first()?;
        *bytes = rest;
        let bits = u32::from(byte & 0x7f);
        if shift == 28 && bits > 0x0f {
            return None;
        }
        value |= bits << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn screened(text: &str) -> bool {
        let wasm = wat::parse_str(text).expect("valid text");
        screen(&wasm)
            .expect("screens")
            .expect("parses")
            .validate_original
    }

    #[test]
    fn the_original_is_validated_only_when_the_rewrite_could_hide_an_error() {
        // A start function of the right type that no code takes a reference of.
        assert!(!screened(
            r#"(module (func $f) (start $f) (func (call $f)))"#
        ));
        assert!(!screened(
            r#"(module (import "env" "f" (func $f)) (start $f) (func (drop (ref.func 1))))"#
        ));
        // The wrong type, or a `ref.func` of the start function.
        assert!(screened(r#"(module (func $f (param i32)) (start $f))"#));
        assert!(screened(
            r#"(module (func $f (result i32) (i32.const 0)) (start $f))"#
        ));
        assert!(screened(
            r#"(module (func $f) (start $f) (func (drop (ref.func $f))))"#
        ));
        assert!(screened(
            r#"(module (import "env" "g" (func)) (func $f) (start $f) (func (drop (ref.func $f))))"#
        ));
    }

    #[test]
    fn ref_func_is_found_in_every_leb_encoding() {
        assert!(may_ref_func(&[0x01, 0xD2, 0x05, 0x1A], 5));
        assert!(may_ref_func(&[0xD2, 0x85, 0x80, 0x80, 0x80, 0x00], 5));
        assert!(may_ref_func(&[0xD2, 0xD2, 0x05], 5));
        assert!(!may_ref_func(&[0xD2, 0x06, 0x05], 5));
        assert!(!may_ref_func(&[0x05, 0xD2], 5));
        assert!(!may_ref_func(&[], 0));
    }

    #[test]
    fn leb_round_trips() {
        for value in [0, 1, 127, 128, 300, 65_535, u32::MAX] {
            let mut out = Vec::new();
            leb(&mut out, value);
            assert_eq!(read_leb(&mut out.as_slice()), Some(value));
        }
    }
}
