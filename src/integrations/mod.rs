//! Integrations with guest toolchains and their conventions.

pub(crate) mod assemblyscript;
