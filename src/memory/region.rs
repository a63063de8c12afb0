//! A host-managed region of guest memory with a bump allocator.

use crate::error::{Error, Result};
use crate::lifecycle::guest::Guest;
use crate::memory::ptr::{GuestPtr, GuestSlice, to_u64};
use crate::memory::record::RecordField;
use crate::memory::view::LinearMemoryViewMut;

/// A range `[start, end)` of a guest's linear memory that the host manages
/// itself, with a bump allocator, so that it can place data where the
/// guest's own runtime will not write.
///
/// Two ways to get such a range:
///
/// - **Below a base address.** AssemblyScript's `asc --memoryBase N` starts
///   the module's static data (and so its heap) at `N`, leaving `[0, N)` to
///   the host; C and Rust toolchains have `--global-base`. Address 0 is the
///   null pointer for most guests, so start the region above it:
///   `HostRegion::new(16, N)`.
/// - **New pages.** [`HostRegion::grow`] grows the memory and manages the
///   new pages. This suits guests whose allocator only uses pages it grew
///   itself (it uses the old size `memory.grow` returns); check your
///   guest's runtime before relying on it.
///
/// The region is only bookkeeping (three numbers): allocations hand out
/// [`GuestSlice`]s, and the methods that also write take any mutable view,
/// whose bounds are checked at each write. `reset` frees everything at once.
///
/// ```
/// # fn main() -> linmem::Result<()> {
/// use linmem::{Error, HostRegion};
///
/// // A guest built with `--memoryBase 1024`: [0, 1024) belongs to the host.
/// let mut guest = linmem::Guest::new(r#"(module (memory (export "memory") 1))"#)?;
/// let mut region = HostRegion::new(16, 1024)?;
///
/// let mut view = guest.view_mut();
/// let name = region.alloc_str(&mut view, "config.json")?;
/// let words = region.alloc_slice(&mut view, &[1u32, 2, 3])?;
/// assert_eq!((name.addr(), words.addr()), (16, 28)); // 27 rounded up to 4
/// assert_eq!(view.load_vec(words)?, [1, 2, 3]);
///
/// assert!(matches!(region.alloc(2000, 1), Err(Error::RegionFull { .. })));
/// region.reset();
/// assert_eq!(region.alloc(8, 8)?.addr(), 16);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRegion {
    start: u64,
    end: u64,
    next: u64,
}

impl HostRegion {
    /// The empty region `[start, end)`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRegion`] if `start > end`.
    pub fn new(start: u64, end: u64) -> Result<Self> {
        if start > end {
            return Err(Error::InvalidRegion { start, end });
        }
        Ok(Self {
            start,
            end,
            next: start,
        })
    }

    /// Grows `guest`'s memory by `pages` pages and returns a region over the
    /// new pages.
    ///
    /// ```
    /// # fn main() -> linmem::Result<()> {
    /// let mut guest = linmem::Guest::linear_memory()?; // one page
    /// let mut region = linmem::HostRegion::grow(&mut guest, 1)?;
    /// assert_eq!((region.start(), region.end()), (65_536, 131_072));
    /// let bytes = region.alloc_bytes(&mut guest.view_mut(), b"\x01\x02")?;
    /// assert_eq!(bytes.addr(), 65_536);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// Those of [`Guest::grow`]; [`Error::PtrOverflow`] if the new pages'
    /// addresses pass `u64::MAX` (the memory is grown then).
    pub fn grow<D>(guest: &mut Guest<D>, pages: u64) -> Result<Self> {
        let old_pages = guest.grow(pages)?;
        let page_size = u64::from(guest.view().page_size());
        let start = old_pages
            .checked_mul(page_size)
            .ok_or_else(|| Error::ptr_overflow(0, old_pages, page_size))?;
        let end = pages
            .checked_mul(page_size)
            .and_then(|len| start.checked_add(len))
            .ok_or_else(|| Error::ptr_overflow(start, pages, page_size))?;
        Self::new(start, end)
    }

    /// The region's first address.
    #[must_use]
    pub fn start(&self) -> u64 {
        self.start
    }

    /// The address just past the region.
    #[must_use]
    pub fn end(&self) -> u64 {
        self.end
    }

    /// The number of bytes allocated so far, alignment padding included.
    #[must_use]
    pub fn used(&self) -> u64 {
        self.next.saturating_sub(self.start)
    }

    /// The number of bytes not allocated yet (before alignment).
    #[must_use]
    pub fn remaining(&self) -> u64 {
        self.end.saturating_sub(self.next)
    }

    /// `true` if `addr` lies in the region.
    #[must_use]
    pub fn contains(&self, addr: u64) -> bool {
        (self.start..self.end).contains(&addr)
    }

    /// Frees every allocation: the next one starts at `start` again.
    /// Slices handed out before now overlap later allocations.
    pub fn reset(&mut self) {
        self.next = self.start;
    }

    /// Allocates `size` bytes at the next multiple of `align` (a power of
    /// two). Memory is not touched: the bytes hold whatever was there.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidLayout`] if `align` is not a power of two;
    /// [`Error::RegionFull`] if the bytes do not fit before `end`. The
    /// region is unchanged then.
    pub fn alloc(&mut self, size: u64, align: u64) -> Result<GuestSlice<u8>> {
        let (addr, next) = self.place(size, align)?;
        self.next = next;
        Ok(GuestSlice::new(GuestPtr::new(addr), size))
    }

    /// Allocates room for `data` and copies it there.
    ///
    /// # Errors
    ///
    /// [`Error::RegionFull`] if it does not fit in the region;
    /// [`Error::OutOfBounds`] if the region's range leaves the view's
    /// memory. The region and the memory are unchanged then.
    pub fn alloc_bytes(
        &mut self,
        view: &mut LinearMemoryViewMut<'_>,
        data: &[u8],
    ) -> Result<GuestSlice<u8>> {
        let (addr, next) = self.place(to_u64(data.len()), 1)?;
        view.write_bytes(addr, data)?;
        self.next = next;
        Ok(GuestSlice::new(GuestPtr::new(addr), to_u64(data.len())))
    }

    /// Allocates room for `text` and copies it there as UTF-8 (no
    /// terminator).
    ///
    /// # Errors
    ///
    /// [`Error::RegionFull`] or [`Error::OutOfBounds`], as
    /// [`alloc_bytes`](Self::alloc_bytes).
    pub fn alloc_str(
        &mut self,
        view: &mut LinearMemoryViewMut<'_>,
        text: &str,
    ) -> Result<GuestSlice<u8>> {
        self.alloc_bytes(view, text.as_bytes())
    }

    /// Allocates room for `value`, aligned to [`RecordField::ALIGN`], and
    /// writes it there.
    ///
    /// # Errors
    ///
    /// [`Error::RegionFull`] if it does not fit in the region;
    /// [`Error::OutOfBounds`] if the region's range leaves the view's
    /// memory. The region and the memory are unchanged then.
    pub fn alloc_value<T: RecordField>(
        &mut self,
        view: &mut LinearMemoryViewMut<'_>,
        value: T,
    ) -> Result<GuestPtr<T>> {
        let slice = self.alloc_slice(view, core::slice::from_ref(&value))?;
        Ok(slice.ptr())
    }

    /// Allocates room for `values`, aligned to [`RecordField::ALIGN`], and
    /// writes them there, little-endian.
    ///
    /// # Errors
    ///
    /// [`Error::PtrOverflow`] if the values' byte length overflows;
    /// [`Error::InvalidLayout`] if `T::ALIGN` is not a power of two;
    /// [`Error::RegionFull`] if they do not fit in the region;
    /// [`Error::OutOfBounds`] if the region's range leaves the view's
    /// memory. The region and the memory are unchanged then.
    pub fn alloc_slice<T: RecordField>(
        &mut self,
        view: &mut LinearMemoryViewMut<'_>,
        values: &[T],
    ) -> Result<GuestSlice<T>> {
        let count = to_u64(values.len());
        let byte_len = GuestSlice::<T>::new(GuestPtr::new(self.next), count).byte_len()?;
        let (addr, next) = self.place(byte_len, to_u64(T::ALIGN))?;
        let slice = GuestSlice::new(GuestPtr::new(addr), count);
        view.store_slice(slice, values)?;
        self.next = next;
        Ok(slice)
    }

    /// Where `size` bytes aligned to `align` would go, and the next free
    /// address after them.
    fn place(&self, size: u64, align: u64) -> Result<(u64, u64)> {
        if !align.is_power_of_two() {
            return Err(Error::InvalidLayout { size, align });
        }
        self.next
            .checked_next_multiple_of(align)
            .and_then(|addr| Some((addr, addr.checked_add(size)?)))
            .filter(|&(_, next)| next <= self.end)
            .ok_or(Error::RegionFull {
                start: self.start,
                end: self.end,
                next: self.next,
                size,
                align,
            })
    }
}
