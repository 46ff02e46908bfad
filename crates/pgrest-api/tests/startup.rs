//! Start-up tests of the `pgrest-api` binary: a weak JWT secret stops it before it serves
//! anything (V-01), with a log line that says why.
//!
//! Must not need a database, AWS or the Lambda Runtime API (the check runs before all of them).

#![cfg(test)]

use std::process::Command;

#[test]
fn refuses_to_start_with_a_weak_secret() {
    let output = Command::new(env!("CARGO_BIN_EXE_pgrest-api"))
        .env_clear()
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .env("JWT_SECRET", "too-short")
        .env("LOG_FORMAT", "json")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(all.contains("refused to start"), "{all}");
    assert!(all.contains("at least 32 characters"), "{all}");
}

#[test]
fn refuses_an_unreadable_trust_setting() {
    let output = Command::new(env!("CARGO_BIN_EXE_pgrest-api"))
        .env_clear()
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .env("JWT_SECRET", "pgrest-lambda-test-secret-0123456789abcdef")
        .env("PGREST_TRUST_AUTHORIZER", "maybe")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(all.contains("PGREST_TRUST_AUTHORIZER"), "{all}");
}
