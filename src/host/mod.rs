//! Host interface: functions the host gives a guest to import, what they
//! see of the calling guest, and moving data through the guest's allocator.

pub(crate) mod allocator;
pub(crate) mod calls;
pub(crate) mod context;
pub(crate) mod context_async;
pub(crate) mod func;
pub(crate) mod func_async;
pub(crate) mod signature;
