//! The `auth` schema (Supabase Auth's tables and RLS helpers plus pgrest-lambda's additions):
//! `migrate` creates or upgrades it from `sql/auth_v1.sql` and the `sql/auth_v2_*.sql` steps in
//! one locked transaction, and `check_schema` tells whether a database has it.
//!
//! Must not run implicitly (Lambda start-up only calls `check_schema`, which never changes
//! anything), and must not drop or expose existing auth data: every step is idempotent and safe
//! on an `auth` schema dumped from Supabase. The one rewrite is hashing plaintext refresh tokens
//! in place, after which they keep working.

use tokio_postgres::{Client, GenericClient};

/// The version `migrate` records in `auth.schema_migrations`. Named, not numbered like GoTrue's
/// timestamps, so the two never collide in a schema both have touched.
pub const AUTH_SCHEMA_VERSION: &str = "pgrest-lambda-2";

/// Prefix of every version pgrest-lambda records.
const VERSION_PREFIX: &str = "pgrest-lambda-";

/// The schema itself; records `pgrest-lambda-1` as its last statement.
const AUTH_V1_SQL: &str = include_str!("../sql/auth_v1.sql");

/// One-time-token guessing limits (V-12), the first part of v2; records nothing.
const AUTH_V2_OTP_SQL: &str = include_str!("../sql/auth_v2_otp.sql");

/// Refresh tokens stored hashed (plaintext ones hashed in place), the last part of v2; records
/// `pgrest-lambda-2`.
const AUTH_V2_TOKENS_SQL: &str = include_str!("../sql/auth_v2_tokens.sql");

/// USAGE / EXECUTE grants for the API roles that exist; run on every `migrate`.
const AUTH_GRANTS_SQL: &str = include_str!("../sql/auth_grants.sql");

/// Transaction-scoped advisory lock key serialising `migrate` runs on one database
/// (the ASCII bytes of "pgrstAut").
const MIGRATE_LOCK_KEY: i64 = 0x7067_7273_7441_7574;

/// The tables pgrest-lambda reads and writes; all must exist for the schema to be current.
const REQUIRED_TABLES: &[&str] = &[
    "users",
    "identities",
    "sessions",
    "refresh_tokens",
    "one_time_tokens",
    "one_time_token_guards",
    "otp_address_failures",
    "flow_state",
    "audit_log_entries",
    "schema_migrations",
];

/// What `check_schema` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaStatus {
    /// `AUTH_SCHEMA_VERSION` is recorded and every table pgrest-lambda uses exists.
    Current,
    /// No `auth.users` and no recorded version: there is nothing to upgrade.
    Missing,
    /// An auth schema exists (an older pgrest-lambda one, or one made by Supabase Auth) but does
    /// not record `AUTH_SCHEMA_VERSION` or lacks one of the tables. `found`: the versions recorded
    /// in `auth.schema_migrations`, sorted (GoTrue's are timestamps, ours `pgrest-lambda-N`).
    Outdated { found: Vec<String> },
}

/// Why `migrate` or `check_schema` failed.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("auth schema: {}", describe_db_error(.0))]
    Database(#[from] tokio_postgres::Error),
    #[error(
        "auth schema: the migration ran but the schema is still not at {AUTH_SCHEMA_VERSION} \
         (recorded versions: {})",
        list_or_none(.found)
    )]
    Incomplete { found: Vec<String> },
}

/// Applies the auth schema in one transaction, idempotently; takes a `pg_advisory_xact_lock` so
/// two concurrent runs don't race (the second waits, then finds the schema current).
///
/// When the schema is already current only the grants are refreshed (so API roles created since
/// the last run get them), without locking any auth table. On failure everything is rolled back.
/// Takes the client mutably for its transaction; a deadpool `Object` derefs to it.
pub async fn migrate(client: &mut Client) -> Result<(), MigrateError> {
    // Dropping `tx` without commit (error or cancellation) rolls back.
    let tx = client.transaction().await?;
    tx.execute(
        "SELECT pg_catalog.pg_advisory_xact_lock($1)",
        &[&MIGRATE_LOCK_KEY],
    )
    .await?;
    let before = read_status(&tx).await?;
    if before != SchemaStatus::Current {
        tracing::info!(status = ?before, version = AUTH_SCHEMA_VERSION, "applying the auth schema");
        // The idempotent DDL (`... if not exists`) raises a NOTICE per existing object: dozens
        // of "already exists, skipping" lines on every start of `dev`. Warnings still show.
        tx.batch_execute("SET LOCAL client_min_messages = warning").await?;
        tx.batch_execute(AUTH_V1_SQL).await?;
        tx.batch_execute(AUTH_V2_OTP_SQL).await?;
        tx.batch_execute(AUTH_V2_TOKENS_SQL).await?;
    }
    tx.batch_execute(AUTH_GRANTS_SQL).await?;
    match read_status(&tx).await? {
        SchemaStatus::Current => {}
        SchemaStatus::Missing => return Err(MigrateError::Incomplete { found: Vec::new() }),
        SchemaStatus::Outdated { found } => return Err(MigrateError::Incomplete { found }),
    }
    tx.commit().await?;
    if before == SchemaStatus::Current {
        tracing::debug!(version = AUTH_SCHEMA_VERSION, "auth schema already current");
    } else {
        tracing::info!(version = AUTH_SCHEMA_VERSION, "auth schema applied");
    }
    Ok(())
}

/// Read-only check for Lambda start-up (V-22): never changes anything. Reads the catalog and,
/// when it exists, `auth.schema_migrations`.
pub async fn check_schema(client: &Client) -> Result<SchemaStatus, MigrateError> {
    read_status(client).await
}

/// Message telling the operator what to run, or `None` when the schema is current.
pub fn status_message(status: &SchemaStatus) -> Option<String> {
    const RUN: &str = "run `pgrest-lambda migrate-auth` against this database";
    match status {
        SchemaStatus::Current => None,
        SchemaStatus::Missing => Some(format!("the auth schema is missing: {RUN}")),
        SchemaStatus::Outdated { found } => {
            let ours: Vec<&str> = found
                .iter()
                .map(String::as_str)
                .filter(|v| v.starts_with(VERSION_PREFIX))
                .collect();
            let gotrue: Vec<&str> = found
                .iter()
                .map(String::as_str)
                .filter(|v| !v.starts_with(VERSION_PREFIX))
                .collect();
            let mut seen = Vec::new();
            if !ours.is_empty() {
                seen.push(format!("pgrest-lambda versions {}", ours.join(", ")));
            }
            if let Some(latest) = gotrue.iter().max() {
                seen.push(format!(
                    "{} Supabase Auth migration(s), latest {latest}",
                    gotrue.len()
                ));
            }
            let seen = if seen.is_empty() {
                "no recorded version".to_string()
            } else {
                seen.join("; ")
            };
            let what = if ours.contains(&AUTH_SCHEMA_VERSION) {
                "the auth schema is incomplete (a table is missing)"
            } else {
                "the auth schema is not at the version this build needs"
            };
            Some(format!(
                "{what}: need {AUTH_SCHEMA_VERSION}, found {seen}; {RUN} \
                 (it keeps existing users, identities and sessions)"
            ))
        }
    }
}

/// The status as seen by `client` (inside `migrate`'s transaction, or outside it).
async fn read_status<C: GenericClient + Sync>(client: &C) -> Result<SchemaStatus, MigrateError> {
    // pg_catalog only: works without any privilege on the auth schema.
    let row = client
        .query_one(
            "SELECT coalesce(array_agg(c.relname::text), '{}'::text[]) \
             FROM pg_catalog.pg_class c \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'auth' AND c.relkind IN ('r', 'p') \
               AND c.relname::text = ANY($1::text[])",
            &[&REQUIRED_TABLES],
        )
        .await?;
    let present: Vec<String> = row.try_get(0)?;
    let has = |table: &str| present.iter().any(|t| t == table);

    let mut found: Vec<String> = if has("schema_migrations") {
        client
            .query(
                "SELECT version::text FROM auth.schema_migrations WHERE version IS NOT NULL",
                &[],
            )
            .await?
            .iter()
            .map(|row| row.try_get::<_, String>(0))
            .collect::<Result<_, _>>()?
    } else {
        Vec::new()
    };
    found.sort();

    let all_tables = REQUIRED_TABLES.iter().all(|t| has(t));
    Ok(classify(found, has("users"), all_tables))
}

fn classify(found: Vec<String>, has_users: bool, all_tables: bool) -> SchemaStatus {
    if all_tables && found.iter().any(|v| v == AUTH_SCHEMA_VERSION) {
        SchemaStatus::Current
    } else if !has_users && found.is_empty() {
        SchemaStatus::Missing
    } else {
        SchemaStatus::Outdated { found }
    }
}

/// `tokio_postgres::Error` displays only "db error"; operators need the server's message.
fn describe_db_error(error: &tokio_postgres::Error) -> String {
    let Some(db) = error.as_db_error() else {
        return match std::error::Error::source(error) {
            Some(source) => format!("{error}: {source}"),
            None => error.to_string(),
        };
    };
    let mut text = format!("{} (SQLSTATE {})", db.message(), db.code().code());
    if let Some(detail) = db.detail() {
        text.push_str("; detail: ");
        text.push_str(detail);
    }
    if let Some(hint) = db.hint() {
        text.push_str("; hint: ");
        text.push_str(hint);
    }
    if let Some(r#where) = db.where_() {
        text.push_str("; where: ");
        text.push_str(r#where);
    }
    text
}

fn list_or_none(versions: &[String]) -> String {
    if versions.is_empty() {
        "none".to_string()
    } else {
        versions.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn sql_records_the_version_constant() {
        let records = |sql: &str, version: &str| {
            sql.contains(&format!("SELECT '{version}'"))
                && sql.trim_end().ends_with(&format!(
                    "WHERE NOT EXISTS (SELECT 1 FROM auth.schema_migrations WHERE version = '{version}');"
                ))
        };
        assert!(records(AUTH_V1_SQL, "pgrest-lambda-1"));
        assert!(records(AUTH_V2_TOKENS_SQL, AUTH_SCHEMA_VERSION), "the last step records the current version");
        assert!(!AUTH_V2_OTP_SQL.contains("schema_migrations"), "only the last step records the version");
        assert!(AUTH_SCHEMA_VERSION.starts_with(VERSION_PREFIX));
    }

    #[test]
    fn sql_has_no_transaction_control() {
        // migrate() owns the transaction; a COMMIT inside the script would end it early.
        for sql in [AUTH_V1_SQL, AUTH_V2_OTP_SQL, AUTH_V2_TOKENS_SQL, AUTH_GRANTS_SQL] {
            for line in sql.lines().map(|l| l.trim().to_ascii_uppercase()) {
                assert!(
                    !line.starts_with("BEGIN;") && !line.starts_with("COMMIT"),
                    "{line}"
                );
                assert!(!line.starts_with("ROLLBACK"), "{line}");
            }
        }
    }

    #[test]
    fn classifies() {
        let current = v(&["20240101000000", AUTH_SCHEMA_VERSION]);
        assert_eq!(classify(current.clone(), true, true), SchemaStatus::Current);
        assert_eq!(classify(Vec::new(), false, false), SchemaStatus::Missing);
        // A Supabase dump: users exist, only GoTrue versions recorded.
        assert_eq!(
            classify(v(&["00", "20240101000000"]), true, false),
            SchemaStatus::Outdated {
                found: v(&["00", "20240101000000"])
            }
        );
        // Our version recorded but a table was dropped since.
        assert_eq!(
            classify(current.clone(), true, false),
            SchemaStatus::Outdated { found: current }
        );
        // Users but no schema_migrations at all.
        assert_eq!(
            classify(Vec::new(), true, false),
            SchemaStatus::Outdated { found: Vec::new() }
        );
    }

    #[test]
    fn messages_name_the_command() {
        assert_eq!(status_message(&SchemaStatus::Current), None);
        let missing = status_message(&SchemaStatus::Missing).unwrap();
        assert!(missing.contains("missing") && missing.contains("pgrest-lambda migrate-auth"));

        let dump = status_message(&SchemaStatus::Outdated {
            found: v(&["00", "20210710035447", "20260121000000"]),
        })
        .unwrap();
        assert!(
            dump.contains("3 Supabase Auth migration(s), latest 20260121000000"),
            "{dump}"
        );
        assert!(dump.contains(AUTH_SCHEMA_VERSION) && dump.contains("pgrest-lambda migrate-auth"));

        let old = status_message(&SchemaStatus::Outdated {
            found: v(&["pgrest-lambda-0"]),
        })
        .unwrap();
        assert!(
            old.contains("pgrest-lambda versions pgrest-lambda-0"),
            "{old}"
        );

        let bare = status_message(&SchemaStatus::Outdated { found: Vec::new() }).unwrap();
        assert!(bare.contains("no recorded version"), "{bare}");

        let broken = status_message(&SchemaStatus::Outdated {
            found: v(&[AUTH_SCHEMA_VERSION]),
        })
        .unwrap();
        assert!(broken.contains("incomplete"), "{broken}");
    }
}
