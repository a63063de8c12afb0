//! Addresses and lengths as guests pass them: the integer types a view
//! method accepts without a conversion at the call site.

/// A value of a memory's address type: what a view method takes as an
/// address or a length (WebAssembly's `memory.fill` and `memory.copy` take
/// their lengths in the address type too).
///
/// Implemented for:
/// - `u64`: any address of any memory, 32- or 64-bit;
/// - `i32` and `u32`: a wasm32 guest's pointers and lengths, as its exports
///   and imports carry them. An `i32`'s bits are read as unsigned, as the
///   guest's own loads read them: `-1` is address 4 GiB - 1 (and so out of
///   bounds), never a negative number;
/// - `i64`: a memory64 guest's pointers, likewise read as unsigned;
/// - `usize`: host lengths and offsets (`buf.len()`).
///
/// An integer literal falls back to `i32`, so `view.read::<u8>(16)` needs
/// no suffix; a literal of 2^31 or more needs one (`0x8000_0000u32`).
///
/// ```
/// # fn main() -> linmem::Result<()> {
/// use linmem::HostContext;
///
/// let module = linmem::Module::new(r#"(module
///     (import "env" "log" (func $log (param i32 i32)))
///     (memory (export "memory") 1)
///     (data (i32.const 8) "hello")
///     (func (export "run") (call $log (i32.const 8) (i32.const 5))))"#)?;
/// let mut guest = module
///     .guest_with(String::new())
///     .host_func("env", "log", |mut cx: HostContext<'_, String>, ptr: i32, len: i32| {
///         let text = cx.view()?.str(ptr, len)?.to_owned(); // the guest's i32s as they come
///         cx.data_mut().push_str(&text);
///         Ok(())
///     })?
///     .instantiate()?;
/// guest.call::<(), ()>("run", ())?;
/// assert_eq!(guest.data(), "hello");
/// assert!(guest.view().read::<u8>(-1i32).is_err()); // 4 GiB - 1, not -1
/// # Ok(()) }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an address or length in guest memory",
    label = "expected u64, u32, i32, i64 or usize",
    note = "addresses and lengths are u64, u32, i32 (a wasm32 pointer), i64 (a memory64 pointer) or usize"
)]
pub trait GuestAddr: Copy + sealed::Sealed {
    /// The address (or length) as `u64`, the type of the largest memory.
    fn to_u64(self) -> u64;
}

mod sealed {
    pub trait Sealed {}
}

impl sealed::Sealed for u64 {}
impl GuestAddr for u64 {
    #[inline]
    fn to_u64(self) -> u64 {
        self
    }
}

impl sealed::Sealed for u32 {}
impl GuestAddr for u32 {
    #[inline]
    fn to_u64(self) -> u64 {
        u64::from(self)
    }
}

impl sealed::Sealed for i32 {}
impl GuestAddr for i32 {
    /// The bits as `u32`, as the guest's loads and stores read them.
    #[inline]
    fn to_u64(self) -> u64 {
        u64::from(self.cast_unsigned())
    }
}

impl sealed::Sealed for i64 {}
impl GuestAddr for i64 {
    /// The bits as `u64`, as the guest's loads and stores read them.
    #[inline]
    fn to_u64(self) -> u64 {
        self.cast_unsigned()
    }
}

impl sealed::Sealed for usize {}
impl GuestAddr for usize {
    /// Lossless on every target wasmi supports; a `usize` wider than 64
    /// bits that does not fit saturates, and so is out of bounds.
    #[inline]
    fn to_u64(self) -> u64 {
        u64::try_from(self).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::GuestAddr;

    #[test]
    fn signed_addresses_read_as_unsigned() {
        assert_eq!((-1i32).to_u64(), 0xFFFF_FFFF);
        assert_eq!(i32::MIN.to_u64(), 0x8000_0000);
        assert_eq!((-1i64).to_u64(), u64::MAX);
        assert_eq!(7u32.to_u64(), 7);
        assert_eq!(7usize.to_u64(), 7);
        assert_eq!(u64::MAX.to_u64(), u64::MAX);
    }
}
