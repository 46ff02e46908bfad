//! Authorizer decisions on the `events/authorizer-*.json` fixtures (real HS256 tokens signed
//! with the documented test secret) and on hostile variations of them.
//!
//! Must not need AWS; the binary's behaviour under the Runtime API is tested in `runtime.rs`.

#![cfg(test)]

use std::path::PathBuf;

use pgrest_authorizer::{Authorizer, Unauthorized};
use pgrest_core::JwtKeys;
use serde_json::{Value, json};

const TEST_SECRET: &str = "pgrest-lambda-test-secret-0123456789abcdef";
const USER_SUB: &str = "6f1c2a52-8d3e-4b7a-9c10-2e5f7d9b4a13";
const STAGE_ARN: &str = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/Prod/*/*";

fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../events")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn authorizer() -> Authorizer {
    Authorizer::new(TEST_SECRET, None, Some("anon".to_string())).unwrap()
}

fn allow(name: &str) -> Value {
    authorizer()
        .decide(&fixture(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Checks the REST policy shape and returns the context.
fn assert_stage_policy(response: &Value) -> &serde_json::Map<String, Value> {
    let policy = &response["policyDocument"];
    assert_eq!(policy["Version"], "2012-10-17");
    let statements = policy["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 1);
    assert_eq!(statements[0]["Effect"], "Allow");
    assert_eq!(statements[0]["Action"], json!(["execute-api:Invoke"]));
    assert_eq!(statements[0]["Resource"], json!([STAGE_ARN]));
    assert!(
        response.as_object().unwrap().values().all(|v| !v.is_null()),
        "no null fields: {response}"
    );
    let context = response["context"].as_object().unwrap();
    for (key, value) in context {
        assert!(value.is_string(), "context value {key} must be a string: {value}");
    }
    context
}

fn claims(context: &serde_json::Map<String, Value>) -> Value {
    serde_json::from_str(context["claims"].as_str().unwrap()).unwrap()
}

#[test]
fn valid_user_is_allowed_as_authenticated() {
    let response = allow("authorizer-valid-user.json");
    assert_eq!(response["principalId"], USER_SUB);
    let context = assert_stage_policy(&response);
    assert_eq!(context["role"], "authenticated");
    assert_eq!(context["sub"], USER_SUB);
    assert_eq!(context["email"], "alice@example.com");
    let claims = claims(context);
    assert_eq!(claims["sub"], USER_SUB);
    assert_eq!(claims["app_metadata"]["provider"], "email");
    assert!(
        !context["claims"].as_str().unwrap().contains(' '),
        "claims are compact JSON"
    );
}

#[test]
fn anon_apikey_alone_is_allowed_as_anon() {
    let response = allow("authorizer-anon.json");
    assert_eq!(response["principalId"], "anon");
    let context = assert_stage_policy(&response);
    assert_eq!(context["role"], "anon");
    assert!(!context.contains_key("sub"));
    assert_eq!(claims(context)["role"], "anon");
}

#[test]
fn service_key_is_allowed_as_service_role() {
    let response = allow("authorizer-service-key.json");
    let context = assert_stage_policy(&response);
    assert_eq!(context["role"], "service_role");
}

#[test]
fn refused_fixtures_are_exactly_unauthorized() {
    for name in [
        "authorizer-expired.json",
        "authorizer-malformed.json",
        "authorizer-alg-none.json",
        "authorizer-missing-headers.json",
    ] {
        let result = authorizer().decide(&fixture(name));
        assert_eq!(result, Err(Unauthorized), "{name}");
        assert_eq!(result.unwrap_err().to_string(), "Unauthorized");
    }
}

#[test]
fn forged_signature_is_refused() {
    let forger = JwtKeys::new("attacker-controlled-secret-0123456789abcdef", None);
    let forged = forger
        .sign(&json!({ "role": "service_role", "exp": 4102444800u64 }))
        .unwrap();
    let mut event = fixture("authorizer-anon.json");
    event["headers"]["apikey"] = json!(forged);
    event["multiValueHeaders"]["apikey"] = json!([forged]);
    assert_eq!(authorizer().decide(&event), Err(Unauthorized));
}

#[test]
fn tokens_without_exp_are_refused() {
    let keys = JwtKeys::new(TEST_SECRET, None);
    let forever_service = keys.sign(&json!({ "role": "service_role" })).unwrap();
    let forever_user = keys.sign(&json!({ "role": "authenticated", "sub": USER_SUB })).unwrap();
    // As the apikey alone.
    let mut event = fixture("authorizer-anon.json");
    event["headers"]["apikey"] = json!(forever_service);
    event["multiValueHeaders"]["apikey"] = json!([forever_service]);
    assert_eq!(authorizer().decide(&event), Err(Unauthorized));
    // As the bearer next to a valid apikey, REST and HTTP API 2.0 alike.
    let mut event = fixture("authorizer-valid-user.json");
    event["headers"]["Authorization"] = json!(format!("Bearer {forever_user}"));
    assert_eq!(authorizer().decide(&event), Err(Unauthorized));
    let mut event = fixture("authorizer-http-v2-user.json");
    event["headers"]["authorization"] = json!(format!("Bearer {forever_user}"));
    assert_eq!(authorizer().decide(&event).unwrap()["isAuthorized"], false);
    // The same claims with an `exp` pass.
    let mut event = fixture("authorizer-valid-user.json");
    let user = keys.sign(&json!({ "role": "authenticated", "sub": USER_SUB, "exp": 4102444800u64 })).unwrap();
    event["headers"]["Authorization"] = json!(format!("Bearer {user}"));
    assert_eq!(authorizer().decide(&event).unwrap()["principalId"], USER_SUB);
}

#[test]
fn an_invalid_bearer_is_not_rescued_by_a_valid_apikey() {
    let mut event = fixture("authorizer-valid-user.json");
    event["headers"]["Authorization"] = json!("Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl");
    assert_eq!(authorizer().decide(&event), Err(Unauthorized));
}

#[test]
fn another_secret_refuses_every_fixture_token() {
    let other = Authorizer::new("a-different-secret-of-enough-length-0123", None, None).unwrap();
    for name in [
        "authorizer-valid-user.json",
        "authorizer-anon.json",
        "authorizer-service-key.json",
    ] {
        assert_eq!(other.decide(&fixture(name)), Err(Unauthorized), "{name}");
    }
}

#[test]
fn header_names_are_case_insensitive() {
    let mut event = fixture("authorizer-valid-user.json");
    let headers = event["headers"].as_object_mut().unwrap();
    let apikey = headers.remove("apikey").unwrap();
    let bearer = headers.remove("Authorization").unwrap();
    headers.insert("APIKEY".into(), apikey);
    headers.insert("authorization".into(), bearer);
    event["multiValueHeaders"] = Value::Null;
    let response = authorizer().decide(&event).unwrap();
    assert_eq!(response["context"]["role"], "authenticated");
}

#[test]
fn multi_value_headers_are_read_when_headers_are_absent() {
    let mut event = fixture("authorizer-anon.json");
    event["headers"] = Value::Null;
    let response = authorizer().decide(&event).unwrap();
    assert_eq!(response["context"]["role"], "anon");
}

#[test]
fn malformed_or_missing_method_arn_is_unauthorized_not_a_panic() {
    for arn in [
        json!("garbage"),
        json!(""),
        json!("arn:aws:execute-api:eu-west-1:1:"),
        json!(42),
        Value::Null,
    ] {
        let mut event = fixture("authorizer-valid-user.json");
        event["methodArn"] = arn.clone();
        assert_eq!(authorizer().decide(&event), Err(Unauthorized), "{arn}");
    }
    let mut event = fixture("authorizer-valid-user.json");
    event.as_object_mut().unwrap().remove("methodArn");
    assert_eq!(authorizer().decide(&event), Err(Unauthorized));
}

#[test]
fn hostile_events_are_unauthorized() {
    let token_event = json!({
        "type": "TOKEN",
        "authorizationToken": "Bearer x",
        "methodArn": "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/Prod/GET/rest/v1/posts"
    });
    for event in [
        Value::Null,
        json!([]),
        json!("Unauthorized"),
        json!({}),
        json!({ "version": "2.0" }),
        json!({ "type": "REQUEST", "headers": { "apikey": 7 } }),
        token_event,
    ] {
        assert_eq!(authorizer().decide(&event), Err(Unauthorized), "{event}");
    }
}

#[test]
fn only_request_type_events_are_answered() {
    let mut event = fixture("authorizer-anon.json");
    assert!(authorizer().decide(&event).is_ok());
    event["type"] = json!("TOKEN");
    assert_eq!(authorizer().decide(&event), Err(Unauthorized));
}

#[test]
fn http_api_v2_gets_the_simple_response() {
    let response = authorizer().decide(&fixture("authorizer-http-v2-user.json")).unwrap();
    assert_eq!(response["isAuthorized"], true);
    assert_eq!(response["context"]["role"], "authenticated");
    assert_eq!(response["context"]["sub"], USER_SUB);
    assert!(response.get("policyDocument").is_none());

    let mut event = fixture("authorizer-http-v2-user.json");
    event["headers"]["authorization"] = json!(format!(
        "Bearer {}",
        fixture("authorizer-expired.json")["headers"]["Authorization"]
            .as_str()
            .unwrap()
            .trim_start_matches("Bearer ")
    ));
    let response = authorizer().decide(&event).unwrap();
    assert_eq!(response["isAuthorized"], false);
    assert_eq!(response["context"], json!({}));
}

#[test]
fn audience_is_enforced_when_configured() {
    let strict = Authorizer::new(TEST_SECRET, Some("authenticated".into()), Some("anon".into())).unwrap();
    let response = strict.decide(&fixture("authorizer-valid-user.json")).unwrap();
    assert_eq!(response["context"]["role"], "authenticated");
    let wrong = Authorizer::new(TEST_SECRET, Some("other-audience".into()), Some("anon".into())).unwrap();
    assert_eq!(wrong.decide(&fixture("authorizer-valid-user.json")), Err(Unauthorized));
}

/// A throwaway P-256 key for tests only (same as the core JWT tests), and its public JWKS.
const TEST_EC_PEM: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgaFlM4qlp3VnvJZ71
i1EDtXqsUUA4j2UNbITR65MjB96hRANCAAS646g2oq3Xi2QFnUcc8RgRVGctL3TR
1yNer7w8jL/aK0x+k8MBHKa5xl5SSRuYvDAfkiUH/OyYJ1kxl3eNJpsB
-----END PRIVATE KEY-----
";
const TEST_JWKS: &str = r#"{"keys":[{"kty":"EC","crv":"P-256","kid":"k1","x":"uuOoNqKt14tkBZ1HHPEYEVRnLS900dcjXq-8PIy_2is","y":"TH6TwwEcprnGXlJJG5i8MB-SJQf87JgnWTGXd40mmwE"}]}"#;

fn es256_user_token(kid: &str) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some(kid.to_string());
    let claims = json!({"role": "authenticated", "sub": "es256-user", "exp": 4102444800u64});
    let key = jsonwebtoken::EncodingKey::from_ec_pem(TEST_EC_PEM.as_bytes()).unwrap();
    jsonwebtoken::encode(&header, &claims, &key).unwrap()
}

fn with_bearer(token: &str) -> Value {
    let mut event = fixture("authorizer-valid-user.json");
    event["headers"]["Authorization"] = json!(format!("Bearer {token}"));
    event["multiValueHeaders"]["Authorization"] = json!([format!("Bearer {token}")]);
    event
}

#[test]
fn es256_user_tokens_verify_against_the_configured_jwks() {
    let with_keys = authorizer().with_jwks(Some(TEST_JWKS)).unwrap();
    let response = with_keys.decide(&with_bearer(&es256_user_token("k1"))).unwrap();
    let context = response["context"].as_object().unwrap();
    assert_eq!(context["role"], "authenticated");
    assert_eq!(context["sub"], "es256-user");
    // Unknown kid, or no keys configured: refused.
    assert_eq!(with_keys.decide(&with_bearer(&es256_user_token("other"))), Err(Unauthorized));
    assert_eq!(authorizer().decide(&with_bearer(&es256_user_token("k1"))), Err(Unauthorized));
    assert!(authorizer().with_jwks(Some("not json")).is_err());
}
