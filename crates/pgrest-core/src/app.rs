//! The `App`: one value that serves every runner (Lambda, local server, tests).
//! Edge: `http::Request<Bytes>` in, `http::Response<Bytes>` out; routes and runs the stages
//! jwt → parse → plan → build → transaction → response.
//!
//! Must not parse configuration per request or know which runner calls it.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use bytes::Bytes;
use serde_json::{Map, Value};
use tracing::Instrument;

use crate::api_request::preferences::TxPref;
use crate::api_request::{self, ApiRequest, ParseLimits};
use crate::auth::jwt::{authenticate, AuthContext, AuthorizerIdentity, Credentials, JwtKeys};
use crate::auth::role::RolePolicy;
use crate::config::Config;
use crate::db::{Db, DbOptions, LoginRole, Outcome, TxSettings};
use crate::error::Error;
use crate::plan::{self, ActionPlan, Plan, PlanOptions};
use crate::response::{self, Applied};
use crate::schema_cache::SchemaCache;
use crate::sql;

/// Why the App could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("database: {0}")]
    Database(String),
    #[error("schema cache: {0}")]
    SchemaCache(String),
}

/// The caller's network address, attached to a request by runners that know it (the local server's
/// socket peer, API Gateway's `sourceIp`). Used for per-IP rate limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub std::net::IpAddr);

/// A boxed response future (what an `AuthService` returns).
pub type ResponseFuture<'a> = Pin<Box<dyn Future<Output = http::Response<Bytes>> + Send + 'a>>;

/// Serves `/auth/v1/*` (the native GoTrue-compatible provider lives in the `pgrest-auth` crate).
/// `path` is the part after `/auth/v1` (e.g. `/token`).
pub trait AuthService: Send + Sync + 'static {
    fn handle<'a>(&'a self, request: http::Request<Bytes>, path: &'a str) -> ResponseFuture<'a>;
}

/// The whole engine, cheap to clone (shared state behind `Arc`).
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    keys: JwtKeys,
    db: Db,
    schema: RwLock<Arc<SchemaCache>>,
    reload: Reload,
    login: LoginRole,
    roles: RolePolicy,
    auth: OnceLock<Arc<dyn AuthService>>,
}

/// Single-flight schema reloads: a caller is served by any reload that started after it
/// arrived, so callers who queue behind a running reload share the next one (V-15).
#[derive(Default)]
struct Reload {
    /// Reloads started so far; a reload's sequence number is the value before its start.
    started: AtomicU64,
    /// Sequence number of the last reload that succeeded (held while one runs).
    last_done: tokio::sync::Mutex<Option<u64>>,
    /// Reloads actually run (for tests and metrics).
    runs: AtomicU64,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("config", &self.inner.config).finish_non_exhaustive()
    }
}

impl App {
    /// Builds the pool, checks the connection and loads the schema cache.
    pub async fn new(config: Config) -> Result<App, StartupError> {
        let keys = JwtKeys::new(&config.jwt_secret, config.jwt_audience.clone())
            .with_ec_keys(&config.jwt_ec_keys)
            .map_err(|e| StartupError::Database(format!("PGREST_JWT_JWKS: {e}")))?;
        let options = DbOptions {
            max_size: config.pool_size,
            statement_timeout: config.statement_timeout,
            statement_cache_size: config.statement_cache_size,
            acquisition_timeout: config.pool_acquisition_timeout,
        };
        let db = Db::connect_with(&config.database_url, &options).map_err(|e| StartupError::Database(e.to_string()))?;
        let login = db.login_role().await.map_err(|e| StartupError::Database(e.to_string()))?;
        if let Some(warning) = login.warning() {
            tracing::warn!(role = %login.name, superuser = login.superuser, bypass_rls = login.bypass_rls, "{warning}");
        }
        let roles = RolePolicy::new(login.name.clone(), config.allowed_roles.clone(), config.anon_role.clone());
        if let Some(anon) = config.anon_role.as_deref().filter(|anon| roles.check(anon).is_err()) {
            tracing::warn!(anon_role = %anon, login_role = %login.name, "the anonymous role is the login role (or none): every anonymous request will be refused");
        }
        let cache = db.load_schema_cache(&config.schemas).await.map_err(|e| StartupError::SchemaCache(e.to_string()))?;
        tracing::info!(relations = cache.relations.len(), functions = cache.functions.len(), schemas = ?config.schemas, "schema cache loaded");
        Ok(App {
            inner: Arc::new(Inner {
                config,
                keys,
                db,
                schema: RwLock::new(Arc::new(cache)),
                reload: Reload::default(),
                login,
                roles,
                auth: OnceLock::new(),
            }),
        })
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The HS256 keys (to mint apikeys for banners and tests).
    pub fn keys(&self) -> &JwtKeys {
        &self.inner.keys
    }

    /// The role the pool logs in as, as the database described it at start.
    pub fn login_role(&self) -> &LoginRole {
        &self.inner.login
    }

    /// How many schema reloads have run since start (the load at start not counted).
    pub fn schema_reloads(&self) -> u64 {
        self.inner.reload.runs.load(Ordering::SeqCst)
    }

    /// The database handle (for the auth service, which shares the pool).
    pub fn database(&self) -> &Db {
        &self.inner.db
    }

    /// Installs the `/auth/v1` service; returns false when one was already installed.
    pub fn set_auth_service(&self, service: Arc<dyn AuthService>) -> bool {
        self.inner.auth.set(service).is_ok()
    }

    fn schema(&self) -> Arc<SchemaCache> {
        match self.inner.schema.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Reloads the schema cache. Concurrent callers share one reload; readers never wait.
    pub async fn reload_schema(&self) -> Result<(), Error> {
        let reload = &self.inner.reload;
        let arrived = reload.started.load(Ordering::SeqCst);
        let mut last_done = reload.last_done.lock().await;
        if last_done.is_some_and(|done| done >= arrived) {
            return Ok(());
        }
        let sequence = reload.started.fetch_add(1, Ordering::SeqCst);
        reload.runs.fetch_add(1, Ordering::SeqCst);
        let cache = self
            .inner
            .db
            .load_schema_cache(&self.inner.config.schemas)
            .await
            // The database cannot be reached: PostgREST's "no schema cache" answer (PGRST002);
            // requests keep being served from the cache already loaded.
            .map_err(|error| if error.is_connectivity() { Error::SchemaCacheNotReady } else { Error::Db { error, anonymous: false } })?;
        match self.inner.schema.write() {
            Ok(mut guard) => *guard = Arc::new(cache),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(cache),
        }
        *last_done = Some(sequence);
        tracing::info!(reload = sequence, "schema cache reloaded");
        Ok(())
    }

    /// Serves one request. Never panics; every failure becomes an error response. Every log line
    /// of the request carries its id, which the response echoes in `x-request-id`.
    pub async fn handle(&self, request: http::Request<Bytes>) -> http::Response<Bytes> {
        let id = crate::request_id::resolve(&request);
        let span = tracing::info_span!("request", request_id = %id);
        let mut response = self.route(request).instrument(span).await;
        if let Ok(value) = http::HeaderValue::from_str(&id) {
            response.headers_mut().insert(crate::request_id::HEADER, value);
        }
        response
    }

    async fn route(&self, request: http::Request<Bytes>) -> http::Response<Bytes> {
        let path = request.uri().path().to_string();
        let result = if let Some(rest) = path.strip_prefix("/rest/v1") {
            self.rest(&request, rest).await
        } else if let (Some(auth_path), Some(auth)) = (path.strip_prefix("/auth/v1"), self.inner.auth.get()) {
            let auth_path = auth_path.to_string();
            return auth.handle(request, &auth_path).await;
        } else {
            Err(Error::NotFound)
        };
        match result {
            Ok(response) => response,
            Err(e) => {
                let response = e.to_response(self.inner.config.verbose_errors);
                if response.status().is_server_error() {
                    tracing::warn!(method = %request.method(), path = %path, status = response.status().as_u16(), error = %e, "request failed");
                }
                response
            }
        }
    }

    /// Identity from a trusted authorizer context, or verified in-process.
    /// The role is checked against `RolePolicy` whichever way it came (V-06).
    fn identify(&self, request: &http::Request<Bytes>) -> Result<AuthContext, Error> {
        let trusted = request.extensions().get::<AuthorizerIdentity>().filter(|_| self.inner.config.trust_authorizer);
        let auth = match trusted {
            Some(id) => AuthContext { role: id.role.clone(), claims: id.claims.clone(), anonymous: false },
            None => authenticate(&self.inner.keys, Credentials::from_headers(request.headers()), self.inner.config.anon_role.as_deref())?,
        };
        self.inner.roles.check(&auth.role).map_err(|error| Error::Role { error, anonymous: auth.anonymous })?;
        Ok(auth)
    }

    async fn rest(&self, request: &http::Request<Bytes>, rest_path: &str) -> Result<http::Response<Bytes>, Error> {
        let auth = self.identify(request)?;
        if rest_path == "/_refresh" {
            return self.refresh(request, &auth).await;
        }
        if rest_path.is_empty() || rest_path == "/" {
            return Err(Error::Plan(plan::PlanError::Unsupported("the OpenAPI document is not served yet".into())));
        }
        let config = &self.inner.config;
        let limits = ParseLimits {
            max_body_bytes: config.max_body_bytes,
            max_bulk_rows: config.max_bulk_rows,
            max_query_bytes: config.max_query_bytes,
            max_select_nodes: config.max_select_nodes,
            max_embeds: config.max_embeds,
        };
        let api = api_request::parse_request(request, rest_path, &config.schemas, limits)?;
        let cache = self.schema();
        let options = PlanOptions { allow_unfiltered_mutations: config.allow_unfiltered_mutations, max_embed_depth: config.max_embed_depth };
        let plan = plan::plan(&api, &cache, options)?;
        if matches!(plan.action, ActionPlan::Info) {
            return Ok(options_response());
        }
        self.execute(request, &api, &plan, &auth).await
    }

    /// Runs a plan as it decided (transaction mode, body shape, singular, count); only how the
    /// transaction ends (`Prefer: tx` against the configuration) is decided here.
    async fn execute(&self, request: &http::Request<Bytes>, api: &ApiRequest, plan: &Plan, auth: &AuthContext) -> Result<http::Response<Bytes>, Error> {
        let Some(statement) = sql::build_plan(plan) else {
            return Ok(options_response());
        };
        let read_only = plan.read_only();
        let config = &self.inner.config;
        let tx_override = api.preferences.tx.filter(|_| config.tx_end.allows_override());
        let rollback = match tx_override {
            Some(TxPref::Rollback) => true,
            Some(TxPref::Commit) => false,
            None => config.tx_end.rolls_back(),
        };
        let singular = plan.singular;
        let anonymous = Some(auth.role.as_str()) == config.anon_role.as_deref();
        let statement_timeout = config.anon_statement_timeout.filter(|_| anonymous).map(|t| t.min(config.statement_timeout));
        let settings = TxSettings {
            role: auth.role.clone(),
            claims_json: auth.claims.to_string(),
            method: api.method.clone(),
            path: api.path.clone(),
            headers_json: headers_json(request.headers()),
            search_path: search_path(&api.schema),
            read_only,
            statement_timeout,
        };
        let decide = move |row: &crate::db::ResultRow| {
            if (singular && row.page_total != 1) || rollback { Outcome::Rollback } else { Outcome::Commit }
        };
        let result = self.inner.db.run(settings, statement, decide).await;
        log_mutation(api, &plan.action, auth, read_only, &result);
        let (row, _outcome) = result
            // PostgREST answers 401 (not 403) when the request ran as the anonymous role, whether
            // or not a token was sent (an anon apikey is still the anonymous role).
            .map_err(|error| Error::Db { error, anonymous })?;
        response::respond(api, plan, row, Applied { tx: tx_override })
    }

    /// `POST /rest/v1/_refresh`: service_role only (V-11).
    async fn refresh(&self, request: &http::Request<Bytes>, auth: &AuthContext) -> Result<http::Response<Bytes>, Error> {
        if request.method() != http::Method::POST {
            return Err(Error::Request(api_request::RequestError::UnsupportedMethod(request.method().to_string())));
        }
        if auth.role != "service_role" {
            return Err(Error::Jwt(crate::auth::jwt::JwtError::Invalid("the schema cache can only be reloaded with the service_role key".into())));
        }
        self.reload_schema().await?;
        let mut response = http::Response::new(Bytes::from_static(b"{\"message\":\"schema cache reloaded\"}"));
        response.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json; charset=utf-8"));
        Ok(response)
    }
}

/// One info line per write (a mutation, or a function called outside a read-only transaction):
/// method, target, rows affected (or the SQLSTATE it failed with), role, and how it ended.
fn log_mutation(api: &ApiRequest, plan: &ActionPlan, auth: &AuthContext, read_only: bool, result: &Result<(crate::db::ResultRow, Outcome), crate::db::DbError>) {
    let target = match plan {
        ActionPlan::Mutate(m) => &m.relation,
        ActionPlan::Call { plan, .. } if !read_only => &plan.function,
        _ => return,
    };
    match result {
        Ok((row, outcome)) => {
            tracing::info!(method = %api.method, table = %target, rows = row.page_total, role = %auth.role, outcome = ?outcome, "mutation");
        }
        Err(error) => {
            tracing::info!(method = %api.method, table = %target, rows = 0, role = %auth.role, code = error.code().unwrap_or("connection"), "mutation failed");
        }
    }
}

fn options_response() -> http::Response<Bytes> {
    let mut response = http::Response::new(Bytes::new());
    response.headers_mut().insert(http::header::ALLOW, http::HeaderValue::from_static("OPTIONS,GET,HEAD,POST,PUT,PATCH,DELETE"));
    response
}

/// Request headers as a JSON object with lower-case names (`request.headers`).
fn headers_json(headers: &http::HeaderMap) -> String {
    let mut map = Map::new();
    for (name, value) in headers {
        if let Ok(v) = value.to_str() {
            map.insert(name.as_str().to_string(), Value::String(v.to_string()));
        }
    }
    Value::Object(map).to_string()
}

/// `"schema", "public"` (identifiers quoted; the value is a bind parameter).
fn search_path(schema: &str) -> String {
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    if schema == "public" { quote(schema) } else { format!("{}, {}", quote(schema), quote("public")) }
}
