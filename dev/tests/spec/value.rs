//! The values a script passes and expects, independent of the backend, and
//! the spec's rules for comparing them (NaN patterns included).

use wast::core::{HeapType, NanPattern, WastArgCore, WastRetCore};
use wast::{WastArg, WastRet};

/// A WebAssembly value as the harness sees it. Floats are kept as bits, so
/// that NaN payloads survive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    /// A function reference: `true` if it is not null.
    FuncRef(bool),
    /// An external reference: the host number it carries, or `None` if null.
    ExternRef(Option<u32>),
}

impl core::fmt::Display for Value {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::I32(v) => write!(f, "i32:{v}"),
            Self::I64(v) => write!(f, "i64:{v}"),
            Self::F32(bits) => write!(f, "f32:{}({bits:#010x})", f32::from_bits(*bits)),
            Self::F64(bits) => write!(f, "f64:{}({bits:#018x})", f64::from_bits(*bits)),
            Self::FuncRef(false) => f.write_str("ref.null func"),
            Self::FuncRef(true) => f.write_str("ref.func"),
            Self::ExternRef(None) => f.write_str("ref.null extern"),
            Self::ExternRef(Some(n)) => write!(f, "ref.extern {n}"),
        }
    }
}

/// Why a script's argument or expected result is outside what the harness
/// replays (a skip, not a failure).
pub type Unsupported = String;

/// A script's argument as a [`Value`].
pub fn arg(arg: &WastArg<'_>) -> Result<Value, Unsupported> {
    let WastArg::Core(arg) = arg else {
        return Err("component-model argument".into());
    };
    Ok(match arg {
        WastArgCore::I32(v) => Value::I32(*v),
        WastArgCore::I64(v) => Value::I64(*v),
        WastArgCore::F32(v) => Value::F32(v.bits),
        WastArgCore::F64(v) => Value::F64(v.bits),
        WastArgCore::RefNull(HeapType::Abstract { ty, .. }) => match ty {
            wast::core::AbstractHeapType::Func => Value::FuncRef(false),
            wast::core::AbstractHeapType::Extern => Value::ExternRef(None),
            other => return Err(format!("ref.null {other:?} argument (GC proposal)")),
        },
        WastArgCore::RefExtern(n) => Value::ExternRef(Some(*n)),
        WastArgCore::V128(_) => return Err("v128 argument (SIMD)".into()),
        other => return Err(format!("argument {other:?}")),
    })
}

/// An expected result: a value or a pattern.
#[derive(Debug, Clone, Copy)]
pub enum Expected {
    Exact(Value),
    F32CanonicalNan,
    F32ArithmeticNan,
    F64CanonicalNan,
    F64ArithmeticNan,
    /// Any non-null function reference.
    AnyFuncRef,
    /// Any non-null external reference.
    AnyExternRef,
    /// A null reference of either kind (`ref.null` without a type).
    AnyNull,
}

/// A script's expected result as an [`Expected`].
pub fn expected(ret: &WastRet<'_>) -> Result<Expected, Unsupported> {
    let WastRet::Core(ret) = ret else {
        return Err("component-model result".into());
    };
    Ok(match ret {
        WastRetCore::I32(v) => Expected::Exact(Value::I32(*v)),
        WastRetCore::I64(v) => Expected::Exact(Value::I64(*v)),
        WastRetCore::F32(NanPattern::Value(v)) => Expected::Exact(Value::F32(v.bits)),
        WastRetCore::F32(NanPattern::CanonicalNan) => Expected::F32CanonicalNan,
        WastRetCore::F32(NanPattern::ArithmeticNan) => Expected::F32ArithmeticNan,
        WastRetCore::F64(NanPattern::Value(v)) => Expected::Exact(Value::F64(v.bits)),
        WastRetCore::F64(NanPattern::CanonicalNan) => Expected::F64CanonicalNan,
        WastRetCore::F64(NanPattern::ArithmeticNan) => Expected::F64ArithmeticNan,
        WastRetCore::RefNull(None) => Expected::AnyNull,
        WastRetCore::RefNull(Some(HeapType::Abstract { ty, .. })) => match ty {
            wast::core::AbstractHeapType::Func => Expected::Exact(Value::FuncRef(false)),
            wast::core::AbstractHeapType::Extern => Expected::Exact(Value::ExternRef(None)),
            other => return Err(format!("ref.null {other:?} result (GC proposal)")),
        },
        WastRetCore::RefExtern(Some(n)) => Expected::Exact(Value::ExternRef(Some(*n))),
        WastRetCore::RefExtern(None) => Expected::AnyExternRef,
        WastRetCore::RefFunc(_) => Expected::AnyFuncRef,
        WastRetCore::V128(_) => return Err("v128 result (SIMD)".into()),
        WastRetCore::Either(_) => return Err("`either` result (threads / relaxed SIMD)".into()),
        other => return Err(format!("result {other:?} (GC proposal)")),
    })
}

/// f32 canonical NaN: sign free, quiet bit set, rest of the payload zero.
const F32_CANONICAL: u32 = 0x7fc0_0000;
/// f64 canonical NaN.
const F64_CANONICAL: u64 = 0x7ff8_0000_0000_0000;

impl Expected {
    /// Whether `actual` matches, by the spec's rules: exact bits for float
    /// values, the payload rules for `nan:canonical` and `nan:arithmetic`.
    pub fn matches(&self, actual: &Value) -> bool {
        match (self, actual) {
            (Self::Exact(expected), actual) => expected == actual,
            (Self::F32CanonicalNan, Value::F32(bits)) => bits & 0x7fff_ffff == F32_CANONICAL,
            (Self::F32ArithmeticNan, Value::F32(bits)) => bits & F32_CANONICAL == F32_CANONICAL,
            (Self::F64CanonicalNan, Value::F64(bits)) => {
                bits & 0x7fff_ffff_ffff_ffff == F64_CANONICAL
            }
            (Self::F64ArithmeticNan, Value::F64(bits)) => bits & F64_CANONICAL == F64_CANONICAL,
            (Self::AnyFuncRef, Value::FuncRef(true)) => true,
            (Self::AnyExternRef, Value::ExternRef(Some(_))) => true,
            (Self::AnyNull, Value::FuncRef(false) | Value::ExternRef(None)) => true,
            _ => false,
        }
    }
}

impl core::fmt::Display for Expected {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Exact(value) => value.fmt(f),
            Self::F32CanonicalNan => f.write_str("f32:nan:canonical"),
            Self::F32ArithmeticNan => f.write_str("f32:nan:arithmetic"),
            Self::F64CanonicalNan => f.write_str("f64:nan:canonical"),
            Self::F64ArithmeticNan => f.write_str("f64:nan:arithmetic"),
            Self::AnyFuncRef => f.write_str("ref.func"),
            Self::AnyExternRef => f.write_str("ref.extern"),
            Self::AnyNull => f.write_str("ref.null"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_patterns_follow_the_spec() {
        // Canonical: only the quiet bit in the payload, either sign.
        assert!(Expected::F32CanonicalNan.matches(&Value::F32(0x7fc0_0000)));
        assert!(Expected::F32CanonicalNan.matches(&Value::F32(0xffc0_0000)));
        assert!(!Expected::F32CanonicalNan.matches(&Value::F32(0x7fc0_0001)));
        assert!(!Expected::F32CanonicalNan.matches(&Value::F32(0x7f80_0001))); // signalling
        // Arithmetic: the quiet bit set, any payload.
        assert!(Expected::F32ArithmeticNan.matches(&Value::F32(0x7fc0_0001)));
        assert!(Expected::F32ArithmeticNan.matches(&Value::F32(0xffff_ffff)));
        assert!(!Expected::F32ArithmeticNan.matches(&Value::F32(0x7fa0_0000)));
        assert!(!Expected::F32ArithmeticNan.matches(&Value::F32(0x7f80_0000))); // infinity
        assert!(Expected::F64CanonicalNan.matches(&Value::F64(0xfff8_0000_0000_0000)));
        assert!(!Expected::F64CanonicalNan.matches(&Value::F64(0x7ff8_0000_0000_0001)));
        assert!(Expected::F64ArithmeticNan.matches(&Value::F64(0x7ff8_0000_0000_0001)));
        assert!(!Expected::F64ArithmeticNan.matches(&Value::F64(0x7ff4_0000_0000_0000)));
        // A NaN pattern never matches a value of the other width.
        assert!(!Expected::F64CanonicalNan.matches(&Value::F32(0x7fc0_0000)));
        // Exact floats compare bits: -0 is not +0, and NaN payloads count.
        assert!(!Expected::Exact(Value::F32(0)).matches(&Value::F32(0x8000_0000)));
        assert!(Expected::Exact(Value::F32(0x7fc0_0000)).matches(&Value::F32(0x7fc0_0000)));
    }
}
