//! `POST /token`: the password grant (credentials, confirmation, bcrypt upgrade), the refresh
//! grant (rotation, parent-of-active, reuse detection, races) and unsupported grants.

use std::time::Duration;

use serde_json::json;

use pgrest_auth::tokens::{hash_token, random_token};

use crate::harness::*;

#[tokio::test]
async fn password_grant_signs_in() {
    let t = Setup::new().start().await;
    let e = email("pw");
    let first = t.signup(&e, PASSWORD).await;
    let r = t.password_grant(&e.to_uppercase(), PASSWORD).await;
    let s = Session::from_body(r.expect(200));
    assert_eq!(s.user_id, first.user_id);
    assert_ne!(s.refresh_token, first.refresh_token);
    assert_ne!(s.claims()["session_id"], first.claims()["session_id"], "a new session");
    assert_eq!(s.claims()["amr"][0]["method"], "password");
    assert_eq!(s.body["token_type"], "bearer");
    assert_eq!(s.body["expires_in"], 3600);
    assert_eq!(s.body["user"]["email"], e);
    assert_eq!(s.body["user"]["identities"][0]["provider"], "email");
    let sessions = t.query_one("SELECT count(*) FROM auth.sessions WHERE user_id = $1::text::uuid", &[&s.user_id]).await;
    assert_eq!(sessions.get::<_, i64>(0), 2);
}

#[tokio::test]
async fn wrong_password_and_unknown_email_answer_identically() {
    let t = Setup::new().start().await;
    let e = email("known");
    t.signup(&e, PASSWORD).await;
    for legacy in [false, true] {
        let send = |email: String, password: &'static str| {
            let call = t.post("/token?grant_type=password").json(json!({"email": email, "password": password}));
            if legacy { call.legacy() } else { call }.send()
        };
        let wrong = send(e.clone(), "wrong password").await;
        let unknown = send(email("nobody"), "wrong password").await;
        let malformed = send("not an address".to_string(), "wrong password").await;
        assert_eq!(wrong.status, 400);
        assert_eq!(wrong.body, unknown.body);
        assert_eq!(wrong.body, malformed.body);
        let expected = if legacy {
            json!({"code": 400, "error_code": "invalid_credentials", "msg": "Invalid login credentials"})
        } else {
            json!({"code": "invalid_credentials", "message": "Invalid login credentials"})
        };
        assert_eq!(wrong.json(), expected);
    }
    t.post("/token?grant_type=password").json(json!({"password": PASSWORD})).send().await.expect_error(400, "validation_failed", "missing email or phone");
}

#[tokio::test]
async fn unconfirmed_users_cannot_sign_in() {
    let t = Setup::new().autoconfirm(false).start().await;
    let e = email("unconfirmed");
    t.post("/signup").json(json!({"email": e, "password": PASSWORD})).send().await.expect(200);
    t.password_grant(&e, PASSWORD).await.expect_error(400, "email_not_confirmed", "Email not confirmed");
    // A wrong password still says only that the credentials are wrong.
    t.password_grant(&e, "wrong password").await.expect_code(400, "invalid_credentials");
}

#[tokio::test]
async fn users_without_a_password_and_banned_users() {
    let t = Setup::new().start().await;
    let e = email("otponly");
    t.post("/otp").json(json!({"email": e})).send().await.expect(200);
    t.password_grant(&e, "").await.expect_code(400, "invalid_credentials");
    t.password_grant(&e, PASSWORD).await.expect_code(400, "invalid_credentials");

    let banned = email("banned");
    let s = t.signup(&banned, PASSWORD).await;
    t.execute("UPDATE auth.users SET banned_until = now() + interval '1 day' WHERE id = $1::text::uuid", &[&s.user_id]).await;
    t.password_grant(&banned, PASSWORD).await.expect_error(400, "user_banned", "User is banned");
    t.refresh(&s.refresh_token).await.expect_error(400, "user_banned", "Invalid Refresh Token: User Banned");
}

async fn insert_user(t: &TestAuth, email: &str, encrypted_password: &str) -> uuid::Uuid {
    let id = uuid::Uuid::new_v4();
    t.execute(
        "INSERT INTO auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at, raw_app_meta_data, raw_user_meta_data, created_at, updated_at) \
         VALUES ('00000000-0000-0000-0000-000000000000', $1, 'authenticated', 'authenticated', $2, $3, now(), '{\"provider\":\"email\",\"providers\":[\"email\"]}', '{}', now(), now())",
        &[&id, &email, &encrypted_password],
    )
    .await;
    id
}

#[tokio::test]
async fn bcrypt_hashes_from_supabase_sign_in_and_are_upgraded_to_argon2id() {
    let t = Setup::new().start().await;
    let two_b = email("bcrypt2b");
    let two_a = email("bcrypt2a");
    let hash_b = bcrypt::hash(PASSWORD, 4).unwrap();
    let hash_a = bcrypt::hash_with_result(PASSWORD, 4).unwrap().format_for_version(bcrypt::Version::TwoA);
    assert!(hash_b.starts_with("$2b$04$") && hash_a.starts_with("$2a$04$"));
    for (address, hash) in [(&two_b, &hash_b), (&two_a, &hash_a)] {
        let id = insert_user(&t, address, hash).await;
        t.password_grant(address, "wrong password").await.expect_code(400, "invalid_credentials");
        let stored: String = t.query_one("SELECT encrypted_password FROM auth.users WHERE id = $1", &[&id]).await.get(0);
        assert_eq!(&stored, hash, "a failed sign-in leaves the hash alone");

        let s = t.sign_in(address, PASSWORD).await;
        assert_eq!(s.user_id, id.to_string());
        let stored: String = t.query_one("SELECT encrypted_password FROM auth.users WHERE id = $1", &[&id]).await.get(0);
        assert!(stored.starts_with("$argon2id$"), "upgraded: {stored}");
        t.sign_in(address, PASSWORD).await;
        t.password_grant(address, "wrong password").await.expect_code(400, "invalid_credentials");
    }
}

/// `revoked` and `parent` of the row stored for `token` (rows hold the token's hash).
async fn token_row(t: &TestAuth, token: &str) -> (bool, Option<String>) {
    let row = t.query_one("SELECT revoked, parent FROM auth.refresh_tokens WHERE token = $1", &[&hash_token(token)]).await;
    (row.get(0), row.get(1))
}

#[tokio::test]
async fn refresh_rotates_and_revokes_the_old_token() {
    let t = Setup::new().start().await;
    let s0 = t.signup(&email("rot"), PASSWORD).await;
    assert_eq!(token_row(&t, &s0.refresh_token).await, (false, None));
    let plaintext: i64 = t.query_one("SELECT count(*) FROM auth.refresh_tokens WHERE token = $1 OR parent = $1", &[&s0.refresh_token]).await.get(0);
    assert_eq!(plaintext, 0, "only the token's hash is stored");
    let s1 = Session::from_body(t.refresh(&s0.refresh_token).await.expect(200));
    assert_ne!(s1.refresh_token, s0.refresh_token);
    assert_eq!(s1.user_id, s0.user_id);
    assert_eq!(s1.claims()["session_id"], s0.claims()["session_id"], "same session");
    assert_eq!(s1.claims()["amr"][0]["method"], "password", "the sign-in method is kept");
    assert_eq!(s1.body["user"]["email"], s0.email);
    assert_eq!(token_row(&t, &s0.refresh_token).await, (true, None));
    assert_eq!(token_row(&t, &s1.refresh_token).await, (false, Some(hash_token(&s0.refresh_token))));
    // The new access token works.
    t.get("/user").bearer(&s1.access_token).send().await.expect(200);
}

#[tokio::test]
async fn the_parent_of_the_active_token_returns_the_active_token() {
    let t = Setup::new().start().await;
    let s0 = t.signup(&email("parent"), PASSWORD).await;
    let s1 = Session::from_body(t.refresh(&s0.refresh_token).await.expect(200));
    let again = Session::from_body(t.refresh(&s0.refresh_token).await.expect(200));
    assert_eq!(again.refresh_token, s1.refresh_token, "the active token, not a new one");
    assert_eq!(again.claims()["session_id"], s1.claims()["session_id"]);
    let active: i64 = t.query_one("SELECT count(*) FROM auth.refresh_tokens WHERE session_id = $1::text::uuid AND NOT revoked", &[&s1.claims()["session_id"].as_str().unwrap()]).await.get(0);
    assert_eq!(active, 1);

    // Also long after the rotation (the client lost the answer and retries later), as GoTrue.
    t.execute("UPDATE auth.refresh_tokens SET updated_at = now() - interval '1 hour' WHERE token = $1", &[&hash_token(&s0.refresh_token)]).await;
    let later = Session::from_body(t.refresh(&s0.refresh_token).await.expect(200));
    assert_eq!(later.refresh_token, s1.refresh_token);
    // And the active token still rotates normally.
    let s2 = Session::from_body(t.refresh(&s1.refresh_token).await.expect(200));
    assert_ne!(s2.refresh_token, s1.refresh_token);
}

#[tokio::test]
async fn reusing_an_older_ancestor_revokes_the_whole_family() {
    let t = Setup::new().start().await;
    let s0 = t.signup(&email("reuse"), PASSWORD).await;
    let s1 = Session::from_body(t.refresh(&s0.refresh_token).await.expect(200));
    let s2 = Session::from_body(t.refresh(&s1.refresh_token).await.expect(200));
    // The grandparent was revoked a while ago (outside the reuse interval).
    t.execute("UPDATE auth.refresh_tokens SET updated_at = now() - interval '1 minute' WHERE token = $1", &[&hash_token(&s0.refresh_token)]).await;
    t.refresh(&s0.refresh_token).await.expect_error(400, "refresh_token_already_used", "Invalid Refresh Token: Already Used");
    assert!(token_row(&t, &s2.refresh_token).await.0, "the active token is revoked with its family");
    t.refresh(&s2.refresh_token).await.expect_error(400, "refresh_token_already_used", "Invalid Refresh Token: Already Used");
    t.refresh(&s1.refresh_token).await.expect_code(400, "refresh_token_already_used");
    // Other sessions of the same user are not touched.
    let other = t.sign_in(&s0.email, PASSWORD).await;
    t.refresh(&other.refresh_token).await.expect(200);
}

#[tokio::test]
async fn a_token_revoked_within_the_reuse_interval_answers_with_the_active_token() {
    let t = Setup::new().start().await;
    let s0 = t.signup(&email("interval"), PASSWORD).await;
    let s1 = Session::from_body(t.refresh(&s0.refresh_token).await.expect(200));
    let s2 = Session::from_body(t.refresh(&s1.refresh_token).await.expect(200));
    // s0 was revoked a moment ago (within GoTrue's default 10 s): tolerated, like GoTrue.
    let back = Session::from_body(t.refresh(&s0.refresh_token).await.expect(200));
    assert_eq!(back.refresh_token, s2.refresh_token);
    assert!(!token_row(&t, &s2.refresh_token).await.0);

    // With the interval at zero the same reuse revokes the family.
    let t = Setup::new().set("AUTH_REFRESH_TOKEN_REUSE_INTERVAL", "0").start().await;
    let s0 = t.signup(&email("interval0"), PASSWORD).await;
    let s1 = Session::from_body(t.refresh(&s0.refresh_token).await.expect(200));
    let s2 = Session::from_body(t.refresh(&s1.refresh_token).await.expect(200));
    tokio::time::sleep(Duration::from_millis(20)).await;
    t.refresh(&s0.refresh_token).await.expect_code(400, "refresh_token_already_used");
    t.refresh(&s2.refresh_token).await.expect_code(400, "refresh_token_already_used");
}

#[tokio::test]
async fn unknown_and_missing_refresh_tokens() {
    let t = Setup::new().start().await;
    // Shaped like ours (32 bytes base64url) or like GoTrue's legacy ones, but unknown.
    for unknown in [random_token(32), "abcdefghij12".to_string()] {
        t.refresh(&unknown).await.expect_error(400, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found");
    }
    let r = t.refresh(&random_token(32)).await;
    assert_eq!(r.header(VERSION_HEADER), Some(API_VERSION));
    assert_eq!(r.header("x-sb-error-code"), Some("refresh_token_not_found"));
}

#[tokio::test]
async fn refresh_tokens_that_cannot_be_ours_by_shape_are_validation_failures() {
    let t = Setup::new().start().await;
    let s = t.signup(&email("shape"), PASSWORD).await;
    // What GoTrue refuses before any lookup: too short, a 12-character value outside [a-z0-9],
    // anything else that does not decode; here also a stored hash and an access token.
    let stored: String = t.query_one("SELECT token FROM auth.refresh_tokens LIMIT 1", &[]).await.get(0);
    for bad in ["", "no-such-token", "short", "ABCDEFGHIJ12", "abcdefghij1!", &stored, &s.access_token, &format!("{}x", s.refresh_token)] {
        let r = t.refresh(bad).await;
        r.expect_error(400, "validation_failed", "Refresh token is not valid");
        assert_eq!(r.header("x-sb-error-code"), Some("validation_failed"), "{bad}");
    }
    let r = t.post("/token?grant_type=refresh_token").json(json!({})).send().await;
    r.expect_error(400, "validation_failed", "Refresh token is not valid");
    let r = t.post("/token?grant_type=refresh_token").legacy().json(json!({"refresh_token": "x"})).send().await;
    assert_eq!(r.expect(400), json!({"code": 400, "error_code": "validation_failed", "msg": "Refresh token is not valid"}));
    assert_eq!(r.header("x-sb-error-code"), Some("validation_failed"));
    // The real one still works.
    t.refresh(&s.refresh_token).await.expect(200);
}

#[tokio::test]
async fn concurrent_refreshes_of_one_token_agree_on_the_new_token() {
    let t = Setup::new().start().await;
    let mut current = t.signup(&email("race"), PASSWORD).await;
    for round in 0..5 {
        let (a, b, c) = tokio::join!(t.refresh(&current.refresh_token), t.refresh(&current.refresh_token), t.refresh(&current.refresh_token));
        let mut winners = Vec::new();
        for r in [&a, &b, &c] {
            assert!(r.status < 500, "round {round}: a race must never be a server error: {} {}", r.status, String::from_utf8_lossy(&r.body));
            if r.status == 200 {
                winners.push(r.json()["refresh_token"].as_str().unwrap().to_string());
            } else {
                let body = r.json();
                assert!(body["code"].is_string() && body["message"].is_string(), "a GoTrue error: {body}");
            }
        }
        assert_eq!(winners.len(), 3, "round {round}: all concurrent refreshes succeed (parent-of-active)");
        assert!(winners.iter().all(|w| *w == winners[0]), "round {round}: one new token for all: {winners:?}");
        let active: i64 = t.query_one("SELECT count(*) FROM auth.refresh_tokens WHERE token = $1 AND NOT revoked", &[&hash_token(&winners[0])]).await.get(0);
        assert_eq!(active, 1);
        current = Session::from_body(a.json());
    }
    let sid = current.claims()["session_id"].as_str().unwrap().to_string();
    let active: i64 = t.query_one("SELECT count(*) FROM auth.refresh_tokens WHERE session_id = $1::text::uuid AND NOT revoked", &[&sid]).await.get(0);
    assert_eq!(active, 1, "exactly one active token per session after the races");
}

#[tokio::test]
async fn unsupported_grant_types() {
    let t = Setup::new().start().await;
    for path in ["/token?grant_type=client_credentials", "/token", "/token?grant_type="] {
        t.post(path).json(json!({})).send().await.expect_error(400, "invalid_credentials", "unsupported_grant_type");
    }
    let r = t.get("/token").send().await;
    r.expect_code(405, "method_not_allowed");
}

/// A Supabase (or pgrest-lambda-1) database keeps its sessions across the upgrade that hashes
/// refresh tokens: plaintext rows written before `migrate-auth` refresh, rotate and still trip
/// reuse detection afterwards.
#[tokio::test]
async fn sessions_from_before_hashing_survive_migrate_auth() {
    let mut t = Setup::new().start().await;
    let s = t.signup(&email("legacy"), PASSWORD).await;
    let uid = uuid::Uuid::parse_str(&s.user_id).unwrap();
    // Two sessions as GoTrue left them, plaintext 12-character tokens: A with a rotated family
    // (a1 revoked an hour ago, a2 active), B with the parent of its active token in hand.
    let (a, b) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    for sid in [a, b] {
        t.execute("INSERT INTO auth.sessions (id, user_id, created_at, updated_at, aal) VALUES ($1, $2, now(), now(), 'aal1')", &[&sid, &uid]).await;
    }
    let rows = [("aaaaaaaaaaa1", None, true, a), ("aaaaaaaaaaa2", Some("aaaaaaaaaaa1"), false, a), ("bbbbbbbbbbb1", None, true, b), ("bbbbbbbbbbb2", Some("bbbbbbbbbbb1"), false, b)];
    for (token, parent, revoked, sid) in rows {
        t.execute(
            "INSERT INTO auth.refresh_tokens (instance_id, token, user_id, revoked, created_at, updated_at, parent, session_id) \
             VALUES ('00000000-0000-0000-0000-000000000000', $1, $2, $3, now() - interval '2 hours', now() - interval '1 hour', $4, $5)",
            &[&token, &s.user_id, &revoked, &parent, &sid],
        )
        .await;
    }
    // The database as it was before this version: then `migrate-auth`.
    t.execute("DELETE FROM auth.schema_migrations WHERE version = $1", &[&pgrest_auth::migrate::AUTH_SCHEMA_VERSION]).await;
    pgrest_auth::migrate::migrate(&mut t.admin).await.unwrap();
    let plaintext: i64 = t.query_one("SELECT count(*) FROM auth.refresh_tokens WHERE token !~ '^[0-9a-f]{64}$' OR parent !~ '^[0-9a-f]{64}$'", &[]).await.get(0);
    assert_eq!(plaintext, 0, "every token and parent is hashed in place");
    assert_eq!(token_row(&t, "aaaaaaaaaaa2").await, (false, Some(hash_token("aaaaaaaaaaa1"))));

    // The active legacy token rotates; presenting it again answers with its replacement.
    let a3 = Session::from_body(t.refresh("aaaaaaaaaaa2").await.expect(200));
    assert_eq!(a3.user_id, s.user_id);
    assert_eq!(a3.claims()["session_id"], a.to_string());
    assert_eq!(a3.refresh_token.len(), 43);
    let again = Session::from_body(t.refresh("aaaaaaaaaaa2").await.expect(200));
    assert_eq!(again.refresh_token, a3.refresh_token);
    // The grandparent is reuse: the whole family goes.
    t.refresh("aaaaaaaaaaa1").await.expect_error(400, "refresh_token_already_used", "Invalid Refresh Token: Already Used");
    t.refresh(&a3.refresh_token).await.expect_code(400, "refresh_token_already_used");

    // The parent of an active legacy token (which cannot be recomputed) gets a new child of it,
    // once; that one is an ordinary token from then on.
    let b3 = Session::from_body(t.refresh("bbbbbbbbbbb1").await.expect(200));
    assert_eq!(b3.claims()["session_id"], b.to_string());
    assert!(token_row(&t, "bbbbbbbbbbb2").await.0, "the legacy active token was replaced");
    let active: i64 = t.query_one("SELECT count(*) FROM auth.refresh_tokens WHERE session_id = $1 AND NOT revoked", &[&b]).await.get(0);
    assert_eq!(active, 1);
    let b4 = Session::from_body(t.refresh(&b3.refresh_token).await.expect(200));
    assert_eq!(Session::from_body(t.refresh(&b3.refresh_token).await.expect(200)).refresh_token, b4.refresh_token);
    // The session signed in before the upgrade is untouched.
    t.refresh(&s.refresh_token).await.expect(200);
}
