//! Reads: select, filters, logic trees, order, ranges, counts, embeds, singular objects, errors.

use serde_json::json;

use crate::harness::app;

#[tokio::test]
async fn select_filter_order_limit() {
    let t = app().await;
    let r = t.get("/rest/v1/posts?select=id,title&status=eq.published&order=id.desc&limit=2").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!([{"id": 4, "title": "Cobol"}, {"id": 3, "title": "Compilers"}]));
    assert_eq!(r.header("content-range"), Some("0-1/*"));
    assert_eq!(r.header("content-type"), Some("application/json; charset=utf-8"));
}

#[tokio::test]
async fn offset_and_exact_count_give_partial_content() {
    let t = app().await;
    let r = t.send("GET", "/rest/v1/posts?select=id&order=id&limit=2&offset=1", &[("prefer", "count=exact")], "").await;
    assert_eq!(r.status, 206);
    assert_eq!(r.json(), json!([{"id": 2}, {"id": 3}]));
    assert_eq!(r.header("content-range"), Some("1-2/5"));
    assert_eq!(r.header("preference-applied"), Some("count=exact"));
    let r = t.send("GET", "/rest/v1/posts?offset=10", &[("prefer", "count=exact")], "").await;
    assert_eq!(r.status, 416);
    assert_eq!(r.json()["details"], "An offset of 10 was requested, but there are only 5 rows.");
    assert_eq!(r.header("content-range"), Some("*/5"));
}

#[tokio::test]
async fn head_has_headers_and_no_body() {
    let t = app().await;
    let r = t.send("HEAD", "/rest/v1/posts?status=eq.published", &[("prefer", "count=exact")], "").await;
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
    assert_eq!(r.header("content-range"), Some("0-2/3"));
}

#[tokio::test]
async fn operators_and_negation() {
    let t = app().await;
    let ids = |body: serde_json::Value| body.as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect::<Vec<_>>();
    assert_eq!(ids(t.get("/rest/v1/posts?select=id&id=in.(1,3,5)&order=id").await.json()), vec![1, 3, 5]);
    assert_eq!(ids(t.get("/rest/v1/posts?select=id&id=not.in.(1,3,5)&order=id").await.json()), vec![2, 4]);
    assert_eq!(ids(t.get("/rest/v1/posts?select=id&score=is.null").await.json()), vec![2]);
    assert_eq!(ids(t.get("/rest/v1/posts?select=id&title=like.Co*&order=id").await.json()), vec![3, 4]);
    assert_eq!(ids(t.get("/rest/v1/posts?select=id&title=ilike.*NGINE*").await.json()), vec![1]);
    assert_eq!(ids(t.get("/rest/v1/posts?select=id&score=gte.7&score=lt.10").await.json()), vec![3]);
    assert_eq!(ids(t.get("/rest/v1/posts?select=id&status=neq.published&order=id.desc").await.json()), vec![5, 2]);
    assert_eq!(ids(t.get("/rest/v1/posts?select=id&or=(id.eq.1,and(status.eq.published,score.lt.5))&order=id").await.json()), vec![1, 4]);
    assert_eq!(ids(t.get("/rest/v1/posts?select=id&not.or=(status.eq.published,status.eq.draft)").await.json()), vec![5]);
    assert_eq!(ids(t.get("/rest/v1/posts?select=id&meta-%3E%3Elang=eq.fr").await.json()), vec![4]);
    assert_eq!(ids(t.get("/rest/v1/posts?select=id&id=in.()").await.json()), Vec::<i64>::new());
}

#[tokio::test]
async fn order_with_nulls() {
    let t = app().await;
    let r = t.get("/rest/v1/posts?select=id,score&order=score.desc.nullslast,id").await;
    assert_eq!(r.json(), json!([{"id":1,"score":10},{"id":3,"score":7},{"id":4,"score":3},{"id":5,"score":1},{"id":2,"score":null}]));
    let r = t.get("/rest/v1/posts?select=id&order=score.asc.nullsfirst&limit=1").await;
    assert_eq!(r.json(), json!([{"id": 2}]));
}

#[tokio::test]
async fn alias_cast_and_json_path() {
    let t = app().await;
    let r = t.get("/rest/v1/posts?select=pid:id::text,lang:meta-%3E%3Elang,meta-%3Etags&id=eq.1").await;
    assert_eq!(r.json(), json!([{"pid": "1", "lang": "en", "tags": ["math"]}]));
}

#[tokio::test]
async fn embeds_many_to_one_one_to_many_one_to_one_many_to_many() {
    let t = app().await;
    let r = t.get("/rest/v1/posts?select=id,author:users(name)&id=in.(1,5)&order=id").await;
    assert_eq!(r.json(), json!([{"id": 1, "author": {"name": "Ada"}}, {"id": 5, "author": null}]));
    let r = t.get("/rest/v1/users?select=name,posts(id)&id=in.(1,3)&order=id&posts.order=id.desc").await;
    assert_eq!(r.json(), json!([{"name": "Ada", "posts": [{"id": 2}, {"id": 1}]}, {"name": "Linus", "posts": []}]));
    let r = t.get("/rest/v1/users?select=name,profiles(bio)&id=eq.1").await;
    assert_eq!(r.json(), json!([{"name": "Ada", "profiles": {"bio": "first programmer"}}]));
    let r = t.get("/rest/v1/posts?select=id,tags(label)&id=eq.4&tags.order=id").await;
    assert_eq!(r.json(), json!([{"id": 4, "tags": [{"label": "history"}, {"label": "languages"}]}]));
    let r = t.get("/rest/v1/posts?select=id,users!author_id(name)&id=eq.3").await;
    assert_eq!(r.json(), json!([{"id": 3, "users": {"name": "Grace"}}]));
}

#[tokio::test]
async fn inner_embed_filters_parents_and_counts() {
    let t = app().await;
    let r = t.send("GET", "/rest/v1/posts?select=id,users!inner(name)&users.name=eq.Grace&order=id", &[("prefer", "count=exact")], "").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!([{"id": 3, "users": {"name": "Grace"}}, {"id": 4, "users": {"name": "Grace"}}]));
    assert_eq!(r.header("content-range"), Some("0-1/2"));
    // Without !inner the embed is filtered but the parents stay.
    let r = t.get("/rest/v1/posts?select=id,users(name)&users.name=eq.Grace&id=in.(1,3)&order=id").await;
    assert_eq!(r.json(), json!([{"id": 1, "users": null}, {"id": 3, "users": {"name": "Grace"}}]));
    // Embedded limit.
    let r = t.get("/rest/v1/users?select=id,posts(id)&id=eq.1&posts.order=id&posts.limit=1").await;
    assert_eq!(r.json(), json!([{"id": 1, "posts": [{"id": 1}]}]));
}

#[tokio::test]
async fn singular_object() {
    let t = app().await;
    let accept = [("accept", "application/vnd.pgrst.object+json")];
    let r = t.send("GET", "/rest/v1/users?select=name&id=eq.2", &accept, "").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"name": "Grace"}));
    assert_eq!(r.header("content-type"), Some("application/vnd.pgrst.object+json; charset=utf-8"));
    let r = t.send("GET", "/rest/v1/users?select=name", &accept, "").await;
    assert_eq!(r.status, 406);
    assert_eq!(r.json(), json!({"code": "PGRST116", "message": "Cannot coerce the result to a single JSON object", "details": "The result contains 3 rows", "hint": null}));
    let r = t.send("GET", "/rest/v1/users?id=eq.99", &accept, "").await;
    assert_eq!(r.json()["details"], "The result contains 0 rows");
}

#[tokio::test]
async fn schema_and_grammar_errors() {
    let t = app().await;
    let r = t.get("/rest/v1/nope").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["code"], "PGRST205");
    assert_eq!(r.json()["message"], "Could not find the table 'public.nope' in the schema cache");
    let r = t.get("/rest/v1/posts?order=id.asc.nullslasttt").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["code"], "PGRST100");
    assert_eq!(r.json()["message"], "\"failed to parse order (id.asc.nullslasttt)\" (line 1, column 17)");
    let r = t.get("/rest/v1/posts?select=id,nope(id)").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["code"], "PGRST200");
    let r = t.get("/rest/v1/users?select=*&posts.id=eq.1").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["code"], "PGRST108");
    let r = t.get("/rest/v1/posts?select=nope").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["code"], "42703");
    let r = t.get("/rest/v1/posts?id=eq.abc").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["code"], "22P02");
    let r = t.get("/rest/v1/posts?select=id::nosuchtype").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["message"], "type \"nosuchtype\" does not exist");
    let r = t.get("/rest/v1/a/b/c").await;
    assert_eq!(r.json()["code"], "PGRST125");
    let r = t.get("/rest/v1/posts?limit=-1").await;
    assert_eq!(r.status, 416);
    assert_eq!(r.json()["details"], "Limit should be greater than or equal to zero.");
    let r = t.send("GET", "/rest/v1/posts", &[("accept", "text/unknowntype")], "").await;
    assert_eq!(r.status, 406);
    assert_eq!(r.json()["code"], "PGRST107");
}

#[tokio::test]
async fn identifiers_cannot_inject() {
    let t = app().await;
    let r = t.get("/rest/v1/posts?select=id&order=id.desc%3Bdrop%20table%20users").await;
    assert_eq!(r.status, 400);
    let r = t.get("/rest/v1/posts?select=id&order=id%3Bdrop%20table%20users").await;
    assert_eq!(r.status, 400, "a `;` in a name is refused before SQL");
    let r = t.get("/rest/v1/posts?select=id%22%20from%20users;--").await;
    assert_eq!((r.status, r.json()["code"].clone()), (400, serde_json::json!("PGRST100")), "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(t.sql("select count(*) from users"), "3");
}

#[tokio::test]
async fn rpc_calls() {
    let t = app().await;
    let r = t.send("POST", "/rest/v1/rpc/add", &[("content-type", "application/json")], r#"{"a": 2, "b": 3}"#).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!(5));
    let r = t.get("/rest/v1/rpc/add?a=4&b=5").await;
    assert_eq!(r.json(), json!(9));
    let r = t.get("/rest/v1/rpc/published_posts?select=id&id=gt.1&order=id").await;
    assert_eq!(r.json(), json!([{"id": 3}, {"id": 4}]));
    let r = t.send("POST", "/rest/v1/rpc/touch", &[("authorization", &format!("Bearer {}", t.token(json!({"role": "service_role"}))))], "").await;
    assert_eq!(r.status, 204);
    let r = t.get("/rest/v1/rpc/ad").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["code"], "PGRST202");
    assert_eq!(r.json()["hint"], "Perhaps you meant to call the function public.add");
    let r = t.send("DELETE", "/rest/v1/rpc/add", &[], "").await;
    assert_eq!(r.status, 405);
}

