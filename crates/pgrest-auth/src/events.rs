//! One structured log line per auth event (V-23): action, user id, outcome. Reads (`GET /user`,
//! settings, JWKS, health) are not events. The line is written inside the App's request span,
//! so it carries the request id.
//!
//! Must not log secrets: no passwords, tokens, codes or email addresses.

use bytes::Bytes;
use pgrest_core::JwtKeys;
use serde_json::Value;

use crate::request::Req;

/// The event name of this request, or `None` when it is not an auth event.
pub(crate) fn action(req: &Req) -> Option<String> {
    use http::Method;
    let name = match (&req.method, req.path.as_str()) {
        (&Method::POST, "/token") => return Some(format!("token:{}", req.query("grant_type").filter(|g| is_plain(g)).unwrap_or("unknown"))),
        (&Method::PUT, "/user") => "user_update",
        (&Method::POST, "/signup") => "signup",
        (&Method::POST, "/logout") => "logout",
        (&Method::POST, "/otp") => "otp",
        (&Method::POST, "/magiclink") => "magiclink",
        (&Method::POST | &Method::GET, "/verify") => "verify",
        (&Method::POST, "/recover") => "recover",
        (&Method::POST, "/resend") => "resend",
        (&Method::GET, "/authorize") => "authorize",
        (&Method::GET, "/callback") => "callback",
        _ => return None,
    };
    Some(name.to_string())
}

/// The user the event concerns: from the answer (`user.id` of a session, `id` of a user), else
/// the `sub` of the caller's verified token.
pub(crate) fn user_id(response: &http::Response<Bytes>, req: &Req, keys: &JwtKeys) -> Option<String> {
    let from_body = serde_json::from_slice::<Value>(response.body()).ok().and_then(|body| {
        let id = body.get("user").and_then(|u| u.get("id")).or_else(|| body.get("id"));
        id.and_then(Value::as_str).map(str::to_string)
    });
    from_body.or_else(|| {
        let claims = keys.verify(req.bearer()?).ok()?;
        claims.get("sub").and_then(Value::as_str).map(str::to_string)
    })
}

/// Writes the line.
pub(crate) fn log(action: &str, user_id: Option<&str>, status: u16, outcome: &str) {
    tracing::info!(action, user_id = user_id.unwrap_or("-"), status, outcome, "auth event");
}

fn is_plain(text: &str) -> bool {
    text.len() <= 32 && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}
