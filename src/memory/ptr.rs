//! Typed guest pointers and slices: plain numbers that are checked against
//! the memory at every use.

use crate::error::{Error, Result};
use crate::memory::value::{ByteArray, MemoryValue, size_of_value};
use crate::memory::view::{LinearMemoryView, LinearMemoryViewMut};
use alloc::vec::Vec;
use core::fmt;
use core::hash::{Hash, Hasher};
use core::iter::FusedIterator;
use core::marker::PhantomData;
use core::slice::ChunksExact;

/// A `usize` as `u64` (lossless on every target wasmi supports).
pub(crate) fn to_u64(len: usize) -> u64 {
    u64::try_from(len).unwrap_or(u64::MAX)
}

/// The `u64` size of a `T` in memory.
pub(crate) fn value_size<T: MemoryValue>() -> u64 {
    to_u64(size_of_value::<T>())
}

/// A `u64` guest value as the `i32` a 32-bit guest takes: the low 32 bits
/// reinterpreted, so addresses of 2 GiB and above become negative `i32`s as
/// WebAssembly expects.
pub(crate) fn to_guest_i32(value: u64) -> Result<i32> {
    u32::try_from(value)
        .map(u32::cast_signed)
        .map_err(|_| Error::TooLargeForI32 { value })
}

/// A typed address in a guest's linear memory: the `T` at `addr`.
///
/// A `GuestPtr` is only a number. It is `Copy`, holds no borrow, and is
/// checked against the memory each time it is used with a view
/// ([`LinearMemoryView::load`], [`LinearMemoryViewMut::store`]), so keeping
/// one across a memory grow or a call into the guest is safe: the next use
/// checks it against the memory as it is then. Arithmetic is checked and
/// counts in elements of `T` ([`add`](Self::add)) or bytes
/// ([`offset`](Self::offset)).
///
/// Guests pass pointers as `i32` (or `i64` for memory64): convert with
/// [`from_i32`](Self::from_i32), which reinterprets the bits as `u32` and so
/// never turns an address of 2 GiB or more into a negative number.
///
/// ```
/// # fn main() -> linmem::Result<()> {
/// use linmem::{Guest, GuestPtr};
///
/// let mut guest = Guest::new(r#"(module (memory (export "memory") 1)
///     (func (export "get") (param i32) (result i32) (i32.load (local.get 0))))"#)?;
/// let ptr = GuestPtr::<u32>::new(16);
/// guest.view_mut().store(ptr, 0xC0FFEE)?;
/// let next = ptr.add(1)?; // 4 bytes further
/// assert_eq!(next.addr(), 20);
/// guest.view_mut().store(next, 7)?;
///
/// // The pointer outlives a grow and a call: it is just a number.
/// guest.grow(1)?;
/// let from_guest: i32 = guest.call("get", ptr.to_i32()?)?;
/// assert_eq!(from_guest, 0xC0FFEE);
/// assert_eq!(guest.view().load(next)?, 7);
///
/// // A negative i32 from a guest is an address above 2 GiB, not a panic.
/// let wild = GuestPtr::<u32>::from_i32(-4);
/// assert_eq!(wild.addr(), 0xFFFF_FFFC);
/// assert!(guest.view().load(wild).is_err());
/// # Ok(()) }
/// ```
pub struct GuestPtr<T> {
    addr: u64,
    marker: PhantomData<fn() -> T>,
}

impl<T> GuestPtr<T> {
    /// The pointer to the `T` at `addr`.
    #[must_use]
    pub const fn new(addr: u64) -> Self {
        Self {
            addr,
            marker: PhantomData,
        }
    }

    /// The pointer a 32-bit guest passes as `i32`: its bits are read as a
    /// `u32` (`-1` is address `0xFFFF_FFFF`), never sign-extended.
    #[must_use]
    pub fn from_i32(addr: i32) -> Self {
        Self::new(u64::from(addr.cast_unsigned()))
    }

    /// The pointer a memory64 guest passes as `i64`: its bits read as a `u64`.
    #[must_use]
    pub const fn from_i64(addr: i64) -> Self {
        Self::new(addr.cast_unsigned())
    }

    /// The address.
    #[must_use]
    pub const fn addr(self) -> u64 {
        self.addr
    }

    /// `true` if the address is 0, which guest allocators and C-like
    /// languages use as "no object".
    #[must_use]
    pub const fn is_null(self) -> bool {
        self.addr == 0
    }

    /// The same address as a pointer to another type.
    #[must_use]
    pub const fn cast<U>(self) -> GuestPtr<U> {
        GuestPtr::new(self.addr)
    }

    /// The slice of `len` elements of `T` starting here.
    #[must_use]
    pub const fn with_len(self, len: u64) -> GuestSlice<T> {
        GuestSlice::new(self, len)
    }

    /// The pointer `bytes` bytes further, of the same type (for a field
    /// inside a record, or a header before a payload).
    ///
    /// # Errors
    ///
    /// [`Error::PtrOverflow`] if the address passes `u64::MAX`.
    pub fn offset(self, bytes: u64) -> Result<Self> {
        match self.addr.checked_add(bytes) {
            Some(addr) => Ok(Self::new(addr)),
            None => Err(Error::ptr_overflow(self.addr, bytes, 1)),
        }
    }

    /// The address as the `i32` a 32-bit guest takes: the low 32 bits
    /// reinterpreted (an address of 2 GiB or more becomes negative, as
    /// WebAssembly expects).
    ///
    /// # Errors
    ///
    /// [`Error::TooLargeForI32`] if the address is above `u32::MAX`.
    pub fn to_i32(self) -> Result<i32> {
        to_guest_i32(self.addr)
    }
}

impl<T: MemoryValue> GuestPtr<T> {
    /// The pointer `count` elements of `T` further: the address plus
    /// `count * size_of::<T>()` bytes, both steps checked.
    ///
    /// ```
    /// # fn main() -> linmem::Result<()> {
    /// use linmem::{Error, GuestPtr};
    /// let p = GuestPtr::<u64>::new(8);
    /// assert_eq!(p.add(2)?.addr(), 24);
    /// assert!(matches!(p.add(u64::MAX / 4), Err(Error::PtrOverflow { addr: 8, .. })));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::PtrOverflow`] if `count * size` or the sum passes `u64::MAX`.
    #[allow(
        clippy::should_implement_trait,
        reason = "fallible, so not `ops::Add`; the name is the one of `pointer::add` and wiggle"
    )]
    pub fn add(self, count: u64) -> Result<Self> {
        let size = value_size::<T>();
        count
            .checked_mul(size)
            .and_then(|bytes| self.addr.checked_add(bytes))
            .map(Self::new)
            .ok_or_else(|| Error::ptr_overflow(self.addr, count, size))
    }
}

impl<T> Clone for GuestPtr<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for GuestPtr<T> {}

impl<T> PartialEq for GuestPtr<T> {
    fn eq(&self, other: &Self) -> bool {
        self.addr == other.addr
    }
}

impl<T> Eq for GuestPtr<T> {}

impl<T> Hash for GuestPtr<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.addr.hash(state);
    }
}

impl<T> fmt::Debug for GuestPtr<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "GuestPtr<{}>({:#x})",
            core::any::type_name::<T>(),
            self.addr
        )
    }
}

impl<T> From<u32> for GuestPtr<T> {
    fn from(addr: u32) -> Self {
        Self::new(u64::from(addr))
    }
}

impl<T> From<u64> for GuestPtr<T> {
    fn from(addr: u64) -> Self {
        Self::new(addr)
    }
}

impl<T> From<GuestPtr<T>> for u64 {
    fn from(ptr: GuestPtr<T>) -> Self {
        ptr.addr
    }
}

/// A typed range of a guest's linear memory: `len` elements of `T` starting
/// at an address.
///
/// Like [`GuestPtr`], a `GuestSlice` is only numbers (the address and the
/// element count), `Copy`, and checked at every use. Its byte length
/// (`len * size_of::<T>()`) is computed with checked arithmetic, so a slice
/// of `u64::MAX / 4` elements of `u64` is an error, never a wrapped length.
///
/// ```
/// # fn main() -> linmem::Result<()> {
/// use linmem::{Guest, GuestSlice};
///
/// let mut guest = Guest::new(r#"(module (memory (export "memory") 1))"#)?;
/// // A guest passed (ptr, len) = (64, 3) as i32s.
/// let slice = GuestSlice::<u32>::from_i32(64, 3);
/// guest.view_mut().store_slice(slice, &[1, 2, 3])?;
///
/// let view = guest.view();
/// // Checked once for the whole range, then little-endian elements.
/// let sum: u32 = view.iter(slice)?.sum();
/// assert_eq!(sum, 6);
/// assert_eq!(view.load(slice.get(2)?)?, 3);
/// assert_eq!(view.load_vec(slice.split_at(1)?.1)?, [2, 3]);
/// assert_eq!(view.bytes(64, 4)?, &[1, 0, 0, 0]);
/// # Ok(()) }
/// ```
pub struct GuestSlice<T> {
    ptr: GuestPtr<T>,
    len: u64,
}

impl<T> GuestSlice<T> {
    /// The slice of `len` elements of `T` at `ptr`.
    #[must_use]
    pub const fn new(ptr: GuestPtr<T>, len: u64) -> Self {
        Self { ptr, len }
    }

    /// The slice a 32-bit guest passes as an `(i32, i32)` pair of address
    /// and element count; both are reinterpreted as `u32`, never
    /// sign-extended.
    #[must_use]
    pub fn from_i32(addr: i32, len: i32) -> Self {
        Self::new(GuestPtr::from_i32(addr), u64::from(len.cast_unsigned()))
    }

    /// The slice a memory64 guest passes as an `(i64, i64)` pair; both are
    /// reinterpreted as `u64`.
    #[must_use]
    pub const fn from_i64(addr: i64, len: i64) -> Self {
        Self::new(GuestPtr::from_i64(addr), len.cast_unsigned())
    }

    /// The pointer to the first element.
    #[must_use]
    pub const fn ptr(self) -> GuestPtr<T> {
        self.ptr
    }

    /// The address of the first element.
    #[must_use]
    pub const fn addr(self) -> u64 {
        self.ptr.addr
    }

    /// The number of elements.
    #[must_use]
    pub const fn len(self) -> u64 {
        self.len
    }

    /// `true` if the slice has no elements.
    #[must_use]
    pub const fn is_empty(self) -> bool {
        self.len == 0
    }

    /// The address and the element count as the `(i32, i32)` pair a 32-bit
    /// guest takes, each reinterpreted from `u32`.
    ///
    /// # Errors
    ///
    /// [`Error::TooLargeForI32`] if the address or the length is above
    /// `u32::MAX`.
    pub fn to_i32_pair(self) -> Result<(i32, i32)> {
        Ok((to_guest_i32(self.addr())?, to_guest_i32(self.len)?))
    }
}

impl<T: MemoryValue> GuestSlice<T> {
    /// The slice's length in bytes, `len * size_of::<T>()`.
    ///
    /// # Errors
    ///
    /// [`Error::PtrOverflow`] if the product passes `u64::MAX`.
    pub fn byte_len(self) -> Result<u64> {
        let size = value_size::<T>();
        self.len
            .checked_mul(size)
            .ok_or_else(|| Error::ptr_overflow(self.addr(), self.len, size))
    }

    /// The pointer to element `index`.
    ///
    /// # Errors
    ///
    /// [`Error::IndexOutOfRange`] if `index >= len`; [`Error::PtrOverflow`]
    /// if the element's address passes `u64::MAX`.
    pub fn get(self, index: u64) -> Result<GuestPtr<T>> {
        if index >= self.len {
            return Err(Error::IndexOutOfRange {
                index,
                len: self.len,
            });
        }
        self.ptr.add(index)
    }

    /// The slices of the first `mid` elements and of the rest.
    ///
    /// # Errors
    ///
    /// [`Error::IndexOutOfRange`] if `mid > len`; [`Error::PtrOverflow`] if
    /// the second slice's address passes `u64::MAX`.
    pub fn split_at(self, mid: u64) -> Result<(Self, Self)> {
        let Some(rest) = self.len.checked_sub(mid) else {
            return Err(Error::IndexOutOfRange {
                index: mid,
                len: self.len,
            });
        };
        Ok((
            Self::new(self.ptr, mid),
            Self::new(self.ptr.add(mid)?, rest),
        ))
    }

    /// The address and the byte length, checked for overflow.
    fn byte_range(self) -> Result<(u64, u64)> {
        Ok((self.addr(), self.byte_len()?))
    }
}

impl<T> Clone for GuestSlice<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for GuestSlice<T> {}

impl<T> PartialEq for GuestSlice<T> {
    fn eq(&self, other: &Self) -> bool {
        self.ptr == other.ptr && self.len == other.len
    }
}

impl<T> Eq for GuestSlice<T> {}

impl<T> Hash for GuestSlice<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.ptr.hash(state);
        self.len.hash(state);
    }
}

impl<T> fmt::Debug for GuestSlice<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "GuestSlice<{}>({:#x}, len {})",
            core::any::type_name::<T>(),
            self.ptr.addr,
            self.len
        )
    }
}

/// An iterator over the elements of a [`GuestSlice`], from
/// [`LinearMemoryView::iter`].
///
/// The whole range was checked when the iterator was made; each step only
/// decodes the next little-endian element, and cannot fail.
pub struct GuestIter<'a, T> {
    /// The elements' bytes, in chunks of `max(size_of::<T>(), 1)` bytes.
    chunks: ChunksExact<'a, u8>,
    /// The number of elements left when `T` takes no bytes (unused otherwise).
    zero_sized: usize,
    marker: PhantomData<fn() -> T>,
}

impl<T> Clone for GuestIter<'_, T> {
    fn clone(&self) -> Self {
        Self {
            chunks: self.chunks.clone(),
            zero_sized: self.zero_sized,
            marker: PhantomData,
        }
    }
}

impl<T: MemoryValue> fmt::Debug for GuestIter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GuestIter")
            .field("remaining", &self.remaining())
            .finish_non_exhaustive()
    }
}

impl<T: MemoryValue> GuestIter<'_, T> {
    /// `true` for element types that take no bytes (e.g. `[u8; 0]`); a
    /// constant after monomorphization.
    #[inline]
    fn is_zero_sized() -> bool {
        size_of_value::<T>() == 0
    }

    /// The number of elements left.
    #[inline]
    fn remaining(&self) -> usize {
        if Self::is_zero_sized() {
            self.zero_sized
        } else {
            self.chunks.len()
        }
    }

    /// The next zero-sized element, counted down.
    #[inline]
    fn next_zero_sized(&mut self) -> Option<T> {
        self.zero_sized = self.zero_sized.checked_sub(1)?;
        Some(T::from_le_bytes(T::Bytes::ZERO))
    }
}

/// Decodes a `T` from a chunk of exactly `size_of::<T>()` bytes.
#[inline]
fn decode<T: MemoryValue>(chunk: &[u8]) -> T {
    let mut bytes = T::Bytes::ZERO;
    let dst = bytes.as_mut();
    if let Some(src) = chunk.get(..dst.len()) {
        dst.copy_from_slice(src);
    }
    T::from_le_bytes(bytes)
}

impl<T: MemoryValue> Iterator for GuestIter<'_, T> {
    type Item = T;

    #[inline]
    fn next(&mut self) -> Option<T> {
        if Self::is_zero_sized() {
            return self.next_zero_sized();
        }
        self.chunks.next().map(decode)
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        let remaining = self.remaining();
        (remaining, Some(remaining))
    }

    #[inline]
    fn fold<B, F: FnMut(B, T) -> B>(self, init: B, mut f: F) -> B {
        if Self::is_zero_sized() {
            let mut iter = self;
            let mut acc = init;
            while let Some(value) = iter.next_zero_sized() {
                acc = f(acc, value);
            }
            return acc;
        }
        self.chunks.fold(init, |acc, chunk| f(acc, decode(chunk)))
    }
}

impl<T: MemoryValue> DoubleEndedIterator for GuestIter<'_, T> {
    #[inline]
    fn next_back(&mut self) -> Option<T> {
        if Self::is_zero_sized() {
            return self.next_zero_sized();
        }
        self.chunks.next_back().map(decode)
    }
}

impl<T: MemoryValue> ExactSizeIterator for GuestIter<'_, T> {}

impl<T: MemoryValue> FusedIterator for GuestIter<'_, T> {}

impl<'a> LinearMemoryView<'a> {
    /// Reads the little-endian `T` that `ptr` points to.
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] if the value's bytes leave the memory.
    #[inline]
    pub fn load<T: MemoryValue>(&self, ptr: GuestPtr<T>) -> Result<T> {
        self.read(ptr.addr())
    }

    /// An iterator over the little-endian elements of `slice`. The whole
    /// range is checked here, once; the iteration itself cannot fail.
    ///
    /// ```
    /// # fn main() -> linmem::Result<()> {
    /// use linmem::{Error, GuestSlice};
    /// let mut guest = linmem::Guest::new(r#"(module (memory (export "memory") 1))"#)?;
    /// guest.view_mut().write_bytes(0, &[1, 0, 2, 0, 3, 0])?;
    /// let view = guest.view();
    /// let words: Vec<u16> = view.iter(GuestSlice::from_i32(0, 3))?.rev().collect();
    /// assert_eq!(words, [3, 2, 1]);
    /// // u64::MAX / 4 elements of 8 bytes: the byte length overflows.
    /// let huge = GuestSlice::<u64>::from_i64(0, i64::MAX / 2);
    /// assert!(matches!(view.iter(huge), Err(Error::PtrOverflow { .. })));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::PtrOverflow`] if the slice's byte length overflows;
    /// [`Error::OutOfBounds`] if its range leaves the memory (for
    /// zero-sized elements: if the slice has more elements than the memory
    /// has bytes).
    #[inline]
    pub fn iter<T: MemoryValue>(&self, slice: GuestSlice<T>) -> Result<GuestIter<'a, T>> {
        let (addr, byte_len) = slice.byte_range()?;
        let bytes = self.bytes(addr, byte_len)?;
        let size = size_of_value::<T>();
        let zero_sized = if size == 0 {
            // Zero-sized elements take no memory; only the count matters. It
            // is bounded by the memory's size in bytes (no more elements
            // than a byte slice could have), so that a guest-given length
            // cannot make the host loop for 2^64 empty elements.
            usize::try_from(slice.len())
                .ok()
                .filter(|_| slice.len() <= self.len())
                .ok_or_else(|| self.out_of_bounds(addr, slice.len()))?
        } else {
            0
        };
        Ok(GuestIter {
            chunks: bytes.chunks_exact(size.max(1)),
            zero_sized,
            marker: PhantomData,
        })
    }

    /// Copies the elements of `slice` into a new `Vec`.
    ///
    /// # Errors
    ///
    /// [`Error::PtrOverflow`] if the slice's byte length overflows;
    /// [`Error::OutOfBounds`] if its range leaves the memory (checked before
    /// anything is allocated).
    pub fn load_vec<T: MemoryValue>(&self, slice: GuestSlice<T>) -> Result<Vec<T>> {
        Ok(self.iter(slice)?.collect())
    }

    /// The bytes of a byte slice, borrowed without copying.
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] if the range leaves the memory.
    #[inline]
    pub fn slice(&self, slice: GuestSlice<u8>) -> Result<&'a [u8]> {
        self.bytes(slice.addr(), slice.len())
    }
}

impl LinearMemoryViewMut<'_> {
    /// Reads the `T` that `ptr` points to; see [`LinearMemoryView::load`].
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] if the value's bytes leave the memory.
    #[inline]
    pub fn load<T: MemoryValue>(&self, ptr: GuestPtr<T>) -> Result<T> {
        self.read(ptr.addr())
    }

    /// An iterator over the elements of `slice`; see
    /// [`LinearMemoryView::iter`].
    ///
    /// # Errors
    ///
    /// [`Error::PtrOverflow`] if the slice's byte length overflows;
    /// [`Error::OutOfBounds`] if its range leaves the memory.
    #[inline]
    pub fn iter<T: MemoryValue>(&self, slice: GuestSlice<T>) -> Result<GuestIter<'_, T>> {
        self.as_view().iter(slice)
    }

    /// Copies the elements of `slice` into a new `Vec`; see
    /// [`LinearMemoryView::load_vec`].
    ///
    /// # Errors
    ///
    /// [`Error::PtrOverflow`] if the slice's byte length overflows;
    /// [`Error::OutOfBounds`] if its range leaves the memory.
    pub fn load_vec<T: MemoryValue>(&self, slice: GuestSlice<T>) -> Result<Vec<T>> {
        self.as_view().load_vec(slice)
    }

    /// The bytes of a byte slice; see [`LinearMemoryView::slice`].
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] if the range leaves the memory.
    #[inline]
    pub fn slice(&self, slice: GuestSlice<u8>) -> Result<&[u8]> {
        self.bytes(slice.addr(), slice.len())
    }

    /// The bytes of a byte slice, mutably borrowed without copying.
    ///
    /// ```
    /// # fn main() -> linmem::Result<()> {
    /// use linmem::GuestSlice;
    /// let mut guest = linmem::Guest::new(r#"(module (memory (export "memory") 1))"#)?;
    /// let buf = GuestSlice::<u8>::from_i32(8, 4);
    /// guest.view_mut().slice_mut(buf)?.copy_from_slice(b"wasm");
    /// assert_eq!(guest.view().str(8, 4)?, "wasm");
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] if the range leaves the memory.
    #[inline]
    pub fn slice_mut(&mut self, slice: GuestSlice<u8>) -> Result<&mut [u8]> {
        self.bytes_mut(slice.addr(), slice.len())
    }

    /// Writes `value` as little-endian bytes where `ptr` points.
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] if the value's bytes leave the memory; nothing
    /// is written then.
    #[inline]
    pub fn store<T: MemoryValue>(&mut self, ptr: GuestPtr<T>, value: T) -> Result<()> {
        self.write(ptr.addr(), value)
    }

    /// Writes the elements of `src` into `dst`, little-endian; like
    /// `copy_from_slice`, the lengths must be equal.
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`] if `src.len() != dst.len()`;
    /// [`Error::PtrOverflow`] if `dst`'s byte length overflows;
    /// [`Error::OutOfBounds`] if its range leaves the memory. Nothing is
    /// written on an error.
    pub fn store_slice<T: MemoryValue>(&mut self, dst: GuestSlice<T>, src: &[T]) -> Result<()> {
        let host = to_u64(src.len());
        if host != dst.len() {
            return Err(Error::LengthMismatch {
                guest: dst.len(),
                host,
            });
        }
        let (addr, byte_len) = dst.byte_range()?;
        let bytes = self.bytes_mut(addr, byte_len)?;
        let size = size_of_value::<T>();
        if size == 0 {
            return Ok(());
        }
        for (chunk, value) in bytes.chunks_exact_mut(size).zip(src) {
            chunk.copy_from_slice(value.to_le_bytes().as_ref());
        }
        Ok(())
    }
}
