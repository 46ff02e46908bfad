//! The REQUEST authorizer's decision as a pure function of the event: verify `apikey` and
//! `Authorization: Bearer` in-process, allow with the caller's identity as context, or refuse.
//!
//! Must not panic on any input, do I/O, log tokens, or allow anything beyond the API's own stage.

use std::fmt;

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerPolicy, ApiGatewayCustomAuthorizerRequestTypeRequest, ApiGatewayCustomAuthorizerResponse,
    ApiGatewayV2CustomAuthorizerSimpleResponse, ApiGatewayV2CustomAuthorizerV2Request,
};
use aws_lambda_events::http::HeaderMap;
use aws_lambda_events::iam::{IamPolicyEffect, IamPolicyStatement};
use pgrest_core::auth::jwt::{AuthContext, Credentials, JwtKeys, authenticate};
use serde::Deserialize;
use serde_json::{Map, Value};

/// The one error message API Gateway (REST) turns into `401 Unauthorized`.
pub const UNAUTHORIZED: &str = "Unauthorized";

/// V-01: shortest JWT secret the authorizer accepts.
pub const MIN_SECRET_CHARS: usize = 32;

/// A refused request. Its message is exactly [`UNAUTHORIZED`]; the reason goes to the log only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unauthorized;

impl fmt::Display for Unauthorized {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(UNAUTHORIZED)
    }
}

impl std::error::Error for Unauthorized {}

/// Why the authorizer refuses to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartupError {
    /// V-01: a short or empty secret would let anyone mint apikeys.
    WeakSecret(usize),
    /// `PGREST_JWT_JWKS` / `AUTH_JWT_SIGNING_KEYS` is not a set of EC P-256 keys with kid, x, y.
    InvalidJwks,
}

impl fmt::Display for StartupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartupError::WeakSecret(len) => write!(
                f,
                "JWT_SECRET must be at least {MIN_SECRET_CHARS} characters long (got {len}); \
                 generate one with `openssl rand -hex 32`"
            ),
            StartupError::InvalidJwks => write!(f, "PGREST_JWT_JWKS / AUTH_JWT_SIGNING_KEYS must be a JWKS or an array of EC P-256 JWKs with kid, x and y"),
        }
    }
}

impl std::error::Error for StartupError {}

/// `PGREST_ANON_ROLE` as the engine reads it: unset means `anon`, empty disables the fallback role.
pub fn anon_role_from(value: Option<&str>) -> Option<String> {
    match value {
        None => Some("anon".to_string()),
        Some("") => None,
        Some(role) => Some(role.to_string()),
    }
}

/// The verified settings, built once per cold start.
#[derive(Debug, Clone)]
pub struct Authorizer {
    keys: JwtKeys,
    anon_role: Option<String>,
}

impl Authorizer {
    /// Refuses a secret shorter than [`MIN_SECRET_CHARS`] characters (V-01).
    pub fn new(secret: &str, audience: Option<String>, anon_role: Option<String>) -> Result<Self, StartupError> {
        let len = secret.chars().count();
        if len < MIN_SECRET_CHARS {
            return Err(StartupError::WeakSecret(len));
        }
        Ok(Authorizer {
            keys: JwtKeys::new(secret, audience),
            anon_role,
        })
    }

    /// Also accepts ES256 user tokens signed by the auth service: `jwks` is `PGREST_JWT_JWKS`
    /// (or `AUTH_JWT_SIGNING_KEYS`, whose private members are ignored).
    pub fn with_jwks(mut self, jwks: Option<&str>) -> Result<Self, StartupError> {
        let Some(text) = jwks.filter(|t| !t.trim().is_empty()) else { return Ok(self) };
        let keys = pgrest_core::config::parse_ec_keys(text).ok_or(StartupError::InvalidJwks)?;
        self.keys = self.keys.with_ec_keys(&keys).map_err(|_| StartupError::InvalidJwks)?;
        Ok(self)
    }

    /// Answers one authorizer event. REST (and HTTP API payload 1.0) events get an IAM policy
    /// response or the `Unauthorized` error; HTTP API payload 2.0 events get the simple response.
    pub fn decide(&self, event: &Value) -> Result<Value, Unauthorized> {
        if event.get("version").and_then(Value::as_str) == Some("2.0") {
            let request = ApiGatewayV2CustomAuthorizerV2Request::deserialize(event)
                .map_err(|_| deny("event is not an HTTP API 2.0 authorizer request"))?;
            return Ok(self.decide_http(&request));
        }
        let request = ApiGatewayCustomAuthorizerRequestTypeRequest::deserialize(event)
            .map_err(|_| deny("event is not a REQUEST authorizer request"))?;
        self.decide_rest(&request)
    }

    fn decide_rest(&self, request: &ApiGatewayCustomAuthorizerRequestTypeRequest) -> Result<Value, Unauthorized> {
        if request
            .type_
            .as_deref()
            .is_some_and(|t| !t.eq_ignore_ascii_case("REQUEST"))
        {
            return Err(deny("only REQUEST authorizer events are supported"));
        }
        let headers = if request.headers.is_empty() {
            &request.multi_value_headers
        } else {
            &request.headers
        };
        let caller = self.identify(headers)?;
        let resource = request
            .method_arn
            .as_deref()
            .and_then(stage_wildcard_arn)
            .ok_or_else(|| deny("methodArn is missing or malformed"))?;
        let mut statement = IamPolicyStatement::default();
        statement.action = vec!["execute-api:Invoke".to_string()];
        statement.effect = IamPolicyEffect::Allow;
        statement.resource = vec![resource];
        let mut policy = ApiGatewayCustomAuthorizerPolicy::default();
        policy.version = Some("2012-10-17".to_string());
        policy.statement = vec![statement];
        let mut response = ApiGatewayCustomAuthorizerResponse::<Value>::default();
        response.principal_id = Some(principal_id(&caller));
        response.policy_document = policy;
        response.context = Value::Object(context(&caller));
        let mut value = serde_json::to_value(&response).map_err(|_| deny("could not serialize the policy"))?;
        // `usageIdentifierKey: null` and other empty fields are left out rather than sent as null.
        if let Some(fields) = value.as_object_mut() {
            fields.retain(|_, v| !v.is_null());
        }
        allowed(&caller);
        Ok(value)
    }

    fn decide_http(&self, request: &ApiGatewayV2CustomAuthorizerV2Request) -> Value {
        let mut response = ApiGatewayV2CustomAuthorizerSimpleResponse::<Value>::default();
        match self.identify(&request.headers) {
            Ok(caller) => {
                response.is_authorized = true;
                response.context = Value::Object(context(&caller));
                allowed(&caller);
            }
            Err(Unauthorized) => {
                response.is_authorized = false;
                response.context = Value::Object(Map::new());
            }
        }
        serde_json::to_value(&response).unwrap_or_else(|_| serde_json::json!({ "isAuthorized": false }))
    }

    /// Verifies the credentials; a present but invalid token is refused, never ignored.
    fn identify(&self, headers: &HeaderMap) -> Result<AuthContext, Unauthorized> {
        let credentials = Credentials::from_headers(headers);
        if credentials.apikey.is_none() && credentials.bearer.is_none() {
            return Err(deny("no apikey and no bearer token"));
        }
        authenticate(&self.keys, credentials, self.anon_role.as_deref()).map_err(|e| deny(&e.to_string()))
    }
}

/// `arn:aws:execute-api:region:account:apiId/stage/METHOD/path` → `…:apiId/stage/*/*`, so one
/// decision covers every route of this API's stage and nothing else. `None` when malformed.
pub fn stage_wildcard_arn(method_arn: &str) -> Option<String> {
    let mut parts = method_arn.splitn(6, ':');
    let (arn, partition, service, region, account, rest) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    if arn != "arn" || service != "execute-api" || [partition, region, account].iter().any(|s| s.is_empty()) {
        return None;
    }
    let mut path = rest.split('/');
    let plain = |s: &&str| !s.is_empty() && !s.contains(['*', '?']);
    let api_id = path.next().filter(plain)?;
    let stage = path.next().filter(plain)?;
    Some(format!(
        "arn:{partition}:execute-api:{region}:{account}:{api_id}/{stage}/*/*"
    ))
}

/// The context API Gateway hands to the API function: strings only (API Gateway accepts
/// strings, numbers and booleans), claims as compact JSON.
fn context(caller: &AuthContext) -> Map<String, Value> {
    let mut context = Map::new();
    context.insert("role".to_string(), Value::from(caller.role.as_str()));
    for key in ["sub", "email"] {
        if let Some(text) = caller.claims.get(key).and_then(Value::as_str) {
            context.insert(key.to_string(), Value::from(text));
        }
    }
    context.insert("claims".to_string(), Value::String(caller.claims.to_string()));
    context
}

fn principal_id(caller: &AuthContext) -> String {
    caller
        .claims
        .get("sub")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .unwrap_or(&caller.role)
        .to_string()
}

fn deny(reason: &str) -> Unauthorized {
    tracing::warn!(decision = "deny", reason, "authorizer refused the request");
    Unauthorized
}

fn allowed(caller: &AuthContext) {
    let sub = caller.claims.get("sub").and_then(Value::as_str).unwrap_or("");
    tracing::info!(decision = "allow", role = %caller.role, sub, "authorizer allowed the request");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widens_method_arn_to_the_stage() {
        let arn = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/Prod/GET/rest/v1/posts";
        assert_eq!(
            stage_wildcard_arn(arn).as_deref(),
            Some("arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/Prod/*/*")
        );
        let cn = "arn:aws-cn:execute-api:cn-north-1:123456789012:api/dev/POST/x";
        assert_eq!(
            stage_wildcard_arn(cn).as_deref(),
            Some("arn:aws-cn:execute-api:cn-north-1:123456789012:api/dev/*/*")
        );
    }

    #[test]
    fn malformed_method_arns_are_none() {
        for arn in [
            "",
            "arn",
            "arn:aws:execute-api",
            "arn:aws:s3:eu-west-1:123456789012:api/Prod/GET/",
            "arn:aws:execute-api:eu-west-1:123456789012:",
            "arn:aws:execute-api:eu-west-1:123456789012:api",
            "arn:aws:execute-api:eu-west-1:123456789012:api/",
            "arn:aws:execute-api:eu-west-1:123456789012:*/Prod/GET/",
            "arn:aws:execute-api:eu-west-1:123456789012:api/*/GET/",
            "arn:aws:execute-api::123456789012:api/Prod/GET/",
            "nonsense:aws:execute-api:r:a:api/Prod/GET/",
        ] {
            assert_eq!(stage_wildcard_arn(arn), None, "{arn}");
        }
    }

    #[test]
    fn refuses_weak_secrets() {
        assert_eq!(Authorizer::new("", None, None).err(), Some(StartupError::WeakSecret(0)));
        assert_eq!(
            Authorizer::new("0123456789abcdef0123456789abcde", None, None).err(),
            Some(StartupError::WeakSecret(31))
        );
        assert!(Authorizer::new("0123456789abcdef0123456789abcdef", None, None).is_ok());
    }

    #[test]
    fn anon_role_follows_engine_semantics() {
        assert_eq!(anon_role_from(None).as_deref(), Some("anon"));
        assert_eq!(anon_role_from(Some("")), None);
        assert_eq!(anon_role_from(Some("web_anon")).as_deref(), Some("web_anon"));
    }

    #[test]
    fn unauthorized_message_is_exact() {
        assert_eq!(Unauthorized.to_string(), "Unauthorized");
    }
}
