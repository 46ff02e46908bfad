//! A failed send leaves nothing behind: sign-up, resend, recovery, magic link and email change
//! with the mail server down answer an error and the same request succeeds once it is back.

use serde_json::json;

use crate::harness::*;

async fn users_with(t: &TestAuth, e: &str) -> i64 {
    t.query_one("SELECT count(*) FROM auth.users WHERE email = $1", &[&e]).await.get(0)
}

#[tokio::test]
async fn signup_with_the_mail_server_down_creates_no_user_and_a_retry_succeeds() {
    let t = Setup::new().autoconfirm(false).start().await;
    let e = email("down");
    t.mail_down(true);
    let r = t.post("/signup").json(json!({"email": e, "password": PASSWORD})).send().await;
    r.expect_code(500, "unexpected_failure");
    assert_eq!(users_with(&t, &e).await, 0, "no half-created user");
    let tokens: i64 = t.query_one("SELECT count(*) FROM auth.one_time_tokens WHERE relates_to = $1", &[&e]).await.get(0);
    assert_eq!(tokens, 0);

    t.mail_down(false);
    let body = t.post("/signup").json(json!({"email": e, "password": PASSWORD})).send().await.expect(200);
    assert_eq!(body["email"], e);
    assert_eq!(users_with(&t, &e).await, 1);
    let link = t.link_for(&e);
    assert_eq!(t.get(&TestAuth::local_path(&link)).send().await.status, 303);
    t.sign_in(&e, PASSWORD).await;
}

#[tokio::test]
async fn failed_sends_cost_no_mail_quota_and_leave_no_tokens() {
    let t = Setup::new()
        .autoconfirm(false)
        .configure(|c| c.limits.email_per_address = pgrest_auth::ratelimit::Limit { max: 2, per: std::time::Duration::from_secs(3600) })
        .start()
        .await;
    let e = email("quota");
    t.post("/signup").json(json!({"email": e, "password": PASSWORD})).send().await.expect(200);
    t.get(&TestAuth::local_path(&t.link_for(&e))).send().await;
    let before: i64 = t.query_one("SELECT count(*) FROM auth.one_time_tokens", &[]).await.get(0);
    let sent_at = "SELECT recovery_sent_at IS NULL FROM auth.users WHERE email = $1";
    t.mail_down(true);
    // More failed attempts than the per-address quota: each a 500, none counted.
    for _ in 0..3 {
        t.post("/recover").json(json!({"email": e})).send().await.expect_code(500, "unexpected_failure");
        t.post("/otp").json(json!({"email": e})).send().await.expect_code(500, "unexpected_failure");
    }
    let after: i64 = t.query_one("SELECT count(*) FROM auth.one_time_tokens", &[]).await.get(0);
    assert_eq!(after, before, "no token for a mail that never left");
    assert!(t.query_one(sent_at, &[&e]).await.get::<_, bool>(0), "nothing recorded as sent");
    // A new address through /otp (which signs up) leaves no user either.
    let fresh = email("otp-new");
    t.post("/otp").json(json!({"email": fresh})).send().await.expect_code(500, "unexpected_failure");
    assert_eq!(users_with(&t, &fresh).await, 0);

    t.mail_down(false);
    t.post("/recover").json(json!({"email": e})).send().await.expect(200);
    assert!(t.mail_to(&e).subject.contains("Reset"), "{:?}", t.mail_to(&e).subject);
    assert!(!t.query_one(sent_at, &[&e]).await.get::<_, bool>(0));
    t.post("/otp").json(json!({"email": fresh})).send().await.expect(200);
    assert_eq!(users_with(&t, &fresh).await, 1);
}

#[tokio::test]
async fn an_email_change_whose_mail_fails_changes_nothing() {
    let t = Setup::new().start().await;
    let s = t.signup(&email("change"), PASSWORD).await;
    let new = email("changed");
    t.mail_down(true);
    t.put("/user").bearer(&s.access_token).json(json!({"email": new})).send().await.expect_code(500, "unexpected_failure");
    let row = t.query_one("SELECT coalesce(email_change, ''), email_change_sent_at IS NULL FROM auth.users WHERE id = $1::text::uuid", &[&s.user_id]).await;
    assert_eq!(row.get::<_, String>(0), "", "no pending change");
    assert!(row.get::<_, bool>(1));
    t.mail_down(false);
    t.put("/user").bearer(&s.access_token).json(json!({"email": new})).send().await.expect(200);
    assert_eq!(t.mail_to(&new).subject, "Confirm Email Change");
}

/// Confirmation on and no mailer: the service refuses to start (every sign-up would fail), in
/// either `AUTH_PROVIDER` mode; with confirmation off it starts without a mailer.
#[tokio::test]
async fn confirmation_without_a_mailer_refuses_to_start() {
    let (_, url) = cluster().fresh_database("auth_nomailer").unwrap();
    let (mut admin, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    pgrest_auth::migrate::migrate(&mut admin).await.unwrap();
    let env = |pairs: &[(&str, &str)]| -> std::collections::HashMap<String, String> {
        let mut env: std::collections::HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        env.insert("AUTH_DATABASE_URL".into(), url.clone());
        env
    };
    for pairs in [&[("AUTH_PROVIDER", "native")][..], &[][..], &[("MAILER_AUTOCONFIRM", "false")][..]] {
        let app = pgrest_core::App::new(core_config(&url, &Default::default())).await.unwrap();
        let err = pgrest_auth::setup::install_from_env(&app, &env(pairs), EXTERNAL_URL, None).await.unwrap_err();
        assert_eq!(err.to_string(), pgrest_auth::setup::NO_MAILER, "{pairs:?}");
        let r = app.handle(http::Request::builder().method("POST").uri("/auth/v1/signup").body(bytes::Bytes::new()).unwrap()).await;
        assert_eq!(r.status(), 404, "no auth service installed");
    }
    let app = pgrest_core::App::new(core_config(&url, &Default::default())).await.unwrap();
    let done = pgrest_auth::setup::install_from_env(&app, &env(&[("MAILER_AUTOCONFIRM", "true")]), EXTERNAL_URL, None).await.unwrap();
    assert_eq!(done, pgrest_auth::setup::AuthSetup::Installed { mailer: "none" });
}
