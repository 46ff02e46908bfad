//! REST feature tests: the whole pipeline in-process against a real PostgreSQL (no mocks),
//! asserting status, headers and JSON bodies.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "test code: a failed expectation is the test's answer")]

mod harness;
mod identity;
mod observe;
mod reads;
mod roles;
mod writes;
mod limits;
