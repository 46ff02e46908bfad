//! Stage 6 (transaction): the only module that touches the pool. Runs one statement per request
//! inside one transaction with the caller's role and request settings.
//!
//! Must not build SQL for requests (it receives a `Statement`) or interpret results.

mod error;
mod login;
mod pool;
mod statement_cache;
mod tls;
mod transaction;

pub use error::DbError;
pub use login::LoginRole;
pub use pool::{Db, DbOptions};
pub use transaction::{Outcome, ResultRow, TxSettings};
