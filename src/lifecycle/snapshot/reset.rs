//! Returning a guest of a resettable snapshot to the snapshot's state in
//! place: memories rewritten from the captured image, mutable globals set.

use crate::lifecycle::snapshot::capture::{self, Captured, Segment};
use crate::lifecycle::snapshot::error::SnapshotError;
use crate::lifecycle::snapshot::info;
use wasmi::{AsContextMut, Instance};

/// Writes `captured` back into `instance`, an instance of the resettable
/// snapshot with identity `token`.
///
/// # Errors
///
/// [`SnapshotError::ForeignGuest`] if `instance` is not one;
/// [`SnapshotError::ResetAfterGrow`] if a memory is larger than in the
/// snapshot (nothing is written then).
pub(crate) fn reset(
    mut store: impl AsContextMut,
    instance: Instance,
    captured: &Captured,
    token: u32,
) -> Result<(), SnapshotError> {
    let foreign = || SnapshotError::ForeignGuest {
        expected: "snapshot",
    };
    if !capture::has_token(&store, instance, token) {
        return Err(foreign());
    }
    // Check every memory before writing any, so a refused reset changes nothing.
    let mut memories = alloc::vec::Vec::with_capacity(captured.memories.len());
    for image in &captured.memories {
        let memory = capture::memory(&store, instance, &info::memory_export(image.index))
            .ok_or_else(foreign)?;
        let pages = memory.size(&store);
        if pages != image.pages {
            return Err(SnapshotError::ResetAfterGrow {
                index: image.index,
                pages,
                snapshot_pages: image.pages,
            });
        }
        memories.push(memory);
    }
    for (memory, image) in memories.into_iter().zip(&captured.memories) {
        restore(memory.data_mut(&mut store), &image.segments);
    }
    for (index, value) in &captured.globals {
        let global =
            capture::global(&store, instance, &info::global_export(*index)).ok_or_else(foreign)?;
        global
            .set(&mut store, value.clone())
            .map_err(|_| foreign())?;
    }
    Ok(())
}

/// Makes `data` hold `segments` and zeros elsewhere.
fn restore(data: &mut [u8], segments: &[Segment]) {
    let mut at = 0;
    for segment in segments {
        let start = usize::try_from(segment.offset).unwrap_or(usize::MAX);
        if let Some(gap) = data.get_mut(at..start) {
            gap.fill(0);
        }
        let end = start.saturating_add(segment.bytes.len());
        if let Some(bytes) = data.get_mut(start..end) {
            bytes.copy_from_slice(&segment.bytes);
        }
        at = end;
    }
    if let Some(tail) = data.get_mut(at..) {
        tail.fill(0);
    }
}
