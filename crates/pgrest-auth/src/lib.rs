//! Supabase Auth (GoTrue v2 wire behaviour) for pgrest-lambda: a native provider backed by an
//! `auth` schema in the same database, installed into the core `App` as its `/auth/v1` service.
//!
//! Must not depend on AWS; must not create or change its schema implicitly at start (migrations
//! are an explicit step: `pgrest-lambda migrate-auth` or `dev`).

pub mod config;
pub mod error;
mod events;
pub mod handlers;
pub mod issue;
pub mod mailer;
pub mod migrate;
pub mod oauth;
pub mod otp_guard;
pub mod password;
pub mod ratelimit;
pub mod redirect;
pub mod request;
pub mod service;
pub mod setup;
pub mod sessions;
pub mod store;
pub mod tokens;

pub use service::{AuthStartError, NativeAuth};
