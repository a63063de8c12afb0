//! Guest lifecycle: compiling modules, building and instantiating guests,
//! calling their exports.

pub(crate) mod access;
pub(crate) mod binary;
pub(crate) mod builder;
pub(crate) mod call_async;
pub(crate) mod func;
pub(crate) mod guest;
pub(crate) mod instance;
pub(crate) mod module;
#[cfg(feature = "snapshot")]
pub(crate) mod snapshot;
