//! Fault tests: the statement cache's bounds, PostgreSQL restarted under writes, injected
//! serialization failures, timeouts, pool exhaustion, a database that is down, TLS to the
//! database, and requests dropped half-way. Real PostgreSQL throughout; no mocks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "test code: a failed expectation is the test's answer")]

#[path = "../rest/harness.rs"]
#[allow(dead_code, reason = "shared with the rest suite; this suite uses part of it")]
mod harness;

mod cache;
mod down;
mod private;
mod restart;
mod retry;
mod timeouts;
mod tls;

use harness::TestApp;
use pgrest_core::Config;

/// A test database with the fault fixture loaded and the schema cache reloaded to see it.
pub async fn faults_app(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let t = harness::app_with(adjust).await;
    t.sql(include_str!("../fixtures/faults.sql"));
    t.app.reload_schema().await.expect("reload");
    t
}

/// Resident memory of a process in KiB (`VmRSS` in /proc/<pid>/status).
pub fn rss_kib(pid: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS")
}
