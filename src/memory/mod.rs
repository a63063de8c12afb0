//! Memory access: views over a guest's linear memory, typed values,
//! pointers, records, strings and host-managed regions.

pub(crate) mod addr;
pub(crate) mod handle;
pub(crate) mod hexdump;
pub(crate) mod ptr;
pub(crate) mod record;
pub(crate) mod region;
pub(crate) mod string;
pub(crate) mod value;
pub(crate) mod view;
