//! `POST /token?grant_type=password|refresh_token|pkce`.
//!
//! Must not reveal whether an email exists: unknown users cost one full password verification,
//! like known ones, and get the same error.

use bytes::Bytes;
use serde::Deserialize;

use super::{check_email, limit};
use crate::error::AuthError;
use crate::issue::{new_session, session_body};
use crate::password::{hash_password, verify_password};
use crate::request::{json_response, Req};
use crate::service::NativeAuth;
use crate::sessions::{rotate, session_method, Refresh};
use crate::store;
use crate::tokens::plausible_refresh_token;

pub async fn token(svc: &NativeAuth, req: &Req) -> Result<http::Response<Bytes>, AuthError> {
    match req.query("grant_type") {
        Some("password") => password_grant(svc, req).await,
        Some("refresh_token") => refresh_grant(svc, req).await,
        Some("pkce") => super::external::pkce_grant(svc, req).await,
        // GoTrue's answer, code and all.
        _ => Err(AuthError::new(400, "invalid_credentials", "unsupported_grant_type")),
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct PasswordBody {
    email: Option<String>,
    phone: Option<String>,
    password: Option<String>,
}

async fn password_grant(svc: &NativeAuth, req: &Req) -> Result<http::Response<Bytes>, AuthError> {
    let body: PasswordBody = req.json()?;
    limit(svc, "token_password_ip", &req.ip, svc.config.limits.password_per_ip)?;
    if body.phone.is_some() && body.email.is_none() {
        return Err(AuthError::new(422, "phone_provider_disabled", "Phone logins are disabled"));
    }
    let email = body.email.as_deref().filter(|e| !e.trim().is_empty()).ok_or_else(|| AuthError::validation("missing email or phone"))?;
    let email = check_email(email).map_err(|_| AuthError::invalid_credentials())?;
    limit(svc, "token_password_email", &email, svc.config.limits.password_per_email)?;
    let password = body.password.unwrap_or_default();
    let mut conn = svc.db.connection().await?;
    let tx = conn.transaction().await?;
    let user = store::user_by_email(&tx, &email).await?;
    let stored = user.as_ref().and_then(|u| u.encrypted_password.clone()).filter(|h| !h.is_empty());
    let verified = verify_password(password.clone(), stored, &svc.config.kdf).await.map_err(AuthError::unexpected)?;
    let Some(user) = user.filter(|_| verified.ok) else {
        tracing::info!(email_hash = %crate::tokens::hash_token(&email), "auth: failed password sign-in");
        return Err(AuthError::invalid_credentials());
    };
    if user.banned() {
        return Err(AuthError::new(400, "user_banned", "User is banned"));
    }
    if !user.confirmed() && !svc.config.autoconfirm {
        return Err(AuthError::new(400, "email_not_confirmed", "Email not confirmed"));
    }
    if verified.needs_rehash {
        // Upgrade bcrypt hashes from a Supabase dump (or weaker argon2 parameters) to the current KDF.
        let upgraded = hash_password(password, &svc.config.kdf).await.map_err(AuthError::unexpected)?;
        store::set_password(&tx, user.id, &upgraded).await?;
    }
    let session = new_session(svc, &tx, &user, "password", &req.ip, req.user_agent()).await?;
    tx.commit().await?;
    Ok(json_response(200, &session))
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct RefreshBody {
    refresh_token: Option<String>,
}

async fn refresh_grant(svc: &NativeAuth, req: &Req) -> Result<http::Response<Bytes>, AuthError> {
    let body: RefreshBody = req.json()?;
    limit(svc, "token_refresh", &req.ip, svc.config.limits.refresh_per_ip)?;
    // GoTrue refuses what cannot be a refresh token by its shape (missing included) before any lookup.
    let token = body.refresh_token.filter(|t| plausible_refresh_token(t)).ok_or_else(|| AuthError::validation("Refresh token is not valid"))?;
    let mut conn = svc.db.connection().await?;
    let tx = conn.transaction().await?;
    let outcome = rotate(&tx, &svc.signer, &token, svc.config.refresh_reuse_interval).await?;
    let (user_id, session_id, refresh) = match outcome {
        Refresh::Rotated { user_id, session_id, token } | Refresh::ParentOfActive { user_id, session_id, token } => (user_id, session_id, token),
        Refresh::Reused => {
            // The family's revocation must stick even though the request fails.
            tx.commit().await?;
            return Err(AuthError::new(400, "refresh_token_already_used", "Invalid Refresh Token: Already Used"));
        }
        Refresh::NotFound => return Err(AuthError::new(400, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found")),
    };
    let user = store::user_by_id(&tx, user_id).await?.ok_or_else(|| AuthError::new(400, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found"))?;
    if user.banned() {
        return Err(AuthError::new(400, "user_banned", "Invalid Refresh Token: User Banned"));
    }
    let method = session_method(&tx, session_id).await?;
    let session = session_body(svc, &tx, &user, session_id, &refresh, &method).await?;
    tx.commit().await?;
    Ok(json_response(200, &session))
}
