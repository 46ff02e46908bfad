//! `pgrest-lambda generate-key`: the printed apikey verifies with the engine's `JwtKeys`, the
//! secret comes from the flag, the environment or `.env.local`, and bad input exits 1 or 2.
//!
//! Must not read the developer's real `.env.local`: every run gets its own temp folder.

#![cfg(test)]

use std::path::Path;
use std::process::{Command, Output};

use pgrest_core::JwtKeys;

const SECRET: &str = "a-test-secret-that-is-long-enough-0123";

fn generate_key(cwd: &Path, args: &[&str], env_secret: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pgrest-lambda"));
    command
        .current_dir(cwd)
        .arg("generate-key")
        .args(args)
        .env_remove("JWT_SECRET");
    if let Some(secret) = env_secret {
        command.env("JWT_SECRET", secret);
    }
    command.output().unwrap()
}

fn token(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone())
        .unwrap()
        .trim()
        .to_string()
}

#[test]
fn prints_a_verifiable_anon_key() {
    let tmp = tempfile::tempdir().unwrap();
    let output = generate_key(tmp.path(), &["anon", "--jwt-secret", SECRET], None);
    let claims = JwtKeys::new(SECRET, None).verify(&token(&output)).unwrap();
    assert_eq!(claims["role"], "anon");
    assert!(claims["exp"].as_u64().unwrap() > claims["iat"].as_u64().unwrap() + 365 * 24 * 3600);
}

#[test]
fn reads_the_secret_from_env_then_env_local() {
    let tmp = tempfile::tempdir().unwrap();
    let from_env = generate_key(tmp.path(), &["service_role"], Some(SECRET));
    assert_eq!(
        JwtKeys::new(SECRET, None)
            .verify(&token(&from_env))
            .unwrap()["role"],
        "service_role"
    );

    let file_secret = "secret-kept-in-dot-env-local-0123456789";
    std::fs::write(
        tmp.path().join(".env.local"),
        format!("OTHER=1\nJWT_SECRET={file_secret}\n"),
    )
    .unwrap();
    let from_file = generate_key(tmp.path(), &["anon"], None);
    assert!(
        JwtKeys::new(file_secret, None)
            .verify(&token(&from_file))
            .is_ok()
    );
    // The flag beats the file.
    let from_flag = generate_key(tmp.path(), &["anon", "--jwt-secret", SECRET], None);
    assert!(
        JwtKeys::new(SECRET, None)
            .verify(&token(&from_flag))
            .is_ok()
    );
}

#[test]
fn short_secret_fails_with_exit_1() {
    let tmp = tempfile::tempdir().unwrap();
    let output = generate_key(tmp.path(), &["anon", "--jwt-secret", "too-short"], None);
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("too short (9 characters; at least 32"),
        "{stderr}"
    );
}

#[test]
fn missing_secret_fails_with_exit_1() {
    let tmp = tempfile::tempdir().unwrap();
    let output = generate_key(tmp.path(), &["anon"], None);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no JWT secret"));
}

#[test]
fn unknown_role_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    let output = generate_key(tmp.path(), &["admin", "--jwt-secret", SECRET], None);
    assert_eq!(output.status.code(), Some(2));
    let output = Command::new(env!("CARGO_BIN_EXE_pgrest-lambda"))
        .arg("no-such-command")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}
