//! Upgrading an older Supabase-style schema, and a failed migration rolling back entirely.

use super::*;

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
        [vec!["00".to_string(), "20210710035447".to_string()], ours()].concat()
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
    assert_eq!(
        token.get::<_, String>(0),
        pgrest_auth::tokens::hash_token("old-token"),
        "plaintext refresh tokens are hashed in place"
    );
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

/// Upgrading to hashed refresh tokens rewrites plaintext tokens and parents once; hashes (ours,
/// or from an earlier run) are never hashed again.
#[tokio::test]
async fn refresh_tokens_are_hashed_in_place_exactly_once() {
    use pgrest_auth::tokens::hash_token;
    let mut client = fresh_client().await;
    migrate(&mut client).await.unwrap();
    let (user, session) = (Uuid::new_v4(), Uuid::new_v4());
    let ours = hash_token("a-token-written-by-this-version");
    client
        .batch_execute(&format!(
            "INSERT INTO auth.users (id, email) VALUES ('{user}', 'h@example.com'); \
             INSERT INTO auth.sessions (id, user_id) VALUES ('{session}', '{user}'); \
             INSERT INTO auth.refresh_tokens (token, user_id, revoked, parent, session_id) VALUES \
               ('abcdefghij12', '{user}', true, NULL, '{session}'), \
               ('abcdefghij13', '{user}', false, 'abcdefghij12', '{session}'), \
               ('{ours}', '{user}', false, NULL, '{session}'); \
             DELETE FROM auth.schema_migrations WHERE version = '{AUTH_SCHEMA_VERSION}';"
        ))
        .await
        .unwrap();
    async fn stored(client: &Client) -> Vec<(String, Option<String>)> {
        let rows = client
            .query("SELECT token, parent FROM auth.refresh_tokens ORDER BY id", &[])
            .await
            .unwrap();
        rows.iter().map(|r| (r.get(0), r.get(1))).collect()
    }
    let expected = vec![
        (hash_token("abcdefghij12"), None),
        (hash_token("abcdefghij13"), Some(hash_token("abcdefghij12"))),
        (ours.clone(), None),
    ];
    migrate(&mut client).await.unwrap();
    assert_eq!(stored(&client).await, expected);
    // The step again (its version row gone once more): nothing changes.
    client
        .execute("DELETE FROM auth.schema_migrations WHERE version = $1", &[&AUTH_SCHEMA_VERSION])
        .await
        .unwrap();
    migrate(&mut client).await.unwrap();
    assert_eq!(stored(&client).await, expected);
    assert_eq!(check_schema(&client).await.unwrap(), SchemaStatus::Current);
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
