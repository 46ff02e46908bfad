//! Tests of the OAuth client side (`pgrest_auth::oauth`) against the fake provider: authorize URLs,
//! code exchange for GitHub-, Google- and OIDC-kind configs, provider errors, PKCE and state helpers,
//! and `AUTH_EXTERNAL_*` parsing. Must not reach beyond 127.0.0.1.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code"
)]

#[path = "../support/mod.rs"]
mod support;

mod configuration;
mod exchange;
mod odd_provider;
mod pkce_and_state;

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
