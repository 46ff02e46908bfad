//! The auth schema migration against a real PostgreSQL: fresh databases, repeated and concurrent
//! runs, the RLS helper functions, API-role privileges, and upgrading a Supabase-made schema.
//!
//! Must not assume a particular cluster state beyond what each test creates (roles are
//! cluster-wide: created idempotently, never dropped).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code"
)]

use pgrest_auth::migrate::{
    AUTH_SCHEMA_VERSION, MigrateError, SchemaStatus, check_schema, migrate, status_message,
};
use pgrest_embedded::shared_test_cluster;
use tokio_postgres::{Client, NoTls};
use uuid::Uuid;

/// A new, empty database on the shared test server; returns its superuser URL.
fn fresh_database() -> String {
    shared_test_cluster()
        .unwrap()
        .fresh_database("auth")
        .unwrap()
        .1
}

async fn connect(url: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.unwrap();
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            eprintln!("connection error: {e}");
        }
    });
    client
}

async fn fresh_client() -> Client {
    connect(&fresh_database()).await
}

/// Creates the Supabase API roles if missing (cluster-wide; concurrent tests may race on it).
async fn ensure_api_roles(client: &Client) {
    for role in ["anon", "authenticated", "service_role"] {
        client
            .batch_execute(&format!(
                "DO $$ BEGIN CREATE ROLE {role} NOLOGIN; \
                 EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;"
            ))
            .await
            .unwrap();
    }
}

async fn versions(client: &Client) -> Vec<String> {
    client
        .query(
            "SELECT version::text FROM auth.schema_migrations ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

async fn columns(client: &Client, table: &str) -> Vec<(String, String)> {
    client
        .query(
            "SELECT column_name::text, data_type::text FROM information_schema.columns \
             WHERE table_schema = 'auth' AND table_name = $1 ORDER BY ordinal_position",
            &[&table],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

/// oid:xmin of every relation and type in `auth`, and each function's definition: changes when a
/// table, index, type or function is created, altered or replaced. (Function ACLs are left out:
/// every run re-grants EXECUTE to the API roles, which may touch the pg_proc rows.)
async fn catalog_fingerprint(client: &Client) -> String {
    client
        .query_one(
            "SELECT concat_ws('|', \
               (SELECT string_agg(oid::text || ':' || xmin::text, ',' ORDER BY oid) \
                  FROM pg_class WHERE relnamespace = 'auth'::regnamespace), \
               (SELECT string_agg(oid::text || ':' || md5(prosrc), ',' ORDER BY oid) \
                  FROM pg_proc WHERE pronamespace = 'auth'::regnamespace), \
               (SELECT string_agg(oid::text || ':' || xmin::text, ',' ORDER BY oid) \
                  FROM pg_type WHERE typnamespace = 'auth'::regnamespace))",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

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
        vec![AUTH_SCHEMA_VERSION.to_string()]
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
        vec![AUTH_SCHEMA_VERSION.to_string()]
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
    assert_eq!(versions(a).await, vec![AUTH_SCHEMA_VERSION.to_string()]);
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
             DELETE FROM auth.schema_migrations WHERE version = '{AUTH_SCHEMA_VERSION}';",
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
        vec![
            "20260121000000".to_string(),
            AUTH_SCHEMA_VERSION.to_string()
        ]
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

/// An `auth` schema as an early GoTrue left it (2021 column names, identities keyed by
/// (provider, id), pop's varchar(14) schema_migrations, an old auth.uid()) is upgraded in place.
#[tokio::test]
async fn upgrades_an_older_supabase_schema_without_losing_rows() {
    let mut client = fresh_client().await;
    let user = Uuid::new_v4();
    let hash = bcrypt::hash("correct horse battery staple", 4).unwrap();
    client
        .batch_execute(
            "CREATE SCHEMA auth; \
             CREATE TABLE auth.users ( \
               instance_id uuid, id uuid NOT NULL PRIMARY KEY, aud varchar(255), role varchar(255), \
               email varchar(255) UNIQUE, encrypted_password varchar(255), confirmed_at timestamptz, \
               invited_at timestamptz, confirmation_token varchar(255), confirmation_sent_at timestamptz, \
               recovery_token varchar(255), recovery_sent_at timestamptz, email_change_token varchar(255), \
               email_change varchar(255), email_change_sent_at timestamptz, last_sign_in_at timestamptz, \
               raw_app_meta_data jsonb, raw_user_meta_data jsonb, is_super_admin bool, \
               created_at timestamptz, updated_at timestamptz, phone varchar(15) UNIQUE); \
             CREATE TABLE auth.identities ( \
               id text NOT NULL, user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE, \
               identity_data jsonb NOT NULL, provider text NOT NULL, last_sign_in_at timestamptz, \
               created_at timestamptz, updated_at timestamptz, PRIMARY KEY (provider, id)); \
             CREATE TABLE auth.refresh_tokens ( \
               instance_id uuid, id bigserial PRIMARY KEY, token varchar(255), user_id varchar(255), \
               revoked bool, created_at timestamptz, updated_at timestamptz); \
             CREATE TABLE auth.audit_log_entries ( \
               instance_id uuid, id uuid PRIMARY KEY, payload json, created_at timestamptz); \
             CREATE TABLE auth.schema_migrations (version varchar(14) NOT NULL); \
             CREATE UNIQUE INDEX schema_migrations_version_idx ON auth.schema_migrations (version); \
             INSERT INTO auth.schema_migrations VALUES ('00'), ('20210710035447'); \
             CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS \
               $$ SELECT nullif(current_setting('request.jwt.claim.sub', true), '')::uuid $$;",
        )
        .await
        .unwrap();
    client
        .execute(
            "INSERT INTO auth.users (instance_id, id, aud, role, email, encrypted_password, confirmed_at, \
               email_change_token, raw_app_meta_data, raw_user_meta_data, created_at, updated_at) \
             VALUES ('00000000-0000-0000-0000-000000000000', $1, 'authenticated', 'authenticated', \
               'dee@example.com', $2, '2021-05-01T10:00:00Z', 'pending-change', \
               '{\"provider\":\"email\"}', '{\"name\":\"Dee\"}', now(), now())",
            &[&user, &hash],
        )
        .await
        .unwrap();
    client
        .batch_execute(&format!(
            "INSERT INTO auth.identities (id, user_id, identity_data, provider) \
               VALUES ('{user}', '{user}', '{{\"sub\":\"{user}\",\"email\":\"Dee@Example.com\"}}', 'email'); \
             INSERT INTO auth.refresh_tokens (token, user_id, revoked) VALUES ('old-token', '{user}', false); \
             INSERT INTO auth.audit_log_entries (id, payload) VALUES ('{}', '{{}}');",
            Uuid::new_v4()
        ))
        .await
        .unwrap();

    let status = check_schema(&client).await.unwrap();
    assert_eq!(
        status,
        SchemaStatus::Outdated {
            found: vec!["00".to_string(), "20210710035447".to_string()]
        }
    );

    migrate(&mut client).await.unwrap();
    assert_eq!(check_schema(&client).await.unwrap(), SchemaStatus::Current);
    assert_eq!(
        versions(&client).await,
        vec![
            "00".to_string(),
            "20210710035447".to_string(),
            AUTH_SCHEMA_VERSION.to_string()
        ]
    );

    let row = client
        .query_one(
            "SELECT encrypted_password, email_confirmed_at = '2021-05-01T10:00:00Z', \
               confirmed_at = email_confirmed_at, email_change_token_new, raw_user_meta_data ->> 'name', \
               is_anonymous, is_sso_user, phone_change, email_change_confirm_status \
             FROM auth.users WHERE id = $1",
            &[&user],
        )
        .await
        .unwrap();
    let kept_hash: String = row.get(0);
    assert_eq!(kept_hash, hash);
    assert!(bcrypt::verify("correct horse battery staple", &kept_hash).unwrap());
    assert!(
        row.get::<_, bool>(1),
        "old confirmed_at became email_confirmed_at"
    );
    assert!(row.get::<_, bool>(2), "confirmed_at is generated from it");
    assert_eq!(row.get::<_, String>(3), "pending-change");
    assert_eq!(row.get::<_, String>(4), "Dee");
    assert!(!row.get::<_, bool>(5));
    assert!(!row.get::<_, bool>(6));
    assert_eq!(row.get::<_, String>(7), "");
    assert_eq!(row.get::<_, i16>(8), 0);

    let identity = client
        .query_one(
            "SELECT provider_id, id IS NOT NULL, email FROM auth.identities WHERE user_id = $1",
            &[&user],
        )
        .await
        .unwrap();
    assert_eq!(identity.get::<_, String>(0), user.to_string());
    assert!(identity.get::<_, bool>(1));
    assert_eq!(identity.get::<_, String>(2), "dee@example.com");

    let token = client
        .query_one(
            "SELECT token, session_id IS NULL FROM auth.refresh_tokens",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(token.get::<_, String>(0), "old-token");
    assert!(token.get::<_, bool>(1));

    let types = columns(&client, "users").await;
    assert!(types.contains(&("phone".to_string(), "text".to_string())));
    let width: i32 = client
        .query_one(
            "SELECT character_maximum_length FROM information_schema.columns \
             WHERE table_schema = 'auth' AND table_name = 'schema_migrations' AND column_name = 'version'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(width, 255);

    // The old auth.uid() was replaced by one that also reads request.jwt.claims.
    let tx = client.transaction().await.unwrap();
    tx.execute(
        "SELECT set_config('request.jwt.claims', $1, true)",
        &[&format!("{{\"sub\":\"{user}\"}}")],
    )
    .await
    .unwrap();
    let uid: Option<Uuid> = tx.query_one("SELECT auth.uid()", &[]).await.unwrap().get(0);
    assert_eq!(uid, Some(user));
    tx.rollback().await.unwrap();

    // The tables now take what the auth service writes.
    let session = Uuid::new_v4();
    client
        .batch_execute(&format!(
            "INSERT INTO auth.sessions (id, user_id, aal) VALUES ('{session}', '{user}', 'aal1'); \
             INSERT INTO auth.refresh_tokens (token, user_id, revoked, parent, session_id) \
               VALUES ('new-token', '{user}', false, 'old-token', '{session}'); \
             INSERT INTO auth.identities (provider_id, user_id, identity_data, provider) \
               VALUES ('gh-1', '{user}', '{{}}', 'github');"
        ))
        .await
        .unwrap();
}

/// A failing migration changes nothing and leaves the connection usable.
#[tokio::test]
async fn a_failed_migration_rolls_back_entirely() {
    let mut client = fresh_client().await;
    // Two accounts whose emails differ only in case: the case-insensitive unique index fails.
    client
        .batch_execute(
            "CREATE SCHEMA auth; \
             CREATE TABLE auth.users (id uuid PRIMARY KEY, email varchar(255)); \
             INSERT INTO auth.users VALUES (gen_random_uuid(), 'Eve@example.com'), \
                                           (gen_random_uuid(), 'eve@example.com');",
        )
        .await
        .unwrap();
    let error = migrate(&mut client).await.unwrap_err();
    let MigrateError::Database(db) = &error else {
        panic!("unexpected error: {error}")
    };
    assert_eq!(db.code().unwrap().code(), "23505");
    let text = error.to_string();
    assert!(
        text.contains("SQLSTATE 23505") && text.contains("users_email_partial_key"),
        "{text}"
    );

    let row = client
        .query_one(
            "SELECT to_regclass('auth.sessions') IS NULL, to_regclass('auth.schema_migrations') IS NULL, \
               (SELECT count(*) FROM information_schema.columns \
                 WHERE table_schema = 'auth' AND table_name = 'users'), \
               (SELECT count(*) FROM auth.users)",
            &[],
        )
        .await
        .unwrap();
    assert!(row.get::<_, bool>(0));
    assert!(row.get::<_, bool>(1));
    assert_eq!(row.get::<_, i64>(2), 2, "users keeps its two columns");
    assert_eq!(row.get::<_, i64>(3), 2);
    assert_eq!(
        check_schema(&client).await.unwrap(),
        SchemaStatus::Outdated { found: Vec::new() }
    );
}
