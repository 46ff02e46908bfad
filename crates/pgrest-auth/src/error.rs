//! GoTrue's error table: every auth failure → status, `error_code` and message, rendered in the
//! 2024-01-01 API format (`{"code":"<error_code>","message":...}`, when the request sends
//! `X-Supabase-Api-Version: 2024-01-01`) or the legacy one (`{"code":<status>,"error_code":...,"msg":...}`).
//!
//! Must not leak internals: unexpected failures answer 500 `unexpected_failure` with an error id.

use bytes::Bytes;
use http::{header, HeaderValue, StatusCode};
use serde_json::{json, Value};

pub const API_VERSION_HEADER: &str = "x-supabase-api-version";
pub const API_VERSION_2024: &str = "2024-01-01";
/// GoTrue names the error code in this header too, so clients and logs need not parse the body.
pub const ERROR_CODE_HEADER: &str = "x-sb-error-code";

/// An auth failure as the client sees it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error_code}: {message}")]
pub struct AuthError {
    pub status: u16,
    pub error_code: &'static str,
    pub message: String,
    /// `weak_password.reasons` for weak_password errors.
    pub weak_reasons: Vec<&'static str>,
    /// OAuth-style body `{error, error_description}` instead (token endpoint grant errors).
    pub oauth_style: bool,
    /// Seconds for `Retry-After` on 429.
    pub retry_after: Option<u64>,
}

impl AuthError {
    pub fn new(status: u16, error_code: &'static str, message: impl Into<String>) -> Self {
        AuthError { status, error_code, message: message.into(), weak_reasons: Vec::new(), oauth_style: false, retry_after: None }
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(400, "validation_failed", message)
    }

    pub fn bad_json(detail: impl std::fmt::Display) -> Self {
        Self::new(400, "bad_json", format!("Could not parse request body as JSON: {detail}"))
    }

    pub fn invalid_credentials() -> Self {
        Self::new(400, "invalid_credentials", "Invalid login credentials")
    }

    pub fn no_authorization() -> Self {
        Self::new(401, "no_authorization", "This endpoint requires a valid Bearer token")
    }

    pub fn bad_jwt(detail: impl std::fmt::Display) -> Self {
        Self::new(403, "bad_jwt", format!("invalid JWT: unable to parse or verify signature, {detail}"))
    }

    pub fn session_not_found() -> Self {
        Self::new(403, "session_not_found", "Session from session_id claim in JWT does not exist")
    }

    pub fn user_not_found_from_jwt() -> Self {
        Self::new(403, "user_not_found", "User from sub claim in JWT does not exist")
    }

    pub fn rate_limited(retry_after: std::time::Duration) -> Self {
        AuthError { retry_after: Some(retry_after.as_secs().max(1)), ..Self::new(429, "over_request_rate_limit", "Request rate limit reached") }
    }

    pub fn email_rate_limited(retry_after: std::time::Duration) -> Self {
        AuthError { retry_after: Some(retry_after.as_secs().max(1)), ..Self::new(429, "over_email_send_rate_limit", "Email rate limit exceeded") }
    }

    pub fn weak_password(message: impl Into<String>, reasons: Vec<&'static str>) -> Self {
        AuthError { weak_reasons: reasons, ..Self::new(422, "weak_password", message) }
    }

    pub fn otp_expired() -> Self {
        Self::new(403, "otp_expired", "Token has expired or is invalid")
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(404, "not_found", format!("{what} not found"))
    }

    pub fn oauth(status: u16, error: &'static str, description: impl Into<String>) -> Self {
        AuthError { oauth_style: true, ..Self::new(status, error, description) }
    }

    /// A server-side failure: logged with an id, answered without details.
    pub fn unexpected(detail: impl std::fmt::Display) -> Self {
        let id = uuid::Uuid::new_v4();
        tracing::error!(error_id = %id, detail = %detail, "auth: unexpected failure");
        Self::new(500, "unexpected_failure", format!("Unexpected failure, please check server logs for more information (error id {id})"))
    }

    /// Renders the error in the format the request asked for.
    pub fn to_response(&self, request_headers: &http::HeaderMap) -> http::Response<Bytes> {
        let versioned = request_headers.get(API_VERSION_HEADER).and_then(|v| v.to_str().ok()) == Some(API_VERSION_2024);
        let mut body = if self.oauth_style {
            json!({"error": self.error_code, "error_description": self.message})
        } else if versioned {
            json!({"code": self.error_code, "message": self.message})
        } else {
            json!({"code": self.status, "error_code": self.error_code, "msg": self.message})
        };
        if !self.weak_reasons.is_empty() {
            if let Value::Object(map) = &mut body {
                map.insert("weak_password".into(), json!({"reasons": self.weak_reasons}));
            }
        }
        let mut response = http::Response::new(Bytes::from(body.to_string()));
        *response.status_mut() = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if versioned {
            headers.insert(API_VERSION_HEADER, HeaderValue::from_static(API_VERSION_2024));
        }
        // As GoTrue's error handler: on every HTTP error, not on OAuth-style ones, and (its quirk)
        // not on weak_password in the 2024-01-01 format.
        let weak_versioned = versioned && !self.weak_reasons.is_empty();
        if !self.oauth_style && !weak_versioned {
            headers.insert(ERROR_CODE_HEADER, HeaderValue::from_static(self.error_code));
        }
        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                headers.insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

impl From<tokio_postgres::Error> for AuthError {
    fn from(e: tokio_postgres::Error) -> Self {
        AuthError::unexpected(e)
    }
}

impl From<pgrest_core::db::DbError> for AuthError {
    fn from(e: pgrest_core::db::DbError) -> Self {
        AuthError::unexpected(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(e: &AuthError, versioned: bool) -> Value {
        let mut h = http::HeaderMap::new();
        if versioned {
            h.insert(API_VERSION_HEADER, HeaderValue::from_static(API_VERSION_2024));
        }
        let r = e.to_response(&h);
        if versioned {
            assert_eq!(r.headers()[API_VERSION_HEADER], API_VERSION_2024);
        }
        serde_json::from_slice(r.body()).unwrap()
    }

    #[test]
    fn both_formats() {
        let e = AuthError::invalid_credentials();
        assert_eq!(body(&e, true), json!({"code": "invalid_credentials", "message": "Invalid login credentials"}));
        assert_eq!(body(&e, false), json!({"code": 400, "error_code": "invalid_credentials", "msg": "Invalid login credentials"}));
    }

    fn code_header(e: &AuthError, versioned: bool) -> Option<String> {
        let mut h = http::HeaderMap::new();
        if versioned {
            h.insert(API_VERSION_HEADER, HeaderValue::from_static(API_VERSION_2024));
        }
        e.to_response(&h).headers().get(ERROR_CODE_HEADER).map(|v| v.to_str().unwrap().to_string())
    }

    #[test]
    fn error_code_header_where_gotrue_sets_it() {
        for versioned in [true, false] {
            assert_eq!(code_header(&AuthError::invalid_credentials(), versioned).as_deref(), Some("invalid_credentials"));
            assert_eq!(code_header(&AuthError::unexpected("boom"), versioned).as_deref(), Some("unexpected_failure"));
            assert_eq!(code_header(&AuthError::oauth(400, "invalid_grant", "no"), versioned), None);
        }
        let weak = AuthError::weak_password("Password should be at least 6 characters.", vec!["length"]);
        assert_eq!(code_header(&weak, false).as_deref(), Some("weak_password"));
        assert_eq!(code_header(&weak, true), None);
    }

    #[test]
    fn weak_password_lists_reasons() {
        let e = AuthError::weak_password("Password should be at least 6 characters.", vec!["length"]);
        assert_eq!(body(&e, true)["weak_password"], json!({"reasons": ["length"]}));
    }
}
