//! `pgrest-lambda lint-policies` as a user runs it: policy fixtures in temporary directories,
//! the real binary, its stdout and exit code. Also lints the shipped `policies/` and
//! `policies/examples/`, which must stay clean.

#![cfg(test)]

use std::process::{Command, Output};

use serde_json::Value;

const USER_ROW: &str = "principal is PgrestLambda::User, action == PgrestLambda::Action::\"select\", resource is PgrestLambda::Row";

fn run(dir: &std::path::Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pgrest-lambda"))
        .arg("lint-policies")
        .arg("--path")
        .arg(dir)
        .args(extra)
        .env("LOG_LEVEL", "off")
        .output()
        .expect("run pgrest-lambda")
}

fn dir_with(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("p.cedar"), text).expect("write fixture");
    dir
}

/// The rule codes of the JSON findings, and the exit code, for one policy text.
fn codes(text: &str) -> (Vec<String>, Option<i32>) {
    let dir = dir_with(text);
    let out = run(dir.path(), &["--format", "json", "--max-severity", "warn"]);
    let json: Value = serde_json::from_slice(&out.stdout).expect("json output");
    let codes = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["rule"].as_str().expect("rule").to_string())
        .collect();
    (codes, out.status.code())
}

fn assert_rule(firing: &str, quiet: &str, code: &str) {
    assert_eq!(codes(firing), (vec![code.to_string()], Some(1)), "{firing}");
    assert_eq!(codes(quiet), (vec![], Some(0)), "{quiet}");
}

#[test]
fn e001_unconditional_permit() {
    let (found, status) = codes("permit(principal, action, resource);");
    assert_eq!(
        (found, status),
        (vec!["E001".into(), "W001".into(), "W002".into()], Some(1))
    );
    assert_eq!(
        codes("permit(principal is PgrestLambda::ServiceRole, action, resource);"),
        (vec![], Some(0))
    );
}

#[test]
fn e002_tautological_when() {
    assert_rule(
        &format!("permit({USER_ROW}) when {{ \"a\" == \"a\" }};"),
        &format!("permit({USER_ROW}) when {{ context.table == \"a\" }};"),
        "E002",
    );
    assert_eq!(
        codes(&format!("permit({USER_ROW}) when {{ true }};")).0,
        ["E002"]
    );
}

#[test]
fn e003_syntax_error_points_at_its_line_and_cannot_be_suppressed() {
    let dir = dir_with("// header\npermit(principal, action, resource);\n@lint_allow(\"E003,syntax-error\")\npermit(principal action resource);\n");
    let out = run(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).expect("utf8");
    let first = text.lines().next().expect("a finding line");
    assert!(
        first.starts_with(&format!(
            "{}:4 error E003 syntax-error: ",
            dir.path().join("p.cedar").display()
        )),
        "{text}"
    );
    assert!(
        text.ends_with("0 policies scanned, 1 errors, 0 warnings\n"),
        "{text}"
    );
    assert_eq!(codes(&format!("permit({USER_ROW});")), (vec![], Some(0)));
}

#[test]
fn e004_unknown_action() {
    let firing = "permit(principal is PgrestLambda::User, action in [PgrestLambda::Action::\"select\", PgrestLambda::Action::\"read\"], resource is PgrestLambda::Row);";
    assert_rule(firing, &format!("permit({USER_ROW});"), "E004");
}

#[test]
fn w001_principal_type_missing() {
    let firing = "permit(principal, action == PgrestLambda::Action::\"select\", resource is PgrestLambda::Row);";
    assert_rule(firing, &format!("permit({USER_ROW});"), "W001");
    // A forbid that matches anonymous callers too is stricter, not looser.
    assert_eq!(codes("forbid(principal, action == PgrestLambda::Action::\"select\", resource is PgrestLambda::Row);"), (vec![], Some(0)));
}

#[test]
fn w002_resource_type_missing_with_the_service_role_exempt() {
    let firing = "permit(principal is PgrestLambda::User, action == PgrestLambda::Action::\"select\", resource);";
    assert_rule(
        firing,
        "permit(principal == PgrestLambda::ServiceRole::\"service\", action, resource);",
        "W002",
    );
}

#[test]
fn w003_missing_has_guard() {
    let firing = format!("permit({USER_ROW}) when {{ resource.owner == principal }};");
    let quiet =
        format!("permit({USER_ROW}) when {{ resource has owner && resource.owner == principal }};");
    assert_rule(&firing, &quiet, "W003");
}

#[test]
fn w004_unscoped_forbid() {
    assert_rule(
        "forbid(principal, action, resource);",
        "forbid(principal, action, resource) when { context.table == \"audit\" };",
        "W004",
    );
}

#[test]
fn suppression_by_code_or_name_only_of_the_rules_named() {
    let text =
        "@lint_allow(\"E001, principal-type-missing\")\npermit(principal, action, resource);";
    assert_eq!(codes(text), (vec!["W002".into()], Some(1)));
    let all =
        "@lint_allow(\"e001,W001,resource-type-missing\")\npermit(principal, action, resource);";
    assert_eq!(codes(all), (vec![], Some(0)));
}

#[test]
fn text_output_and_threshold_exit_codes() {
    let dir =
        dir_with("forbid(principal, action, resource);\n\npermit(principal, action, resource);\n");
    let file = dir.path().join("p.cedar").display().to_string();
    let out = run(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).expect("utf8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    assert!(
        lines
            .first()
            .is_some_and(|l| l.starts_with(&format!("{file}:1 warn W004 unscoped-forbid: "))),
        "{text}"
    );
    assert!(
        lines
            .get(1)
            .is_some_and(|l| l.starts_with(&format!("{file}:3 error E001 unconditional-permit: "))),
        "{text}"
    );
    assert_eq!(
        lines.last(),
        Some(&"2 policies scanned, 1 errors, 3 warnings")
    );
    // --quiet prints errors only; the summary still counts everything.
    let quiet = String::from_utf8(run(dir.path(), &["--quiet"]).stdout).expect("utf8");
    assert_eq!(quiet.lines().count(), 2, "{quiet}");
    assert_eq!(
        run(dir.path(), &["--max-severity", "off"]).status.code(),
        Some(0)
    );

    let warnings_only = dir_with("forbid(principal, action, resource);");
    assert_eq!(run(warnings_only.path(), &[]).status.code(), Some(0));
    assert_eq!(
        run(warnings_only.path(), &["--max-severity", "error"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        run(warnings_only.path(), &["--max-severity", "warn"])
            .status
            .code(),
        Some(1)
    );
}

#[test]
fn json_output_shape() {
    let dir = dir_with("\npermit(principal is PgrestLambda::User, action == PgrestLambda::Action::\"nope\", resource is PgrestLambda::Row);");
    let out = run(dir.path(), &["--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let json: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        json["summary"],
        serde_json::json!({"policiesScanned": 1, "errors": 1, "warnings": 0})
    );
    let finding = serde_json::json!({
        "file": "p.cedar", "line": 2, "severity": "error", "rule": "E004", "name": "unknown-action", "policy": "p.cedar:0",
        "message": "unknown action PgrestLambda::Action::\"nope\" (expected PgrestLambda::Action::\"select|insert|update|delete|call\")"
    });
    assert_eq!(json["findings"], serde_json::json!([finding]));
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert_eq!(run(&dir.path().join("missing"), &[]).status.code(), Some(2));
    assert_eq!(
        run(dir.path(), &[]).status.code(),
        Some(2),
        "a directory without .cedar files"
    );
    assert_eq!(
        run(dir.path(), &["--format", "yaml"]).status.code(),
        Some(2)
    );
    assert_eq!(
        run(dir.path(), &["--max-severity", "info"]).status.code(),
        Some(2)
    );
}

#[test]
fn the_shipped_policies_and_examples_lint_clean() {
    for sub in ["", "examples"] {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../policies")
            .join(sub);
        let out = run(&dir, &["--max-severity", "warn"]);
        let text = String::from_utf8(out.stdout).expect("utf8");
        assert_eq!(out.status.code(), Some(0), "{}: {text}", dir.display());
        assert!(
            text.ends_with(" errors, 0 warnings\n") && text.contains(", 0 errors,"),
            "{text}"
        );
    }
}
