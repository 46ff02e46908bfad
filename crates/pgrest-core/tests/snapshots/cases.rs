//! The requests snapshotted: reads, every filter family, logic trees, order and ranges, counts,
//! embeds of each cardinality, singular objects, inserts, upserts, updates, deletes, RPC and
//! the Prefer variants. Add a case here, then `UPDATE_SNAPSHOTS=1` writes its file.
//!
//! Must not hold cases that fail to parse or plan (those belong in the REST and fuzz tests).

use crate::Case;

const JSON: (&str, &str) = ("content-type", "application/json");

const fn get(name: &'static str, target: &'static str) -> Case {
    Case { name, method: "GET", target, headers: &[], body: "" }
}

pub const CASES: &[Case] = &[
    // Reads: columns, aliases, casts, JSON paths.
    get("read_star", "/posts"),
    get("read_columns_alias_cast", "/posts?select=id,headline:title,score::text"),
    get("read_json_paths", "/posts?select=id,meta->tags,kind:meta->>kind,meta->a->>b"),
    Case { name: "read_head", method: "HEAD", target: "/posts?select=id", headers: &[], body: "" },
    // Filters, one per family.
    get("filter_comparisons", "/posts?id=gt.1&score=lte.10&author_id=neq.3&title=gte.a&status=lt.z"),
    get("filter_like_ilike", "/posts?title=like.*rust*&status=ilike.PUB*"),
    get("filter_regex", "/posts?title=match.^a&status=imatch.b$"),
    get("filter_in_is", "/posts?id=in.(1,2,3)&score=is.null&status=not.is.null"),
    get("filter_not", "/posts?id=not.eq.1&title=not.in.(a,b)"),
    get("filter_fts", "/posts?title=fts.rust&status=plfts(english).hello world&meta->>body=wfts.a b"),
    get("filter_json_path", "/posts?meta->>kind=eq.news&meta->n=gt.1"),
    get("filter_contains_overlap", "/posts?meta=cs.{\"a\":1}&meta=cd.{\"a\":1}"),
    get("filter_quantified", "/posts?title=like(any).{a*,b*}&id=eq(all).{1,2}"),
    // Logic trees.
    get("logic_or", "/posts?or=(id.eq.1,title.eq.x)"),
    get("logic_nested", "/posts?and=(score.gt.1,or(status.eq.draft,not.and(id.lt.5,title.is.null)))"),
    // Order, limit, offset, Range, count.
    get("order_multi", "/posts?order=score.desc.nullslast,title.asc,id"),
    get("limit_offset", "/posts?limit=10&offset=20"),
    Case { name: "range_header", method: "GET", target: "/posts?select=id", headers: &[("range", "5-9")], body: "" },
    Case { name: "count_exact", method: "GET", target: "/posts?select=id&limit=2", headers: &[("prefer", "count=exact")], body: "" },
    // Embeds of each cardinality.
    get("embed_many_to_one", "/posts?select=id,users(name)"),
    get("embed_one_to_many", "/users?select=id,posts(id,title)"),
    get("embed_one_to_one", "/users?select=id,profiles(bio)"),
    get("embed_many_to_many", "/posts?select=id,tags(label)"),
    get("embed_inner_filter", "/users?select=id,posts!inner(id)&posts.status=eq.published"),
    get("embed_filters_order_limit", "/users?select=id,author_posts:posts(id,title)&author_posts.order=id.desc&author_posts.limit=2&author_posts.score=gt.0"),
    get("embed_nested_fk_hint", "/posts?select=id,author:users!posts_author_id_fkey(name,profiles(bio))"),
    get("embed_spread", "/posts?select=id,...users(name)"),
    // Singular object and stripped nulls.
    Case { name: "read_singular", method: "GET", target: "/posts?id=eq.1", headers: &[("accept", "application/vnd.pgrst.object+json")], body: "" },
    Case { name: "read_stripped_nulls", method: "GET", target: "/posts?select=id,score", headers: &[("accept", "application/vnd.pgrst.array+json;nulls=stripped")], body: "" },
    // Inserts.
    Case { name: "insert_single", method: "POST", target: "/posts", headers: &[JSON], body: r#"{"id":1,"title":"a","status":"draft"}"# },
    Case { name: "insert_bulk", method: "POST", target: "/posts", headers: &[JSON], body: r#"[{"id":1,"title":"a","status":"d"},{"id":2,"title":"b","status":"d"}]"# },
    Case { name: "insert_columns", method: "POST", target: "/posts?columns=id,title", headers: &[JSON], body: r#"{"id":1,"title":"a","ignored":true}"# },
    Case { name: "insert_missing_default", method: "POST", target: "/posts?columns=id,title,status", headers: &[JSON, ("prefer", "missing=default")], body: r#"[{"id":1,"title":"a","status":"d"},{"id":2}]"# },
    Case { name: "insert_representation_embed", method: "POST", target: "/posts?select=id,users(name)", headers: &[JSON, ("prefer", "return=representation")], body: r#"{"id":1,"title":"a","status":"d","author_id":1}"# },
    Case { name: "insert_singular", method: "POST", target: "/posts", headers: &[JSON, ("prefer", "return=representation"), ("accept", "application/vnd.pgrst.object+json")], body: r#"{"id":1,"title":"a","status":"d"}"# },
    // Upserts.
    Case { name: "upsert_merge", method: "POST", target: "/counters", headers: &[JSON, ("prefer", "resolution=merge-duplicates")], body: r#"{"name":"a","value":1}"# },
    Case { name: "upsert_ignore_on_conflict", method: "POST", target: "/users?on_conflict=email", headers: &[JSON, ("prefer", "resolution=ignore-duplicates,return=representation")], body: r#"{"id":1,"name":"a","email":"a@b"}"# },
    Case { name: "put_by_key", method: "PUT", target: "/counters?name=eq.a", headers: &[JSON], body: r#"{"name":"a","value":2}"# },
    // Updates and deletes.
    Case { name: "update_minimal", method: "PATCH", target: "/posts?id=eq.1", headers: &[JSON, ("prefer", "return=minimal")], body: r#"{"title":"b"}"# },
    Case { name: "update_representation_count", method: "PATCH", target: "/posts?status=eq.draft&select=id,title", headers: &[JSON, ("prefer", "return=representation,count=exact")], body: r#"{"status":"published"}"# },
    Case { name: "update_order_limit", method: "PATCH", target: "/posts?status=eq.draft&order=id&limit=1", headers: &[JSON], body: r#"{"status":"x"}"# },
    Case { name: "delete_filtered", method: "DELETE", target: "/posts?id=in.(1,2)", headers: &[], body: "" },
    Case { name: "delete_representation", method: "DELETE", target: "/posts?id=eq.1", headers: &[("prefer", "return=representation")], body: "" },
    // RPC.
    get("rpc_get_scalar", "/rpc/add?a=1&b=2"),
    Case { name: "rpc_post_scalar", method: "POST", target: "/rpc/add", headers: &[JSON], body: r#"{"a":1,"b":2}"# },
    get("rpc_get_set_filtered", "/rpc/published_posts?select=id,title&score=gt.1&order=id&limit=3"),
    Case { name: "rpc_post_set_count", method: "POST", target: "/rpc/published_posts", headers: &[JSON, ("prefer", "count=exact")], body: "{}" },
    get("rpc_record_set", "/rpc/pairs?n=3"),
    Case { name: "rpc_void", method: "POST", target: "/rpc/touch", headers: &[JSON], body: "{}" },
    Case { name: "rpc_singular", method: "GET", target: "/rpc/published_posts?id=eq.1", headers: &[("accept", "application/vnd.pgrst.object+json")], body: "" },
    // Prefer: tx (the transaction end is decided outside the SQL; the statement is the same).
    Case { name: "prefer_tx_rollback", method: "PATCH", target: "/counters?name=eq.a", headers: &[JSON, ("prefer", "tx=rollback,return=representation")], body: r#"{"value":9}"# },
    Case { name: "options", method: "OPTIONS", target: "/posts", headers: &[], body: "" },
];
