//! Hardening of the request's shape (issue 6): breadth limits before planning, Range and
//! limit/offset at the int8 edges, the anonymous role's shorter statement timeout, and
//! database errors that name relations rather than internal aliases.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::harness::{app, app_with};

/// `n` top-level embeds of three nested levels each (`3 * n` embeds, `6 * n` select items):
/// the breadth attack of V-19.
fn wide_select(n: usize) -> String {
    (0..n).map(|i| format!("a{i}:posts(id,users(id,posts(id)))")).collect::<Vec<_>>().join(",")
}

#[tokio::test]
async fn wide_embeds_are_refused_before_planning() {
    let t = app().await;
    let r = t.get(&format!("/rest/v1/users?select={}", wide_select(50))).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json(),
        json!({
            "code": "PGRST100",
            "message": "The request has 150 embedded resources, more than the limit of 20",
            "details": null,
            "hint": "Raise PGREST_MAX_EMBEDS or send a narrower request",
        })
    );
    // Refused before the schema is consulted: an unknown table is not even looked up.
    let r = t.get(&format!("/rest/v1/nosuch?select={}", wide_select(50))).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["code"], "PGRST100");
    // Up to the limit (18 embeds) the request is served.
    let r = t.get(&format!("/rest/v1/users?select=id,{}&order=id", wide_select(6))).await;
    assert_eq!(r.status, 200);
    let first = &r.json()[0];
    assert_eq!(first["id"], 1);
    assert_eq!(first["a5"][0]["users"]["id"], 1);
}

#[tokio::test]
async fn select_items_and_query_bytes_are_capped() {
    let t = app().await;
    let many = vec!["id"; 201].join(",");
    let r = t.get(&format!("/rest/v1/users?select={many}")).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["code"], "PGRST100");
    assert_eq!(r.json()["message"], "The request has 201 items in the select tree, more than the limit of 200");
    assert_eq!(r.json()["hint"], "Raise PGREST_MAX_SELECT_NODES or send a narrower request");
    let r = t.get(&format!("/rest/v1/users?select={}", vec!["id"; 200].join(","))).await;
    assert_eq!(r.status, 200);

    let query = format!("id=in.({})", vec!["1"; 8200].join(","));
    let r = t.get(&format!("/rest/v1/users?{query}")).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["code"], "PGRST100");
    assert_eq!(r.json()["message"], format!("The request has {} bytes in the query string, more than the limit of 16384", query.len()));
    assert_eq!(r.json()["hint"], "Raise PGREST_MAX_QUERY_BYTES or send a narrower request");
}

#[tokio::test]
async fn breadth_limits_are_configurable() {
    let t = app_with(|c| {
        c.max_embeds = 1;
        c.max_select_nodes = 3;
        c.max_query_bytes = 40;
    })
    .await;
    assert_eq!(t.get("/rest/v1/posts?select=id,users(id)").await.status, 200);
    let r = t.get("/rest/v1/users?select=posts(id),profiles(bio)").await;
    assert_eq!((r.status, r.json()["message"].clone()), (400, json!("The request has 2 embedded resources, more than the limit of 1")));
    let r = t.get("/rest/v1/users?select=id,name,email,id").await;
    assert_eq!((r.status, r.json()["message"].clone()), (400, json!("The request has 4 items in the select tree, more than the limit of 3")));
    let r = t.get("/rest/v1/users?select=id&name=eq.aaaaaaaaaaaaaaaaaaaaaaa").await;
    assert_eq!((r.status, r.json()["message"].clone()), (400, json!("The request has 41 bytes in the query string, more than the limit of 40")));
}

#[tokio::test]
async fn range_and_limits_at_the_int8_edges() {
    let t = app().await;
    // R-04: `last - offset + 1` overflowed here (a panic in debug builds, a wrap in release).
    let r = t.send("GET", "/rest/v1/users?select=id&order=id", &[("range", "0-9223372036854775807")], "").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!([{"id": 1}, {"id": 2}, {"id": 3}]));
    assert_eq!(r.header("content-range"), Some("0-2/*"));
    let r = t.send("GET", "/rest/v1/users?select=id&order=id", &[("range", "items=1-9223372036854775807")], "").await;
    assert_eq!((r.status, r.header("content-range")), (200, Some("1-2/*")));
    let r = t.send("GET", "/rest/v1/users?select=id", &[("range", "9223372036854775807-9223372036854775807")], "").await;
    assert_eq!((r.status, r.header("content-range")), (200, Some("*/*")));
    assert_eq!(r.json(), json!([]));
    let r = t
        .send("GET", "/rest/v1/users?select=id", &[("range", "9223372036854775807-9223372036854775807"), ("prefer", "count=exact")], "")
        .await;
    assert_eq!((r.status, r.json()["code"].clone()), (416, json!("PGRST103")));
    // Query limit/offset (root and embedded) intersected with a Range header at the edge.
    let max = i64::MAX;
    let path = format!("/rest/v1/users?select=id,posts(id)&order=id&limit={max}&offset=1&posts.limit={max}&posts.offset={max}");
    let r = t.send("GET", &path, &[("range", "0-9223372036854775807")], "").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!([{"id": 2, "posts": []}, {"id": 3, "posts": []}]));
    assert_eq!(r.header("content-range"), Some("1-2/*"));
    let r = t.get(&format!("/rest/v1/users?select=id&offset={max}")).await;
    assert_eq!((r.status, r.header("content-range")), (200, Some("*/*")));
}

/// A function that takes `ms` milliseconds, created for the test and loaded into the cache.
async fn slow_function(t: &crate::harness::TestApp) {
    t.sql("CREATE FUNCTION slow(ms int) RETURNS int LANGUAGE sql AS $$ SELECT ms FROM pg_catalog.pg_sleep(ms / 1000.0) $$");
    t.app.reload_schema().await.unwrap();
}

#[tokio::test]
async fn anonymous_requests_run_under_the_shorter_statement_timeout() {
    let t = app_with(|c| c.anon_statement_timeout = Some(Duration::from_millis(200))).await;
    slow_function(&t).await;
    let started = Instant::now();
    let r = t.get("/rest/v1/rpc/slow?ms=2000").await;
    assert!(started.elapsed() < Duration::from_millis(1500), "cancelled at the anonymous timeout, took {:?}", started.elapsed());
    assert_eq!(r.json()["code"], "57014");
    assert_eq!(r.status, 500, "PostgREST answers a statement timeout with 500");
    // A signed-in role keeps the general timeout.
    let auth = format!("Bearer {}", t.token(json!({"role": "authenticated"})));
    let r = t.send("GET", "/rest/v1/rpc/slow?ms=400", &[("authorization", &auth)], "").await;
    assert_eq!((r.status, r.json()), (200, json!(400)));
    // The general timeout, when shorter, wins for the anonymous role too.
    let t = app_with(|c| {
        c.anon_statement_timeout = Some(Duration::from_millis(5_000));
        c.statement_timeout = Duration::from_millis(200);
    })
    .await;
    slow_function(&t).await;
    let r = t.get("/rest/v1/rpc/slow?ms=2000").await;
    assert_eq!((r.status, r.json()["code"].clone()), (500, json!("57014")));
}

#[tokio::test]
async fn database_errors_name_the_relation_not_an_internal_alias() {
    let t = app().await;
    let message = |r: &crate::harness::Reply| (r.status, r.json()["code"].clone(), r.json()["message"].clone());
    let r = t.get("/rest/v1/posts?select=foo").await;
    assert_eq!(message(&r), (400, json!("42703"), json!("column posts.foo does not exist")));
    let r = t.get("/rest/v1/posts?foo=eq.1").await;
    assert_eq!(message(&r), (400, json!("42703"), json!("column posts.foo does not exist")));
    let r = t.get("/rest/v1/users?select=id,posts(foo)").await;
    assert_eq!(message(&r), (400, json!("42703"), json!("column posts_1.foo does not exist")));
    let auth = format!("Bearer {}", t.token(json!({"role": "service_role"})));
    let r = t.send("PATCH", "/rest/v1/posts?foo=eq.1", &[("authorization", &auth)], r#"{"title": "x"}"#).await;
    assert_eq!(message(&r), (400, json!("42703"), json!("column posts.foo does not exist")));
    let r = t.send("DELETE", "/rest/v1/posts?foo=eq.1", &[("authorization", &auth)], "").await;
    assert_eq!(message(&r), (400, json!("42703"), json!("column posts.foo does not exist")));
    // A self-embed and a table named like a writer alias still join the right rows.
    let r = t.get("/rest/v1/users?select=id,posts(id,users(id))&id=eq.2&posts.order=id").await;
    assert_eq!(r.json(), json!([{"id": 2, "posts": [{"id": 3, "users": {"id": 2}}, {"id": 4, "users": {"id": 2}}]}]));
}
