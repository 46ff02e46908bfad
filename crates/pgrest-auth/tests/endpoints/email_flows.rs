//! Email flows: `/otp`, `/magiclink`, `/verify` (POST and the GET link with its redirect),
//! `/recover` and `/resend`, with the capture mailer standing in for SMTP.

use serde_json::json;

use crate::harness::*;

/// The `token` (hash) of the last link mailed to `to`.
fn link_token(t: &TestAuth, to: &str) -> String {
    let link = t.link_for(to);
    pairs(link.split_once('?').unwrap().1)["token"].clone()
}

#[tokio::test]
async fn otp_for_a_new_address_creates_the_user_and_the_code_signs_in_once() {
    let t = Setup::new().autoconfirm(false).start().await;
    let e = email("otp");
    let r = t.post("/otp").json(json!({"email": e.to_uppercase(), "data": {"src": "otp"}})).send().await;
    assert_eq!(r.expect(200), json!({}));
    let row = t.query_one("SELECT coalesce(encrypted_password, ''), email_confirmed_at IS NULL FROM auth.users WHERE email = $1", &[&e]).await;
    assert_eq!(row.get::<_, String>(0), "", "no password");
    assert!(row.get::<_, bool>(1), "not confirmed yet");
    let code = t.code_for(&e);
    assert_eq!(code.len(), 6);
    assert!(code.bytes().all(|b| b.is_ascii_digit()), "{code}");

    // A wrong code, or the code with another address, is refused.
    let wrong = if code == "000000" { "111111" } else { "000000" };
    t.post("/verify").json(json!({"type": "email", "email": e, "token": wrong})).send().await.expect_error(403, "otp_expired", "Token has expired or is invalid");
    t.post("/verify").json(json!({"type": "email", "email": email("other"), "token": code})).send().await.expect_code(403, "otp_expired");

    let body = t.post("/verify").json(json!({"type": "email", "email": e, "token": code})).send().await.expect(200);
    let s = Session::from_body(body);
    assert_eq!(s.email, e);
    assert_eq!(s.body["user"]["user_metadata"]["src"], "otp");
    assert!(s.body["user"]["email_confirmed_at"].is_string());
    assert_eq!(s.claims()["amr"][0]["method"], "otp");
    t.get("/user").bearer(&s.access_token).send().await.expect(200);

    t.post("/verify").json(json!({"type": "email", "email": e, "token": code})).send().await.expect_error(403, "otp_expired", "Token has expired or is invalid");

    // A confirmed user asking again gets a magic link with a fresh code.
    t.post("/otp").json(json!({"email": e})).send().await.expect(200);
    assert_eq!(t.mail_to(&e).subject, "Your Magic Link");
    let code = t.code_for(&e);
    let again = Session::from_body(t.post("/verify").json(json!({"type": "email", "email": e, "token": code})).send().await.expect(200));
    assert_eq!(again.user_id, s.user_id);
}

#[tokio::test]
async fn otp_without_sign_ups_and_otp_errors() {
    let t = Setup::new().start().await;
    let e = email("nocreate");
    t.post("/otp").json(json!({"email": e, "create_user": false})).send().await.expect_error(422, "otp_disabled", "Signups not allowed for otp");
    assert!(t.mailer.last_to(&e).is_none());
    t.post("/otp").json(json!({"email": "not-an-address"})).send().await.expect_code(400, "validation_failed");
    t.post("/otp").json(json!({"phone": "+15555550100"})).send().await.expect_code(422, "phone_provider_disabled");
    let t = Setup::new().set("DISABLE_SIGNUP", "true").start().await;
    t.post("/otp").json(json!({"email": email("closed")})).send().await.expect_code(422, "otp_disabled");
}

#[tokio::test]
async fn magic_link_redirects_with_the_session_in_the_fragment() {
    let t = Setup::new().start().await;
    let e = email("magic");
    let first = t.signup(&e, PASSWORD).await;
    let r = t.post("/magiclink").json(json!({"email": e})).send().await;
    assert_eq!(r.expect(200), json!({}));
    let mail = t.mail_to(&e);
    assert_eq!(mail.subject, "Your Magic Link");
    let link = t.link_for(&e);
    let query = pairs(link.split_once('?').unwrap().1);
    assert_eq!(query["type"], "magiclink");
    assert_eq!(query["redirect_to"], SITE_URL, "no redirect_to asked: the site URL");

    let path = format!("/verify?token={}&type=magiclink&redirect_to=http://localhost:3000/welcome", query["token"]);
    let r = t.get(&path).send().await;
    assert_eq!(r.status, 303);
    let location = r.location();
    assert!(location.starts_with("http://localhost:3000/welcome#access_token="), "{location}");
    let f = fragment(&location);
    assert_eq!(f["type"], "magiclink");
    assert_eq!(f["token_type"], "bearer");
    assert_eq!(f["expires_in"], "3600");
    assert!(f["expires_at"].parse::<u64>().is_ok());
    let claims = t.app.keys().verify(&f["access_token"]).unwrap();
    assert_eq!(claims["sub"], first.user_id);
    assert_eq!(claims["amr"][0]["method"], "otp");
    let refreshed = Session::from_body(t.refresh(&f["refresh_token"]).await.expect(200));
    assert_eq!(refreshed.user_id, first.user_id);

    // Single use: the same link again is an error redirect.
    let r = t.get(&path).send().await;
    assert_eq!(r.status, 303);
    let f = fragment(&r.location());
    assert_eq!(f["error"], "access_denied");
    assert_eq!(f["error_code"], "otp_expired");
    assert_eq!(f["error_description"], "Email link is invalid or has expired");
    assert!(!r.location().contains("access_token"));
}

#[tokio::test]
async fn verify_links_never_redirect_outside_the_allow_list() {
    let t = Setup::new().start().await;
    let e = email("redirects");
    t.signup(&e, PASSWORD).await;

    // The mailed link carries the site URL instead of a refused redirect_to.
    t.post("/magiclink?redirect_to=https://evil.example/steal").json(json!({"email": e})).send().await.expect(200);
    let link = t.link_for(&e);
    assert!(!link.contains("evil"), "{link}");

    for evil in [
        "https://evil.example",
        "https://evil.example/http://localhost:3000/",
        "http://localhost:3000.evil.example/",
        "http://localhost:3001/",
        "//evil.example",
        "javascript:alert(1)",
        "http://user@evil.example",
    ] {
        t.post("/magiclink").json(json!({"email": e})).send().await.expect(200);
        let token = link_token(&t, &e);
        let redirect = percent_encoding::utf8_percent_encode(evil, percent_encoding::NON_ALPHANUMERIC);
        let r = t.get(&format!("/verify?token={token}&type=magiclink&redirect_to={redirect}")).send().await;
        assert_eq!(r.status, 303);
        let location = r.location();
        assert!(location.starts_with(&format!("{SITE_URL}#access_token=")), "{evil} -> {location}");
        // A failed verification goes to the site URL too.
        let r = t.get(&format!("/verify?token=bogus&type=magiclink&redirect_to={redirect}")).send().await;
        assert!(r.location().starts_with(&format!("{SITE_URL}#error=")), "{evil} -> {}", r.location());
    }

    // Allowed: the site's own pages, the allow-list's patterns and custom schemes.
    for (allowed, expect_prefix) in [
        ("http://localhost:3000/a/b?x=1", "http://localhost:3000/a/b?x=1#access_token="),
        ("myapp://cb", "myapp://cb#access_token="),
    ] {
        t.post("/magiclink").json(json!({"email": e})).send().await.expect(200);
        let token = link_token(&t, &e);
        let redirect = percent_encoding::utf8_percent_encode(allowed, percent_encoding::NON_ALPHANUMERIC);
        let r = t.get(&format!("/verify?token={token}&type=magiclink&redirect_to={redirect}")).send().await;
        assert!(r.location().starts_with(expect_prefix), "{allowed} -> {}", r.location());
    }
}

#[tokio::test]
async fn expired_links_and_codes() {
    let t = Setup::new().start().await;
    let e = email("expired");
    t.signup(&e, PASSWORD).await;
    let age = "UPDATE auth.one_time_tokens SET created_at = now() - interval '2 hours' WHERE relates_to = $1";

    t.post("/magiclink").json(json!({"email": e})).send().await.expect(200);
    let token = link_token(&t, &e);
    assert_eq!(t.execute(age, &[&e]).await, 1);
    let r = t.get(&format!("/verify?token={token}&type=magiclink&redirect_to=http://localhost:3000/welcome")).send().await;
    assert_eq!(r.status, 303);
    let location = r.location();
    assert!(location.starts_with("http://localhost:3000/welcome#"), "{location}");
    let f = fragment(&location);
    assert_eq!(f["error"], "access_denied");
    assert_eq!(f["error_code"], "otp_expired");
    assert!(!f.contains_key("access_token"));

    t.post("/magiclink").json(json!({"email": e})).send().await.expect(200);
    let token = link_token(&t, &e);
    t.execute(age, &[&e]).await;
    t.post("/verify").json(json!({"type": "magiclink", "token_hash": token})).send().await.expect_error(403, "otp_expired", "Email link is invalid or has expired");

    t.post("/otp").json(json!({"email": e})).send().await.expect(200);
    let code = t.code_for(&e);
    t.execute(age, &[&e]).await;
    t.post("/verify").json(json!({"type": "email", "email": e, "token": code})).send().await.expect_error(403, "otp_expired", "Token has expired or is invalid");

    // An hour is the default lifetime: 59 minutes old still works.
    t.post("/otp").json(json!({"email": e})).send().await.expect(200);
    let code = t.code_for(&e);
    t.execute("UPDATE auth.one_time_tokens SET created_at = now() - interval '59 minutes' WHERE relates_to = $1", &[&e]).await;
    t.post("/verify").json(json!({"type": "email", "email": e, "token": code})).send().await.expect(200);
}

#[tokio::test]
async fn recover_mails_known_addresses_only_and_the_link_allows_a_new_password() {
    let t = Setup::new().start().await;
    let unknown = email("unknown");
    let r = t.post("/recover").json(json!({"email": unknown})).send().await;
    assert_eq!(r.expect(200), json!({}));
    assert!(t.mailer.messages().is_empty(), "no mail for an unknown address");

    let e = email("forgot");
    t.signup(&e, PASSWORD).await;
    let r = t.post("/recover?redirect_to=http://localhost:3000/reset").json(json!({"email": e})).send().await;
    assert_eq!(r.expect(200), json!({}));
    assert_eq!(t.mail_to(&e).subject, "Reset Your Password");
    let link = t.link_for(&e);
    let query = pairs(link.split_once('?').unwrap().1);
    assert_eq!(query["type"], "recovery");
    assert_eq!(query["redirect_to"], "http://localhost:3000/reset");
    let user: serde_json::Value = t.get("/user").bearer(&t.sign_in(&e, PASSWORD).await.access_token).send().await.expect(200);
    assert!(user["recovery_sent_at"].is_string());

    let s = Session::from_body(t.post("/verify").json(json!({"type": "recovery", "token_hash": query["token"]})).send().await.expect(200));
    assert_eq!(s.claims()["amr"][0]["method"], "otp", "GoTrue records verifications as otp");
    t.put("/user").bearer(&s.access_token).json(json!({"password": "the new password"})).send().await.expect(200);
    t.sign_in(&e, "the new password").await;
    t.password_grant(&e, PASSWORD).await.expect_code(400, "invalid_credentials");

    // The six-digit code of a recovery mail works too.
    t.post("/recover").json(json!({"email": e})).send().await.expect(200);
    let code = t.code_for(&e);
    t.post("/verify").json(json!({"type": "recovery", "email": e, "token": code})).send().await.expect(200);
}

#[tokio::test]
async fn resend_sends_the_confirmation_again() {
    let t = Setup::new().autoconfirm(false).start().await;
    let e = email("resend");
    t.post("/signup").json(json!({"email": e, "password": PASSWORD})).send().await.expect(200);
    let first = t.code_for(&e);
    let r = t.post("/resend").json(json!({"type": "signup", "email": e})).send().await;
    assert_eq!(r.expect(200), json!({}));
    let sent: Vec<_> = t.mailer.messages().into_iter().filter(|m| m.to == e).collect();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].subject, "Confirm Your Email");
    let second = t.code_for(&e);
    if first != second {
        t.post("/verify").json(json!({"type": "signup", "email": e, "token": first})).send().await.expect_code(403, "otp_expired");
    }
    t.post("/verify").json(json!({"type": "signup", "email": e, "token": second})).send().await.expect(200);
    t.sign_in(&e, PASSWORD).await;

    // Confirmed now: nothing more to resend, and unknown addresses answer the same.
    t.mailer.clear();
    t.post("/resend").json(json!({"type": "signup", "email": e})).send().await.expect(200);
    t.post("/resend").json(json!({"type": "signup", "email": email("nobody")})).send().await.expect(200);
    assert!(t.mailer.messages().is_empty());
    t.post("/resend").json(json!({"type": "sms", "email": e})).send().await.expect_code(400, "validation_failed");
}

#[tokio::test]
async fn verify_request_errors() {
    let t = Setup::new().start().await;
    t.post("/verify").json(json!({"token_hash": "x"})).send().await.expect_error(400, "validation_failed", "Verify requires a verification type");
    t.post("/verify").json(json!({"type": "sms", "token_hash": "x"})).send().await.expect_error(400, "validation_failed", "Unsupported verification type");
    t.post("/verify").json(json!({"type": "email"})).send().await.expect_error(400, "validation_failed", "Verify requires either a token or a token hash");
    t.post("/verify").json(json!({"type": "magiclink", "token_hash": "unknown"})).send().await.expect_error(403, "otp_expired", "Email link is invalid or has expired");
    // A signup token cannot be used as a recovery token.
    let t = Setup::new().autoconfirm(false).start().await;
    let e = email("types");
    t.post("/signup").json(json!({"email": e, "password": PASSWORD})).send().await.expect(200);
    let token = link_token(&t, &e);
    t.post("/verify").json(json!({"type": "recovery", "token_hash": token})).send().await.expect_code(403, "otp_expired");
    t.post("/verify").json(json!({"type": "signup", "token_hash": token})).send().await.expect(200);
}

#[tokio::test]
async fn addresses_the_mailer_refuses_are_client_errors_never_500() {
    let t = Setup::new().autoconfirm(false).start().await;
    // Valid by GoTrue's format check, refused by the mail library: GoTrue's email_address_invalid.
    for odd in ["a..b@example.com", ".dot@example.com"] {
        let r = t.post("/signup").json(json!({"email": odd, "password": PASSWORD})).send().await;
        r.expect_error(400, "email_address_invalid", &format!("Email address \"{odd}\" is invalid"));
        t.post("/otp").json(json!({"email": odd})).send().await.expect_code(400, "email_address_invalid");
        let users: i64 = t.query_one("SELECT count(*) FROM auth.users WHERE email = $1", &[&odd]).await.get(0);
        assert_eq!(users, 0, "nothing is left behind");
    }
    // Not an address by GoTrue's format check.
    for bad in ["a,b@example.com", "x@a_b.com", "x@-a.com", "x@a-.com", "@example.com", "x@", "x@a..com"] {
        t.post("/signup")
            .json(json!({"email": bad, "password": PASSWORD}))
            .send()
            .await
            .expect_error(400, "validation_failed", "Unable to validate email address: invalid format");
    }
    // GoTrue accepts single-label domains.
    t.post("/signup").json(json!({"email": "someone@localhost", "password": PASSWORD})).send().await.expect(200);
    assert!(t.mailer.last_to("someone@localhost").is_some());
}

#[tokio::test]
async fn verify_link_errors_redirect_with_gotrue_error_names() {
    let t = Setup::new().start().await;
    // No type: a 400, so `invalid_request`.
    let r = t.get("/verify?token=abc&redirect_to=http://localhost:3000/x").send().await;
    assert_eq!(r.status, 303);
    let f = fragment(&r.location());
    assert_eq!(f["error"], "invalid_request");
    assert_eq!(f["error_code"], "validation_failed");
    assert_eq!(f["error_description"], "Verify requires a verification type");
    // A redirect target with a line break cannot be a Location: the site URL is used instead.
    let e = email("crlf");
    t.signup(&e, PASSWORD).await;
    t.post("/magiclink").json(json!({"email": e})).send().await.expect(200);
    let token = link_token(&t, &e);
    let r = t.get(&format!("/verify?token={token}&type=magiclink&redirect_to=http%3A%2F%2Flocalhost%3A3000%2F%0D%0ASet-Cookie%3A%20x%3D1")).send().await;
    assert_eq!(r.status, 303);
    assert!(r.location().starts_with(&format!("{SITE_URL}#access_token=")), "{}", r.location());
    assert!(r.header("set-cookie").is_none());
}

#[tokio::test]
async fn a_code_verified_twice_at_once_signs_in_once() {
    let t = Setup::new().start().await;
    let e = email("twice");
    t.signup(&e, PASSWORD).await;
    t.post("/otp").json(json!({"email": e})).send().await.expect(200);
    let code = t.code_for(&e);
    let body = json!({"type": "email", "email": e, "token": code});
    let (a, b) = tokio::join!(t.post("/verify").json(body.clone()).send(), t.post("/verify").json(body.clone()).send());
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [200, 403], "{} / {}", String::from_utf8_lossy(&a.body), String::from_utf8_lossy(&b.body));
}

#[tokio::test]
async fn one_mail_of_a_kind_per_user_per_interval() {
    let t = Setup::new().autoconfirm(false).set("SMTP_MAX_FREQUENCY", "60").start().await;
    let e = email("frequency");
    t.post("/signup").json(json!({"email": e, "password": PASSWORD})).send().await.expect(200);
    let r = t.post("/resend").json(json!({"type": "signup", "email": e})).send().await;
    let body = r.expect_code(429, "over_email_send_rate_limit");
    let message = body["message"].as_str().unwrap();
    assert!(message.starts_with("For security purposes, you can only request this after ") && message.ends_with(" seconds."), "{message}");
    assert_eq!(t.mailer.messages().len(), 1);
    // Another kind of mail has its own clock.
    t.post("/recover").json(json!({"email": e})).send().await.expect(200);
    t.post("/recover").json(json!({"email": e})).send().await.expect_code(429, "over_email_send_rate_limit");
    // Once the interval has passed, the confirmation goes out again.
    t.execute("UPDATE auth.users SET confirmation_sent_at = now() - interval '61 seconds' WHERE email = $1", &[&e]).await;
    t.post("/resend").json(json!({"type": "signup", "email": e})).send().await.expect(200);
    assert_eq!(t.mailer.messages().len(), 3);
}

#[tokio::test]
async fn pkce_email_link_yields_a_code_that_only_the_verifier_can_exchange() {
    use pgrest_auth::oauth::pkce;
    let t = Setup::new().autoconfirm(false).start().await;
    let e = email("pkce");
    let verifier = pkce::new_verifier();
    let challenge = pkce::challenge_s256(&verifier);
    let r = t
        .post("/otp?redirect_to=http://localhost:3000/cb")
        .json(json!({"email": e, "code_challenge": challenge, "code_challenge_method": "s256"}))
        .send()
        .await;
    assert_eq!(r.expect(200), json!({}));
    let token = link_token(&t, &e);
    assert!(token.starts_with("pkce_"), "{token}");

    // Following the link redirects with an auth code instead of tokens in the fragment.
    let r = t.get(&format!("/verify?token={token}&type=signup&redirect_to=http://localhost:3000/cb")).send().await;
    assert_eq!(r.status, 303);
    let location = r.location();
    let code = location.strip_prefix("http://localhost:3000/cb?code=").unwrap_or_else(|| panic!("{location}")).to_string();
    assert!(!location.contains("access_token"), "{location}");

    // A wrong verifier is refused and uses the flow up; a fresh link (now a magic link: the
    // address was confirmed by the first one) with the right verifier works.
    t.post("/token?grant_type=pkce").json(json!({"auth_code": code, "code_verifier": pkce::new_verifier()})).send().await.expect_code(400, "bad_code_verifier");
    t.post("/token?grant_type=pkce").json(json!({"auth_code": code, "code_verifier": verifier})).send().await.expect_code(404, "flow_state_not_found");

    let verifier = pkce::new_verifier();
    let challenge = pkce::challenge_s256(&verifier);
    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    t.execute("UPDATE auth.users SET confirmation_sent_at = NULL, recovery_sent_at = NULL WHERE email = $1", &[&e]).await;
    let r = t.post("/otp").json(json!({"email": e, "code_challenge": challenge, "code_challenge_method": "s256"})).send().await;
    r.expect(200);
    let token = link_token(&t, &e);
    let r = t.get(&format!("/verify?token={token}&type=magiclink&redirect_to=http://localhost:3000/cb")).send().await;
    let code = pairs(r.location().split_once('?').unwrap().1)["code"].clone();
    let session = t.post("/token?grant_type=pkce").json(json!({"auth_code": code, "code_verifier": verifier})).send().await.expect(200);
    assert_eq!(session["user"]["email"], json!(e));
    assert!(session["access_token"].as_str().is_some_and(|a| !a.is_empty()));
}
