//! Observability: one request id on every log line of a request and in `x-request-id`; one line
//! per mutation; concurrent `_refresh` callers sharing one schema reload (V-15, V-23).

use std::sync::{Arc, Mutex};

use serde_json::json;

use crate::harness::app;

/// Log lines written while the guard lives (this thread only; tests run on a current-thread runtime).
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    pub fn start(&self) -> tracing::subscriber::DefaultGuard {
        let writer = self.clone();
        let subscriber = tracing_subscriber::fmt().with_ansi(false).with_max_level(tracing::Level::INFO).with_writer(move || writer.clone()).finish();
        tracing::subscriber::set_default(subscriber)
    }

    pub fn lines(&self) -> Vec<String> {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap().lines().map(str::to_string).collect()
    }
}

#[tokio::test]
async fn every_line_of_a_request_carries_its_id_and_the_response_echoes_it() {
    let t = app().await;
    let user = t.token(json!({"role": "authenticated"}));
    let logs = Captured::default();
    let guard = logs.start();
    let r = t
        .send("POST", "/rest/v1/tags", &[("authorization", &format!("Bearer {user}")), ("x-request-id", "client-id-42")], r#"[{"id": 91, "label": "a"}, {"id": 92, "label": "b"}]"#)
        .await;
    drop(guard);
    assert_eq!(r.status, 201);
    assert_eq!(r.header("x-request-id"), Some("client-id-42"));
    let lines = logs.lines();
    let mutation: Vec<&String> = lines.iter().filter(|l| l.contains(" mutation ")).collect();
    assert_eq!(mutation.len(), 1, "{lines:#?}");
    let line = mutation.first().unwrap();
    for part in ["request{request_id=client-id-42}", "method=POST", "table=public.tags", "rows=2", "role=authenticated", "outcome=Commit"] {
        assert!(line.contains(part), "{part} missing in {line}");
    }
    assert!(lines.iter().all(|l| l.contains("request_id=client-id-42")), "{lines:#?}");
}

#[tokio::test]
async fn failures_and_reads_get_a_generated_id_when_the_client_id_is_unsafe() {
    let t = app().await;
    let logs = Captured::default();
    let guard = logs.start();
    // A failed mutation (anon may not insert) logs its SQLSTATE.
    let r = t.send("POST", "/rest/v1/users", &[("x-request-id", "bad id with spaces")], r#"{"id": 9, "name": "x"}"#).await;
    drop(guard);
    assert_eq!(r.status, 401);
    let id = r.header("x-request-id").unwrap().to_string();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    let lines = logs.lines();
    let failed: Vec<&String> = lines.iter().filter(|l| l.contains("mutation failed")).collect();
    assert_eq!(failed.len(), 1, "{lines:#?}");
    assert!(failed.iter().all(|l| l.contains(&format!("request_id={id}")) && l.contains("code=\"42501\"") && l.contains("role=anon")), "{lines:#?}");
    // A read logs no mutation line but still answers with an id.
    let r = t.get("/rest/v1/users?select=id&id=eq.1").await;
    assert_eq!(r.status, 200);
    assert!(r.header("x-request-id").is_some_and(|id| uuid::Uuid::parse_str(id).is_ok()));
}

#[tokio::test]
async fn concurrent_refreshes_share_one_reload() {
    let t = app().await;
    let service = format!("Bearer {}", t.token(json!({"role": "service_role"})));
    t.sql("create table arrived_later (id int primary key); grant select on arrived_later to anon;");
    let mut callers = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let app = t.app.clone();
        let service = service.clone();
        callers.spawn(async move {
            let request = http::Request::builder().method("POST").uri("/rest/v1/_refresh").header("authorization", service).body(bytes::Bytes::new()).unwrap();
            app.handle(request).await.status().as_u16()
        });
    }
    let mut statuses = Vec::new();
    while let Some(status) = callers.join_next().await {
        statuses.push(status.unwrap());
    }
    assert_eq!(statuses, vec![200; 16]);
    // The first caller's reload, plus at most one more for those who arrived while it ran.
    let runs = t.app.schema_reloads();
    assert!((1..=2).contains(&runs), "16 concurrent refreshes ran {runs} reloads");
    assert_eq!(t.get("/rest/v1/arrived_later").await.status, 200);
    // A later refresh is not skipped.
    let r = t.send("POST", "/rest/v1/_refresh", &[("authorization", &service)], "").await;
    assert_eq!(r.status, 200);
    assert_eq!(t.app.schema_reloads(), runs + 1);
}
