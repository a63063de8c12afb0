//! A plain `Vec<u8>` model of a guest's linear memory, and the view
//! operations that the property tests (tests/prop_view.rs) and the `view`
//! fuzz target (fuzz/fuzz_targets/view.rs) run on both a real guest and the
//! model. Both must give the same bytes and the same errors.
#![allow(dead_code)]

use linmem::{Error, Guest};

/// The guest every run uses: one page, at most [`MAX_PAGES`].
pub const GUEST_WAT: &str = r#"(module (memory (export "memory") 1 4))"#;
/// The declared maximum of [`GUEST_WAT`]'s memory.
pub const MAX_PAGES: u64 = 4;
/// Bytes per page.
pub const PAGE: u64 = 65_536;

/// The width of a typed access: every `MemoryValue` number type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Width {
    U8,
    I8,
    U16,
    I16,
    U32,
    I32,
    F32,
    U64,
    I64,
    F64,
    U128,
    I128,
    Array3,
}

pub const WIDTHS: [Width; 13] = [
    Width::U8,
    Width::I8,
    Width::U16,
    Width::I16,
    Width::U32,
    Width::I32,
    Width::F32,
    Width::U64,
    Width::I64,
    Width::F64,
    Width::U128,
    Width::I128,
    Width::Array3,
];

impl Width {
    pub fn bytes(self) -> u64 {
        match self {
            Self::U8 | Self::I8 => 1,
            Self::U16 | Self::I16 => 2,
            Self::Array3 => 3,
            Self::U32 | Self::I32 | Self::F32 => 4,
            Self::U64 | Self::I64 | Self::F64 => 8,
            Self::U128 | Self::I128 => 16,
        }
    }
}

/// Where an address lies: the edges where off-by-one and overflow bugs live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    Zero,
    /// The memory's current size.
    End,
    U32Max,
    U64Max,
}

/// An address: `base + offset` (wrapping), with a small signed offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Addr {
    pub base: Base,
    pub offset: i64,
}

impl Addr {
    pub fn resolve(self, size: u64) -> u64 {
        let base = match self.base {
            Base::Zero => 0,
            Base::End => size,
            Base::U32Max => u64::from(u32::MAX),
            Base::U64Max => u64::MAX,
        };
        base.wrapping_add_signed(self.offset)
    }
}

/// One operation on the memory.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    Read(Width, Addr),
    Write(Width, Addr, u128),
    ReadBytes(Addr, u64),
    WriteBytes(Addr, Vec<u8>),
    Fill(Addr, u64, u8),
    Copy(Addr, Addr, u64),
    Str(Addr, u64),
    Grow(u64),
}

/// An error, reduced to what both sides must agree on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    OutOfBounds {
        addr: u64,
        len: u64,
        size: u64,
    },
    GrowPastMaximum {
        current: u64,
        additional: u64,
        maximum: u64,
    },
    InvalidUtf8 {
        addr: u64,
        len: u64,
        valid_up_to: u64,
    },
    Other(String),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        match e {
            Error::OutOfBounds { addr, len, size } => Self::OutOfBounds { addr, len, size },
            Error::GrowPastMaximum {
                current,
                additional,
                maximum,
            } => Self::GrowPastMaximum {
                current,
                additional,
                maximum,
            },
            Error::InvalidUtf8 {
                addr,
                len,
                valid_up_to,
                ..
            } => Self::InvalidUtf8 {
                addr,
                len,
                valid_up_to,
            },
            other => Self::Other(other.to_string()),
        }
    }
}

/// What an operation gave: the bytes it read (or the old page count of a
/// grow, as bytes), or the failure.
pub type Outcome = Result<Vec<u8>, Failure>;

/// The model: the memory as a `Vec<u8>`.
#[derive(Debug, Clone)]
pub struct Model {
    pub bytes: Vec<u8>,
}

impl Default for Model {
    fn default() -> Self {
        Self::new()
    }
}

impl Model {
    pub fn new() -> Self {
        Self {
            bytes: vec![0; 65_536],
        }
    }

    fn size(&self) -> u64 {
        self.bytes.len() as u64
    }

    fn span(&self, addr: u64, len: u64) -> Result<core::ops::Range<usize>, Failure> {
        match addr.checked_add(len) {
            Some(end) if end <= self.size() => Ok(addr as usize..end as usize),
            _ => Err(Failure::OutOfBounds {
                addr,
                len,
                size: self.size(),
            }),
        }
    }

    pub fn apply(&mut self, op: &Op) -> Outcome {
        let size = self.size();
        match op {
            Op::Read(width, addr) => {
                let range = self.span(addr.resolve(size), width.bytes())?;
                Ok(self.bytes[range].to_vec())
            }
            Op::ReadBytes(addr, len) => {
                let range = self.span(addr.resolve(size), *len)?;
                Ok(self.bytes[range].to_vec())
            }
            Op::Str(addr, len) => {
                let addr = addr.resolve(size);
                let range = self.span(addr, *len)?;
                let bytes = &self.bytes[range];
                match core::str::from_utf8(bytes) {
                    Ok(s) => Ok(s.as_bytes().to_vec()),
                    Err(e) => Err(Failure::InvalidUtf8 {
                        addr,
                        len: *len,
                        valid_up_to: addr + e.valid_up_to() as u64,
                    }),
                }
            }
            Op::Write(width, addr, value) => {
                let data = &value.to_le_bytes()[..width.bytes() as usize];
                let range = self.span(addr.resolve(size), width.bytes())?;
                self.bytes[range].copy_from_slice(data);
                Ok(Vec::new())
            }
            Op::WriteBytes(addr, data) => {
                let range = self.span(addr.resolve(size), data.len() as u64)?;
                self.bytes[range].copy_from_slice(data);
                Ok(Vec::new())
            }
            Op::Fill(addr, len, byte) => {
                let range = self.span(addr.resolve(size), *len)?;
                self.bytes[range].fill(*byte);
                Ok(Vec::new())
            }
            Op::Copy(src, dst, len) => {
                let from = self.span(src.resolve(size), *len)?;
                let to = self.span(dst.resolve(size), *len)?;
                self.bytes.copy_within(from, to.start);
                Ok(Vec::new())
            }
            Op::Grow(pages) => {
                let current = size / PAGE;
                match current.checked_add(*pages) {
                    Some(new) if new <= MAX_PAGES => {
                        self.bytes.resize((new * PAGE) as usize, 0);
                        Ok(current.to_le_bytes().to_vec())
                    }
                    _ => Err(Failure::GrowPastMaximum {
                        current,
                        additional: *pages,
                        maximum: MAX_PAGES,
                    }),
                }
            }
        }
    }
}

/// Reads a `width` value through the typed API and returns its bytes.
fn typed_read(guest: &Guest, width: Width, addr: u64) -> Result<Vec<u8>, Error> {
    let view = guest.view();
    Ok(match width {
        Width::U8 => view.read::<u8>(addr)?.to_le_bytes().to_vec(),
        Width::I8 => view.read::<i8>(addr)?.to_le_bytes().to_vec(),
        Width::U16 => view.read::<u16>(addr)?.to_le_bytes().to_vec(),
        Width::I16 => view.read::<i16>(addr)?.to_le_bytes().to_vec(),
        Width::U32 => view.read::<u32>(addr)?.to_le_bytes().to_vec(),
        Width::I32 => view.read::<i32>(addr)?.to_le_bytes().to_vec(),
        Width::F32 => view.read::<f32>(addr)?.to_bits().to_le_bytes().to_vec(),
        Width::U64 => view.read::<u64>(addr)?.to_le_bytes().to_vec(),
        Width::I64 => view.read::<i64>(addr)?.to_le_bytes().to_vec(),
        Width::F64 => view.read::<f64>(addr)?.to_bits().to_le_bytes().to_vec(),
        Width::U128 => view.read::<u128>(addr)?.to_le_bytes().to_vec(),
        Width::I128 => view.read::<i128>(addr)?.to_le_bytes().to_vec(),
        Width::Array3 => view.read::<[u8; 3]>(addr)?.to_vec(),
    })
}

/// Writes the low `width` bytes of `value` through the typed API.
fn typed_write(guest: &mut Guest, width: Width, addr: u64, value: u128) -> Result<(), Error> {
    let mut view = guest.view_mut();
    match width {
        Width::U8 => view.write(addr, value as u8),
        Width::I8 => view.write(addr, value as i8),
        Width::U16 => view.write(addr, value as u16),
        Width::I16 => view.write(addr, value as i16),
        Width::U32 => view.write(addr, value as u32),
        Width::I32 => view.write(addr, value as i32),
        Width::F32 => view.write(addr, f32::from_bits(value as u32)),
        Width::U64 => view.write(addr, value as u64),
        Width::I64 => view.write(addr, value as i64),
        Width::F64 => view.write(addr, f64::from_bits(value as u64)),
        Width::U128 => view.write(addr, value),
        Width::I128 => view.write(addr, value as i128),
        Width::Array3 => {
            let [a, b, c, ..] = value.to_le_bytes();
            view.write(addr, [a, b, c])
        }
    }
}

/// Runs `op` on the guest through the view API.
pub fn apply_to_guest(guest: &mut Guest, op: &Op) -> Outcome {
    let size = guest.view().len();
    let result = match op {
        Op::Read(width, addr) => typed_read(guest, *width, addr.resolve(size)),
        Op::Write(width, addr, value) => {
            typed_write(guest, *width, addr.resolve(size), *value).map(|()| Vec::new())
        }
        Op::ReadBytes(addr, len) => {
            // Both the copying and the borrowing reads must agree.
            let addr = addr.resolve(size);
            let view = guest.view();
            let borrowed = view.bytes(addr, *len).map(<[u8]>::to_vec);
            let copied = view.to_vec(addr, *len);
            match (borrowed, copied) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(a, b, "bytes and to_vec disagree");
                    let mut buf = vec![0; a.len()];
                    view.read_bytes(addr, &mut buf)
                        .expect("read_bytes after bytes");
                    assert_eq!(a, buf, "bytes and read_bytes disagree");
                    Ok(a)
                }
                (Err(a), Err(b)) => {
                    let (a, b) = (Failure::from(a), Failure::from(b));
                    assert_eq!(a, b, "bytes and to_vec disagree");
                    return Err(a);
                }
                (a, b) => panic!("bytes and to_vec disagree: {a:?} / {b:?}"),
            }
        }
        Op::Str(addr, len) => guest
            .view()
            .str(addr.resolve(size), *len)
            .map(|s| s.as_bytes().to_vec()),
        Op::WriteBytes(addr, data) => guest
            .view_mut()
            .write_bytes(addr.resolve(size), data)
            .map(|()| Vec::new()),
        Op::Fill(addr, len, byte) => guest
            .view_mut()
            .fill(addr.resolve(size), *len, *byte)
            .map(|()| Vec::new()),
        Op::Copy(src, dst, len) => guest
            .view_mut()
            .copy_within(src.resolve(size), dst.resolve(size), *len)
            .map(|()| Vec::new()),
        Op::Grow(pages) => guest.grow(*pages).map(|old| old.to_le_bytes().to_vec()),
    };
    result.map_err(Failure::from)
}

/// Runs `ops` on a fresh guest and on the model, checking after each op
/// that both gave the same outcome and hold the same bytes. Returns the
/// index and description of the first disagreement.
pub fn check(ops: &[Op]) -> Result<(), String> {
    let mut guest = Guest::new(GUEST_WAT).map_err(|e| e.to_string())?;
    let mut model = Model::new();
    for (i, op) in ops.iter().enumerate() {
        let real = apply_to_guest(&mut guest, op);
        let expected = model.apply(op);
        if real != expected {
            return Err(format!("op {i} {op:?}: guest {real:?}, model {expected:?}"));
        }
        let view = guest.view();
        if view.len() != model.size() || view.as_slice() != model.bytes.as_slice() {
            return Err(format!("op {i} {op:?}: memory differs from the model"));
        }
        if view.pages() != model.size() / PAGE {
            return Err(format!("op {i} {op:?}: page count differs"));
        }
    }
    Ok(())
}
