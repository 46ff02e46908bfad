//! Request generators for the property tests: query strings, the headers the parse stage reads
//! (`Range`, `Prefer`, `Accept`, `Content-Type`, `Accept-Profile`/`Content-Profile`) and bodies,
//! each built from the grammar's own tokens mixed with arbitrary characters and bytes, so cases
//! reach deep into the parser instead of failing on the first character.
//!
//! Generation only: must not assert anything.

use proptest::prelude::*;

const QUERY_TOKENS: &[&str] = &[
    "select=", "select=*", "columns=", "on_conflict=", "order=", "limit=", "offset=", "or=(", "and=(", "not.", "not.or=(",
    "id", "name", "email", "title", "status", "posts", "users", "tags", "profiles", "post_tags", "author_id", "meta", "score",
    "(", ")", ",", ".", ":", "::", "::text", "::int[]", "::nosuch", "->", "->>", "->0", "->-1", "!inner", "!left",
    "!posts_author_id_fkey", "...", "*", "eq.", "neq.", "gt.", "lte.", "in.(", "is.null", "is.true", "is.unknown",
    "like.", "ilike.", "match.", "fts.", "plfts(english).", "wfts.", "cs.{", "cd.", "ov.[", "}", "[", "]", "\"", "'",
    "=", "&", ";", "%", "%2C", "%28", "%ZZ", "%E2%82", "+", " ", "\\", "0", "1", "-1", "2147483648",
    "9223372036854775807", "-9223372036854775808", "99999999999999999999", ".desc", ".asc", ".nullsfirst",
    ".nullslast", "count()", ".sum()", "posts.limit=", "posts.offset=", "posts.order=", "users.id=", "a:", "é", "\u{0}",
    "\n", "\t", "a=1", "b=x",
];

const RANGE_TOKENS: &[&str] =
    &["items=", "bytes=", "0", "1", "9", "-", "9223372036854775807", "9223372036854775808", "-1", " ", "abc", ",", "+1"];

const PREFER_TOKENS: &[&str] = &[
    "return=representation", "return=minimal", "return=headers-only", "count=exact", "count=planned", "count=estimated",
    "resolution=merge-duplicates", "resolution=ignore-duplicates", "missing=default", "tx=commit", "tx=rollback",
    "handling=strict", "handling=lenient", "max-affected=", "9223372036854775807", "-1", "timezone=UTC",
    "params=single-object", "foo=bar", ",", ";", "=", " ",
];

const ACCEPT_TOKENS: &[&str] = &[
    "application/json", "application/vnd.pgrst.object+json", "application/vnd.pgrst.object", "application/vnd.pgrst.array+json",
    ";nulls=stripped", "text/csv", "*/*", "application/*", ",", ";", "q=0.5", "text/unknowntype", " ", "application/openapi+json",
];

const CONTENT_TYPE_TOKENS: &[&str] = &[
    "application/json", "application/x-www-form-urlencoded", "text/csv", "text/plain", "application/octet-stream",
    "; charset=utf-8", ";", ",", " ", "multipart/form-data", "application/vnd.pgrst.object+json",
];

const PROFILES: &[&str] = &["public", "api", "", "PUBLIC", "public,api", "pg_catalog"];

const PATHS: &[&str] = &[
    "/users", "/posts", "/profiles", "/tags", "/post_tags", "/counters", "/nope", "/rpc/add", "/rpc/published_posts",
    "/rpc/touch", "/rpc/whoami", "/rpc/pairs", "/rpc/nope", "/", "/rpc", "/rpc/", "/a/b", "/users/1", "/%75sers", "/users%00",
];

const METHODS: &[&str] = &["GET", "GET", "GET", "HEAD", "POST", "POST", "PATCH", "PUT", "DELETE", "OPTIONS", "TRACE"];

/// Mostly grammar tokens, some arbitrary characters.
fn tokens(alphabet: &'static [&'static str], max: usize) -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        8 => prop::sample::select(alphabet).prop_map(str::to_string),
        1 => any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..max).prop_map(|pieces| pieces.concat())
}

pub fn query() -> impl Strategy<Value = String> {
    prop_oneof![5 => structured_query(), 4 => tokens(QUERY_TOKENS, 40), 1 => any::<String>()]
}

const COLUMNS: &[&str] = &["id", "name", "email", "title", "status", "author_id", "meta", "score", "label", "bio", "user_id", "nope"];
const RELATIONS: &[&str] = &["users", "posts", "profiles", "tags", "post_tags", "counters", "nope"];
const OPERATORS: &[&str] = &[
    "eq", "neq", "gt", "gte", "lt", "lte", "like", "ilike", "match", "imatch", "in", "is", "isdistinct", "fts", "plfts",
    "phfts", "wfts", "cs", "cd", "ov", "sl", "sr", "nxr", "nxl", "adj", "not.eq", "eq(any)", "like(all)", "nope",
];
const VALUES: &[&str] = &["1", "0", "-1", "abc", "(1,2)", "null", "true", "{1,2}", "[1,10)", "a*b", "9223372036854775807", "", "\"x,y\""];

fn select_list() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        prop::sample::select(COLUMNS).prop_map(str::to_string),
        Just("*".to_string()),
        prop::sample::select(COLUMNS).prop_map(|c| format!("x:{c}::text")),
        Just("meta->>lang".to_string()),
        Just("meta->tags->0".to_string()),
    ];
    leaf.prop_recursive(4, 32, 5, |inner| {
        (
            prop::sample::select(RELATIONS),
            prop::sample::select(&["", "!inner", "!left", "!posts_author_id_fkey", "!nope"][..]),
            prop::sample::select(&["", "a:", "..."][..]),
            prop::collection::vec(inner, 0..5),
        )
            .prop_map(|(relation, hint, prefix, children)| format!("{prefix}{relation}{hint}({})", children.join(",")))
    })
}

/// Well-formed parameters (a select tree, filters, logic, order, ranges), joined with `&`: these
/// reach the planner, where grammar soup stops at the parser.
fn structured_query() -> impl Strategy<Value = String> {
    let numbers = prop::sample::select(&["0", "1", "5", "-1", "9223372036854775807", "99999999999999999999", "x"][..]);
    let path = prop::sample::select(&["", "posts.", "users.", "a."][..]);
    let param = prop_oneof![
        3 => prop::collection::vec(select_list(), 1..4).prop_map(|items| format!("select={}", items.join(","))),
        3 => (path.clone(), prop::sample::select(COLUMNS), prop::sample::select(OPERATORS), prop::sample::select(VALUES))
            .prop_map(|(p, c, o, v)| format!("{p}{c}={o}.{v}")),
        1 => (prop::sample::select(&["or", "and", "not.or", "posts.or"][..]), prop::collection::vec((prop::sample::select(COLUMNS), prop::sample::select(OPERATORS), prop::sample::select(VALUES)), 1..4))
            .prop_map(|(k, terms)| format!("{k}=({})", terms.iter().map(|(c, o, v)| format!("{c}.{o}.{v}")).collect::<Vec<_>>().join(","))),
        1 => (path.clone(), prop::sample::select(COLUMNS), prop::sample::select(&["", ".asc", ".desc", ".desc.nullslast", ".nullsfirst"][..]))
            .prop_map(|(p, c, d)| format!("{p}order={c}{d}")),
        1 => (path.clone(), prop::sample::select(&["limit", "offset"][..]), numbers).prop_map(|(p, k, n)| format!("{p}{k}={n}")),
        1 => prop::collection::vec(prop::sample::select(COLUMNS), 1..4).prop_map(|c| format!("columns={}", c.join(","))),
        1 => prop::collection::vec(prop::sample::select(COLUMNS), 1..3).prop_map(|c| format!("on_conflict={}", c.join(","))),
        1 => (prop::sample::select(&["a", "b", "n", "x"][..]), prop::sample::select(VALUES)).prop_map(|(k, v)| format!("{k}={v}")),
    ];
    prop::collection::vec(param, 0..6).prop_map(|params| params.join("&"))
}

/// A header value: tokens, arbitrary text, or raw bytes (obs-text and all, as a client may send).
fn header(alphabet: &'static [&'static str]) -> impl Strategy<Value = Option<Vec<u8>>> {
    prop_oneof![
        3 => Just(None),
        6 => tokens(alphabet, 8).prop_map(|s| Some(s.into_bytes())),
        1 => prop::collection::vec(any::<u8>(), 0..24).prop_map(Some),
    ]
}

/// The headers the parse stage reads, as (name, raw value) pairs.
pub fn headers() -> impl Strategy<Value = Vec<(&'static str, Vec<u8>)>> {
    let profiles = || {
        prop_oneof![6 => Just(None), 3 => prop::sample::select(PROFILES).prop_map(|p| Some(p.as_bytes().to_vec())), 1 => header(PROFILES)]
    };
    (
        header(RANGE_TOKENS),
        header(PREFER_TOKENS),
        header(PREFER_TOKENS),
        header(ACCEPT_TOKENS),
        header(CONTENT_TYPE_TOKENS),
        profiles(),
        profiles(),
    )
        .prop_map(|(range, prefer, prefer2, accept, content_type, accept_profile, content_profile)| {
            let named = [
                ("range", range),
                ("prefer", prefer),
                ("prefer", prefer2),
                ("accept", accept),
                ("content-type", content_type),
                ("accept-profile", accept_profile),
                ("content-profile", content_profile),
            ];
            named.into_iter().filter_map(|(name, value)| value.map(|v| (name, v))).collect()
        })
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let key = prop_oneof![
        4 => prop::sample::select(&["id", "name", "email", "title", "author_id", "status", "meta", "score", "a", "b", "n", "label"][..]).prop_map(str::to_string),
        1 => any::<String>(),
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        tokens(QUERY_TOKENS, 4).prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..6).prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

/// A body: JSON (valid), bytes that may or may not parse, or a form/CSV-looking text.
pub fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        2 => Just(Vec::new()),
        5 => json_value().prop_map(|v| v.to_string().into_bytes()),
        2 => prop::collection::vec(any::<u8>(), 0..64),
        1 => tokens(QUERY_TOKENS, 12).prop_map(String::into_bytes),
    ]
}

pub fn method() -> impl Strategy<Value = &'static str> {
    prop::sample::select(METHODS)
}

pub fn path() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(RELATIONS).prop_map(|r| format!("/{r}")),
        3 => prop::sample::select(&["add", "published_posts", "touch", "whoami", "pairs"][..]).prop_map(|f| format!("/rpc/{f}")),
        2 => prop::sample::select(PATHS).prop_map(str::to_string),
        1 => tokens(QUERY_TOKENS, 4).prop_map(|s| format!("/{s}")),
    ]
}
