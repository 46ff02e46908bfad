//! External sign-in through the fake OAuth/OIDC provider: `/authorize` → provider → `/callback`,
//! implicit (session in the fragment) and PKCE (`?code=` then `grant_type=pkce`), GitHub, Google
//! and a generic OIDC provider, state replay, refused redirects and provider errors.

use pgrest_auth::oauth::pkce;
use serde_json::json;

use crate::harness::*;
use crate::support::fake_oauth::{DENY_HINT, FakeEmail, FakeProvider, FakeUser, OIDC_NAME, query_param};

fn users() -> Vec<FakeUser> {
    vec![
        FakeUser::new(1001, "octocat", "Octo@Example.com"),
        FakeUser::new(1002, "mona", "mona@example.com"),
        FakeUser::new(1003, "sneaky", "victim@example.com").unverified(),
        FakeUser::new(1004, "nomail", "x@example.com").with_emails(vec![]),
        FakeUser::new(1005, "second", "second@example.com").with_emails(vec![FakeEmail::new("second@example.com", true, true)]),
        FakeUser::new(1006, "unv", "unv@example.com").unverified(),
    ]
}

async fn setup() -> (FakeProvider, TestAuth) {
    let fake = FakeProvider::start(users()).await;
    let t = Setup::new().oauth(&fake).start().await;
    (fake, t)
}

/// The browser's trip: our `/authorize` → the provider (as `login_hint`) → back at our callback.
/// Returns the callback's response.
pub(crate) async fn browse(t: &TestAuth, fake: &FakeProvider, authorize_query: &str, hint: Option<&str>) -> Reply {
    let r = t.get(&format!("/authorize?{authorize_query}")).send().await;
    assert_eq!(r.status, 302, "authorize: {}", String::from_utf8_lossy(&r.body));
    let mut to_provider = r.location();
    assert!(to_provider.starts_with(fake.base_url()), "{to_provider}");
    if let Some(h) = hint {
        to_provider.push_str(&format!("&login_hint={h}"));
    }
    let back = fake.follow_authorize(&to_provider).await;
    assert!(back.as_str().starts_with(&format!("{EXTERNAL_URL}/auth/v1/callback?")), "{back}");
    t.get(&TestAuth::local_path(back.as_str())).send().await
}

#[tokio::test]
async fn github_sign_in_creates_the_user_then_reuses_it() {
    let (fake, t) = setup().await;
    let r = t.get("/authorize?provider=github&redirect_to=http://localhost:3000/cb").send().await;
    assert_eq!(r.status, 302);
    let location = url::Url::parse(&r.location()).unwrap();
    assert_eq!(location.path(), "/login/oauth/authorize");
    assert_eq!(query_param(&location, "client_id").as_deref(), Some("fake-client-id"));
    assert_eq!(query_param(&location, "redirect_uri").as_deref(), Some(format!("{EXTERNAL_URL}/auth/v1/callback").as_str()));
    assert_eq!(query_param(&location, "response_type").as_deref(), Some("code"));
    let state = query_param(&location, "state").expect("state");
    assert!(state.len() >= 32);
    // Only the state's hash is stored.
    let stored: i64 = t.query_one("SELECT count(*) FROM auth.flow_state WHERE state_hash = $1", &[&state]).await.get(0);
    assert_eq!(stored, 0);

    let back = fake.follow_authorize(location.as_str()).await;
    let r = t.get(&TestAuth::local_path(back.as_str())).send().await;
    assert_eq!(r.status, 303);
    let location = r.location();
    assert!(location.starts_with("http://localhost:3000/cb#access_token="), "{location}");
    let f = fragment(&location);
    assert_eq!(f["token_type"], "bearer");
    assert_eq!(f["expires_in"], "3600");
    let claims = t.app.keys().verify(&f["access_token"]).unwrap();
    assert_eq!(claims["email"], "octo@example.com");
    assert_eq!(claims["app_metadata"]["provider"], "github");
    assert_eq!(claims["amr"][0]["method"], "oauth");

    let user = t.get("/user").bearer(&f["access_token"]).send().await.expect(200);
    assert_eq!(user["email"], "octo@example.com");
    assert!(user["email_confirmed_at"].is_string(), "the provider vouched for the address");
    assert_eq!(user["app_metadata"]["provider"], "github");
    assert_eq!(user["app_metadata"]["providers"], json!(["github"]));
    assert_eq!(user["user_metadata"]["full_name"], "octocat Example");
    assert_eq!(user["user_metadata"]["avatar_url"], "https://avatars.example.test/1001.png");
    let identities = user["identities"].as_array().unwrap();
    assert_eq!(identities.len(), 1);
    assert_eq!(identities[0]["provider"], "github");
    assert_eq!(identities[0]["id"], "1001");
    assert_eq!(identities[0]["identity_data"]["email"], "octo@example.com");
    assert_eq!(identities[0]["identity_data"]["provider_id"], "1001");

    // V-07: nothing of the provider's tokens reaches the client or the identity.
    assert!(!f["refresh_token"].starts_with("fake-"));
    assert!(!location.contains("fake-at-") && !location.contains("fake-rt-"));
    assert!(!user.to_string().contains("fake-at-"));

    // The refresh token works like any other.
    t.refresh(&f["refresh_token"]).await.expect(200);

    // A second sign-in reuses the user.
    let r = browse(&t, &fake, "provider=github&redirect_to=http://localhost:3000/cb", None).await;
    let again = fragment(&r.location());
    let claims2 = decode_claims(&again["access_token"]);
    assert_eq!(claims2["sub"], claims["sub"]);
    assert_ne!(claims2["session_id"], claims["session_id"]);
    let users: i64 = t.query_one("SELECT count(*) FROM auth.users", &[]).await.get(0);
    assert_eq!(users, 1);
    let identities: i64 = t.query_one("SELECT count(*) FROM auth.identities", &[]).await.get(0);
    assert_eq!(identities, 1);
}

#[tokio::test]
async fn a_verified_provider_address_links_to_the_existing_account() {
    // Linking keeps the account when its owner proved the address (here: the sign-up's
    // confirmation link); see linking.rs for accounts confirmed without proof.
    let fake = FakeProvider::start(users()).await;
    let t = Setup::new().oauth(&fake).autoconfirm(false).start().await;
    t.post("/signup").json(json!({"email": "mona@example.com", "password": PASSWORD})).send().await.expect(200);
    let r = t.get(&TestAuth::local_path(&t.link_for("mona@example.com"))).send().await;
    let owner_id = decode_claims(&fragment(&r.location())["access_token"])["sub"].clone();
    let r = browse(&t, &fake, "provider=github", Some("mona")).await;
    let location = r.location();
    assert!(location.starts_with(&format!("{SITE_URL}#access_token=")), "{location}");
    let f = fragment(&location);
    let user = t.get("/user").bearer(&f["access_token"]).send().await.expect(200);
    assert_eq!(user["id"], owner_id);
    assert_eq!(user["app_metadata"]["providers"], json!(["email", "github"]));
    let providers: Vec<&str> = user["identities"].as_array().unwrap().iter().map(|i| i["provider"].as_str().unwrap()).collect();
    assert_eq!(providers, ["email", "github"]);
    // The password still works.
    t.sign_in("mona@example.com", PASSWORD).await;
}

#[tokio::test]
async fn an_unverified_provider_address_does_not_take_over_an_account() {
    let (fake, t) = setup().await;
    let victim = t.signup("victim@example.com", PASSWORD).await;
    let r = browse(&t, &fake, "provider=github&redirect_to=http://localhost:3000/cb", Some("sneaky")).await;
    assert_eq!(r.status, 303);
    let location = r.location();
    assert!(location.starts_with("http://localhost:3000/cb#error="), "{location}");
    assert!(!location.contains("access_token"));
    let user = t.get("/user").bearer(&victim.access_token).send().await.expect(200);
    assert_eq!(user["identities"].as_array().unwrap().len(), 1, "no identity was linked");

    // A provider user without any address is refused too, with GoTrue's message.
    let r = browse(&t, &fake, "provider=github", Some("nomail")).await;
    let f = fragment(&r.location());
    assert_eq!(f["error_description"], "Error getting user email from external provider");
}

#[tokio::test]
async fn pkce_flow_returns_a_code_that_the_verifier_exchanges() {
    let (fake, t) = setup().await;
    let verifier = pkce::new_verifier();
    let challenge = pkce::challenge_s256(&verifier);
    let query = format!("provider=github&redirect_to=http://localhost:3000/cb&code_challenge={challenge}&code_challenge_method=s256");
    let r = browse(&t, &fake, &query, None).await;
    assert_eq!(r.status, 303);
    let location = url::Url::parse(&r.location()).unwrap();
    assert_eq!(&location.as_str()[..location.as_str().find('?').unwrap()], "http://localhost:3000/cb");
    assert!(location.fragment().is_none(), "no tokens in a PKCE redirect: {location}");
    let code = query_param(&location, "code").expect("code");

    let body = t.post("/token?grant_type=pkce").json(json!({"auth_code": code, "code_verifier": verifier})).send().await.expect(200);
    let s = Session::from_body(body);
    assert_eq!(s.email, "octo@example.com");
    assert_eq!(s.claims()["amr"][0]["method"], "oauth");
    t.get("/user").bearer(&s.access_token).send().await.expect(200);
    // The code is single-use.
    t.post("/token?grant_type=pkce").json(json!({"auth_code": code, "code_verifier": verifier})).send().await.expect_error(
        404,
        "flow_state_not_found",
        "invalid flow state, no valid flow state found",
    );
}

#[tokio::test]
async fn pkce_with_a_wrong_verifier_is_refused() {
    let (fake, t) = setup().await;
    let verifier = pkce::new_verifier();
    let challenge = pkce::challenge_s256(&verifier);
    let r = browse(&t, &fake, &format!("provider=github&code_challenge={challenge}&code_challenge_method=S256"), None).await;
    let code = query_param(&url::Url::parse(&r.location()).unwrap(), "code").unwrap();
    t.post("/token?grant_type=pkce").json(json!({"auth_code": code, "code_verifier": pkce::new_verifier()})).send().await.expect_error(
        400,
        "bad_code_verifier",
        "code challenge does not match previously saved code verifier",
    );
    t.post("/token?grant_type=pkce").json(json!({"auth_code": code})).send().await.expect_error(
        400,
        "validation_failed",
        "invalid request: both auth code and code verifier should be non-empty",
    );
    // A malformed challenge is refused at /authorize.
    t.get("/authorize?provider=github&code_challenge=short").send().await.expect_code(400, "validation_failed");
    t.get(&format!("/authorize?provider=github&code_challenge={challenge}&code_challenge_method=md5")).send().await.expect_code(400, "validation_failed");
}

#[tokio::test]
async fn a_replayed_state_gets_no_session() {
    let (fake, t) = setup().await;
    let r = t.get("/authorize?provider=github&redirect_to=http://localhost:3000/cb").send().await;
    let back = fake.follow_authorize(&r.location()).await;
    let path = TestAuth::local_path(back.as_str());
    let first = t.get(&path).send().await;
    assert!(fragment(&first.location()).contains_key("access_token"));

    let replay = t.get(&path).send().await;
    assert_eq!(replay.status, 303);
    let location = replay.location();
    assert!(location.starts_with(&format!("{SITE_URL}#")), "{location}");
    let f = fragment(&location);
    assert_eq!(f["error"], "invalid_request");
    assert_eq!(f["error_code"], "bad_oauth_state");
    assert!(!f.contains_key("access_token"));
    let sessions: i64 = t.query_one("SELECT count(*) FROM auth.sessions", &[]).await.get(0);
    assert_eq!(sessions, 1);

    // A forged state, or none, is refused the same way.
    let f = fragment(&t.get("/callback?code=x&state=forged").send().await.location());
    assert_eq!(f["error_code"], "bad_oauth_state");
    let f = fragment(&t.get("/callback?code=x").send().await.location());
    assert_eq!(f["error_code"], "bad_oauth_callback");
}

#[tokio::test]
async fn an_expired_flow_is_refused() {
    let (fake, t) = setup().await;
    let r = t.get("/authorize?provider=github&redirect_to=http://localhost:3000/cb").send().await;
    t.execute("UPDATE auth.flow_state SET created_at = now() - interval '1 hour'", &[]).await;
    let back = fake.follow_authorize(&r.location()).await;
    let r = t.get(&TestAuth::local_path(back.as_str())).send().await;
    let location = r.location();
    assert!(location.starts_with("http://localhost:3000/cb#error="), "{location}");
    let f = fragment(&location);
    assert_eq!(f["error_code"], "bad_oauth_state");
    assert_eq!(f["error_description"], "OAuth state has expired");
}

#[tokio::test]
async fn unknown_providers_and_refused_redirects() {
    let (fake, t) = setup().await;
    t.get("/authorize?provider=myspace").send().await.expect_error(400, "validation_failed", "Unsupported provider: Provider myspace could not be found");
    t.get("/authorize").send().await.expect_code(400, "validation_failed");

    for evil in ["https://evil.example/cb", "http://localhost:3000.evil.example/cb", "//evil.example"] {
        let redirect = percent_encoding::utf8_percent_encode(evil, percent_encoding::NON_ALPHANUMERIC);
        let r = browse(&t, &fake, &format!("provider=github&redirect_to={redirect}"), None).await;
        let location = r.location();
        assert!(location.starts_with(&format!("{SITE_URL}#access_token=")), "{evil} -> {location}");
    }
    // Errors go to allowed targets only, too (S-06).
    let r = browse(&t, &fake, "provider=github&redirect_to=https%3A%2F%2Fevil.example", Some(DENY_HINT)).await;
    assert!(r.location().starts_with(&format!("{SITE_URL}#error=")), "{}", r.location());
    // And an allowed custom scheme is kept.
    let r = browse(&t, &fake, "provider=github&redirect_to=myapp%3A%2F%2Fcb", None).await;
    assert!(r.location().starts_with("myapp://cb#access_token="), "{}", r.location());
}

#[tokio::test]
async fn a_provider_refusal_redirects_with_the_error() {
    let (fake, t) = setup().await;
    let r = browse(&t, &fake, "provider=github&redirect_to=http://localhost:3000/cb", Some(DENY_HINT)).await;
    assert_eq!(r.status, 303);
    let location = r.location();
    assert!(location.starts_with("http://localhost:3000/cb#"), "{location}");
    let f = fragment(&location);
    assert_eq!(f["error"], "access_denied");
    assert_eq!(f["error_description"], "The user denied the request");
    let users: i64 = t.query_one("SELECT count(*) FROM auth.users", &[]).await.get(0);
    assert_eq!(users, 0);
}

#[tokio::test]
async fn google_and_a_generic_oidc_provider() {
    let (fake, t) = setup().await;
    for provider in ["google", OIDC_NAME] {
        let r = t.get(&format!("/authorize?provider={provider}")).send().await;
        let location = url::Url::parse(&r.location()).unwrap();
        assert_eq!(location.path(), "/authorize");
        assert_eq!(query_param(&location, "scope").as_deref(), Some("openid email profile"));
        let r = browse(&t, &fake, &format!("provider={provider}&redirect_to=http://localhost:3000/cb"), Some("mona")).await;
        let location = r.location();
        assert!(location.starts_with("http://localhost:3000/cb#access_token="), "{provider}: {location}");
        let f = fragment(&location);
        let user = t.get("/user").bearer(&f["access_token"]).send().await.expect(200);
        assert_eq!(user["email"], "mona@example.com");
        assert!(user["identities"].as_array().unwrap().iter().any(|i| i["provider"] == provider && i["id"] == "1002"), "{provider}: {user}");
    }
    // One account, three identities by the same verified address.
    let r = browse(&t, &fake, "provider=github", Some("mona")).await;
    let f = fragment(&r.location());
    let user = t.get("/user").bearer(&f["access_token"]).send().await.expect(200);
    assert_eq!(user["app_metadata"]["providers"], json!(["fakeoidc", "github", "google"]));
    assert_eq!(user["identities"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn settings_show_the_configured_providers() {
    let (_fake, t) = setup().await;
    let body = t.get("/settings").send().await.expect(200);
    assert_eq!(body["external"]["github"], true);
    assert_eq!(body["external"]["google"], true);
    assert_eq!(body["external"][OIDC_NAME], true);
    assert_eq!(body["external"]["email"], true);
    assert_eq!(body["external"]["phone"], false);
    assert_eq!(body["external"]["apple"], false);
    assert_eq!(body["mailer_autoconfirm"], true);
}

#[tokio::test]
async fn an_unconfirmed_sign_up_cannot_pre_claim_an_account_the_provider_vouches_for() {
    let fake = FakeProvider::start(users()).await;
    let t = Setup::new().oauth(&fake).autoconfirm(false).start().await;
    // An attacker signs the victim's address up with a password of theirs, never confirming it.
    t.post("/signup").json(json!({"email": "mona@example.com", "password": "attacker's password", "data": {"planted": true}})).send().await.expect(200);
    // The address's owner signs in with GitHub, which has verified it.
    let r = browse(&t, &fake, "provider=github&redirect_to=http://localhost:3000/cb", Some("mona")).await;
    let location = r.location();
    assert!(location.starts_with("http://localhost:3000/cb#access_token="), "{location}");
    let f = fragment(&location);
    let user = t.get("/user").bearer(&f["access_token"]).send().await.expect(200);
    assert_eq!(user["email"], "mona@example.com");
    assert!(user["email_confirmed_at"].is_string());
    let providers: Vec<&str> = user["identities"].as_array().unwrap().iter().map(|i| i["provider"].as_str().unwrap()).collect();
    assert_eq!(providers, ["github"], "the unconfirmed email identity is gone");
    assert_eq!(user["app_metadata"]["providers"], json!(["github"]));
    assert!(user["user_metadata"].get("planted").is_none(), "{user}");
    // The attacker's password does not open the now-confirmed account.
    t.password_grant("mona@example.com", "attacker's password").await.expect_code(400, "invalid_credentials");
    // Nor does the confirmation mail sent at sign-up.
    let link = t.link_for("mona@example.com");
    let r = t.get(&TestAuth::local_path(&link)).send().await;
    assert_eq!(fragment(&r.location())["error_code"], "otp_expired");
}

#[tokio::test]
async fn an_unverified_provider_address_must_be_confirmed_by_mail_first() {
    let fake = FakeProvider::start(users()).await;
    let t = Setup::new().oauth(&fake).autoconfirm(false).start().await;
    let r = browse(&t, &fake, "provider=github&redirect_to=http://localhost:3000/cb", Some("unv")).await;
    let location = r.location();
    assert!(location.starts_with("http://localhost:3000/cb#"), "{location}");
    let f = fragment(&location);
    assert_eq!(f["error"], "access_denied");
    assert_eq!(f["error_code"], "provider_email_needs_verification");
    assert_eq!(f["error_description"], "Unverified email with github. A confirmation email has been sent to your github email");
    assert!(!f.contains_key("access_token"));
    let sessions: i64 = t.query_one("SELECT count(*) FROM auth.sessions", &[]).await.get(0);
    assert_eq!(sessions, 0);
    // The confirmation link confirms the address; then the provider sign-in works.
    let link = t.link_for("unv@example.com");
    assert!(link.contains("type=signup"), "{link}");
    let r = t.get(&TestAuth::local_path(&link)).send().await;
    assert!(fragment(&r.location()).contains_key("access_token"));
    let r = browse(&t, &fake, "provider=github", Some("unv")).await;
    assert!(fragment(&r.location()).contains_key("access_token"), "{}", r.location());

    // With autoconfirm the address counts as confirmed right away (as in GoTrue).
    let fake = FakeProvider::start(users()).await;
    let t = Setup::new().oauth(&fake).start().await;
    let r = browse(&t, &fake, "provider=github", Some("unv")).await;
    let f = fragment(&r.location());
    let user = t.get("/user").bearer(&f["access_token"]).send().await.expect(200);
    assert!(user["email_confirmed_at"].is_string());
}
