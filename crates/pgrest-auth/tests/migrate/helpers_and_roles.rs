//! `auth.uid()`/`role()`/`email()`/`jwt()` and what the API roles may and may not touch.

use super::*;

#[tokio::test]
async fn helper_functions_read_the_request_claims() {
    let mut client = fresh_client().await;
    migrate(&mut client).await.unwrap();
    let sub = Uuid::new_v4();

    let tx = client.transaction().await.unwrap();
    let row = tx
        .query_one(
            "SELECT auth.uid(), auth.role(), auth.email(), auth.jwt()",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, Option<Uuid>>(0), None);
    assert_eq!(row.get::<_, Option<String>>(1), None);
    assert_eq!(row.get::<_, Option<String>>(2), None);
    assert_eq!(row.get::<_, Option<serde_json::Value>>(3), None);

    let claims = serde_json::json!({
        "sub": sub.to_string(),
        "role": "authenticated",
        "email": "c@example.com",
        "app_metadata": {"provider": "email"},
    })
    .to_string();
    tx.execute(
        "SELECT set_config('request.jwt.claims', $1, true)",
        &[&claims],
    )
    .await
    .unwrap();
    let row = tx
        .query_one(
            "SELECT auth.uid(), auth.jwt() ->> 'role', auth.role(), auth.email(), \
             auth.jwt() -> 'app_metadata' ->> 'provider'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, Option<Uuid>>(0), Some(sub));
    assert_eq!(
        row.get::<_, Option<String>>(1).as_deref(),
        Some("authenticated")
    );
    assert_eq!(
        row.get::<_, Option<String>>(2).as_deref(),
        Some("authenticated")
    );
    assert_eq!(
        row.get::<_, Option<String>>(3).as_deref(),
        Some("c@example.com")
    );
    assert_eq!(row.get::<_, Option<String>>(4).as_deref(), Some("email"));
    tx.rollback().await.unwrap();

    // Settings are transaction-local: gone after the rollback.
    let uid: Option<Uuid> = client
        .query_one("SELECT auth.uid()", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(uid, None);

    // Legacy per-claim settings win over request.jwt.claims, as in Supabase; '' counts as unset.
    let legacy = Uuid::new_v4();
    let tx = client.transaction().await.unwrap();
    tx.execute(
        "SELECT set_config('request.jwt.claim.sub', $1, true), \
                set_config('request.jwt.claims', $2, true), \
                set_config('request.jwt.claim.role', '', true)",
        &[&legacy.to_string(), &claims],
    )
    .await
    .unwrap();
    let row = tx
        .query_one("SELECT auth.uid(), auth.role()", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, Option<Uuid>>(0), Some(legacy));
    assert_eq!(
        row.get::<_, Option<String>>(1).as_deref(),
        Some("authenticated")
    );
    tx.execute(
        "SELECT set_config('request.jwt.claim', '{\"role\":\"anon\"}', true)",
        &[],
    )
    .await
    .unwrap();
    let role: Option<String> = tx
        .query_one("SELECT auth.jwt() ->> 'role'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(role.as_deref(), Some("anon"));
    tx.rollback().await.unwrap();

    let volatility: Vec<String> = client
        .query(
            "SELECT provolatile::text FROM pg_proc WHERE pronamespace = 'auth'::regnamespace \
             AND proname IN ('uid', 'role', 'email', 'jwt')",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(volatility, ["s", "s", "s", "s"]);
}

#[tokio::test]
async fn api_roles_call_helpers_but_cannot_read_tables() {
    let mut client = fresh_client().await;
    ensure_api_roles(&client).await;
    migrate(&mut client).await.unwrap();
    let sub = Uuid::new_v4();
    let claims = serde_json::json!({"sub": sub.to_string(), "role": "authenticated"}).to_string();

    for role in ["authenticated", "anon", "service_role"] {
        let tx = client.transaction().await.unwrap();
        tx.batch_execute(&format!("SET LOCAL ROLE {role}"))
            .await
            .unwrap();
        tx.execute(
            "SELECT set_config('request.jwt.claims', $1, true)",
            &[&claims],
        )
        .await
        .unwrap();
        let uid: Option<Uuid> = tx.query_one("SELECT auth.uid()", &[]).await.unwrap().get(0);
        assert_eq!(uid, Some(sub), "{role}");
        let jwt_role: Option<String> = tx
            .query_one("SELECT auth.jwt() ->> 'role'", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(jwt_role.as_deref(), Some("authenticated"));
        tx.rollback().await.unwrap();

        for table in [
            "users",
            "identities",
            "sessions",
            "refresh_tokens",
            "one_time_tokens",
            "flow_state",
            "audit_log_entries",
            "schema_migrations",
        ] {
            let tx = client.transaction().await.unwrap();
            tx.batch_execute(&format!("SET LOCAL ROLE {role}"))
                .await
                .unwrap();
            let denied = tx
                .query(&format!("SELECT * FROM auth.{table}"), &[])
                .await
                .unwrap_err();
            assert_eq!(
                denied.code().unwrap().code(),
                "42501",
                "{role} reading auth.{table}"
            );
            tx.rollback().await.unwrap();
        }
    }

    // A grant lost (or a role created) after the first run comes back with the next run, even
    // though the schema is already current.
    client
        .batch_execute("REVOKE USAGE ON SCHEMA auth FROM authenticated")
        .await
        .unwrap();
    migrate(&mut client).await.unwrap();
    let usage: bool = client
        .query_one(
            "SELECT has_schema_privilege('authenticated', 'auth', 'USAGE')",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(usage);

    // Row-level security is on for every table (defence against a stray grant).
    let without_rls: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_class WHERE relnamespace = 'auth'::regnamespace \
             AND relkind = 'r' AND NOT relrowsecurity",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(without_rls, 0);
}
