//! Every auth error names its code in `x-sb-error-code`, where GoTrue's error handler sets it:
//! on every HTTP error in both formats, except (GoTrue's quirk) weak_password in the 2024-01-01
//! format. Successful answers carry no such header.

use serde_json::json;

use crate::harness::*;

async fn send(call: Call<'_>, legacy: bool) -> Reply {
    if legacy { call.legacy() } else { call }.send().await
}

#[tokio::test]
async fn error_responses_carry_their_code_in_x_sb_error_code() {
    let t = Setup::new().start().await;
    let e = email("hdr");
    t.signup(&e, PASSWORD).await;
    for legacy in [false, true] {
        let cases = [
            (send(t.get("/nowhere"), legacy).await, 404, "not_found"),
            (send(t.get("/token"), legacy).await, 405, "method_not_allowed"),
            (send(t.get("/user"), legacy).await, 401, "no_authorization"),
            (send(t.get("/user").bearer("garbage"), legacy).await, 403, "bad_jwt"),
            (send(t.post("/signup").raw("{not json"), legacy).await, 400, "bad_json"),
            (send(t.post("/token?grant_type=password").json(json!({"email": e, "password": "wrong password"})), legacy).await, 400, "invalid_credentials"),
            (send(t.post("/signup").json(json!({"email": e, "password": PASSWORD})), legacy).await, 422, "user_already_exists"),
        ];
        for (r, status, code) in cases {
            assert_eq!(r.status, status, "{code}: {}", String::from_utf8_lossy(&r.body));
            assert_eq!(r.header("x-sb-error-code"), Some(code), "legacy {legacy}");
        }
    }
    let weak = json!({"email": email("weak"), "password": "12"});
    let r = t.post("/signup").legacy().json(weak.clone()).send().await;
    assert_eq!(r.status, 422);
    assert_eq!(r.header("x-sb-error-code"), Some("weak_password"));
    let r = t.post("/signup").json(weak).send().await;
    assert_eq!(r.status, 422);
    assert_eq!(r.header("x-sb-error-code"), None, "GoTrue sets none on weak_password in the 2024-01-01 format");
    let r = t.post("/token?grant_type=password").json(json!({"email": e, "password": PASSWORD})).send().await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-sb-error-code"), None);
}
