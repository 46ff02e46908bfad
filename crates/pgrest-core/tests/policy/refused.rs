//! Every construct the translator refuses, and what refusal does: a refused permit adds
//! nothing (another permit still grants), a refused forbid denies the whole request.
//! Also the combination rules: S-01 (forbids always apply) and S-02 (values bound in order).

use pgrest_core::policy::Action;
use serde_json::json;

use super::{golden, run, user};

const SELECT: &str = "permit(principal, action == PgrestLambda::Action::\"select\", resource is PgrestLambda::Row) when";

/// Asserts that `cond` alone is refused with a reason mentioning `reason`.
#[track_caller]
fn refused(cond: &str, reason: &str) {
    let (auth, text, params) = run(&format!("{SELECT} {{ {cond} }};"), &user(json!({"sub": "u1"})), Action::Select);
    assert_eq!(text, "FALSE", "{cond}");
    assert!(params.is_empty());
    assert_eq!(auth.untranslatable.len(), 1, "{cond}: {:?}", auth.untranslatable);
    assert!(auth.untranslatable.iter().all(|u| u.policy == "p.cedar:0" && !u.forbid && u.reason.contains(reason)), "{cond}: {:?}", auth.untranslatable);
    assert!(auth.permits.is_empty());
}

#[test]
fn refused_constructs() {
    refused("resource.team_id + 1 == 2", "`+`");
    refused("resource.team_id * 2 > 2", "`*`");
    refused("resource.tags.isEmpty()", "`isEmpty`");
    refused(r#"resource.hasTag("x")"#, "`hasTag`");
    refused(r#"resource.getTag("x") == 1"#, "`getTag`");
    refused(r#"ip(resource.title).isLoopback()"#, "`isLoopback`");
    refused(r#"decimal(resource.title).lessThan(decimal("2.0"))"#, "`lessThan`");
    refused("resource.team_id == resource.id", "two row-dependent");
    refused("resource.team_id < resource.id", "two columns");
    refused(r#"resource.meta.x == 1"#, "no Cedar type");
    refused(r#"resource.meta == "x""#, "no Cedar type");
    refused(r#"resource.tags == ["a"]"#, "array column");
    refused(r#"resource in PgrestLambda::Table::"posts""#, "`resource in");
    refused(r#"resource == PgrestLambda::Row::"1""#, "Row entity");
    refused(r#"["a"].containsAll(resource.tags)"#, "containsAll");
    refused(r#"(if resource has status then 1 else 2) == 1"#, "non-boolean");
}

#[test]
fn cedar_type_errors_are_false_not_refusals() {
    // Strings have no order in Cedar and `in` wants entities: the permit never applies.
    for cond in [r#"resource.status < "b""#, r#"resource.status in ["a", "b"]"#, "resource.title.contains(1)", r#"resource.team_id like "1*""#] {
        let (auth, text, _) = run(&format!("{SELECT} {{ {cond} }};"), &user(json!({"sub": "u1"})), Action::Select);
        assert_eq!(text, "FALSE", "{cond}");
        assert!(auth.untranslatable.is_empty(), "{cond}: {:?}", auth.untranslatable);
    }
}

#[test]
fn refused_permit_does_not_block_another_permit() {
    let text = format!("{SELECT} {{ resource.team_id + 1 == 2 }};\n{SELECT} {{ resource.published }};");
    let (auth, sql, params) = run(&text, &user(json!({"sub": "u1"})), Action::Select);
    assert_eq!(sql, r#"("t0"."published" = $1) IS TRUE"#);
    assert_eq!(params, [Some("true".to_string())]);
    assert_eq!(auth.permits, ["p.cedar:1"]);
    assert_eq!(auth.untranslatable.len(), 1);
}

#[test]
fn refused_forbid_denies_everything() {
    let text = "permit(principal, action, resource);\nforbid(principal, action, resource) when { resource.team_id + 1 == 2 };";
    let (auth, sql, _) = run(text, &user(json!({"sub": "u1"})), Action::Select);
    assert_eq!(sql, "FALSE");
    assert!(auth.denied());
    assert!(auth.untranslatable.iter().any(|u| u.policy == "p.cedar:1" && u.forbid));
}

#[test]
fn no_applicable_permit_denies() {
    let (auth, sql, _) = run("permit(principal is PgrestLambda::ServiceRole, action, resource);", &user(json!({"sub": "u1"})), Action::Select);
    assert_eq!(sql, "FALSE");
    assert!(auth.denied());
    let (_, sql, _) = run(r#"permit(principal, action == PgrestLambda::Action::"insert", resource);"#, &user(json!({"sub": "u1"})), Action::Select);
    assert_eq!(sql, "FALSE");
}

#[test]
fn s01_forbid_applies_even_when_a_permit_is_trivially_true() {
    let text = r#"
        permit(principal, action == PgrestLambda::Action::"select", resource is PgrestLambda::Row) when { context.table == "posts" };
        forbid(principal, action == PgrestLambda::Action::"select", resource is PgrestLambda::Row) when { resource has status && resource.status == "archived" };
    "#;
    let auth = golden(text, json!({"sub": "u1"}), r#"NOT (("t0"."status" IS NOT NULL) AND ("t0"."status" = $1) IS TRUE)"#, &["archived"]);
    assert_eq!(auth.permits, ["p.cedar:0"]);
    assert_eq!(auth.forbids, ["p.cedar:1"]);
    // A trivially true forbid denies outright.
    let (_, sql, _) = run("permit(principal, action, resource);\nforbid(principal, action, resource);", &user(json!({"sub": "u1"})), Action::Select);
    assert_eq!(sql, "FALSE");
}

#[test]
fn s02_permit_and_forbid_values_bind_to_their_own_placeholders() {
    let text = r#"
        permit(principal, action, resource) when { resource.user_id == principal };
        permit(principal, action, resource) when { resource.team_id == principal.team_id };
        forbid(principal, action, resource) when { resource.status == "archived" };
        forbid(principal, action, resource) when { resource.title like "*secret*" };
    "#;
    let injected = "x' OR '1'='1 $1";
    golden(
        text,
        json!({"sub": injected, "team_id": 42}),
        r#"((("t0"."user_id" = $1) IS TRUE OR ("t0"."team_id" = $2::int8) IS TRUE) AND NOT (("t0"."status" = $3) IS TRUE) AND NOT (("t0"."title" LIKE $4) IS TRUE))"#,
        &[injected, "42", "archived", "%secret%"],
    );
}
