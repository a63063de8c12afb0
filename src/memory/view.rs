//! Borrowed views of a guest's linear memory.

use crate::error::{Error, Result};
use crate::memory::addr::GuestAddr;
use crate::memory::value::{ByteArray, MemoryValue, size_of_value};
use alloc::vec::Vec;

/// A read-only view of a guest's linear memory, borrowed from the guest.
///
/// Obtained from [`Guest::view`](crate::Guest::view). The view holds the
/// memory's bytes as one `&[u8]` taken from wasmi once, so every access is a
/// checked slice access with no lookup in the store. Addresses are `u64`
/// whatever the guest's index type; every range is checked and a bad one is
/// an [`Error::OutOfBounds`] carrying the address, the length and the memory
/// size. No address can make a view panic.
///
/// # Memory and safety
///
/// In JavaScript, `new Uint8Array(memory.buffer)` is silently detached by the
/// next `memory.grow`: reads then give `undefined`, writes vanish. A grow may
/// also move wasmi's memory to another allocation. In linmem a view is a
/// borrow of the [`Guest`](crate::Guest), and growing memory or calling into
/// the guest needs `&mut Guest`, so a view kept across either does not
/// compile. Take a new view after the grow or the call instead: it sees the
/// new size and the guest's writes.
///
/// A view cannot be used after the host grows memory:
///
/// ```compile_fail,E0502
/// # fn main() -> linmem::Result<()> {
/// let mut guest = linmem::Guest::linear_memory()?;
/// let view = guest.view();
/// guest.grow(1)?; // error[E0502]: `guest` is also borrowed as immutable
/// let _ = view.read::<u8>(0)?;
/// # Ok(()) }
/// ```
///
/// nor after a call into the guest (which may grow memory itself):
///
/// ```compile_fail,E0502
/// # fn main() -> linmem::Result<()> {
/// let mut guest = linmem::Guest::linear_memory()?;
/// let view = guest.view();
/// let _: i32 = guest.call("readWasmMemoryAndReturnIndexOne", ())?; // error[E0502]
/// let _ = view.read::<u8>(0)?;
/// # Ok(()) }
/// ```
///
/// A byte slice or `&str` borrowed from a view lives no longer than the
/// view's borrow of the guest:
///
/// ```compile_fail,E0502
/// # fn main() -> linmem::Result<()> {
/// let mut guest = linmem::Guest::linear_memory()?;
/// let bytes = guest.view().bytes(0, 2)?;
/// guest.grow(1)?; // error[E0502]
/// assert_eq!(bytes[0], 24);
/// # Ok(()) }
/// ```
///
/// The same code with the view taken again after the grow compiles and runs:
///
/// ```
/// # fn main() -> linmem::Result<()> {
/// let mut guest = linmem::Guest::linear_memory()?;
/// assert_eq!(guest.view().read::<u8>(0)?, 24);
/// guest.grow(1)?;
/// let view = guest.view();
/// assert_eq!(view.pages(), 2);
/// assert_eq!(view.read::<u8>(0)?, 24);
/// assert_eq!(view.read::<u64>(65_536)?, 0); // new pages are zeroed
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct LinearMemoryView<'a> {
    bytes: &'a [u8],
    page_size: u32,
}

/// A read-write view of a guest's linear memory, mutably borrowed from the guest.
///
/// Obtained from [`Guest::view_mut`](crate::Guest::view_mut). It has every
/// read method of [`LinearMemoryView`] (through [`as_view`](Self::as_view) or
/// the delegating methods below) and the writes. The borrow rules of
/// [`LinearMemoryView`] apply: no view outlives a grow or a call.
///
/// ```compile_fail,E0499
/// # fn main() -> linmem::Result<()> {
/// let mut guest = linmem::Guest::linear_memory()?;
/// let mut view = guest.view_mut();
/// let _: i32 = guest.call("readWasmMemoryAndReturnIndexOne", ())?; // error[E0499]
/// view.write(1, 25u8)?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct LinearMemoryViewMut<'a> {
    bytes: &'a mut [u8],
    page_size: u32,
}

/// The start and length of the `len` bytes at `addr` within `size` bytes,
/// or the error naming all three.
///
/// `start <= size - n` rather than `start + n <= size`: no overflow to rule
/// out, so the compiler can hoist the check out of a caller's loop; callers
/// then slice as `bytes[start..][..n]`, which lets a loop of element
/// accesses compile like a loop over a checked slice and vectorize
/// (measured in `benches/`, `element/*`).
#[inline]
fn span(addr: u64, len: u64, size: usize, page_size: u32) -> Result<(usize, usize)> {
    if let (Ok(start), Ok(n)) = (usize::try_from(addr), usize::try_from(len))
        && n <= size
        && start <= size - n
    {
        return Ok((start, n));
    }
    Err(access_error(addr, len, size_in_bytes(size), page_size))
}

/// The error for an access to `len` bytes at `addr` that does not fit in
/// `size` bytes: [`Error::NoMemory`] for the view of a guest without memory
/// (page size 0), [`Error::OutOfBounds`] otherwise.
#[cold]
fn access_error(addr: u64, len: u64, size: u64, page_size: u32) -> Error {
    if page_size == 0 {
        Error::NoMemory
    } else {
        Error::out_of_bounds(addr, len, size)
    }
}

/// The `len` bytes at `addr` in `bytes`.
#[inline]
fn slice_at(bytes: &[u8], addr: u64, len: u64, page_size: u32) -> Result<&[u8]> {
    let (start, n) = span(addr, len, bytes.len(), page_size)?;
    Ok(&bytes[start..][..n])
}

/// The `len` bytes at `addr` in `bytes`, mutably.
#[inline]
fn slice_at_mut(bytes: &mut [u8], addr: u64, len: u64, page_size: u32) -> Result<&mut [u8]> {
    let (start, n) = span(addr, len, bytes.len(), page_size)?;
    Ok(&mut bytes[start..][..n])
}

/// A slice length as `u64` (lossless on every target wasmi supports).
fn size_in_bytes(len: usize) -> u64 {
    u64::try_from(len).unwrap_or(u64::MAX)
}

/// The `u64` length of a `T` in memory.
#[inline]
fn value_len<T: MemoryValue>() -> u64 {
    size_in_bytes(size_of_value::<T>())
}

impl<'a> LinearMemoryView<'a> {
    /// A view of `bytes`, a memory whose pages are `page_size` bytes.
    pub(crate) fn new(bytes: &'a [u8], page_size: u32) -> Self {
        Self { bytes, page_size }
    }

    /// The view of a guest with no memory: empty, and every access is an
    /// [`Error::NoMemory`].
    pub(crate) fn no_memory() -> Self {
        Self::new(&[], 0)
    }

    /// The error for `len` bytes at `addr` outside this view.
    #[cold]
    pub(crate) fn out_of_bounds(&self, addr: u64, len: u64) -> Error {
        access_error(addr, len, self.len(), self.page_size)
    }

    /// `false` for the view of a guest that has no memory (a module that
    /// neither exports nor imports one): that view is empty and every
    /// access fails with [`Error::NoMemory`].
    #[must_use]
    pub fn has_memory(&self) -> bool {
        self.page_size != 0
    }

    /// The memory's size in bytes.
    #[must_use]
    pub fn len(&self) -> u64 {
        size_in_bytes(self.bytes.len())
    }

    /// `true` if the memory has no bytes (zero pages).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The memory's size in pages.
    #[must_use]
    pub fn pages(&self) -> u64 {
        self.len()
            .checked_div(u64::from(self.page_size))
            .unwrap_or(0)
    }

    /// The size of one page in bytes: 65 536 unless the guest declared a
    /// custom page size; 0 for a guest with no memory.
    #[must_use]
    pub fn page_size(&self) -> u32 {
        self.page_size
    }

    /// The whole memory as bytes.
    #[must_use]
    pub fn as_slice(&self) -> &'a [u8] {
        self.bytes
    }

    /// The `len` bytes at `addr`, borrowed without copying.
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] if the range leaves the memory or `addr + len`
    /// overflows.
    #[inline]
    pub fn bytes(&self, addr: impl GuestAddr, len: impl GuestAddr) -> Result<&'a [u8]> {
        let addr = addr.to_u64();
        let len = len.to_u64();
        slice_at(self.bytes, addr, len, self.page_size)
    }

    /// Reads a little-endian `T` at `addr`, which need not be aligned.
    ///
    /// ```
    /// # fn main() -> linmem::Result<()> {
    /// let guest = linmem::Guest::linear_memory()?;
    /// let view = guest.view();
    /// assert_eq!(view.read::<u8>(0)?, 24);
    /// assert_eq!(view.read::<u32>(0)?, 24);
    /// assert_eq!(view.read::<[u8; 2]>(0)?, [24, 0]);
    /// assert!(view.read::<u16>(view.len() - 1).is_err());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] if the value's bytes leave the memory.
    #[inline]
    pub fn read<T: MemoryValue>(&self, addr: impl GuestAddr) -> Result<T> {
        let addr = addr.to_u64();
        let slice = self.bytes(addr, value_len::<T>())?;
        let mut bytes = T::Bytes::ZERO;
        bytes.as_mut().copy_from_slice(slice);
        Ok(T::from_le_bytes(bytes))
    }

    /// Copies the bytes at `addr` into all of `buf`.
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] if the `buf.len()` bytes at `addr` leave the
    /// memory; `buf` is then unchanged.
    #[inline]
    pub fn read_bytes(&self, addr: impl GuestAddr, buf: &mut [u8]) -> Result<()> {
        let addr = addr.to_u64();
        buf.copy_from_slice(self.bytes(addr, size_in_bytes(buf.len()))?);
        Ok(())
    }

    /// Copies the `len` bytes at `addr` into a new `Vec`.
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] if the range leaves the memory (checked before
    /// anything is allocated).
    pub fn to_vec(&self, addr: impl GuestAddr, len: impl GuestAddr) -> Result<Vec<u8>> {
        let addr = addr.to_u64();
        let len = len.to_u64();
        Ok(self.bytes(addr, len)?.to_vec())
    }

    /// The `len` bytes at `addr` as UTF-8 text, borrowed without copying.
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] if the range leaves the memory;
    /// [`Error::InvalidUtf8`] (with the address where the text stops being
    /// valid) if the bytes are not UTF-8.
    pub fn str(&self, addr: impl GuestAddr, len: impl GuestAddr) -> Result<&'a str> {
        let addr = addr.to_u64();
        let len = len.to_u64();
        let bytes = self.bytes(addr, len)?;
        core::str::from_utf8(bytes).map_err(|source| Error::InvalidUtf8 {
            addr,
            len,
            // `addr + valid_up_to` is inside the checked range, so it cannot overflow.
            valid_up_to: addr.saturating_add(size_in_bytes(source.valid_up_to())),
            source,
        })
    }
}

impl<'a> LinearMemoryViewMut<'a> {
    /// A mutable view of `bytes`, a memory whose pages are `page_size` bytes.
    pub(crate) fn new(bytes: &'a mut [u8], page_size: u32) -> Self {
        Self { bytes, page_size }
    }

    /// The view of a guest with no memory; see [`LinearMemoryView::has_memory`].
    pub(crate) fn no_memory() -> Self {
        Self::new(&mut [], 0)
    }

    /// `false` for the view of a guest that has no memory; see
    /// [`LinearMemoryView::has_memory`].
    #[must_use]
    pub fn has_memory(&self) -> bool {
        self.page_size != 0
    }

    /// A read-only view borrowed from this one, with every read method.
    #[must_use]
    pub fn as_view(&self) -> LinearMemoryView<'_> {
        LinearMemoryView::new(self.bytes, self.page_size)
    }

    /// The memory's size in bytes.
    #[must_use]
    pub fn len(&self) -> u64 {
        self.as_view().len()
    }

    /// `true` if the memory has no bytes (zero pages).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The memory's size in pages.
    #[must_use]
    pub fn pages(&self) -> u64 {
        self.as_view().pages()
    }

    /// The size of one page in bytes.
    #[must_use]
    pub fn page_size(&self) -> u32 {
        self.page_size
    }

    /// Reads a little-endian `T` at `addr`; see [`LinearMemoryView::read`].
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] if the value's bytes leave the memory.
    #[inline]
    pub fn read<T: MemoryValue>(&self, addr: impl GuestAddr) -> Result<T> {
        self.as_view().read(addr)
    }

    /// The `len` bytes at `addr`; see [`LinearMemoryView::bytes`].
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] if the range leaves the memory.
    #[inline]
    pub fn bytes(&self, addr: impl GuestAddr, len: impl GuestAddr) -> Result<&[u8]> {
        self.as_view().bytes(addr, len)
    }

    /// Copies the bytes at `addr` into `buf`; see [`LinearMemoryView::read_bytes`].
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] if the range leaves the memory.
    #[inline]
    pub fn read_bytes(&self, addr: impl GuestAddr, buf: &mut [u8]) -> Result<()> {
        self.as_view().read_bytes(addr, buf)
    }

    /// Copies the `len` bytes at `addr` into a new `Vec`; see
    /// [`LinearMemoryView::to_vec`].
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] if the range leaves the memory.
    pub fn to_vec(&self, addr: impl GuestAddr, len: impl GuestAddr) -> Result<Vec<u8>> {
        self.as_view().to_vec(addr, len)
    }

    /// The `len` bytes at `addr` as UTF-8; see [`LinearMemoryView::str`].
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] if the range leaves the memory;
    /// [`Error::InvalidUtf8`] if the bytes are not UTF-8.
    pub fn str(&self, addr: impl GuestAddr, len: impl GuestAddr) -> Result<&str> {
        self.as_view().str(addr, len)
    }

    /// The whole memory as mutable bytes.
    #[must_use]
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        self.bytes
    }

    /// Turns the view into the whole memory as mutable bytes, for as long
    /// as the view's own borrow.
    #[must_use]
    pub fn into_mut_slice(self) -> &'a mut [u8] {
        self.bytes
    }

    /// The `len` bytes at `addr`, mutably borrowed without copying.
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] if the range leaves the memory or `addr + len`
    /// overflows.
    #[inline]
    pub fn bytes_mut(&mut self, addr: impl GuestAddr, len: impl GuestAddr) -> Result<&mut [u8]> {
        let addr = addr.to_u64();
        let len = len.to_u64();
        slice_at_mut(self.bytes, addr, len, self.page_size)
    }

    /// Writes `value` as little-endian bytes at `addr`, which need not be
    /// aligned.
    ///
    /// ```
    /// # fn main() -> linmem::Result<()> {
    /// let mut guest = linmem::Guest::linear_memory()?;
    /// let mut view = guest.view_mut();
    /// view.write(3, 0x0102_0304_u32)?;
    /// assert_eq!(view.bytes(3, 4)?, &[4, 3, 2, 1]);
    /// view.write(7, -1.5_f64)?;
    /// assert_eq!(view.read::<f64>(7)?, -1.5);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] if the value's bytes leave the memory; nothing
    /// is written then.
    #[inline]
    pub fn write<T: MemoryValue>(&mut self, addr: impl GuestAddr, value: T) -> Result<()> {
        let addr = addr.to_u64();
        self.write_bytes(addr, value.to_le_bytes().as_ref())
    }

    /// Copies all of `data` into memory at `addr`.
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] if the `data.len()` bytes at `addr` leave the
    /// memory; nothing is written then.
    #[inline]
    pub fn write_bytes(&mut self, addr: impl GuestAddr, data: &[u8]) -> Result<()> {
        let addr = addr.to_u64();
        self.bytes_mut(addr, size_in_bytes(data.len()))?
            .copy_from_slice(data);
        Ok(())
    }

    /// Sets the `len` bytes at `addr` to `byte`, like `memory.fill`.
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] if the range leaves the memory; nothing is
    /// written then.
    pub fn fill(&mut self, addr: impl GuestAddr, len: impl GuestAddr, byte: u8) -> Result<()> {
        let addr = addr.to_u64();
        let len = len.to_u64();
        self.bytes_mut(addr, len)?.fill(byte);
        Ok(())
    }

    /// Copies `len` bytes from `src` to `dst` within memory, like
    /// `memory.copy`; the ranges may overlap.
    ///
    /// ```
    /// # fn main() -> linmem::Result<()> {
    /// let mut guest = linmem::Guest::linear_memory()?;
    /// let mut view = guest.view_mut();
    /// view.write_bytes(0, b"abcd")?;
    /// view.copy_within(0, 1, 3)?;
    /// assert_eq!(view.bytes(0, 4)?, b"aabc");
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] for the first of the two ranges that leaves
    /// the memory; nothing is written then.
    pub fn copy_within(
        &mut self,
        src: impl GuestAddr,
        dst: impl GuestAddr,
        len: impl GuestAddr,
    ) -> Result<()> {
        let src = src.to_u64();
        let dst = dst.to_u64();
        let len = len.to_u64();
        let (from, n) = span(src, len, self.bytes.len(), self.page_size)?;
        let (to, _) = span(dst, len, self.bytes.len(), self.page_size)?;
        self.bytes.copy_within(from..from + n, to);
        Ok(())
    }
}

impl<'a> From<LinearMemoryViewMut<'a>> for LinearMemoryView<'a> {
    fn from(view: LinearMemoryViewMut<'a>) -> Self {
        LinearMemoryView::new(view.bytes, view.page_size)
    }
}
