//! A stand-in for the Lambda Runtime API: serves queued events on `invocation/next` and records
//! what the runtime posts back (`response`, `error`, `init/error`). Shared by the API and the
//! authorizer binaries' tests (the authorizer includes this file with `#[path]`).
//!
//! Must not need AWS or grow beyond the four routes `lambda_runtime` uses.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use bytes::Bytes;
use serde_json::Value;
use tokio::sync::mpsc;

/// What the runtime posted for one invocation: the route kind, the request id, the JSON body.
pub type Outcome = (String, String, Value);

#[derive(Clone)]
struct Emulator {
    function_arn: String,
    queue: Arc<Mutex<VecDeque<(String, String)>>>,
    results: mpsc::UnboundedSender<Outcome>,
}

/// A running stand-in: point `AWS_LAMBDA_RUNTIME_API` at `address`.
pub struct RuntimeApi {
    pub address: SocketAddr,
    results: mpsc::UnboundedReceiver<Outcome>,
}

/// Starts the stand-in with `events` queued as invocations `req-0`, `req-1`, ...
pub async fn start(function: &str, events: impl IntoIterator<Item = String>) -> RuntimeApi {
    let queue = events.into_iter().enumerate().map(|(i, event)| (format!("req-{i}"), event)).collect();
    let (tx, results) = mpsc::unbounded_channel();
    let emulator = Emulator {
        function_arn: format!("arn:aws:lambda:eu-west-1:123456789012:function:{function}"),
        queue: Arc::new(Mutex::new(queue)),
        results: tx,
    };
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(|State(e): State<Emulator>, Path(id): Path<String>, body: Bytes| async move {
                record(&e, "response", id, body)
            }),
        )
        .route(
            "/2018-06-01/runtime/invocation/{id}/error",
            post(|State(e): State<Emulator>, Path(id): Path<String>, body: Bytes| async move {
                record(&e, "error", id, body)
            }),
        )
        .route(
            "/2018-06-01/runtime/init/error",
            post(|State(e): State<Emulator>, body: Bytes| async move { record(&e, "init-error", String::new(), body) }),
        )
        .with_state(emulator);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    RuntimeApi { address, results }
}

impl RuntimeApi {
    /// Waits for `count` outcomes (each within `patience`), sorted by request id.
    pub async fn outcomes(&mut self, count: usize, patience: Duration) -> Vec<Outcome> {
        let mut outcomes = Vec::new();
        while outcomes.len() < count {
            let outcome = tokio::time::timeout(patience, self.results.recv())
                .await
                .unwrap_or_else(|_| panic!("no answer from the function within {patience:?}"))
                .unwrap();
            outcomes.push(outcome);
        }
        outcomes.sort_by(|a, b| a.1.cmp(&b.1));
        outcomes
    }
}

async fn next(State(emulator): State<Emulator>) -> (HeaderMap, String) {
    let item = emulator.queue.lock().unwrap().pop_front();
    let Some((id, body)) = item else {
        // No more events: keep the runtime waiting, as Lambda does between invocations.
        return std::future::pending::<(HeaderMap, String)>().await;
    };
    let deadline = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() + 30_000;
    let mut headers = HeaderMap::new();
    headers.insert("lambda-runtime-aws-request-id", id.parse().unwrap());
    headers.insert("lambda-runtime-deadline-ms", deadline.to_string().parse().unwrap());
    headers.insert("lambda-runtime-invoked-function-arn", emulator.function_arn.parse().unwrap());
    headers.insert("content-type", "application/json".parse().unwrap());
    (headers, body)
}

fn record(emulator: &Emulator, kind: &str, id: String, body: Bytes) -> &'static str {
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let _ = emulator.results.send((kind.to_string(), id, value));
    ""
}
