//! The connection pool (deadpool-postgres), built once per process, with bounded per-connection
//! prepared-statement caches.
//!
//! Must not be created per request.

use std::str::FromStr;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};

use std::sync::Arc;

use super::error::DbError;
use super::statement_cache::StatementCaches;
use super::tls::{connector, split_tls_params};
use crate::schema_cache::{load_schema_cache, SchemaCache};

/// The database handle every request goes through.
#[derive(Clone)]
pub struct Db {
    pub(super) pool: Pool,
    pub(super) statement_timeout: Duration,
    pub(super) statements: Arc<StatementCaches>,
}

/// How the pool is sized and bounded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbOptions {
    pub max_size: usize,
    pub statement_timeout: Duration,
    /// Request statements kept prepared per connection (0: none kept).
    pub statement_cache_size: usize,
    /// How long a request waits for a free connection (then 504 PGRST003).
    pub acquisition_timeout: Duration,
}

impl DbOptions {
    /// `max_size` connections, the default cache (128 statements each) and a 10 s wait.
    pub fn new(max_size: usize, statement_timeout: Duration) -> DbOptions {
        DbOptions { max_size, statement_timeout, statement_cache_size: 128, acquisition_timeout: Duration::from_secs(10) }
    }
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("status", &self.pool.status()).finish()
    }
}

impl Db {
    /// Builds the pool (connections open lazily, on first use) with default bounds.
    pub fn connect(url: &str, max_size: usize, statement_timeout: Duration) -> Result<Db, DbError> {
        Db::connect_with(url, &DbOptions::new(max_size, statement_timeout))
    }

    /// Builds the pool (connections open lazily, on first use).
    pub fn connect_with(url: &str, options: &DbOptions) -> Result<Db, DbError> {
        let tls = split_tls_params(url);
        let mut pg = tokio_postgres::Config::from_str(&tls.url).map_err(|e| DbError::Unavailable(format!("invalid database URL: {e}")))?;
        if tls.upgraded {
            tracing::warn!("DATABASE_URL's sslmode allows plaintext; connecting with verified TLS only (use sslmode=disable for a plaintext connection)");
        }
        if pg.get_application_name().is_none() {
            pg.application_name("pgrest-lambda");
        }
        pg.connect_timeout(Duration::from_secs(10));
        let manager_config = ManagerConfig { recycling_method: RecyclingMethod::Fast };
        let manager = if tls.use_tls {
            let connector = connector(tls.root_cert.as_deref()).map_err(DbError::Unavailable)?;
            Manager::from_config(pg, connector, manager_config)
        } else {
            Manager::from_config(pg, tokio_postgres::NoTls, manager_config)
        };
        let pool = Pool::builder(manager)
            .max_size(options.max_size.max(1))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(options.acquisition_timeout))
            .create_timeout(Some(Duration::from_secs(10)))
            .build()
            .map_err(|e| DbError::Unavailable(e.to_string()))?;
        Ok(Db { pool, statement_timeout: options.statement_timeout, statements: Arc::new(StatementCaches::new(options.statement_cache_size)) })
    }

    /// Reads the schema cache for `schemas` over one pooled connection.
    pub async fn load_schema_cache(&self, schemas: &[String]) -> Result<SchemaCache, DbError> {
        let client = self.pool.get().await?;
        load_schema_cache(&**client, schemas).await.map_err(|e| match e {
            crate::schema_cache::LoadError::Database(db) => DbError::from(db),
            other => DbError::Unavailable(other.to_string()),
        })
    }

    /// A pooled connection for the auth store (`pgrest-auth`), which runs its own statements.
    /// The REST pipeline never uses this: it goes through `run`.
    pub async fn connection(&self) -> Result<deadpool_postgres::Object, DbError> {
        Ok(self.pool.get().await?)
    }

    /// Opens one connection now (start-up check; the pool keeps it).
    pub async fn ping(&self) -> Result<(), DbError> {
        let client = self.pool.get().await?;
        client.simple_query("").await?;
        Ok(())
    }
}
