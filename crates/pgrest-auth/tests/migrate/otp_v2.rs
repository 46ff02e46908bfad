//! `pgrest-lambda-1` → `pgrest-lambda-2`: the one-time-token guard tables are added to a schema
//! that has only v1 (with pending tokens), which keeps its rows and is then current.

use super::*;

#[tokio::test]
async fn a_v1_schema_with_pending_tokens_upgrades_to_v2() {
    let mut client = fresh_client().await;
    migrate(&mut client).await.unwrap();
    let user = Uuid::new_v4();
    // Back to what pgrest-lambda-1 left: no guard tables, no v2 version row; one pending token.
    client
        .batch_execute(&format!(
            "DROP TABLE auth.one_time_token_guards; DROP TABLE auth.otp_address_failures; \
             DELETE FROM auth.schema_migrations WHERE version = '{AUTH_SCHEMA_VERSION}'; \
             INSERT INTO auth.users (id, email) VALUES ('{user}', 'p@example.com'); \
             INSERT INTO auth.one_time_tokens (id, user_id, token_type, token_hash, relates_to) \
               VALUES ('{}', '{user}', 'confirmation_token', 'abc', 'p@example.com');",
            Uuid::new_v4()
        ))
        .await
        .unwrap();
    let status = check_schema(&client).await.unwrap();
    assert_eq!(status, SchemaStatus::Outdated { found: vec!["pgrest-lambda-1".to_string()] });
    let message = status_message(&status).unwrap();
    assert!(message.contains(AUTH_SCHEMA_VERSION), "{message}");

    migrate(&mut client).await.unwrap();
    assert_eq!(check_schema(&client).await.unwrap(), SchemaStatus::Current);
    assert_eq!(versions(&client).await, ours());
    let row = client
        .query_one(
            "SELECT (SELECT count(*) FROM auth.one_time_tokens), (SELECT count(*) FROM auth.one_time_token_guards), \
               (SELECT count(*) FROM auth.otp_address_failures), \
               (SELECT relrowsecurity FROM pg_class WHERE oid = 'auth.one_time_token_guards'::regclass)",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 1, "the pending token is kept");
    assert_eq!(row.get::<_, i64>(1), 0);
    assert_eq!(row.get::<_, i64>(2), 0);
    assert!(row.get::<_, bool>(3), "row-level security on, like every auth table");
    // Guards go with their token.
    client
        .batch_execute("INSERT INTO auth.one_time_token_guards (token_id, link_hash) SELECT id, 'h' FROM auth.one_time_tokens; DELETE FROM auth.one_time_tokens;")
        .await
        .unwrap();
    let guards: i64 = client.query_one("SELECT count(*) FROM auth.one_time_token_guards", &[]).await.unwrap().get(0);
    assert_eq!(guards, 0);
}
