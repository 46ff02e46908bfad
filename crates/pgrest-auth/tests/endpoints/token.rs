//! `POST /token`: the password grant (credentials, confirmation, bcrypt upgrade), the refresh
//! grant (rotation, parent-of-active, reuse detection, races) and unsupported grants.

use std::time::Duration;

use serde_json::json;

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

async fn token_row(t: &TestAuth, token: &str) -> (bool, Option<String>) {
    let row = t.query_one("SELECT revoked, parent FROM auth.refresh_tokens WHERE token = $1", &[&token]).await;
    (row.get(0), row.get(1))
}

#[tokio::test]
async fn refresh_rotates_and_revokes_the_old_token() {
    let t = Setup::new().start().await;
    let s0 = t.signup(&email("rot"), PASSWORD).await;
    assert_eq!(token_row(&t, &s0.refresh_token).await, (false, None));
    let s1 = Session::from_body(t.refresh(&s0.refresh_token).await.expect(200));
    assert_ne!(s1.refresh_token, s0.refresh_token);
    assert_eq!(s1.user_id, s0.user_id);
    assert_eq!(s1.claims()["session_id"], s0.claims()["session_id"], "same session");
    assert_eq!(s1.claims()["amr"][0]["method"], "password", "the sign-in method is kept");
    assert_eq!(s1.body["user"]["email"], s0.email);
    assert_eq!(token_row(&t, &s0.refresh_token).await, (true, None));
    assert_eq!(token_row(&t, &s1.refresh_token).await, (false, Some(s0.refresh_token.clone())));
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
    t.execute("UPDATE auth.refresh_tokens SET updated_at = now() - interval '1 hour' WHERE token = $1", &[&s0.refresh_token]).await;
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
    t.execute("UPDATE auth.refresh_tokens SET updated_at = now() - interval '1 minute' WHERE token = $1", &[&s0.refresh_token]).await;
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
    t.refresh("no-such-token").await.expect_error(400, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found");
    let r = t.refresh("no-such-token").await;
    assert_eq!(r.header(VERSION_HEADER), Some(API_VERSION));
    let r = t.post("/token?grant_type=refresh_token").json(json!({})).send().await;
    assert_eq!(r.expect(400), json!({"error": "invalid_request", "error_description": "refresh_token required"}));
    // An access token is not a refresh token.
    let s = t.signup(&email("jwt-as-refresh"), PASSWORD).await;
    t.refresh(&s.access_token).await.expect_code(400, "refresh_token_not_found");
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
        let active: i64 = t.query_one("SELECT count(*) FROM auth.refresh_tokens WHERE token = $1 AND NOT revoked", &[&winners[0]]).await.get(0);
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
