//! Time limits: a statement past the statement timeout, a pool with no free connection, and a
//! request dropped half-way through its transaction.

use std::time::Duration;

use serde_json::json;

use crate::faults_app;
use crate::private::send;

#[tokio::test]
async fn statement_timeout_is_500_57014() {
    let t = faults_app(|c| c.statement_timeout = Duration::from_millis(200)).await;
    let started = std::time::Instant::now();
    let r = t.send("POST", "/rest/v1/rpc/sleep_for", &[("content-type", "application/json")], r#"{"seconds": 5}"#).await;
    assert_eq!(r.status, 500, "{:?}", r.body);
    assert_eq!(r.json()["code"], "57014");
    assert!(started.elapsed() < Duration::from_secs(4), "cancelled by the timeout, not finished");
    let r = t.send("POST", "/rest/v1/rpc/sleep_for", &[("content-type", "application/json")], r#"{"seconds": 0.01}"#).await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn pool_exhaustion_is_504_pgrst003() {
    let t = faults_app(|c| {
        c.pool_size = 1;
        c.pool_acquisition_timeout = Duration::from_millis(300);
    })
    .await;
    let app = t.app.clone();
    let slow = tokio::spawn(async move { send(&app, "POST", "/rest/v1/rpc/sleep_for", &[("content-type", "application/json")], r#"{"seconds": 2}"#).await });
    wait_until_running(&t, "sleep_for").await;
    let started = std::time::Instant::now();
    let r = t.get("/rest/v1/fault_items").await;
    assert_eq!(r.status, 504, "{:?}", r.body);
    assert_eq!(r.json(), json!({"code": "PGRST003", "message": "Timed out acquiring connection from connection pool.", "details": null, "hint": null}));
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(slow.await.unwrap().0, 200);
    assert_eq!(t.get("/rest/v1/fault_items?select=id").await.status, 200);
}

#[tokio::test]
async fn a_dropped_request_leaves_nothing_half_done() {
    let t = faults_app(|c| {
        c.pool_size = 1;
        // The anonymous role's shorter timeout (3 s by default) would cancel the 3 s sleep.
        c.anon_statement_timeout = None;
    })
    .await;
    // The caller gives up while the function sleeps between its two inserts.
    let call = t.send("POST", "/rest/v1/rpc/insert_then_sleep", &[("content-type", "application/json")], r#"{"n": 1, "seconds": 3}"#);
    assert!(tokio::time::timeout(Duration::from_millis(500), call).await.is_err(), "the request was still running");
    assert_eq!(t.sql("SELECT count(*) FROM dropped"), "0", "nothing visible mid-transaction");
    // The transaction runs to its end on its own; the one connection comes back clean.
    let r = t.get("/rest/v1/fault_items?select=id").await;
    assert_eq!(r.status, 200);
    assert_eq!(t.sql("SELECT string_agg(id::text, ',' ORDER BY id) FROM dropped"), "1,1001");
    let database = t.database_url.rsplit('/').next().unwrap().to_string();
    assert_eq!(t.sql(&format!("SELECT count(*) FROM pg_stat_activity WHERE datname = '{database}' AND state LIKE 'idle in transaction%'")), "0");
}

/// Waits until a statement mentioning `needle` runs on the test's database (the one connection).
async fn wait_until_running(t: &crate::harness::TestApp, needle: &str) {
    let database = t.database_url.rsplit('/').next().unwrap().to_string();
    for _ in 0..200 {
        let running = t.sql(&format!(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = '{database}' AND state = 'active' AND query LIKE '%{needle}%' AND pid <> pg_backend_pid()"
        ));
        if running == "1" {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{needle} never started");
}
