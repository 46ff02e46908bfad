//! `GET /health`, `GET /settings`, `GET /.well-known/jwks.json` (and `/jwks`).
//!
//! Must not expose secrets: the JWKS holds public keys only.

use bytes::Bytes;
use serde_json::{json, Map, Value};

use crate::request::json_response;
use crate::service::NativeAuth;

pub fn health() -> http::Response<Bytes> {
    json_response(200, &json!({"version": env!("CARGO_PKG_VERSION"), "name": "GoTrue", "description": "pgrest-lambda native auth (GoTrue-compatible)"}))
}

pub fn settings(svc: &NativeAuth) -> http::Response<Bytes> {
    let mut external = Map::new();
    external.insert("anonymous_users".into(), Value::Bool(svc.config.anonymous_enabled));
    external.insert("email".into(), Value::Bool(true));
    external.insert("phone".into(), Value::Bool(false));
    for known in ["apple", "azure", "bitbucket", "discord", "facebook", "figma", "github", "gitlab", "google", "keycloak", "kakao", "linkedin", "linkedin_oidc", "notion", "slack", "slack_oidc", "spotify", "twitch", "twitter", "workos", "zoom"] {
        external.insert(known.into(), Value::Bool(false));
    }
    for p in &svc.providers {
        external.insert(p.name.clone(), Value::Bool(true));
    }
    json_response(
        200,
        &json!({
            "external": external,
            "disable_signup": svc.config.disable_signup,
            "mailer_autoconfirm": svc.config.autoconfirm,
            "phone_autoconfirm": false,
            "sms_provider": "",
            "saml_enabled": false,
        }),
    )
}

pub fn jwks(svc: &NativeAuth) -> http::Response<Bytes> {
    let mut response = json_response(200, &svc.signer.jwks());
    response.headers_mut().insert(http::header::CACHE_CONTROL, http::HeaderValue::from_static("public, max-age=600"));
    response
}
