//! The parameter and result types an async host function may have, and
//! their conversion to and from wasmi's dynamic values.

use alloc::vec::Vec;
use wasmi::{F32, F64, Val, ValType};

mod sealed {
    pub trait Sealed {}
}

/// One WebAssembly number an async host function takes or returns: `i32`,
/// `u32` (an `i32` reinterpreted), `i64`, `u64`, `f32`, `f64`, or wasmi's
/// bit-exact [`F32`](https://docs.rs/wasmi/2/wasmi/struct.F32.html) and [`F64`](https://docs.rs/wasmi/2/wasmi/struct.F64.html).
///
/// Implemented for those types only; there is nothing to implement.
pub trait HostValue: sealed::Sealed + Copy + Send + Sync + 'static {
    /// The WebAssembly type.
    #[doc(hidden)]
    fn ty() -> ValType;
    /// The value as wasmi's dynamic value.
    #[doc(hidden)]
    fn into_val(self) -> Val;
    /// The value from wasmi's dynamic value, if it has this type.
    #[doc(hidden)]
    fn from_val(val: &Val) -> Option<Self>;
}

macro_rules! host_value {
    ($ty:ty, $val_ty:ident, |$x:ident| $into:expr, |$v:ident| $from:expr) => {
        impl sealed::Sealed for $ty {}
        impl HostValue for $ty {
            fn ty() -> ValType {
                ValType::$val_ty
            }
            fn into_val(self) -> Val {
                let $x = self;
                $into
            }
            fn from_val($v: &Val) -> Option<Self> {
                $from
            }
        }
    };
}

host_value!(i32, I32, |x| Val::I32(x), |v| v.i32());
host_value!(u32, I32, |x| Val::I32(x.cast_signed()), |v| v
    .i32()
    .map(i32::cast_unsigned));
host_value!(i64, I64, |x| Val::I64(x), |v| v.i64());
host_value!(u64, I64, |x| Val::I64(x.cast_signed()), |v| v
    .i64()
    .map(i64::cast_unsigned));
host_value!(f32, F32, |x| Val::F32(F32::from(x)), |v| v
    .f32()
    .map(f32::from));
host_value!(f64, F64, |x| Val::F64(F64::from(x)), |v| v
    .f64()
    .map(f64::from));
host_value!(F32, F32, |x| Val::F32(x), |v| v.f32());
host_value!(F64, F64, |x| Val::F64(x), |v| v.f64());

/// The parameters of an async host function: `()`, one [`HostValue`], or
/// a tuple of up to 12 of them, e.g. `(u32, u32)` for a pointer and a
/// length.
///
/// Implemented for those types only; there is nothing to implement.
pub trait HostParams: sealed::Sealed + Sized + Send + Sync + 'static {
    /// The WebAssembly types of the parameters.
    #[doc(hidden)]
    fn types() -> Vec<ValType>;
    /// The parameters from wasmi's dynamic values, if they have these types.
    #[doc(hidden)]
    fn from_vals(vals: &[Val]) -> Option<Self>;
}

/// The results of an async host function: `()`, one [`HostValue`], or a
/// tuple of up to 12 of them.
///
/// Implemented for those types only; there is nothing to implement.
pub trait HostResults: sealed::Sealed + Sized + Send + 'static {
    /// The WebAssembly types of the results.
    #[doc(hidden)]
    fn types() -> Vec<ValType>;
    /// Appends the results to `out` as wasmi's dynamic values.
    #[doc(hidden)]
    fn push_vals(self, out: &mut Vec<Val>);
}

impl<A: HostValue> HostParams for A {
    fn types() -> Vec<ValType> {
        alloc::vec![A::ty()]
    }
    fn from_vals(vals: &[Val]) -> Option<Self> {
        match vals {
            [val] => A::from_val(val),
            _ => None,
        }
    }
}

impl<A: HostValue> HostResults for A {
    fn types() -> Vec<ValType> {
        alloc::vec![A::ty()]
    }
    fn push_vals(self, out: &mut Vec<Val>) {
        out.push(self.into_val());
    }
}

macro_rules! host_tuple {
    ($($name:ident),*) => {
        impl<$($name: HostValue),*> sealed::Sealed for ($($name,)*) {}

        impl<$($name: HostValue),*> HostParams for ($($name,)*) {
            fn types() -> Vec<ValType> {
                alloc::vec![$($name::ty()),*]
            }
            #[allow(non_snake_case)]
            fn from_vals(vals: &[Val]) -> Option<Self> {
                match vals {
                    [$($name),*] => Some(($($name::from_val($name)?,)*)),
                    _ => None,
                }
            }
        }

        impl<$($name: HostValue),*> HostResults for ($($name,)*) {
            fn types() -> Vec<ValType> {
                alloc::vec![$($name::ty()),*]
            }
            #[allow(non_snake_case, unused_variables)]
            fn push_vals(self, out: &mut Vec<Val>) {
                let ($($name,)*) = self;
                $(out.push($name.into_val());)*
            }
        }
    };
}

host_tuple!();
host_tuple!(A1);
host_tuple!(A1, A2);
host_tuple!(A1, A2, A3);
host_tuple!(A1, A2, A3, A4);
host_tuple!(A1, A2, A3, A4, A5);
host_tuple!(A1, A2, A3, A4, A5, A6);
host_tuple!(A1, A2, A3, A4, A5, A6, A7);
host_tuple!(A1, A2, A3, A4, A5, A6, A7, A8);
host_tuple!(A1, A2, A3, A4, A5, A6, A7, A8, A9);
host_tuple!(A1, A2, A3, A4, A5, A6, A7, A8, A9, A10);
host_tuple!(A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11);
host_tuple!(A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11, A12);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_through_wasmi_values() {
        let params = (-1i32, u32::MAX, i64::MIN, u64::MAX, 1.5f32, -2.5f64);
        let mut vals = Vec::new();
        params.push_vals(&mut vals);
        assert_eq!(vals.len(), 6);
        assert!(matches!(vals[1], Val::I32(-1)));
        assert_eq!(
            <(i32, u32, i64, u64, f32, f64)>::from_vals(&vals),
            Some(params)
        );
        assert_eq!(
            <(i32, u32, i64, u64, f32, f64)>::from_vals(&vals[1..]),
            None
        );
        assert_eq!(<u32 as HostParams>::from_vals(&[Val::I64(1)]), None);
        assert_eq!(<() as HostParams>::from_vals(&[]), Some(()));
        assert_eq!(
            <(u32, u64) as HostParams>::types(),
            [ValType::I32, ValType::I64]
        );
    }
}
