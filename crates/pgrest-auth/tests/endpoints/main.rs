//! `/auth/v1` endpoint tests: the whole service in-process (through `App::handle`) against a real
//! PostgreSQL, asserting statuses, error codes, messages and JSON shapes as GoTrue v2.186 answers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "test code")]

#[path = "../support/mod.rs"]
mod support;

mod harness;
mod signup;
mod token;
mod user;
mod logout;
mod email_flows;
mod oauth;
mod security;
mod events;
mod redirects;
mod otp_guessing;
mod linking;
mod mail_failures;
mod flows;
mod errors;
