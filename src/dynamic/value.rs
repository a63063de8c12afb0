//! Wasm values for calls whose types are known at run time only.

use crate::dynamic::types::ValueType;
use crate::error::{Error, Result};
use crate::lifecycle::guest::GuestId;
use alloc::boxed::Box;
use core::fmt;
use wasmi::{Nullable, Val};

/// A reference to a function of one guest's store, from a call's result, a
/// table or a global.
#[derive(Debug, Clone, Copy)]
pub struct FuncRef {
    pub(crate) func: wasmi::Func,
    pub(crate) guest: GuestId,
}

impl FuncRef {
    /// The underlying wasmi function (escape hatch).
    #[must_use]
    pub fn as_wasmi(&self) -> wasmi::Func {
        self.func
    }
}

/// An opaque host value the guest holds as an `externref`; make one with
/// [`Guest::extern_ref`](crate::Guest::extern_ref) and read its data with
/// [`Guest::extern_ref_data`](crate::Guest::extern_ref_data).
#[derive(Debug, Clone, Copy)]
pub struct ExternRef {
    pub(crate) inner: wasmi::ExternRef,
    pub(crate) guest: GuestId,
}

impl ExternRef {
    /// The underlying wasmi reference (escape hatch).
    #[must_use]
    pub fn as_wasmi(&self) -> wasmi::ExternRef {
        self.inner
    }
}

impl<T> crate::Guest<T> {
    /// Makes an `externref` holding `data`, to pass to the guest.
    ///
    /// ```
    /// # fn main() -> linmem::Result<()> {
    /// use linmem::Value;
    /// let mut guest = linmem::Guest::new(r#"(module
    ///     (func (export "id") (param externref) (result externref) (local.get 0)))"#)?;
    /// let handle = guest.extern_ref(String::from("a host object"));
    /// let [Value::ExternRef(Some(back))] = guest.call_dynamic("id", &[Value::ExternRef(Some(handle))])?[..] else {
    ///     panic!("not an externref")
    /// };
    /// assert_eq!(guest.extern_ref_data(back)?.downcast_ref::<String>().map(String::as_str), Some("a host object"));
    /// # Ok(()) }
    /// ```
    pub fn extern_ref(&mut self, data: impl core::any::Any + Send + Sync) -> ExternRef {
        ExternRef {
            inner: wasmi::ExternRef::new(&mut self.store, data),
            guest: self.id,
        }
    }

    /// The data of an `externref` made by [`extern_ref`](Self::extern_ref).
    ///
    /// # Errors
    ///
    /// [`Error::ForeignHandle`] if `reference` belongs to another guest.
    pub fn extern_ref_data(&self, reference: ExternRef) -> Result<&dyn core::any::Any> {
        if reference.guest != self.id {
            return Err(Error::ForeignHandle {
                name: Box::from("externref"),
            });
        }
        Ok(reference.inner.data(&self.store))
    }
}

/// A wasm value, for calls, globals and tables whose types a host learns
/// at run time ([`Guest::call_dynamic`](crate::Guest::call_dynamic),
/// [`DynamicFunc`](crate::DynamicFunc), [`GuestGlobal`](crate::GuestGlobal)).
///
/// Its `Display` is wasm text, `i32.const 42`; the alternate form `{:#}`
/// is the bare value, `42`. Floats keep their exact bits (NaN payloads
/// included) and print as wasm text does: `f32.const nan:0x200000`,
/// `f64.const -inf`, `f32.const 1.5`.
///
/// ```
/// # fn main() -> linmem::Result<()> {
/// use linmem::{Value, ValueType};
/// assert_eq!(Value::I32(-7).to_string(), "i32.const -7");
/// assert_eq!(format!("{:#}", Value::F64(0.5)), "0.5");
/// assert_eq!(Value::F32(f32::NAN).to_string(), "f32.const nan");
/// assert_eq!(Value::FuncRef(None).to_string(), "ref.null func");
/// assert_eq!(Value::parse(ValueType::I32, "0xffffffff")?, Value::I32(-1));
/// assert_eq!(Value::parse(ValueType::F64, "-inf")?, Value::F64(f64::NEG_INFINITY));
/// assert!(Value::parse(ValueType::I32, "4294967296").is_err());
/// # Ok(()) }
/// ```
///
/// Equality compares numbers bit for bit (so a NaN equals the same NaN and
/// `0.0 != -0.0`) and null references by type; a non-null reference, like
/// a float NaN in IEEE comparisons, is equal to nothing.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Value {
    /// An `i32` (the bits of a signed or unsigned 32-bit integer).
    I32(i32),
    /// An `i64`.
    I64(i64),
    /// An `f32`.
    F32(f32),
    /// An `f64`.
    F64(f64),
    /// A `v128` (only with the SIMD proposal, which linmem's engines do not enable).
    V128(u128),
    /// A `funcref`; `None` is `ref.null func`.
    FuncRef(Option<FuncRef>),
    /// An `externref`; `None` is `ref.null extern`.
    ExternRef(Option<ExternRef>),
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::I32(a), Self::I32(b)) => a == b,
            (Self::I64(a), Self::I64(b)) => a == b,
            (Self::F32(a), Self::F32(b)) => a.to_bits() == b.to_bits(),
            (Self::F64(a), Self::F64(b)) => a.to_bits() == b.to_bits(),
            (Self::V128(a), Self::V128(b)) => a == b,
            (Self::FuncRef(None), Self::FuncRef(None))
            | (Self::ExternRef(None), Self::ExternRef(None)) => true,
            _ => false,
        }
    }
}

impl Value {
    /// The value's type.
    #[must_use]
    pub fn ty(&self) -> ValueType {
        match self {
            Self::I32(_) => ValueType::I32,
            Self::I64(_) => ValueType::I64,
            Self::F32(_) => ValueType::F32,
            Self::F64(_) => ValueType::F64,
            Self::V128(_) => ValueType::V128,
            Self::FuncRef(_) => ValueType::FuncRef,
            Self::ExternRef(_) => ValueType::ExternRef,
        }
    }

    /// The zero value of a type: `0`, `0.0` or a null reference (what a
    /// result slot holds before a call).
    #[must_use]
    pub fn default_for(ty: ValueType) -> Self {
        match ty {
            ValueType::I32 => Self::I32(0),
            ValueType::I64 => Self::I64(0),
            ValueType::F32 => Self::F32(0.0),
            ValueType::F64 => Self::F64(0.0),
            ValueType::V128 => Self::V128(0),
            ValueType::FuncRef => Self::FuncRef(None),
            ValueType::ExternRef => Self::ExternRef(None),
        }
    }

    /// The `i32`, if it is one.
    #[must_use]
    pub fn i32(&self) -> Option<i32> {
        match self {
            Self::I32(v) => Some(*v),
            _ => None,
        }
    }

    /// The `i64`, if it is one.
    #[must_use]
    pub fn i64(&self) -> Option<i64> {
        match self {
            Self::I64(v) => Some(*v),
            _ => None,
        }
    }

    /// The `f32`, if it is one.
    #[must_use]
    pub fn f32(&self) -> Option<f32> {
        match self {
            Self::F32(v) => Some(*v),
            _ => None,
        }
    }

    /// The `f64`, if it is one.
    #[must_use]
    pub fn f64(&self) -> Option<f64> {
        match self {
            Self::F64(v) => Some(*v),
            _ => None,
        }
    }

    /// Reads a value of type `ty` from text, as a command line or a test
    /// script gives it: integers in decimal or `0x` hex, negative or up to
    /// the unsigned maximum (`4294967295` is `i32` -1); floats in decimal,
    /// `inf`, `-inf`, `nan` or `nan:0x` with a payload; `null` for a null
    /// reference. `_` separators are accepted.
    ///
    /// # Errors
    ///
    /// [`Error::ParseValue`] naming the text, the type and what is accepted.
    pub fn parse(ty: ValueType, text: &str) -> Result<Self> {
        let bad = |expected: &'static str| Error::ParseValue {
            text: Box::from(text),
            ty,
            expected,
        };
        let clean: alloc::string::String = text.chars().filter(|&c| c != '_').collect();
        let value = match ty {
            ValueType::I32 => {
                let v = parse_int(&clean).ok_or_else(|| bad(INT))?;
                let v = i32::try_from(v)
                    .or_else(|_| u32::try_from(v).map(u32::cast_signed))
                    .map_err(|_| bad(INT32))?;
                Self::I32(v)
            }
            ValueType::I64 => {
                let v = parse_int(&clean).ok_or_else(|| bad(INT))?;
                let v = i64::try_from(v)
                    .or_else(|_| u64::try_from(v).map(u64::cast_signed))
                    .map_err(|_| bad(INT64))?;
                Self::I64(v)
            }
            ValueType::F32 => Self::F32(
                parse_float(&clean, 23, |bits| {
                    Some(Self::F32(f32::from_bits(u32::try_from(bits).ok()?)))
                })
                .and_then(|v| v.f32())
                .or_else(|| clean.parse::<f32>().ok())
                .ok_or_else(|| bad(FLOAT))?,
            ),
            ValueType::F64 => Self::F64(
                parse_float(&clean, 52, |bits| Some(Self::F64(f64::from_bits(bits))))
                    .and_then(|v| v.f64())
                    .or_else(|| clean.parse::<f64>().ok())
                    .ok_or_else(|| bad(FLOAT))?,
            ),
            ValueType::V128 => Self::V128(
                parse_int(&clean)
                    .and_then(|v| u128::try_from(v).ok())
                    .ok_or_else(|| bad(V128))?,
            ),
            ValueType::FuncRef | ValueType::ExternRef => match clean.as_str() {
                "null" | "ref.null" => Self::default_for(ty),
                _ => return Err(bad(NULL)),
            },
        };
        Ok(value)
    }

    /// This value as wasmi's, checking that a reference belongs to `guest`;
    /// `what` names the call or item for the error.
    pub(crate) fn to_wasmi(self, guest: GuestId, what: &str) -> Result<Val> {
        let foreign = || Error::ForeignHandle {
            name: Box::from(what),
        };
        Ok(match self {
            Self::I32(v) => Val::I32(v),
            Self::I64(v) => Val::I64(v),
            Self::F32(v) => Val::F32(v.into()),
            Self::F64(v) => Val::F64(v.into()),
            Self::V128(v) => Val::V128(v.into()),
            Self::FuncRef(None) => Val::FuncRef(Nullable::Null),
            Self::FuncRef(Some(r)) if r.guest == guest => Val::FuncRef(Nullable::Val(r.func)),
            Self::ExternRef(None) => Val::ExternRef(Nullable::Null),
            Self::ExternRef(Some(r)) if r.guest == guest => Val::ExternRef(Nullable::Val(r.inner)),
            Self::FuncRef(Some(_)) | Self::ExternRef(Some(_)) => return Err(foreign()),
        })
    }

    /// wasmi's value as linmem's; references remember their guest.
    pub(crate) fn from_wasmi(value: &Val, guest: GuestId) -> Self {
        match value {
            Val::I32(v) => Self::I32(*v),
            Val::I64(v) => Self::I64(*v),
            Val::F32(v) => Self::F32(f32::from(*v)),
            Val::F64(v) => Self::F64(f64::from(*v)),
            Val::V128(v) => Self::V128(v.as_u128()),
            Val::FuncRef(r) => Self::FuncRef(r.val().map(|&func| FuncRef { func, guest })),
            Val::ExternRef(r) => Self::ExternRef(r.val().map(|&inner| ExternRef { inner, guest })),
        }
    }

    /// A table element as linmem's value.
    pub(crate) fn from_wasmi_ref(value: wasmi::Ref, guest: GuestId) -> Self {
        Self::from_wasmi(&Val::from(value), guest)
    }
}

const INT: &str = "an integer in decimal or 0x hex";
const INT32: &str = "an integer from -2147483648 to 4294967295";
const INT64: &str = "an integer from -9223372036854775808 to 18446744073709551615";
const FLOAT: &str = "a decimal number, inf, -inf, nan or nan:0x<payload>";
const V128: &str = "a 128-bit unsigned integer";
const NULL: &str = "`null` (only null references can be written as text)";

/// An integer in decimal or `0x` hex, with an optional sign.
fn parse_int(text: &str) -> Option<i128> {
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, text.get(1..)?),
        b'+' => (false, text.get(1..)?),
        _ => (false, text),
    };
    let magnitude = match digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        Some(hex) => i128::from_str_radix(hex, 16).ok()?,
        None if digits.bytes().all(|b| b.is_ascii_digit()) => digits.parse::<i128>().ok()?,
        None => return None,
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// `inf`, `nan` and `nan:0x..` with an optional sign, as the float whose
/// mantissa has `mantissa_bits` bits, built by `from_bits`.
fn parse_float(
    text: &str,
    mantissa_bits: u32,
    from_bits: impl Fn(u64) -> Option<Value>,
) -> Option<Value> {
    let (sign, rest) = match text.as_bytes().first()? {
        b'-' => (1u64, text.get(1..)?),
        b'+' => (0, text.get(1..)?),
        _ => (0, text),
    };
    let exponent_bits = if mantissa_bits == 23 { 8 } else { 11 };
    let exponent = ((1u64 << exponent_bits) - 1) << mantissa_bits;
    let sign = sign << (mantissa_bits + exponent_bits);
    let mantissa = match rest {
        "inf" | "infinity" => 0,
        "nan" => 1u64 << (mantissa_bits - 1),
        _ => {
            let hex = rest.strip_prefix("nan:0x")?;
            let payload = u64::from_str_radix(hex, 16).ok()?;
            if payload == 0 || payload >> mantissa_bits != 0 {
                return None;
            }
            payload
        }
    };
    from_bits(sign | exponent | mantissa)
}

/// Writes a float's bits in wasm text: `nan`, `nan:0x..`, `inf`, or the
/// shortest decimal that reads back to the same bits.
fn write_float(
    f: &mut fmt::Formatter<'_>,
    bits: u64,
    mantissa_bits: u32,
    is_nan: bool,
    is_infinite: bool,
    decimal: &dyn fmt::Debug,
) -> fmt::Result {
    let exponent_bits = if mantissa_bits == 23 { 8 } else { 11 };
    let negative = bits >> (mantissa_bits + exponent_bits) & 1 == 1;
    let sign = if negative { "-" } else { "" };
    if is_nan {
        let payload = bits & ((1u64 << mantissa_bits) - 1);
        if payload == 1u64 << (mantissa_bits - 1) {
            write!(f, "{sign}nan")
        } else {
            write!(f, "{sign}nan:0x{payload:x}")
        }
    } else if is_infinite {
        write!(f, "{sign}inf")
    } else {
        write!(f, "{decimal:?}")
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bare = f.alternate();
        match self {
            Self::FuncRef(None) => return f.write_str(if bare { "null" } else { "ref.null func" }),
            Self::ExternRef(None) => {
                return f.write_str(if bare { "null" } else { "ref.null extern" });
            }
            Self::FuncRef(Some(_)) => return f.write_str("ref.func"),
            Self::ExternRef(Some(_)) => return f.write_str("ref.extern"),
            _ => {}
        }
        if !bare {
            write!(f, "{}.const ", self.ty())?;
        }
        match self {
            Self::I32(v) => write!(f, "{v}"),
            Self::I64(v) => write!(f, "{v}"),
            Self::F32(v) => write_float(
                f,
                u64::from(v.to_bits()),
                23,
                v.is_nan(),
                v.is_infinite(),
                v,
            ),
            Self::F64(v) => write_float(f, v.to_bits(), 52, v.is_nan(), v.is_infinite(), v),
            Self::V128(v) => {
                let [low, high] = [*v, *v >> 64].map(|half| {
                    let bytes = half.to_le_bytes();
                    let mut word = [0u8; 8];
                    word.copy_from_slice(bytes.get(..8).unwrap_or(&[0; 8]));
                    u64::from_le_bytes(word)
                });
                write!(f, "i64x2 0x{low:016x} 0x{high:016x}")
            }
            Self::FuncRef(_) | Self::ExternRef(_) => Ok(()),
        }
    }
}

macro_rules! value_from {
    ($($ty:ty => $variant:ident $(as $via:ident)?),*) => {$(
        impl From<$ty> for Value {
            fn from(value: $ty) -> Self {
                Self::$variant(value $(.$via())?)
            }
        }
    )*};
}

value_from!(i32 => I32, i64 => I64, f32 => F32, f64 => F64, u32 => I32 as cast_signed, u64 => I64 as cast_signed);
