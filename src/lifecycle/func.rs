//! Typed handles to a guest's exported functions, looked up once.

use crate::error::{Error, Result};
use crate::lifecycle::access::{GuestAccess, check_owner};
use crate::lifecycle::guest::GuestId;
use alloc::boxed::Box;
use wasmi::{TypedFunc, WasmParams, WasmResults};

/// A typed handle to one exported function of one [`Guest`](crate::Guest), from
/// [`Guest::export_func`](crate::Guest::export_func). Calling it does no name lookup and no type check: it goes
/// straight to wasmi's [`TypedFunc`](https://docs.rs/wasmi/2/wasmi/struct.TypedFunc.html).
#[derive(Debug)]
pub struct GuestFunc<P, R> {
    func: TypedFunc<P, R>,
    name: Box<str>,
    guest: GuestId,
}

impl<P, R> Clone for GuestFunc<P, R> {
    fn clone(&self) -> Self {
        Self {
            func: self.func,
            name: self.name.clone(),
            guest: self.guest,
        }
    }
}

impl<P: WasmParams, R: WasmResults> GuestFunc<P, R> {
    pub(crate) fn new(func: TypedFunc<P, R>, name: &str, guest: GuestId) -> Self {
        Self {
            func,
            name: Box::from(name),
            guest,
        }
    }

    /// Calls the function in `guest`, which must be the guest it came from:
    /// the [`Guest`](crate::Guest) itself, or the [`HostContext`](crate::HostContext) of
    /// a host function it called (see [`GuestAccess`]).
    ///
    /// # Errors
    ///
    /// [`Error::ForeignHandle`] if `guest` is not the guest this handle came
    /// from; [`Error::Trap`] if the guest traps;
    /// [`Error::AsyncHostFuncInSyncCall`] if it reaches an async host
    /// function (use [`call_async`](Self::call_async)); [`Error::Call`] if
    /// the call fails otherwise (e.g. a host function's error). The guest
    /// stays usable.
    #[inline]
    pub fn call(&self, guest: &mut impl GuestAccess, params: P) -> Result<R> {
        check_owner(guest, self.guest, &self.name)?;
        self.func
            .call(guest.store_mut(), params)
            .map_err(|source| Error::from_call(&self.name, source))
    }

    /// The guest the handle came from.
    pub(crate) fn guest_id(&self) -> GuestId {
        self.guest
    }

    /// The export name the handle was looked up by.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The underlying wasmi handle (escape hatch).
    #[must_use]
    pub fn as_wasmi(&self) -> &TypedFunc<P, R> {
        &self.func
    }
}
