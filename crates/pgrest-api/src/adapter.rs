//! Translates between lambda_http's API Gateway requests and the App's plain `http` types: the
//! path without stage or base-path prefix, the query string, headers, body, and the identity our
//! REQUEST authorizer left in the request context.
//!
//! Must not verify tokens, read configuration or the environment, or attach an authorizer
//! identity unless the caller allows it and the event really carries one; never panics.

use std::collections::HashMap;
use std::fmt;

use bytes::Bytes;
use lambda_http::request::{LambdaRequest, RequestContext};
use lambda_http::{Body, Request, RequestExt};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use pgrest_core::AuthorizerIdentity;
use serde_json::Value;

/// Escaped when the path is rebuilt. `%` is kept: API Gateway hands paths over still encoded.
const PATH_ESCAPES: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'|');

/// Escaped in query keys and values, which REST (v1) events hand over already decoded.
/// PostgREST's own punctuation (`,.():*!'-_~`) stays readable.
const QUERY_ESCAPES: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'&')
    .add(b'+')
    .add(b'=')
    .add(b'<')
    .add(b'>')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// An event the adapter cannot turn into a request for the App.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdapterError {
    /// The rebuilt path and query do not form a valid request target.
    InvalidTarget(String),
}

impl fmt::Display for AdapterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AdapterError::InvalidTarget(target) => write!(f, "request target {target:?} is not a valid URI"),
        }
    }
}

impl std::error::Error for AdapterError {}

/// Makes a REST (payload 1.0) event's `multiValueHeaders` the only source of the headers it
/// names, before lambda_http turns the event into a request.
///
/// API Gateway puts every value of a repeated header in `multiValueHeaders` and only the last
/// one in `headers`; lambda_http merges the two with `HeaderMap::extend`, which lets the single
/// value replace the list, so two `Prefer` lines would reach the App as one. Names only in
/// `headers` (hand-written events) are kept.
pub fn keep_multi_value_headers(event: &mut LambdaRequest) {
    if let LambdaRequest::ApiGatewayV1(event) = event {
        let repeated: Vec<http::HeaderName> = event.multi_value_headers.keys().cloned().collect();
        for name in repeated {
            event.headers.remove(&name);
        }
    }
}

/// lambda_http request → the App's request: method, headers and body unchanged, the URI reduced
/// to `path?query` as the client addressed the API (no stage), and `AuthorizerIdentity` in the
/// extensions when `trust_authorizer` is set and the event carries our authorizer's context.
pub fn to_app_request(request: Request, trust_authorizer: bool) -> Result<http::Request<Bytes>, AdapterError> {
    let target = match app_query(&request) {
        Some(query) => format!("{}?{query}", app_path(&request)),
        None => app_path(&request),
    };
    let uri: http::Uri = target
        .parse()
        .map_err(|_| AdapterError::InvalidTarget(target.clone()))?;
    let identity = if trust_authorizer {
        authorizer_identity(&request)
    } else {
        None
    };
    let client = client_addr(&request);
    let request_id = lambda_request_id(&request);
    let (parts, body) = request.into_parts();
    let mut out = http::Request::new(body_bytes(body));
    *out.method_mut() = parts.method;
    *out.uri_mut() = uri;
    *out.version_mut() = parts.version;
    *out.headers_mut() = parts.headers;
    if let Some(identity) = identity {
        out.extensions_mut().insert(identity);
    }
    if let Some(client) = client {
        out.extensions_mut().insert(client);
    }
    if let Some(id) = request_id {
        out.extensions_mut().insert(id);
    }
    Ok(out)
}

/// The id every log line of this invocation carries: Lambda's request id, else API Gateway's.
fn lambda_request_id(request: &Request) -> Option<pgrest_core::RequestId> {
    let lambda = request.lambda_context_ref().map(|c| c.request_id.clone()).filter(|id| !id.is_empty());
    let gateway = || match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(ctx)) => ctx.request_id.clone(),
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.request_id.clone(),
        _ => None,
    };
    lambda.or_else(gateway).map(pgrest_core::RequestId)
}

/// The caller's address as API Gateway saw it (`identity.sourceIp` / `http.sourceIp`). Rate limits
/// key on it: the first `X-Forwarded-For` entry is whatever the client sent (API Gateway appends).
fn client_addr(request: &Request) -> Option<pgrest_core::ClientAddr> {
    let ip = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(ctx)) => ctx.identity.source_ip.as_deref(),
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.http.source_ip.as_deref(),
        _ => None,
    }?;
    ip.parse().ok().map(pgrest_core::ClientAddr)
}

/// The path the App routes on, e.g. `/rest/v1/posts`.
///
/// lambda_http prefixes the URI path with the stage (`/Prod/rest/v1/posts`), so this starts from
/// the event's own path instead (`RequestExt::raw_http_path`): REST `path`, which never contains
/// the stage, or HTTP API `rawPath`, which does for named stages and loses it here. A custom
/// domain's base-path mapping (`/api/rest/v1/posts`) is dropped by lining the path up with the
/// literal start of the matched route (`/rest/v1/{proxy+}` → `/rest/v1`).
pub fn app_path(request: &Request) -> String {
    let raw = match request.raw_http_path() {
        "" => "/",
        raw => raw,
    };
    let (stage, route) = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(ctx)) => (None, ctx.resource_path.as_deref()),
        Some(RequestContext::ApiGatewayV2(ctx)) => {
            let route = ctx
                .route_key
                .as_deref()
                .and_then(|key| key.split_once(' '))
                .map(|(_, path)| path);
            (ctx.stage.as_deref().filter(|s| *s != "$default"), route)
        }
        _ => (None, None),
    };
    let path = stage.map_or(raw, |stage| strip_stage(raw, stage));
    let path = route.map_or(path, |route| strip_base_path(path, route));
    utf8_percent_encode(path, PATH_ESCAPES).to_string()
}

/// The query string the App parses, without `?`; `None` when there is none.
///
/// HTTP API events carry the raw query string, passed on untouched. REST events only carry the
/// decoded parameter map, so it is re-encoded, keys sorted (the original order is not in the
/// event; the values of one key keep theirs).
pub fn app_query(request: &Request) -> Option<String> {
    if let Some(RequestContext::ApiGatewayV1(_)) = request.request_context_ref() {
        let params = request.query_string_parameters_ref()?;
        let mut pairs: Vec<(&str, &str)> = params.iter().collect();
        pairs.sort_by(|a, b| a.0.cmp(b.0));
        let encoded: Vec<String> = pairs
            .into_iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    utf8_percent_encode(k, QUERY_ESCAPES),
                    utf8_percent_encode(v, QUERY_ESCAPES)
                )
            })
            .collect();
        return Some(encoded.join("&")).filter(|q| !q.is_empty());
    }
    request.uri().query().filter(|q| !q.is_empty()).map(str::to_string)
}

/// The identity our REQUEST authorizer put in the request context (REST: the
/// `requestContext.authorizer` fields; HTTP API: `requestContext.authorizer.lambda`).
pub fn authorizer_identity(request: &Request) -> Option<AuthorizerIdentity> {
    let authorizer = request.request_context_ref()?.authorizer()?;
    identity_from_context(&authorizer.fields)
}

/// Reads `role` and `claims` (a JSON object, sent as a compact JSON string). A context without a
/// `role` is not ours and yields `None` quietly; a `role` with unreadable or contradicting claims
/// yields `None` with a warning, and the App then verifies the request's tokens itself.
pub fn identity_from_context(fields: &HashMap<String, Value>) -> Option<AuthorizerIdentity> {
    let role = fields.get("role")?.as_str().filter(|r| !r.is_empty())?;
    let claims = match fields.get("claims") {
        Some(Value::String(text)) => serde_json::from_str::<Value>(text).ok(),
        Some(object @ Value::Object(_)) => Some(object.clone()),
        _ => None,
    };
    let Some(claims) = claims.filter(Value::is_object) else {
        tracing::warn!(
            role,
            "authorizer context has a role but no readable claims; ignoring it"
        );
        return None;
    };
    if claims
        .get("role")
        .and_then(Value::as_str)
        .is_some_and(|claimed| claimed != role)
    {
        tracing::warn!(role, "authorizer context role contradicts its claims; ignoring it");
        return None;
    }
    Some(AuthorizerIdentity {
        role: role.to_string(),
        claims,
    })
}

/// The App's response → lambda_http's: text bodies stay text, anything else goes out as binary
/// (base64 in the event response).
pub fn to_lambda_response(response: http::Response<Bytes>) -> lambda_http::Response<Body> {
    let (parts, bytes) = response.into_parts();
    let body = if bytes.is_empty() {
        Body::Empty
    } else {
        match String::from_utf8(Vec::from(bytes)) {
            Ok(text) => Body::Text(text),
            Err(not_utf8) => Body::Binary(not_utf8.into_bytes()),
        }
    };
    lambda_http::Response::from_parts(parts, body)
}

/// A JSON error response for events that never reach the App.
pub fn error_response(status: http::StatusCode, message: &str) -> lambda_http::Response<Body> {
    let body = serde_json::json!({ "code": "PGRST000", "message": message, "details": null, "hint": null });
    let mut response = lambda_http::Response::new(Body::Text(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

fn body_bytes(body: Body) -> Bytes {
    match body {
        Body::Empty => Bytes::new(),
        Body::Text(text) => Bytes::from(text),
        Body::Binary(bytes) => Bytes::from(bytes),
        other => Bytes::copy_from_slice(other.as_ref()),
    }
}

/// `/prod/rest/v1/x` with stage `prod` → `/rest/v1/x`; anything else unchanged.
fn strip_stage<'a>(path: &'a str, stage: &str) -> &'a str {
    match path.strip_prefix('/').and_then(|p| p.strip_prefix(stage)) {
        Some("") => "/",
        Some(rest) if rest.starts_with('/') => rest,
        _ => path,
    }
}

/// Drops leading segments until the path starts with the route's literal segments.
fn strip_base_path<'a>(path: &'a str, route: &str) -> &'a str {
    let literal: Vec<&str> = route
        .split('/')
        .filter(|s| !s.is_empty())
        .take_while(|s| !s.contains('{'))
        .collect();
    if literal.is_empty() {
        return path;
    }
    let mut rest = path;
    loop {
        let mut segments = rest.split('/').skip(1);
        if rest.starts_with('/') && literal.iter().all(|l| segments.next() == Some(*l)) {
            return rest;
        }
        match rest.get(1..).and_then(|r| r.find('/')).and_then(|i| rest.get(i + 1..)) {
            Some(next) => rest = next,
            None => return path,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_named_stage_only_as_a_whole_segment() {
        assert_eq!(strip_stage("/prod/rest/v1/posts", "prod"), "/rest/v1/posts");
        assert_eq!(strip_stage("/prod", "prod"), "/");
        assert_eq!(strip_stage("/production/rest", "prod"), "/production/rest");
        assert_eq!(strip_stage("/rest/v1", "prod"), "/rest/v1");
    }

    #[test]
    fn strips_base_path_mappings() {
        let route = "/rest/v1/{proxy+}";
        assert_eq!(strip_base_path("/rest/v1/posts", route), "/rest/v1/posts");
        assert_eq!(strip_base_path("/api/rest/v1/posts", route), "/rest/v1/posts");
        assert_eq!(strip_base_path("/a/b/rest/v1/posts/", route), "/rest/v1/posts/");
        assert_eq!(strip_base_path("/rest/v1/rest/v1/x", route), "/rest/v1/rest/v1/x");
        assert_eq!(strip_base_path("/other/posts", route), "/other/posts");
        assert_eq!(strip_base_path("/anything", "/{proxy+}"), "/anything");
        assert_eq!(strip_base_path("", route), "");
    }

    #[test]
    fn identity_needs_role_and_consistent_claims() {
        let fields = |pairs: &[(&str, Value)]| -> HashMap<String, Value> {
            pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
        };
        let claims = r#"{"role":"authenticated","sub":"u1"}"#;
        let ok = identity_from_context(&fields(&[("role", "authenticated".into()), ("claims", claims.into())]));
        assert_eq!(ok.map(|i| i.claims["sub"].clone()), Some(Value::from("u1")));
        assert!(identity_from_context(&fields(&[("principalId", "x".into())])).is_none());
        assert!(identity_from_context(&fields(&[("role", "authenticated".into())])).is_none());
        assert!(identity_from_context(&fields(&[("role", "authenticated".into()), ("claims", "{".into())])).is_none());
        assert!(
            identity_from_context(&fields(&[("role", "authenticated".into()), ("claims", "[1]".into())])).is_none()
        );
        assert!(
            identity_from_context(&fields(&[("role", "service_role".into()), ("claims", claims.into())])).is_none()
        );
        assert!(identity_from_context(&fields(&[("role", "".into()), ("claims", claims.into())])).is_none());
    }
}
