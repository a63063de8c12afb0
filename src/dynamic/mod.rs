//! Wasm values, types and calls learned at run time: for hosts that do
//! not know a guest's signatures at compile time (plugin loaders, test
//! runners, REPLs).

pub(crate) mod func;
pub(crate) mod global;
pub(crate) mod host;
pub(crate) mod module;
pub(crate) mod table;
pub(crate) mod types;
pub(crate) mod value;
