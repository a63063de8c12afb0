//! Snapshots: pre-initialised guests as ordinary modules (feature
//! `snapshot`; see the crate's `docs/SNAPSHOTS.md`).
//!
//! The method is Wizer's: [`instrument`] the module so that its state can
//! be read, instantiate and initialise it, [`capture`] the state, [`emit`]
//! a module whose initialisers hold it; [`reset`] writes it back in place.

pub(crate) mod capture;
pub(crate) mod emit;
pub(crate) mod error;
pub(crate) mod info;
pub(crate) mod instrument;
pub(crate) mod reset;
pub(crate) mod sections;
pub(crate) mod snapshotter;
