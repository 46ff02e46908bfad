//! Database failures as values: a PostgreSQL error (with SQLSTATE), a connection that could not
//! be made, a connection that broke while in use, or no pooled connection free in time.
//!
//! Must not decide HTTP status; `crate::error` does.

/// A failure while talking to PostgreSQL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DbError {
    /// The server answered with an error.
    #[error("{message}")]
    Postgres { code: String, message: String, details: Option<String>, hint: Option<String> },
    /// No connection could be made (server down or refusing, TLS or authentication failure).
    #[error("{0}")]
    Connection(String),
    /// The connection failed while in use (it closed, or the client broke).
    #[error("{0}")]
    Unavailable(String),
    /// Every pooled connection stayed busy for the whole acquisition timeout.
    #[error("timed out acquiring a connection from the pool")]
    PoolTimeout,
}

impl DbError {
    pub fn code(&self) -> Option<&str> {
        match self {
            DbError::Postgres { code, .. } => Some(code),
            DbError::Connection(_) | DbError::Unavailable(_) | DbError::PoolTimeout => None,
        }
    }

    /// Serialization failures and deadlocks: the whole transaction may be retried.
    pub fn is_retryable(&self) -> bool {
        matches!(self.code(), Some("40001" | "40P01"))
    }

    /// The database could not be reached or used at all (as opposed to refusing a statement).
    pub fn is_connectivity(&self) -> bool {
        matches!(self, DbError::Connection(_) | DbError::Unavailable(_) | DbError::PoolTimeout)
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
            None => DbError::Unavailable(with_causes(&e)),
        }
    }
}

/// `e` and its causes ("error performing TLS handshake: invalid peer certificate: ...").
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.ends_with(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = c.source();
    }
    text
}

impl From<deadpool_postgres::PoolError> for DbError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        use deadpool_postgres::{PoolError, TimeoutType};
        match e {
            PoolError::Timeout(TimeoutType::Wait) => DbError::PoolTimeout,
            // Making a new connection failed, whatever the server said (PostgREST: PGRST000).
            PoolError::Backend(inner) => DbError::Connection(with_causes(&inner)),
            other => DbError::Connection(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use deadpool_postgres::{PoolError, TimeoutType};

    #[test]
    fn pool_errors_split_into_timeout_and_connection() {
        assert_eq!(DbError::from(PoolError::Timeout(TimeoutType::Wait)), DbError::PoolTimeout);
        assert!(matches!(DbError::from(PoolError::Timeout(TimeoutType::Create)), DbError::Connection(_)));
        assert!(matches!(DbError::from(PoolError::Closed), DbError::Connection(_)));
    }
}
