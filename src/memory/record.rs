//! User records: C-layout structs read and written as little-endian bytes,
//! declared in a few lines with [`memory_record!`](crate::memory_record).

use crate::memory::value::{ByteArray, MemoryValue};

/// A [`MemoryValue`] that can be a field of a [`memory_record!`](crate::memory_record),
/// with the alignment it has in a C struct on a WebAssembly target.
///
/// Implemented for the numbers (alignment = size: 1, 2, 4, 8 or 16), for
/// `[u8; N]` (alignment 1), and by [`memory_record!`](crate::memory_record)
/// for every record it declares, so records nest. For a `MemoryValue` of
/// your own, state its alignment:
///
/// ```
/// use linmem::{MemoryValue, RecordField};
///
/// /// A 32-bit handle the guest sees as a `u32`.
/// struct Handle(u32);
/// impl MemoryValue for Handle {
///     type Bytes = [u8; 4];
///     fn from_le_bytes(b: [u8; 4]) -> Self { Handle(u32::from_le_bytes(b)) }
///     fn to_le_bytes(&self) -> [u8; 4] { self.0.to_le_bytes() }
/// }
/// impl RecordField for Handle {
///     const ALIGN: usize = 4;
/// }
///
/// linmem::memory_record! {
///     struct Entry { tag: u8, handle: Handle }
/// }
/// assert_eq!(size_of::<<Entry as MemoryValue>::Bytes>(), 8);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a field of a `memory_record!`",
    label = "not a `RecordField`",
    note = "accepted: the integer and float types, `[u8; N]`, other `memory_record!` structs, or a `MemoryValue` of yours with `impl RecordField` giving its alignment"
)]
pub trait RecordField: MemoryValue {
    /// The field's alignment in bytes, a power of two.
    const ALIGN: usize;
}

macro_rules! impl_record_field {
    ($($ty:ty),* $(,)?) => {$(
        impl RecordField for $ty {
            const ALIGN: usize = core::mem::size_of::<$ty>();
        }
    )*};
}

impl_record_field!(u8, i8, u16, i16, u32, i32, u64, i64, u128, i128, f32, f64);

impl<const N: usize> RecordField for [u8; N] {
    const ALIGN: usize = 1;
}

/// Declares a struct with a C layout in linear memory and implements
/// [`MemoryValue`] and [`RecordField`] for it.
///
/// Fields are laid out in order, each at the next multiple of its alignment
/// ([`RecordField::ALIGN`]), and the size is rounded up to the largest
/// alignment, as a C compiler does for a WebAssembly target. The offsets and
/// the size are computed at compile time; a layout that cannot exist (an
/// alignment that is not a power of two, a size that overflows) fails to
/// compile. Values are little-endian at any address, and padding bytes are
/// written as zeros, never as host memory.
///
/// Attributes (derives, docs) and visibilities are passed through. The
/// fields must implement [`RecordField`]: numbers, `[u8; N]`, and other
/// records declared with this macro.
///
/// ```
/// # fn main() -> linmem::Result<()> {
/// use linmem::{GuestPtr, MemoryValue};
///
/// linmem::memory_record! {
///     /// struct header { uint32_t magic; double price; uint16_t qty; };
///     #[derive(Debug, Clone, Copy, PartialEq)]
///     pub struct Header {
///         pub magic: u32, // offset 0, then 4 bytes of padding
///         pub price: f64, // offset 8
///         pub qty: u16,   // offset 16, then 6 bytes of padding
///     }
/// }
/// assert_eq!(size_of::<<Header as MemoryValue>::Bytes>(), 24);
///
/// let mut guest = linmem::Guest::new(r#"(module (memory (export "memory") 1))"#)?;
/// guest.view_mut().fill(0, 64, 0xEE)?; // garbage where the record goes
/// let ptr = GuestPtr::<Header>::new(32);
/// let header = Header { magic: 0x4D454D4C, price: 9.5, qty: 3 };
/// guest.view_mut().store(ptr, header)?;
///
/// let view = guest.view();
/// assert_eq!(view.load(ptr)?, header);
/// assert_eq!(view.read::<u32>(32)?, 0x4D454D4C);
/// assert_eq!(view.read::<f64>(40)?, 9.5);
/// assert_eq!(view.read::<u16>(48)?, 3);
/// assert_eq!(view.bytes(36, 4)?, &[0; 4]); // padding is zeroed
/// assert_eq!(view.bytes(50, 6)?, &[0; 6]);
/// # Ok(()) }
/// ```
///
/// A field whose alignment is not a power of two is a compile error, not a
/// run-time surprise:
///
/// ```compile_fail,E0080
/// use linmem::{MemoryValue, RecordField};
/// struct Odd([u8; 3]);
/// impl MemoryValue for Odd {
///     type Bytes = [u8; 3];
///     fn from_le_bytes(b: [u8; 3]) -> Self { Odd(b) }
///     fn to_le_bytes(&self) -> [u8; 3] { self.0 }
/// }
/// impl RecordField for Odd {
///     const ALIGN: usize = 3; // error: evaluation panicked
/// }
/// linmem::memory_record! { struct Bad { tag: u8, odd: Odd } }
/// ```
///
/// and so is a field type with no known layout:
///
/// ```compile_fail,E0277
/// linmem::memory_record! { struct Bad { flag: bool } } // bool is not a RecordField
/// ```
#[macro_export]
macro_rules! memory_record {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$field_meta:meta])* $field_vis:vis $field:ident : $ty:ty ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $( $(#[$field_meta])* $field_vis $field: $ty, )+
        }

        impl $crate::MemoryValue for $name {
            type Bytes = [u8; $crate::__private::layout(
                [$( $crate::__private::field::<$ty>() ),+]
            ).size];

            #[inline]
            fn from_le_bytes(bytes: Self::Bytes) -> Self {
                // Binds each field's name to its offset.
                let [$( $field ),+] = const {
                    $crate::__private::layout([$( $crate::__private::field::<$ty>() ),+]).offsets
                };
                Self {
                    $( $field: $crate::__private::read_field::<$ty>(&bytes, $field), )+
                }
            }

            #[inline]
            fn to_le_bytes(&self) -> Self::Bytes {
                let offsets = const {
                    $crate::__private::layout([$( $crate::__private::field::<$ty>() ),+]).offsets
                };
                let mut bytes = <Self::Bytes as $crate::ByteArray>::ZERO;
                let [$( $field ),+] = offsets;
                $( $crate::__private::write_field::<$ty>(&mut bytes, $field, &self.$field); )+
                bytes
            }
        }

        impl $crate::RecordField for $name {
            const ALIGN: usize = $crate::__private::layout(
                [$( $crate::__private::field::<$ty>() ),+]
            ).align;
        }
    };
}

/// A record's C layout: each field's offset, the size and the alignment.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct Layout<const N: usize> {
    pub offsets: [usize; N],
    pub size: usize,
    pub align: usize,
}

/// A field's size in memory and its alignment.
#[doc(hidden)]
#[must_use]
pub const fn field<T: RecordField>() -> (usize, usize) {
    (core::mem::size_of::<T::Bytes>(), T::ALIGN)
}

/// The C layout of fields given as `(size, align)` in order. Evaluated at
/// compile time by [`memory_record!`](crate::memory_record): a panic here is
/// a compile error.
#[doc(hidden)]
#[must_use]
pub const fn layout<const N: usize>(fields: [(usize, usize); N]) -> Layout<N> {
    let mut offsets = [0; N];
    let mut end: usize = 0;
    let mut align: usize = 1;
    let mut i = 0;
    while i < N {
        let (size, field_align) = fields[i];
        assert!(
            field_align.is_power_of_two(),
            "a record field's alignment must be a power of two"
        );
        let Some(offset) = end.checked_next_multiple_of(field_align) else {
            panic!("the record's size overflows usize");
        };
        let Some(field_end) = offset.checked_add(size) else {
            panic!("the record's size overflows usize");
        };
        offsets[i] = offset;
        end = field_end;
        if field_align > align {
            align = field_align;
        }
        i += 1;
    }
    let Some(size) = end.checked_next_multiple_of(align) else {
        panic!("the record's size overflows usize");
    };
    Layout {
        offsets,
        size,
        align,
    }
}

/// Decodes the `T` at `offset` in a record's bytes. The offsets come from
/// [`layout`], which keeps every field inside the record, so the range is
/// always present.
#[doc(hidden)]
#[inline]
#[must_use]
pub fn read_field<T: MemoryValue>(record: &[u8], offset: usize) -> T {
    let mut bytes = T::Bytes::ZERO;
    let dst = bytes.as_mut();
    if let Some(src) = offset
        .checked_add(dst.len())
        .and_then(|end| record.get(offset..end))
    {
        dst.copy_from_slice(src);
    }
    T::from_le_bytes(bytes)
}

/// Encodes `value` at `offset` in a record's bytes (see [`read_field`]).
#[doc(hidden)]
#[inline]
pub fn write_field<T: MemoryValue>(record: &mut [u8], offset: usize, value: &T) {
    let bytes = value.to_le_bytes();
    let src = bytes.as_ref();
    if let Some(dst) = offset
        .checked_add(src.len())
        .and_then(|end| record.get_mut(offset..end))
    {
        dst.copy_from_slice(src);
    }
}
