//! The security checklist's auth lines end to end: signing keys and JWKS (V-02), the confirmation
//! default (V-08), rate limits (V-12), the schema check at start (V-22), REST + auth with RLS, and
//! sign-in timing that does not reveal whether an address is registered.

use std::sync::Arc;
use std::time::{Duration, Instant};

use pgrest_auth::ratelimit::Limit;
use serde_json::{Value, json};

use crate::harness::*;

#[tokio::test]
async fn health_and_unknown_routes() {
    let t = Setup::new().start().await;
    let body = t.get("/health").send().await.expect(200);
    assert_eq!(body["name"], "GoTrue");
    assert!(body["version"].is_string() && body["description"].is_string());
    t.get("/nope").send().await.expect_error(404, "not_found", "Not found");
    t.post("/user").send().await.expect_code(405, "method_not_allowed");
    t.post("/settings").send().await.expect_code(405, "method_not_allowed");
}

#[tokio::test]
async fn settings_without_providers() {
    let t = Setup::new().start().await;
    let body = t.get("/settings").send().await.expect(200);
    assert_eq!(body["external"]["github"], false);
    assert_eq!(body["external"]["google"], false);
    assert_eq!(body["external"]["email"], true);
    assert_eq!(body["external"]["anonymous_users"], false);
    assert_eq!(body["mailer_autoconfirm"], true);
    assert_eq!(body["disable_signup"], false);
    assert_eq!(body["phone_autoconfirm"], false);
    let t = Setup::new().autoconfirm(false).anonymous(true).start().await;
    let body = t.get("/settings").send().await.expect(200);
    assert_eq!(body["mailer_autoconfirm"], false);
    assert_eq!(body["external"]["anonymous_users"], true);
}

#[tokio::test]
async fn hs256_publishes_no_keys() {
    let t = Setup::new().start().await;
    for path in ["/.well-known/jwks.json", "/jwks"] {
        let r = t.get(path).send().await;
        assert_eq!(r.expect(200), json!({"keys": []}));
        assert!(r.header("cache-control").is_some());
    }
}

#[tokio::test]
async fn es256_tokens_are_published_and_verified() {
    let jwk = pgrest_auth::tokens::generate_signing_jwk("key-1").unwrap();
    let keys = json!([jwk]).to_string();
    let t = Setup::new().set("AUTH_JWT_SIGNING_KEYS", &keys).core("AUTH_JWT_SIGNING_KEYS", &keys).start().await;

    let jwks = t.get("/.well-known/jwks.json").send().await.expect(200);
    let published = jwks["keys"].as_array().unwrap();
    assert_eq!(published.len(), 1);
    let key = &published[0];
    assert_eq!(key["kty"], "EC");
    assert_eq!(key["crv"], "P-256");
    assert_eq!(key["kid"], "key-1");
    assert_eq!(key["alg"], "ES256");
    assert_eq!(key["x"], jwk["x"]);
    assert_eq!(key["y"], jwk["y"]);
    assert!(key.get("d").is_none(), "no private part: {key}");
    assert!(!jwks.to_string().contains(jwk["d"].as_str().unwrap()));
    assert_eq!(t.get("/jwks").send().await.expect(200), jwks);

    let s = t.signup(&email("es256"), PASSWORD).await;
    let header = decode_header(&s.access_token);
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["kid"], "key-1");
    let claims = t.app.keys().verify(&s.access_token).unwrap();
    assert_eq!(claims["sub"], s.user_id);
    t.get("/user").bearer(&s.access_token).send().await.expect(200);
    let refreshed = Session::from_body(t.refresh(&s.refresh_token).await.expect(200));
    assert_eq!(decode_header(&refreshed.access_token)["alg"], "ES256");

    // The REST side verifies them too, and so does an App that only knows the published JWKS.
    let r = t.get("/rest/v1/notes").bearer(&s.access_token).send().await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let (_, url) = cluster().fresh_database("auth_jwks").unwrap();
    let env = [("PGREST_JWT_JWKS".to_string(), jwks.to_string())].into_iter().collect();
    let other = pgrest_core::App::new(core_config(&url, &env)).await.unwrap();
    assert_eq!(other.keys().verify(&s.access_token).unwrap()["sub"], s.user_id);
    // A token signed by another key that claims the same kid is refused.
    let foreign = pgrest_auth::tokens::generate_signing_jwk("key-1").unwrap();
    let signer = pgrest_auth::tokens::Signer::new(SECRET, Some(&json!([foreign]).to_string())).unwrap();
    let forged = signer.sign(&s.claims()).unwrap();
    t.get("/user").bearer(&forged).send().await.expect_code(403, "bad_jwt");
}

#[tokio::test]
async fn es256_through_from_env() {
    let jwk = pgrest_auth::tokens::generate_signing_jwk("env-key").unwrap();
    let keys = json!({"keys": [jwk]}).to_string();
    let mut setup = Setup::new().set("AUTH_JWT_SIGNING_KEYS", &keys).core("AUTH_JWT_SIGNING_KEYS", &keys);
    setup.via_from_env = true;
    let t = setup.start().await;
    let s = t.signup(&email("fromenv"), PASSWORD).await;
    assert_eq!(decode_header(&s.access_token)["kid"], "env-key");
    t.get("/user").bearer(&s.access_token).send().await.expect(200);
}

#[tokio::test]
async fn confirmation_is_required_unless_chosen() {
    let mut setup = Setup::new();
    setup.env.remove("MAILER_AUTOCONFIRM");
    setup.via_from_env = true;
    let t = setup.start().await;
    assert_eq!(t.get("/settings").send().await.expect(200)["mailer_autoconfirm"], false);
    let e = email("v08");
    let body = t.post("/signup").json(json!({"email": e, "password": PASSWORD})).send().await.expect(200);
    assert!(body.get("access_token").is_none(), "no session before confirmation: {body}");
    t.password_grant(&e, PASSWORD).await.expect_code(400, "email_not_confirmed");
}

#[tokio::test]
async fn the_service_refuses_to_start_without_the_schema_and_does_not_create_it() {
    let (name, url) = cluster().fresh_database("auth_nomigrate").unwrap();
    let app = pgrest_core::App::new(core_config(&url, &Default::default())).await.unwrap();
    let env = [("MAILER_AUTOCONFIRM".to_string(), "true".to_string())].into_iter().collect();
    let err = pgrest_auth::NativeAuth::from_env(&app, &env, EXTERNAL_URL, Arc::new(pgrest_auth::mailer::CaptureMailer::new())).await.unwrap_err();
    let message = err.to_string();
    assert!(message.contains("migrate-auth"), "{message}");
    let schemas = cluster().psql(&name).run("SELECT count(*) FROM pg_namespace WHERE nspname = 'auth'").unwrap();
    assert_eq!(schemas.trim(), "0", "V-22: no DDL at start");
    // Without the auth service, /auth/v1 is not served.
    let request = http::Request::builder().uri("/auth/v1/health").body(bytes::Bytes::new()).unwrap();
    assert_eq!(app.handle(request).await.status(), 404);
}

#[tokio::test]
async fn the_auth_store_refuses_to_start_without_access_to_the_auth_tables() {
    // Migrated, but the service is pointed at the API's own role: it must say so at start, not
    // fail request by request.
    let (_, url) = cluster().fresh_database("auth_noowner").unwrap();
    let (mut admin, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    pgrest_auth::migrate::migrate(&mut admin).await.unwrap();
    let app = pgrest_core::App::new(core_config(&url, &Default::default())).await.unwrap();
    let err = pgrest_auth::NativeAuth::from_env(&app, &Default::default(), EXTERNAL_URL, Arc::new(pgrest_auth::mailer::CaptureMailer::new())).await.unwrap_err();
    assert!(err.to_string().contains("permission denied"), "{err}");
    // With the owner's connection it starts.
    let env = [("AUTH_DATABASE_URL".to_string(), url.clone())].into_iter().collect();
    pgrest_auth::NativeAuth::from_env(&app, &env, EXTERNAL_URL, Arc::new(pgrest_auth::mailer::CaptureMailer::new())).await.unwrap();
}

/// `max` events, refilled over an hour: no refill can happen while a test runs, however slow.
fn low(max: u32) -> Limit {
    Limit { max, per: Duration::from_secs(3600) }
}

#[tokio::test]
async fn password_grants_are_limited_per_ip_and_per_email() {
    let t = Setup::new()
        .configure(|c| {
            c.limits.password_per_ip = low(3);
            c.limits.password_per_email = low(5);
        })
        .start()
        .await;
    let e = email("limited");
    t.signup(&e, PASSWORD).await;
    let grant = |ip: &'static str, email: String, password: &'static str| t.post("/token?grant_type=password").ip(ip).json(json!({"email": email, "password": password})).send();
    for _ in 0..2 {
        grant("203.0.113.7", e.clone(), "wrong password").await.expect_code(400, "invalid_credentials");
    }
    grant("203.0.113.7", e.clone(), PASSWORD).await.expect(200);
    let r = grant("203.0.113.7", e.clone(), PASSWORD).await;
    r.expect_error(429, "over_request_rate_limit", "Request rate limit reached");
    let retry: u64 = r.header("retry-after").expect("Retry-After").parse().unwrap();
    assert!((1..=3600).contains(&retry), "{retry}");
    let r = grant("203.0.113.7", email("someone-else"), PASSWORD).await;
    assert_eq!(r.status, 429, "the IP is limited whatever the address");
    // A different client is not affected.
    grant("198.51.100.1", e.clone(), PASSWORD).await.expect(200);
    // X-Forwarded-For's first hop is the client.
    grant("198.51.100.2, 203.0.113.7", e.clone(), PASSWORD).await.expect(200);

    // Per address: the 6th attempt on one address is refused from any IP.
    let target = email("target");
    t.signup(&target, PASSWORD).await;
    let ips = ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5", "192.0.2.6"];
    for ip in &ips[..5] {
        grant(ip, target.to_uppercase(), "wrong password").await.expect_code(400, "invalid_credentials");
    }
    grant(ips[5], target.clone(), PASSWORD).await.expect_code(429, "over_request_rate_limit");
}

#[tokio::test]
async fn the_runners_peer_address_wins_over_x_forwarded_for() {
    let t = Setup::new().configure(|c| c.limits.password_per_ip = low(2)).start().await;
    let send = |xff: &'static str| {
        t.post("/token?grant_type=password").client_addr("203.0.113.50").ip(xff).json(json!({"email": "x@example.com", "password": "nope"})).send()
    };
    send("1.1.1.1").await.expect_code(400, "invalid_credentials");
    send("2.2.2.2").await.expect_code(400, "invalid_credentials");
    send("3.3.3.3").await.expect_code(429, "over_request_rate_limit");
}

#[tokio::test]
async fn signup_otp_verify_refresh_and_email_sending_are_limited() {
    let t = Setup::new()
        .configure(|c| {
            c.limits.signup_per_ip = low(2);
            c.limits.otp_per_ip = low(2);
            c.limits.verify_per_ip = low(2);
            c.limits.refresh_per_ip = low(2);
            c.limits.email_per_address = low(2);
        })
        .autoconfirm(false)
        .start()
        .await;
    let ip = "203.0.113.9";
    for _ in 0..2 {
        t.post("/signup").ip(ip).json(json!({"email": email("flood"), "password": PASSWORD})).send().await.expect(200);
    }
    t.post("/signup").ip(ip).json(json!({"email": email("flood"), "password": PASSWORD})).send().await.expect_code(429, "over_request_rate_limit");

    for _ in 0..2 {
        t.post("/otp").ip(ip).json(json!({"email": email("otpflood")})).send().await.expect(200);
    }
    t.post("/otp").ip(ip).json(json!({"email": email("otpflood")})).send().await.expect_code(429, "over_request_rate_limit");
    t.post("/recover").ip(ip).json(json!({"email": email("otpflood")})).send().await.expect_code(429, "over_request_rate_limit");

    for _ in 0..2 {
        t.post("/verify").ip(ip).json(json!({"type": "email", "token_hash": "guess"})).send().await.expect_code(403, "otp_expired");
    }
    t.post("/verify").ip(ip).json(json!({"type": "email", "token_hash": "guess"})).send().await.expect_code(429, "over_request_rate_limit");

    for _ in 0..2 {
        t.post("/token?grant_type=refresh_token").ip(ip).json(json!({"refresh_token": "guess"})).send().await.expect_code(400, "validation_failed");
    }
    t.post("/token?grant_type=refresh_token").ip(ip).json(json!({"refresh_token": "guess"})).send().await.expect_code(429, "over_request_rate_limit");

    // Mails to one address: the third is refused from anywhere.
    let victim = email("mailbomb");
    t.post("/signup").ip("198.51.100.10").json(json!({"email": victim, "password": PASSWORD})).send().await.expect(200);
    t.post("/resend").ip("198.51.100.11").json(json!({"type": "signup", "email": victim})).send().await.expect(200);
    let r = t.post("/resend").ip("198.51.100.12").json(json!({"type": "signup", "email": victim})).send().await;
    r.expect_code(429, "over_email_send_rate_limit");
    assert!(r.header("retry-after").is_some());
    assert_eq!(t.mailer.messages().iter().filter(|m| m.to == victim).count(), 2);
}

async fn rest(t: &TestAuth, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
    let mut call = t.call(method, path).header("prefer", "return=representation");
    if let Some(token) = token {
        call = call.bearer(token);
    }
    if let Some(body) = body {
        call = call.json(body);
    }
    call.send().await
}

#[tokio::test]
async fn rest_and_auth_together_rls_sees_only_the_callers_rows() {
    let t = Setup::new().start().await;
    let alice = t.signup(&email("alice"), PASSWORD).await;
    let bob = t.signup(&email("bob"), PASSWORD).await;

    let r = rest(&t, "POST", "/rest/v1/notes", Some(&alice.access_token), Some(json!({"body": "alice's note"}))).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let created = r.json();
    assert_eq!(created[0]["owner"], alice.user_id, "auth.uid() filled the owner from the token");
    rest(&t, "POST", "/rest/v1/notes", Some(&alice.access_token), Some(json!([{"body": "two"}, {"body": "three"}]))).await;

    let mine = rest(&t, "GET", "/rest/v1/notes?select=body,owner&order=id", Some(&alice.access_token), None).await.expect(200);
    assert_eq!(mine.as_array().unwrap().len(), 3);
    assert!(mine.as_array().unwrap().iter().all(|n| n["owner"] == alice.user_id));

    let theirs = rest(&t, "GET", "/rest/v1/notes", Some(&bob.access_token), None).await.expect(200);
    assert_eq!(theirs, json!([]), "bob sees none of alice's notes");
    // Bob cannot write a note as alice, nor change hers.
    let r = rest(&t, "POST", "/rest/v1/notes", Some(&bob.access_token), Some(json!({"body": "forged", "owner": alice.user_id}))).await;
    assert_eq!(r.status, 403, "{}", String::from_utf8_lossy(&r.body));
    let r = rest(&t, "PATCH", "/rest/v1/notes?id=gt.0", Some(&bob.access_token), Some(json!({"body": "defaced"}))).await;
    assert_eq!(r.expect(200), json!([]));
    let after = rest(&t, "GET", "/rest/v1/notes?select=body&order=id", Some(&alice.access_token), None).await.expect(200);
    assert_eq!(after, json!([{"body": "alice's note"}, {"body": "two"}, {"body": "three"}]));
    // The anon key alone reads nothing (no grant for anon).
    let r = rest(&t, "GET", "/rest/v1/notes", None, None).await;
    assert_eq!(r.status, 401, "{}", String::from_utf8_lossy(&r.body));

    // After a refresh the new access token works the same; the auth schema stays hidden from REST.
    let refreshed = Session::from_body(t.refresh(&alice.refresh_token).await.expect(200));
    let mine = rest(&t, "GET", "/rest/v1/notes", Some(&refreshed.access_token), None).await.expect(200);
    assert_eq!(mine.as_array().unwrap().len(), 3);
    let r = t.get("/rest/v1/users").header("accept-profile", "auth").bearer(&alice.access_token).send().await;
    // As PostgREST: a schema that is not exposed is 406 PGRST106, never a 5xx.
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!((r.status, body["code"].as_str()), (406, Some("PGRST106")), "auth.users is not exposed: {body}");
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

#[tokio::test]
async fn sign_in_timing_does_not_reveal_whether_an_address_exists() {
    let t = Setup::new().real_kdf().start().await;
    let e = email("timing");
    t.signup(&e, PASSWORD).await;
    // Warm up both paths.
    t.password_grant(&e, "wrong password").await.expect_code(400, "invalid_credentials");
    t.password_grant(&email("warmup"), "wrong password").await.expect_code(400, "invalid_credentials");
    // A property, not a benchmark: medians of 7 interleaved runs each. A machine busy with other
    // work can skew one round, so up to three rounds are taken; a real leak (no KDF for unknown
    // addresses: a ratio near 0.05) fails every one.
    let mut rounds = Vec::new();
    for _ in 0..3 {
        let (mut known, mut unknown) = (Vec::new(), Vec::new());
        for _ in 0..7 {
            let start = Instant::now();
            t.password_grant(&e, "wrong password").await.expect_code(400, "invalid_credentials");
            known.push(start.elapsed());
            let start = Instant::now();
            t.password_grant(&email("ghost"), "wrong password").await.expect_code(400, "invalid_credentials");
            unknown.push(start.elapsed());
        }
        let (known, unknown) = (median(known), median(unknown));
        let ratio = unknown.as_secs_f64() / known.as_secs_f64();
        rounds.push((known, unknown, ratio));
        if (0.25..=4.0).contains(&ratio) {
            // The KDF dominates both (it is not skipped for unknown addresses).
            assert!(unknown > Duration::from_millis(5), "{unknown:?}");
            return;
        }
    }
    panic!("sign-in time depends on whether the address exists: (known, unknown, ratio) per round {rounds:?}");
}
