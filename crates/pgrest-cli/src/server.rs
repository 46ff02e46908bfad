//! The local HTTP server (axum, HTTP/1.1): every request's body is collected up to
//! `max_body_bytes` (413 beyond) and handed to `App::handle` as `http::Request<Bytes>`.
//! Graceful shutdown on SIGINT/SIGTERM, with a bounded wait for requests in flight.
//!
//! Must not route, authenticate or shape responses: that is the engine's job.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::response::Response;
use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use pgrest_core::App;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};

use crate::Failure;

/// How long requests in flight may take to finish after a shutdown signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
struct Shared {
    app: App,
    max_body_bytes: usize,
}

/// The multi-threaded runtime every async subcommand runs on.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::io("starting the async runtime", e))
}

pub(crate) async fn bind(host: &str, port: u16) -> Result<TcpListener, Failure> {
    TcpListener::bind((host, port))
        .await
        .map_err(|e| Failure::io(format!("listening on {host}:{port}"), e))
}

/// Resolves on the first SIGINT (Ctrl-C) or SIGTERM. The handlers are installed by this call,
/// before the future is awaited, so a signal arriving right after it is not lost.
pub(crate) fn shutdown_signal() -> Result<impl Future<Output = ()> + Send + 'static, Failure> {
    let mut interrupt = signal(SignalKind::interrupt())
        .map_err(|e| Failure::io("installing the SIGINT handler", e))?;
    let mut terminate = signal(SignalKind::terminate())
        .map_err(|e| Failure::io("installing the SIGTERM handler", e))?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => tracing::info!("interrupted; shutting down"),
            _ = terminate.recv() => tracing::info!("terminated; shutting down"),
        }
    })
}

/// Serves `app` on `listener` until `shutdown` resolves, then drains (bounded by `DRAIN_TIMEOUT`).
pub(crate) async fn serve(
    app: App,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Failure> {
    let max_body_bytes = app.config().max_body_bytes;
    let router = Router::new().fallback(forward).with_state(Shared {
        app,
        max_body_bytes,
    });
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let mut graceful_rx = stop_rx.clone();
    let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server = axum::serve(listener, service).with_graceful_shutdown(async move {
        let _ = graceful_rx.wait_for(|stop| *stop).await;
    });
    let mut deadline_rx = stop_rx;
    tokio::select! {
        served = async { server.await } => served.map_err(|e| Failure::io("serving HTTP", e)),
        _ = async {
            let _ = deadline_rx.wait_for(|stop| *stop).await;
            tokio::time::sleep(DRAIN_TIMEOUT).await;
        } => {
            tracing::warn!(seconds = DRAIN_TIMEOUT.as_secs(), "requests still running after shutdown; dropping them");
            Ok(())
        }
    }
}

/// Every request: collect the body (bounded), call the engine, send its answer back.
async fn forward(State(shared): State<Shared>, ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>, request: Request) -> Response {
    let (mut parts, body) = request.into_parts();
    // The socket peer is the client here (no proxy in front of the local server).
    parts.extensions.insert(pgrest_core::ClientAddr(peer.ip()));
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|len| len > u64::try_from(shared.max_body_bytes).unwrap_or(u64::MAX)) {
        return too_large(shared.max_body_bytes);
    }
    let bytes: Bytes = match Limited::new(body, shared.max_body_bytes).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<LengthLimitError>() => return too_large(shared.max_body_bytes),
        Err(e) => {
            tracing::debug!(error = %e, "reading request body");
            return json_error(
                http::StatusCode::BAD_REQUEST,
                "Could not read the request body",
            );
        }
    };
    let response = shared
        .app
        .handle(http::Request::from_parts(parts, bytes))
        .await;
    response.map(Body::from)
}

fn too_large(limit: usize) -> Response {
    json_error(
        http::StatusCode::PAYLOAD_TOO_LARGE,
        &format!("Request body exceeds the limit of {limit} bytes"),
    )
}

fn json_error(status: http::StatusCode, message: &str) -> Response {
    let body =
        serde_json::json!({ "code": null, "details": null, "hint": null, "message": message });
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}
