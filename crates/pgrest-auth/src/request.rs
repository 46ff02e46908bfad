//! One auth request as handlers see it: method, path, query, headers, body, client address, and
//! helpers to read JSON bodies (400 bad_json) and the bearer token.
//!
//! Must not do I/O.

use std::collections::HashMap;

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::AuthError;

#[derive(Debug)]
pub struct Req {
    pub method: http::Method,
    pub path: String,
    pub query: HashMap<String, String>,
    pub headers: http::HeaderMap,
    pub body: Bytes,
    /// Client address for rate limits: the runner's `ClientAddr`, else the first `X-Forwarded-For` hop.
    pub ip: String,
}

impl Req {
    pub fn new(request: http::Request<Bytes>, path: &str) -> Req {
        let query = request
            .uri()
            .query()
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        let ip = match request.extensions().get::<pgrest_core::ClientAddr>() {
            Some(addr) => addr.0.to_string(),
            None => request
                .headers()
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .map(|v| v.trim().to_string())
                .unwrap_or_else(|| "unknown".to_string()),
        };
        let (parts, body) = request.into_parts();
        Req { method: parts.method, path: path.to_string(), query, headers: parts.headers, body, ip }
    }

    /// The JSON body (an empty body reads as `{}`).
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, AuthError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return serde_json::from_value(Value::Object(serde_json::Map::new())).map_err(AuthError::bad_json);
        }
        serde_json::from_slice(&self.body).map_err(AuthError::bad_json)
    }

    pub fn bearer(&self) -> Option<&str> {
        let value = self.headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
        let (scheme, token) = value.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
    }

    pub fn user_agent(&self) -> Option<&str> {
        self.headers.get(http::header::USER_AGENT).and_then(|v| v.to_str().ok())
    }

    pub fn query(&self, key: &str) -> Option<&str> {
        self.query.get(key).map(String::as_str)
    }
}

/// A JSON response.
pub fn json_response(status: u16, body: &Value) -> http::Response<Bytes> {
    let mut response = http::Response::new(Bytes::from(body.to_string()));
    *response.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::OK);
    response.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    response
}

/// A redirect (303 See Other, as GoTrue answers GET /verify and OAuth callbacks).
pub fn redirect(location: &str) -> http::Response<Bytes> {
    let mut response = http::Response::new(Bytes::new());
    *response.status_mut() = http::StatusCode::SEE_OTHER;
    if let Ok(v) = http::HeaderValue::from_str(location) {
        response.headers_mut().insert(http::header::LOCATION, v);
    }
    response
}

/// 204 No Content.
pub fn no_content() -> http::Response<Bytes> {
    let mut response = http::Response::new(Bytes::new());
    *response.status_mut() = http::StatusCode::NO_CONTENT;
    response
}

/// `access_token=...&expires_at=...&...` from a session object, for redirect fragments
/// (`extra` appends e.g. `type=signup`).
pub fn session_fragment(session: &serde_json::Value, extra: Option<(&str, &str)>) -> String {
    let mut f = form_urlencoded::Serializer::new(String::new());
    for key in ["access_token", "expires_at", "expires_in", "refresh_token", "token_type"] {
        let value = match session.get(key) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => continue,
        };
        f.append_pair(key, &value);
    }
    if let Some((k, v)) = extra {
        f.append_pair(k, v);
    }
    f.finish()
}
