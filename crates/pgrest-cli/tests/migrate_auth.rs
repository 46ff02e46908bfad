//! `pgrest-lambda migrate-auth` against a fresh database: it applies the auth schema and its log
//! stays readable (no PostgreSQL NOTICE lines, even at LOG_LEVEL=debug), and a second run is a
//! no-op that succeeds.
//!
//! Must not touch a developer's database: it runs on the test cluster, in a database of its own.

#![cfg(test)]

use std::process::{Command, Output};

fn migrate_auth(url: &str, log_level: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pgrest-lambda"))
        .arg("migrate-auth")
        .arg("--database-url")
        .arg(url)
        .env("LOG_LEVEL", log_level)
        .env("LOG_FORMAT", "pretty")
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

#[test]
fn migrate_auth_on_a_fresh_database_logs_no_notices() {
    let cluster = pgrest_embedded::shared_test_cluster().unwrap();
    let url = cluster.create_database("cli_migrate_auth_notices").unwrap();
    for run in ["first", "second"] {
        let output = migrate_auth(&url, "debug");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{run} run: {stderr}");
        assert_eq!(
            String::from_utf8_lossy(&output.stdout).trim(),
            format!("auth schema is current ({})", pgrest_auth::migrate::AUTH_SCHEMA_VERSION)
        );
        let notices: Vec<&str> = stderr.lines().filter(|l| l.contains(" NOTICE: ")).collect();
        assert!(notices.is_empty(), "{run} run logged {} NOTICE lines: {notices:?}", notices.len());
    }
}
