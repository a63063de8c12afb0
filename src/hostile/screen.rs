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
use wasmparser::{Parser, Payload, TypeRef};

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
}

/// Checks a binary module's memory types and moves its start function into
/// an export.
///
/// `Ok(None)` if the bytes do not parse: wasmi then reports the error.
pub(crate) fn screen(wasm: &[u8]) -> Result<Option<Screened<'_>>> {
    let mut start = None;
    let mut exports: Vec<String> = Vec::new();
    let mut export_section = None;
    for payload in Parser::new(0).parse_all(wasm) {
        let Ok(payload) = payload else {
            return Ok(None);
        };
        match payload {
            Payload::ImportSection(reader) => {
                for (index, import) in reader.into_iter().enumerate() {
                    let Ok(import) = import else {
                        return Ok(None);
                    };
                    if let TypeRef::Memory(ty) = import.ty {
                        check_memory(&ty, index, "imported ")?;
                    }
                }
            }
            Payload::MemorySection(reader) => {
                for (index, memory) in reader.into_iter().enumerate() {
                    let Ok(memory) = memory else {
                        return Ok(None);
                    };
                    check_memory(&memory, index, "")?;
                }
            }
            Payload::ExportSection(reader) => {
                export_section = Some(reader.range());
                for export in reader {
                    let Ok(export) = export else {
                        return Ok(None);
                    };
                    exports.push(String::from(export.name));
                }
            }
            Payload::StartSection { func, range } => start = Some((func, range)),
            _ => {}
        }
    }
    let Some((func, start_range)) = start else {
        return Ok(Some(Screened {
            wasm: Cow::Borrowed(wasm),
            start: None,
        }));
    };
    let mut name = String::from(START_EXPORT);
    while exports.contains(&name) {
        name.push('_');
    }
    let Some(wasm) = move_start_to_export(wasm, func, start_range, export_section, &name) else {
        return Ok(None);
    };
    Ok(Some(Screened {
        wasm: Cow::Owned(wasm),
        start: Some(name.into_boxed_str()),
    }))
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

    #[test]
    fn leb_round_trips() {
        for value in [0, 1, 127, 128, 300, 65_535, u32::MAX] {
            let mut out = Vec::new();
            leb(&mut out, value);
            assert_eq!(read_leb(&mut out.as_slice()), Some(value));
        }
    }
}
