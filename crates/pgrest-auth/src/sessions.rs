//! Sessions and refresh tokens: create, rotate atomically, detect reuse, revoke.
//!
//! Refresh tokens are stored as their SHA-256 (`tokens::hash_token`), never in plaintext.
//! Rotation is one `UPDATE ... WHERE revoked = false RETURNING` (V-21): of two concurrent uses of
//! a token exactly one rotates it. Presenting the parent of the active token returns the active
//! token (as does any token of the family revoked within the reuse interval); any other reuse
//! revokes the whole family (the session's tokens). Must not issue access tokens (see `issue`).

use std::time::Duration;

use deadpool_postgres::GenericClient;
use uuid::Uuid;

use crate::error::AuthError;
use crate::tokens::{hash_token, Signer};

/// Creates a session row; returns its id.
/// `method` (password, otp, oauth, anonymous...) is kept in the session's `tag` for later `amr` claims.
pub async fn create_session<C: GenericClient>(c: &C, user_id: Uuid, ip: Option<&str>, user_agent: Option<&str>, method: &str) -> Result<Uuid, AuthError> {
    let id = Uuid::new_v4();
    c.execute(
        "INSERT INTO auth.sessions (id, user_id, created_at, updated_at, aal, user_agent, ip, refreshed_at, tag) \
         VALUES ($1, $2, now(), now(), 'aal1', $3, CASE WHEN $4::text ~ '^[0-9a-fA-F:.]+$' THEN $4::text::inet END, now(), $5)",
        &[&id, &user_id, &user_agent, &ip, &method],
    )
    .await?;
    Ok(id)
}

/// The sign-in method recorded for a session (`password` when unknown).
pub async fn session_method<C: GenericClient>(c: &C, session_id: Uuid) -> Result<String, AuthError> {
    let row = c.query_opt("SELECT coalesce(tag, 'password') FROM auth.sessions WHERE id = $1", &[&session_id]).await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?.unwrap_or_else(|| "password".to_string()))
}

pub async fn session_exists<C: GenericClient>(c: &C, session_id: Uuid) -> Result<bool, AuthError> {
    let row = c.query_opt("SELECT 1 FROM auth.sessions WHERE id = $1 AND (not_after IS NULL OR not_after > now())", &[&session_id]).await?;
    Ok(row.is_some())
}

/// Inserts the refresh token of `session_id` that replaces the token stored as `parent_hash`
/// (`None` for the session's first); stores only its hash and returns the token itself.
pub async fn insert_refresh_token<C: GenericClient>(c: &C, signer: &Signer, session_id: Uuid, user_id: Uuid, parent_hash: Option<&str>) -> Result<String, AuthError> {
    let token = signer.refresh_token(session_id, parent_hash);
    c.execute(
        "INSERT INTO auth.refresh_tokens (instance_id, token, user_id, revoked, created_at, updated_at, parent, session_id) \
         VALUES ('00000000-0000-0000-0000-000000000000', $1, $2, false, now(), now(), $3, $4)",
        &[&hash_token(&token), &user_id.to_string(), &parent_hash, &session_id],
    )
    .await?;
    Ok(token)
}

/// What presenting a refresh token led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refresh {
    /// The token was active: it is now revoked and `token` replaces it.
    Rotated { user_id: Uuid, session_id: Uuid, token: String },
    /// The token is the parent of the still-active `token` (or was revoked within the reuse
    /// interval): answer with that one.
    ParentOfActive { user_id: Uuid, session_id: Uuid, token: String },
    /// Reuse of an older token: the family has been revoked.
    Reused,
    NotFound,
}

/// The stored forms `token` may have: its hash, and the token itself for a plaintext row an
/// older pgrest-lambda (or GoTrue) wrote after `migrate-auth` hashed the others. A presented
/// value shaped like a hash never matches as plaintext, so a leaked hash is no token.
fn stored_forms(token: &str) -> Vec<String> {
    let hash = hash_token(token);
    if is_hash(token) { vec![hash] } else { vec![hash, token.to_string()] }
}

/// SHA-256 hex, the form `hash_token` stores.
fn is_hash(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Rotates `token`; must run inside a transaction (the caller commits).
pub async fn rotate<C: GenericClient>(c: &C, signer: &Signer, token: &str, reuse_interval: Duration) -> Result<Refresh, AuthError> {
    let forms = stored_forms(token);
    let hash = hash_token(token);
    let revoked = c
        .query_opt(
            "UPDATE auth.refresh_tokens SET revoked = true, updated_at = now() WHERE token = ANY($1) AND revoked = false RETURNING user_id, session_id",
            &[&forms],
        )
        .await?;
    if let Some(row) = revoked {
        let user_id = parse_user_id(row.try_get::<_, Option<String>>(0)?)?;
        let Some(session_id) = row.try_get::<_, Option<Uuid>>(1)? else { return Ok(Refresh::NotFound) };
        if !session_exists(c, session_id).await? {
            return Ok(Refresh::NotFound);
        }
        c.execute("UPDATE auth.sessions SET refreshed_at = now(), updated_at = now() WHERE id = $1", &[&session_id]).await?;
        let token = insert_refresh_token(c, signer, session_id, user_id, Some(&hash)).await?;
        return Ok(Refresh::Rotated { user_id, session_id, token });
    }
    let Some(row) = c
        .query_opt(
            "SELECT user_id, session_id, extract(epoch FROM now() - updated_at)::float8 FROM auth.refresh_tokens WHERE token = ANY($1)",
            &[&forms],
        )
        .await?
    else {
        return Ok(Refresh::NotFound);
    };
    let user_id = parse_user_id(row.try_get::<_, Option<String>>(0)?)?;
    let Some(session_id) = row.try_get::<_, Option<Uuid>>(1)? else { return Ok(Refresh::NotFound) };
    let revoked_ago: f64 = row.try_get(2)?;
    if session_exists(c, session_id).await? {
        // GoTrue: the parent of the active token gets the active token back at any time (the
        // client lost the answer to its refresh); any token of the family revoked within the
        // reuse interval is tolerated too (GoTrue mints a new child of it; we answer with the
        // active token, which is as good and keeps one active token per session).
        if let Some(active) = active_row(c, session_id).await? {
            let parent: Option<String> = active.try_get(2)?;
            if parent.as_ref().is_some_and(|p| forms.contains(p)) || revoked_ago <= reuse_interval.as_secs_f64() {
                if let Some(token) = active_token(c, signer, session_id, user_id, &active).await? {
                    return Ok(Refresh::ParentOfActive { user_id, session_id, token });
                }
                // A concurrent request replaced an old active token just now: its replacement
                // is the session's active token, and one we can recompute.
                if let Some(active) = active_row(c, session_id).await? {
                    if let Some(token) = active_token(c, signer, session_id, user_id, &active).await? {
                        return Ok(Refresh::ParentOfActive { user_id, session_id, token });
                    }
                }
                return Ok(Refresh::NotFound);
            }
        }
    }
    c.execute("UPDATE auth.refresh_tokens SET revoked = true, updated_at = now() WHERE session_id = $1 AND revoked = false", &[&session_id])
        .await?;
    tracing::warn!(session_id = %session_id, user_id = %user_id, "refresh token reuse detected: token family revoked");
    Ok(Refresh::Reused)
}

/// The session's active token row: `id, token, parent`.
async fn active_row<C: GenericClient>(c: &C, session_id: Uuid) -> Result<Option<tokio_postgres::Row>, AuthError> {
    let sql = "SELECT id, token, parent FROM auth.refresh_tokens WHERE session_id = $1 AND revoked = false ORDER BY id DESC LIMIT 1";
    Ok(c.query_opt(sql, &[&session_id]).await?)
}

/// The active token of the session as the client knows it: recomputed from its parent, or (a
/// token from before hashing, which cannot be recomputed) replaced by a new child now. `None`
/// when another request revoked it meanwhile.
async fn active_token<C: GenericClient>(c: &C, signer: &Signer, session_id: Uuid, user_id: Uuid, active: &tokio_postgres::Row) -> Result<Option<String>, AuthError> {
    let id: i64 = active.try_get(0)?;
    let stored: Option<String> = active.try_get(1)?;
    let parent: Option<String> = active.try_get(2)?;
    let derived = signer.refresh_token(session_id, parent.as_deref());
    match stored {
        Some(stored) if stored == hash_token(&derived) => return Ok(Some(derived)),
        // A plaintext row written by an older version.
        Some(stored) if !is_hash(&stored) => return Ok(Some(stored)),
        _ => {}
    }
    let revoked = c
        .query_opt("UPDATE auth.refresh_tokens SET revoked = true, updated_at = now() WHERE id = $1 AND revoked = false RETURNING token", &[&id])
        .await?;
    let Some(row) = revoked else { return Ok(None) };
    let stored: Option<String> = row.try_get(0)?;
    Ok(Some(insert_refresh_token(c, signer, session_id, user_id, stored.as_deref()).await?))
}

fn parse_user_id(text: Option<String>) -> Result<Uuid, AuthError> {
    text.and_then(|t| Uuid::parse_str(&t).ok()).ok_or_else(|| AuthError::unexpected("refresh token without a valid user id"))
}

/// Which sessions `POST /logout` ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogoutScope {
    Global,
    Local,
    Others,
}

impl LogoutScope {
    pub fn parse(text: Option<&str>) -> Option<LogoutScope> {
        match text.unwrap_or("global") {
            "global" | "" => Some(LogoutScope::Global),
            "local" => Some(LogoutScope::Local),
            "others" => Some(LogoutScope::Others),
            _ => None,
        }
    }
}

/// Deletes sessions (their refresh tokens go with them, by cascade).
pub async fn end_sessions<C: GenericClient>(c: &C, user_id: Uuid, current: Option<Uuid>, scope: LogoutScope) -> Result<u64, AuthError> {
    let n = match (scope, current) {
        // GoTrue: without a session in the token every scope logs out everywhere.
        (LogoutScope::Global, _) | (_, None) => c.execute("DELETE FROM auth.sessions WHERE user_id = $1", &[&user_id]).await?,
        (LogoutScope::Local, Some(s)) => c.execute("DELETE FROM auth.sessions WHERE id = $1 AND user_id = $2", &[&s, &user_id]).await?,
        (LogoutScope::Others, Some(s)) => c.execute("DELETE FROM auth.sessions WHERE user_id = $1 AND id <> $2", &[&user_id, &s]).await?,
    };
    Ok(n)
}
