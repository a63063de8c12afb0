//! Reading an initialised guest's state through the instrumented exports:
//! mutable globals, memories (as runs of non-zero bytes), dropped
//! segments, and the checks that refuse what a module cannot carry.

use crate::lifecycle::snapshot::error::SnapshotError;
use crate::lifecycle::snapshot::info::{self, ID_EXPORT, ModuleInfo, TABLE_MUTATED_EXPORT};
use alloc::collections::BTreeSet;
use alloc::vec::Vec;
use core::ops::Range;
use wasmi::{AsContext, Extern, Global, Instance, Memory, Val};

/// Zero bytes between two non-zero runs that are cheaper to write than a
/// segment header (flags, offset expression, length): runs closer than
/// this are merged.
const MERGE_GAP: usize = 8;

/// The most data segments a snapshot emits (engines cap the count; wasmi
/// and wasmtime allow far more, Wizer keeps the same headroom).
const MAX_SEGMENTS: usize = 10_000;

/// Bytes of a memory at an offset.
#[derive(Debug, Clone)]
pub(crate) struct Segment {
    pub(crate) offset: u64,
    pub(crate) bytes: Vec<u8>,
}

/// One memory at the snapshot: its size and its non-zero contents.
#[derive(Debug, Clone)]
pub(crate) struct MemoryImage {
    pub(crate) index: u32,
    pub(crate) pages: u64,
    pub(crate) segments: Vec<Segment>,
}

/// Everything a snapshot module must reproduce.
#[derive(Debug, Clone)]
pub(crate) struct Captured {
    /// Each defined mutable global's index and value.
    pub(crate) globals: Vec<(u32, Val)>,
    pub(crate) memories: Vec<MemoryImage>,
    pub(crate) dropped_data: BTreeSet<u32>,
    pub(crate) dropped_elem: BTreeSet<u32>,
}

/// The exported global `name` of `instance`, if there is one.
pub(crate) fn global(store: impl AsContext, instance: Instance, name: &str) -> Option<Global> {
    match instance.get_export(store, name) {
        Some(Extern::Global(global)) => Some(global),
        _ => None,
    }
}

/// The exported memory `name` of `instance`, if there is one.
pub(crate) fn memory(store: impl AsContext, instance: Instance, name: &str) -> Option<Memory> {
    match instance.get_export(store, name) {
        Some(Extern::Memory(memory)) => Some(memory),
        _ => None,
    }
}

/// Whether `instance` carries the identity `token`.
pub(crate) fn has_token(store: impl AsContext, instance: Instance, token: u32) -> bool {
    let store = store.as_context();
    global(store, instance, ID_EXPORT).is_some_and(
        |id| matches!(id.get(store), Val::I32(value) if value.cast_unsigned() == token),
    )
}

/// Whether the flag global `name` was set.
fn flag(store: impl AsContext, instance: Instance, name: &str) -> bool {
    let store = store.as_context();
    global(store, instance, name).is_some_and(|flag| matches!(flag.get(store), Val::I32(1)))
}

/// Reads the state of `instance`, an instance of the instrumented module
/// with identity `token`.
///
/// # Errors
///
/// [`SnapshotError::ForeignGuest`] if it is not such an instance;
/// [`SnapshotError::TableMutated`], [`SnapshotError::TableResized`] or
/// [`SnapshotError::ReferenceGlobal`] for state a module cannot carry.
pub(crate) fn capture(
    store: impl AsContext,
    instance: Instance,
    info: &ModuleInfo,
    token: u32,
) -> Result<Captured, SnapshotError> {
    let store = store.as_context();
    let foreign = SnapshotError::ForeignGuest {
        expected: "snapshotter's module",
    };
    if !has_token(store, instance, token) {
        return Err(foreign);
    }
    if flag(store, instance, TABLE_MUTATED_EXPORT) {
        return Err(SnapshotError::TableMutated);
    }
    for (index, &initial) in info.tables.iter().enumerate() {
        let index = u32::try_from(index).unwrap_or(u32::MAX);
        let Some(Extern::Table(table)) = instance.get_export(store, &info::table_export(index))
        else {
            return Err(foreign);
        };
        let size = table.size(store);
        if size != initial {
            return Err(SnapshotError::TableResized {
                index,
                initial,
                size,
            });
        }
    }
    let mut globals = Vec::new();
    for (defined, &mutable) in info.globals_mutable.iter().enumerate() {
        if !mutable {
            continue;
        }
        let index = info.global_index(defined);
        let Some(global) = global(store, instance, &info::global_export(index)) else {
            return Err(foreign);
        };
        let value = global.get(store);
        let non_null = match &value {
            Val::FuncRef(func) => !func.is_null(),
            Val::ExternRef(extern_ref) => !extern_ref.is_null(),
            _ => false,
        };
        if non_null {
            return Err(SnapshotError::ReferenceGlobal { index });
        }
        globals.push((index, value));
    }
    let mut memories = Vec::new();
    for index in 0..info.memories.len() {
        let index = u32::try_from(index).unwrap_or(u32::MAX);
        let Some(memory) = memory(store, instance, &info::memory_export(index)) else {
            return Err(foreign);
        };
        let data = memory.data(store);
        memories.push(MemoryImage {
            index,
            pages: memory.size(store),
            segments: segments(data),
        });
    }
    let dropped_data = info
        .dropped_data
        .iter()
        .copied()
        .filter(|&segment| flag(store, instance, &info::data_dropped_export(segment)))
        .collect();
    let dropped_elem = info
        .dropped_elem
        .iter()
        .copied()
        .filter(|&segment| flag(store, instance, &info::elem_dropped_export(segment)))
        .collect();
    Ok(Captured {
        globals,
        memories,
        dropped_data,
        dropped_elem,
    })
}

/// The non-zero contents of `data` as segments: runs of non-zero bytes,
/// merged across short gaps, at most [`MAX_SEGMENTS`] of them.
pub(crate) fn segments(data: &[u8]) -> Vec<Segment> {
    let mut runs = non_zero_runs(data, MERGE_GAP);
    let mut gap = MERGE_GAP;
    while runs.len() > MAX_SEGMENTS {
        gap = gap.saturating_mul(2);
        runs = merge(&runs, gap);
    }
    runs.into_iter()
        .map(|run| Segment {
            offset: u64::try_from(run.start).unwrap_or(u64::MAX),
            bytes: data.get(run).unwrap_or(&[]).to_vec(),
        })
        .collect()
}

/// The runs of non-zero bytes of `data`, merged when at most `gap` zero
/// bytes separate them.
fn non_zero_runs(data: &[u8], gap: usize) -> Vec<Range<usize>> {
    let mut runs: Vec<Range<usize>> = Vec::new();
    let mut at = 0;
    while let Some(start) = next_non_zero(data, at) {
        let end = next_zero(data, start).unwrap_or(data.len());
        match runs.last_mut() {
            Some(last) if start - last.end <= gap => last.end = end,
            _ => runs.push(start..end),
        }
        at = end;
    }
    runs
}

/// The index of the first non-zero byte at or after `from`.
fn next_non_zero(data: &[u8], from: usize) -> Option<usize> {
    let rest = data.get(from..)?;
    // Whole zero words are skipped 8 bytes at a time: most of a memory is
    // usually empty.
    let zero_words = rest
        .chunks_exact(8)
        .take_while(|word| word.iter().all(|&byte| byte == 0))
        .count();
    let skipped = zero_words * 8;
    rest.get(skipped..)?
        .iter()
        .position(|&byte| byte != 0)
        .map(|offset| from + skipped + offset)
}

/// The index of the first zero byte at or after `from`.
fn next_zero(data: &[u8], from: usize) -> Option<usize> {
    let rest = data.get(from..)?;
    rest.iter()
        .position(|&byte| byte == 0)
        .map(|offset| from + offset)
}

/// `runs` merged when at most `gap` bytes separate them.
fn merge(runs: &[Range<usize>], gap: usize) -> Vec<Range<usize>> {
    let mut merged: Vec<Range<usize>> = Vec::new();
    for run in runs {
        match merged.last_mut() {
            Some(last) if run.start - last.end <= gap => last.end = run.end,
            _ => merged.push(run.clone()),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(data: &[u8]) -> Vec<(u64, usize)> {
        segments(data)
            .iter()
            .map(|segment| (segment.offset, segment.bytes.len()))
            .collect()
    }

    #[test]
    fn zero_runs_are_skipped_and_close_runs_merged() {
        assert!(layout(&[0; 100]).is_empty());
        let mut data = [0u8; 100];
        data[3] = 1;
        data[5] = 2; // 1 zero between: merged
        data[40] = 3; // far: its own segment
        data[99] = 4;
        assert_eq!(layout(&data), [(3, 3), (40, 1), (99, 1)]);
        assert_eq!(layout(&[7; 9]), [(0, 9)]);
    }

    #[test]
    fn the_segment_count_is_capped() {
        let mut data = alloc::vec![0u8; (MAX_SEGMENTS + 10) * 16];
        for byte in data.iter_mut().step_by(16) {
            *byte = 1;
        }
        let segments = segments(&data);
        assert!(segments.len() <= MAX_SEGMENTS);
        // Every non-zero byte is still covered, at its own offset.
        for (at, &byte) in data.iter().enumerate() {
            let at = u64::try_from(at).unwrap();
            let covered = segments
                .iter()
                .find(|s| s.offset <= at && at < s.offset + u64::try_from(s.bytes.len()).unwrap());
            match covered {
                Some(s) => assert_eq!(s.bytes[usize::try_from(at - s.offset).unwrap()], byte),
                None => assert_eq!(byte, 0),
            }
        }
    }
}
