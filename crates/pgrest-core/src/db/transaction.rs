//! One request = one transaction: BEGIN (read-only for reads), the role and request settings,
//! the statement, then COMMIT or ROLLBACK — pipelined into as few round trips as possible.
//!
//! Must not be cancellable half-way: the work runs in its own task so a dropped request never
//! leaves a pooled connection inside a transaction.

use super::error::DbError;
use super::pool::Db;
use super::statement_cache::ConnectionCache;
use crate::sql::{Statement, TextParam};

const SETTINGS_SQL: &str = "SELECT pg_catalog.set_config('role', $1, true), \
pg_catalog.set_config('request.jwt.claims', $2, true), \
pg_catalog.set_config('request.method', $3, true), \
pg_catalog.set_config('request.path', $4, true), \
pg_catalog.set_config('request.headers', $5, true), \
pg_catalog.set_config('statement_timeout', $6, true), \
pg_catalog.set_config('search_path', $7, true)";

/// Per-request settings PostgREST (and Supabase's RLS helpers) rely on.
#[derive(Debug, Clone)]
pub struct TxSettings {
    pub role: String,
    pub claims_json: String,
    pub method: String,
    pub path: String,
    pub headers_json: String,
    /// `"schema", "public"`: the request's schema first, as PostgREST sets it.
    pub search_path: String,
    pub read_only: bool,
    /// This request's `statement_timeout` when shorter than the pool's (the anonymous role's).
    pub statement_timeout: Option<std::time::Duration>,
}

/// The fixed-shape result row of every statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultRow {
    pub total: Option<i64>,
    pub page_total: i64,
    pub body: String,
    pub inserted: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Commit,
    Rollback,
}

const MAX_ATTEMPTS: usize = 3;

impl Db {
    /// Runs `statement` in one transaction; `decide` sees the result and chooses how it ends.
    /// Serialization failures (40001) and deadlocks are retried up to three times.
    pub async fn run<F>(&self, settings: TxSettings, statement: Statement, decide: F) -> Result<(ResultRow, Outcome), DbError>
    where
        F: Fn(&ResultRow) -> Outcome + Send + Sync + 'static,
    {
        let db = self.clone();
        // The task keeps the request's span (its request id) for the lines it logs.
        let task = tokio::spawn(tracing::Instrument::in_current_span(async move {
            let mut attempt = 0;
            loop {
                attempt += 1;
                match db.run_once(&settings, &statement, &decide).await {
                    Err(e) if e.is_retryable() && attempt < MAX_ATTEMPTS => {
                        tracing::warn!(code = ?e.code(), attempt, "retrying transaction after a serialization failure");
                    }
                    other => return other,
                }
            }
        }));
        task.await.map_err(|e| DbError::Unavailable(format!("transaction task failed: {e}")))?
    }

    async fn run_once<F>(&self, settings: &TxSettings, statement: &Statement, decide: &F) -> Result<(ResultRow, Outcome), DbError>
    where
        F: Fn(&ResultRow) -> Outcome,
    {
        let client = self.pool.get().await?;
        let cache = self.statements.of(&client);
        let result = self.run_on(&client, &cache, settings, statement, decide).await;
        if cache.worn_out() {
            // The transaction is over; the backend's session caches go with the connection.
            tracing::debug!("retiring a connection that prepared many distinct statements");
            drop(deadpool_postgres::Object::take(client));
        }
        result
    }

    async fn run_on<F>(&self, client: &deadpool_postgres::Object, cache: &ConnectionCache, settings: &TxSettings, statement: &Statement, decide: &F) -> Result<(ResultRow, Outcome), DbError>
    where
        F: Fn(&ResultRow) -> Outcome,
    {
        let set = client.prepare_cached(SETTINGS_SQL).await?;
        let timeout_ms = settings.statement_timeout.unwrap_or(self.statement_timeout).as_millis().to_string();
        let set_params = [
            TextParam(Some(settings.role.clone())),
            TextParam(Some(settings.claims_json.clone())),
            TextParam(Some(settings.method.clone())),
            TextParam(Some(settings.path.clone())),
            TextParam(Some(settings.headers_json.clone())),
            TextParam(Some(timeout_ms)),
            TextParam(Some(settings.search_path.clone())),
        ];
        let set_refs: Vec<&(dyn postgres_types::ToSql + Sync)> = set_params.iter().map(|p| p as _).collect();
        let params = statement.param_refs();
        let begin_sql = if settings.read_only { "BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY" } else { "BEGIN ISOLATION LEVEL READ COMMITTED" };

        // A statement this connection has prepared before goes out with BEGIN and the settings
        // (reads: and COMMIT) in one round trip. The lookup does no I/O: a miss sends nothing.
        if let Some(main) = cache.get(&statement.text) {
            if settings.read_only {
                let (begin, set_result, main_result, end) =
                    tokio::join!(client.batch_execute(begin_sql), client.query_one(&set, &set_refs), client.query_one(&main, &params), client.batch_execute("COMMIT"));
                begin?;
                set_result?;
                let row = main_result.map_err(|e| forget_stale(cache, &statement.text, e.into())).and_then(to_result_row)?;
                end?;
                return Ok((row, Outcome::Commit));
            }
            let (begin, set_result, main_result) =
                tokio::join!(client.batch_execute(begin_sql), client.query_one(&set, &set_refs), client.query_one(&main, &params));
            let row = begin
                .and(set_result)
                .map_err(DbError::from)
                .and_then(|_| main_result.map_err(|e| forget_stale(cache, &statement.text, e.into())))
                .and_then(to_result_row);
            return finish_write(client, row, decide).await;
        }

        // First use on this connection. Round trip 1: BEGIN, role and settings, and PREPARE —
        // after the role switch, because schema USAGE is checked while a statement is parsed.
        // The statement is kept only once it is known good; if anything failed it is dropped
        // here, which closes it on the server.
        let (begin, set_result, prepared) = tokio::join!(client.batch_execute(begin_sql), client.query_one(&set, &set_refs), client.prepare(&statement.text));
        let started = begin.and(set_result).map_err(DbError::from).and_then(|_| prepared.map_err(DbError::from));
        let main = match started {
            Ok(main) => main,
            Err(e) => {
                let _ = client.batch_execute("ROLLBACK").await;
                return Err(e);
            }
        };
        cache.insert(&statement.text, &main);

        if settings.read_only {
            // Round trip 2 for reads: the statement and COMMIT (a COMMIT after a failure rolls back).
            let (main_result, end) = tokio::join!(client.query_one(&main, &params), client.batch_execute("COMMIT"));
            let row = to_result_row(main_result?)?;
            end?;
            return Ok((row, Outcome::Commit));
        }

        let row = client.query_one(&main, &params).await.map_err(DbError::from).and_then(to_result_row);
        finish_write(client, row, decide).await
    }
}

/// Ends a write transaction: COMMIT or ROLLBACK as `decide` says, ROLLBACK after a failure.
async fn finish_write<F>(client: &deadpool_postgres::Object, row: Result<ResultRow, DbError>, decide: &F) -> Result<(ResultRow, Outcome), DbError>
where
    F: Fn(&ResultRow) -> Outcome,
{
    match row {
        Ok(row) => {
            let outcome = decide(&row);
            client.batch_execute(if outcome == Outcome::Commit { "COMMIT" } else { "ROLLBACK" }).await?;
            Ok((row, outcome))
        }
        Err(e) => {
            // Leave the connection clean for the next request.
            let _ = client.batch_execute("ROLLBACK").await;
            Err(e)
        }
    }
}

/// A cached statement the server no longer runs as prepared (its plan's result type changed
/// with the schema, or it is gone) is forgotten, so the next request prepares it afresh.
fn forget_stale(cache: &ConnectionCache, sql: &str, e: DbError) -> DbError {
    if matches!(e.code(), Some("0A000" | "26000")) {
        cache.remove(sql);
    }
    e
}

fn to_result_row(row: tokio_postgres::Row) -> Result<ResultRow, DbError> {
    Ok(ResultRow { total: row.try_get(0)?, page_total: row.try_get(1)?, body: row.try_get(2)?, inserted: row.try_get(3)? })
}
