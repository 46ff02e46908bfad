//! Runtime configuration: explicit values > environment > defaults, validated once at start.
//!
//! Must not read the environment anywhere else; runners build a `Config` and hand it to `App`.

use std::collections::HashMap;
use std::time::Duration;

/// How a request's transaction ends (PostgREST's `db-tx-end`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxEnd {
    Commit,
    CommitAllowOverride,
    Rollback,
    RollbackAllowOverride,
}

impl TxEnd {
    fn parse(text: &str) -> Option<Self> {
        match text {
            "commit" => Some(TxEnd::Commit),
            "commit-allow-override" => Some(TxEnd::CommitAllowOverride),
            "rollback" => Some(TxEnd::Rollback),
            "rollback-allow-override" => Some(TxEnd::RollbackAllowOverride),
            _ => None,
        }
    }

    pub fn allows_override(self) -> bool {
        matches!(self, TxEnd::CommitAllowOverride | TxEnd::RollbackAllowOverride)
    }

    pub fn rolls_back(self) -> bool {
        matches!(self, TxEnd::Rollback | TxEnd::RollbackAllowOverride)
    }
}

/// Everything the engine needs to serve requests.
#[derive(Clone)]
pub struct Config {
    /// libpq-style URL (`postgres://user:pass@host:port/db?sslmode=require`).
    pub database_url: String,
    /// Schemas exposed through `/rest/v1`; the first is the default profile.
    pub schemas: Vec<String>,
    /// Role for requests without credentials; `None` refuses them with 401.
    pub anon_role: Option<String>,
    /// `PGREST_ALLOWED_ROLES`: when set, the only roles a token may name (the anon role is always
    /// allowed); unset leaves it to the database's grants, as PostgREST does.
    pub allowed_roles: Option<Vec<String>>,
    /// HS256 secret for apikeys and user tokens (at least 32 characters).
    pub jwt_secret: String,
    /// Expected `aud` of user tokens, when set.
    pub jwt_audience: Option<String>,
    /// ES256 public keys for user tokens (`PGREST_JWT_JWKS`: a JWKS document or an array of JWKs;
    /// falls back to the auth service's `AUTH_JWT_SIGNING_KEYS`, whose private members are ignored here).
    pub jwt_ec_keys: Vec<crate::auth::jwt::EcPublicJwk>,
    pub tx_end: TxEnd,
    /// PATCH and DELETE without any filter are refused unless this is set.
    pub allow_unfiltered_mutations: bool,
    pub pool_size: usize,
    pub statement_timeout: Duration,
    /// Prepared statements kept per pooled connection (least recently used closed first; 0 = none kept).
    pub statement_cache_size: usize,
    /// How long a request waits for a free pooled connection before 504 PGRST003.
    pub pool_acquisition_timeout: Duration,
    pub max_body_bytes: usize,
    pub max_bulk_rows: usize,
    pub max_embed_depth: usize,
    /// Request breadth (V-19): bytes of the query string, select items and embeds over all levels.
    pub max_query_bytes: usize,
    pub max_select_nodes: usize,
    pub max_embeds: usize,
    /// A shorter `statement_timeout` for requests that run as the anonymous role (`None`: the
    /// general one). Never longer than `statement_timeout`.
    pub anon_statement_timeout: Option<Duration>,
    /// Trust `AuthorizerIdentity` attached by the API Gateway adapter.
    pub trust_authorizer: bool,
    /// Pass database error texts through unchanged (otherwise sanitized where PostgREST would not show them).
    pub verbose_errors: bool,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &mask_url_password(&self.database_url))
            .field("schemas", &self.schemas)
            .field("anon_role", &self.anon_role)
            .field("allowed_roles", &self.allowed_roles)
            .field("jwt_secret", &"<hidden>")
            .field("tx_end", &self.tx_end)
            .field("allow_unfiltered_mutations", &self.allow_unfiltered_mutations)
            .field("pool_size", &self.pool_size)
            .field("statement_timeout", &self.statement_timeout)
            .field("statement_cache_size", &self.statement_cache_size)
            .field("pool_acquisition_timeout", &self.pool_acquisition_timeout)
            .field("trust_authorizer", &self.trust_authorizer)
            .finish_non_exhaustive()
    }
}

/// A configuration problem, reported before anything starts.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("JWT_SECRET must be at least 32 characters long (got {0}); generate one with `openssl rand -hex 32`")]
    WeakJwtSecret(usize),
    #[error("no database configured: set DATABASE_URL (or PG_HOST/PG_USER/PG_DATABASE)")]
    NoDatabase,
    #[error("invalid value {value:?} for {name}: {expected}")]
    Invalid { name: &'static str, value: String, expected: &'static str },
}

/// Settings given explicitly (CLI flags, library callers); each wins over the environment.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub database_url: Option<String>,
    pub schemas: Option<Vec<String>>,
    pub anon_role: Option<String>,
    pub jwt_secret: Option<String>,
    pub tx_end: Option<TxEnd>,
    pub allow_unfiltered_mutations: Option<bool>,
    pub trust_authorizer: Option<bool>,
}

impl Config {
    /// Builds the configuration from the process environment plus explicit overrides.
    pub fn load(overrides: Overrides) -> Result<Config, ConfigError> {
        let env: HashMap<String, String> = std::env::vars().collect();
        Config::from_sources(overrides, &env)
    }

    /// Builds the configuration from explicit values and a given environment map.
    pub fn from_sources(o: Overrides, env: &HashMap<String, String>) -> Result<Config, ConfigError> {
        let get = |k: &str| env.get(k).filter(|v| !v.is_empty()).cloned();
        let database_url = match o.database_url.or_else(|| get("DATABASE_URL")) {
            Some(url) => url,
            None => url_from_parts(env).ok_or(ConfigError::NoDatabase)?,
        };
        let jwt_secret = o.jwt_secret.or_else(|| get("JWT_SECRET")).unwrap_or_default();
        if jwt_secret.chars().count() < 32 {
            return Err(ConfigError::WeakJwtSecret(jwt_secret.chars().count()));
        }
        let schemas = match o.schemas {
            Some(s) => s,
            None => get("PGREST_SCHEMAS")
                .map(|s| split_list(&s))
                .unwrap_or_else(|| vec!["public".to_string()]),
        };
        if schemas.is_empty() {
            return Err(ConfigError::Invalid {
                name: "PGREST_SCHEMAS",
                value: String::new(),
                expected: "a comma-separated list of at least one schema",
            });
        }
        let anon_role = match o.anon_role {
            Some(r) => Some(r).filter(|r| !r.is_empty()),
            None => match env.get("PGREST_ANON_ROLE") {
                Some(r) if r.is_empty() => None,
                Some(r) => Some(r.clone()),
                None => Some("anon".to_string()),
            },
        };
        let tx_end = match o.tx_end {
            Some(t) => t,
            None => match get("PGREST_TX_END") {
                Some(v) => TxEnd::parse(&v).ok_or(ConfigError::Invalid {
                    name: "PGREST_TX_END",
                    value: v,
                    expected: "commit, commit-allow-override, rollback or rollback-allow-override",
                })?,
                None => TxEnd::Commit,
            },
        };
        Ok(Config {
            database_url,
            schemas,
            anon_role,
            allowed_roles: get("PGREST_ALLOWED_ROLES").map(|s| split_list(&s)),
            jwt_secret,
            jwt_audience: get("PGREST_JWT_AUD"),
            jwt_ec_keys: match get("PGREST_JWT_JWKS").or_else(|| get("AUTH_JWT_SIGNING_KEYS")) {
                Some(text) => parse_ec_keys(&text).ok_or(ConfigError::Invalid {
                    name: "PGREST_JWT_JWKS",
                    value: "<not shown>".to_string(),
                    expected: "a JWKS ({\"keys\": [...]}) or an array of EC P-256 JWKs with kid, x and y",
                })?,
                None => Vec::new(),
            },
            tx_end,
            allow_unfiltered_mutations: match o.allow_unfiltered_mutations {
                Some(b) => b,
                None => parse_bool(env, "PGREST_ALLOW_UNFILTERED_MUTATIONS", false)?,
            },
            pool_size: parse_num(env, "PGREST_POOL_SIZE", 8)?,
            statement_timeout: Duration::from_millis(parse_num(env, "PGREST_STATEMENT_TIMEOUT_MS", 30_000)?),
            statement_cache_size: parse_num(env, "PGREST_STATEMENT_CACHE_SIZE", 128)?,
            pool_acquisition_timeout: Duration::from_millis(parse_num(env, "PGREST_POOL_ACQUISITION_TIMEOUT_MS", 10_000)?),
            max_body_bytes: parse_num(env, "PGREST_MAX_BODY_BYTES", 6 * 1024 * 1024)?,
            max_bulk_rows: parse_num(env, "PGREST_MAX_BULK_ROWS", 10_000)?,
            max_embed_depth: parse_num(env, "PGREST_MAX_EMBED_DEPTH", 8)?,
            max_query_bytes: parse_num(env, "PGREST_MAX_QUERY_BYTES", 16 * 1024)?,
            max_select_nodes: parse_num(env, "PGREST_MAX_SELECT_NODES", 200)?,
            max_embeds: parse_num(env, "PGREST_MAX_EMBEDS", 20)?,
            anon_statement_timeout: match parse_num::<u64>(env, "PGREST_ANON_STATEMENT_TIMEOUT_MS", 3_000)? {
                0 => None,
                ms => Some(Duration::from_millis(ms)),
            },
            trust_authorizer: match o.trust_authorizer {
                Some(b) => b,
                None => parse_bool(env, "PGREST_TRUST_AUTHORIZER", false)?,
            },
            verbose_errors: parse_bool(env, "PGREST_VERBOSE_ERRORS", false)?,
        })
    }
}

/// EC P-256 keys (kid, x, y) of a JWKS document or a bare array of JWKs.
pub fn parse_ec_keys(text: &str) -> Option<Vec<crate::auth::jwt::EcPublicJwk>> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    let keys = match &value {
        serde_json::Value::Array(items) => items,
        other => other.get("keys")?.as_array()?,
    };
    keys.iter()
        .map(|k| {
            let field = |name: &str| k.get(name).and_then(serde_json::Value::as_str).map(str::to_string);
            (field("kty")? == "EC" && field("crv")? == "P-256").then_some(())?;
            Some(crate::auth::jwt::EcPublicJwk { kid: field("kid")?, x: field("x")?, y: field("y")? })
        })
        .collect()
}

fn split_list(text: &str) -> Vec<String> {
    text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()
}

fn parse_bool(env: &HashMap<String, String>, name: &'static str, default: bool) -> Result<bool, ConfigError> {
    match env.get(name).map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(default),
        Some(v) if v.is_empty() => Ok(default),
        Some(v) => match v.as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" => Ok(false),
            _ => Err(ConfigError::Invalid { name, value: v, expected: "true or false" }),
        },
    }
}

fn parse_num<T: std::str::FromStr>(env: &HashMap<String, String>, name: &'static str, default: T) -> Result<T, ConfigError> {
    match env.get(name).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|_| ConfigError::Invalid {
            name,
            value: v.clone(),
            expected: "a non-negative integer",
        }),
    }
}

/// `PG_HOST` + `PG_PORT` + `PG_USER` + `PG_DATABASE` + `PG_PASSWORD` → URL.
fn url_from_parts(env: &HashMap<String, String>) -> Option<String> {
    let host = env.get("PG_HOST")?;
    let user = env.get("PG_USER").map(String::as_str).unwrap_or("postgres");
    let db = env.get("PG_DATABASE").map(String::as_str).unwrap_or("postgres");
    let port = env.get("PG_PORT").map(String::as_str).unwrap_or("5432");
    let enc = |s: &str| percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string();
    let auth = match env.get("PG_PASSWORD") {
        Some(p) => format!("{}:{}", enc(user), enc(p)),
        None => enc(user),
    };
    Some(format!("postgres://{auth}@{host}:{port}/{}", enc(db)))
}

/// `postgres://u:secret@h/db` → `postgres://u:****@h/db`, for banners and logs.
pub fn mask_url_password(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else { return url.to_string() };
    let rest = &url[scheme_end + 3..];
    let Some(at) = rest.rfind('@') else { return url.to_string() };
    let userinfo = &rest[..at];
    match userinfo.find(':') {
        Some(colon) => format!("{}{}:****{}", &url[..scheme_end + 3], &userinfo[..colon], &rest[at..]),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn refuses_short_secret() {
        let e = env(&[("DATABASE_URL", "postgres://x@h/d"), ("JWT_SECRET", "short")]);
        let err = Config::from_sources(Overrides::default(), &e).err();
        assert!(matches!(err, Some(ConfigError::WeakJwtSecret(5))), "{err:?}");
    }

    #[test]
    fn explicit_beats_environment_beats_default() {
        let e = env(&[("DATABASE_URL", "postgres://env@h/d"), ("JWT_SECRET", SECRET), ("PGREST_SCHEMAS", "api, v2")]);
        let o = Overrides { database_url: Some("postgres://explicit@h/d".into()), ..Default::default() };
        let c = Config::from_sources(o, &e).unwrap();
        assert_eq!(c.database_url, "postgres://explicit@h/d");
        assert_eq!(c.schemas, vec!["api", "v2"]);
        assert_eq!(c.anon_role.as_deref(), Some("anon"));
        assert_eq!(c.tx_end, TxEnd::Commit);
    }

    #[test]
    fn builds_url_from_parts_with_escaping() {
        let e = env(&[("PG_HOST", "db"), ("PG_USER", "app"), ("PG_PASSWORD", "p@ss:w"), ("JWT_SECRET", SECRET)]);
        let c = Config::from_sources(Overrides::default(), &e).unwrap();
        assert_eq!(c.database_url, "postgres://app:p%40ss%3Aw@db:5432/postgres");
    }

    #[test]
    fn masks_password() {
        assert_eq!(mask_url_password("postgres://u:secret@h:5/d"), "postgres://u:****@h:5/d");
        assert_eq!(mask_url_password("postgres://u@h/d"), "postgres://u@h/d");
    }

    #[test]
    fn allowed_roles_are_off_unless_set() {
        let base = [("DATABASE_URL", "postgres://x@h/d"), ("JWT_SECRET", SECRET)];
        assert_eq!(Config::from_sources(Overrides::default(), &env(&base)).unwrap().allowed_roles, None);
        let e = env(&[base[0], base[1], ("PGREST_ALLOWED_ROLES", "authenticated, service_role")]);
        assert_eq!(Config::from_sources(Overrides::default(), &e).unwrap().allowed_roles, Some(vec!["authenticated".into(), "service_role".into()]));
    }

    #[test]
    fn rejects_bad_tx_end() {
        let e = env(&[("DATABASE_URL", "postgres://x@h/d"), ("JWT_SECRET", SECRET), ("PGREST_TX_END", "maybe")]);
        assert!(matches!(Config::from_sources(Overrides::default(), &e), Err(ConfigError::Invalid { name: "PGREST_TX_END", .. })));
    }

    #[test]
    fn breadth_limits_and_anon_timeout() {
        let base = [("DATABASE_URL", "postgres://x@h/d"), ("JWT_SECRET", SECRET)];
        let c = Config::from_sources(Overrides::default(), &env(&base)).unwrap();
        assert_eq!((c.max_query_bytes, c.max_select_nodes, c.max_embeds), (16 * 1024, 200, 20));
        assert_eq!(c.anon_statement_timeout, Some(Duration::from_millis(3_000)));
        let mut set = base.to_vec();
        set.extend([("PGREST_MAX_QUERY_BYTES", "100"), ("PGREST_MAX_SELECT_NODES", "5"), ("PGREST_MAX_EMBEDS", "1"), ("PGREST_ANON_STATEMENT_TIMEOUT_MS", "0")]);
        let c = Config::from_sources(Overrides::default(), &env(&set)).unwrap();
        assert_eq!((c.max_query_bytes, c.max_select_nodes, c.max_embeds, c.anon_statement_timeout), (100, 5, 1, None));
        let mut bad = base.to_vec();
        bad.push(("PGREST_MAX_EMBEDS", "-1"));
        assert!(matches!(Config::from_sources(Overrides::default(), &env(&bad)), Err(ConfigError::Invalid { name: "PGREST_MAX_EMBEDS", .. })));
    }
}
