//! Lambda glue tests: the `events/apigw-*.json` fixtures go through lambda_http's own event
//! deserializer and then the adapter, and each test asserts what the App would receive.
//!
//! Must not need a database or AWS; the round trip through `App::handle` is tested elsewhere.

#![cfg(test)]

use std::path::PathBuf;

use bytes::Bytes;
use lambda_http::request::from_str;
use lambda_http::{Body, Request};
use pgrest_api::adapter::{app_path, to_app_request, to_lambda_response};
use pgrest_core::AuthorizerIdentity;
use serde_json::{Value, json};

const GET_QUERY: &str = "select=id,title&status=eq.published&order=id.desc&limit=20";
const POST_BODY: &str = r#"{"title":"Hello from Lambda","body":"First post","status":"published"}"#;
const USER_SUB: &str = "6f1c2a52-8d3e-4b7a-9c10-2e5f7d9b4a13";

fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../events")
}

fn fixture(name: &str) -> Value {
    let text = std::fs::read_to_string(events_dir().join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn lambda_request(event: &Value) -> Request {
    from_str(&event.to_string()).unwrap()
}

fn app_request(name: &str, trust: bool) -> http::Request<Bytes> {
    to_app_request(lambda_request(&fixture(name)), trust).unwrap()
}

fn header<'a>(request: &'a http::Request<Bytes>, name: &str) -> &'a str {
    request
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no {name} header"))
}

fn decoded_pairs(query: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8()
            .unwrap()
            .into_owned()
    };
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect();
    pairs.sort();
    pairs
}

#[test]
fn every_api_fixture_converts() {
    let mut seen = 0;
    for entry in std::fs::read_dir(events_dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        if !name.starts_with("apigw-") || !name.ends_with(".json") {
            continue;
        }
        let request = to_app_request(lambda_request(&fixture(&name)), true).unwrap();
        assert!(
            request.uri().path().starts_with("/rest/v1/"),
            "{name}: {}",
            request.uri()
        );
        assert!(request.headers().contains_key("apikey"), "{name}");
        seen += 1;
    }
    assert!(seen >= 5, "only {seen} apigw fixtures");
}

#[test]
fn rest_get_keeps_method_path_query_and_headers() {
    let request = app_request("apigw-rest-get.json", true);
    assert_eq!(request.method(), http::Method::GET);
    assert_eq!(request.uri().path(), "/rest/v1/posts");
    // REST events only carry the decoded parameter map: re-encoded with keys sorted.
    assert_eq!(
        request.uri().query(),
        Some("limit=20&order=id.desc&select=id,title&status=eq.published")
    );
    assert_eq!(decoded_pairs(request.uri().query().unwrap()), decoded_pairs(GET_QUERY));
    assert!(header(&request, "apikey").starts_with("eyJ"));
    assert!(header(&request, "authorization").starts_with("Bearer eyJ"));
    assert_eq!(header(&request, "accept-profile"), "public");
    assert!(request.body().is_empty());
    assert!(
        request.extensions().get::<AuthorizerIdentity>().is_none(),
        "no authorizer context, no identity"
    );
}

#[test]
fn lambda_http_puts_the_stage_in_the_uri_but_the_app_path_has_none() {
    let request = lambda_request(&fixture("apigw-rest-get.json"));
    assert_eq!(request.uri().path(), "/Prod/rest/v1/posts");
    assert_eq!(app_path(&request), "/rest/v1/posts");
}

#[test]
fn rest_repeated_headers_reach_the_app_every_value() {
    // API Gateway (REST): every value in multiValueHeaders, the last one alone in headers.
    let mut event = fixture("apigw-rest-post.json");
    event["headers"]["Prefer"] = json!("count=exact");
    event["multiValueHeaders"]["Prefer"] = json!(["return=representation", "count=exact"]);
    let merged = lambda_request(&event);
    assert_eq!(
        merged.headers().get_all("prefer").iter().count(),
        1,
        "lambda_http alone lets `headers` replace the list (why keep_multi_value_headers exists)"
    );
    let mut raw: lambda_http::request::LambdaRequest = serde_json::from_value(event).unwrap();
    pgrest_api::adapter::keep_multi_value_headers(&mut raw);
    let request = to_app_request(Request::from(raw), true).unwrap();
    let prefer: Vec<&str> = request
        .headers()
        .get_all("prefer")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(prefer, ["return=representation", "count=exact"]);
    // Headers named only once are untouched.
    assert_eq!(header(&request, "content-profile"), "public");
    assert_eq!(request.headers().get_all("content-type").iter().count(), 1);
}

#[test]
fn rest_get_with_authorizer_context_carries_the_identity_when_trusted() {
    let request = app_request("apigw-rest-get-authorized.json", true);
    let identity = request.extensions().get::<AuthorizerIdentity>().unwrap();
    assert_eq!(identity.role, "authenticated");
    assert_eq!(identity.claims["sub"], USER_SUB);
    assert_eq!(identity.claims["email"], "alice@example.com");
    assert_eq!(identity.claims["app_metadata"]["provider"], "email");
    assert_eq!(request.uri().path(), "/rest/v1/posts");
}

#[test]
fn authorizer_context_is_ignored_when_trust_is_off() {
    let request = app_request("apigw-rest-get-authorized.json", false);
    assert!(request.extensions().get::<AuthorizerIdentity>().is_none());
    assert!(
        header(&request, "authorization").starts_with("Bearer "),
        "tokens stay for in-process checks"
    );
}

#[test]
fn foreign_or_forged_authorizer_contexts_give_no_identity() {
    let mut event = fixture("apigw-rest-get-authorized.json");
    event["requestContext"]["authorizer"] = json!({ "principalId": "someone", "integrationLatency": 3 });
    let request = to_app_request(lambda_request(&event), true).unwrap();
    assert!(
        request.extensions().get::<AuthorizerIdentity>().is_none(),
        "context without role"
    );

    let mut event = fixture("apigw-rest-get-authorized.json");
    event["requestContext"]["authorizer"]["role"] = json!("service_role");
    let request = to_app_request(lambda_request(&event), true).unwrap();
    assert!(
        request.extensions().get::<AuthorizerIdentity>().is_none(),
        "role contradicts claims"
    );

    let mut event = fixture("apigw-rest-get-authorized.json");
    event["requestContext"]["authorizer"]["claims"] = json!("not json");
    let request = to_app_request(lambda_request(&event), true).unwrap();
    assert!(
        request.extensions().get::<AuthorizerIdentity>().is_none(),
        "unreadable claims"
    );
}

#[test]
fn rest_post_keeps_the_json_body() {
    let request = app_request("apigw-rest-post.json", true);
    assert_eq!(request.method(), http::Method::POST);
    assert_eq!(request.uri().path(), "/rest/v1/posts");
    assert_eq!(request.uri().query(), None);
    assert_eq!(request.body(), &Bytes::from_static(POST_BODY.as_bytes()));
    assert_eq!(header(&request, "content-type"), "application/json");
    assert_eq!(header(&request, "prefer"), "return=representation");
    assert_eq!(header(&request, "content-profile"), "public");
    assert!(request.extensions().get::<AuthorizerIdentity>().is_none());
}

#[test]
fn rest_query_values_survive_reencoding() {
    let mut event = fixture("apigw-rest-get.json");
    let params = json!({
        "created_at": ["gte.2025-01-01T00:00:00+00:00"],
        "name": ["eq.a&b=c d"],
        "tags": ["cs.{a,b}"],
        "id": ["gt.1", "lt.9"],
        "title": ["ilike.*résumé*"]
    });
    event["multiValueQueryStringParameters"] = params.clone();
    event["queryStringParameters"] = json!({
        "created_at": "gte.2025-01-01T00:00:00+00:00", "name": "eq.a&b=c d", "tags": "cs.{a,b}",
        "id": "lt.9", "title": "ilike.*résumé*"
    });
    let request = to_app_request(lambda_request(&event), true).unwrap();
    let query = request.uri().query().unwrap();
    assert_eq!(
        query,
        "created_at=gte.2025-01-01T00:00:00%2B00:00&id=gt.1&id=lt.9&name=eq.a%26b%3Dc%20d&tags=cs.%7Ba,b%7D\
         &title=ilike.*r%C3%A9sum%C3%A9*"
    );
    let mut expected: Vec<(String, String)> = params
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(k, vs)| {
            vs.as_array()
                .unwrap()
                .iter()
                .map(move |v| (k.clone(), v.as_str().unwrap().to_string()))
        })
        .collect();
    expected.sort();
    assert_eq!(decoded_pairs(query), expected);
}

#[test]
fn rest_path_never_loses_a_segment_named_like_the_stage() {
    let mut event = fixture("apigw-rest-get.json");
    event["requestContext"]["stage"] = json!("rest");
    let request = to_app_request(lambda_request(&event), true).unwrap();
    assert_eq!(request.uri().path(), "/rest/v1/posts");
}

#[test]
fn custom_domain_base_path_is_dropped() {
    let mut event = fixture("apigw-rest-get.json");
    event["path"] = json!("/api/rest/v1/posts");
    event["requestContext"]["path"] = json!("/api/rest/v1/posts");
    let request = to_app_request(lambda_request(&event), true).unwrap();
    assert_eq!(request.uri().path(), "/rest/v1/posts");
}

#[test]
fn http_api_get_passes_the_raw_query_string() {
    let request = app_request("apigw-http-get.json", true);
    assert_eq!(request.method(), http::Method::GET);
    assert_eq!(request.uri().path(), "/rest/v1/posts");
    assert_eq!(request.uri().query(), Some(GET_QUERY));
    assert!(header(&request, "apikey").starts_with("eyJ"));
    assert!(request.body().is_empty());
    assert!(request.extensions().get::<AuthorizerIdentity>().is_none());
}

#[test]
fn http_api_named_stage_is_stripped_from_raw_path() {
    let request = app_request("apigw-http-post.json", true);
    assert_eq!(request.method(), http::Method::POST);
    assert_eq!(request.uri().path(), "/rest/v1/posts");
    assert_eq!(request.uri().query(), None);
    assert_eq!(request.body(), &Bytes::from_static(POST_BODY.as_bytes()));
    assert_eq!(header(&request, "prefer"), "return=representation");
}

#[test]
fn http_api_lambda_authorizer_context_is_read() {
    let mut event = fixture("apigw-http-get.json");
    let claims = json!({ "role": "authenticated", "sub": USER_SUB }).to_string();
    event["requestContext"]["authorizer"] =
        json!({ "lambda": { "role": "authenticated", "sub": USER_SUB, "claims": claims } });
    let request = to_app_request(lambda_request(&event), true).unwrap();
    let identity = request.extensions().get::<AuthorizerIdentity>().unwrap();
    assert_eq!(identity.role, "authenticated");
    assert_eq!(identity.claims["sub"], USER_SUB);
}

#[test]
fn base64_bodies_arrive_decoded() {
    let mut event = fixture("apigw-http-post.json");
    event["body"] = json!("/wAQgA==");
    event["isBase64Encoded"] = json!(true);
    let request = to_app_request(lambda_request(&event), true).unwrap();
    assert_eq!(request.body(), &Bytes::from_static(&[0xff, 0x00, 0x10, 0x80]));
}

#[test]
fn responses_are_text_when_utf8_and_binary_otherwise() {
    let mut response = http::Response::new(Bytes::from_static(br#"[{"id":1}]"#));
    *response.status_mut() = http::StatusCode::CREATED;
    response
        .headers_mut()
        .insert("content-range", http::HeaderValue::from_static("0-0/*"));
    let out = to_lambda_response(response);
    assert_eq!(out.status(), http::StatusCode::CREATED);
    assert_eq!(out.headers()["content-range"], "0-0/*");
    assert_eq!(out.body(), &Body::Text(r#"[{"id":1}]"#.to_string()));

    let out = to_lambda_response(http::Response::new(Bytes::from_static(&[0xff, 0xfe])));
    assert_eq!(out.body(), &Body::Binary(vec![0xff, 0xfe]));

    let out = to_lambda_response(http::Response::new(Bytes::new()));
    assert_eq!(out.body(), &Body::Empty);
}

#[test]
fn the_gateways_source_ip_is_the_client_address_not_x_forwarded_for() {
    for name in ["apigw-rest-get.json", "apigw-http-get.json"] {
        let mut event = fixture(name);
        // A client-chosen first hop must not become the rate-limit key.
        event["headers"]["X-Forwarded-For"] = serde_json::json!("1.2.3.4, 203.0.113.24");
        let request = to_app_request(lambda_request(&event), true).unwrap();
        let addr = request.extensions().get::<pgrest_core::ClientAddr>().copied();
        assert_eq!(addr, Some(pgrest_core::ClientAddr("203.0.113.24".parse().unwrap())), "{name}");
    }
}

#[test]
fn the_lambda_request_id_becomes_the_request_id() {
    use lambda_http::RequestExt;
    let mut context = lambda_http::Context::default();
    context.request_id = "8476a536-e9f4-11e8-9739-2dfe598c3fcd".to_string();
    let request = to_app_request(lambda_request(&fixture("apigw-rest-get.json")).with_lambda_context(context), true).unwrap();
    let id = request.extensions().get::<pgrest_core::RequestId>().cloned();
    assert_eq!(id, Some(pgrest_core::RequestId("8476a536-e9f4-11e8-9739-2dfe598c3fcd".into())));
    // Without a Lambda context (e.g. `cargo lambda invoke` of a bare event), API Gateway's id.
    let request = app_request("apigw-http-get.json", true);
    assert_eq!(request.extensions().get::<pgrest_core::RequestId>().cloned(), Some(pgrest_core::RequestId("Jx3bIg0EjoEEMkQ=".into())));
}
