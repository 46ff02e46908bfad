//! Every construct the translator accepts: policy text + principal → residual → SQL + params.

use pgrest_core::policy::Action;
use serde_json::json;

use super::{golden, run};

const SELECT: &str = "permit(principal, action == PgrestLambda::Action::\"select\", resource is PgrestLambda::Row) when";

fn p(cond: &str) -> String {
    format!("{SELECT} {{ {cond} }};")
}

#[test]
fn equality_and_inequality_bind_values() {
    golden(&p(r#"resource.status == "draft""#), json!({"sub": "u1"}), r#"("t0"."status" = $1) IS TRUE"#, &["draft"]);
    golden(&p(r#"resource.status != "draft""#), json!({"sub": "u1"}), r#"("t0"."status" <> $1) IS TRUE"#, &["draft"]);
    golden(&p("resource.published == true"), json!({"sub": "u1"}), r#"("t0"."published" = $1) IS TRUE"#, &["true"]);
    // A uuid column is its canonical text for Cedar.
    golden(&p(r#"resource.owner == "0b7e""#), json!({"sub": "u1"}), r#"("t0"."owner"::text = $1) IS TRUE"#, &["0b7e"]);
}

#[test]
fn ordering_on_integer_columns_binds_int8() {
    golden(&p("resource.team_id < 10"), json!({"sub": "u1"}), r#"("t0"."team_id" < $1::int8) IS TRUE"#, &["10"]);
    golden(&p("resource.team_id <= 10"), json!({"sub": "u1"}), r#"("t0"."team_id" <= $1::int8) IS TRUE"#, &["10"]);
    golden(&p("resource.team_id > 10"), json!({"sub": "u1"}), r#"("t0"."team_id" > $1::int8) IS TRUE"#, &["10"]);
    golden(&p("resource.team_id >= 10"), json!({"sub": "u1"}), r#"("t0"."team_id" >= $1::int8) IS TRUE"#, &["10"]);
    // The literal on the left flips the operator.
    golden(&p("10 > resource.team_id"), json!({"sub": "u1"}), r#"("t0"."team_id" < $1::int8) IS TRUE"#, &["10"]);
}

#[test]
fn boolean_connectives() {
    golden(
        &p(r#"resource.status == "a" && resource.team_id == 1"#),
        json!({"sub": "u1"}),
        r#"(("t0"."status" = $1) IS TRUE AND ("t0"."team_id" = $2::int8) IS TRUE)"#,
        &["a", "1"],
    );
    // `a || b` holds where a holds, or where a is false (not an error) and b holds.
    golden(
        &p(r#"resource.status == "a" || resource.team_id == 1"#),
        json!({"sub": "u1"}),
        r#"(("t0"."status" = $1) IS TRUE OR (("t0"."status" <> $2) IS TRUE AND ("t0"."team_id" = $3::int8) IS TRUE))"#,
        &["a", "a", "1"],
    );
    golden(&p(r#"!(resource.status == "a")"#), json!({"sub": "u1"}), r#"("t0"."status" <> $1) IS TRUE"#, &["a"]);
    // Extension calls on concrete values are Cedar's own business.
    golden(&p(r#"decimal("1.5").lessThan(decimal("2.0")) && resource.title == "x""#), json!({"sub": "u1"}), r#"("t0"."title" = $1) IS TRUE"#, &["x"]);
    // Literal booleans fold away.
    golden(&p(r#"true && resource.status == "a""#), json!({"sub": "u1"}), r#"("t0"."status" = $1) IS TRUE"#, &["a"]);
}

#[test]
fn has_is_not_null_or_false() {
    golden(&p("resource has status"), json!({"sub": "u1"}), r#"("t0"."status" IS NOT NULL)"#, &[]);
    golden(&p("resource has no_such_column"), json!({"sub": "u1"}), "FALSE", &[]);
    golden(&p("!(resource has status)"), json!({"sub": "u1"}), r#"("t0"."status" IS NULL)"#, &[]);
    // `has` works on any column type, even one Cedar cannot compare.
    golden(&p("resource has meta"), json!({"sub": "u1"}), r#"("t0"."meta" IS NOT NULL)"#, &[]);
}

#[test]
fn like_escapes_sql_wildcards() {
    golden(&p(r#"resource.title like "50%*off_""#), json!({"sub": "u1"}), r#"("t0"."title" LIKE $1) IS TRUE"#, &["50\\%%off\\_"]);
}

#[test]
fn in_on_sets_of_entities_and_set_contains() {
    golden(
        &p(r#"resource.user_id in [PgrestLambda::User::"a", PgrestLambda::User::"b"]"#),
        json!({"sub": "u1"}),
        r#"("t0"."user_id" = ANY($1)) IS TRUE"#,
        &[r#"{"a","b"}"#],
    );
    golden(&p(r#"["x", "y"].contains(resource.status)"#), json!({"sub": "u1"}), r#"("t0"."status" = ANY($1)) IS TRUE"#, &[r#"{"x","y"}"#]);
}

#[test]
fn contains_family_on_array_columns() {
    golden(&p(r#"resource.tags.contains("red")"#), json!({"sub": "u1"}), r#"("t0"."tags" @> $1) IS TRUE"#, &[r#"{"red"}"#]);
    golden(&p(r#"resource.tags.containsAll(["a", "b"])"#), json!({"sub": "u1"}), r#"("t0"."tags" @> $1) IS TRUE"#, &[r#"{"a","b"}"#]);
    golden(&p(r#"resource.tags.containsAny(["a", "b"])"#), json!({"sub": "u1"}), r#"("t0"."tags" && $1) IS TRUE"#, &[r#"{"a","b"}"#]);
    golden(&p("resource.scores.contains(3)"), json!({"sub": "u1"}), r#"("t0"."scores"::int8[] @> $1::int8[]) IS TRUE"#, &[r#"{"3"}"#]);
    // The caller's own claims as the set.
    golden(&p("resource.tags.containsAny(principal.groups)"), json!({"sub": "u1", "groups": ["g1"]}), r#"("t0"."tags" && $1) IS TRUE"#, &[r#"{"g1"}"#]);
    // A text column can never hold a number: false, no SQL error.
    golden(&p("resource.tags.contains(3)"), json!({"sub": "u1"}), "FALSE", &[]);
}

#[test]
fn if_then_else_on_the_row_and_on_claims() {
    golden(
        &p(r#"if resource has status then resource.status == "a" else resource.published"#),
        json!({"sub": "u1"}),
        r#"((("t0"."status" IS NOT NULL) AND ("t0"."status" = $1) IS TRUE) OR (("t0"."status" IS NULL) AND ("t0"."published" = $2) IS TRUE))"#,
        &["a", "true"],
    );
    // A concrete guard picks its branch before translation.
    golden(&p(r#"if principal has admin then true else resource.published"#), json!({"sub": "u1"}), r#"("t0"."published" = $1) IS TRUE"#, &["true"]);
    golden(&p(r#"if principal has admin then true else resource.published"#), json!({"sub": "u1", "admin": false}), "TRUE", &[]);
}

#[test]
fn entity_uids_bind_the_sub() {
    let auth = golden(&p("resource has user_id && resource.user_id == principal"), json!({"sub": "u-1"}), r#"(("t0"."user_id" IS NOT NULL) AND ("t0"."user_id" = $1) IS TRUE)"#, &["u-1"]);
    assert_eq!(auth.permits, ["p.cedar:0"]);
    assert!(auth.residuals.first().is_some_and(|(id, text)| id == "p.cedar:0" && text.contains("unknown")), "{:?}", auth.residuals);
    // A uuid owner column with a Supabase-style sub compares natively (index-friendly).
    let sub = "0b7e3e4a-1c2d-4e5f-8a9b-0c1d2e3f4a5b";
    golden(&p("resource.owner == principal"), json!({"sub": sub}), r#"("t0"."owner" = $1::uuid) IS TRUE"#, &[sub]);
    // The anonymous principal owns nothing.
    let anon = pgrest_core::policy::Principal::from_identity("anon", &json!({}), "anon").unwrap();
    let (_, text, _) = run(&p("resource.user_id == principal"), &anon, Action::Select);
    assert_eq!(text, "FALSE");
}

#[test]
fn nested_claims_of_the_principal() {
    golden(&p("resource.team_id == principal.app_metadata.team"), json!({"sub": "u1", "app_metadata": {"team": 7}}), r#"("t0"."team_id" = $1::int8) IS TRUE"#, &["7"]);
    golden(&p("principal has app_metadata.team && resource.team_id == principal.app_metadata.team"), json!({"sub": "u1", "app_metadata": {}}), "FALSE", &[]);
}

#[test]
fn resource_is_row_is_true_and_other_types_false() {
    golden("permit(principal, action, resource is PgrestLambda::Row);", json!({"sub": "u1"}), "TRUE", &[]);
    golden("permit(principal, action, resource is PgrestLambda::Table);", json!({"sub": "u1"}), "FALSE", &[]);
    golden(&p(r#"resource is PgrestLambda::Row && resource.status == "a""#), json!({"sub": "u1"}), r#"("t0"."status" = $1) IS TRUE"#, &["a"]);
}

#[test]
fn missing_principal_attributes_make_the_policy_not_apply() {
    // Cedar: `principal.team_id` errors, so the permit does not apply.
    golden(&p("resource.team_id == principal.team_id"), json!({"sub": "u1"}), "FALSE", &[]);
    // ... also when the error sits behind a row-dependent left operand.
    golden(&p(r#"resource.status == "a" && principal.team_id == 1"#), json!({"sub": "u1"}), "FALSE", &[]);
    golden(
        &p(r#"resource.status == "a" || principal.team_id == 1"#),
        json!({"sub": "u1"}),
        r#"("t0"."status" = $1) IS TRUE"#,
        &["a"],
    );
}
