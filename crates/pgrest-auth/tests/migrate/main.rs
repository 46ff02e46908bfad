//! The auth schema migration against a real PostgreSQL: fresh databases, repeated and concurrent
//! runs, the RLS helper functions, API-role privileges, and upgrading a Supabase-made schema.
//!
//! Must not assume a particular cluster state beyond what each test creates (roles are
//! cluster-wide: created idempotently, never dropped).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code"
)]

use pgrest_auth::migrate::{
    AUTH_SCHEMA_VERSION, MigrateError, SchemaStatus, check_schema, migrate, status_message,
};
use pgrest_embedded::shared_test_cluster;
use tokio_postgres::{Client, NoTls};
use uuid::Uuid;

/// A new, empty database on the shared test server; returns its superuser URL.
fn fresh_database() -> String {
    shared_test_cluster()
        .unwrap()
        .fresh_database("auth")
        .unwrap()
        .1
}

async fn connect(url: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.unwrap();
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            eprintln!("connection error: {e}");
        }
    });
    client
}

/// The versions a full `migrate` records: every pgrest-lambda step up to the current one.
fn ours() -> Vec<String> {
    vec!["pgrest-lambda-1".to_string(), AUTH_SCHEMA_VERSION.to_string()]
}

async fn fresh_client() -> Client {
    connect(&fresh_database()).await
}

/// Creates the Supabase API roles if missing (cluster-wide; concurrent tests may race on it).
async fn ensure_api_roles(client: &Client) {
    for role in ["anon", "authenticated", "service_role"] {
        client
            .batch_execute(&format!(
                "DO $$ BEGIN CREATE ROLE {role} NOLOGIN; \
                 EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;"
            ))
            .await
            .unwrap();
    }
}

/// The versions a fresh migration records: every step's, in order.
async fn versions(client: &Client) -> Vec<String> {
    client
        .query(
            "SELECT version::text FROM auth.schema_migrations ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

async fn columns(client: &Client, table: &str) -> Vec<(String, String)> {
    client
        .query(
            "SELECT column_name::text, data_type::text FROM information_schema.columns \
             WHERE table_schema = 'auth' AND table_name = $1 ORDER BY ordinal_position",
            &[&table],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

/// oid:xmin of every relation and type in `auth`, and each function's definition: changes when a
/// table, index, type or function is created, altered or replaced. (Function ACLs are left out:
/// every run re-grants EXECUTE to the API roles, which may touch the pg_proc rows.)
async fn catalog_fingerprint(client: &Client) -> String {
    client
        .query_one(
            "SELECT concat_ws('|', \
               (SELECT string_agg(oid::text || ':' || xmin::text, ',' ORDER BY oid) \
                  FROM pg_class WHERE relnamespace = 'auth'::regnamespace), \
               (SELECT string_agg(oid::text || ':' || md5(prosrc), ',' ORDER BY oid) \
                  FROM pg_proc WHERE pronamespace = 'auth'::regnamespace), \
               (SELECT string_agg(oid::text || ':' || xmin::text, ',' ORDER BY oid) \
                  FROM pg_type WHERE typnamespace = 'auth'::regnamespace))",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

mod helpers_and_roles;
mod lifecycle;
mod supabase_upgrade;
mod otp_v2;
