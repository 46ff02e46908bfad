//! The differential test: for every policy set, principal and generated row, the translated
//! SQL filter run in PostgreSQL selects a row exactly when Cedar's own concrete
//! `is_authorized`, with that row as a concrete `Row` entity, allows.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use cedar_policy::{Authorizer, Context, Decision, Entities, Entity, EntityUid, Request, RestrictedExpression};
use pgrest_core::policy::{authorize_rows, Action, PolicyColumn, Principal, RowRequest, Val};
use pgrest_core::sql::policy_filter;
use serde_json::{json, Value};

use super::policies;

const SCHEMA: &str = "CREATE TABLE items (id int PRIMARY KEY, owner text, team_id bigint, status varchar(20), title text, published boolean, tags text[], score integer, ref uuid);";
const UUID: &str = "0b7e3e4a-1c2d-4e5f-8a9b-0c1d2e3f4a5b";

const POLICY_SETS: &[&str] = &[
    "permit(principal, action, resource) when { resource has owner && resource.owner == principal };",
    "permit(principal, action, resource) when { resource.owner == principal };",
    "permit(principal, action, resource) when { principal has team_id && resource.team_id == principal.team_id };",
    r#"permit(principal, action, resource) when { context.table == "items" };
       forbid(principal, action, resource) when { resource.status == "archived" };"#,
    "permit(principal, action, resource) when { resource.score > 3 || resource.published };",
    r#"permit(principal, action, resource) when { !(resource.status == "draft") && resource.title like "*o*" };"#,
    "permit(principal, action, resource) when { if resource has published then resource.published else resource.score >= 0 };",
    r#"permit(principal, action, resource) when { resource.tags.contains("red") };"#,
    "permit(principal, action, resource) when { resource.tags.containsAny(principal.groups) };",
    r#"permit(principal, action, resource) when { resource.tags.containsAll(["red", "blue"]) };"#,
    r#"permit(principal, action, resource) when { ["draft", "public"].contains(resource.status) };"#,
    r#"permit(principal, action, resource) when { ["blue", "green"].containsAny(resource.tags) || resource.tags.containsAll([]) && resource.score < 1 };"#,
    r#"permit(principal, action, resource) when { resource.owner in [PgrestLambda::User::"u2", PgrestLambda::User::"u3"] };"#,
    r#"permit(principal, action, resource) when { resource.score <= principal.app_metadata.level };
       forbid(principal, action, resource) when { resource has tags && resource.tags.contains("blue") };"#,
    r#"permit(principal, action, resource) when { resource.status != "public" || principal.team_id == 1 };"#,
    r#"permit(principal, action, resource) when { resource.ref == "0b7e3e4a-1c2d-4e5f-8a9b-0c1d2e3f4a5b" || !(resource has ref) };"#,
    r#"permit(principal, action, resource) when { resource.ref != "0B7E3E4A-1C2D-4E5F-8A9B-0C1D2E3F4A5B" && resource.ref like "0b7e*" };"#,
    r#"permit(principal, action, resource) when { resource.team_id == 7 };
       permit(principal, action, resource) when { resource.title == "" };
       forbid(principal, action, resource) when { resource.published == false };"#,
    r#"permit(principal, action, resource) when { resource.title < "m" };"#,
    r#"permit(principal, action, resource) unless { resource.status == "archived" };"#,
    r#"permit(principal, action, resource) when { resource.status like "a%*" && resource.score != 5 };"#,
];

fn pick<'a>(values: &[&'a str], i: usize) -> &'a str {
    values.get(i % values.len()).copied().unwrap_or("NULL")
}

/// 30 rows covering NULLs in every column.
fn rows_sql() -> String {
    let mut sql = String::from(SCHEMA);
    for i in 0..30usize {
        sql.push_str(&format!(
            "\nINSERT INTO items VALUES ({i}, {}, {}, {}, {}, {}, {}, {}, {});",
            pick(&["NULL", "'u1'", "'u2'"], i),
            pick(&["NULL", "1", "2", "7"], i),
            pick(&["NULL", "'draft'", "'archived'", "'public'", "'a%b'"], i / 2),
            pick(&["NULL", "'hello world'", "'secret plan'", "'50% off'", "''"], i / 3),
            pick(&["NULL", "true", "false"], i / 5),
            pick(&["NULL", "'{}'", "'{red}'", "'{red,blue}'", "'{blue,NULL}'"], i / 4),
            pick(&["NULL", "0", "5", "100000", "-3"], i / 6),
            pick(&["NULL", &format!("'{UUID}'")], i),
        ));
    }
    sql
}

fn columns() -> Vec<PolicyColumn> {
    [("id", "integer"), ("owner", "text"), ("team_id", "bigint"), ("status", "character varying(20)"), ("title", "text"), ("published", "boolean"), ("tags", "text[]"), ("score", "integer"), ("ref", "uuid")]
        .iter()
        .map(|(n, t)| PolicyColumn::from_pg(n, t))
        .collect()
}

/// The row as Cedar sees it: NULL columns absent, `owner` a `User` reference (the model the
/// translator gives text columns compared with entities).
fn row_entity(row: &serde_json::Map<String, Value>) -> Entity {
    let id = row.get("id").and_then(Value::as_i64).expect("id");
    let mut attrs = HashMap::new();
    for (name, value) in row {
        let val = match (name.as_str(), value) {
            (_, Value::Null) => continue,
            ("owner", Value::String(s)) => Val::Entity { ty: "PgrestLambda::User".into(), id: s.clone() },
            _ => Val::from_json(value).expect("row value"),
        };
        attrs.insert(name.clone(), val.to_restricted().expect("restricted"));
    }
    Entity::new(EntityUid::from_str(&format!("PgrestLambda::Row::\"{id}\"")).unwrap(), attrs, HashSet::new()).unwrap()
}

fn principals() -> Vec<Principal> {
    vec![
        Principal::from_identity("authenticated", &json!({"sub": "u1", "team_id": 1, "groups": ["red"], "app_metadata": {"level": 5}}), "anon").unwrap(),
        Principal::from_identity("authenticated", &json!({"sub": "u2", "groups": []}), "anon").unwrap(),
        Principal::from_identity("anon", &json!({"role": "anon"}), "anon").unwrap(),
        // Claim values that look like SQL stay values (S-02).
        Principal::from_identity("authenticated", &json!({"sub": "u1' OR '1'='1", "team_id": 7, "groups": ["red') OR true --"], "app_metadata": {"level": "$1"}}), "anon").unwrap(),
    ]
}

#[tokio::test]
async fn sql_filter_selects_exactly_what_cedar_allows() {
    let cluster = pgrest_embedded::shared_test_cluster().expect("cluster");
    let (name, url) = cluster.fresh_database("policy").expect("database");
    cluster.psql(&name).run(&rows_sql()).expect("rows");
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.expect("connect");
    tokio::spawn(connection);

    let rows: Vec<serde_json::Map<String, Value>> = client
        .query("SELECT row_to_json(i)::text FROM items i ORDER BY id", &[])
        .await
        .expect("rows")
        .iter()
        .map(|r| serde_json::from_str(r.get::<_, &str>(0)).expect("json"))
        .collect();
    let entities: Vec<Entity> = rows.iter().map(row_entity).collect();
    let columns = columns();
    let context = Context::from_pairs([("table".to_string(), RestrictedExpression::new_string("items".into()))]).unwrap();
    let action = EntityUid::from_str(r#"PgrestLambda::Action::"select""#).unwrap();

    let (mut combos, mut allowed, mut mismatches) = (0usize, 0usize, Vec::new());
    for text in POLICY_SETS {
        let set = policies(text);
        for principal in principals() {
            let auth = authorize_rows(&set, &RowRequest { principal: &principal, action: Action::Select, table: "items", columns: &columns, explain: true }).expect("authorize");
            assert!(auth.untranslatable.is_empty(), "{text}: {:?}", auth.untranslatable);
            let filter = policy_filter("t0", &auth.condition);
            let sql = format!("SELECT id FROM items AS \"t0\" WHERE {} ORDER BY id", filter.text);
            let selected: HashSet<i32> = client.query(&sql, &filter.param_refs()).await.unwrap_or_else(|e| panic!("{sql}: {e}")).iter().map(|r| r.get(0)).collect();
            for row in &entities {
                let store = Entities::from_entities([principal.entity().unwrap(), row.clone()], None).unwrap();
                let request = Request::new(principal.uid().unwrap(), action.clone(), row.uid(), context.clone(), None).unwrap();
                let cedar = Authorizer::new().is_authorized(&request, set.set(), &store).decision() == Decision::Allow;
                let id: i32 = row.uid().id().unescaped().parse().unwrap();
                combos += 1;
                allowed += usize::from(cedar);
                if cedar != selected.contains(&id) {
                    mismatches.push(format!("{text} | {} | row {id}: cedar {cedar}, sql {} | {}", principal.id, !cedar, filter.text));
                }
            }
        }
    }
    assert!(mismatches.is_empty(), "{} mismatches:\n{}", mismatches.len(), mismatches.join("\n"));
    assert!(combos >= 50 && allowed > combos / 10 && allowed < combos - combos / 10, "combos {combos}, allowed {allowed}");
    eprintln!("differential: {combos} policy/principal/row combinations, {allowed} allowed, 0 mismatches");
}
