//! `pgrest-lambda cedar-schema` against a real database: prints the Row attributes of the exposed
//! schema's columns with their Cedar types, and names a column left out for conflicting types.
//!
//! Must not touch a developer's database: it runs on the test cluster, in a database of its own.

#![cfg(test)]

use std::process::Command;

#[test]
fn cedar_schema_prints_the_columns_of_the_exposed_schema() {
    let cluster = pgrest_embedded::shared_test_cluster().unwrap();
    let url = cluster.create_database("cli_cedar_schema").unwrap();
    cluster
        .psql("cli_cedar_schema")
        .run(
            "CREATE TABLE posts (id bigint PRIMARY KEY, user_id uuid, status text, meta jsonb);
             CREATE TABLE teams (id text PRIMARY KEY, open boolean);
             CREATE SCHEMA hidden; CREATE TABLE hidden.secrets (password text);",
        )
        .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_pgrest-lambda"))
        .args(["cedar-schema", "--database-url", &url, "--schemas", "public"])
        .env_remove("PGREST_SCHEMAS")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.contains("namespace PgrestLambda"), "{stdout}");
    let lines: Vec<&str> = stdout.lines().map(str::trim).collect();
    for attr in ["open?: __cedar::Bool,", "status?: __cedar::String,", "user_id?: __cedar::String"] {
        assert!(lines.contains(&attr), "missing {attr} in {stdout}");
    }
    // `id` is bigint in posts and text in teams; jsonb has no Cedar type; `hidden` is not exposed.
    for absent in ["id?:", "meta?:", "password?:"] {
        assert!(!lines.iter().any(|l| l.starts_with(absent)), "{absent} in {stdout}");
    }
    assert!(stderr.contains("column `id` has different Cedar types"), "{stderr}");
}
