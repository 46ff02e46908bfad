//! `GET /user` and `PUT /user`: bearer-token checks, metadata merges, password and email changes.

use serde_json::json;

use crate::harness::*;

#[tokio::test]
async fn get_user_requires_a_valid_bearer_token() {
    let t = Setup::new().start().await;
    t.get("/user").send().await.expect_error(401, "no_authorization", "This endpoint requires a valid Bearer token");
    let r = t.get("/user").legacy().send().await;
    assert_eq!(r.expect(401), json!({"code": 401, "error_code": "no_authorization", "msg": "This endpoint requires a valid Bearer token"}));
    t.get("/user").header("authorization", "Basic abc").send().await.expect_code(401, "no_authorization");

    for garbage in ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."] {
        let body = t.get("/user").bearer(garbage).send().await.expect_code(403, "bad_jwt");
        assert!(body["message"].as_str().unwrap().starts_with("invalid JWT: unable to parse or verify signature, "), "{body}");
    }
    // Signed with another secret, or expired.
    let s = t.signup(&email("me"), PASSWORD).await;
    let mut claims = s.claims();
    let forged = pgrest_core::JwtKeys::new("another-secret-another-secret-another-secret", None).sign(&claims).unwrap();
    t.get("/user").bearer(&forged).send().await.expect_code(403, "bad_jwt");
    claims["exp"] = json!(now_secs() - 3600);
    let expired = t.app.keys().sign(&claims).unwrap();
    t.get("/user").bearer(&expired).send().await.expect_code(403, "bad_jwt");

    // An apikey is a valid JWT but names no user.
    t.get("/user").bearer(&t.anon_key.clone()).send().await.expect_code(403, "bad_jwt");
    // A token for a user that no longer exists.
    let ghost = json!({"sub": uuid::Uuid::new_v4().to_string(), "role": "authenticated", "exp": now_secs() + 600});
    let ghost = t.app.keys().sign(&ghost).unwrap();
    t.get("/user").bearer(&ghost).send().await.expect_error(403, "user_not_found", "User from sub claim in JWT does not exist");

    let me = t.get("/user").bearer(&s.access_token).send().await.expect(200);
    assert_eq!(me["id"], s.user_id);
    assert_eq!(me["email"], s.email);
    assert_eq!(me["identities"][0]["provider"], "email");
}

#[tokio::test]
async fn put_user_merges_metadata() {
    let t = Setup::new().start().await;
    let e = email("meta");
    let body = t.post("/signup").json(json!({"email": e, "password": PASSWORD, "data": {"a": 1, "b": 2, "gone": true}})).send().await.expect(200);
    let s = Session::from_body(body);
    let r = t.put("/user").bearer(&s.access_token).json(json!({"data": {"b": 3, "c": {"d": 4}, "gone": null}})).send().await;
    let user = r.expect(200);
    assert_eq!(user["user_metadata"], json!({"a": 1, "b": 3, "c": {"d": 4}}));
    assert_eq!(user["id"], s.user_id);
    // The next access token carries it.
    let refreshed = Session::from_body(t.refresh(&s.refresh_token).await.expect(200));
    assert_eq!(refreshed.claims()["user_metadata"], json!({"a": 1, "b": 3, "c": {"d": 4}}));
    // app_metadata cannot be set by the user.
    let user = t.put("/user").bearer(&s.access_token).json(json!({"app_metadata": {"role": "admin"}})).send().await.expect(200);
    assert_eq!(user["app_metadata"], json!({"provider": "email", "providers": ["email"]}));
    t.put("/user").json(json!({"data": {}})).send().await.expect_code(401, "no_authorization");
}

#[tokio::test]
async fn password_change() {
    let t = Setup::new().start().await;
    let e = email("chpw");
    let s = t.signup(&e, PASSWORD).await;
    let other = t.sign_in(&e, PASSWORD).await;
    t.put("/user").bearer(&s.access_token).json(json!({"password": PASSWORD})).send().await.expect_error(
        422,
        "same_password",
        "New password should be different from the old password.",
    );
    t.put("/user").bearer(&s.access_token).json(json!({"password": "short"})).send().await.expect_code(422, "weak_password");
    t.put("/user").bearer(&s.access_token).json(json!({"password": "a brand new secret"})).send().await.expect(200);
    t.password_grant(&e, PASSWORD).await.expect_code(400, "invalid_credentials");
    t.sign_in(&e, "a brand new secret").await;
    // The session that changed the password lives on; the user's other sessions end (GoTrue).
    t.get("/user").bearer(&s.access_token).send().await.expect(200);
    t.refresh(&s.refresh_token).await.expect(200);
    t.get("/user").bearer(&other.access_token).send().await.expect_code(403, "session_not_found");
    t.refresh(&other.refresh_token).await.expect_code(400, "refresh_token_not_found");
}

#[tokio::test]
async fn email_change_is_confirmed_from_the_new_address() {
    let t = Setup::new().autoconfirm(false).start().await;
    let old = email("old");
    t.post("/signup").json(json!({"email": old, "password": PASSWORD})).send().await.expect(200);
    let link = t.link_for(&old);
    let hash = pairs(link.split_once('?').unwrap().1)["token"].clone();
    let s = Session::from_body(t.post("/verify").json(json!({"type": "signup", "token_hash": hash})).send().await.expect(200));

    let new = email("new");
    let r = t.put("/user?redirect_to=http://localhost:3000/changed").bearer(&s.access_token).json(json!({"email": new.to_uppercase()})).send().await;
    let user = r.expect(200);
    assert_eq!(user["email"], old, "not switched before confirmation");
    assert_eq!(user["new_email"], new);
    assert!(user["email_change_sent_at"].is_string());
    let mail = t.mail_to(&new);
    assert_eq!(mail.subject, "Confirm Email Change");
    let link = t.link_for(&new);
    let query = pairs(link.split_once('?').unwrap().1);
    assert_eq!(query["type"], "email_change");
    assert_eq!(query["redirect_to"], "http://localhost:3000/changed");
    // The change mail can be sent again (to the new address).
    t.post("/resend").json(json!({"type": "email_change", "email": old})).send().await.expect(200);
    assert_eq!(t.mailer.messages().iter().filter(|m| m.to == new).count(), 2);
    let link = t.link_for(&new);
    let query = pairs(link.split_once('?').unwrap().1);
    // Still the old address for sign-in.
    t.sign_in(&old, PASSWORD).await;
    t.password_grant(&new, PASSWORD).await.expect_code(400, "invalid_credentials");

    let body = t.post("/verify").json(json!({"type": "email_change", "token_hash": query["token"]})).send().await.expect(200);
    assert_eq!(body["user"]["email"], new);
    assert!(body["user"].get("new_email").is_none());
    assert_eq!(body["user"]["identities"][0]["identity_data"]["email"], new);
    t.sign_in(&new, PASSWORD).await;
    t.password_grant(&old, PASSWORD).await.expect_code(400, "invalid_credentials");
    // The link is single-use.
    t.post("/verify").json(json!({"type": "email_change", "token_hash": query["token"]})).send().await.expect_code(403, "otp_expired");
}

#[tokio::test]
async fn email_change_needs_confirmation_even_with_autoconfirm_and_refuses_taken_addresses() {
    let t = Setup::new().start().await;
    let s = t.signup(&email("perm"), PASSWORD).await;
    let taken = email("taken");
    t.signup(&taken, PASSWORD).await;
    t.put("/user").bearer(&s.access_token).json(json!({"email": taken})).send().await.expect_error(
        422,
        "email_exists",
        "A user with this email address has already been registered",
    );
    t.put("/user").bearer(&s.access_token).json(json!({"email": "nope"})).send().await.expect_code(400, "validation_failed");

    let new = email("claimed");
    let user = t.put("/user").bearer(&s.access_token).json(json!({"email": new})).send().await.expect(200);
    assert_eq!(user["email"], s.email, "a permanent user confirms a new address even with autoconfirm (V-08)");
    assert_eq!(user["new_email"], new);
    assert!(t.mailer.last_to(&new).is_some());
}

#[tokio::test]
async fn an_anonymous_user_becomes_permanent_by_adding_an_email() {
    let t = Setup::new().anonymous(true).start().await;
    let anon = Session::from_body(t.post("/signup").send().await.expect(200));
    t.put("/user").bearer(&anon.access_token).json(json!({"password": PASSWORD})).send().await.expect_error(
        422,
        "validation_failed",
        "Updating password of an anonymous user without an email or phone is not allowed",
    );
    let e = email("upgraded");
    let user = t.put("/user").bearer(&anon.access_token).json(json!({"email": e, "password": PASSWORD})).send().await.expect(200);
    assert_eq!(user["email"], e);
    assert_eq!(user["is_anonymous"], false);
    assert_eq!(user["identities"][0]["provider"], "email");
    assert_eq!(user["identities"][0]["identity_data"]["email"], e);
    assert_eq!(user["app_metadata"]["providers"], json!(["email"]));
    let s = t.sign_in(&e, PASSWORD).await;
    assert_eq!(s.user_id, anon.user_id);
    assert_eq!(s.claims()["is_anonymous"], false);
}
