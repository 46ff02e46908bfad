//! `POST /signup`: password sign-ups with and without confirmation, anonymous sign-ins, and the
//! validation errors, in both error formats.

use serde_json::{Value, json};

use crate::harness::*;

fn is_timestamp(v: &Value) -> bool {
    v.as_str().is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok())
}

#[tokio::test]
async fn autoconfirm_returns_a_full_session_and_gotrue_claims() {
    let t = Setup::new().start().await;
    let e = email("Full");
    let r = t.post("/signup").json(json!({"email": e.to_uppercase(), "password": PASSWORD, "data": {"name": "Ann", "plan": 2}})).send().await;
    let body = r.expect(200);
    assert_eq!(r.header("content-type"), Some("application/json"));

    // The session object.
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 3600);
    let now = now_secs() as i64;
    let expires_at = body["expires_at"].as_i64().unwrap();
    assert!((now + 3590..=now + 3610).contains(&expires_at), "expires_at {expires_at}");
    let refresh = body["refresh_token"].as_str().unwrap();
    assert!(refresh.len() >= 20 && !refresh.contains('.'), "opaque refresh token: {refresh}");

    // The user object.
    let user = &body["user"];
    let id = user["id"].as_str().unwrap();
    uuid::Uuid::parse_str(id).unwrap();
    assert_eq!(user["aud"], "authenticated");
    assert_eq!(user["role"], "authenticated");
    assert_eq!(user["email"], e.to_lowercase(), "email stored lower-case");
    assert_eq!(user["phone"], "");
    for key in ["email_confirmed_at", "confirmed_at", "last_sign_in_at", "created_at", "updated_at"] {
        assert!(is_timestamp(&user[key]), "{key}: {}", user[key]);
    }
    assert_eq!(user["app_metadata"], json!({"provider": "email", "providers": ["email"]}));
    assert_eq!(user["user_metadata"]["name"], "Ann");
    assert_eq!(user["user_metadata"]["plan"], 2);
    assert_eq!(user["is_anonymous"], false);
    let identities = user["identities"].as_array().unwrap();
    assert_eq!(identities.len(), 1);
    let identity = &identities[0];
    assert_eq!(identity["provider"], "email");
    assert_eq!(identity["id"], id);
    assert_eq!(identity["user_id"], id);
    assert_eq!(identity["identity_data"]["email"], e.to_lowercase());
    assert_eq!(identity["identity_data"]["sub"], id);
    assert_eq!(identity["email"], e.to_lowercase());
    uuid::Uuid::parse_str(identity["identity_id"].as_str().unwrap()).unwrap();

    // The access token: verifiable with the App's keys, GoTrue's claims.
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(decode_header(token)["alg"], "HS256");
    let claims = t.app.keys().verify(token).expect("the App verifies its auth service's tokens");
    assert_eq!(claims["iss"], format!("{EXTERNAL_URL}/auth/v1"));
    assert_eq!(claims["sub"], id);
    assert_eq!(claims["aud"], "authenticated");
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 3600);
    assert_eq!(claims["exp"].as_i64().unwrap(), expires_at);
    assert_eq!(claims["email"], e.to_lowercase());
    assert_eq!(claims["phone"], "");
    assert_eq!(claims["app_metadata"], user["app_metadata"]);
    assert_eq!(claims["user_metadata"], user["user_metadata"]);
    assert_eq!(claims["role"], "authenticated");
    assert_eq!(claims["aal"], "aal1");
    assert_eq!(claims["amr"][0]["method"], "password");
    assert!(claims["amr"][0]["timestamp"].as_i64().is_some());
    assert_eq!(claims["is_anonymous"], false);
    let session_id = claims["session_id"].as_str().unwrap();
    let sid = uuid::Uuid::parse_str(session_id).unwrap();
    let uid = uuid::Uuid::parse_str(id).unwrap();
    let row = t.query_one("SELECT user_id FROM auth.sessions WHERE id = $1", &[&sid]).await;
    assert_eq!(row.get::<_, uuid::Uuid>(0), uid);

    // The same user through GET /user.
    let me = t.get("/user").bearer(token).send().await.expect(200);
    assert_eq!(me["id"], id);
    assert_eq!(me["email"], e.to_lowercase());
}

#[tokio::test]
async fn with_confirmation_on_the_user_comes_back_without_a_session_and_a_mail_goes_out() {
    let t = Setup::new().autoconfirm(false).start().await;
    let e = email("confirm");
    let body = t.post("/signup?redirect_to=http://localhost:3000/welcome").json(json!({"email": e, "password": PASSWORD, "data": {"a": 1}})).send().await.expect(200);
    assert!(body.get("access_token").is_none(), "no session: {body}");
    assert_eq!(body["email"], e);
    assert!(body.get("email_confirmed_at").is_none());
    assert!(body.get("confirmed_at").is_none());
    assert!(is_timestamp(&body["confirmation_sent_at"]));
    assert_eq!(body["user_metadata"]["a"], 1);
    assert_eq!(body["identities"].as_array().unwrap().len(), 1);

    let mail = t.mail_to(&e);
    assert_eq!(mail.subject, "Confirm Your Email");
    let code = t.code_for(&e);
    assert_eq!(code.len(), 6);
    assert!(code.bytes().all(|b| b.is_ascii_digit()));
    let link = t.link_for(&e);
    assert!(link.starts_with(&format!("{EXTERNAL_URL}/auth/v1/verify?token=")), "{link}");
    let query = pairs(link.split_once('?').unwrap().1);
    assert_eq!(query["type"], "signup");
    assert_eq!(query["redirect_to"], "http://localhost:3000/welcome");

    // Not confirmed yet: the password is right but sign-in is refused.
    t.password_grant(&e, PASSWORD).await.expect_error(400, "email_not_confirmed", "Email not confirmed");

    // Following the link confirms and signs in.
    let r = t.get(&TestAuth::local_path(&link)).send().await;
    assert_eq!(r.status, 303);
    let location = r.location();
    assert!(location.starts_with("http://localhost:3000/welcome#"), "{location}");
    let f = fragment(&location);
    assert_eq!(f["type"], "signup");
    assert_eq!(f["token_type"], "bearer");
    let claims = decode_claims(&f["access_token"]);
    assert_eq!(claims["email"], e);
    let s = t.sign_in(&e, PASSWORD).await;
    assert!(is_timestamp(&s.body["user"]["email_confirmed_at"]));
    assert_eq!(s.body["user"]["identities"][0]["identity_data"]["email_verified"], true);
}

#[tokio::test]
async fn a_taken_address_is_user_already_exists_with_autoconfirm() {
    let t = Setup::new().start().await;
    let e = email("dup");
    t.signup(&e, PASSWORD).await;
    let r = t.post("/signup").json(json!({"email": e.to_uppercase(), "password": "another password"})).send().await;
    r.expect_error(422, "user_already_exists", "User already registered");
    // The first password still works; the second one was not stored.
    t.sign_in(&e, PASSWORD).await;
    t.password_grant(&e, "another password").await.expect_code(400, "invalid_credentials");
}

#[tokio::test]
async fn with_confirmation_on_a_taken_address_answers_like_a_new_one() {
    let t = Setup::new().autoconfirm(false).start().await;
    let e = email("private");
    t.post("/signup").json(json!({"email": e, "password": PASSWORD})).send().await.expect(200);
    let link = t.link_for(&e);
    t.get(&TestAuth::local_path(&link)).send().await;
    let real = t.sign_in(&e, PASSWORD).await;
    t.mailer.clear();

    let body = t.post("/signup").json(json!({"email": e, "password": "someone else", "data": {"x": 1}})).send().await.expect(200);
    assert!(body.get("access_token").is_none());
    assert_eq!(body["email"], e);
    assert_ne!(body["id"], real.user_id, "the real id is not revealed");
    assert_eq!(body["identities"], json!([]));
    assert_eq!(body["user_metadata"], json!({"x": 1}), "the stored metadata is not revealed");
    assert!(body.get("email_confirmed_at").is_none() && body.get("confirmed_at").is_none() && body.get("last_sign_in_at").is_none(), "{body}");
    assert!(is_timestamp(&body["confirmation_sent_at"]));
    assert!(t.mailer.last_to(&e).is_none(), "a confirmed user gets no new confirmation mail");
    // Nothing changed for the real user.
    t.sign_in(&e, PASSWORD).await;
    t.password_grant(&e, "someone else").await.expect_code(400, "invalid_credentials");
}

#[tokio::test]
async fn weak_passwords_are_refused_with_reasons() {
    let t = Setup::new().start().await;
    let r = t.post("/signup").json(json!({"email": email("weak"), "password": "12345"})).send().await;
    let body = r.expect(422);
    assert_eq!(body, json!({"code": "weak_password", "message": "Password should be at least 6 characters.", "weak_password": {"reasons": ["length"]}}));

    let r = t.post("/signup").json(json!({"email": email("weak"), "password": "12345"})).legacy().send().await;
    assert_eq!(
        r.expect(422),
        json!({"code": 422, "error_code": "weak_password", "msg": "Password should be at least 6 characters.", "weak_password": {"reasons": ["length"]}})
    );

    let t = Setup::new().set("AUTH_PASSWORD_REQUIRED_CHARACTERS", "abcdefghijklmnopqrstuvwxyz:0123456789").start().await;
    let body = t.post("/signup").json(json!({"email": email("weak"), "password": "abcdefgh"})).send().await.expect_code(422, "weak_password");
    assert_eq!(body["weak_password"]["reasons"], json!(["characters"]));
    t.post("/signup").json(json!({"email": email("strong"), "password": "abcdefgh1"})).send().await.expect(200);
}

#[tokio::test]
async fn missing_password_and_bad_addresses_are_validation_errors() {
    let t = Setup::new().start().await;
    t.post("/signup").json(json!({"email": email("nopw")})).send().await.expect_error(400, "validation_failed", "Signup requires a valid password");
    for bad in ["not-an-email", "a@b_c.com", "two words@example.com"] {
        t.post("/signup")
            .json(json!({"email": bad, "password": PASSWORD}))
            .send()
            .await
            .expect_error(400, "validation_failed", "Unable to validate email address: invalid format");
    }
    t.post("/recover").json(json!({"email": ""})).send().await.expect_error(400, "validation_failed", "An email address is required");
    let long = format!("{}@example.com", "a".repeat(250));
    t.post("/signup").json(json!({"email": long, "password": PASSWORD})).send().await.expect_error(400, "validation_failed", "An email address is too long");
    // GoTrue decodes `data` into an object.
    t.post("/signup").json(json!({"email": email("meta"), "password": PASSWORD, "data": [1, 2]})).send().await.expect_code(400, "bad_json");
    // Neither email nor phone: GoTrue treats it as an anonymous sign-in.
    t.post("/signup").json(json!({"email": "", "password": PASSWORD})).send().await.expect_code(422, "anonymous_provider_disabled");
}

#[tokio::test]
async fn malformed_json_is_bad_json_in_both_formats() {
    let t = Setup::new().start().await;
    let r = t.post("/signup").raw("{\"email\": ").send().await;
    let body = r.expect_code(400, "bad_json");
    assert!(body["message"].as_str().unwrap().starts_with("Could not parse request body as JSON: "), "{body}");
    assert_eq!(r.header(VERSION_HEADER), Some(API_VERSION), "the version header is echoed");
    assert_eq!(body.as_object().unwrap().len(), 2, "exactly code and message: {body}");

    let r = t.post("/signup").raw("[1,").legacy().send().await;
    let body = r.expect(400);
    assert_eq!(body["code"], 400);
    assert_eq!(body["error_code"], "bad_json");
    assert!(body["msg"].as_str().unwrap().starts_with("Could not parse request body as JSON: "));
    assert!(r.header(VERSION_HEADER).is_none(), "no version header without the request header");

    // A body of the wrong JSON type is bad_json too, never silently empty (V-18).
    t.post("/signup").raw("\"just a string\"").send().await.expect_code(400, "bad_json");
    t.post("/token?grant_type=password").raw("{oops}").send().await.expect_code(400, "bad_json");
    t.post("/otp").raw("{").send().await.expect_code(400, "bad_json");
}

#[tokio::test]
async fn anonymous_sign_in_when_enabled() {
    let t = Setup::new().anonymous(true).start().await;
    let body = t.post("/signup").send().await.expect(200);
    let s = Session::from_body(body.clone());
    assert_eq!(body["user"]["is_anonymous"], true);
    assert_eq!(body["user"]["email"], "");
    assert_eq!(body["user"]["role"], "authenticated");
    assert_eq!(body["user"]["identities"], json!([]));
    let claims = s.claims();
    assert_eq!(claims["is_anonymous"], true);
    assert_eq!(claims["role"], "authenticated");
    assert_eq!(claims["amr"][0]["method"], "anonymous");
    assert_eq!(claims["app_metadata"], body["user"]["app_metadata"]);

    // With data, as `signInAnonymously({options: {data}})` sends it.
    let body = t.post("/signup").json(json!({"data": {"nick": "guest"}})).send().await.expect(200);
    assert_eq!(body["user"]["user_metadata"]["nick"], "guest");

    // The anonymous session refreshes and reads its user.
    let refreshed = Session::from_body(t.refresh(&s.refresh_token).await.expect(200));
    assert_eq!(refreshed.claims()["is_anonymous"], true);
    let me = t.get("/user").bearer(&refreshed.access_token).send().await.expect(200);
    assert_eq!(me["is_anonymous"], true);
}

#[tokio::test]
async fn anonymous_sign_in_when_disabled() {
    let t = Setup::new().start().await;
    t.post("/signup").send().await.expect_error(422, "anonymous_provider_disabled", "Anonymous sign-ins are disabled");
    t.post("/signup").json(json!({})).send().await.expect_error(422, "anonymous_provider_disabled", "Anonymous sign-ins are disabled");
    let r = t.post("/signup").legacy().send().await;
    assert_eq!(r.expect(422), json!({"code": 422, "error_code": "anonymous_provider_disabled", "msg": "Anonymous sign-ins are disabled"}));
}

#[tokio::test]
async fn disabled_signups_and_phone_signups_are_refused() {
    let t = Setup::new().set("DISABLE_SIGNUP", "true").start().await;
    t.post("/signup").json(json!({"email": email("closed"), "password": PASSWORD})).send().await.expect_error(422, "signup_disabled", "Signups not allowed for this instance");
    let t = Setup::new().start().await;
    t.post("/signup").json(json!({"phone": "+15555550100", "password": PASSWORD})).send().await.expect_error(400, "phone_provider_disabled", "Phone signups are disabled");
}

#[tokio::test]
async fn concurrent_sign_ups_for_one_address_create_one_user() {
    let t = Setup::new().start().await;
    let e = email("race");
    let send = || t.post("/signup").json(json!({"email": e, "password": PASSWORD})).send();
    let (a, b, c) = tokio::join!(send(), send(), send());
    let mut statuses = vec![a.status, b.status, c.status];
    statuses.sort();
    assert_eq!(statuses, [200, 422, 422], "{} / {} / {}", String::from_utf8_lossy(&a.body), String::from_utf8_lossy(&b.body), String::from_utf8_lossy(&c.body));
    for r in [&a, &b, &c] {
        if r.status == 422 {
            r.expect_error(422, "user_already_exists", "User already registered");
        }
    }
    let users: i64 = t.query_one("SELECT count(*) FROM auth.users WHERE email = $1", &[&e]).await.get(0);
    assert_eq!(users, 1);
}
