//! The role the pool logs in as, read once at start from `pg_roles`: its name (requests may not
//! switch to it, V-06) and whether it is a superuser or bypasses row-level security (a warning).
//!
//! Must not run per request.

use super::error::DbError;
use super::pool::Db;

const LOGIN_ROLE_SQL: &str = "SELECT r.rolname::text, r.rolsuper, r.rolbypassrls, r.rolinherit \
FROM pg_catalog.pg_roles r WHERE r.rolname = session_user";

/// What the database says about the login role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginRole {
    pub name: String,
    pub superuser: bool,
    pub bypass_rls: bool,
    pub inherit: bool,
}

impl LoginRole {
    /// Why this login role is risky for the API, if it is.
    pub fn warning(&self) -> Option<&'static str> {
        match (self.superuser, self.bypass_rls) {
            (true, _) => Some("the database login role is a superuser: a request that reaches it bypasses every grant and policy; log in as a NOINHERIT authenticator granted only the API roles"),
            (false, true) => Some("the database login role has BYPASSRLS: log in as a NOINHERIT authenticator granted only the API roles"),
            (false, false) => None,
        }
    }
}

impl Db {
    /// Reads the login role over one pooled connection.
    pub async fn login_role(&self) -> Result<LoginRole, DbError> {
        let client = self.pool.get().await?;
        let row = client.query_one(LOGIN_ROLE_SQL, &[]).await?;
        Ok(LoginRole { name: row.try_get(0)?, superuser: row.try_get(1)?, bypass_rls: row.try_get(2)?, inherit: row.try_get(3)? })
    }
}
