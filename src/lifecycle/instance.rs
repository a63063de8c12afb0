//! Handles to the instances of a guest's store.

use crate::lifecycle::guest::GuestId;
use wasmi::Instance;

/// One instance in a guest's store: the main one, or one added with
/// [`Guest::add_instance`](crate::Guest::add_instance).
#[derive(Debug, Clone, Copy)]
pub struct GuestInstance {
    pub(crate) instance: Instance,
    pub(crate) guest: GuestId,
}

impl GuestInstance {
    /// The underlying wasmi instance (escape hatch).
    #[must_use]
    pub fn as_wasmi(&self) -> Instance {
        self.instance
    }
}
