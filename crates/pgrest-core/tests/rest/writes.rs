//! Writes: insert (single, bulk, columns=), upsert, update, delete, representation, singular
//! rollback, unfiltered refusal, constraint errors, transaction preferences.

use serde_json::json;

use crate::harness::{app, app_with};

fn service(t: &crate::harness::TestApp) -> String {
    format!("Bearer {}", t.token(json!({"role": "service_role"})))
}

#[tokio::test]
async fn insert_minimal_and_representation() {
    let t = app().await;
    let auth = service(&t);
    let r = t.send("POST", "/rest/v1/tags", &[("authorization", &auth), ("content-type", "application/json")], r#"{"id": 10, "label": "new"}"#).await;
    assert_eq!(r.status, 201);
    assert!(r.body.is_empty());
    assert_eq!(r.header("content-type"), None);
    assert_eq!(r.header("content-range"), Some("*/*"));
    let r = t
        .send(
            "POST",
            "/rest/v1/posts?select=id,title,users(name)",
            &[("authorization", &auth), ("prefer", "return=representation"), ("prefer", "count=exact")],
            r#"{"id": 11, "author_id": 2, "title": "Fresh"}"#,
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json(), json!([{"id": 11, "title": "Fresh", "users": {"name": "Grace"}}]));
    assert_eq!(r.header("content-range"), Some("*/1"));
    assert_eq!(r.header("preference-applied"), Some("return=representation, count=exact"));
    assert_eq!(t.sql("select status from posts where id = 11"), "draft");
}

#[tokio::test]
async fn bulk_insert_and_columns() {
    let t = app().await;
    let auth = service(&t);
    let r = t
        .send("POST", "/rest/v1/tags?columns=id,label", &[("authorization", &auth), ("prefer", "return=representation")], r#"[{"id": 20, "label": "a", "extra": 1}, {"id": 21, "label": "b", "extra": 2}]"#)
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.json(), json!([{"id": 20, "label": "a"}, {"id": 21, "label": "b"}]));
    // With columns= the objects may differ; absent keys are NULL (here: label is NOT NULL).
    let r = t.send("POST", "/rest/v1/posts?columns=id,title,score", &[("authorization", &auth), ("prefer", "return=representation")], r#"[{"id": 60, "title": "a", "score": 1}, {"id": 61, "title": "b"}]"#).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.json(), json!([{"id": 60, "author_id": null, "title": "a", "status": "draft", "meta": null, "score": 1}, {"id": 61, "author_id": null, "title": "b", "status": "draft", "meta": null, "score": null}]));
    let r = t.send("POST", "/rest/v1/tags", &[("authorization", &auth)], r#"[{"id": 22, "label": "a"}, {"id": 23}]"#).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["message"], "All object keys must match");
    let r = t.send("POST", "/rest/v1/tags", &[("authorization", &auth)], "}{ x = 2").await;
    assert_eq!(r.json(), json!({"code": "PGRST102", "message": "Empty or invalid json", "details": null, "hint": null}));
    let r = t.send("POST", "/rest/v1/tags", &[("authorization", &auth)], r#"{"id": 24, "nope": 1}"#).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["code"], "PGRST204");
    assert_eq!(t.sql("select count(*) from tags"), "4");
}

#[tokio::test]
async fn missing_keys_take_column_defaults_when_asked() {
    let t = app().await;
    let auth = service(&t);
    let headers = [("authorization", auth.as_str()), ("prefer", "return=representation"), ("prefer", "missing=default")];
    let r = t.send("POST", "/rest/v1/posts?columns=id,title,status,score&select=id,status,score", &headers, r#"[{"id": 70, "title": "a", "status": "published"}, {"id": 71, "title": "b", "score": 3, "status": null}]"#).await;
    assert_eq!(r.status, 400, "an explicit null still means null: status is NOT NULL, {:?}", r.body);
    let r = t.send("POST", "/rest/v1/posts?columns=id,title,status,score&select=id,status,score", &headers, r#"[{"id": 70, "title": "a", "status": "published"}, {"id": 71, "title": "b", "score": 3}]"#).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.json(), json!([{"id": 70, "status": "published", "score": null}, {"id": 71, "status": "draft", "score": 3}]));
    assert_eq!(r.header("preference-applied"), Some("missing=default, return=representation"));
}

#[tokio::test]
async fn constraint_violations_are_conflicts() {
    let t = app().await;
    let auth = service(&t);
    let r = t.send("POST", "/rest/v1/users", &[("authorization", &auth)], r#"{"id": 1, "name": "Dup"}"#).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.json(), json!({"code": "23505", "message": "duplicate key value violates unique constraint \"users_pkey\"", "details": "Key (id)=(1) already exists.", "hint": null}));
    let r = t.send("POST", "/rest/v1/posts", &[("authorization", &auth)], r#"{"id": 50, "author_id": 99, "title": "x"}"#).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.json()["code"], "23503");
    let r = t.send("POST", "/rest/v1/posts", &[("authorization", &auth)], r#"{"id": 51}"#).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["code"], "23502");
}

#[tokio::test]
async fn upsert_merge_and_ignore() {
    let t = app().await;
    let auth = service(&t);
    let merge = [("authorization", auth.as_str()), ("prefer", "resolution=merge-duplicates, return=representation")];
    let r = t.send("POST", "/rest/v1/counters", &merge, r#"[{"name": "a", "value": 5}, {"name": "b", "value": 6}]"#).await;
    assert_eq!(r.status, 201);
    assert_eq!(r.header("preference-applied"), Some("resolution=merge-duplicates, return=representation"));
    let r = t.send("POST", "/rest/v1/counters", &merge, r#"[{"name": "a", "value": 7}]"#).await;
    assert_eq!(r.status, 200, "only updates: 200");
    assert_eq!(r.json(), json!([{"name": "a", "value": 7}]));
    let ignore = [("authorization", auth.as_str()), ("prefer", "resolution=ignore-duplicates, return=representation")];
    let r = t.send("POST", "/rest/v1/counters", &ignore, r#"[{"name": "a", "value": 100}, {"name": "c", "value": 1}]"#).await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json(), json!([{"name": "c", "value": 1}]));
    assert_eq!(t.sql("select string_agg(name || '=' || value, ',' order by name) from counters"), "a=7,b=6,c=1");
    let r = t.send("POST", "/rest/v1/users?on_conflict=email", &merge, r#"{"id": 1, "name": "Ada L", "email": "ada@example.com"}"#).await;
    assert_eq!(r.status, 200);
    assert_eq!(t.sql("select name from users where id = 1"), "Ada L");
}

#[tokio::test]
async fn update_and_delete() {
    let t = app().await;
    let auth = service(&t);
    let r = t.send("PATCH", "/rest/v1/posts?id=eq.2", &[("authorization", &auth)], r#"{"status": "published"}"#).await;
    assert_eq!(r.status, 204);
    assert_eq!(r.header("content-range"), Some("0-0/*"));
    let r = t.send("PATCH", "/rest/v1/posts?status=eq.published&select=id", &[("authorization", &auth), ("prefer", "return=representation")], r#"{"score": 0}"#).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json().as_array().map(Vec::len), Some(4));
    let r = t.send("PATCH", "/rest/v1/posts?id=eq.999", &[("authorization", &auth), ("prefer", "return=representation")], r#"{"score": 0}"#).await;
    assert_eq!((r.status, &r.body[..]), (200, &b"[]"[..]));
    let r = t.send("DELETE", "/rest/v1/post_tags?post_id=eq.4&tag_id=eq.1", &[("authorization", &auth), ("prefer", "return=representation"), ("prefer", "count=exact")], "").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!([{"post_id": 4, "tag_id": 1}]));
    assert_eq!(r.header("content-range"), Some("*/1"));
    let r = t.send("DELETE", "/rest/v1/post_tags?post_id=eq.3", &[("authorization", &auth)], "").await;
    assert_eq!(r.status, 204);
    assert_eq!(t.sql("select count(*) from post_tags"), "2");
}

#[tokio::test]
async fn unfiltered_mutations_are_refused_by_default() {
    let t = app().await;
    let auth = service(&t);
    let r = t.send("DELETE", "/rest/v1/post_tags", &[("authorization", &auth)], "").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["message"], "DELETE requires a WHERE clause");
    let r = t.send("PATCH", "/rest/v1/posts", &[("authorization", &auth)], r#"{"score": 1}"#).await;
    assert_eq!(r.json()["message"], "UPDATE requires a WHERE clause");
    assert_eq!(t.sql("select count(*) from post_tags"), "4");

    let t = app_with(|c| c.allow_unfiltered_mutations = true).await;
    let auth = service(&t);
    let r = t.send("DELETE", "/rest/v1/post_tags", &[("authorization", &auth)], "").await;
    assert_eq!(r.status, 204);
    assert_eq!(t.sql("select count(*) from post_tags"), "0");
}

#[tokio::test]
async fn singular_mutation_failure_rolls_back() {
    let t = app().await;
    let auth = service(&t);
    let r = t
        .send("PATCH", "/rest/v1/posts?status=eq.published", &[("authorization", &auth), ("accept", "application/vnd.pgrst.object+json")], r#"{"title": "zzz"}"#)
        .await;
    assert_eq!(r.status, 406);
    assert_eq!(r.json()["details"], "The result contains 3 rows");
    assert_eq!(t.sql("select count(*) from posts where title = 'zzz'"), "0");
    let r = t
        .send(
            "PATCH",
            "/rest/v1/posts?id=eq.1&select=id,title",
            &[("authorization", &auth), ("accept", "application/vnd.pgrst.object+json"), ("prefer", "return=representation")],
            r#"{"title": "one"}"#,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"id": 1, "title": "one"}));
}

#[tokio::test]
async fn put_upserts_one_row_by_primary_key() {
    let t = app().await;
    let auth = service(&t);
    let r = t.send("PUT", "/rest/v1/tags?id=eq.7", &[("authorization", &auth), ("prefer", "return=representation")], r#"{"id": 7, "label": "put"}"#).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.json(), json!([{"id": 7, "label": "put"}]));
    let r = t.send("PUT", "/rest/v1/tags?id=eq.7", &[("authorization", &auth)], r#"{"id": 8, "label": "put"}"#).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["code"], "PGRST115");
    let r = t.send("PUT", "/rest/v1/tags?label=eq.x", &[("authorization", &auth)], r#"{"id": 8, "label": "x"}"#).await;
    assert_eq!(r.status, 405);
}

#[tokio::test]
async fn tx_preference_only_with_override_allowed() {
    let t = app().await;
    let auth = service(&t);
    let r = t.send("POST", "/rest/v1/tags", &[("authorization", &auth), ("prefer", "tx=rollback")], r#"{"id": 30, "label": "kept"}"#).await;
    assert_eq!(r.status, 201);
    assert_eq!(r.header("preference-applied"), None);
    assert_eq!(t.sql("select count(*) from tags where id = 30"), "1");

    let t = app_with(|c| c.tx_end = pgrest_core::TxEnd::CommitAllowOverride).await;
    let auth = service(&t);
    let r = t.send("POST", "/rest/v1/tags", &[("authorization", &auth), ("prefer", "tx=rollback")], r#"{"id": 31, "label": "gone"}"#).await;
    assert_eq!(r.status, 201);
    assert_eq!(r.header("preference-applied"), Some("tx=rollback"));
    assert_eq!(t.sql("select count(*) from tags where id = 31"), "0");
}
