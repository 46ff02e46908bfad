//! Property-based tests of the parse and plan stages: generated query strings, headers
//! (`Range`, `Prefer`, `Accept`, `Content-Type`, `Accept-Profile`, `Content-Profile`) and
//! bodies, through `parse_request`, `plan_request` (against the fixture's schema cache, built in
//! memory) and the SQL builder. Nothing may panic, and every rejection must be a client error
//! with a PostgREST code, as the one error table renders it. `app.rs` sends the same kind of
//! requests through the in-process App against the test PostgreSQL: never a 5xx.
//!
//! The number of cases is proptest's: 256 by default (`make test`), `PROPTEST_CASES` for a long
//! campaign (`make fuzz`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "test code: a failed expectation is the test's answer")]

mod app;
mod cache;
mod generate;
#[path = "../rest/harness.rs"]
#[expect(dead_code, reason = "the REST tests' harness, shared: this binary uses only its App and tokens")]
mod harness;

use std::sync::OnceLock;

use bytes::Bytes;
use percent_encoding::{AsciiSet, CONTROLS};
use pgrest_core::api_request::{parse_request, ParseLimits};
use pgrest_core::error::Error;
use pgrest_core::plan::{plan_request, PlanOptions};
use pgrest_core::response::content_range;
use pgrest_core::schema_cache::SchemaCache;
use pgrest_core::sql::{self, BodyShape};
use proptest::prelude::*;

/// What a URI cannot hold as is; `%` stays raw so escapes (good and bad) reach the parser.
const URI_UNSAFE: &AsciiSet =
    &CONTROLS.add(b' ').add(b'"').add(b'#').add(b'<').add(b'>').add(b'`').add(b'{').add(b'}').add(b'|').add(b'\\').add(b'^').add(b'?');

/// The production defaults, as `Config` has them.
const LIMITS: ParseLimits =
    ParseLimits { max_body_bytes: 6 * 1024 * 1024, max_bulk_rows: 10_000, max_query_bytes: 16 * 1024, max_select_nodes: 200, max_embeds: 20 };

fn schema_cache() -> &'static SchemaCache {
    static CACHE: OnceLock<SchemaCache> = OnceLock::new();
    CACHE.get_or_init(cache::fixture)
}

fn schemas() -> Vec<String> {
    vec!["public".to_string(), "api".to_string()]
}

/// The request as a runner would hand it to the App; `None` when `http` itself refuses it.
pub(crate) fn request(method: &str, path: &str, query: &str, headers: &[(&str, Vec<u8>)], body: Vec<u8>) -> Option<http::Request<Bytes>> {
    let encode = |s: &str| percent_encoding::utf8_percent_encode(s, URI_UNSAFE).to_string();
    let uri = format!("/rest/v1{}?{}", encode(path), encode(query));
    let mut builder = http::Request::builder().method(http::Method::from_bytes(method.as_bytes()).ok()?).uri(uri);
    for (name, value) in headers {
        if let Ok(value) = http::HeaderValue::from_bytes(value) {
            builder = builder.header(*name, value);
        }
    }
    builder.body(Bytes::from(body)).ok()
}

/// A rejection must be a 4xx (or PostgREST's 300 for ambiguity) carrying a PostgREST code.
fn assert_client_error(error: Error) -> Result<(), TestCaseError> {
    let response = error.to_response(false);
    let status = response.status().as_u16();
    let body: serde_json::Value = serde_json::from_slice(response.body()).map_err(|e| TestCaseError::fail(format!("body not JSON: {e}")))?;
    let code = body["code"].as_str().unwrap_or_default().to_string();
    let ambiguous = status == 300 && (code == "PGRST201" || code == "PGRST203");
    prop_assert!((400..500).contains(&status) || ambiguous, "status {status} for {error:?}: {body}");
    // 21000 is PostgREST's own answer to an unfiltered PATCH/DELETE (as pg-safeupdate's).
    prop_assert!(code.starts_with("PGRST") || code == "21000", "code {code:?} for {error:?}");
    prop_assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "no message: {body}");
    Ok(())
}

/// Parse, plan and build; every failure along the way checked as a client error.
fn run_stages(request: &http::Request<Bytes>) -> Result<(), TestCaseError> {
    let rest_path = request.uri().path().strip_prefix("/rest/v1").unwrap_or("/").to_string();
    let api = match parse_request(request, &rest_path, &schemas(), LIMITS) {
        Ok(api) => api,
        Err(e) => return assert_client_error(Error::from(e)),
    };
    let options = PlanOptions { allow_unfiltered_mutations: false, max_embed_depth: 8 };
    let plan = match plan_request(&api, schema_cache(), options) {
        Ok(plan) => plan,
        Err(e) => return assert_client_error(Error::from(e)),
    };
    for shape in [BodyShape::Array { strip_nulls: false }, BodyShape::Array { strip_nulls: true }, BodyShape::Object, BodyShape::None] {
        for count in [false, true] {
            if let Some(statement) = sql::build(&plan, shape, count) {
                prop_assert!(!statement.text.is_empty());
            }
        }
    }
    Ok(())
}

/// Any int8, with the edges (where arithmetic overflows) drawn often.
fn edgy_i64() -> impl Strategy<Value = i64> {
    prop_oneof![any::<i64>(), Just(0), Just(1), Just(i64::MAX), Just(i64::MAX - 1), Just(i64::MIN), 0..16i64]
}

proptest! {
    #[test]
    fn query_strings_never_panic_and_are_refused_as_client_errors(query in generate::query(), path in generate::path(), method in generate::method()) {
        if let Some(request) = request(method, &path, &query, &[], Vec::new()) {
            run_stages(&request)?;
        }
    }

    #[test]
    fn headers_never_panic_and_are_refused_as_client_errors(headers in generate::headers(), query in generate::query(), method in generate::method(), path in generate::path()) {
        if let Some(request) = request(method, &path, &query, &headers, Vec::new()) {
            run_stages(&request)?;
        }
    }

    #[test]
    fn bodies_never_panic_and_are_refused_as_client_errors(
        body in generate::body(),
        headers in generate::headers(),
        method in prop::sample::select(&["POST", "PATCH", "PUT"][..]),
        path in generate::path(),
        query in generate::query(),
    ) {
        if let Some(request) = request(method, &path, &query, &headers, body) {
            run_stages(&request)?;
        }
    }

    #[test]
    fn range_headers_at_any_numbers_never_panic(from in edgy_i64(), to in edgy_i64(), unit in prop::sample::select(&["", "items="][..])) {
        let headers = vec![("range", format!("{unit}{from}-{to}").into_bytes())];
        let request = request("GET", "/users", "select=id&limit=9223372036854775807&offset=9223372036854775807", &headers, Vec::new()).unwrap();
        run_stages(&request)?;
    }

    #[test]
    fn content_range_never_overflows(offset in edgy_i64(), rows in edgy_i64(), total in any::<Option<i64>>()) {
        let text = content_range(offset, rows, total);
        prop_assert!(!text.is_empty());
    }
}

/// The pipeline's own fixed examples, so a regression in the generators cannot hide them.
#[test]
fn known_edge_cases_are_client_errors_or_plans() {
    /// (method, path, query, headers)
    type Case = (&'static str, &'static str, &'static str, &'static [(&'static str, &'static str)]);
    let cases: &[Case] = &[
        ("GET", "/users", "", &[("range", "0-9223372036854775807")]),
        ("GET", "/users", "select=id", &[("range", "9223372036854775807-9223372036854775807")]),
        ("GET", "/users", "limit=9223372036854775807&offset=9223372036854775807", &[]),
        ("GET", "/users", "select=posts(id)&posts.limit=9223372036854775807&posts.offset=9223372036854775807", &[]),
        ("POST", "/posts", "select=*", &[("prefer", "max-affected=9223372036854775807"), ("content-type", "text/csv")]),
        ("GET", "/users", "select=a:posts(b:users(c:posts(d:users(e:posts(f:users(g:posts(h:users(i:posts(id)))))))))", &[]),
    ];
    for (method, path, query, headers) in cases {
        let headers: Vec<(&str, Vec<u8>)> = headers.iter().map(|(k, v)| (*k, v.as_bytes().to_vec())).collect();
        let request = request(method, path, query, &headers, b"{}".to_vec()).unwrap();
        run_stages(&request).unwrap();
    }
}
