//! Hostile-guest controls: resource limits, fuel, deadlines and
//! cancellation.

pub(crate) mod compile;
pub(crate) mod deadline;
pub(crate) mod limits;
pub(crate) mod screen;
pub(crate) mod slices;
