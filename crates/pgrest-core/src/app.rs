//! The `App`: one value that serves every runner (Lambda, local server, tests).
//! Edge: `http::Request<Bytes>` in, `http::Response<Bytes>` out; routes and runs the stages
//! jwt → parse → plan → build → transaction → response.
//!
//! Must not parse configuration per request or know which runner calls it.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock, RwLock};

use bytes::Bytes;
use serde_json::{Map, Value};

use crate::api_request::preferences::{CountPref, ReturnPref, TxPref};
use crate::api_request::{self, ApiRequest, MediaType, ParseLimits};
use crate::auth::jwt::{authenticate, AuthContext, AuthorizerIdentity, Credentials, JwtKeys};
use crate::config::Config;
use crate::db::{Db, Outcome, TxSettings};
use crate::error::Error;
use crate::plan::{self, ActionPlan, CallResult, PlanOptions};
use crate::response::{self, Applied};
use crate::schema_cache::SchemaCache;
use crate::sql::{self, BodyShape};

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
    reload: tokio::sync::Mutex<()>,
    auth: OnceLock<Arc<dyn AuthService>>,
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
        let db = Db::connect(&config.database_url, config.pool_size, config.statement_timeout).map_err(|e| StartupError::Database(e.to_string()))?;
        let cache = db.load_schema_cache(&config.schemas).await.map_err(|e| StartupError::SchemaCache(e.to_string()))?;
        tracing::info!(relations = cache.relations.len(), functions = cache.functions.len(), schemas = ?config.schemas, "schema cache loaded");
        Ok(App {
            inner: Arc::new(Inner {
                config,
                keys,
                db,
                schema: RwLock::new(Arc::new(cache)),
                reload: tokio::sync::Mutex::new(()),
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
        let _single_flight = self.inner.reload.lock().await;
        let cache = self
            .inner
            .db
            .load_schema_cache(&self.inner.config.schemas)
            .await
            .map_err(|error| Error::Db { error, anonymous: false })?;
        match self.inner.schema.write() {
            Ok(mut guard) => *guard = Arc::new(cache),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(cache),
        }
        Ok(())
    }

    /// Serves one request. Never panics; every failure becomes an error response.
    pub async fn handle(&self, request: http::Request<Bytes>) -> http::Response<Bytes> {
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
    fn identify(&self, request: &http::Request<Bytes>) -> Result<AuthContext, Error> {
        if self.inner.config.trust_authorizer {
            if let Some(id) = request.extensions().get::<AuthorizerIdentity>() {
                return Ok(AuthContext { role: id.role.clone(), claims: id.claims.clone(), anonymous: false });
            }
        }
        let creds = Credentials::from_headers(request.headers());
        Ok(authenticate(&self.inner.keys, creds, self.inner.config.anon_role.as_deref())?)
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
        let plan = plan::plan_request(&api, &cache, options)?;
        if matches!(plan, ActionPlan::Info) {
            return Ok(options_response());
        }
        self.execute(request, &api, &plan, &auth).await
    }

    async fn execute(&self, request: &http::Request<Bytes>, api: &ApiRequest, plan: &ActionPlan, auth: &AuthContext) -> Result<http::Response<Bytes>, Error> {
        let count = matches!(api.preferences.count, Some(CountPref::Exact | CountPref::Planned | CountPref::Estimated));
        let Some(statement) = sql::build(plan, body_shape(api, plan), count) else {
            return Ok(options_response());
        };
        let read_only = match plan {
            ActionPlan::Read { .. } => true,
            ActionPlan::Call { .. } => api.method == "GET" || api.method == "HEAD",
            _ => false,
        };
        let config = &self.inner.config;
        let tx_override = api.preferences.tx.filter(|_| config.tx_end.allows_override());
        let rollback = match tx_override {
            Some(TxPref::Rollback) => true,
            Some(TxPref::Commit) => false,
            None => config.tx_end.rolls_back(),
        };
        let singular = api.accept == MediaType::SingleObject
            && !matches!(plan, ActionPlan::Call { plan, .. } if !matches!(plan.result, CallResult::Rows { single: false }));
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
        let (row, _outcome) = self
            .inner
            .db
            .run(settings, statement, decide)
            .await
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

/// What the statement's body column must hold for this request.
fn body_shape(api: &ApiRequest, plan: &ActionPlan) -> BodyShape {
    match plan {
        ActionPlan::Read { headers_only: true, .. } | ActionPlan::Call { headers_only: true, .. } => BodyShape::None,
        ActionPlan::Read { .. } => BodyShape::for_media(api.accept),
        ActionPlan::Mutate(_) => {
            if api.preferences.return_ == Some(ReturnPref::Representation) { BodyShape::for_media(api.accept) } else { BodyShape::None }
        }
        ActionPlan::Call { plan, .. } => match plan.result {
            CallResult::Rows { single: true } => BodyShape::Object,
            CallResult::Void => BodyShape::None,
            _ => BodyShape::for_media(api.accept),
        },
        ActionPlan::Info => BodyShape::None,
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
