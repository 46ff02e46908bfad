//! The authorizer Lambda's entry point: reads the JWT settings once per cold start (refusing a
//! weak secret, V-01), then answers every API Gateway REQUEST authorizer event with
//! `Authorizer::decide`; a refusal is the Lambda error whose message is exactly `Unauthorized`.
//!
//! Must not make decisions itself, read the environment per request, or panic.

use std::sync::Arc;

use lambda_runtime::{Diagnostic, Error, LambdaEvent, service_fn};
use pgrest_authorizer::{Authorizer, UNAUTHORIZED, anon_role_from};
use serde_json::Value;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let secret = std::env::var("JWT_SECRET").unwrap_or_default();
    let audience = std::env::var("PGREST_JWT_AUD").ok().filter(|a| !a.is_empty());
    let anon_role = anon_role_from(std::env::var("PGREST_ANON_ROLE").ok().as_deref());
    let jwks = std::env::var("PGREST_JWT_JWKS").or_else(|_| std::env::var("AUTH_JWT_SIGNING_KEYS")).ok();
    let authorizer = match Authorizer::new(&secret, audience, anon_role).and_then(|a| a.with_jwks(jwks.as_deref())) {
        Ok(authorizer) => Arc::new(authorizer),
        Err(error) => {
            tracing::error!(%error, "pgrest-authorizer refused to start");
            return Err(error.into());
        }
    };
    tracing::info!("pgrest-authorizer ready");
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let authorizer = Arc::clone(&authorizer);
        async move { authorizer.decide(&event.payload).map_err(|_| unauthorized()) }
    }))
    .await
}

/// API Gateway maps a Lambda error whose message is exactly "Unauthorized" to 401.
fn unauthorized() -> Diagnostic {
    Diagnostic {
        error_type: UNAUTHORIZED.to_string(),
        error_message: UNAUTHORIZED.to_string(),
    }
}

/// JSON logs in Lambda (or with `LOG_FORMAT=json`), plain text elsewhere; level from `RUST_LOG`,
/// then Lambda's `AWS_LAMBDA_LOG_LEVEL`, then `info`.
fn init_tracing() {
    let in_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
    let json = match std::env::var("LOG_FORMAT") {
        Ok(format) => format.eq_ignore_ascii_case("json"),
        Err(_) => in_lambda,
    };
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .map(|l| l.to_ascii_lowercase())
        .unwrap_or_else(|_| "info".into());
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
    let _ = if json {
        builder.json().with_current_span(false).with_ansi(false).try_init()
    } else {
        builder.with_ansi(!in_lambda).try_init()
    };
}
