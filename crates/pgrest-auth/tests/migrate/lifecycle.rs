//! Missing → current, read-only checks, idempotent and concurrent runs, re-runs over an existing schema.

use super::*;

#[tokio::test]
async fn fresh_database_goes_from_missing_to_current() {
    let mut client = fresh_client().await;

    let status = check_schema(&client).await.unwrap();
    assert_eq!(status, SchemaStatus::Missing);
    let message = status_message(&status).unwrap();
    assert!(message.contains("missing"), "{message}");
    assert!(message.contains("pgrest-lambda migrate-auth"), "{message}");

    migrate(&mut client).await.unwrap();
    let status = check_schema(&client).await.unwrap();
    assert_eq!(status, SchemaStatus::Current);
    assert_eq!(status_message(&status), None);
    assert_eq!(
        versions(&client).await,
        our_versions()
    );

    let users: Vec<String> = columns(&client, "users")
        .await
        .into_iter()
        .map(|c| c.0)
        .collect();
    let expected = [
        "instance_id",
        "id",
        "aud",
        "role",
        "email",
        "encrypted_password",
        "email_confirmed_at",
        "invited_at",
        "confirmation_token",
        "confirmation_sent_at",
        "recovery_token",
        "recovery_sent_at",
        "email_change_token_new",
        "email_change",
        "email_change_sent_at",
        "last_sign_in_at",
        "raw_app_meta_data",
        "raw_user_meta_data",
        "is_super_admin",
        "created_at",
        "updated_at",
        "phone",
        "phone_confirmed_at",
        "phone_change",
        "phone_change_token",
        "phone_change_sent_at",
        "confirmed_at",
        "email_change_token_current",
        "email_change_confirm_status",
        "banned_until",
        "reauthentication_token",
        "reauthentication_sent_at",
        "is_sso_user",
        "deleted_at",
        "is_anonymous",
    ];
    assert_eq!(users, expected);

    let identities: Vec<String> = columns(&client, "identities")
        .await
        .into_iter()
        .map(|c| c.0)
        .collect();
    assert_eq!(
        identities,
        [
            "provider_id",
            "user_id",
            "identity_data",
            "provider",
            "last_sign_in_at",
            "created_at",
            "updated_at",
            "email",
            "id"
        ]
    );
    let flow_state: Vec<String> = columns(&client, "flow_state")
        .await
        .into_iter()
        .map(|c| c.0)
        .collect();
    for column in [
        "auth_code",
        "code_challenge_method",
        "authentication_method",
        "redirect_to",
        "state_hash",
    ] {
        assert!(
            flow_state.iter().any(|c| c == column),
            "flow_state.{column}"
        );
    }

    // Generated columns, cascades and uniqueness behave as in Supabase.
    let user = Uuid::new_v4();
    client
        .execute(
            "INSERT INTO auth.users (id, aud, role, email, phone_confirmed_at, email_confirmed_at, \
             raw_app_meta_data, raw_user_meta_data, created_at, updated_at) \
             VALUES ($1, 'authenticated', 'authenticated', 'Ann@Example.com', \
             '2024-01-02T00:00:00Z', '2024-01-01T00:00:00Z', '{}', '{}', now(), now())",
            &[&user],
        )
        .await
        .unwrap();
    let confirmed: String = client
        .query_one(
            "SELECT to_char(confirmed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') FROM auth.users WHERE id = $1",
            &[&user],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(confirmed, "2024-01-01");
    let duplicate = client
        .execute(
            "INSERT INTO auth.users (id, email) VALUES ($1, 'ann@example.com')",
            &[&Uuid::new_v4()],
        )
        .await
        .unwrap_err();
    assert_eq!(duplicate.code().unwrap().code(), "23505", "{duplicate:?}");
    // SSO accounts may share an email.
    client
        .execute(
            "INSERT INTO auth.users (id, email, is_sso_user) VALUES ($1, 'ann@example.com', true)",
            &[&Uuid::new_v4()],
        )
        .await
        .unwrap();

    let session = Uuid::new_v4();
    client
        .batch_execute(&format!(
            "INSERT INTO auth.identities (provider_id, user_id, identity_data, provider) \
               VALUES ('{user}', '{user}', '{{\"sub\":\"{user}\",\"email\":\"Ann@Example.com\"}}', 'email'); \
             INSERT INTO auth.sessions (id, user_id, aal) VALUES ('{session}', '{user}', 'aal1'); \
             INSERT INTO auth.refresh_tokens (token, user_id, revoked, session_id) \
               VALUES ('tok1', '{user}', false, '{session}'); \
             INSERT INTO auth.one_time_tokens (id, user_id, token_type, token_hash, relates_to) \
               VALUES ('{}', '{user}', 'confirmation_token', 'abc', 'ann@example.com'); \
             INSERT INTO auth.flow_state (id, provider_type, authentication_method, redirect_to, state_hash) \
               VALUES ('{}', 'github', 'oauth', 'https://app.example/cb', 'h');",
            Uuid::new_v4(),
            Uuid::new_v4()
        ))
        .await
        .unwrap();
    let email: String = client
        .query_one(
            "SELECT email FROM auth.identities WHERE user_id = $1",
            &[&user],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(email, "ann@example.com");
    let empty_hash = client
        .execute(
            "INSERT INTO auth.one_time_tokens (id, user_id, token_type, token_hash, relates_to) \
             VALUES ($1, $2, 'recovery_token', '', 'x')",
            &[&Uuid::new_v4(), &user],
        )
        .await
        .unwrap_err();
    assert_eq!(empty_hash.code().unwrap().code(), "23514");

    client
        .execute("DELETE FROM auth.users WHERE id = $1", &[&user])
        .await
        .unwrap();
    let left: i64 = client
        .query_one(
            "SELECT (SELECT count(*) FROM auth.identities) + (SELECT count(*) FROM auth.sessions) \
             + (SELECT count(*) FROM auth.refresh_tokens) + (SELECT count(*) FROM auth.one_time_tokens)",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        left, 0,
        "deleting a user cascades to its identities, sessions and tokens"
    );
}

#[tokio::test]
async fn check_schema_is_read_only() {
    let mut client = fresh_client().await;
    // Inside a read-only transaction any write would fail.
    client.batch_execute("BEGIN READ ONLY").await.unwrap();
    assert_eq!(check_schema(&client).await.unwrap(), SchemaStatus::Missing);
    client.batch_execute("COMMIT").await.unwrap();
    let schemas: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_namespace WHERE nspname = 'auth'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(schemas, 0);

    migrate(&mut client).await.unwrap();
    client.batch_execute("BEGIN READ ONLY").await.unwrap();
    assert_eq!(check_schema(&client).await.unwrap(), SchemaStatus::Current);
    client.batch_execute("COMMIT").await.unwrap();
}

#[tokio::test]
async fn second_migrate_is_a_no_op() {
    let mut client = fresh_client().await;
    ensure_api_roles(&client).await;
    migrate(&mut client).await.unwrap();
    let before = catalog_fingerprint(&client).await;
    migrate(&mut client).await.unwrap();
    migrate(&mut client).await.unwrap();
    assert_eq!(
        catalog_fingerprint(&client).await,
        before,
        "no auth object was touched"
    );
    assert_eq!(
        versions(&client).await,
        our_versions()
    );
    assert_eq!(check_schema(&client).await.unwrap(), SchemaStatus::Current);
}

#[tokio::test]
async fn concurrent_migrations_both_succeed() {
    let url = fresh_database();
    let mut clients = Vec::new();
    for _ in 0..4 {
        clients.push(connect(&url).await);
    }
    let [a, b, c, d] = clients.as_mut_slice() else {
        unreachable!()
    };
    let (ra, rb, rc, rd) = tokio::join!(migrate(a), migrate(b), migrate(c), migrate(d));
    for result in [ra, rb, rc, rd] {
        result.unwrap();
    }
    assert_eq!(check_schema(a).await.unwrap(), SchemaStatus::Current);
    assert_eq!(versions(a).await, our_versions());
}

/// Re-running the whole script over an existing schema (as on a Supabase dump, where our version
/// row is absent) keeps every row and everything Supabase has that we do not.
#[tokio::test]
async fn full_rerun_over_existing_schema_keeps_rows_and_foreign_objects() {
    let mut client = fresh_client().await;
    migrate(&mut client).await.unwrap();
    let user = Uuid::new_v4();
    let session = Uuid::new_v4();
    // Rows, then things a newer Supabase schema has and we do not create, then no version of ours.
    client
        .batch_execute(&format!(
            "INSERT INTO auth.users (id, email, encrypted_password) VALUES ('{user}', 'b@example.com', '$2a$10$abcdefghijklmnopqrstuu'); \
             INSERT INTO auth.identities (provider_id, user_id, identity_data, provider) \
               VALUES ('{user}', '{user}', '{{\"email\":\"b@example.com\"}}', 'email'); \
             INSERT INTO auth.sessions (id, user_id) VALUES ('{session}', '{user}'); \
             INSERT INTO auth.refresh_tokens (token, user_id, session_id) VALUES ('t', '{user}', '{session}'); \
             INSERT INTO auth.audit_log_entries (id, payload) VALUES ('{}', '{{\"action\":\"login\"}}'); \
             ALTER TABLE auth.sessions ADD COLUMN refresh_token_counter bigint; \
             UPDATE auth.sessions SET refresh_token_counter = 7; \
             CREATE TABLE auth.mfa_factors (id uuid PRIMARY KEY, user_id uuid REFERENCES auth.users ON DELETE CASCADE); \
             INSERT INTO auth.schema_migrations VALUES ('20260121000000'); \
             DELETE FROM auth.schema_migrations WHERE version LIKE 'pgrest-lambda-%';",
            Uuid::new_v4()
        ))
        .await
        .unwrap();
    let status = check_schema(&client).await.unwrap();
    assert_eq!(
        status,
        SchemaStatus::Outdated {
            found: vec!["20260121000000".to_string()]
        }
    );
    let message = status_message(&status).unwrap();
    assert!(message.contains("Supabase Auth"), "{message}");

    migrate(&mut client).await.unwrap();
    assert_eq!(check_schema(&client).await.unwrap(), SchemaStatus::Current);
    assert_eq!(
        versions(&client).await,
        [vec!["20260121000000".to_string()], our_versions()].concat()
    );
    let row = client
        .query_one(
            "SELECT u.encrypted_password, s.refresh_token_counter, \
               (SELECT count(*) FROM auth.refresh_tokens), (SELECT count(*) FROM auth.identities), \
               (SELECT count(*) FROM auth.audit_log_entries), to_regclass('auth.mfa_factors') IS NOT NULL \
             FROM auth.users u JOIN auth.sessions s ON s.user_id = u.id",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "$2a$10$abcdefghijklmnopqrstuu");
    assert_eq!(row.get::<_, i64>(1), 7);
    assert_eq!(row.get::<_, i64>(2), 1);
    assert_eq!(row.get::<_, i64>(3), 1);
    assert_eq!(row.get::<_, i64>(4), 1);
    assert!(row.get::<_, bool>(5));
}
