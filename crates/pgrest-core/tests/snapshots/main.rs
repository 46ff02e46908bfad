//! Request → plan → SQL snapshots: representative requests through parse, plan and build against
//! the in-memory copy of the REST fixture's schema cache (no database), the generated SQL text
//! and bind parameters compared to `cases/<name>.snap`. A change to the planner or the SQL
//! writer shows up here as a readable diff in review.
//!
//! Update after an intended change: `UPDATE_SNAPSHOTS=1 cargo test -p pgrest-core --test snapshots`.
//! Must not need a database; it does not check that the SQL runs (the REST tests do).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "test code: a failed expectation is the test's answer")]

#[path = "../fuzz/cache.rs"]
mod cache;
mod cases;
mod render;

use bytes::Bytes;
use percent_encoding::{AsciiSet, CONTROLS};
use pgrest_core::api_request::{parse_request, ParseLimits};
use pgrest_core::plan::{self, PlanOptions};

/// What a URI cannot hold as is (`%` stays: no case writes one).
const URI_UNSAFE: &AsciiSet = &CONTROLS.add(b' ').add(b'"').add(b'#').add(b'<').add(b'>').add(b'`').add(b'{').add(b'}').add(b'|').add(b'\\').add(b'^');

/// The production defaults, as `Config` has them.
const LIMITS: ParseLimits =
    ParseLimits { max_body_bytes: 6 * 1024 * 1024, max_bulk_rows: 10_000, max_query_bytes: 16 * 1024, max_select_nodes: 200, max_embeds: 20 };

/// One request: a name (its snapshot file), method, path and query, headers, body.
pub struct Case {
    pub name: &'static str,
    pub method: &'static str,
    pub target: &'static str,
    pub headers: &'static [(&'static str, &'static str)],
    pub body: &'static str,
}

/// The snapshot text of one case: the request, the plan's decisions, the SQL and its parameters.
fn snapshot(case: &Case) -> String {
    // The snapshot shows the target as written; the URI carries it percent-encoded.
    let (path, query) = case.target.split_once('?').unwrap_or((case.target, ""));
    let query = percent_encoding::utf8_percent_encode(query, URI_UNSAFE);
    let mut builder = http::Request::builder().method(case.method).uri(format!("/rest/v1{path}?{query}"));
    for (name, value) in case.headers {
        builder = builder.header(*name, *value);
    }
    let request = builder.body(Bytes::from(case.body)).unwrap_or_else(|e| panic!("{}: request: {e}", case.name));
    let rest_path = request.uri().path().strip_prefix("/rest/v1").unwrap().to_string();
    let schemas = vec!["public".to_string(), "api".to_string()];
    let api = parse_request(&request, &rest_path, &schemas, LIMITS).unwrap_or_else(|e| panic!("{}: parse: {e:?}", case.name));
    let cache = cache::fixture();
    let options = PlanOptions { allow_unfiltered_mutations: false, max_embed_depth: 8 };
    let plan = plan::plan(&api, &cache, options).unwrap_or_else(|e| panic!("{}: plan: {e:?}", case.name));
    render::render(case, &plan)
}

#[test]
fn sql_matches_the_snapshots() {
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/cases");
    let mut failures = Vec::new();
    let mut names = std::collections::BTreeSet::new();
    for case in cases::CASES {
        assert!(names.insert(case.name), "duplicate case name {}", case.name);
        let actual = snapshot(case);
        let path = dir.join(format!("{}.snap", case.name));
        if update {
            std::fs::write(&path, &actual).unwrap();
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(expected) if expected == actual => {}
            Ok(expected) => failures.push(format!("{}: snapshot differs\n--- expected\n{expected}\n--- actual\n{actual}", case.name)),
            Err(e) => failures.push(format!("{}: {} unreadable ({e}); run with UPDATE_SNAPSHOTS=1", case.name, path.display())),
        }
    }
    // A snapshot file without a case is a leftover of a renamed or removed case.
    for entry in std::fs::read_dir(&dir).unwrap() {
        let file = entry.unwrap().file_name().to_string_lossy().into_owned();
        if let Some(name) = file.strip_suffix(".snap") {
            if !names.contains(name) {
                failures.push(format!("{file}: no case of that name (delete it)"));
            }
        }
    }
    assert!(failures.is_empty(), "{} snapshot(s) failed (UPDATE_SNAPSHOTS=1 rewrites them):\n\n{}", failures.len(), failures.join("\n\n"));
}
