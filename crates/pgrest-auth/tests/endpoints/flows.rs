//! `GET /authorize` cannot grow `auth.flow_state` without bound: it is rate limited per IP and
//! each call deletes a bounded batch of expired flows (OAuth and email alike).

use std::time::Duration;

use pgrest_auth::ratelimit::Limit;

use crate::harness::*;
use crate::support::fake_oauth::FakeProvider;

async fn flows(t: &TestAuth, expired: bool) -> i64 {
    let sql = if expired {
        "SELECT count(*) FROM auth.flow_state WHERE created_at < now() - interval '1 day'"
    } else {
        "SELECT count(*) FROM auth.flow_state WHERE created_at >= now() - interval '1 day'"
    };
    t.query_one(sql, &[]).await.get(0)
}

#[tokio::test]
async fn authorize_is_rate_limited_per_ip() {
    let fake = FakeProvider::start(vec![]).await;
    let t = Setup::new().oauth(&fake).configure(|c| c.limits.authorize_per_ip = Limit { max: 3, per: Duration::from_secs(300) }).start().await;
    for _ in 0..3 {
        assert_eq!(t.get("/authorize?provider=github").ip("203.0.113.7").send().await.status, 302);
    }
    let r = t.get("/authorize?provider=github").ip("203.0.113.7").send().await;
    r.expect_error(429, "over_request_rate_limit", "Request rate limit reached");
    assert_eq!(r.header("x-sb-error-code"), Some("over_request_rate_limit"));
    assert!(r.header("retry-after").is_some());
    assert_eq!(flows(&t, false).await, 3, "the refused call stored nothing");
    // Another client is not affected.
    assert_eq!(t.get("/authorize?provider=github").ip("203.0.113.8").send().await.status, 302);
}

#[tokio::test]
async fn authorize_deletes_expired_flows_in_bounded_batches() {
    let fake = FakeProvider::start(vec![]).await;
    let t = Setup::new().oauth(&fake).start().await;
    // 250 abandoned flows from two days ago (OAuth and email ones), and one email flow still
    // within its link's lifetime (an hour, MAILER_OTP_EXP's default).
    t.execute(
        "INSERT INTO auth.flow_state (id, provider_type, authentication_method, created_at, updated_at) \
         SELECT gen_random_uuid(), CASE WHEN i % 2 = 0 THEN 'github' ELSE 'email' END, 'oauth', \
                now() - interval '2 days', now() - interval '2 days' FROM generate_series(1, 250) AS i",
        &[],
    )
    .await;
    t.execute(
        "INSERT INTO auth.flow_state (id, provider_type, authentication_method, created_at, updated_at) \
         VALUES (gen_random_uuid(), 'email', 'magiclink', now() - interval '50 minutes', now())",
        &[],
    )
    .await;
    assert_eq!(t.get("/authorize?provider=github").send().await.status, 302);
    assert_eq!(flows(&t, true).await, 150, "one call deletes at most 100");
    for _ in 0..2 {
        assert_eq!(t.get("/authorize?provider=github").send().await.status, 302);
    }
    assert_eq!(flows(&t, true).await, 0);
    assert_eq!(flows(&t, false).await, 4, "the live email flow and the three new ones stay");
}
