//! pgrest-api as a library: the API Gateway ⇄ App adapter and the start-up decisions of the
//! Lambda binary, kept here so tests can drive them with the `events/` fixtures.
//!
//! Must not hold engine logic; everything past the adapter belongs to pgrest-core.

pub mod adapter;
pub mod startup;
