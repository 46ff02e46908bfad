//! Issues what a successful sign-in returns: an access token with GoTrue's claims and the
//! session object `{access_token, token_type, expires_in, expires_at, refresh_token, user}`.
//!
//! Must not check credentials; callers have done so.

use chrono::Utc;
use deadpool_postgres::GenericClient;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::error::AuthError;
use crate::service::NativeAuth;
use crate::sessions;
use crate::store::{self, UserRow};

/// Access-token claims (GoTrue's set).
pub fn claims(svc: &NativeAuth, user: &UserRow, session_id: Uuid, method: &str, now: i64) -> Value {
    let exp = now + i64::try_from(svc.config.access_token_ttl.as_secs()).unwrap_or(3600);
    json!({
        "iss": svc.config.issuer,
        "sub": user.id,
        "aud": if user.aud.is_empty() { svc.config.audience.clone() } else { user.aud.clone() },
        "exp": exp,
        "iat": now,
        "email": user.email.clone().unwrap_or_default(),
        "phone": user.phone,
        "app_metadata": user.app_metadata,
        "user_metadata": user.user_metadata,
        "role": if user.role.is_empty() { "authenticated".to_string() } else { user.role.clone() },
        "aal": "aal1",
        "amr": [{"method": method, "timestamp": now}],
        "session_id": session_id,
        "is_anonymous": user.is_anonymous,
    })
}

/// The session object for `user` with this refresh token.
pub async fn session_body<C: GenericClient>(svc: &NativeAuth, c: &C, user: &UserRow, session_id: Uuid, refresh_token: &str, method: &str) -> Result<Value, AuthError> {
    let now = Utc::now().timestamp();
    let claims = claims(svc, user, session_id, method, now);
    let expires_at = claims.get("exp").cloned().unwrap_or(Value::Null);
    let access_token = svc.signer.sign(&claims)?;
    let identities = store::identities(c, user.id).await?;
    let ttl = svc.config.access_token_ttl.as_secs();
    Ok(json!({
        "access_token": access_token,
        "token_type": "bearer",
        "expires_in": ttl,
        "expires_at": expires_at,
        "refresh_token": refresh_token,
        "user": store::user_json(user, &identities),
    }))
}

/// Starts a new session for `user` (records the sign-in) and returns the session object.
pub async fn new_session<C: GenericClient>(svc: &NativeAuth, c: &C, user: &UserRow, method: &str, ip: &str, user_agent: Option<&str>) -> Result<Value, AuthError> {
    store::record_sign_in(c, user.id).await?;
    let session_id = sessions::create_session(c, user.id, Some(ip), user_agent, method).await?;
    let refresh = sessions::insert_refresh_token(c, &svc.signer, session_id, user.id, None).await?;
    let user = store::user_by_id(c, user.id).await?.ok_or_else(|| AuthError::unexpected("user vanished during sign-in"))?;
    tracing::info!(user_id = %user.id, session_id = %session_id, method, "auth: signed in");
    session_body(svc, c, &user, session_id, &refresh, method).await
}
