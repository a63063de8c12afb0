//! Strings in linear memory: NUL-terminated, UTF-16LE, AssemblyScript's
//! layout, and writing Rust strings into the guest.
//!
//! (Zero-copy UTF-8 ranges are [`LinearMemoryView::str`], in the view's own
//! file.)

use crate::error::{Error, Result};
use crate::memory::addr::GuestAddr;
use crate::memory::ptr::{GuestPtr, GuestSlice, to_u64};
use crate::memory::view::{LinearMemoryView, LinearMemoryViewMut};
use alloc::string::String;

impl<'a> LinearMemoryView<'a> {
    /// The bytes of the NUL-terminated string at `addr`, without the NUL,
    /// borrowed without copying. At most `max_len` bytes are searched for
    /// the NUL, so a guest cannot make the host scan its whole memory.
    ///
    /// # Errors
    ///
    /// [`Error::MissingNul`] if none of the `max_len` bytes at `addr` is a
    /// NUL; [`Error::OutOfBounds`] (for `max_len` bytes at `addr`) if
    /// `addr` is past the end of the memory, or the memory ends before a NUL
    /// and before `max_len` bytes.
    pub fn c_bytes(&self, addr: impl GuestAddr, max_len: impl GuestAddr) -> Result<&'a [u8]> {
        let addr = addr.to_u64();
        let max_len = max_len.to_u64();
        let size = self.len();
        let Some(room) = size.checked_sub(addr) else {
            return Err(self.out_of_bounds(addr, max_len));
        };
        let window = self.bytes(addr, room.min(max_len))?;
        match window.iter().position(|&byte| byte == 0) {
            Some(nul) => Ok(window.get(..nul).unwrap_or_default()),
            None if max_len <= room => Err(Error::MissingNul { addr, max_len }),
            None => Err(self.out_of_bounds(addr, max_len)),
        }
    }

    /// The NUL-terminated UTF-8 string at `addr`, without the NUL, borrowed
    /// without copying; at most `max_len` bytes are searched for the NUL.
    ///
    /// ```
    /// # fn main() -> linmem::Result<()> {
    /// use linmem::Error;
    /// let guest = linmem::Guest::new(r#"(module (memory (export "memory") 1)
    ///     (data (i32.const 16) "hello\00world"))"#)?;
    /// let view = guest.view();
    /// assert_eq!(view.c_str(16, 64)?, "hello");
    /// assert!(matches!(view.c_str(22, 3), Err(Error::MissingNul { addr: 22, max_len: 3 })));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// Those of [`c_bytes`](Self::c_bytes); [`Error::InvalidUtf8`] if the
    /// bytes before the NUL are not UTF-8.
    pub fn c_str(&self, addr: impl GuestAddr, max_len: impl GuestAddr) -> Result<&'a str> {
        let addr = addr.to_u64();
        let max_len = max_len.to_u64();
        let len = to_u64(self.c_bytes(addr, max_len)?.len());
        self.str(addr, len)
    }

    /// The UTF-16LE string in the `byte_len` bytes at `addr`, decoded into
    /// an owned `String`. The address need not be aligned.
    ///
    /// ```
    /// # fn main() -> linmem::Result<()> {
    /// use linmem::Error;
    /// let mut guest = linmem::Guest::new(r#"(module (memory (export "memory") 1))"#)?;
    /// let text = guest.view_mut().write_utf16(8, "héllo 🦀")?;
    /// assert_eq!(text.len(), 8); // UTF-16 code units, the crab takes two
    /// assert_eq!(guest.view().utf16_string(8, 16)?, "héllo 🦀");
    ///
    /// guest.view_mut().write(8, 0xD800u16)?; // an unpaired high surrogate
    /// assert!(matches!(
    ///     guest.view().utf16_string(8, 16),
    ///     Err(Error::InvalidUtf16 { addr: 8, len: 16, valid_up_to: 8 })
    /// ));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] if the range leaves the memory;
    /// [`Error::InvalidUtf16`] with the address of the first unpaired
    /// surrogate, or of the last byte if `byte_len` is odd.
    pub fn utf16_string(&self, addr: impl GuestAddr, byte_len: impl GuestAddr) -> Result<String> {
        let addr = addr.to_u64();
        let byte_len = byte_len.to_u64();
        let bytes = self.bytes(addr, byte_len)?;
        let (units, odd) = bytes.as_chunks::<2>();
        let invalid_at = |offset: u64| Error::InvalidUtf16 {
            addr,
            len: byte_len,
            // `addr + offset` lies inside the checked range.
            valid_up_to: addr.saturating_add(offset),
        };
        let mut text = String::with_capacity(units.len());
        let mut decoded_units: u64 = 0;
        for decoded in char::decode_utf16(units.iter().map(|unit| u16::from_le_bytes(*unit))) {
            let c = decoded.map_err(|_| invalid_at(decoded_units.saturating_mul(2)))?;
            text.push(c);
            decoded_units = decoded_units.saturating_add(to_u64(c.len_utf16()));
        }
        if !odd.is_empty() {
            return Err(invalid_at(byte_len.saturating_sub(1)));
        }
        Ok(text)
    }

    /// The AssemblyScript string at `addr`: UTF-16LE, with its length in
    /// bytes stored as a `u32` at `addr - 4` (the `rtSize` field of the
    /// object header). `addr` is the pointer an AssemblyScript function
    /// passes or returns; the header's class id is not checked.
    ///
    /// ```
    /// # fn main() -> linmem::Result<()> {
    /// // "Hi" as AssemblyScript lays it out: rtSize = 4 bytes at 12, text at 16.
    /// let guest = linmem::Guest::new(r#"(module (memory (export "memory") 1)
    ///     (data (i32.const 12) "\04\00\00\00H\00i\00"))"#)?;
    /// assert_eq!(guest.view().assemblyscript_string(16)?, "Hi");
    /// assert!(guest.view().assemblyscript_string(2).is_err()); // no room for a header
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::PtrOverflow`] if `addr` is below 4 (there is no header);
    /// [`Error::OutOfBounds`] if the header or the text leaves the memory;
    /// [`Error::InvalidUtf16`] if the text is not valid UTF-16.
    pub fn assemblyscript_string(&self, addr: impl GuestAddr) -> Result<String> {
        let addr = addr.to_u64();
        let Some(header) = addr.checked_sub(4) else {
            return Err(Error::PtrOverflow { addr, offset: -4 });
        };
        let byte_len = self.read::<u32>(header)?;
        self.utf16_string(addr, byte_len)
    }
}

impl LinearMemoryViewMut<'_> {
    /// The bytes of the NUL-terminated string at `addr`; see
    /// [`LinearMemoryView::c_bytes`].
    ///
    /// # Errors
    ///
    /// [`Error::MissingNul`] or [`Error::OutOfBounds`], as
    /// [`LinearMemoryView::c_bytes`].
    pub fn c_bytes(&self, addr: impl GuestAddr, max_len: impl GuestAddr) -> Result<&[u8]> {
        self.as_view().c_bytes(addr, max_len)
    }

    /// The NUL-terminated UTF-8 string at `addr`; see
    /// [`LinearMemoryView::c_str`].
    ///
    /// # Errors
    ///
    /// [`Error::MissingNul`], [`Error::OutOfBounds`] or
    /// [`Error::InvalidUtf8`], as [`LinearMemoryView::c_str`].
    pub fn c_str(&self, addr: impl GuestAddr, max_len: impl GuestAddr) -> Result<&str> {
        self.as_view().c_str(addr, max_len)
    }

    /// The UTF-16LE string in the `byte_len` bytes at `addr`; see
    /// [`LinearMemoryView::utf16_string`].
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] or [`Error::InvalidUtf16`], as
    /// [`LinearMemoryView::utf16_string`].
    pub fn utf16_string(&self, addr: impl GuestAddr, byte_len: impl GuestAddr) -> Result<String> {
        self.as_view().utf16_string(addr, byte_len)
    }

    /// The AssemblyScript string at `addr`; see
    /// [`LinearMemoryView::assemblyscript_string`].
    ///
    /// # Errors
    ///
    /// [`Error::PtrOverflow`], [`Error::OutOfBounds`] or
    /// [`Error::InvalidUtf16`], as [`LinearMemoryView::assemblyscript_string`].
    pub fn assemblyscript_string(&self, addr: impl GuestAddr) -> Result<String> {
        self.as_view().assemblyscript_string(addr)
    }

    /// Writes `text` as UTF-8 at `addr` (no terminator) and returns where it
    /// is, ready to pass to the guest as a `(ptr, len)` pair.
    ///
    /// ```
    /// # fn main() -> linmem::Result<()> {
    /// let mut guest = linmem::Guest::new(r#"(module (memory (export "memory") 1))"#)?;
    /// let text = guest.view_mut().write_str(100, "grüße")?;
    /// assert_eq!((text.addr(), text.len()), (100, 7));
    /// assert_eq!(text.to_i32_pair()?, (100, 7));
    /// assert_eq!(guest.view().str(text.addr(), text.len())?, "grüße");
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] if the text's bytes leave the memory; nothing
    /// is written then.
    pub fn write_str(&mut self, addr: impl GuestAddr, text: &str) -> Result<GuestSlice<u8>> {
        let addr = addr.to_u64();
        self.write_bytes(addr, text.as_bytes())?;
        Ok(GuestSlice::new(GuestPtr::new(addr), to_u64(text.len())))
    }

    /// Writes `text` as UTF-16LE at `addr` (no terminator) and returns the
    /// code units written.
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`] if the text's bytes leave the memory;
    /// nothing is written then.
    pub fn write_utf16(&mut self, addr: impl GuestAddr, text: &str) -> Result<GuestSlice<u16>> {
        let addr = addr.to_u64();
        let units = to_u64(text.encode_utf16().count());
        // At most 2 bytes per UTF-8 byte: cannot overflow for a `&str`.
        let byte_len = units.saturating_mul(2);
        let dst = self.bytes_mut(addr, byte_len)?;
        let (chunks, _) = dst.as_chunks_mut::<2>();
        for (chunk, unit) in chunks.iter_mut().zip(text.encode_utf16()) {
            *chunk = unit.to_le_bytes();
        }
        Ok(GuestSlice::new(GuestPtr::new(addr), units))
    }
}
