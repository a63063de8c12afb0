//! Values that live in linear memory as little-endian bytes.

/// A fixed-size byte array, the in-memory form of a [`MemoryValue`].
///
/// Implemented for every `[u8; N]`; it exists so that [`MemoryValue`] can name
/// its size without a const generic parameter. It is sealed: no other type
/// can implement it, so the length linmem reads from it is always `N`.
pub trait ByteArray: AsRef<[u8]> + AsMut<[u8]> + Copy + sealed::Sealed {
    /// The all-zero array, where reads start and writes' padding comes from.
    const ZERO: Self;
}

impl<const N: usize> ByteArray for [u8; N] {
    const ZERO: Self = [0; N];
}

mod sealed {
    /// Only `[u8; N]` is a [`ByteArray`](super::ByteArray).
    pub trait Sealed {}

    impl<const N: usize> Sealed for [u8; N] {}
}

/// A value that is stored in linear memory as a fixed number of little-endian
/// bytes, at any (unaligned) address.
///
/// Implemented for `u8`, `i8`, `u16`, `i16`, `u32`, `i32`, `u64`, `i64`,
/// `u128`, `i128`, `f32`, `f64` and `[u8; N]`. WebAssembly memory is
/// little-endian whatever the host is, so the conversions use
/// `from_le_bytes`/`to_le_bytes` and are correct on big-endian hosts too.
///
/// Implement it for your own records to read and write them with
/// [`LinearMemoryView::read`](crate::LinearMemoryView::read) and
/// [`LinearMemoryViewMut::write`](crate::LinearMemoryViewMut::write):
///
/// ```
/// use linmem::MemoryValue;
///
/// #[derive(Debug, PartialEq)]
/// struct Point { x: i32, y: i32 }
///
/// impl MemoryValue for Point {
///     type Bytes = [u8; 8];
///     fn from_le_bytes(b: [u8; 8]) -> Self {
///         let [x0, x1, x2, x3, y0, y1, y2, y3] = b;
///         Point { x: i32::from_le_bytes([x0, x1, x2, x3]), y: i32::from_le_bytes([y0, y1, y2, y3]) }
///     }
///     fn to_le_bytes(&self) -> [u8; 8] {
///         let ([x0, x1, x2, x3], [y0, y1, y2, y3]) = (self.x.to_le_bytes(), self.y.to_le_bytes());
///         [x0, x1, x2, x3, y0, y1, y2, y3]
///     }
/// }
///
/// let p = Point { x: -1, y: 2 };
/// assert_eq!(Point::from_le_bytes(p.to_le_bytes()), p);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be read from or written to linear memory",
    label = "not a `MemoryValue`",
    note = "accepted: `u8`, `i8`, `u16`, `i16`, `u32`, `i32`, `u64`, `i64`, `u128`, `i128`, `f32`, `f64`, `[u8; N]`, structs declared with `linmem::memory_record!`, or your own `impl MemoryValue`",
    note = "`usize`, `isize` and `bool` are not accepted: their size or valid values differ between host and guest; use `u32`/`u64` or `u8`"
)]
pub trait MemoryValue: Sized {
    /// The value's bytes in memory, `[u8; SIZE]`.
    type Bytes: ByteArray;

    /// Decodes the value from its little-endian bytes.
    fn from_le_bytes(bytes: Self::Bytes) -> Self;

    /// Encodes the value as little-endian bytes.
    fn to_le_bytes(&self) -> Self::Bytes;
}

/// The number of bytes a `T` takes in linear memory.
pub(crate) fn size_of_value<T: MemoryValue>() -> usize {
    T::Bytes::ZERO.as_ref().len()
}

macro_rules! impl_memory_value_for_numbers {
    ($($ty:ty),* $(,)?) => {$(
        impl MemoryValue for $ty {
            type Bytes = [u8; core::mem::size_of::<$ty>()];
            #[inline]
            fn from_le_bytes(bytes: Self::Bytes) -> Self {
                <$ty>::from_le_bytes(bytes)
            }
            #[inline]
            fn to_le_bytes(&self) -> Self::Bytes {
                <$ty>::to_le_bytes(*self)
            }
        }
    )*};
}

impl_memory_value_for_numbers!(u8, i8, u16, i16, u32, i32, u64, i64, u128, i128, f32, f64);

impl<const N: usize> MemoryValue for [u8; N] {
    type Bytes = [u8; N];
    #[inline]
    fn from_le_bytes(bytes: Self::Bytes) -> Self {
        bytes
    }
    #[inline]
    fn to_le_bytes(&self) -> Self::Bytes {
        *self
    }
}
