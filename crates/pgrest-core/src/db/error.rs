//! Database failures as values: a PostgreSQL error (with SQLSTATE) or a connection problem.
//!
//! Must not decide HTTP status; `crate::error` does.

/// A failure while talking to PostgreSQL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DbError {
    /// The server answered with an error.
    #[error("{message}")]
    Postgres { code: String, message: String, details: Option<String>, hint: Option<String> },
    /// No connection could be had (pool exhausted, server down, TLS failure).
    #[error("{0}")]
    Unavailable(String),
}

impl DbError {
    pub fn code(&self) -> Option<&str> {
        match self {
            DbError::Postgres { code, .. } => Some(code),
            DbError::Unavailable(_) => None,
        }
    }

    /// Serialization failures and deadlocks: the whole transaction may be retried.
    pub fn is_retryable(&self) -> bool {
        matches!(self.code(), Some("40001" | "40P01"))
    }
}

impl From<tokio_postgres::Error> for DbError {
    fn from(e: tokio_postgres::Error) -> Self {
        match e.as_db_error() {
            Some(db) => DbError::Postgres {
                code: db.code().code().to_string(),
                message: db.message().to_string(),
                details: db.detail().map(str::to_string),
                hint: db.hint().map(str::to_string),
            },
            None => DbError::Unavailable(e.to_string()),
        }
    }
}

impl From<deadpool_postgres::PoolError> for DbError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        match e {
            deadpool_postgres::PoolError::Backend(inner) => DbError::from(inner),
            other => DbError::Unavailable(other.to_string()),
        }
    }
}
