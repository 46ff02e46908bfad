//! Test harness: a fresh database per test on the process-wide PostgreSQL cluster, the auth schema
//! migrated into it, a `notes` table guarded by RLS, and an `App` connected as `authenticator` (as
//! in production) with the native auth service installed over the auth tables' owner connection
//! (`AUTH_DATABASE_URL`, as `dev` does) and a capture mailer.
//!
//! Must not share state between tests beyond the cluster and its cluster-wide roles.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use pgrest_auth::NativeAuth;
use pgrest_auth::config::AuthConfig;
use pgrest_auth::mailer::{CaptureMailer, Email, MailError, MailFuture, Mailer};
use pgrest_auth::oauth::ProviderConfig;
use pgrest_auth::password::KdfParams;
use pgrest_auth::ratelimit::Limit;
use pgrest_auth::tokens::Signer;
use pgrest_core::db::Db;
use pgrest_core::{App, Config, Overrides, TxEnd};
use serde_json::{Value, json};

use crate::support::fake_oauth::FakeProvider;

pub const SECRET: &str = "auth-endpoint-tests-secret-0123456789abcdef";
pub const EXTERNAL_URL: &str = "http://127.0.0.1:9999";
pub const SITE_URL: &str = "http://localhost:3000";
pub const VERSION_HEADER: &str = "x-supabase-api-version";
pub const API_VERSION: &str = "2024-01-01";
pub const PASSWORD: &str = "correct horse battery";

static ROLES: OnceLock<()> = OnceLock::new();

const NOTES_SQL: &str = "
CREATE TABLE public.notes (id serial PRIMARY KEY, owner uuid NOT NULL DEFAULT auth.uid(), body text);
ALTER TABLE public.notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY notes_owner ON public.notes FOR ALL TO authenticated USING (owner = auth.uid()) WITH CHECK (owner = auth.uid());
GRANT USAGE ON SCHEMA public TO anon, authenticated, service_role;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.notes TO authenticated, service_role;
GRANT USAGE ON SEQUENCE public.notes_id_seq TO authenticated, service_role;
";

/// A change to the auth configuration before the service is built.
type Adjust = Box<dyn FnOnce(&mut AuthConfig) + Send>;

/// How to build one test's service.
pub struct Setup {
    /// The auth service's environment (GoTrue-style names).
    pub env: HashMap<String, String>,
    /// Extra core environment (`PGREST_JWT_JWKS`, ...).
    pub core_env: HashMap<String, String>,
    /// Password hashing cost (fast unless a test needs the real thing).
    pub kdf: KdfParams,
    adjust: Vec<Adjust>,
    /// Build through `NativeAuth::from_env` instead of `NativeAuth::new` (fast KDF and unlimited
    /// rate limits are then not applied).
    pub via_from_env: bool,
}

impl Default for Setup {
    fn default() -> Self {
        let env = [
            ("SITE_URL", SITE_URL),
            ("URI_ALLOW_LIST", "http://localhost:3000/**,myapp://cb"),
            ("MAILER_AUTOCONFIRM", "true"),
            ("AUTH_ANONYMOUS_USERS_ENABLED", "false"),
            // One mail of a kind per user per minute would get in the way of most tests.
            ("SMTP_MAX_FREQUENCY", "0"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        Setup { env, core_env: HashMap::new(), kdf: KdfParams::fast_for_tests(), adjust: Vec::new(), via_from_env: false }
    }
}

impl Setup {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn set(mut self, key: &str, value: &str) -> Self {
        self.env.insert(key.to_string(), value.to_string());
        self
    }

    pub fn autoconfirm(self, on: bool) -> Self {
        self.set("MAILER_AUTOCONFIRM", if on { "true" } else { "false" })
    }

    pub fn anonymous(self, on: bool) -> Self {
        self.set("AUTH_ANONYMOUS_USERS_ENABLED", if on { "true" } else { "false" })
    }

    pub fn oauth(mut self, fake: &FakeProvider) -> Self {
        for (k, v) in fake.env_vars() {
            self.env.insert(k, v);
        }
        self
    }

    pub fn core(mut self, key: &str, value: &str) -> Self {
        self.core_env.insert(key.to_string(), value.to_string());
        self
    }

    pub fn configure(mut self, f: impl FnOnce(&mut AuthConfig) + Send + 'static) -> Self {
        self.adjust.push(Box::new(f));
        self
    }

    pub fn real_kdf(mut self) -> Self {
        self.kdf = KdfParams::default();
        self
    }

    pub async fn start(self) -> TestAuth {
        start(self).await
    }
}

/// The limit that never refuses (`per` zero).
pub const UNLIMITED: Limit = Limit { max: 1, per: Duration::ZERO };

/// The test mailer: captures every message, or fails every send while `down` is set (an SMTP
/// server that refuses connections).
#[derive(Debug, Default)]
pub struct SwitchMailer {
    pub capture: CaptureMailer,
    pub down: std::sync::atomic::AtomicBool,
}

impl Mailer for SwitchMailer {
    fn send<'a>(&'a self, email: Email) -> MailFuture<'a> {
        if self.down.load(std::sync::atomic::Ordering::SeqCst) {
            return Box::pin(async { Err(MailError::Transport("connection refused (test: mail server down)".to_string())) });
        }
        self.capture.send(email)
    }
}

impl std::ops::Deref for SwitchMailer {
    type Target = CaptureMailer;
    fn deref(&self) -> &CaptureMailer {
        &self.capture
    }
}

/// A running test service.
pub struct TestAuth {
    pub app: App,
    pub mailer: Arc<SwitchMailer>,
    pub admin: tokio_postgres::Client,
    pub anon_key: String,
}

/// A response, decoded for assertions.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}), status {}: {:?}", self.status, String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn location(&self) -> String {
        self.header("location").unwrap_or_else(|| panic!("no Location header (status {}, body {:?})", self.status, String::from_utf8_lossy(&self.body))).to_string()
    }

    /// Asserts status and returns the JSON body.
    #[track_caller]
    pub fn expect(&self, status: u16) -> Value {
        assert_eq!(self.status, status, "body: {}", String::from_utf8_lossy(&self.body));
        if self.body.is_empty() { Value::Null } else { self.json() }
    }

    /// Asserts a versioned (2024-01-01) error body: status, code, message.
    #[track_caller]
    pub fn expect_error(&self, status: u16, code: &str, message: &str) {
        let body = self.expect(status);
        assert_eq!(body["code"], code, "body: {body}");
        assert_eq!(body["message"], message, "body: {body}");
    }

    /// Asserts a versioned error body with this status and code (message not checked).
    #[track_caller]
    pub fn expect_code(&self, status: u16, code: &str) -> Value {
        let body = self.expect(status);
        assert_eq!(body["code"], code, "body: {body}");
        body
    }
}

/// The process-wide test server, with Supabase's API roles created once.
pub fn cluster() -> &'static pgrest_embedded::TestCluster {
    let cluster = pgrest_embedded::shared_test_cluster().expect("test cluster");
    ROLES.get_or_init(|| {
        cluster.psql("postgres").run(include_str!("../../../pgrest-core/tests/fixtures/roles.sql")).expect("roles");
    });
    cluster
}

/// Core configuration connecting as `authenticator` to the database behind `superuser_url`.
pub fn core_config(superuser_url: &str, env: &HashMap<String, String>) -> Config {
    let overrides = Overrides {
        database_url: Some(superuser_url.replacen("postgres@", "authenticator@", 1)),
        jwt_secret: Some(SECRET.to_string()),
        schemas: Some(vec!["public".to_string()]),
        anon_role: Some("anon".to_string()),
        tx_end: Some(TxEnd::Commit),
        allow_unfiltered_mutations: Some(false),
        trust_authorizer: Some(false),
    };
    Config::from_sources(overrides, env).expect("core config")
}

async fn start(setup: Setup) -> TestAuth {
    let (_, superuser_url) = cluster().fresh_database("auth").expect("database");
    let (mut admin, connection) = tokio_postgres::connect(&superuser_url, tokio_postgres::NoTls).await.expect("connect as superuser");
    tokio::spawn(async move {
        let _ = connection.await;
    });
    pgrest_auth::migrate::migrate(&mut admin).await.expect("migrate");
    admin.batch_execute(NOTES_SQL).await.expect("notes table");

    let config = core_config(&superuser_url, &setup.core_env);
    let app = App::new(config).await.expect("app");
    let mailer = Arc::new(SwitchMailer::default());
    // The auth store connects as the owner of the auth tables (they have row-level security on),
    // the REST side as `authenticator`, as `pgrest-lambda dev` sets them up.
    let native = if setup.via_from_env {
        let mut env = setup.env.clone();
        env.entry("AUTH_DATABASE_URL".to_string()).or_insert_with(|| superuser_url.clone());
        NativeAuth::from_env(&app, &env, EXTERNAL_URL, mailer.clone()).await.expect("auth from env")
    } else {
        let mut config = AuthConfig::from_env(&setup.env, EXTERNAL_URL).expect("auth config");
        config.kdf = setup.kdf;
        let l = &mut config.limits;
        for limit in [
            &mut l.signup_per_ip,
            &mut l.password_per_ip,
            &mut l.password_per_email,
            &mut l.otp_per_ip,
            &mut l.email_per_address,
            &mut l.refresh_per_ip,
            &mut l.verify_per_ip,
            &mut l.authorize_per_ip,
        ] {
            *limit = UNLIMITED;
        }
        for f in setup.adjust {
            f(&mut config);
        }
        let get = |k: &str| setup.env.get(k).filter(|v| !v.trim().is_empty()).cloned();
        let signer = Signer::new(SECRET, get("AUTH_JWT_SIGNING_KEYS").as_deref()).expect("signer");
        let providers = ProviderConfig::from_env(get).expect("providers");
        let owner = Db::connect(&superuser_url, 8, Duration::from_secs(30)).expect("owner pool");
        NativeAuth::with_database(&app, owner, config, signer, mailer.clone(), providers).await.expect("auth service")
    };
    assert!(native.install(&app), "auth service installed once");
    let anon_key = app.keys().sign(&pgrest_core::auth::jwt::apikey_claims("anon", now_secs())).expect("anon key");
    TestAuth { app, mailer, admin, anon_key }
}

pub fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// One request being built.
pub struct Call<'a> {
    t: &'a TestAuth,
    method: http::Method,
    uri: String,
    headers: Vec<(String, String)>,
    body: Bytes,
    versioned: bool,
    client_addr: Option<std::net::IpAddr>,
}

impl<'a> Call<'a> {
    pub fn json(mut self, body: Value) -> Self {
        self.body = Bytes::from(body.to_string());
        self.headers.push(("content-type".into(), "application/json".into()));
        self
    }

    pub fn raw(mut self, body: &str) -> Self {
        self.body = Bytes::from(body.to_string());
        self.headers.push(("content-type".into(), "application/json".into()));
        self
    }

    pub fn bearer(mut self, token: &str) -> Self {
        self.headers.push(("authorization".into(), format!("Bearer {token}")));
        self
    }

    /// The client's address as a proxy reports it (per-IP rate limits).
    pub fn ip(mut self, ip: &str) -> Self {
        self.headers.push(("x-forwarded-for".into(), ip.to_string()));
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// The peer address a runner attaches (`ClientAddr`), which wins over `X-Forwarded-For`.
    pub fn client_addr(mut self, ip: &str) -> Self {
        self.client_addr = Some(ip.parse().expect("IP address"));
        self
    }

    /// Without `X-Supabase-Api-Version` (the legacy error format).
    pub fn legacy(mut self) -> Self {
        self.versioned = false;
        self
    }

    pub async fn send(self) -> Reply {
        let mut builder = http::Request::builder().method(self.method).uri(self.uri);
        if self.versioned {
            builder = builder.header(VERSION_HEADER, API_VERSION);
        }
        builder = builder.header("apikey", self.t.anon_key.as_str());
        for (k, v) in &self.headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        let mut request = builder.body(self.body).expect("request");
        if let Some(addr) = self.client_addr {
            request.extensions_mut().insert(pgrest_core::ClientAddr(addr));
        }
        let response = self.t.app.handle(request).await;
        let (parts, body) = response.into_parts();
        Reply { status: parts.status.as_u16(), headers: parts.headers, body }
    }
}

/// A signed-in user: the session object and its parts.
#[derive(Debug, Clone)]
pub struct Session {
    pub body: Value,
    pub access_token: String,
    pub refresh_token: String,
    pub user_id: String,
    pub email: String,
}

impl Session {
    pub fn from_body(body: Value) -> Session {
        let access_token = body["access_token"].as_str().unwrap_or_else(|| panic!("no access_token in {body}")).to_string();
        let refresh_token = body["refresh_token"].as_str().expect("refresh_token").to_string();
        let user_id = body["user"]["id"].as_str().expect("user.id").to_string();
        let email = body["user"]["email"].as_str().unwrap_or_default().to_string();
        Session { body, access_token, refresh_token, user_id, email }
    }

    pub fn claims(&self) -> Value {
        decode_claims(&self.access_token)
    }
}

/// The payload of a JWT, not verified.
pub fn decode_claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("JWT payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON claims")
}

/// The header of a JWT.
pub fn decode_header(token: &str) -> Value {
    let header = token.split('.').next().expect("JWT header");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).expect("base64url")).expect("JSON header")
}

/// A unique address for a test.
pub fn email(tag: &str) -> String {
    format!("{tag}-{}@example.com", &uuid::Uuid::new_v4().simple().to_string()[..8])
}

/// Pairs of a URL fragment or query string.
pub fn pairs(text: &str) -> HashMap<String, String> {
    form_urlencoded::parse(text.as_bytes()).into_owned().collect()
}

/// The fragment of a redirect target, decoded.
pub fn fragment(location: &str) -> HashMap<String, String> {
    pairs(location.split_once('#').map(|(_, f)| f).unwrap_or(""))
}

impl TestAuth {
    pub fn call(&self, method: &str, path: &str) -> Call<'_> {
        let uri = if path.starts_with("/rest/") { path.to_string() } else { format!("/auth/v1{path}") };
        Call { t: self, method: method.parse().expect("method"), uri, headers: Vec::new(), body: Bytes::new(), versioned: true, client_addr: None }
    }

    pub fn get(&self, path: &str) -> Call<'_> {
        self.call("GET", path)
    }

    pub fn post(&self, path: &str) -> Call<'_> {
        self.call("POST", path)
    }

    pub fn put(&self, path: &str) -> Call<'_> {
        self.call("PUT", path)
    }

    /// Signs up with autoconfirm on (the service must be configured so) and returns the session.
    pub async fn signup(&self, email: &str, password: &str) -> Session {
        let r = self.post("/signup").json(json!({"email": email, "password": password})).send().await;
        Session::from_body(r.expect(200))
    }

    /// Password grant; the session on success.
    pub async fn sign_in(&self, email: &str, password: &str) -> Session {
        Session::from_body(self.password_grant(email, password).await.expect(200))
    }

    pub async fn password_grant(&self, email: &str, password: &str) -> Reply {
        self.post("/token?grant_type=password").json(json!({"email": email, "password": password})).send().await
    }

    pub async fn refresh(&self, token: &str) -> Reply {
        self.post("/token?grant_type=refresh_token").json(json!({"refresh_token": token})).send().await
    }

    /// The last mail to `to`.
    pub fn mail_to(&self, to: &str) -> Email {
        self.mailer.last_to(to).unwrap_or_else(|| panic!("no mail to {to}; mails: {:?}", self.mailer.messages().iter().map(|m| (&m.to, &m.subject)).collect::<Vec<_>>()))
    }

    /// Every send fails (true) or succeeds again (false).
    pub fn mail_down(&self, down: bool) {
        self.mailer.down.store(down, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn code_for(&self, to: &str) -> String {
        pgrest_auth::mailer::extract_token(&self.mail_to(to)).expect("code in mail")
    }

    pub fn link_for(&self, to: &str) -> String {
        pgrest_auth::mailer::extract_link(&self.mail_to(to)).expect("link in mail")
    }

    pub async fn query_one(&self, sql: &str, params: &[&(dyn tokio_postgres::types::ToSql + Sync)]) -> tokio_postgres::Row {
        self.admin.query_one(sql, params).await.unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    pub async fn execute(&self, sql: &str, params: &[&(dyn tokio_postgres::types::ToSql + Sync)]) -> u64 {
        self.admin.execute(sql, params).await.unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Turns a link from a mail (`http://127.0.0.1:9999/auth/v1/verify?...`) into a path for `call`.
    pub fn local_path(link: &str) -> String {
        let rest = link.strip_prefix(EXTERNAL_URL).unwrap_or_else(|| panic!("link {link} not under {EXTERNAL_URL}"));
        rest.strip_prefix("/auth/v1").unwrap_or(rest).to_string()
    }
}
