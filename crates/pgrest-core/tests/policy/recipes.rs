//! The recipes under `policies/examples/`, each through the translator, and all of them
//! together (the forbid still applies over the public read and the admin override).

use pgrest_core::policy::{authorize_rows, Action, DirectorySource, Policies, PolicyFile, Principal, RowRequest};
use pgrest_core::sql::policy_filter;
use serde_json::{json, Value};

use super::{posts_columns, user};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../policies/examples");

fn recipe(name: &str) -> Policies {
    let text = std::fs::read_to_string(format!("{DIR}/{name}")).expect("recipe file");
    Policies::from_files(DIR, &[PolicyFile { name: name.into(), text }]).expect("recipe parses")
}

fn filter(policies: &Policies, principal: &Principal, action: Action, table: &str) -> (String, Vec<Option<String>>) {
    let columns = posts_columns();
    let auth = authorize_rows(policies, &RowRequest { principal, action, table, columns: &columns, explain: true }).expect("authorize");
    assert!(auth.untranslatable.is_empty(), "{:?}", auth.untranslatable);
    let stmt = policy_filter("t0", &auth.condition);
    (stmt.text, stmt.params.into_iter().map(|p| p.0).collect())
}

fn anon() -> Principal {
    Principal::from_identity("anon", &json!({"role": "anon"}), "anon").unwrap()
}

fn some(values: &[&str]) -> Vec<Option<String>> {
    values.iter().map(|v| Some(v.to_string())).collect()
}

#[test]
fn public_read_of_one_table() {
    let p = recipe("public-read.cedar");
    assert_eq!(filter(&p, &anon(), Action::Select, "posts"), ("TRUE".into(), vec![]));
    assert_eq!(filter(&p, &anon(), Action::Select, "secrets").0, "FALSE");
    assert_eq!(filter(&p, &anon(), Action::Update, "posts").0, "FALSE");
}

#[test]
fn owner_read_write() {
    let p = recipe("owner-read-write.cedar");
    let owner = r#"(("t0"."user_id" IS NOT NULL) AND ("t0"."user_id" = $1) IS TRUE)"#;
    for action in [Action::Select, Action::Insert, Action::Update, Action::Delete] {
        assert_eq!(filter(&p, &user(json!({"sub": "u7"})), action, "posts"), (owner.into(), some(&["u7"])));
    }
    assert_eq!(filter(&p, &anon(), Action::Select, "posts").0, "FALSE");
    assert_eq!(filter(&p, &user(json!({"sub": "u7"})), Action::Call, "posts").0, "FALSE");
}

#[test]
fn team_scoped_uses_the_team_claim_s03() {
    let p = recipe("team-scoped.cedar");
    assert_eq!(filter(&p, &user(json!({"sub": "u1", "team_id": 12})), Action::Select, "posts"), (r#"("t0"."team_id" = $1::int8) IS TRUE"#.into(), some(&["12"])));
    // No claim: the permit does not apply (the predecessor answered 500 here).
    assert_eq!(filter(&p, &user(json!({"sub": "u1"})), Action::Select, "posts").0, "FALSE");
}

#[test]
fn admin_override_by_claim() {
    let p = recipe("admin-override.cedar");
    assert_eq!(filter(&p, &user(json!({"sub": "u1", "admin": true})), Action::Delete, "posts").0, "TRUE");
    for claims in [json!({"sub": "u1"}), json!({"sub": "u1", "admin": "true"}), json!({"sub": "u1", "admin": false})] {
        assert_eq!(filter(&p, &user(claims.clone()), Action::Delete, "posts").0, "FALSE", "{claims}");
    }
}

#[test]
fn forbid_archived_rows_alone_grants_nothing() {
    let p = recipe("forbid-archived.cedar");
    assert_eq!(filter(&p, &user(json!({"sub": "u1"})), Action::Select, "posts").0, "FALSE");
}

#[tokio::test]
async fn all_recipes_together_keep_the_forbid() {
    let p = Policies::load(&DirectorySource::new(DIR)).await.expect("examples load");
    assert_eq!(p.ids().len(), 5);
    let archived = r#"NOT (("t0"."status" IS NOT NULL) AND ("t0"."status" = $1) IS TRUE)"#;
    let admin: Value = json!({"sub": "u1", "admin": true});
    assert_eq!(filter(&p, &user(admin.clone()), Action::Select, "posts"), (archived.into(), some(&["archived"])));
    // Writes are not select, so the forbid does not touch them.
    assert_eq!(filter(&p, &user(admin), Action::Update, "posts").0, "TRUE");
    assert_eq!(filter(&p, &anon(), Action::Select, "posts"), (archived.into(), some(&["archived"])));
}

/// Rough cost of one row authorization with the shipped default policy (run with
/// `--ignored --nocapture`, ideally `--release`).
#[test]
#[ignore = "timing, not a check"]
fn cost_of_one_row_authorization() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../policies/default.cedar")).unwrap();
    let p = Policies::from_files("policies", &[PolicyFile { name: "default.cedar".into(), text }]).unwrap();
    let columns = posts_columns();
    let claims = json!({"sub": "0b7e3e4a-1c2d-4e5f-8a9b-0c1d2e3f4a5b", "role": "authenticated", "email": "a@b.c", "aud": "authenticated", "exp": 2000000000, "app_metadata": {"provider": "email"}});
    let n = 2000u32;
    let start = std::time::Instant::now();
    for _ in 0..n {
        let principal = Principal::from_identity("authenticated", &claims, "anon").unwrap();
        let auth = authorize_rows(&p, &RowRequest { principal: &principal, action: Action::Select, table: "posts", columns: &columns, explain: false }).unwrap();
        assert!(!auth.denied());
    }
    eprintln!("principal + authorize_rows: {:?} per call", start.elapsed() / n);
    let start = std::time::Instant::now();
    for _ in 0..n {
        let principal = Principal::from_identity("authenticated", &claims, "anon").unwrap();
        assert!(principal.entity().is_ok());
    }
    eprintln!("principal entity alone: {:?} per call", start.elapsed() / n);
}
