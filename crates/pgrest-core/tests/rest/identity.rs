//! Identity: apikey and bearer tokens, the anonymous role, database permissions and RLS that
//! read `request.jwt.claims`, and when an authorizer's context is trusted.

use serde_json::json;

use crate::harness::{app, app_with};

#[tokio::test]
async fn anonymous_reads_granted_tables_and_is_refused_elsewhere() {
    let t = app().await;
    assert_eq!(t.get("/rest/v1/users?select=id&id=eq.1").await.status, 200);
    let r = t.get("/rest/v1/notes").await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["code"], "42501");
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    let user = t.token(json!({"role": "authenticated", "sub": "00000000-0000-0000-0000-00000000000a"}));
    let r = t.send("GET", "/rest/v1/secrets", &[("authorization", &format!("Bearer {user}"))], "").await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn rls_sees_the_callers_claims() {
    let t = app().await;
    let anon_key = t.token(json!({"role": "anon"}));
    let user_a = t.token(json!({"role": "authenticated", "sub": "00000000-0000-0000-0000-00000000000a"}));
    let headers = [("apikey", anon_key.as_str()), ("authorization", &format!("Bearer {user_a}"))];
    let r = t.send("GET", "/rest/v1/notes?select=body", &headers, "").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!([{"body": "note of a"}]));
    // WITH CHECK refuses rows owned by someone else.
    let r = t.send("POST", "/rest/v1/notes", &headers, r#"{"owner": "00000000-0000-0000-0000-00000000000b", "body": "forged"}"#).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["code"], "42501");
    let r = t.send("GET", "/rest/v1/rpc/whoami", &headers, "").await;
    assert_eq!(r.json(), json!({"role": "authenticated", "sub": "00000000-0000-0000-0000-00000000000a", "method": "GET"}));
}

#[tokio::test]
async fn permission_errors_of_the_anon_role_are_401_even_with_a_key() {
    let t = app().await;
    let anon_key = t.token(json!({"role": "anon"}));
    let r = t.send("POST", "/rest/v1/users", &[("apikey", &anon_key), ("authorization", &format!("Bearer {anon_key}"))], r#"{"id": 9, "name": "x"}"#).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["code"], "42501");
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
}

#[tokio::test]
async fn bad_tokens_are_rejected_not_downgraded() {
    let t = app().await;
    let r = t.send("GET", "/rest/v1/users", &[("apikey", "not-a-jwt")], "").await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["code"], "PGRST301");
    let expired = t.token(json!({"role": "anon", "exp": 1_000_000}));
    let r = t.send("GET", "/rest/v1/users", &[("authorization", &format!("Bearer {expired}"))], "").await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json(), json!({"code": "PGRST303", "message": "JWT expired", "details": null, "hint": null}));
    let forged = pgrest_core::JwtKeys::new("some-other-secret-some-other-secret-0000", None).sign(&json!({"role": "service_role"})).unwrap();
    let r = t.send("GET", "/rest/v1/secrets", &[("authorization", &format!("Bearer {forged}"))], "").await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn tokens_without_exp_are_refused_as_apikey_and_as_bearer() {
    let t = app().await;
    let forever = t.app.keys().sign(&json!({"role": "service_role"})).unwrap();
    let refused = json!({"code": "PGRST303", "message": "The JWT 'exp' claim is required", "details": null, "hint": null});
    for headers in [[("apikey", forever.clone())], [("authorization", format!("Bearer {forever}"))]] {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = t.send("GET", "/rest/v1/secrets", &headers, "").await;
        assert_eq!(r.status, 401);
        assert_eq!(r.json(), refused);
    }
}

#[tokio::test]
async fn anonymous_access_can_be_disabled() {
    let t = app_with(|c| c.anon_role = None).await;
    let r = t.get("/rest/v1/users").await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["code"], "PGRST302");
}

#[tokio::test]
async fn authorizer_identity_is_trusted_only_when_configured() {
    let identity = pgrest_core::AuthorizerIdentity { role: "service_role".into(), claims: json!({"role": "service_role"}) };
    let request = || {
        let mut r = http::Request::builder().uri("/rest/v1/secrets").body(bytes::Bytes::new()).unwrap();
        r.extensions_mut().insert(identity.clone());
        r
    };
    let t = app().await;
    assert_eq!(t.app.handle(request()).await.status(), 401, "untrusted context must be ignored");
    let t = app_with(|c| c.trust_authorizer = true).await;
    assert_eq!(t.app.handle(request()).await.status(), 200);
}

#[tokio::test]
async fn schema_reload_needs_service_role() {
    let t = app().await;
    t.sql("create table later (id int primary key); grant select on later to anon;");
    assert_eq!(t.get("/rest/v1/later").await.status, 404);
    let anon = t.token(json!({"role": "anon"}));
    let r = t.send("POST", "/rest/v1/_refresh", &[("authorization", &format!("Bearer {anon}"))], "").await;
    assert_eq!(r.status, 401);
    let service = t.token(json!({"role": "service_role"}));
    let r = t.send("POST", "/rest/v1/_refresh", &[("authorization", &format!("Bearer {service}"))], "").await;
    assert_eq!(r.status, 200);
    assert_eq!(t.get("/rest/v1/later").await.status, 200);
}
