//! Stage 2 (parse): HTTP request → `ApiRequest` (route, query grammar, headers, payload).
//!
//! Grammar and shape only: must not consult the schema cache or write SQL.

pub mod breadth;
pub mod preferences;
pub mod query;
pub mod query_error;
pub mod types;

mod payload;

use bytes::Bytes;

pub use payload::Payload;
pub use preferences::Preferences;
pub use query_error::QueryError;
pub use types::{QueryParams, RangeSpec};

/// What the request targets under `/rest/v1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Relation(String),
    Routine(String),
}

/// What the client asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Read { headers_only: bool },
    Insert,
    Update,
    Delete,
    /// PUT: single-row upsert by primary key.
    SingleUpsert,
    Call { read_only: bool, headers_only: bool },
    /// OPTIONS on a relation or function.
    Info,
}

/// The output media type the client accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    Json,
    /// `application/vnd.pgrst.object+json`: exactly one row, as an object.
    SingleObject,
    /// `application/vnd.pgrst.array+json;nulls=stripped`.
    JsonStripped,
}

/// The parsed request.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    pub action: Action,
    pub target: Target,
    /// The schema chosen by `Accept-Profile`/`Content-Profile` (or the default one).
    pub schema: String,
    /// Whether a profile header named the schema (then `Content-Profile` is echoed).
    pub schema_from_header: bool,
    pub query: QueryParams,
    pub preferences: Preferences,
    pub accept: MediaType,
    /// `Range` header (`items` unit), intersected with `limit`/`offset` by the planner.
    pub range_header: Option<RangeSpec>,
    pub payload: Option<Payload>,
    /// Method and path as received, for `request.method` / `request.path`.
    pub method: String,
    pub path: String,
}

/// Why the request could not be understood (before the schema is consulted).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("Invalid path specified in request URL")]
    InvalidPath,
    #[error("Cannot use the {0} method on RPC")]
    RpcMethod(String),
    #[error("Unsupported HTTP method: {0}")]
    UnsupportedMethod(String),
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error("{0}")]
    InvalidBody(String),
    #[error("request body of {size} bytes exceeds the limit of {limit} bytes")]
    BodyTooLarge { size: usize, limit: usize },
    #[error("request body has {rows} rows, more than the limit of {limit}")]
    TooManyRows { rows: usize, limit: usize },
    #[error("Requested range not satisfiable")]
    InvalidRange(String),
    #[error("None of these media types are available: {0}")]
    NotAcceptable(String),
    #[error("Content-Type not acceptable: {0}")]
    UnsupportedContentType(String),
    #[error("The schema must be one of the following: {0}")]
    UnacceptableSchema(String),
    #[error("Invalid preferences given with handling=strict")]
    InvalidPreferences(Vec<String>),
    /// PGRST100-class: the request is wider than the configured limits (V-19).
    #[error("The request has {count} {}, more than the limit of {limit}", .what.counted())]
    TooBroad { what: breadth::Breadth, count: usize, limit: usize },
}

/// Limits the parse stage enforces.
#[derive(Debug, Clone, Copy)]
pub struct ParseLimits {
    pub max_body_bytes: usize,
    pub max_bulk_rows: usize,
    /// Bytes of the raw query string.
    pub max_query_bytes: usize,
    /// Select items (columns, `*`, embeds) over all levels.
    pub max_select_nodes: usize,
    /// Embeds over all levels.
    pub max_embeds: usize,
}

/// Refuses `count` of `what` beyond `limit`.
fn within(what: breadth::Breadth, count: usize, limit: usize) -> Result<(), RequestError> {
    if count > limit {
        return Err(RequestError::TooBroad { what, count, limit });
    }
    Ok(())
}

/// Parses a request whose path is already relative to `/rest/v1` (e.g. `/items`, `/rpc/f`).
pub fn parse_request(
    request: &http::Request<Bytes>,
    rest_path: &str,
    schemas: &[String],
    limits: ParseLimits,
) -> Result<ApiRequest, RequestError> {
    let method = request.method().clone();
    let headers = request.headers();
    let target = route(rest_path)?;
    let action = action_for(&method, &target)?;
    // Only GET/HEAD calls take arguments from the query string (POST takes them from the body).
    let is_rpc = matches!(action, Action::Call { read_only: true, .. });
    let raw_query = request.uri().query().unwrap_or("");
    within(breadth::Breadth::QueryBytes, raw_query.len(), limits.max_query_bytes)?;
    let query = query::parse_query(raw_query, is_rpc)?;
    let select = breadth::count_select(query.select.as_deref().unwrap_or(&[]));
    within(breadth::Breadth::Embeds, select.embeds, limits.max_embeds)?;
    within(breadth::Breadth::SelectNodes, select.nodes, limits.max_select_nodes)?;
    let preferences = Preferences::from_headers(headers);
    if preferences.handling == Some(preferences::Handling::Strict) && !preferences.invalid.is_empty() {
        return Err(RequestError::InvalidPreferences(preferences.invalid.clone()));
    }
    let (schema, schema_from_header) = choose_schema(&method, headers, schemas)?;
    let accept = accept_media_type(headers)?;
    let range_header = range_header(headers)?;
    let body = request.body();
    if body.len() > limits.max_body_bytes {
        return Err(RequestError::BodyTooLarge { size: body.len(), limit: limits.max_body_bytes });
    }
    let payload = match action {
        Action::Insert | Action::Update | Action::SingleUpsert => Some(Payload::parse(headers, body, limits.max_bulk_rows, query.columns.is_some())?),
        Action::Call { read_only: false, .. } => Some(Payload::parse_args(headers, body)?),
        _ => None,
    };
    Ok(ApiRequest {
        action,
        target,
        schema,
        schema_from_header,
        query,
        preferences,
        accept,
        range_header,
        payload,
        method: method.as_str().to_string(),
        path: request.uri().path().to_string(),
    })
}

fn route(rest_path: &str) -> Result<Target, RequestError> {
    let segments: Vec<&str> = rest_path.trim_start_matches('/').split('/').collect();
    let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
    match segments.as_slice() {
        [name] if !name.is_empty() => Ok(Target::Relation(decode(name))),
        ["rpc", name] if !name.is_empty() => Ok(Target::Routine(decode(name))),
        _ => Err(RequestError::InvalidPath),
    }
}

fn action_for(method: &http::Method, target: &Target) -> Result<Action, RequestError> {
    let rpc = matches!(target, Target::Routine(_));
    Ok(match (method.as_str(), rpc) {
        ("GET", false) => Action::Read { headers_only: false },
        ("HEAD", false) => Action::Read { headers_only: true },
        ("POST", false) => Action::Insert,
        ("PATCH", false) => Action::Update,
        ("PUT", false) => Action::SingleUpsert,
        ("DELETE", false) => Action::Delete,
        ("OPTIONS", _) => Action::Info,
        ("GET", true) => Action::Call { read_only: true, headers_only: false },
        ("HEAD", true) => Action::Call { read_only: true, headers_only: true },
        ("POST", true) => Action::Call { read_only: false, headers_only: false },
        (m, true) => return Err(RequestError::RpcMethod(m.to_string())),
        (m, false) => return Err(RequestError::UnsupportedMethod(m.to_string())),
    })
}

fn choose_schema(method: &http::Method, headers: &http::HeaderMap, schemas: &[String]) -> Result<(String, bool), RequestError> {
    let header = if matches!(*method, http::Method::GET | http::Method::HEAD) { "accept-profile" } else { "content-profile" };
    let default = schemas.first().cloned().unwrap_or_else(|| "public".to_string());
    match headers.get(header).and_then(|v| v.to_str().ok()) {
        None => Ok((default, false)),
        Some(wanted) if schemas.iter().any(|s| s == wanted) => Ok((wanted.to_string(), true)),
        Some(_) => Err(RequestError::UnacceptableSchema(schemas.join(", "))),
    }
}

fn accept_media_type(headers: &http::HeaderMap) -> Result<MediaType, RequestError> {
    let Some(accept) = headers.get(http::header::ACCEPT) else { return Ok(MediaType::Json) };
    let text = accept.to_str().map_err(|_| RequestError::NotAcceptable("<non-ASCII>".to_string()))?;
    if text.trim().is_empty() {
        return Ok(MediaType::Json);
    }
    for item in text.split(',') {
        let mut parts = item.split(';').map(str::trim);
        let essence = parts.next().unwrap_or("").to_ascii_lowercase();
        let stripped = parts.any(|p| p.eq_ignore_ascii_case("nulls=stripped"));
        let found = match essence.as_str() {
            "application/json" | "application/*" | "*/*" => Some(MediaType::Json),
            "application/vnd.pgrst.object+json" | "application/vnd.pgrst.object" => Some(MediaType::SingleObject),
            "application/vnd.pgrst.array+json" | "application/vnd.pgrst.array" if stripped => Some(MediaType::JsonStripped),
            "application/vnd.pgrst.array+json" | "application/vnd.pgrst.array" => Some(MediaType::Json),
            _ => None,
        };
        if let Some(media) = found {
            return Ok(media);
        }
    }
    Err(RequestError::NotAcceptable(text.to_string()))
}

/// `Range: 0-9` (with `Range-Unit: items` or none) → offset 0, limit 10.
fn range_header(headers: &http::HeaderMap) -> Result<Option<RangeSpec>, RequestError> {
    let Some(value) = headers.get(http::header::RANGE).and_then(|v| v.to_str().ok()) else { return Ok(None) };
    let spec = value.trim().strip_prefix("items=").unwrap_or(value.trim());
    let Some((from, to)) = spec.split_once('-') else { return Ok(None) };
    let Ok(offset) = from.trim().parse::<i64>() else { return Ok(None) };
    let to = to.trim();
    if to.is_empty() {
        return Ok(Some(RangeSpec { offset, limit: None }));
    }
    let Ok(last) = to.parse::<i64>() else { return Ok(None) };
    if last < offset {
        return Err(RequestError::InvalidRange("The lower boundary must be lower than or equal to the upper boundary in the Range header.".to_string()));
    }
    // `0-9223372036854775807` names more rows than an int8 can count: that is no limit at all.
    let limit = last.checked_sub(offset).and_then(|span| span.checked_add(1));
    Ok(Some(RangeSpec { offset, limit }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: &str, uri: &str, headers: &[(&str, &str)]) -> http::Request<Bytes> {
        let mut b = http::Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(Bytes::new()).unwrap()
    }

    const LIMITS: ParseLimits =
        ParseLimits { max_body_bytes: 1024, max_bulk_rows: 10, max_query_bytes: 200, max_select_nodes: 6, max_embeds: 2 };

    #[test]
    fn routes_relations_and_functions() {
        assert_eq!(route("/items"), Ok(Target::Relation("items".into())));
        assert_eq!(route("/rpc/f"), Ok(Target::Routine("f".into())));
        assert_eq!(route("/first/second/third"), Err(RequestError::InvalidPath));
        assert_eq!(route("/"), Err(RequestError::InvalidPath));
    }

    #[test]
    fn rpc_refuses_delete() {
        let r = req("DELETE", "/rest/v1/rpc/f", &[]);
        let err = parse_request(&r, "/rpc/f", &["public".into()], LIMITS).unwrap_err();
        assert_eq!(err.to_string(), "Cannot use the DELETE method on RPC");
    }

    #[test]
    fn accept_negotiation() {
        let r = req("GET", "/rest/v1/t", &[("accept", "text/unknowntype")]);
        let err = parse_request(&r, "/t", &["public".into()], LIMITS).unwrap_err();
        assert_eq!(err.to_string(), "None of these media types are available: text/unknowntype");
        let r = req("GET", "/rest/v1/t", &[("accept", "application/vnd.pgrst.object")]);
        assert_eq!(parse_request(&r, "/t", &["public".into()], LIMITS).unwrap().accept, MediaType::SingleObject);
    }

    #[test]
    fn range_header_becomes_offset_and_limit() {
        let r = req("GET", "/rest/v1/t", &[("range", "2-4")]);
        let parsed = parse_request(&r, "/t", &["public".into()], LIMITS).unwrap();
        assert_eq!(parsed.range_header, Some(RangeSpec { offset: 2, limit: Some(3) }));
    }

    #[test]
    fn breadth_beyond_the_limits_is_refused_before_planning() {
        let parse = |uri: &str| parse_request(&req("GET", uri, &[]), "/t", &["public".into()], LIMITS);
        assert!(parse("/rest/v1/t?select=a,b:u(c),d:u(e)").is_ok());
        let long = format!("/rest/v1/t?select={}", "x".repeat(194));
        assert_eq!(parse(&long).unwrap_err(), RequestError::TooBroad { what: breadth::Breadth::QueryBytes, count: 201, limit: 200 });
        assert!(parse(&format!("/rest/v1/t?select={}", "x".repeat(193))).is_ok());
        let err = parse("/rest/v1/t?select=a,b,c,d,e,f,g").unwrap_err();
        assert_eq!(err, RequestError::TooBroad { what: breadth::Breadth::SelectNodes, count: 7, limit: 6 });
        assert_eq!(err.to_string(), "The request has 7 items in the select tree, more than the limit of 6");
        let err = parse("/rest/v1/t?select=a:u(b:u(c:u(d,e,f,g)))").unwrap_err();
        assert_eq!(err, RequestError::TooBroad { what: breadth::Breadth::Embeds, count: 3, limit: 2 });
        assert_eq!(err.to_string(), "The request has 3 embedded resources, more than the limit of 2");
    }

    #[test]
    fn range_header_at_the_int8_edges_does_not_overflow() {
        let parsed = |range: &str| parse_request(&req("GET", "/rest/v1/t", &[("range", range)]), "/t", &["public".into()], LIMITS);
        assert_eq!(parsed("0-9223372036854775807").unwrap().range_header, Some(RangeSpec { offset: 0, limit: None }));
        let last = RangeSpec { offset: 9223372036854775807, limit: Some(1) };
        assert_eq!(parsed("9223372036854775807-9223372036854775807").unwrap().range_header, Some(last));
        assert_eq!(parsed("1-9223372036854775807").unwrap().range_header, Some(RangeSpec { offset: 1, limit: Some(9223372036854775807) }));
        // Beyond int8: not a range we understand, so ignored (as an unparsable Range is).
        assert_eq!(parsed("0-9223372036854775808").unwrap().range_header, None);
    }

    #[test]
    fn profile_must_be_exposed() {
        let r = req("GET", "/rest/v1/t", &[("accept-profile", "secret")]);
        let err = parse_request(&r, "/t", &["public".into(), "v2".into()], LIMITS).unwrap_err();
        assert_eq!(err, RequestError::UnacceptableSchema("public, v2".into()));
    }
}
