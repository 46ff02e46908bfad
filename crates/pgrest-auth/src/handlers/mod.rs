//! `/auth/v1` endpoint handlers, one file per group; each returns a response or an `AuthError`.
//!
//! Must not write SQL (the store does) or format errors (the error table does).

pub mod account;
pub mod email;
pub mod external;
pub mod meta;
pub mod token;

use crate::error::AuthError;
use crate::request::Req;
use crate::service::NativeAuth;

/// Counts one event against a limit; 429 over_request_rate_limit beyond it.
pub(crate) fn limit(svc: &NativeAuth, bucket: &'static str, key: &str, limit: crate::ratelimit::Limit) -> Result<(), AuthError> {
    svc.limiter.check(bucket, key, limit).map_err(|retry| {
        tracing::warn!(bucket, key, "auth: rate limit reached");
        AuthError::rate_limited(retry.0)
    })
}

/// A plausible email address (GoTrue's check is similarly shallow: the mailer is the real test).
pub(crate) fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else { return false };
    !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.') && email.len() <= 255 && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

pub(crate) fn check_email(email: &str) -> Result<String, AuthError> {
    let email = email.trim().to_lowercase();
    if valid_email(&email) { Ok(email) } else { Err(AuthError::new(400, "email_address_invalid", "Unable to validate email address: invalid format")) }
}

/// The verified caller: claims, user and session from the bearer token.
pub(crate) struct Caller {
    pub user: crate::store::UserRow,
    pub session_id: Option<uuid::Uuid>,
}

pub(crate) async fn caller<C: deadpool_postgres::GenericClient>(svc: &NativeAuth, c: &C, req: &Req) -> Result<Caller, AuthError> {
    let token = req.bearer().ok_or_else(AuthError::no_authorization)?;
    let claims = svc.keys.verify(token).map_err(AuthError::bad_jwt)?;
    let sub = claims.get("sub").and_then(|v| v.as_str()).and_then(|s| uuid::Uuid::parse_str(s).ok()).ok_or_else(|| AuthError::bad_jwt("no sub claim"))?;
    let session_id = claims.get("session_id").and_then(|v| v.as_str()).and_then(|s| uuid::Uuid::parse_str(s).ok());
    if let Some(sid) = session_id {
        if !crate::sessions::session_exists(c, sid).await? {
            return Err(AuthError::session_not_found());
        }
    }
    let user = crate::store::user_by_id(c, sub).await?.ok_or_else(AuthError::user_not_found_from_jwt)?;
    Ok(Caller { user, session_id })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_shapes() {
        assert!(valid_email("a@b.co"));
        assert!(!valid_email("a@b"));
        assert!(!valid_email("@b.co"));
        assert!(!valid_email("a b@c.de"));
    }
}
