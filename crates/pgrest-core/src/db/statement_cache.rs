//! Bounded per-connection cache of the REST pipeline's prepared statements: at most `capacity`
//! per pooled connection, the least recently used closed on the server when a new one comes in.
//!
//! Must not grow with request shapes (select aliases are client-chosen and part of the SQL
//! text), and must not do I/O on lookup: a miss is answered at once, so nothing is sent to the
//! server that no one will read. Statements are closed by dropping them (tokio-postgres sends
//! Close); nothing here may hold one past its connection's life for long.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use deadpool_postgres::{Object, ObjectId, StatementCache as DeadpoolCache};
use tokio_postgres::Statement;

/// One pool's caches, one per live connection (keyed by the pool's object id).
#[derive(Debug)]
pub(super) struct StatementCaches {
    capacity: usize,
    connections: Mutex<HashMap<ObjectId, Arc<ConnectionCache>>>,
}

/// The statements of one connection.
#[derive(Debug)]
pub(super) struct ConnectionCache {
    /// Dead once deadpool drops the connection: the entry is then swept.
    alive: Weak<DeadpoolCache>,
    capacity: usize,
    lru: Mutex<Lru>,
}

#[derive(Debug, Default)]
struct Lru {
    tick: u64,
    entries: HashMap<String, (Statement, u64)>,
    /// Statements ever prepared on this connection (misses).
    prepared: u64,
}

/// Distinct statements a connection may prepare before it is retired. Closing statements frees
/// their plans, but PostgreSQL keeps every distinct anonymous row type a session has built (its
/// record-type cache, in CacheMemoryContext, about 600 bytes per select shape) until the session
/// ends; retiring the connection bounds that to a few MB per backend.
pub(super) const RETIRE_AFTER_PREPARES: u64 = 5_000;

impl StatementCaches {
    pub(super) fn new(capacity: usize) -> StatementCaches {
        StatementCaches { capacity, connections: Mutex::new(HashMap::new()) }
    }

    /// The cache of `client`'s connection (created on first use; caches of closed connections
    /// are dropped, closing nothing more since their connection is gone).
    pub(super) fn of(&self, client: &Object) -> Arc<ConnectionCache> {
        let id = Object::id(client);
        let mut connections = self.connections.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(cache) = connections.get(&id) {
            return cache.clone();
        }
        connections.retain(|_, c| c.alive.strong_count() > 0);
        let cache = Arc::new(ConnectionCache { alive: Arc::downgrade(&client.statement_cache), capacity: self.capacity, lru: Mutex::new(Lru::default()) });
        connections.insert(id, cache.clone());
        cache
    }

    /// Connections with a cache (live or not yet swept).
    #[cfg(test)]
    pub(super) fn connections(&self) -> usize {
        self.connections.lock().map(|c| c.len()).unwrap_or(0)
    }
}

impl ConnectionCache {
    /// The statement for `sql` if this connection has it (no I/O).
    pub(super) fn get(&self, sql: &str) -> Option<Statement> {
        let mut lru = self.lru.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        lru.tick = lru.tick.wrapping_add(1);
        let tick = lru.tick;
        let (statement, used) = lru.entries.get_mut(sql)?;
        *used = tick;
        Some(statement.clone())
    }

    /// Keeps `statement` for `sql`; past capacity the least recently used is dropped (closed on
    /// the server). With capacity 0 nothing is kept: the caller's copy closes it after use.
    pub(super) fn insert(&self, sql: &str, statement: &Statement) {
        let mut lru = self.lru.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        lru.prepared = lru.prepared.saturating_add(1);
        if self.capacity == 0 {
            return;
        }
        lru.tick = lru.tick.wrapping_add(1);
        let tick = lru.tick;
        while lru.entries.len() >= self.capacity && !lru.entries.contains_key(sql) {
            let Some(oldest) = lru.entries.iter().min_by_key(|(_, (_, used))| *used).map(|(k, _)| k.clone()) else {
                break;
            };
            lru.entries.remove(&oldest);
        }
        lru.entries.insert(sql.to_string(), (statement.clone(), tick));
    }

    /// Forgets `sql` (a statement the server no longer accepts, e.g. after a schema change).
    pub(super) fn remove(&self, sql: &str) {
        let mut lru = self.lru.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        lru.entries.remove(sql);
    }

    /// Whether this connection has prepared enough distinct statements to be retired.
    pub(super) fn worn_out(&self) -> bool {
        self.lru.lock().map(|l| l.prepared >= RETIRE_AFTER_PREPARES).unwrap_or(true)
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.lru.lock().map(|l| l.entries.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

    use std::time::Duration;

    use super::super::{Db, DbOptions};

    async fn prepared_on_server(client: &tokio_postgres::Client) -> String {
        // The simple protocol, so the probe itself is not a prepared statement.
        let rows = client.simple_query("SELECT count(*) FROM pg_prepared_statements").await.unwrap();
        rows.iter()
            .find_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
                _ => None,
            })
            .unwrap()
    }

    #[tokio::test]
    async fn bounded_per_connection_evicted_closed_and_swept_with_the_connection() {
        let cluster = pgrest_embedded::shared_test_cluster().unwrap();
        let options = DbOptions { statement_cache_size: 2, ..DbOptions::new(2, Duration::from_secs(5)) };
        let db = Db::connect_with(cluster.url(), &options).unwrap();
        let a = db.pool.get().await.unwrap();
        let b = db.pool.get().await.unwrap();
        let (cache_a, cache_b) = (db.statements.of(&a), db.statements.of(&b));
        for sql in ["SELECT 1", "SELECT 2", "SELECT 1", "SELECT 3"] {
            if cache_a.get(sql).is_none() {
                let statement = a.prepare(sql).await.unwrap();
                cache_a.insert(sql, &statement);
            }
        }
        assert_eq!(cache_a.len(), 2);
        assert!(cache_a.get("SELECT 2").is_none(), "least recently used is gone");
        assert!(cache_a.get("SELECT 1").is_some() && cache_a.get("SELECT 3").is_some());
        assert_eq!(prepared_on_server(&a).await, "2", "the evicted statement was closed");
        assert_eq!(cache_b.len(), 0, "caches are per connection");

        // A connection taken out of the pool and dropped: its cache goes with the next newcomer.
        drop(deadpool_postgres::Object::take(a));
        let c = db.pool.get().await.unwrap();
        let _ = db.statements.of(&c);
        assert_eq!(db.statements.connections(), 2);
    }
}
