//! Tests of the OAuth client side (`pgrest_auth::oauth`) against the fake provider: authorize URLs,
//! code exchange for GitHub-, Google- and OIDC-kind configs, provider errors, PKCE and state helpers,
//! and `AUTH_EXTERNAL_*` parsing. Must not reach beyond 127.0.0.1.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code"
)]

mod support;

use std::collections::HashMap;

use axum::Router;
use axum::routing::{get, post};
use pgrest_auth::oauth::pkce::{self, Method};
use pgrest_auth::oauth::{OAuthError, ProviderConfig, ProviderKind, Stage, hash_state, new_state};
use serde_json::json;
use support::fake_oauth::{
    CLIENT_ID, CLIENT_SECRET, DENY_HINT, FakeEmail, FakeProvider, FakeUser, OIDC_NAME, query_param,
};

const CALLBACK: &str = "http://127.0.0.1:9/auth/v1/callback";

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap()
}

fn users() -> Vec<FakeUser> {
    vec![
        FakeUser::new(1001, "octocat", "Octo@Example.com").with_emails(vec![
            FakeEmail::new("old@example.com", false, true),
            FakeEmail::new("Octo@Example.com", true, true),
            FakeEmail::new("unverified@example.com", false, false),
        ]),
        FakeUser::new(1002, "mona", "mona@example.com")
            .with_name(None)
            .with_emails(vec![
                FakeEmail::new("mona-primary@example.com", true, false),
                FakeEmail::new("mona-verified@example.com", false, true),
            ]),
        FakeUser::new(1003, "nomail", "x@example.com").with_emails(vec![]),
        FakeUser::new(1004, "gsuite", "ann@corp.example")
            .with_claim("hd", json!("corp.example"))
            .with_claim("groups", json!(["admins"])),
        FakeUser::new(1005, "unverified", "unv@example.com").unverified(),
    ]
}

fn pairs(url: &url::Url) -> HashMap<String, String> {
    url.query_pairs().into_owned().collect()
}

/// Runs the browser half: authorize at the fake, return the code after checking the state.
async fn login(
    fake: &FakeProvider,
    cfg: &ProviderConfig,
    hint: Option<&str>,
    challenge: Option<&str>,
) -> String {
    let (state, _) = new_state();
    let extra: Vec<(&str, &str)> = hint.map(|h| ("login_hint", h)).into_iter().collect();
    let url = cfg.authorize_url_with(CALLBACK, &state, challenge, None, &extra);
    let back = fake.follow_authorize(&url).await;
    assert!(back.as_str().starts_with(CALLBACK), "{back}");
    assert_eq!(query_param(&back, "state").as_deref(), Some(state.as_str()));
    query_param(&back, "code").expect("code in callback")
}

// ---------------------------------------------------------------- PKCE and state

#[test]
fn pkce_rfc7636_appendix_b() {
    // RFC 7636 Appendix B: these 32 octets, base64url-encoded, are the verifier.
    let octets: [u8; 32] = [
        116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37,
        77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
    ];
    use base64::Engine as _;
    let verifier = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(octets);
    assert_eq!(verifier, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
    assert_eq!(
        pkce::challenge_s256(&verifier),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
    assert!(pkce::verify(
        "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        Method::S256
    ));
    assert!(!pkce::verify(
        "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK",
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        Method::S256
    ));
    // The challenge itself is not a valid verifier under S256.
    assert!(!pkce::verify(
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        Method::S256
    ));
}

#[test]
fn pkce_plain_and_method_parsing() {
    let v = pkce::new_verifier();
    assert!(pkce::verify(&v, &v, Method::Plain));
    assert!(!pkce::verify(&v, &format!("{v}x"), Method::Plain));
    assert!(!pkce::verify(&v, "", Method::Plain));

    assert_eq!(Method::parse("S256"), Some(Method::S256));
    assert_eq!(Method::parse("s256"), Some(Method::S256));
    assert_eq!(Method::parse("PLAIN"), Some(Method::Plain));
    assert_eq!(Method::parse("plain"), Some(Method::Plain));
    assert_eq!(Method::parse("sha256"), None);
    assert_eq!(Method::parse(""), None);
    assert_eq!(Method::S256.as_str(), "s256");
    assert_eq!(Method::S256.wire_name(), "S256");
}

#[test]
fn pkce_new_verifier_shape() {
    let a = pkce::new_verifier();
    let b = pkce::new_verifier();
    assert_ne!(a, b);
    for v in [&a, &b] {
        assert!((43..=128).contains(&v.len()), "{v}");
        assert!(pkce::is_valid_syntax(v));
        let challenge = pkce::challenge_s256(v);
        assert!(pkce::is_valid_syntax(&challenge));
        assert!(pkce::verify(v, &challenge, Method::S256));
    }
    assert!(!pkce::is_valid_syntax(&"a".repeat(42)));
    assert!(pkce::is_valid_syntax(&"a".repeat(128)));
    assert!(!pkce::is_valid_syntax(&"a".repeat(129)));
    assert!(!pkce::is_valid_syntax(&format!("{}+", "a".repeat(50))));
    assert!(pkce::is_valid_syntax(&format!("{}-._~", "a".repeat(50))));
}

#[test]
fn state_tokens() {
    let (state, hash) = new_state();
    let (other, other_hash) = new_state();
    assert_ne!(state, other);
    assert_ne!(hash, other_hash);
    assert_eq!(state.len(), 43);
    assert!(
        state
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    assert_eq!(hash, hash_state(&state));
    assert_eq!(hash.len(), 64);
    assert!(
        hash.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    // SHA-256("abc")
    assert_eq!(
        hash_state("abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

// ---------------------------------------------------------------- configuration

#[test]
fn defaults_per_kind() {
    let gh = ProviderConfig::github("id", "secret");
    assert_eq!(gh.kind, ProviderKind::GitHub);
    assert_eq!(gh.name, "github");
    assert_eq!(gh.authorize_url, "https://github.com/login/oauth/authorize");
    assert_eq!(gh.token_url, "https://github.com/login/oauth/access_token");
    assert_eq!(gh.userinfo_url, "https://api.github.com/user");
    assert_eq!(gh.github_emails_url(), "https://api.github.com/user/emails");
    assert_eq!(gh.scopes, ["user:email"]);

    let g = ProviderConfig::google("id", "secret");
    assert_eq!(g.kind, ProviderKind::Google);
    assert_eq!(
        g.authorize_url,
        "https://accounts.google.com/o/oauth2/v2/auth"
    );
    assert_eq!(g.token_url, "https://oauth2.googleapis.com/token");
    assert_eq!(
        g.userinfo_url,
        "https://openidconnect.googleapis.com/v1/userinfo"
    );
    assert_eq!(g.scopes, ["openid", "email", "profile"]);

    let o = ProviderConfig::oidc(
        "kc",
        "id",
        "s",
        "https://a/auth",
        "https://a/token",
        "https://a/ui",
    );
    assert_eq!(o.kind, ProviderKind::Oidc);
    assert_eq!(o.name, "kc");
    assert_eq!(o.scopes, ["openid", "email", "profile"]);

    let moved = gh.with_urls(
        "http://x/a",
        "http://x/t",
        "http://x/u",
        Some("http://x/api/".into()),
    );
    assert_eq!(moved.github_emails_url(), "http://x/api/user/emails");
    let no_api = moved.with_urls("http://x/a", "http://x/t", "http://x/user", None);
    assert_eq!(no_api.github_emails_url(), "http://x/user/emails");
}

#[test]
fn debug_hides_the_secret() {
    let cfg = ProviderConfig::github("the-client-id", "super-secret-value");
    let shown = format!("{cfg:?}");
    assert!(shown.contains("the-client-id"));
    assert!(!shown.contains("super-secret-value"), "{shown}");
    assert!(shown.contains("[redacted]"));
}

#[test]
fn authorize_url_has_every_parameter_encoded() {
    let cfg = ProviderConfig::google("client id&x=1", "s");
    let redirect = "https://api.example.com/auth/v1/callback?a=b&c=d e";
    let state = "st+ate/with=odd&chars";
    let challenge = pkce::challenge_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
    let url = url::Url::parse(&cfg.authorize_url(redirect, state, Some(&challenge))).unwrap();
    assert_eq!(url.host_str(), Some("accounts.google.com"));
    assert_eq!(url.path(), "/o/oauth2/v2/auth");
    let q = pairs(&url);
    assert_eq!(q.len(), 7, "{q:?}");
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], "client id&x=1");
    assert_eq!(q["redirect_uri"], redirect);
    assert_eq!(q["scope"], "openid email profile");
    assert_eq!(q["state"], state);
    assert_eq!(
        q["code_challenge"],
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
    assert_eq!(q["code_challenge_method"], "S256");
    // Raw form: nothing unescaped that would split parameters.
    let raw = url.query().unwrap();
    assert!(!raw.contains("x=1&"), "{raw}");
    assert!(raw.contains("state=st%2Bate%2Fwith%3Dodd%26chars"), "{raw}");

    // No challenge → no PKCE parameters.
    let plain = url::Url::parse(&cfg.authorize_url(redirect, "s", None)).unwrap();
    let q = pairs(&plain);
    assert!(!q.contains_key("code_challenge"));
    assert!(!q.contains_key("code_challenge_method"));
}

#[test]
fn authorize_url_keeps_existing_query_and_filters_extras() {
    let cfg = ProviderConfig::oidc(
        "kc",
        "cid",
        "s",
        "https://idp.example/auth?tenant=t1#frag",
        "https://idp.example/token",
        "https://idp.example/userinfo",
    );
    let url = cfg.authorize_url_with(
        CALLBACK,
        "the-state",
        None,
        Some("groups, offline_access email"),
        &[
            ("prompt", "consent"),
            ("access_type", "offline"),
            ("STATE", "attacker"),
            ("redirect_uri", "https://evil.example"),
            ("client_id", "other"),
            ("Code_Challenge", "x"),
            ("scope", "admin"),
            ("provider", "kc"),
            ("nonce", "n-1"),
        ],
    );
    let url = url::Url::parse(&url).unwrap();
    let all: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let q = pairs(&url);
    assert_eq!(all.len(), q.len(), "duplicate parameters: {all:?}");
    assert_eq!(q["tenant"], "t1");
    assert_eq!(q["state"], "the-state");
    assert_eq!(q["redirect_uri"], CALLBACK);
    assert_eq!(q["client_id"], "cid");
    assert_eq!(q["scope"], "openid email profile groups offline_access");
    assert_eq!(q["prompt"], "consent");
    assert_eq!(q["access_type"], "offline");
    assert_eq!(q["nonce"], "n-1");
    assert!(!q.contains_key("STATE") && !q.contains_key("provider"));
    assert!(!q.contains_key("Code_Challenge") && !q.contains_key("code_challenge"));
    assert_eq!(url.fragment(), None);
}

fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |k| map.get(k).cloned()
}

#[test]
fn from_env_reads_providers() {
    assert!(ProviderConfig::from_env(env(&[])).unwrap().is_empty());

    let got = ProviderConfig::from_env(env(&[
        ("AUTH_EXTERNAL_GITHUB_CLIENT_ID", "gh-id"),
        ("AUTH_EXTERNAL_GITHUB_SECRET", "gh-secret"),
        ("AUTH_EXTERNAL_GOOGLE_CLIENT_ID", "g-id"),
        ("AUTH_EXTERNAL_GOOGLE_SECRET", "g-secret"),
        (
            "AUTH_EXTERNAL_GOOGLE_SCOPES",
            "https://www.googleapis.com/auth/drive.readonly",
        ),
        ("AUTH_EXTERNAL_OIDC_PROVIDERS", " keycloak , my-okta "),
        ("AUTH_EXTERNAL_KEYCLOAK_CLIENT_ID", "kc-id"),
        ("AUTH_EXTERNAL_KEYCLOAK_SECRET", "kc-secret"),
        (
            "AUTH_EXTERNAL_KEYCLOAK_AUTHORIZE_URL",
            "https://kc.example/realms/r/protocol/openid-connect/auth",
        ),
        (
            "AUTH_EXTERNAL_KEYCLOAK_TOKEN_URL",
            "https://kc.example/realms/r/protocol/openid-connect/token",
        ),
        (
            "AUTH_EXTERNAL_KEYCLOAK_USERINFO_URL",
            "https://kc.example/realms/r/protocol/openid-connect/userinfo",
        ),
        ("AUTH_EXTERNAL_MY_OKTA_CLIENT_ID", "okta-id"),
        ("AUTH_EXTERNAL_MY_OKTA_SECRET", "okta-secret"),
        (
            "AUTH_EXTERNAL_MY_OKTA_AUTHORIZE_URL",
            "https://okta.example/authorize",
        ),
        (
            "AUTH_EXTERNAL_MY_OKTA_TOKEN_URL",
            "https://okta.example/token",
        ),
        (
            "AUTH_EXTERNAL_MY_OKTA_USERINFO_URL",
            "https://okta.example/userinfo",
        ),
        ("AUTH_EXTERNAL_MY_OKTA_SCOPES", "groups"),
    ]))
    .unwrap();
    let names: Vec<&str> = got.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["github", "google", "keycloak", "my-okta"]);
    assert_eq!(got[0].client_id, "gh-id");
    assert_eq!(got[0].client_secret, "gh-secret");
    assert_eq!(
        got[0].token_url,
        "https://github.com/login/oauth/access_token"
    );
    assert_eq!(
        got[1].scopes,
        [
            "openid",
            "email",
            "profile",
            "https://www.googleapis.com/auth/drive.readonly"
        ]
    );
    assert_eq!(got[2].kind, ProviderKind::Oidc);
    assert_eq!(got[2].client_secret, "kc-secret");
    assert_eq!(
        got[2].userinfo_url,
        "https://kc.example/realms/r/protocol/openid-connect/userinfo"
    );
    assert_eq!(got[3].scopes, ["openid", "email", "profile", "groups"]);
}

#[test]
fn from_env_url_overrides_and_enterprise() {
    let got = ProviderConfig::from_env(env(&[
        ("AUTH_EXTERNAL_GITHUB_CLIENT_ID", "id"),
        ("AUTH_EXTERNAL_GITHUB_SECRET", "s"),
        ("AUTH_EXTERNAL_GITHUB_URL", "https://ghe.example.com/"),
    ]))
    .unwrap();
    assert_eq!(
        got[0].authorize_url,
        "https://ghe.example.com/login/oauth/authorize"
    );
    assert_eq!(
        got[0].token_url,
        "https://ghe.example.com/login/oauth/access_token"
    );
    assert_eq!(got[0].userinfo_url, "https://ghe.example.com/api/v3/user");
    assert_eq!(
        got[0].github_emails_url(),
        "https://ghe.example.com/api/v3/user/emails"
    );

    let got = ProviderConfig::from_env(env(&[
        ("AUTH_EXTERNAL_GOOGLE_CLIENT_ID", "id"),
        ("AUTH_EXTERNAL_GOOGLE_SECRET", "s"),
        (
            "AUTH_EXTERNAL_GOOGLE_AUTHORIZE_URL",
            "http://127.0.0.1:1/authorize",
        ),
        ("AUTH_EXTERNAL_GOOGLE_TOKEN_URL", "http://127.0.0.1:1/token"),
        (
            "AUTH_EXTERNAL_GOOGLE_USERINFO_URL",
            "http://127.0.0.1:1/userinfo",
        ),
        ("AUTH_EXTERNAL_GITHUB_CLIENT_ID", "id"),
        ("AUTH_EXTERNAL_GITHUB_SECRET", "s"),
        ("AUTH_EXTERNAL_GITHUB_ENABLED", "false"),
    ]))
    .unwrap();
    assert_eq!(got.len(), 1, "disabled GitHub is skipped");
    assert_eq!(got[0].kind, ProviderKind::Google);
    assert_eq!(got[0].authorize_url, "http://127.0.0.1:1/authorize");
    assert_eq!(got[0].token_url, "http://127.0.0.1:1/token");
    assert_eq!(got[0].userinfo_url, "http://127.0.0.1:1/userinfo");
}

#[test]
fn from_env_errors_name_the_variable() {
    let err =
        ProviderConfig::from_env(env(&[("AUTH_EXTERNAL_GITHUB_CLIENT_ID", "id")])).unwrap_err();
    assert!(err.contains("AUTH_EXTERNAL_GITHUB_SECRET"), "{err}");

    let err = ProviderConfig::from_env(env(&[("AUTH_EXTERNAL_GOOGLE_SECRET", "s")])).unwrap_err();
    assert!(err.contains("AUTH_EXTERNAL_GOOGLE_CLIENT_ID"), "{err}");
    assert!(!err.contains("\"s\""), "secret value echoed: {err}");

    let err = ProviderConfig::from_env(env(&[
        ("AUTH_EXTERNAL_OIDC_PROVIDERS", "corp"),
        ("AUTH_EXTERNAL_CORP_CLIENT_ID", "id"),
        ("AUTH_EXTERNAL_CORP_SECRET", "s"),
        ("AUTH_EXTERNAL_CORP_AUTHORIZE_URL", "https://corp.example/a"),
        ("AUTH_EXTERNAL_CORP_TOKEN_URL", "https://corp.example/t"),
    ]))
    .unwrap_err();
    assert!(err.contains("AUTH_EXTERNAL_CORP_USERINFO_URL"), "{err}");

    let err = ProviderConfig::from_env(env(&[
        ("AUTH_EXTERNAL_OIDC_PROVIDERS", "corp"),
        ("AUTH_EXTERNAL_CORP_CLIENT_ID", "id"),
    ]))
    .unwrap_err();
    assert!(err.contains("AUTH_EXTERNAL_CORP_SECRET"), "{err}");

    let err =
        ProviderConfig::from_env(env(&[("AUTH_EXTERNAL_OIDC_PROVIDERS", "corp")])).unwrap_err();
    assert!(err.contains("AUTH_EXTERNAL_CORP_CLIENT_ID"), "{err}");

    let err = ProviderConfig::from_env(env(&[
        ("AUTH_EXTERNAL_GOOGLE_CLIENT_ID", "id"),
        ("AUTH_EXTERNAL_GOOGLE_SECRET", "s"),
        ("AUTH_EXTERNAL_GOOGLE_TOKEN_URL", "ftp://nope"),
    ]))
    .unwrap_err();
    assert!(err.contains("AUTH_EXTERNAL_GOOGLE_TOKEN_URL"), "{err}");

    for bad in ["git hub", "a/b", "-x"] {
        let err =
            ProviderConfig::from_env(env(&[("AUTH_EXTERNAL_OIDC_PROVIDERS", bad)])).unwrap_err();
        assert!(err.contains("AUTH_EXTERNAL_OIDC_PROVIDERS"), "{err}");
    }
    let err = ProviderConfig::from_env(env(&[
        ("AUTH_EXTERNAL_GITHUB_CLIENT_ID", "id"),
        ("AUTH_EXTERNAL_GITHUB_SECRET", "s"),
        ("AUTH_EXTERNAL_OIDC_PROVIDERS", "github"),
    ]))
    .unwrap_err();
    assert!(err.contains("AUTH_EXTERNAL_OIDC_PROVIDERS"), "{err}");
}

#[tokio::test]
async fn fake_env_vars_round_trip_through_from_env() {
    let fake = FakeProvider::start(users()).await;
    let vars = fake.env_vars();
    let got = ProviderConfig::from_env(|k| {
        vars.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    })
    .unwrap();
    assert_eq!(got.len(), 3);
    assert_eq!(got[0].token_url, fake.github_config().token_url);
    assert_eq!(
        got[0].github_emails_url(),
        fake.github_config().github_emails_url()
    );
    assert_eq!(got[1].userinfo_url, fake.google_config().userinfo_url);
    assert_eq!(got[2].name, OIDC_NAME);
    // And they work.
    let code = login(&fake, &got[2], None, None).await;
    let user = got[2]
        .exchange(&http(), CALLBACK, &code, None)
        .await
        .unwrap();
    assert_eq!(user.id, "1001");
}

// ---------------------------------------------------------------- exchange

/// The exchange futures must be `Send`: the auth service boxes them as `dyn Future + Send`.
#[test]
fn exchange_futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let cfg = ProviderConfig::github("id", "secret");
    let http = http();
    let f = cfg.exchange(&http, CALLBACK, "code", Some("verifier"));
    assert_send(&f);
    let f = cfg.exchange_with_tokens(&http, CALLBACK, "code", None);
    assert_send(&f);
    let f = cfg.fetch_user(&http, "token");
    assert_send(&f);
}

#[tokio::test]
async fn github_exchange_picks_primary_verified_email() {
    let fake = FakeProvider::start(users()).await;
    let cfg = fake.github_config();
    let code = login(&fake, &cfg, Some("octocat"), None).await;
    let user = cfg.exchange(&http(), CALLBACK, &code, None).await.unwrap();
    assert_eq!(user.id, "1001");
    assert_eq!(user.email.as_deref(), Some("octo@example.com"));
    assert!(user.email_verified);
    assert_eq!(user.name.as_deref(), Some("octocat Example"));
    assert_eq!(
        user.avatar_url.as_deref(),
        Some("https://avatars.example.test/1001.png")
    );
    assert_eq!(
        user.raw,
        json!({
            "iss": fake.base_url(),
            "sub": "1001",
            "provider_id": "1001",
            "name": "octocat Example",
            "full_name": "octocat Example",
            "preferred_username": "octocat",
            "user_name": "octocat",
            "avatar_url": "https://avatars.example.test/1001.png",
            "email": "Octo@Example.com",
            "email_verified": true,
            "phone_verified": false,
        })
    );

    // What went over the wire.
    let auth = &fake.authorize_requests()[0];
    assert!(auth.contains(&("scope".into(), "user:email".into())));
    let token = &fake.token_requests()[0];
    for (k, v) in [
        ("grant_type", "authorization_code"),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
        ("redirect_uri", CALLBACK),
        ("code", code.as_str()),
    ] {
        assert!(
            token.contains(&(k.into(), v.into())),
            "{k} missing in {token:?}"
        );
    }
    assert!(!token.iter().any(|(k, _)| k == "code_verifier"));
}

#[tokio::test]
async fn github_prefers_a_verified_address_over_an_unverified_primary() {
    let fake = FakeProvider::start(users()).await;
    let cfg = fake.github_config();
    let code = login(&fake, &cfg, Some("mona"), None).await;
    let ex = cfg
        .exchange_with_tokens(&http(), CALLBACK, &code, None)
        .await
        .unwrap();
    assert_eq!(ex.user.email.as_deref(), Some("mona-verified@example.com"));
    assert!(ex.user.email_verified);
    assert_eq!(ex.user.name, None);
    assert!(ex.user.raw.get("name").is_none() && ex.user.raw.get("full_name").is_none());
    assert!(ex.tokens.access_token.starts_with("fake-at-"));
    assert_eq!(ex.tokens.refresh_token, None);
    assert_eq!(ex.tokens.token_type.as_deref(), Some("bearer"));
    let shown = format!("{ex:?}");
    assert!(!shown.contains(&ex.tokens.access_token), "{shown}");
}

#[tokio::test]
async fn unverified_only_address_is_reported_unverified() {
    let fake = FakeProvider::start(users()).await;
    for cfg in [fake.github_config(), fake.oidc_config("corp")] {
        let code = login(&fake, &cfg, Some("unverified"), None).await;
        let user = cfg.exchange(&http(), CALLBACK, &code, None).await.unwrap();
        assert_eq!(
            user.email.as_deref(),
            Some("unv@example.com"),
            "{:?}",
            cfg.kind
        );
        assert!(!user.email_verified);
        assert_eq!(user.raw["email_verified"], json!(false));
    }
}

#[tokio::test]
async fn google_exchange_with_pkce() {
    let fake = FakeProvider::start(users()).await;
    let cfg = fake.google_config();
    let verifier = pkce::new_verifier();
    let challenge = pkce::challenge_s256(&verifier);
    let code = login(&fake, &cfg, Some("gsuite"), Some(&challenge)).await;

    let auth = &fake.authorize_requests()[0];
    assert!(auth.contains(&("code_challenge".into(), challenge.clone())));
    assert!(auth.contains(&("code_challenge_method".into(), "S256".into())));
    assert!(auth.contains(&("login_hint".into(), "gsuite".into())));

    let ex = cfg
        .exchange_with_tokens(&http(), CALLBACK, &code, Some(&verifier))
        .await
        .unwrap();
    let user = ex.user;
    assert_eq!(user.id, "1004");
    assert_eq!(user.email.as_deref(), Some("ann@corp.example"));
    assert!(user.email_verified);
    assert_eq!(
        user.raw,
        json!({
            "iss": "https://accounts.google.com",
            "sub": "1004",
            "provider_id": "1004",
            "name": "gsuite Example",
            "full_name": "gsuite Example",
            "picture": "https://avatars.example.test/1004.png",
            "avatar_url": "https://avatars.example.test/1004.png",
            "email": "ann@corp.example",
            "email_verified": true,
            "phone_verified": false,
            "custom_claims": {"hd": "corp.example"},
        })
    );
    assert!(ex.tokens.refresh_token.is_some());
    assert_eq!(ex.tokens.expires_in, Some(3600));
    let token = &fake.token_requests()[0];
    assert!(token.contains(&("code_verifier".into(), verifier)));
}

#[tokio::test]
async fn oidc_exchange_with_pkce() {
    let fake = FakeProvider::start(users()).await;
    let cfg = fake.oidc_config("corp");
    let verifier = pkce::new_verifier();
    let code = login(
        &fake,
        &cfg,
        Some("ann@corp.example"),
        Some(&pkce::challenge_s256(&verifier)),
    )
    .await;
    let user = cfg
        .exchange(&http(), CALLBACK, &code, Some(&verifier))
        .await
        .unwrap();
    assert_eq!(user.id, "1004");
    assert_eq!(user.email.as_deref(), Some("ann@corp.example"));
    assert_eq!(
        user.avatar_url.as_deref(),
        Some("https://avatars.example.test/1004.png")
    );
    assert_eq!(user.raw["iss"], json!(fake.base_url()));
    assert_eq!(user.raw["preferred_username"], json!("gsuite"));
    assert_eq!(user.raw["picture"], user.raw["avatar_url"]);
    assert!(
        user.raw.get("groups").is_none(),
        "non-standard claims are not copied"
    );
    assert!(user.raw.get("hd").is_none());
}

#[tokio::test]
async fn codes_are_single_use_and_wrong_codes_fail() {
    let fake = FakeProvider::start(users()).await;
    // GitHub style: 200 with an error body.
    let gh = fake.github_config();
    let code = login(&fake, &gh, None, None).await;
    gh.exchange(&http(), CALLBACK, &code, None).await.unwrap();
    let err = gh
        .exchange(&http(), CALLBACK, &code, None)
        .await
        .unwrap_err();
    match &err {
        OAuthError::Refused {
            stage,
            status,
            error,
            ..
        } => {
            assert_eq!(*stage, Stage::Token);
            assert_eq!(*status, 200);
            assert_eq!(error, "bad_verification_code");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(err.gotrue_message(), "Unable to exchange external code");
    let shown = err.to_string();
    assert!(
        !shown.contains(&code) && !shown.contains(CLIENT_SECRET),
        "{shown}"
    );

    // OIDC style: 400 invalid_grant.
    let oidc = fake.oidc_config("corp");
    let err = oidc
        .exchange(&http(), CALLBACK, "not-a-code", None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, OAuthError::Refused { status: 400, error, .. } if error == "invalid_grant"),
        "{err:?}"
    );

    // Right code, wrong redirect_uri.
    let code = login(&fake, &oidc, None, None).await;
    let err = oidc
        .exchange(&http(), "http://127.0.0.1:9/elsewhere", &code, None)
        .await
        .unwrap_err();
    assert!(matches!(err, OAuthError::Refused { .. }), "{err:?}");
}

#[tokio::test]
async fn pkce_mismatch_at_the_provider_fails() {
    let fake = FakeProvider::start(users()).await;
    let cfg = fake.google_config();
    let verifier = pkce::new_verifier();
    let code = login(&fake, &cfg, None, Some(&pkce::challenge_s256(&verifier))).await;
    let wrong = pkce::new_verifier();
    let err = cfg
        .exchange(&http(), CALLBACK, &code, Some(&wrong))
        .await
        .unwrap_err();
    match &err {
        OAuthError::Refused {
            stage: Stage::Token,
            status: 400,
            error,
            description,
        } => {
            assert_eq!(error, "invalid_grant");
            assert_eq!(description.as_deref(), Some("PKCE verification failed"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(!err.to_string().contains(&wrong));

    // A missing verifier is refused as well.
    let code = login(&fake, &cfg, None, Some(&pkce::challenge_s256(&verifier))).await;
    let err = cfg
        .exchange(&http(), CALLBACK, &code, None)
        .await
        .unwrap_err();
    assert!(matches!(err, OAuthError::Refused { .. }), "{err:?}");
}

#[tokio::test]
async fn wrong_client_secret_is_refused_without_echoing_it() {
    let fake = FakeProvider::start(users()).await;
    let mut cfg = fake.oidc_config("corp");
    let code = login(&fake, &cfg, None, None).await;
    cfg.client_secret = "wrong-secret-value".into();
    let err = cfg
        .exchange(&http(), CALLBACK, &code, None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, OAuthError::Refused { status: 401, error, .. } if error == "invalid_client"),
        "{err:?}"
    );
    let shown = format!("{err} {err:?}");
    assert!(
        !shown.contains("wrong-secret-value") && !shown.contains(&code),
        "{shown}"
    );
}

#[tokio::test]
async fn user_without_email_is_no_email() {
    let fake = FakeProvider::start(users()).await;
    for cfg in [
        fake.github_config(),
        fake.google_config(),
        fake.oidc_config("corp"),
    ] {
        let code = login(&fake, &cfg, Some("nomail"), None).await;
        let err = cfg
            .exchange(&http(), CALLBACK, &code, None)
            .await
            .unwrap_err();
        assert!(
            matches!(err, OAuthError::NoEmail),
            "{:?}: {err:?}",
            cfg.kind
        );
        assert_eq!(
            err.to_string(),
            "Error getting user email from external provider"
        );
        assert_eq!(
            err.gotrue_message(),
            "Error getting user email from external provider"
        );
    }
}

#[tokio::test]
async fn fake_authorize_validates_client_and_redirect() {
    let fake = FakeProvider::start(users()).await;
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let mut other = fake.oidc_config("corp");
    other.client_id = "someone-else".into();
    let res = no_redirects
        .get(other.authorize_url(CALLBACK, "s", None))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::BAD_REQUEST);

    fake.allow_redirect_uri(CALLBACK);
    let cfg = fake.oidc_config("corp");
    let res = no_redirects
        .get(cfg.authorize_url("http://127.0.0.1:9/other", "s", None))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::BAD_REQUEST);
    login(&fake, &cfg, None, None).await;

    // The user says no.
    let url = cfg.authorize_url_with(CALLBACK, "st", None, None, &[("login_hint", DENY_HINT)]);
    let back = fake.follow_authorize(&url).await;
    assert_eq!(
        query_param(&back, "error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(query_param(&back, "state").as_deref(), Some("st"));
    assert_eq!(query_param(&back, "code"), None);
}

#[tokio::test]
async fn bad_access_token_and_unreachable_provider() {
    let fake = FakeProvider::start(users()).await;
    let err = fake
        .github_config()
        .fetch_user(&http(), "not-a-token")
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            OAuthError::Status {
                stage: Stage::UserInfo,
                status: 401
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.gotrue_message(),
        "Error getting user profile from external provider"
    );
    assert!(!err.to_string().contains("not-a-token"));

    // A port nothing listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dead = format!("http://127.0.0.1:{port}");
    let cfg = ProviderConfig::oidc(
        "dead",
        "id",
        "secret-xyz",
        format!("{dead}/authorize"),
        format!("{dead}/token?key=secret-in-url"),
        format!("{dead}/userinfo"),
    );
    let err = cfg
        .exchange(&http(), CALLBACK, "code-1234", None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            OAuthError::Transport {
                stage: Stage::Token,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().to_lowercase().contains("refused"), "{err}");
    let shown = format!("{err} {err:?}");
    assert!(
        !shown.contains("secret-in-url") && !shown.contains("secret-xyz"),
        "{shown}"
    );
}

/// A provider with odd answers: a form-encoded token response, HTML errors, no `sub`.
async fn odd_provider() -> (String, tokio::task::JoinHandle<()>) {
    let app = Router::new()
        .route(
            "/token-form",
            post(|| async {
                (
                    [(axum::http::header::CONTENT_TYPE, "text/plain")],
                    "access_token=form-token&token_type=bearer&scope=user%3Aemail",
                )
            }),
        )
        .route(
            "/token-html",
            post(|| async {
                (
                    axum::http::StatusCode::BAD_GATEWAY,
                    "<html>upstream code-1234 broke</html>",
                )
            }),
        )
        .route(
            "/token-empty",
            post(|| async { ([(axum::http::header::CONTENT_TYPE, "application/json")], "{}") }),
        )
        .route(
            "/token-echo",
            post(|| async {
                (
                    axum::http::StatusCode::BAD_REQUEST,
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    r#"{"error":"invalid_grant\n<x>","error_description":"code code-1234 with secret s3cr3t-value is bad"}"#,
                )
            }),
        )
        .route(
            "/userinfo-nosub",
            get(|| async {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    r#"{"email":"a@example.com","email_verified":"true"}"#,
                )
            }),
        )
        .route(
            "/userinfo-strings",
            get(|| async {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    r#"{"sub":42,"email":" A@Example.com ","email_verified":"TRUE","name":""}"#,
                )
            }),
        )
        .route("/userinfo-text", get(|| async { "not json" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (base, task)
}

#[tokio::test]
async fn odd_provider_answers() {
    let (base, task) = odd_provider().await;
    let cfg = |token: &str, userinfo: &str| {
        ProviderConfig::oidc(
            "odd",
            "id",
            "s3cr3t-value",
            format!("{base}/authorize"),
            format!("{base}{token}"),
            format!("{base}{userinfo}"),
        )
    };

    let tokens = cfg("/token-form", "/userinfo-strings")
        .exchange_code(&http(), CALLBACK, "code-1234", None)
        .await
        .unwrap();
    assert_eq!(tokens.access_token, "form-token");
    assert_eq!(tokens.scope.as_deref(), Some("user:email"));

    let err = cfg("/token-html", "/x")
        .exchange(&http(), CALLBACK, "code-1234", None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            OAuthError::Status {
                stage: Stage::Token,
                status: 502
            }
        ),
        "{err:?}"
    );

    let err = cfg("/token-empty", "/x")
        .exchange(&http(), CALLBACK, "code-1234", None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            OAuthError::BadResponse {
                stage: Stage::Token,
                ..
            }
        ),
        "{err:?}"
    );

    let err = cfg("/token-echo", "/x")
        .exchange(&http(), CALLBACK, "code-1234", None)
        .await
        .unwrap_err();
    let shown = err.to_string();
    assert!(
        !shown.contains("code-1234") && !shown.contains("s3cr3t-value"),
        "{shown}"
    );
    assert!(!shown.contains('\n') && !shown.contains('<'), "{shown}");
    assert!(
        matches!(&err, OAuthError::Refused { error, .. } if error == "invalid_grantx"),
        "{err:?}"
    );

    let user = cfg("/token-form", "/userinfo-strings")
        .exchange(&http(), CALLBACK, "code-1234", None)
        .await
        .unwrap();
    assert_eq!(user.id, "42");
    assert_eq!(user.email.as_deref(), Some("a@example.com"));
    assert!(user.email_verified);
    assert_eq!(user.name, None);

    let err = cfg("/token-form", "/userinfo-nosub")
        .exchange(&http(), CALLBACK, "code-1234", None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            OAuthError::BadResponse {
                stage: Stage::UserInfo,
                ..
            }
        ),
        "{err:?}"
    );

    let err = cfg("/token-form", "/userinfo-text")
        .exchange(&http(), CALLBACK, "code-1234", None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            OAuthError::BadResponse {
                stage: Stage::UserInfo,
                ..
            }
        ),
        "{err:?}"
    );
    task.abort();
}
