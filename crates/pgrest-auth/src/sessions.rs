//! Sessions and refresh tokens: create, rotate atomically, detect reuse, revoke.
//!
//! Rotation is one `UPDATE ... WHERE revoked = false RETURNING` (V-21): of two concurrent uses of
//! a token exactly one rotates it. Presenting the parent of the active token returns the active
//! token (as does any token of the family revoked within the reuse interval); any other reuse
//! revokes the whole family (the session's tokens). Must not issue access tokens (see `issue`).

use std::time::Duration;

use deadpool_postgres::GenericClient;
use uuid::Uuid;

use crate::error::AuthError;
use crate::tokens::new_refresh_token;

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

/// Inserts a fresh refresh token for the session; `parent` is the token it replaces.
pub async fn insert_refresh_token<C: GenericClient>(c: &C, session_id: Uuid, user_id: Uuid, parent: Option<&str>) -> Result<String, AuthError> {
    let token = new_refresh_token();
    c.execute(
        "INSERT INTO auth.refresh_tokens (instance_id, token, user_id, revoked, created_at, updated_at, parent, session_id) \
         VALUES ('00000000-0000-0000-0000-000000000000', $1, $2, false, now(), now(), $3, $4)",
        &[&token, &user_id.to_string(), &parent, &session_id],
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

/// Rotates `token`; must run inside a transaction (the caller commits).
pub async fn rotate<C: GenericClient>(c: &C, token: &str, reuse_interval: Duration) -> Result<Refresh, AuthError> {
    let revoked = c
        .query_opt(
            "UPDATE auth.refresh_tokens SET revoked = true, updated_at = now() WHERE token = $1 AND revoked = false RETURNING user_id, session_id",
            &[&token],
        )
        .await?;
    if let Some(row) = revoked {
        let user_id = parse_user_id(row.try_get::<_, Option<String>>(0)?)?;
        let Some(session_id) = row.try_get::<_, Option<Uuid>>(1)? else { return Ok(Refresh::NotFound) };
        if !session_exists(c, session_id).await? {
            return Ok(Refresh::NotFound);
        }
        c.execute("UPDATE auth.sessions SET refreshed_at = now(), updated_at = now() WHERE id = $1", &[&session_id]).await?;
        let token = insert_refresh_token(c, session_id, user_id, Some(token)).await?;
        return Ok(Refresh::Rotated { user_id, session_id, token });
    }
    let Some(row) = c
        .query_opt(
            "SELECT user_id, session_id, extract(epoch FROM now() - updated_at)::float8 FROM auth.refresh_tokens WHERE token = $1",
            &[&token],
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
        let active = c
            .query_opt(
                "SELECT token, parent FROM auth.refresh_tokens WHERE session_id = $1 AND revoked = false ORDER BY id DESC LIMIT 1",
                &[&session_id],
            )
            .await?;
        if let Some(active) = active {
            let parent: Option<String> = active.try_get(1)?;
            if parent.as_deref() == Some(token) || revoked_ago <= reuse_interval.as_secs_f64() {
                return Ok(Refresh::ParentOfActive { user_id, session_id, token: active.try_get(0)? });
            }
        }
    }
    c.execute("UPDATE auth.refresh_tokens SET revoked = true, updated_at = now() WHERE session_id = $1 AND revoked = false", &[&session_id])
        .await?;
    tracing::warn!(session_id = %session_id, user_id = %user_id, "refresh token reuse detected: token family revoked");
    Ok(Refresh::Reused)
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
