//! The API Lambda's entry point: tracing, configuration and the App are built once per cold
//! start, then every API Gateway event goes through the adapter to `App::handle`.
//!
//! Must not parse configuration, build pools or verify keys per request, and holds no engine
//! logic. Trust in the authorizer context: on unless `PGREST_TRUST_AUTHORIZER` turns it off, and
//! even then only for events that carry our authorizer's context (see `startup`, `adapter`).

use std::convert::Infallible;

use lambda_http::request::LambdaRequest;
use lambda_http::{Body, Error, LambdaEvent, Request, Response, Service, service_fn};
use pgrest_api::{adapter, startup};
use pgrest_core::{App, Config, Overrides};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Keep password-hashing buffers from piling up in malloc arenas (auth runs in this function).
    pgrest_auth::password::limit_allocator_retention();
    init_tracing();
    let trust = startup::trust_authorizer_override(std::env::var("PGREST_TRUST_AUTHORIZER").ok().as_deref());
    let config = Config::load(Overrides {
        trust_authorizer: trust,
        ..Overrides::default()
    })
    .inspect_err(|error| tracing::error!(%error, "pgrest-api refused to start: invalid configuration"))?;
    let trust_authorizer = config.trust_authorizer;
    let app = App::new(config)
        .await
        .inspect_err(|error| tracing::error!(%error, "pgrest-api could not start"))?;
    // /auth/v1 per AUTH_PROVIDER (native when the auth schema is present); links in auth emails
    // point at API_EXTERNAL_URL, which a deployment sets to its API Gateway URL.
    let env: std::collections::HashMap<String, String> = std::env::vars().collect();
    let auth = pgrest_auth::setup::install_from_env(&app, &env, "http://localhost:9000/lambda-url/pgrest-api", None)
        .await
        .inspect_err(|error| tracing::error!(%error, "pgrest-api could not start auth"))?;
    tracing::info!(trust_authorizer, auth = ?auth, "pgrest-api ready");
    let handler = lambda_http::Adapter::from(service_fn(move |request: Request| {
        let app = app.clone();
        async move { Ok::<_, Infallible>(serve(&app, request, trust_authorizer).await) }
    }));
    // What lambda_http::run does (`Adapter`: event → request, response → the event's response
    // shape), with the event's repeated headers kept before it becomes a request. The Adapter
    // wraps a `service_fn`, which is always ready, so `call` needs no `poll_ready` first.
    lambda_http::lambda_runtime::run(service_fn(move |mut event: LambdaEvent<LambdaRequest>| {
        adapter::keep_multi_value_headers(&mut event.payload);
        let mut handler = handler.clone();
        async move { handler.call(event).await }
    }))
    .await
}

async fn serve(app: &App, request: Request, trust_authorizer: bool) -> Response<Body> {
    match adapter::to_app_request(request, trust_authorizer) {
        Ok(request) => adapter::to_lambda_response(app.handle(request).await),
        Err(error) => {
            tracing::warn!(%error, "event could not be translated into a request");
            adapter::error_response(http::StatusCode::BAD_REQUEST, &error.to_string())
        }
    }
}

/// JSON logs in Lambda (or with `LOG_FORMAT=json`), plain text elsewhere; level from `RUST_LOG`,
/// then Lambda's `AWS_LAMBDA_LOG_LEVEL`, then `info`.
fn init_tracing() {
    let in_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
    let json = startup::json_logs(std::env::var("LOG_FORMAT").ok().as_deref(), in_lambda);
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
