//! The `pgrest-authorizer` binary end to end: it refuses a weak secret at start (V-01), and
//! under a stand-in for the Lambda Runtime API it answers fixtures with a policy or with the
//! invocation error `{"errorType":"Unauthorized","errorMessage":"Unauthorized"}`.
//!
//! Must not need AWS; the stand-in speaks only the four Runtime API routes the runtime uses.

#![cfg(test)]

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use bytes::Bytes;
use serde_json::Value;
use tokio::sync::mpsc;

const TEST_SECRET: &str = "pgrest-lambda-test-secret-0123456789abcdef";

#[test]
fn refuses_to_start_with_a_weak_secret() {
    for secret in [None, Some(""), Some("0123456789abcdef0123456789abcde")] {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_pgrest-authorizer"));
        command.env_clear().env("LOG_FORMAT", "json");
        if let Some(secret) = secret {
            command.env("JWT_SECRET", secret);
        }
        let output = command.output().unwrap();
        assert!(!output.status.success(), "{secret:?}");
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(all.contains("refused to start"), "{all}");
        assert!(all.contains("at least 32 characters"), "{all}");
    }
}

#[derive(Clone)]
struct Emulator {
    queue: Arc<Mutex<VecDeque<(String, String)>>>,
    results: mpsc::UnboundedSender<(String, String, Value)>,
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
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:eu-west-1:123456789012:function:pgrest-authorizer"
            .parse()
            .unwrap(),
    );
    headers.insert("content-type", "application/json".parse().unwrap());
    (headers, body)
}

async fn record(emulator: &Emulator, kind: &str, id: String, body: Bytes) -> &'static str {
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let _ = emulator.results.send((kind.to_string(), id, value));
    ""
}

fn fixture_text(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../events")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

#[tokio::test]
async fn answers_events_under_the_runtime_api() {
    let names = [
        "authorizer-valid-user.json",
        "authorizer-expired.json",
        "authorizer-alg-none.json",
        "authorizer-anon.json",
    ];
    let queue: VecDeque<(String, String)> = names
        .iter()
        .enumerate()
        .map(|(i, name)| (format!("req-{i}"), fixture_text(name)))
        .collect();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let emulator = Emulator {
        queue: Arc::new(Mutex::new(queue)),
        results: tx,
    };
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(
                |State(e): State<Emulator>, Path(id): Path<String>, body: Bytes| async move {
                    record(&e, "response", id, body).await
                },
            ),
        )
        .route(
            "/2018-06-01/runtime/invocation/{id}/error",
            post(
                |State(e): State<Emulator>, Path(id): Path<String>, body: Bytes| async move {
                    record(&e, "error", id, body).await
                },
            ),
        )
        .route(
            "/2018-06-01/runtime/init/error",
            post(|State(e): State<Emulator>, body: Bytes| async move {
                record(&e, "init-error", String::new(), body).await
            }),
        )
        .with_state(emulator);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_pgrest-authorizer"))
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "pgrest-authorizer")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("JWT_SECRET", TEST_SECRET)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();

    let mut results = Vec::new();
    while results.len() < names.len() {
        let result = tokio::time::timeout(Duration::from_secs(60), rx.recv())
            .await
            .unwrap()
            .unwrap();
        results.push(result);
    }
    child.kill().await.unwrap();
    results.sort_by(|a, b| a.1.cmp(&b.1));

    let unauthorized = serde_json::json!({ "errorType": "Unauthorized", "errorMessage": "Unauthorized" });
    let (kind, _, body) = &results[0];
    assert_eq!(kind, "response");
    assert_eq!(body["context"]["role"], "authenticated");
    assert_eq!(body["policyDocument"]["Statement"][0]["Effect"], "Allow");
    assert_eq!(results[1].0, "error");
    assert_eq!(results[1].2, unauthorized);
    assert_eq!(results[2].0, "error");
    assert_eq!(results[2].2, unauthorized);
    assert_eq!(results[3].0, "response");
    assert_eq!(results[3].2["context"]["role"], "anon");
}
