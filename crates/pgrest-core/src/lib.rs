//! pgrest-lambda's engine: a Supabase-compatible REST API over any PostgreSQL database.
//!
//! The pipeline (jwt → parse → plan → build → transaction → response) lives in one module per
//! stage; `App` ties them together. This crate must not depend on any Lambda runtime crate.

pub mod api_request;
pub mod app;
pub mod auth;
pub mod config;
pub mod db;
pub mod error;
pub mod plan;
pub mod policy;
pub mod request_id;
pub mod response;
pub mod schema_cache;
pub mod sql;

pub use app::{App, AuthService, ClientAddr, ResponseFuture, StartupError};
pub use auth::jwt::{AuthContext, AuthorizerIdentity, JwtKeys};
pub use config::{Config, ConfigError, Overrides, TxEnd};
pub use request_id::RequestId;
