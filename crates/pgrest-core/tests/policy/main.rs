//! Cedar authorization tests: golden translations (policy + principal → residual → SQL filter
//! and parameters), the shipped recipes, and a differential test against PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "test code: a failed expectation is the test's answer")]

mod differential;
mod golden;
mod refused;
mod recipes;

use pgrest_core::policy::{authorize_rows, Action, Policies, PolicyColumn, PolicyFile, Principal, RowAuthorization, RowRequest};
use pgrest_core::sql::policy_filter;
use serde_json::Value;

/// The columns of the golden tests' `posts` table.
pub fn posts_columns() -> Vec<PolicyColumn> {
    [
        ("id", "bigint"),
        ("user_id", "text"),
        ("owner", "uuid"),
        ("team_id", "integer"),
        ("status", "character varying(20)"),
        ("title", "text"),
        ("published", "boolean"),
        ("tags", "text[]"),
        ("scores", "integer[]"),
        ("meta", "jsonb"),
    ]
    .iter()
    .map(|(n, t)| PolicyColumn::from_pg(n, t))
    .collect()
}

pub fn policies(text: &str) -> Policies {
    Policies::from_files("test", &[PolicyFile { name: "p.cedar".into(), text: text.into() }]).expect("policies parse")
}

pub fn user(claims: Value) -> Principal {
    Principal::from_identity("authenticated", &claims, "anon").expect("principal")
}

/// Authorizes `action` on `posts` rows and renders the filter on alias `t0`.
pub fn run(policy_text: &str, principal: &Principal, action: Action) -> (RowAuthorization, String, Vec<Option<String>>) {
    let columns = posts_columns();
    let req = RowRequest { principal, action, table: "posts", columns: &columns, explain: true };
    let auth = authorize_rows(&policies(policy_text), &req).expect("authorize");
    let stmt = policy_filter("t0", &auth.condition);
    let params = stmt.params.iter().map(|p| p.0.clone()).collect();
    (auth, stmt.text, params)
}

/// Asserts the SQL text and parameters of a select on `posts` for user `u1`.
#[track_caller]
pub fn golden(policy_text: &str, claims: Value, sql: &str, params: &[&str]) -> RowAuthorization {
    let (auth, text, got) = run(policy_text, &user(claims), Action::Select);
    assert_eq!(text, sql, "residuals: {:?}; untranslatable: {:?}", auth.residuals, auth.untranslatable);
    let want: Vec<Option<String>> = params.iter().map(|p| Some(p.to_string())).collect();
    assert_eq!(got, want);
    auth
}
