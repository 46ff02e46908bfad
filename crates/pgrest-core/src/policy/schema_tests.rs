//! Tests of the generated Cedar schema and of validation against it.

use super::*;
use crate::policy::PolicyFile;
use crate::schema_cache::{Column, QualifiedName, Relation, RelationKind};

fn column(name: &str, data_type: &str) -> Column {
    Column { name: name.into(), data_type: data_type.into(), nullable: true, default: None }
}

fn relation(schema: &str, name: &str, columns: Vec<Column>) -> Relation {
    Relation { name: QualifiedName::new(schema, name), kind: RelationKind::Table, columns, primary_key: vec![], unique_keys: vec![] }
}

fn cache() -> SchemaCache {
    let relations = [
        relation(
            "public",
            "posts",
            vec![
                column("id", "bigint"),
                column("user_id", "uuid"),
                column("title", "character varying(80)"),
                column("status", "text"),
                column("published", "boolean"),
                column("tags", "text[]"),
                column("meta", "jsonb"),
                column("team_id", "text"),
            ],
        ),
        relation("public", "teams", vec![column("id", "text"), column("team_id", "text"), column("user_id", "uuid")]),
        relation("private", "secrets", vec![column("password", "text")]),
    ];
    SchemaCache { relations: relations.into_iter().map(|r| (r.name.clone(), r)).collect(), ..SchemaCache::default() }
}

fn schema() -> CedarSchema {
    cedar_schema(&cache(), &["public".to_string()]).unwrap()
}

fn policies(files: &[(&str, &str)]) -> Policies {
    let files: Vec<PolicyFile> = files.iter().map(|(n, t)| PolicyFile { name: (*n).into(), text: (*t).into() }).collect();
    Policies::from_files("test", &files).unwrap()
}

#[test]
fn row_has_one_optional_typed_attribute_per_exposed_column() {
    let s = schema();
    let attrs = &s.json[NAMESPACE]["entityTypes"]["Row"]["shape"]["attributes"];
    let expected = json!({
        "user_id": { "type": "String", "required": false },
        "title": { "type": "String", "required": false },
        "status": { "type": "String", "required": false },
        "published": { "type": "Boolean", "required": false },
        "tags": { "type": "Set", "element": { "type": "String" }, "required": false },
        "team_id": { "type": "String", "required": false },
    });
    // `id` is bigint in posts and text in teams: left out; `meta` (jsonb) has no Cedar type;
    // `password` is in a schema that is not exposed.
    assert_eq!(attrs, &expected);
    assert_eq!(s.conflicts, ["id"]);
    assert_eq!(s.json[NAMESPACE]["entityTypes"]["Row"]["memberOfTypes"], json!(["Table"]));
    let mut types: Vec<&String> = s.json[NAMESPACE]["entityTypes"].as_object().unwrap().keys().collect();
    types.sort();
    assert_eq!(types, ["AnonRole", "Function", "Row", "ServiceRole", "Table", "User"]);
    let mut actions: Vec<String> = s.schema.actions().map(|a| a.to_string()).collect();
    actions.sort();
    let want: Vec<String> = ["call", "delete", "insert", "select", "update"].iter().map(|a| format!("{NAMESPACE}::Action::\"{a}\"")).collect();
    assert_eq!(actions, want);
    let text = s.to_text().unwrap();
    assert!(text.contains("namespace PgrestLambda"), "{text}");
    assert!(text.lines().any(|l| l.trim().trim_end_matches(',') == "user_id?: __cedar::String"), "{text}");
    assert_eq!(s.json[NAMESPACE]["actions"]["call"]["appliesTo"]["resourceTypes"], json!(["Function"]));
    assert_eq!(s.json[NAMESPACE]["actions"]["select"]["appliesTo"]["context"]["attributes"]["table"], json!({ "type": "String" }));
}

#[test]
fn every_shipped_policy_file_validates() {
    let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../policies"));
    let mut checked = 0;
    for dir in [root.to_path_buf(), root.join("examples")] {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "cedar") {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                let text = std::fs::read_to_string(&path).unwrap();
                assert_eq!(validate(&policies(&[(&name, &text)]), &schema()), Validation::default(), "{name}");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 6);
}

#[test]
fn an_unknown_attribute_and_an_unknown_action_are_reported_with_the_policy_id() {
    let ok = "permit(principal is PgrestLambda::ServiceRole, action, resource);";
    let typo = r#"permit(principal is PgrestLambda::User, action == PgrestLambda::Action::"select", resource is PgrestLambda::Row) when { resource.ownr == principal };"#;
    let action = r#"permit(principal, action == PgrestLambda::Action::"selcet", resource);"#;
    let p = policies(&[("a.cedar", ok), ("b.cedar", &format!("{ok}\n{typo}\n{action}"))]);
    let problems = validate(&p, &schema()).errors;
    let ids: Vec<&str> = problems.iter().map(|p| p.policy.as_str()).collect();
    assert_eq!(ids, ["b.cedar:1", "b.cedar:2"], "{problems:?}");
    assert!(problems[0].message.contains("ownr"), "{problems:?}");
    assert!(problems[1].message.contains("selcet"), "{problems:?}");
}

#[test]
fn only_the_string_entity_comparison_is_tolerated() {
    let bad = r#"permit(principal, action, resource is PgrestLambda::Row) when { resource has published && resource.published == principal };"#;
    let problems = validate(&policies(&[("c.cedar", bad)]), &schema()).errors;
    assert!(!problems.is_empty() && problems.iter().all(|p| p.policy == "c.cedar:0"), "{problems:?}");
    assert!(problems.iter().all(|p| p.message.starts_with("the types Bool and PgrestLambda::")), "{problems:?}");
}


#[test]
fn a_has_guard_on_no_known_column_is_a_warning_not_an_error() {
    let guarded = r#"permit(principal is PgrestLambda::User, action, resource is PgrestLambda::Row) when { resource has ownr && resource.ownr == principal };"#;
    let conflicting = r#"permit(principal, action, resource is PgrestLambda::Row) when { resource has id };"#;
    let found = validate(&policies(&[("d.cedar", &format!("{guarded}\n{conflicting}"))]), &schema());
    assert_eq!(found.errors, []);
    assert_eq!(
        found.warnings,
        [PolicyProblem { policy: "d.cedar:0".into(), message: "no exposed table has a column `ownr` with a Cedar type (`resource has ownr` is never true)".into() }]
    );
}
