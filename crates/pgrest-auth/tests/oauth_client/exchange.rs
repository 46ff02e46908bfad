//! Code exchange against the fake provider for GitHub-, Google- and OIDC-kind configs, and provider errors.

use super::*;

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
