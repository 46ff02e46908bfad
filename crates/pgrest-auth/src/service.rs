//! `NativeAuth`: the database-backed GoTrue-compatible provider, built once at start and
//! installed into the core `App` as its `/auth/v1` service; routes each request to a handler.
//!
//! Must not change the schema: at start it only checks the auth schema version (V-22).

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use pgrest_core::db::Db;
use pgrest_core::{App, AuthService, JwtKeys, ResponseFuture};

use crate::config::AuthConfig;
use crate::error::AuthError;
use crate::events;
use crate::handlers;
use crate::mailer::Mailer;
use crate::migrate::{check_schema, status_message};
use crate::oauth::ProviderConfig;
use crate::ratelimit::RateLimiter;
use crate::request::Req;
use crate::tokens::Signer;

/// The native auth provider.
pub struct NativeAuth {
    pub(crate) db: Db,
    pub(crate) keys: JwtKeys,
    pub(crate) config: AuthConfig,
    pub(crate) signer: Signer,
    pub(crate) limiter: RateLimiter,
    pub(crate) mailer: Arc<dyn Mailer>,
    pub(crate) providers: Vec<ProviderConfig>,
    pub(crate) http: reqwest::Client,
}

impl std::fmt::Debug for NativeAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeAuth").field("config", &self.config).field("signer", &self.signer).finish_non_exhaustive()
    }
}

/// Why the auth service could not start.
#[derive(Debug, thiserror::Error)]
pub enum AuthStartError {
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Schema(String),
}

impl NativeAuth {
    /// Builds the service over the App's pool and keys; refuses to start when the auth schema is
    /// missing or outdated, saying what to run.
    pub async fn new(app: &App, config: AuthConfig, signer: Signer, mailer: Arc<dyn Mailer>, providers: Vec<ProviderConfig>) -> Result<NativeAuth, AuthStartError> {
        NativeAuth::with_database(app, app.database().clone(), config, signer, mailer, providers).await
    }

    /// Like `new`, over its own pool: the auth tables have row-level security on (as on Supabase),
    /// so the store must connect as their owner; `AUTH_DATABASE_URL` names that connection when
    /// the API's own role (e.g. `authenticator`) does not own them.
    pub async fn with_database(app: &App, db: Db, config: AuthConfig, signer: Signer, mailer: Arc<dyn Mailer>, providers: Vec<ProviderConfig>) -> Result<NativeAuth, AuthStartError> {
        let client = db.connection().await.map_err(|e| AuthStartError::Schema(format!("cannot connect to check the auth schema: {e}")))?;
        let status = check_schema(&client).await.map_err(|e| AuthStartError::Schema(e.to_string()))?;
        if let Some(message) = status_message(&status) {
            return Err(AuthStartError::Schema(message));
        }
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| AuthStartError::Config(format!("HTTP client: {e}")))?;
        Ok(NativeAuth { db, keys: app.keys().clone(), config, signer, limiter: RateLimiter::new(100_000), mailer, providers, http })
    }

    /// Reads configuration from the environment map and builds the service.
    pub async fn from_env(app: &App, env: &HashMap<String, String>, default_external_url: &str, mailer: Arc<dyn Mailer>) -> Result<NativeAuth, AuthStartError> {
        let config = AuthConfig::from_env(env, default_external_url).map_err(|e| AuthStartError::Config(e.to_string()))?;
        let get = |k: &str| env.get(k).filter(|v| !v.trim().is_empty()).cloned();
        let signer = Signer::new(&app.config().jwt_secret, get("AUTH_JWT_SIGNING_KEYS").as_deref()).map_err(AuthStartError::Config)?;
        let providers = ProviderConfig::from_env(|k| get(k)).map_err(AuthStartError::Config)?;
        let db = match get("AUTH_DATABASE_URL") {
            Some(url) => Db::connect(&url, app.config().pool_size, app.config().statement_timeout).map_err(|e| AuthStartError::Config(format!("AUTH_DATABASE_URL: {e}")))?,
            None => app.database().clone(),
        };
        NativeAuth::with_database(app, db, config, signer, mailer, providers).await
    }

    /// Installs the service into `app` (once).
    pub fn install(self, app: &App) -> bool {
        app.set_auth_service(Arc::new(self))
    }

    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    async fn route(&self, req: &Req) -> Result<http::Response<Bytes>, AuthError> {
        use http::Method;
        match (&req.method, req.path.as_str()) {
            (&Method::GET, "/health") => Ok(handlers::meta::health()),
            (&Method::GET, "/settings") => Ok(handlers::meta::settings(self)),
            (&Method::GET, "/.well-known/jwks.json" | "/jwks") => Ok(handlers::meta::jwks(self)),
            (&Method::POST, "/signup") => handlers::account::signup(self, req).await,
            (&Method::POST, "/token") => handlers::token::token(self, req).await,
            (&Method::GET, "/user") => handlers::account::get_user(self, req).await,
            (&Method::PUT, "/user") => handlers::account::update_user(self, req).await,
            (&Method::POST, "/logout") => handlers::account::logout(self, req).await,
            (&Method::POST, "/otp") => handlers::email::otp(self, req).await,
            (&Method::POST, "/magiclink") => handlers::email::magiclink(self, req).await,
            (&Method::POST, "/verify") => handlers::email::verify_post(self, req).await,
            (&Method::GET, "/verify") => Ok(handlers::email::verify_get(self, req).await),
            (&Method::POST, "/recover") => handlers::email::recover(self, req).await,
            (&Method::POST, "/resend") => handlers::email::resend(self, req).await,
            (&Method::GET, "/authorize") => handlers::external::authorize(self, req).await,
            (&Method::GET, "/callback") => Ok(handlers::external::callback(self, req).await),
            (_, path) if KNOWN_PATHS.contains(&path) => Err(AuthError::new(405, "method_not_allowed", "Method not allowed")),
            _ => Err(AuthError::new(404, "not_found", "Not found")),
        }
    }
}

const KNOWN_PATHS: &[&str] = &[
    "/health", "/settings", "/.well-known/jwks.json", "/jwks", "/signup", "/token", "/user", "/logout", "/otp", "/magiclink", "/verify",
    "/recover", "/resend", "/authorize", "/callback",
];

impl AuthService for NativeAuth {
    fn handle<'a>(&'a self, request: http::Request<Bytes>, path: &'a str) -> ResponseFuture<'a> {
        Box::pin(async move {
            let req = Req::new(request, path);
            let (response, outcome) = match self.route(&req).await {
                Ok(response) => (response, "ok"),
                Err(e) => {
                    if e.status >= 500 {
                        tracing::warn!(path = %req.path, status = e.status, code = e.error_code, "auth request failed");
                    }
                    (e.to_response(&req.headers), e.error_code)
                }
            };
            if let Some(action) = events::action(&req) {
                events::log(&action, events::user_id(&response, &req, &self.keys).as_deref(), response.status().as_u16(), outcome);
            }
            response
        })
    }
}
