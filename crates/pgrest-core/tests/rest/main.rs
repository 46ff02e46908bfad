//! REST feature tests: the whole pipeline in-process against a real PostgreSQL (no mocks),
//! asserting status, headers and JSON bodies.

mod harness;
mod identity;
mod reads;
mod writes;
