//! Provider configuration: defaults, authorize URLs and `AUTH_EXTERNAL_*` parsing.

use super::*;

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
