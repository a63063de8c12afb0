//! Hex dumps of linear memory, in the style of `xxd`, for debugging and
//! error reports.

use crate::error::Result;
use crate::memory::addr::GuestAddr;
use crate::memory::ptr::to_u64;
use crate::memory::view::{LinearMemoryView, LinearMemoryViewMut};
use core::fmt;

/// The number of bytes on one line of a [`HexDump`].
const BYTES_PER_LINE: usize = 16;

/// A range of linear memory formatted like `xxd`: per line of 16 bytes the
/// address, the bytes in hex in groups of two, and the printable ASCII
/// characters (`.` for the others). From [`LinearMemoryView::hex_dump`];
/// format it with `{}` or `to_string()`.
///
/// Addresses are those in the guest's memory (the first line starts at the
/// dump's address), with at least 8 hex digits. Every line ends with `\n`;
/// an empty range formats as an empty string.
#[derive(Debug, Clone, Copy)]
pub struct HexDump<'a> {
    addr: u64,
    bytes: &'a [u8],
}

impl<'a> HexDump<'a> {
    /// The address of the first byte.
    #[must_use]
    pub fn addr(&self) -> u64 {
        self.addr
    }

    /// The bytes shown.
    #[must_use]
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }
}

impl fmt::Display for HexDump<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut addr = self.addr;
        for line in self.bytes.chunks(BYTES_PER_LINE) {
            write!(f, "{addr:08x}:")?;
            for column in 0..BYTES_PER_LINE {
                if column % 2 == 0 {
                    f.write_str(" ")?;
                }
                match line.get(column) {
                    Some(byte) => write!(f, "{byte:02x}")?,
                    None => f.write_str("  ")?,
                }
            }
            f.write_str("  ")?;
            for &byte in line {
                let shown = if byte.is_ascii_graphic() || byte == b' ' {
                    char::from(byte)
                } else {
                    '.'
                };
                write!(f, "{shown}")?;
            }
            f.write_str("\n")?;
            // Within the checked range, so no overflow; saturate regardless.
            addr = addr.saturating_add(to_u64(line.len()));
        }
        Ok(())
    }
}

impl<'a> LinearMemoryView<'a> {
    /// A hex dump of the `len` bytes at `addr`, like `xxd -s addr -l len`.
    ///
    /// ```
    /// # fn main() -> linmem::Result<()> {
    /// let mut guest = linmem::Guest::linear_memory()?; // 24 at address 0
    /// guest.view_mut().write_bytes(16, b"linmem\x00\x01")?;
    /// assert_eq!(
    ///     guest.view().hex_dump(8, 20)?.to_string(),
    ///     "00000008: 0000 0000 0000 0000 6c69 6e6d 656d 0001  ........linmem..\n\
    ///      00000018: 0000 0000                                ....\n"
    /// );
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`](crate::Error::OutOfBounds) if the range leaves
    /// the memory.
    pub fn hex_dump(&self, addr: impl GuestAddr, len: impl GuestAddr) -> Result<HexDump<'a>> {
        let addr = addr.to_u64();
        let len = len.to_u64();
        Ok(HexDump {
            addr,
            bytes: self.bytes(addr, len)?,
        })
    }
}

impl LinearMemoryViewMut<'_> {
    /// A hex dump of the `len` bytes at `addr`; see
    /// [`LinearMemoryView::hex_dump`].
    ///
    /// # Errors
    ///
    /// [`Error::OutOfBounds`](crate::Error::OutOfBounds) if the range leaves
    /// the memory.
    pub fn hex_dump(&self, addr: impl GuestAddr, len: impl GuestAddr) -> Result<HexDump<'_>> {
        self.as_view().hex_dump(addr, len)
    }
}
