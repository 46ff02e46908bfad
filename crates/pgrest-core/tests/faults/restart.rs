//! PostgreSQL going away under load: acknowledged writes survive, in-flight requests get 503
//! with PostgreSQL's or PostgREST's code (never 500), and the server recovers by itself.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::faults_app;
use crate::private::{send, Private};

/// The codes a request caught by the restart may carry: terminated by the shutdown (57P01),
/// its connection gone (PGRST001), or no connection to be had while the server is down (PGRST000).
const OUTAGE_CODES: [&str; 3] = ["57P01", "PGRST001", "PGRST000"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_survive_a_restart_and_the_server_recovers() {
    let mut private = Private::init();
    private.start_with_fixture();
    let app = private.app("", |c| c.pool_size = 4).await.expect("app");
    let next = Arc::new(AtomicI64::new(1));
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for _ in 0..6 {
        let (app, next, stop) = (app.clone(), next.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let id = next.fetch_add(1, Ordering::Relaxed);
                let (status, body) = send(&app, "POST", "/rest/v1/fault_writes", &[("content-type", "application/json")], &json!({"id": id}).to_string()).await;
                seen.push((id, status, body["code"].as_str().unwrap_or_default().to_string()));
                if status != 201 {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
            seen
        }));
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    private.restart(Duration::from_millis(500)).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, Ordering::Relaxed);
    let mut outcomes = Vec::new();
    for w in writers {
        outcomes.extend(w.await.expect("writer"));
    }

    let acknowledged: BTreeSet<i64> = outcomes.iter().filter(|(_, s, _)| *s == 201).map(|(id, _, _)| *id).collect();
    let failed: Vec<_> = outcomes.iter().filter(|(_, s, _)| *s != 201).collect();
    for (id, status, code) in &failed {
        assert_eq!(*status, 503, "write {id} failed with {status} {code}");
        assert!(OUTAGE_CODES.contains(&code.as_str()), "write {id}: 503 with code {code}");
    }
    let stored = private.cluster().psql("postgres", "SELECT id FROM fault_writes ORDER BY id").expect("select");
    let stored: BTreeSet<i64> = stored.lines().filter_map(|l| l.trim().parse().ok()).collect();
    let lost: Vec<_> = acknowledged.difference(&stored).collect();
    assert!(lost.is_empty(), "acknowledged but not stored: {lost:?}");
    eprintln!(
        "restart: {} writes, {} acknowledged, {} failed ({:?})",
        outcomes.len(),
        acknowledged.len(),
        failed.len(),
        failed.iter().map(|(_, _, c)| c.as_str()).collect::<BTreeSet<_>>()
    );
    assert!(!failed.is_empty(), "the restart was noticed by some request");
    let last_failure = failed.iter().map(|(id, _, _)| *id).max().unwrap();
    assert!(acknowledged.iter().any(|id| *id > last_failure), "writes succeed again after the restart");

    // And with no restart of our server: reads and writes work.
    let (status, _) = send(&app, "POST", "/rest/v1/fault_writes", &[("content-type", "application/json")], r#"{"id": -1}"#).await;
    assert_eq!(status, 201);
    let (status, body) = send(&app, "GET", "/rest/v1/fault_writes?id=eq.-1", &[], "").await;
    assert_eq!((status, body), (200, json!([{"id": -1}])));
}

#[tokio::test]
async fn a_terminated_backend_is_503_57p01_and_the_pool_recovers() {
    let t = faults_app(|c| c.pool_size = 1).await;
    let database = t.database_url.rsplit('/').next().unwrap().to_string();
    let app = t.app.clone();
    let slow = tokio::spawn(async move { send(&app, "POST", "/rest/v1/rpc/sleep_for", &[("content-type", "application/json")], r#"{"seconds": 10}"#).await });
    let mut terminated = String::new();
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        terminated = t.sql(&format!(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '{database}' AND query LIKE '%sleep_for%' AND pid <> pg_backend_pid()"
        ));
        if terminated == "1" {
            break;
        }
    }
    assert_eq!(terminated, "1");
    let (status, body) = slow.await.unwrap();
    assert_eq!((status, body["code"].as_str()), (503, Some("57P01")), "{body}");
    let r = t.get("/rest/v1/fault_items?select=id").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!([{"id": 1}]));
}
