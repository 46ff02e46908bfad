//! Which database role a request may run as (V-06). The `role` claim (or the authorizer's role)
//! becomes `set_config('role', …)`, so a few values must never reach it: `none` and the empty
//! string (PostgreSQL resets to the session user for those) and the login role's own name — each
//! would run the request with the login role's rights, a superuser's wherever `DATABASE_URL` names
//! one. Every other role is left to the database's grants, as PostgREST does; an optional
//! allow-list (`PGREST_ALLOWED_ROLES`) narrows them further.
//!
//! Must not query the database or decide HTTP status (`crate::error` does).

/// Why a role was refused before it reached the database.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleError {
    /// `none`, empty, or the login role: answered like a role that does not exist (PostgREST's
    /// 401 `22023`), so nothing about the login role leaks.
    #[error("role \"{0}\" does not exist")]
    Reserved(String),
    /// Not in `PGREST_ALLOWED_ROLES`: answered as PostgreSQL answers a role the authenticator was
    /// not granted (`42501`).
    #[error("permission denied to set role \"{0}\"")]
    NotAllowed(String),
}

/// The rules, fixed at start: the login role (read from the database) and the allow-list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolePolicy {
    login_role: String,
    allowed: Option<Vec<String>>,
    anon_role: Option<String>,
}

impl RolePolicy {
    /// `allowed`: `None` leaves every role to the database's grants; the anonymous role is
    /// always allowed (it is configured, not claimed).
    pub fn new(login_role: impl Into<String>, allowed: Option<Vec<String>>, anon_role: Option<String>) -> Self {
        RolePolicy { login_role: login_role.into(), allowed, anon_role }
    }

    pub fn login_role(&self) -> &str {
        &self.login_role
    }

    /// Accepts `role` or says why not. Comparisons are exact, as PostgreSQL's: `NONE` or ` none`
    /// are names of (probably absent) roles, which the database itself refuses.
    pub fn check(&self, role: &str) -> Result<(), RoleError> {
        if role.is_empty() || role == "none" || role == self.login_role {
            return Err(RoleError::Reserved(role.to_string()));
        }
        match &self.allowed {
            Some(list) if self.anon_role.as_deref() != Some(role) && !list.iter().any(|r| r == role) => {
                Err(RoleError::NotAllowed(role.to_string()))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(allowed: Option<&[&str]>) -> RolePolicy {
        RolePolicy::new("authenticator", allowed.map(|l| l.iter().map(|s| s.to_string()).collect()), Some("anon".into()))
    }

    #[test]
    fn none_empty_and_the_login_role_are_refused() {
        let p = policy(None);
        assert_eq!(p.check("none"), Err(RoleError::Reserved("none".into())));
        assert_eq!(p.check(""), Err(RoleError::Reserved(String::new())));
        assert_eq!(p.check("authenticator"), Err(RoleError::Reserved("authenticator".into())));
        assert_eq!(RoleError::Reserved("none".into()).to_string(), "role \"none\" does not exist");
    }

    #[test]
    fn other_roles_are_left_to_the_database() {
        let p = policy(None);
        for role in ["anon", "authenticated", "service_role", "postgres", "NONE", "None", " none"] {
            assert_eq!(p.check(role), Ok(()), "{role}");
        }
    }

    #[test]
    fn the_allow_list_narrows_but_keeps_the_anon_role() {
        let p = policy(Some(&["authenticated", "service_role"]));
        assert_eq!(p.check("authenticated"), Ok(()));
        assert_eq!(p.check("anon"), Ok(()));
        assert_eq!(p.check("postgres"), Err(RoleError::NotAllowed("postgres".into())));
        assert_eq!(p.check("none"), Err(RoleError::Reserved("none".into())));
        assert_eq!(RoleError::NotAllowed("x".into()).to_string(), "permission denied to set role \"x\"");
    }
}
