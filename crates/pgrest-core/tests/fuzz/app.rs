//! The same generated requests through the in-process `App` against the test PostgreSQL (the
//! REST fixture): the whole pipeline, SQL included, must answer every one without a 5xx, and
//! every error as a JSON body with a code. Fewer cases than the in-memory properties (each case
//! is a database round trip): a twentieth of `PROPTEST_CASES`, at least 32.
//!
//! Must not share its database with other tests: it writes (as service_role) whatever it draws.

use std::sync::OnceLock;

use proptest::prelude::*;
use serde_json::json;

use crate::harness::{self, TestApp};
use crate::{generate, request};

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap())
}

fn test_app() -> &'static TestApp {
    static APP: OnceLock<TestApp> = OnceLock::new();
    APP.get_or_init(|| runtime().block_on(harness::app()))
}

fn cases() -> u32 {
    let all: u32 = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256);
    (all / 20).max(32)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn requests_through_the_app_never_answer_5xx(
        method in generate::method(),
        path in generate::path(),
        query in generate::query(),
        headers in generate::headers(),
        body in generate::body(),
        who in prop::sample::select(&["anon", "authenticated", "service_role"][..]),
    ) {
        let t = test_app();
        let mut headers = headers;
        if who != "anon" {
            let token = t.token(json!({"role": who, "sub": "00000000-0000-0000-0000-00000000000a"}));
            headers.push(("authorization", format!("Bearer {token}").into_bytes()));
        }
        let Some(request) = request(method, &path, &query, &headers, body) else { return Ok(()) };
        let response = runtime().block_on(t.app.handle(request));
        let status = response.status().as_u16();
        let text = String::from_utf8_lossy(response.body()).into_owned();
        prop_assert!(status < 500, "{method} {path}?{query} as {who}: {status} {text}");
        if status >= 400 {
            let body: serde_json::Value = serde_json::from_str(&text).map_err(|e| TestCaseError::fail(format!("{status} body not JSON ({e}): {text}")))?;
            prop_assert!(body["code"].as_str().is_some_and(|c| !c.is_empty()), "{status} without a code: {text}");
        }
    }
}
