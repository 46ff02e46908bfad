//! The per-connection statement cache stays bounded under many distinct request shapes
//! (select aliases are client-chosen and part of the SQL text), and a miss leaks nothing.

use serde_json::Value;

use crate::{faults_app, rss_kib};

/// Distinct shapes to send; `PGREST_FAULTS_SHAPES=50000` for the measurement in the closing note.
fn shapes() -> usize {
    std::env::var("PGREST_FAULTS_SHAPES").ok().and_then(|v| v.parse().ok()).unwrap_or(3000)
}

const CACHE_SIZE: usize = 64;

#[tokio::test]
async fn distinct_shapes_keep_backend_and_server_memory_flat() {
    let t = faults_app(|c| {
        c.pool_size = 1;
        c.statement_cache_size = CACHE_SIZE;
    })
    .await;
    let stats = |v: Value| (v["pid"].to_string(), v["prepared"].as_i64().unwrap(), v["bytes"].as_i64().unwrap());
    let total = shapes();
    let warmup = 500.min(total);
    let mut at_warmup = None;
    for i in 0..total {
        let r = t.get(&format!("/rest/v1/fault_items?select=a{i}:id,b{i}:name")).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        if i + 1 == warmup {
            let last = t.get("/rest/v1/rpc/backend_stats").await.json();
    eprintln!("largest memory contexts: {}", last["top"]);
    let (pid, prepared, bytes) = stats(last);
            at_warmup = Some((pid.clone(), prepared, bytes, rss_kib(&pid), rss_kib("self")));
        }
    }
    let (pid0, prepared0, bytes0, backend_rss0, server_rss0) = at_warmup.unwrap();
    let last = t.get("/rest/v1/rpc/backend_stats").await.json();
    eprintln!("largest memory contexts: {}", last["top"]);
    let (pid, prepared, bytes) = stats(last);
    let (backend_rss, server_rss) = (rss_kib(&pid), rss_kib("self"));
    eprintln!(
        "statement cache: {total} shapes; after {warmup}: prepared {prepared0}, contexts {} KiB, backend RSS {backend_rss0} KiB, server RSS {server_rss0} KiB; \
         after {total}: prepared {prepared}, contexts {} KiB, backend RSS {backend_rss} KiB, server RSS {server_rss} KiB",
        bytes0 / 1024,
        bytes / 1024
    );
    // Past 5,000 distinct statements a connection is retired (PostgreSQL keeps each distinct row
    // type for the session's life), so the backend at the end may be a newer one; the old ones
    // are gone.
    let database = t.database_url.rsplit('/').next().unwrap().to_string();
    let backends = t.sql(&format!("SELECT count(*) FROM pg_stat_activity WHERE datname = '{database}' AND pid <> pg_backend_pid()"));
    eprintln!("backend at warmup {pid0}, at the end {pid}; {backends} backend(s) on the database");
    assert_eq!(backends, "1", "one pooled connection, retired ones closed");
    // The cache holds at most CACHE_SIZE request statements, plus the settings statement and
    // this probe; nothing is left behind by misses.
    let bound = i64::try_from(CACHE_SIZE).unwrap() + 2;
    assert!(prepared <= bound, "{prepared} prepared statements on the backend (bound {bound})");
    assert!(bytes - bytes0 < 4 << 20, "backend memory contexts grew by {} KiB", (bytes - bytes0) / 1024);
}

#[tokio::test]
async fn least_recently_used_statement_is_closed_on_the_server() {
    let t = faults_app(|c| {
        c.pool_size = 1;
        c.statement_cache_size = 3;
    })
    .await;
    // a is used again before d comes in, so b is the one closed; then the probe's own
    // statement pushes out c.
    for alias in ["a", "b", "c", "a", "d"] {
        assert_eq!(t.get(&format!("/rest/v1/fault_items?select={alias}:id")).await.status, 200);
    }
    let items: Vec<String> = t.get("/rest/v1/rpc/backend_stats").await.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    assert_eq!(items.len(), 2, "{items:?}");
    assert!(items.iter().any(|s| s.contains("AS \"a\"")) && items.iter().any(|s| s.contains("AS \"d\"")), "a and d kept: {items:?}");
}

#[tokio::test]
async fn cache_size_zero_keeps_no_request_statement() {
    let t = faults_app(|c| {
        c.pool_size = 1;
        c.statement_cache_size = 0;
    })
    .await;
    for _ in 0..3 {
        let r = t.get("/rest/v1/fault_items?select=x:id");
        assert_eq!(r.await.status, 200);
    }
    assert_eq!(t.get("/rest/v1/rpc/backend_stats").await.json()["items"], serde_json::json!([]));
}
