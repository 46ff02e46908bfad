//! One log line per auth event (action, user id, outcome), inside the request's span so it carries
//! the request id; the id is echoed in `x-request-id` (V-23).

use std::sync::{Arc, Mutex};

use crate::harness::*;

/// Log lines written on this thread while the guard lives.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

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
    fn start(&self) -> tracing::subscriber::DefaultGuard {
        let writer = self.clone();
        let subscriber = tracing_subscriber::fmt().with_ansi(false).with_max_level(tracing::Level::INFO).with_writer(move || writer.clone()).finish();
        tracing::subscriber::set_default(subscriber)
    }

    fn events(&self) -> Vec<String> {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap().lines().filter(|l| l.contains("auth event")).map(str::to_string).collect()
    }
}

#[tokio::test]
async fn sign_up_and_sign_in_log_one_line_each_with_the_request_id() {
    let t = Setup::new().start().await;
    let e = email("events");
    let logs = Captured::default();
    let guard = logs.start();
    let session = t.signup(&e, PASSWORD).await;
    let ok = t.post("/token?grant_type=password").header("x-request-id", "signin-1").json(serde_json::json!({"email": e, "password": PASSWORD})).send().await;
    let wrong = t.post("/token?grant_type=password").header("x-request-id", "signin-2").json(serde_json::json!({"email": e, "password": "not it"})).send().await;
    let settings = t.get("/settings").send().await;
    drop(guard);
    assert_eq!((ok.status, wrong.status, settings.status), (200, 400, 200));
    assert_eq!(ok.header("x-request-id"), Some("signin-1"));
    assert_eq!(wrong.header("x-request-id"), Some("signin-2"));
    let events = logs.events();
    assert_eq!(events.len(), 3, "settings is not an event: {events:#?}");
    let [signup, signin, failed] = [&events[0], &events[1], &events[2]];
    let user = format!("user_id=\"{}\"", session.user_id);
    for (line, parts) in [
        (signup, vec!["action=\"signup\"", user.as_str(), "status=200", "outcome=\"ok\""]),
        (signin, vec!["request{request_id=signin-1}", "action=\"token:password\"", user.as_str(), "outcome=\"ok\""]),
        (failed, vec!["request{request_id=signin-2}", "action=\"token:password\"", "user_id=\"-\"", "status=400", "outcome=\"invalid_credentials\""]),
    ] {
        for part in parts {
            assert!(line.contains(part), "{part} missing in {line}");
        }
    }
    assert!(!events.iter().any(|l| l.contains(&e) || l.contains(PASSWORD)), "no address or password in logs: {events:#?}");
}
