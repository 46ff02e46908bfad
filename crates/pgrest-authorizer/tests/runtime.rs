//! The `pgrest-authorizer` binary end to end: it refuses a weak secret at start (V-01), and
//! under a stand-in for the Lambda Runtime API it answers fixtures with a policy or with the
//! invocation error `{"errorType":"Unauthorized","errorMessage":"Unauthorized"}`.
//!
//! Must not need AWS; the stand-in speaks only the four Runtime API routes the runtime uses.

#![cfg(test)]

#[path = "../../pgrest-api/tests/support/runtime_api.rs"]
mod runtime_api;

use std::path::PathBuf;
use std::time::Duration;

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
    let mut runtime = runtime_api::start("pgrest-authorizer", names.iter().map(|name| fixture_text(name))).await;

    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_pgrest-authorizer"))
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", runtime.address.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "pgrest-authorizer")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("JWT_SECRET", TEST_SECRET)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();

    let results = runtime.outcomes(names.len(), Duration::from_secs(60)).await;
    child.kill().await.unwrap();

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
