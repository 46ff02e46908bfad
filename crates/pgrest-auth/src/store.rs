//! The auth store: every SQL statement over the `auth` schema (users, identities, sessions,
//! refresh tokens, one-time tokens), with the Supabase column names and meanings.
//!
//! Must not decide policy (who may do what); handlers do. Values are always bind parameters.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::error::AuthError;

const USER_COLUMNS: &str = "id, coalesce(aud, ''), coalesce(role, ''), email, coalesce(phone, ''), encrypted_password, \
email_confirmed_at, phone_confirmed_at, confirmation_sent_at, recovery_sent_at, email_change, email_change_sent_at, \
last_sign_in_at, coalesce(raw_app_meta_data, '{}'::jsonb), coalesce(raw_user_meta_data, '{}'::jsonb), created_at, updated_at, \
coalesce(is_anonymous, false), banned_until";

/// A row of `auth.users`.
#[derive(Debug, Clone, PartialEq)]
pub struct UserRow {
    pub id: Uuid,
    pub aud: String,
    pub role: String,
    pub email: Option<String>,
    pub phone: String,
    pub encrypted_password: Option<String>,
    pub email_confirmed_at: Option<DateTime<Utc>>,
    pub phone_confirmed_at: Option<DateTime<Utc>>,
    pub confirmation_sent_at: Option<DateTime<Utc>>,
    pub recovery_sent_at: Option<DateTime<Utc>>,
    pub email_change: Option<String>,
    pub email_change_sent_at: Option<DateTime<Utc>>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    pub app_metadata: Value,
    pub user_metadata: Value,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub is_anonymous: bool,
    pub banned_until: Option<DateTime<Utc>>,
}

impl UserRow {
    fn from_row(row: &tokio_postgres::Row) -> Result<UserRow, tokio_postgres::Error> {
        Ok(UserRow {
            id: row.try_get(0)?,
            aud: row.try_get(1)?,
            role: row.try_get(2)?,
            email: row.try_get(3)?,
            phone: row.try_get(4)?,
            encrypted_password: row.try_get(5)?,
            email_confirmed_at: row.try_get(6)?,
            phone_confirmed_at: row.try_get(7)?,
            confirmation_sent_at: row.try_get(8)?,
            recovery_sent_at: row.try_get(9)?,
            email_change: row.try_get(10)?,
            email_change_sent_at: row.try_get(11)?,
            last_sign_in_at: row.try_get(12)?,
            app_metadata: row.try_get(13)?,
            user_metadata: row.try_get(14)?,
            created_at: row.try_get(15)?,
            updated_at: row.try_get(16)?,
            is_anonymous: row.try_get(17)?,
            banned_until: row.try_get(18)?,
        })
    }

    pub fn confirmed(&self) -> bool {
        self.email_confirmed_at.is_some() || self.phone_confirmed_at.is_some()
    }

    pub fn confirmed_at(&self) -> Option<DateTime<Utc>> {
        match (self.email_confirmed_at, self.phone_confirmed_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub fn banned(&self) -> bool {
        self.banned_until.is_some_and(|t| t > Utc::now())
    }
}

/// A row of `auth.identities`.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentityRow {
    pub id: Uuid,
    pub provider_id: String,
    pub user_id: Uuid,
    pub identity_data: Value,
    pub provider: String,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

fn ts(t: &Option<DateTime<Utc>>) -> Value {
    t.map(|t| Value::String(t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))).unwrap_or(Value::Null)
}

/// The user object GoTrue returns (nullable timestamps left out, as GoTrue's `omitempty` does).
pub fn user_json(user: &UserRow, identities: &[IdentityRow]) -> Value {
    let mut v = json!({
        "id": user.id,
        "aud": user.aud,
        "role": user.role,
        "email": user.email.clone().unwrap_or_default(),
        "phone": user.phone,
        "app_metadata": user.app_metadata,
        "user_metadata": user.user_metadata,
        "identities": identities.iter().map(identity_json).collect::<Vec<_>>(),
        "created_at": ts(&user.created_at),
        "updated_at": ts(&user.updated_at),
        "is_anonymous": user.is_anonymous,
    });
    if let Value::Object(map) = &mut v {
        let optional = [
            ("email_confirmed_at", ts(&user.email_confirmed_at)),
            ("phone_confirmed_at", ts(&user.phone_confirmed_at)),
            ("confirmation_sent_at", ts(&user.confirmation_sent_at)),
            ("confirmed_at", ts(&user.confirmed_at())),
            ("recovery_sent_at", ts(&user.recovery_sent_at)),
            ("email_change_sent_at", ts(&user.email_change_sent_at)),
            ("last_sign_in_at", ts(&user.last_sign_in_at)),
        ];
        for (key, value) in optional {
            if !value.is_null() {
                map.insert(key.to_string(), value);
            }
        }
        if let Some(new_email) = user.email_change.as_ref().filter(|e| !e.is_empty()) {
            map.insert("new_email".into(), Value::String(new_email.clone()));
        }
    }
    v
}

fn identity_json(i: &IdentityRow) -> Value {
    json!({
        "identity_id": i.id,
        "id": i.provider_id,
        "user_id": i.user_id,
        "identity_data": i.identity_data,
        "provider": i.provider,
        "last_sign_in_at": ts(&i.last_sign_in_at),
        "created_at": ts(&i.created_at),
        "updated_at": ts(&i.updated_at),
        "email": i.identity_data.get("email").cloned().unwrap_or(Value::String(String::new())),
    })
}

pub async fn user_by_email<C: GenericClient>(c: &C, email: &str) -> Result<Option<UserRow>, AuthError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM auth.users WHERE lower(email) = lower($1) AND coalesce(is_sso_user, false) = false AND deleted_at IS NULL LIMIT 1");
    let row = c.query_opt(&sql, &[&email]).await?;
    Ok(row.map(|r| UserRow::from_row(&r)).transpose()?)
}

pub async fn user_by_id<C: GenericClient>(c: &C, id: Uuid) -> Result<Option<UserRow>, AuthError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM auth.users WHERE id = $1 AND deleted_at IS NULL");
    let row = c.query_opt(&sql, &[&id]).await?;
    Ok(row.map(|r| UserRow::from_row(&r)).transpose()?)
}

pub async fn identities<C: GenericClient>(c: &C, user_id: Uuid) -> Result<Vec<IdentityRow>, AuthError> {
    let rows = c
        .query(
            "SELECT id, provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at \
             FROM auth.identities WHERE user_id = $1 ORDER BY created_at, id",
            &[&user_id],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(IdentityRow {
                id: r.try_get(0)?,
                provider_id: r.try_get(1)?,
                user_id: r.try_get(2)?,
                identity_data: r.try_get(3)?,
                provider: r.try_get(4)?,
                last_sign_in_at: r.try_get(5)?,
                created_at: r.try_get(6)?,
                updated_at: r.try_get(7)?,
            })
        })
        .collect::<Result<Vec<_>, tokio_postgres::Error>>()
        .map_err(AuthError::from)
}

/// What a new user starts with.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub email: Option<&'a str>,
    pub encrypted_password: Option<&'a str>,
    pub user_metadata: &'a Value,
    pub provider: &'a str,
    pub confirmed: bool,
    pub is_anonymous: bool,
    pub aud: &'a str,
}

/// Inserts a user (and, for email sign-ups, its `email` identity). `Ok(None)` when the email is taken.
pub async fn create_user<C: GenericClient>(c: &C, new: &NewUser<'_>) -> Result<Option<UserRow>, AuthError> {
    let id = Uuid::new_v4();
    // GoTrue gives anonymous users an empty app_metadata.
    let app_metadata = if new.is_anonymous { json!({}) } else { json!({"provider": new.provider, "providers": [new.provider]}) };
    let sql = format!(
        "INSERT INTO auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at, \
         raw_app_meta_data, raw_user_meta_data, created_at, updated_at, is_anonymous, is_super_admin, is_sso_user) \
         VALUES ('00000000-0000-0000-0000-000000000000', $1, $2, 'authenticated', lower($3), $4, \
         CASE WHEN $5 THEN now() END, $6, $7, now(), now(), $8, false, false) \
         ON CONFLICT DO NOTHING RETURNING {USER_COLUMNS}"
    );
    let row = c
        .query_opt(&sql, &[&id, &new.aud, &new.email, &new.encrypted_password, &new.confirmed, &app_metadata, new.user_metadata, &new.is_anonymous])
        .await?;
    let Some(row) = row else { return Ok(None) };
    let user = UserRow::from_row(&row)?;
    if let (Some(email), "email") = (new.email, new.provider) {
        // A sign-up never proves the address, autoconfirmed or not: only a verification does.
        let data = json!({"sub": id.to_string(), "email": email.to_lowercase(), "email_verified": false, "phone_verified": false});
        insert_identity(c, id, &id.to_string(), "email", &data).await?;
    }
    Ok(Some(user))
}

pub async fn insert_identity<C: GenericClient>(c: &C, user_id: Uuid, provider_id: &str, provider: &str, data: &Value) -> Result<(), AuthError> {
    c.execute(
        "INSERT INTO auth.identities (id, provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, now(), now(), now()) \
         ON CONFLICT (provider_id, provider) DO UPDATE SET identity_data = EXCLUDED.identity_data, last_sign_in_at = now(), updated_at = now()",
        &[&Uuid::new_v4(), &provider_id, &user_id, data, &provider],
    )
    .await?;
    Ok(())
}

/// Hands an unconfirmed (or unproven) account over to a provider identity that vouches for its
/// address (GoTrue's `RemoveUnconfirmedIdentities`): no password, the identity's metadata, and no
/// other identity or provider, not even another identity of the same provider (the caller then
/// adds the vouching identity).
pub async fn reset_unconfirmed_account<C: GenericClient>(c: &C, user_id: Uuid, provider: &str, identity_data: &Value) -> Result<(), AuthError> {
    c.execute(
        "UPDATE auth.users SET encrypted_password = NULL, raw_user_meta_data = $2, \
           raw_app_meta_data = coalesce(raw_app_meta_data, '{}'::jsonb) || jsonb_build_object('provider', $3::text, 'providers', jsonb_build_array($3::text)), \
           updated_at = now() WHERE id = $1",
        &[&user_id, identity_data, &provider],
    )
    .await?;
    c.execute("DELETE FROM auth.identities WHERE user_id = $1", &[&user_id]).await?;
    clear_one_time_tokens(c, user_id).await?;
    Ok(())
}

/// The user behind a provider identity, if any.
pub async fn user_by_identity<C: GenericClient>(c: &C, provider: &str, provider_id: &str) -> Result<Option<Uuid>, AuthError> {
    let row = c.query_opt("SELECT user_id FROM auth.identities WHERE provider = $1 AND provider_id = $2", &[&provider, &provider_id]).await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?)
}

/// Adds a provider to `app_metadata.providers` (idempotent).
pub async fn add_provider<C: GenericClient>(c: &C, user_id: Uuid, provider: &str) -> Result<(), AuthError> {
    c.execute(
        "UPDATE auth.users SET raw_app_meta_data = jsonb_set(coalesce(raw_app_meta_data, '{}'::jsonb), '{providers}', \
           (SELECT coalesce(jsonb_agg(DISTINCT p), '[]'::jsonb) FROM jsonb_array_elements_text( \
              coalesce(raw_app_meta_data->'providers', '[]'::jsonb) || to_jsonb($2::text)) AS p)), updated_at = now() \
         WHERE id = $1",
        &[&user_id, &provider],
    )
    .await?;
    Ok(())
}

pub async fn record_sign_in<C: GenericClient>(c: &C, user_id: Uuid) -> Result<(), AuthError> {
    c.execute("UPDATE auth.users SET last_sign_in_at = now(), updated_at = now() WHERE id = $1", &[&user_id]).await?;
    Ok(())
}

pub async fn set_password<C: GenericClient>(c: &C, user_id: Uuid, encrypted: &str) -> Result<(), AuthError> {
    c.execute("UPDATE auth.users SET encrypted_password = $2, updated_at = now() WHERE id = $1", &[&user_id, &encrypted]).await?;
    Ok(())
}

/// Merges `data` into `raw_user_meta_data` (GoTrue merges top-level keys; a key set to null is
/// removed).
pub async fn merge_user_metadata<C: GenericClient>(c: &C, user_id: Uuid, data: &Value) -> Result<(), AuthError> {
    c.execute(
        "UPDATE auth.users SET raw_user_meta_data = \
           (coalesce(raw_user_meta_data, '{}'::jsonb) - ARRAY(SELECT key FROM jsonb_each($2) WHERE value = 'null'::jsonb)) \
           || (SELECT coalesce(jsonb_object_agg(key, value), '{}'::jsonb) FROM jsonb_each($2) WHERE value <> 'null'::jsonb), \
         updated_at = now() WHERE id = $1",
        &[&user_id, data],
    )
    .await?;
    Ok(())
}

pub async fn confirm_email<C: GenericClient>(c: &C, user_id: Uuid) -> Result<(), AuthError> {
    c.execute(
        "UPDATE auth.users SET email_confirmed_at = coalesce(email_confirmed_at, now()), confirmation_token = '', updated_at = now() WHERE id = $1",
        &[&user_id],
    )
    .await?;
    c.execute(
        "UPDATE auth.identities SET identity_data = identity_data || '{\"email_verified\": true}'::jsonb, updated_at = now() \
         WHERE user_id = $1 AND provider = 'email'",
        &[&user_id],
    )
    .await?;
    Ok(())
}

/// Marks the address confirmed without proof of ownership (autoconfirm): sign-in is allowed, but
/// [`email_proven`] stays false, so no provider identity links into the account by its address.
pub async fn autoconfirm_email<C: GenericClient>(c: &C, user_id: Uuid) -> Result<(), AuthError> {
    c.execute("UPDATE auth.users SET email_confirmed_at = coalesce(email_confirmed_at, now()), updated_at = now() WHERE id = $1", &[&user_id]).await?;
    Ok(())
}

/// Whether the user's address was proven by its owner: confirmed, and an identity vouches for
/// it (`email_verified` true for that address) or, for rows older than that flag, none disowns it.
/// Autoconfirmed sign-ups and anonymous users' claimed addresses are confirmed but not proven.
pub async fn email_proven<C: GenericClient>(c: &C, user_id: Uuid) -> Result<bool, AuthError> {
    let row = c
        .query_opt(
            "SELECT u.email_confirmed_at IS NOT NULL AND ( \
               EXISTS (SELECT 1 FROM auth.identities i WHERE i.user_id = u.id AND lower(i.identity_data->>'email') = lower(u.email) \
                         AND i.identity_data->>'email_verified' = 'true') \
               OR NOT EXISTS (SELECT 1 FROM auth.identities i WHERE i.user_id = u.id AND lower(i.identity_data->>'email') = lower(u.email) \
                         AND i.identity_data->>'email_verified' = 'false')) \
             FROM auth.users u WHERE u.id = $1",
            &[&user_id],
        )
        .await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?.unwrap_or(false))
}

/// Stores an email change awaiting confirmation (`email_change_sent_at` is set once the mail is out).
pub async fn set_email_change<C: GenericClient>(c: &C, user_id: Uuid, new_email: &str) -> Result<(), AuthError> {
    c.execute("UPDATE auth.users SET email_change = lower($2), updated_at = now() WHERE id = $1", &[&user_id, &new_email]).await?;
    Ok(())
}

/// Applies a pending (or direct) email change; `false` when the address is taken by another user.
/// `proven`: the address's owner followed a mailed link or code (not an autoconfirmed claim).
pub async fn apply_email<C: GenericClient>(c: &C, user_id: Uuid, email: &str, proven: bool) -> Result<bool, AuthError> {
    let taken = c
        .query_opt("SELECT 1 FROM auth.users WHERE lower(email) = lower($1) AND id <> $2 AND deleted_at IS NULL", &[&email, &user_id])
        .await?
        .is_some();
    if taken {
        return Ok(false);
    }
    // As GoTrue's emailChangeVerify: the address is confirmed, an anonymous user becomes a
    // permanent one, and the email identity is updated (or created, for users without one).
    c.execute(
        "UPDATE auth.users SET email = lower($2), email_change = '', email_change_sent_at = NULL, \
         email_confirmed_at = coalesce(email_confirmed_at, now()), is_anonymous = false, \
         raw_app_meta_data = coalesce(raw_app_meta_data, '{}'::jsonb) || jsonb_build_object('provider', coalesce(raw_app_meta_data->'provider', '\"email\"'::jsonb)), \
         updated_at = now() WHERE id = $1",
        &[&user_id, &email],
    )
    .await?;
    let updated = c
        .execute(
            "UPDATE auth.identities SET identity_data = identity_data || jsonb_build_object('email', lower($2::text), 'email_verified', $3::bool), updated_at = now() \
             WHERE user_id = $1 AND provider = 'email'",
            &[&user_id, &email, &proven],
        )
        .await?;
    if updated == 0 {
        let data = json!({"sub": user_id.to_string(), "email": email.to_lowercase(), "email_verified": proven, "phone_verified": false});
        insert_identity(c, user_id, &user_id.to_string(), "email", &data).await?;
    }
    add_provider(c, user_id, "email").await?;
    Ok(true)
}

/// Voids every pending one-time token of a user (after a password change, as GoTrue does).
pub async fn clear_one_time_tokens<C: GenericClient>(c: &C, user_id: Uuid) -> Result<(), AuthError> {
    c.execute("DELETE FROM auth.one_time_tokens WHERE user_id = $1", &[&user_id]).await?;
    Ok(())
}

pub async fn mark_sent<C: GenericClient>(c: &C, user_id: Uuid, column: SentColumn) -> Result<(), AuthError> {
    let sql = match column {
        SentColumn::Confirmation => "UPDATE auth.users SET confirmation_sent_at = now() WHERE id = $1",
        SentColumn::Recovery => "UPDATE auth.users SET recovery_sent_at = now() WHERE id = $1",
        SentColumn::EmailChange => "UPDATE auth.users SET email_change_sent_at = now() WHERE id = $1",
    };
    c.execute(sql, &[&user_id]).await?;
    Ok(())
}

#[derive(Debug, Clone, Copy)]
pub enum SentColumn {
    Confirmation,
    Recovery,
    EmailChange,
}
