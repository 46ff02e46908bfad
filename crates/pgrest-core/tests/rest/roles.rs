//! Roles (V-06): `none`, the empty role and the login role are refused with PostgREST's answer to
//! a role that does not exist; other roles are left to the database's grants; the optional
//! allow-list; what the App learns about its login role at start.

use serde_json::{json, Value};

use crate::harness::{app, app_with, TestApp};
use crate::observe::Captured;

fn bearer(t: &TestApp, role: &str) -> String {
    format!("Bearer {}", t.token(json!({"role": role})))
}

fn does_not_exist(role: &str) -> Value {
    json!({"code": "22023", "message": format!("role \"{role}\" does not exist"), "details": null, "hint": null})
}

#[tokio::test]
async fn none_empty_and_the_login_role_are_refused() {
    let t = app().await;
    for role in ["none", "", "authenticator"] {
        let r = t.send("GET", "/rest/v1/users?select=id&id=eq.1", &[("authorization", &bearer(&t, role))], "").await;
        assert_eq!(r.status, 401, "role {role:?}");
        assert_eq!(r.json(), does_not_exist(role), "role {role:?}");
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    }
}

/// The escape itself: with a superuser login (as many a `DATABASE_URL` names), `none` and the
/// login role's name used to run the request as that superuser and read anything.
#[tokio::test]
async fn a_superuser_login_cannot_be_reached_through_the_role_claim() {
    let logs = Captured::default();
    let guard = logs.start();
    let t = app_with(|c| c.database_url = c.database_url.replacen("authenticator@", "postgres@", 1)).await;
    drop(guard);
    let warnings: Vec<String> = logs.lines().into_iter().filter(|l| l.contains("WARN")).collect();
    assert!(warnings.len() == 1 && warnings.iter().all(|w| w.contains("login role is a superuser") && w.contains("role=postgres")), "{warnings:#?}");
    let login = t.app.login_role();
    assert_eq!((login.name.as_str(), login.superuser), ("postgres", true));
    assert!(login.warning().is_some_and(|w| w.contains("superuser")));
    for role in ["none", "postgres"] {
        let r = t.send("GET", "/rest/v1/secrets", &[("authorization", &bearer(&t, role))], "").await;
        assert_eq!(r.status, 401, "role {role:?}: {:?}", r.body);
        assert_eq!(r.json(), does_not_exist(role));
    }
    // Roles the superuser may become still work (its grants decide, as in PostgREST).
    let r = t.send("GET", "/rest/v1/secrets", &[("authorization", &bearer(&t, "service_role"))], "").await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn the_test_login_is_a_noinherit_authenticator_without_warning() {
    let logs = Captured::default();
    let guard = logs.start();
    let t = app().await;
    drop(guard);
    assert!(!logs.lines().iter().any(|l| l.contains("WARN")), "{:#?}", logs.lines());
    let login = t.app.login_role();
    assert_eq!(login.name, "authenticator");
    assert!(!login.superuser && !login.bypass_rls && !login.inherit, "{login:?}");
    assert_eq!(login.warning(), None);
}

#[tokio::test]
async fn other_roles_are_left_to_the_database_grants() {
    let t = app().await;
    // `postgres` exists but was never granted to the authenticator: PostgreSQL refuses it.
    let r = t.send("GET", "/rest/v1/users", &[("authorization", &bearer(&t, "postgres"))], "").await;
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["code"], "42501");
    assert_eq!(r.json()["message"], "permission denied to set role \"postgres\"");
    // `NONE` is not PostgreSQL's keyword (exact match), just a role that does not exist.
    let r = t.send("GET", "/rest/v1/users", &[("authorization", &bearer(&t, "NONE"))], "").await;
    assert_eq!(r.json()["code"], "22023");
    assert_eq!(r.json()["message"], "role \"NONE\" does not exist");
}

#[tokio::test]
async fn the_allow_list_refuses_roles_outside_it() {
    let t = app_with(|c| c.allowed_roles = Some(vec!["authenticated".into()])).await;
    let r = t.send("GET", "/rest/v1/secrets", &[("authorization", &bearer(&t, "service_role"))], "").await;
    assert_eq!(r.status, 403);
    assert_eq!(r.json(), json!({"code": "42501", "message": "permission denied to set role \"service_role\"", "details": null, "hint": null}));
    let r = t.send("GET", "/rest/v1/posts?select=id&limit=1", &[("authorization", &bearer(&t, "authenticated"))], "").await;
    assert_eq!(r.status, 200);
    // The anonymous role is configured, not claimed: always allowed.
    assert_eq!(t.get("/rest/v1/users?select=id&id=eq.1").await.status, 200);
    assert_eq!(t.send("GET", "/rest/v1/users?select=id&id=eq.1", &[("authorization", &bearer(&t, "anon"))], "").await.status, 200);
}

#[tokio::test]
async fn a_trusted_authorizer_role_is_checked_too() {
    let t = app_with(|c| c.trust_authorizer = true).await;
    let mut request = http::Request::builder().uri("/rest/v1/users").body(bytes::Bytes::new()).unwrap();
    request.extensions_mut().insert(pgrest_core::AuthorizerIdentity { role: "none".into(), claims: json!({"role": "none"}) });
    let response = t.app.handle(request).await;
    assert_eq!(response.status(), 401);
    assert_eq!(serde_json::from_slice::<Value>(response.body()).unwrap(), does_not_exist("none"));
}
