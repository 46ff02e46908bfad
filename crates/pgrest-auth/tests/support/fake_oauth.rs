//! A fake OAuth 2 / OIDC provider for tests: an axum server on 127.0.0.1 speaking enough of
//! GitHub's (`/login/oauth/*`, `/user`, `/user/emails`) and an OIDC provider's (`/authorize`,
//! `/token`, `/userinfo`) protocols to run the whole authorize → callback → exchange flow.
//!
//! Must not be used outside tests; must not reach the network beyond loopback; must not show a
//! login page (`/authorize` redirects straight back, for the user named by `login_hint`).

#![allow(
    dead_code,
    reason = "shared by several test binaries; each uses a part"
)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test support: a broken fake should fail the test loudly"
)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use pgrest_auth::oauth::ProviderConfig;
use rand::RngCore as _;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

/// The only client id the fake accepts.
pub const CLIENT_ID: &str = "fake-client-id";
/// The only client secret the fake accepts.
pub const CLIENT_SECRET: &str = "fake-client-secret";
/// A `login_hint` that makes `/authorize` answer `error=access_denied` (the user said no).
pub const DENY_HINT: &str = "deny";
/// The OIDC provider name [`FakeProvider::env_vars`] configures.
pub const OIDC_NAME: &str = "fakeoidc";

/// One of a fake user's e-mail addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeEmail {
    pub email: String,
    pub primary: bool,
    pub verified: bool,
}

impl FakeEmail {
    pub fn new(email: &str, primary: bool, verified: bool) -> Self {
        Self {
            email: email.to_owned(),
            primary,
            verified,
        }
    }
}

/// A user the fake provider can sign in.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeUser {
    /// GitHub's numeric id; the OIDC `sub` is its decimal form.
    pub id: u64,
    pub login: String,
    pub name: Option<String>,
    pub avatar_url: Option<String>,
    /// GitHub's `/user/emails`; OIDC uses the primary (else first) one.
    pub emails: Vec<FakeEmail>,
    /// Extra claims added to `/userinfo`.
    pub extra_claims: serde_json::Map<String, Value>,
}

impl FakeUser {
    /// A user with one primary, verified address, a name and an avatar.
    pub fn new(id: u64, login: &str, email: &str) -> Self {
        Self {
            id,
            login: login.to_owned(),
            name: Some(format!("{login} Example")),
            avatar_url: Some(format!("https://avatars.example.test/{id}.png")),
            emails: vec![FakeEmail::new(email, true, true)],
            extra_claims: serde_json::Map::new(),
        }
    }

    pub fn with_name(mut self, name: Option<&str>) -> Self {
        self.name = name.map(str::to_owned);
        self
    }

    pub fn with_emails(mut self, emails: Vec<FakeEmail>) -> Self {
        self.emails = emails;
        self
    }

    /// Marks every address unverified.
    pub fn unverified(mut self) -> Self {
        for e in &mut self.emails {
            e.verified = false;
        }
        self
    }

    pub fn with_claim(mut self, key: &str, value: Value) -> Self {
        self.extra_claims.insert(key.to_owned(), value);
        self
    }

    fn main_email(&self) -> Option<&FakeEmail> {
        self.emails
            .iter()
            .find(|e| e.primary)
            .or_else(|| self.emails.first())
    }

    /// OIDC userinfo shape.
    pub fn userinfo_json(&self) -> Value {
        let mut out = serde_json::Map::new();
        out.insert("sub".into(), json!(self.id.to_string()));
        if let Some(e) = self.main_email() {
            out.insert("email".into(), json!(e.email));
            out.insert("email_verified".into(), json!(e.verified));
        }
        if let Some(n) = &self.name {
            out.insert("name".into(), json!(n));
        }
        if let Some(p) = &self.avatar_url {
            out.insert("picture".into(), json!(p));
        }
        out.insert("preferred_username".into(), json!(self.login));
        for (k, v) in &self.extra_claims {
            out.insert(k.clone(), v.clone());
        }
        Value::Object(out)
    }

    /// GitHub `GET /user` shape (the public `email` is the primary address, or null).
    pub fn github_json(&self) -> Value {
        json!({
            "id": self.id,
            "login": self.login,
            "name": self.name,
            "email": self.emails.iter().find(|e| e.primary).map(|e| e.email.clone()),
            "avatar_url": self.avatar_url,
            "type": "User",
        })
    }

    /// GitHub `GET /user/emails` shape.
    pub fn github_emails_json(&self) -> Value {
        Value::Array(
            self.emails
                .iter()
                .map(|e| {
                    json!({
                        "email": e.email, "primary": e.primary,
                        "verified": e.verified, "visibility": if e.primary { "public" } else { "private" },
                    })
                })
                .collect(),
        )
    }
}

#[derive(Debug, Clone)]
struct Grant {
    user: usize,
    redirect_uri: String,
    scope: String,
    /// (challenge, method as sent)
    challenge: Option<(String, String)>,
}

#[derive(Debug, Default)]
struct Inner {
    users: Vec<FakeUser>,
    allowed_redirects: Vec<String>,
    codes: HashMap<String, Grant>,
    tokens: HashMap<String, usize>,
    authorize_requests: Vec<Vec<(String, String)>>,
    token_requests: Vec<Vec<(String, String)>>,
}

type Shared = Arc<Mutex<Inner>>;

/// A running fake provider; the server stops when this is dropped.
pub struct FakeProvider {
    base_url: String,
    inner: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeProvider {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeProvider {
    /// Starts the server on 127.0.0.1 with an OS-chosen port.
    pub async fn start(users: Vec<FakeUser>) -> Self {
        let inner: Shared = Arc::new(Mutex::new(Inner {
            users,
            ..Inner::default()
        }));
        let app = Router::new()
            .route("/authorize", get(authorize))
            .route("/login/oauth/authorize", get(authorize))
            .route("/token", post(token_oidc))
            .route("/login/oauth/access_token", post(token_github))
            .route("/user", get(github_user))
            .route("/user/emails", get(github_emails))
            .route("/userinfo", get(userinfo))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake provider");
        let addr = listener.local_addr().expect("fake provider address");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            base_url: format!("http://{addr}"),
            inner,
            task,
        }
    }

    /// `http://127.0.0.1:<port>` (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Restricts `/authorize` to the given redirect URIs (exact match). Until the first call,
    /// any absolute http(s) redirect URI is accepted.
    pub fn allow_redirect_uri(&self, uri: &str) {
        self.inner
            .lock()
            .unwrap()
            .allowed_redirects
            .push(uri.to_owned());
    }

    /// A GitHub-kind config pointing at this fake (GitHub paths, 200-with-error token answers).
    pub fn github_config(&self) -> ProviderConfig {
        ProviderConfig::github(CLIENT_ID, CLIENT_SECRET).with_urls(
            self.url("/login/oauth/authorize"),
            self.url("/login/oauth/access_token"),
            self.url("/user"),
            Some(self.base_url.clone()),
        )
    }

    /// A Google-kind config pointing at this fake.
    pub fn google_config(&self) -> ProviderConfig {
        ProviderConfig::google(CLIENT_ID, CLIENT_SECRET).with_urls(
            self.url("/authorize"),
            self.url("/token"),
            self.url("/userinfo"),
            None,
        )
    }

    /// A generic OIDC config named `name` pointing at this fake.
    pub fn oidc_config(&self, name: &str) -> ProviderConfig {
        ProviderConfig::oidc(
            name,
            CLIENT_ID,
            CLIENT_SECRET,
            self.url("/authorize"),
            self.url("/token"),
            self.url("/userinfo"),
        )
    }

    /// `AUTH_EXTERNAL_*` settings enabling `github`, `google` and the OIDC provider
    /// [`OIDC_NAME`], all pointing at this fake (for `ProviderConfig::from_env` lookups).
    pub fn env_vars(&self) -> Vec<(String, String)> {
        let mut vars = Vec::new();
        let mut add = |k: &str, v: String| vars.push((k.to_owned(), v));
        for (key, authorize, token, userinfo) in [
            (
                "GITHUB",
                "/login/oauth/authorize",
                "/login/oauth/access_token",
                "/user",
            ),
            ("GOOGLE", "/authorize", "/token", "/userinfo"),
            ("FAKEOIDC", "/authorize", "/token", "/userinfo"),
        ] {
            add(
                &format!("AUTH_EXTERNAL_{key}_CLIENT_ID"),
                CLIENT_ID.to_owned(),
            );
            add(
                &format!("AUTH_EXTERNAL_{key}_SECRET"),
                CLIENT_SECRET.to_owned(),
            );
            add(
                &format!("AUTH_EXTERNAL_{key}_AUTHORIZE_URL"),
                self.url(authorize),
            );
            add(&format!("AUTH_EXTERNAL_{key}_TOKEN_URL"), self.url(token));
            add(
                &format!("AUTH_EXTERNAL_{key}_USERINFO_URL"),
                self.url(userinfo),
            );
        }
        add("AUTH_EXTERNAL_GITHUB_API_URL", self.base_url.clone());
        add("AUTH_EXTERNAL_OIDC_PROVIDERS", OIDC_NAME.to_owned());
        vars
    }

    /// Query pairs of every `/authorize` request so far.
    pub fn authorize_requests(&self) -> Vec<Vec<(String, String)>> {
        self.inner.lock().unwrap().authorize_requests.clone()
    }

    /// Form pairs of every token request so far.
    pub fn token_requests(&self) -> Vec<Vec<(String, String)>> {
        self.inner.lock().unwrap().token_requests.clone()
    }

    /// GETs `authorize_url` without following redirects and returns where the fake sent the
    /// browser (`redirect_uri?code=..&state=..` or `?error=..`). Panics on a non-302.
    pub async fn follow_authorize(&self, authorize_url: &str) -> url::Url {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let res = client.get(authorize_url).send().await.unwrap();
        assert_eq!(
            res.status(),
            reqwest::StatusCode::FOUND,
            "fake /authorize did not redirect"
        );
        let location = res.headers()[reqwest::header::LOCATION].to_str().unwrap();
        url::Url::parse(location).unwrap()
    }
}

/// A query parameter of a URL.
pub fn query_param(url: &url::Url, key: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

fn random_token(prefix: &str) -> String {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}-{}", URL_SAFE_NO_PAD.encode(bytes))
}

fn pairs(raw: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(raw)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn param<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn redirect(to: &url::Url) -> Response {
    let mut res = StatusCode::FOUND.into_response();
    res.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(to.as_str()).unwrap(),
    );
    res
}

fn redirect_error(
    mut to: url::Url,
    error: &str,
    description: &str,
    state: Option<&str>,
) -> Response {
    {
        let mut q = to.query_pairs_mut();
        q.append_pair("error", error)
            .append_pair("error_description", description);
        if let Some(s) = state {
            q.append_pair("state", s);
        }
    }
    redirect(&to)
}

async fn authorize(State(inner): State<Shared>, RawQuery(query): RawQuery) -> Response {
    let query = pairs(query.unwrap_or_default().as_bytes());
    let mut inner = inner.lock().unwrap();
    inner.authorize_requests.push(query.clone());

    if param(&query, "client_id") != Some(CLIENT_ID) {
        return (StatusCode::BAD_REQUEST, "unknown client_id").into_response();
    }
    let Some(redirect_uri) = param(&query, "redirect_uri") else {
        return (StatusCode::BAD_REQUEST, "missing redirect_uri").into_response();
    };
    let target = match url::Url::parse(redirect_uri) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => u,
        _ => return (StatusCode::BAD_REQUEST, "invalid redirect_uri").into_response(),
    };
    if !inner.allowed_redirects.is_empty()
        && !inner.allowed_redirects.iter().any(|a| a == redirect_uri)
    {
        return (StatusCode::BAD_REQUEST, "redirect_uri not registered").into_response();
    }
    let state = param(&query, "state");
    if param(&query, "response_type") != Some("code") {
        return redirect_error(
            target,
            "unsupported_response_type",
            "only code is supported",
            state,
        );
    }
    let challenge = match (
        param(&query, "code_challenge"),
        param(&query, "code_challenge_method"),
    ) {
        (None, _) => None,
        (Some(c), m) => {
            let method = m.unwrap_or("plain");
            if method != "S256" && method != "plain" {
                return redirect_error(
                    target,
                    "invalid_request",
                    "unsupported code_challenge_method",
                    state,
                );
            }
            Some((c.to_owned(), method.to_owned()))
        }
    };
    let hint = param(&query, "login_hint");
    if hint == Some(DENY_HINT) {
        return redirect_error(
            target,
            "access_denied",
            "The user denied the request",
            state,
        );
    }
    let chosen = hint.and_then(|h| {
        inner.users.iter().position(|u| {
            u.login == h || u.id.to_string() == h || u.emails.iter().any(|e| e.email == h)
        })
    });
    let Some(user) = chosen.or(if inner.users.is_empty() {
        None
    } else {
        Some(0)
    }) else {
        return redirect_error(target, "access_denied", "no users", state);
    };
    let code = random_token("fake-code");
    inner.codes.insert(
        code.clone(),
        Grant {
            user,
            redirect_uri: redirect_uri.to_owned(),
            scope: param(&query, "scope").unwrap_or_default().to_owned(),
            challenge,
        },
    );
    let mut to = target;
    {
        let mut q = to.query_pairs_mut();
        q.append_pair("code", &code);
        if let Some(s) = state {
            q.append_pair("state", s);
        }
    }
    redirect(&to)
}

async fn token_oidc(State(inner): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    token(&inner, &headers, &body, false)
}

async fn token_github(State(inner): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    token(&inner, &headers, &body, true)
}

/// The token endpoint. GitHub style answers errors with 200 and no refresh token.
fn token(inner: &Shared, headers: &HeaderMap, body: &[u8], github: bool) -> Response {
    let form = pairs(body);
    let mut inner = inner.lock().unwrap();
    inner.token_requests.push(form.clone());
    let fail = |status: StatusCode, error: &str, description: &str| {
        let status = if github { StatusCode::OK } else { status };
        json_response(
            status,
            &json!({"error": error, "error_description": description}),
        )
    };

    // client_secret_post, or client_secret_basic.
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.split_once(':').map(|(a, b)| (a.to_owned(), b.to_owned())));
    let (client_id, secret) = match basic {
        Some((id, secret)) => (Some(id), Some(secret)),
        None => (
            param(&form, "client_id").map(str::to_owned),
            param(&form, "client_secret").map(str::to_owned),
        ),
    };
    if client_id.as_deref() != Some(CLIENT_ID) || secret.as_deref() != Some(CLIENT_SECRET) {
        return fail(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed",
        );
    }
    if param(&form, "grant_type") != Some("authorization_code") {
        return fail(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only authorization_code",
        );
    }
    let bad_code = if github {
        "bad_verification_code"
    } else {
        "invalid_grant"
    };
    let Some(grant) = param(&form, "code").and_then(|c| inner.codes.remove(c)) else {
        return fail(
            StatusCode::BAD_REQUEST,
            bad_code,
            "The code passed is incorrect or expired.",
        );
    };
    if param(&form, "redirect_uri") != Some(grant.redirect_uri.as_str()) {
        return fail(
            StatusCode::BAD_REQUEST,
            "redirect_uri_mismatch",
            "redirect_uri does not match",
        );
    }
    if let Some((challenge, method)) = &grant.challenge {
        let Some(verifier) = param(&form, "code_verifier") else {
            return fail(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "code_verifier required",
            );
        };
        let computed = if method == "S256" {
            URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
        } else {
            verifier.to_owned()
        };
        if &computed != challenge {
            return fail(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "PKCE verification failed",
            );
        }
    }
    let access_token = random_token("fake-at");
    inner.tokens.insert(access_token.clone(), grant.user);
    let mut body = json!({
        "access_token": access_token,
        "token_type": "bearer",
        "scope": grant.scope,
    });
    if !github {
        body["expires_in"] = json!(3600);
        body["refresh_token"] = json!(random_token("fake-rt"));
    }
    json_response(StatusCode::OK, &body)
}

/// The user a bearer token belongs to.
fn bearer_user(inner: &Shared, headers: &HeaderMap) -> Option<FakeUser> {
    let token = headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")?;
    let inner = inner.lock().unwrap();
    let index = *inner.tokens.get(token)?;
    inner.users.get(index).cloned()
}

fn github_unauthorized() -> Response {
    json_response(
        StatusCode::UNAUTHORIZED,
        &json!({"message": "Bad credentials"}),
    )
}

async fn github_user(State(inner): State<Shared>, headers: HeaderMap) -> Response {
    match bearer_user(&inner, &headers) {
        Some(u) => json_response(StatusCode::OK, &u.github_json()),
        None => github_unauthorized(),
    }
}

async fn github_emails(State(inner): State<Shared>, headers: HeaderMap) -> Response {
    match bearer_user(&inner, &headers) {
        Some(u) => json_response(StatusCode::OK, &u.github_emails_json()),
        None => github_unauthorized(),
    }
}

async fn userinfo(State(inner): State<Shared>, headers: HeaderMap) -> Response {
    match bearer_user(&inner, &headers) {
        Some(u) => json_response(StatusCode::OK, &u.userinfo_json()),
        None => {
            let mut res = StatusCode::UNAUTHORIZED.into_response();
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
            res
        }
    }
}
