//! Helpers shared by this crate's integration tests; must not be compiled into the library.

pub mod fake_oauth;
