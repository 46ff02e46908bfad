//! `POST /logout?scope=local|others|global`: revoking sessions (S-07).

use crate::harness::*;

#[tokio::test]
async fn local_logout_ends_only_this_session() {
    let t = Setup::new().start().await;
    let e = email("local");
    let a = t.signup(&e, PASSWORD).await;
    let b = t.sign_in(&e, PASSWORD).await;
    let r = t.post("/logout?scope=local").bearer(&a.access_token).send().await;
    assert_eq!(r.status, 204);
    assert!(r.body.is_empty());
    t.get("/user").bearer(&a.access_token).send().await.expect_error(403, "session_not_found", "Session from session_id claim in JWT does not exist");
    t.refresh(&a.refresh_token).await.expect_error(400, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found");
    t.get("/user").bearer(&b.access_token).send().await.expect(200);
    t.refresh(&b.refresh_token).await.expect(200);
    // Logging out again with the dead token is refused.
    t.post("/logout?scope=local").bearer(&a.access_token).send().await.expect_code(403, "session_not_found");
}

#[tokio::test]
async fn others_logout_keeps_the_current_session() {
    let t = Setup::new().start().await;
    let e = email("others");
    let a = t.signup(&e, PASSWORD).await;
    let b = t.sign_in(&e, PASSWORD).await;
    let c = t.sign_in(&e, PASSWORD).await;
    let someone = t.signup(&email("someone"), PASSWORD).await;
    assert_eq!(t.post("/logout?scope=others").bearer(&a.access_token).send().await.status, 204);
    t.get("/user").bearer(&a.access_token).send().await.expect(200);
    t.refresh(&a.refresh_token).await.expect(200);
    for ended in [&b, &c] {
        t.get("/user").bearer(&ended.access_token).send().await.expect_code(403, "session_not_found");
        t.refresh(&ended.refresh_token).await.expect_code(400, "refresh_token_not_found");
    }
    t.get("/user").bearer(&someone.access_token).send().await.expect(200);
}

#[tokio::test]
async fn global_logout_ends_every_session() {
    let t = Setup::new().start().await;
    let e = email("global");
    let a = t.signup(&e, PASSWORD).await;
    let b = t.sign_in(&e, PASSWORD).await;
    let someone = t.signup(&email("bystander"), PASSWORD).await;
    assert_eq!(t.post("/logout?scope=global").bearer(&b.access_token).send().await.status, 204);
    for ended in [&a, &b] {
        t.get("/user").bearer(&ended.access_token).send().await.expect_code(403, "session_not_found");
        t.refresh(&ended.refresh_token).await.expect_code(400, "refresh_token_not_found");
    }
    t.get("/user").bearer(&someone.access_token).send().await.expect(200);
    let sessions: i64 = t.query_one("SELECT count(*) FROM auth.sessions WHERE user_id = $1::text::uuid", &[&a.user_id]).await.get(0);
    assert_eq!(sessions, 0);

    // No scope means global; the user signs in again normally.
    let c = t.sign_in(&e, PASSWORD).await;
    let d = t.sign_in(&e, PASSWORD).await;
    assert_eq!(t.post("/logout").bearer(&c.access_token).send().await.status, 204);
    t.get("/user").bearer(&d.access_token).send().await.expect_code(403, "session_not_found");
}

#[tokio::test]
async fn logout_errors() {
    let t = Setup::new().start().await;
    let s = t.signup(&email("logout-errors"), PASSWORD).await;
    t.post("/logout").send().await.expect_code(401, "no_authorization");
    t.post("/logout").bearer("garbage").send().await.expect_code(403, "bad_jwt");
    t.post("/logout?scope=everything").bearer(&s.access_token).send().await.expect_error(400, "validation_failed", "Unsupported logout scope \"everything\"");
    t.get("/user").bearer(&s.access_token).send().await.expect(200);
}
