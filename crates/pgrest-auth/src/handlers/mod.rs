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

/// GoTrue's format check (`checkmail.ValidateFormat`): a local part of letters, digits and
/// ``.!#$%&'*+/=?^_`{|}~-``, then a domain of dot-separated labels (letters, digits, inner `-`,
/// at most 63 characters each; one label is enough). The mailer is the real test.
pub(crate) fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else { return false };
    let local_ok = !local.is_empty() && local.bytes().all(|b| b.is_ascii_alphanumeric() || b"._!#$%&'*+/=?^`{|}~-".contains(&b));
    let label_ok = |l: &str| {
        let b = l.as_bytes();
        matches!((b.first(), b.last()), (Some(f), Some(z)) if f.is_ascii_alphanumeric() && z.is_ascii_alphanumeric())
            && b.len() <= 63
            && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
    };
    local_ok && domain.split('.').all(label_ok) && email.len() <= 255
}

/// GoTrue's `validateEmail`: 400 validation_failed with its messages; the address lower-cased.
pub(crate) fn check_email(email: &str) -> Result<String, AuthError> {
    let email = email.trim().to_lowercase();
    if email.is_empty() {
        return Err(AuthError::validation("An email address is required"));
    }
    if email.len() > 255 {
        return Err(AuthError::validation("An email address is too long"));
    }
    if valid_email(&email) { Ok(email) } else { Err(AuthError::validation("Unable to validate email address: invalid format")) }
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
        assert!(valid_email("a@b"), "GoTrue accepts single-label domains");
        assert!(!valid_email("a,b@c.de"));
        assert!(!valid_email("a@b_c.de"));
        assert!(!valid_email("a@b@c.de"));
        assert!(!valid_email("@b.co"));
        assert!(!valid_email("a b@c.de"));
    }
}
