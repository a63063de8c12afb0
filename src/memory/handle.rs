//! Handles to the linear memories of a guest's store.

use crate::error::{Error, Result};
use crate::lifecycle::guest::GuestId;
use crate::memory::view::{LinearMemoryView, LinearMemoryViewMut};
use alloc::boxed::Box;
use wasmi::errors::MemoryError;
use wasmi::{AsContext, AsContextMut, Memory, StoreContext, StoreContextMut};

/// The standard WebAssembly page size in bytes.
pub(crate) const WASM_PAGE_SIZE: u32 = 65_536;

/// One linear memory of a [`Guest`](crate::Guest)'s store: its default
/// memory, another exported memory (multi-memory modules), or a memory the
/// host created for the guest to import.
///
/// A handle is `Copy`; views taken through it are checked against the
/// memory's size at every access, so a handle kept across a grow stays
/// valid. Using it with another guest is an [`Error::ForeignHandle`].
#[derive(Debug, Clone, Copy)]
pub struct GuestMemory {
    memory: Memory,
    page_size: Option<u32>,
    guest: GuestId,
}

impl GuestMemory {
    /// A handle to `memory`, owned by the store of guest `guest`.
    pub(crate) fn new(store: &impl AsContext, memory: Memory, guest: GuestId) -> Self {
        Self {
            memory,
            page_size: measured_page_size(store, memory),
            guest,
        }
    }

    /// The underlying wasmi memory (escape hatch).
    #[must_use]
    pub fn as_wasmi(&self) -> Memory {
        self.memory
    }

    /// The handle, if it belongs to guest `id`.
    pub(crate) fn owned_by(self, id: GuestId) -> Result<Self> {
        if self.guest == id {
            Ok(self)
        } else {
            Err(Error::ForeignHandle {
                name: Box::from("memory"),
            })
        }
    }

    /// Learns the page size once the memory has pages.
    pub(crate) fn learn_page_size(&mut self, store: &impl AsContext) {
        if self.page_size.is_none() {
            self.page_size = measured_page_size(store, self.memory);
        }
    }

    /// The page size in bytes, measured now if not known yet.
    #[inline]
    fn page_size(&self, store: &impl AsContext) -> u32 {
        match self.page_size {
            Some(size) => size,
            None => self.unknown_page_size(store),
        }
    }

    /// The page size of a memory that had no pages when last measured.
    /// Out of line and cold, so that views stay small enough to inline into
    /// the host's loop (measured in `benches/`, round trip).
    #[cold]
    #[inline(never)]
    fn unknown_page_size(&self, store: &impl AsContext) -> u32 {
        measured_page_size(store, self.memory).unwrap_or(WASM_PAGE_SIZE)
    }

    /// A read-only view of this memory in `store`.
    #[inline]
    pub(crate) fn view<'a, T: 'a>(
        &self,
        store: impl Into<StoreContext<'a, T>>,
    ) -> LinearMemoryView<'a> {
        let store = store.into();
        let page_size = self.page_size(&store);
        LinearMemoryView::new(self.memory.data(store), page_size)
    }

    /// A read-write view of this memory in `store`, with the store's data.
    #[inline]
    pub(crate) fn view_and_data_mut<'a, T: 'a>(
        &self,
        store: impl Into<StoreContextMut<'a, T>>,
    ) -> (LinearMemoryViewMut<'a>, &'a mut T) {
        let store = store.into();
        let page_size = self.page_size(&store);
        let (bytes, data) = self.memory.data_and_store_mut(store);
        (LinearMemoryViewMut::new(bytes, page_size), data)
    }

    /// Grows the memory by `additional` pages, returning its previous size in pages.
    pub(crate) fn grow(&mut self, mut store: impl AsContextMut, additional: u64) -> Result<u64> {
        let previous = grow(&mut store, self.memory, additional)?;
        self.learn_page_size(&store);
        Ok(previous)
    }
}

/// The page size of `memory`, measured as bytes per page while it has pages.
///
/// wasmi does not expose a memory type's page size (the custom-page-sizes
/// proposal allows 1 besides 65 536), so linmem measures it.
fn measured_page_size(store: &impl AsContext, memory: Memory) -> Option<u32> {
    let pages = memory.size(store);
    let bytes = u64::try_from(memory.data_size(store)).ok()?;
    u32::try_from(bytes.checked_div(pages)?).ok()
}

/// Grows `memory` by `additional` pages, returning its previous size in pages.
fn grow(mut store: impl AsContextMut, memory: Memory, additional: u64) -> Result<u64> {
    let current = memory.size(&store);
    memory
        .grow(&mut store, additional)
        .map_err(|source| grow_error(&store, memory, current, additional, source))
}

/// Tells a grow past the memory's maximum from other grow failures.
#[cold]
fn grow_error(
    store: &impl AsContext,
    memory: Memory,
    current: u64,
    additional: u64,
    source: MemoryError,
) -> Error {
    let ty = memory.ty(store);
    let index_bits = if ty.is_64() { 64 } else { 32 };
    let page_size = measured_page_size(store, memory).unwrap_or(WASM_PAGE_SIZE);
    let addressable = (1u128 << index_bits) / u128::from(page_size);
    let limit = u64::try_from(addressable).unwrap_or(u64::MAX);
    let maximum = ty.maximum().map_or(limit, |max| max.min(limit));
    match current.checked_add(additional) {
        Some(wanted) if wanted <= maximum => Error::Grow {
            current,
            additional,
            source,
        },
        _ => Error::GrowPastMaximum {
            current,
            additional,
            maximum,
        },
    }
}
