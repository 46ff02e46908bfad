//! `generate-key anon|service_role`: prints a long-lived apikey JWT signed with the HS256 secret,
//! and the key minting the `dev` banner uses.
//!
//! Must not accept weak secrets (under 32 characters) or print the secret itself.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Args, ValueEnum};
use pgrest_core::JwtKeys;
use pgrest_core::auth::jwt::apikey_claims;

use crate::{Failure, envfile};

/// Shortest secret accepted, as the engine requires.
pub(crate) const MIN_SECRET_CHARS: usize = 32;

#[derive(Args, Debug)]
pub(crate) struct GenerateKeyArgs {
    /// Role the key grants
    #[arg(value_enum)]
    role: KeyRole,
    /// HS256 secret (else JWT_SECRET, else JWT_SECRET in ./.env.local)
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    jwt_secret: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub(crate) enum KeyRole {
    Anon,
    ServiceRole,
}

impl KeyRole {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            KeyRole::Anon => "anon",
            KeyRole::ServiceRole => "service_role",
        }
    }
}

pub(crate) fn run(args: GenerateKeyArgs) -> Result<(), Failure> {
    let secret = match args.jwt_secret.filter(|s| !s.is_empty()) {
        Some(secret) => secret,
        None => envfile::read(Path::new(".env.local"))?
            .remove("JWT_SECRET")
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                Failure::new(
                    "no JWT secret: pass --jwt-secret, set JWT_SECRET, or run `pgrest-lambda dev` once \
                     to write one to .env.local",
                )
            })?,
    };
    println!("{}", mint(&secret, args.role)?);
    Ok(())
}

/// An apikey for `role` (Supabase's claims: `role`, `iss`, `iat`, ten-year `exp`).
pub(crate) fn mint(secret: &str, role: KeyRole) -> Result<String, Failure> {
    check_secret(secret)?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    JwtKeys::new(secret, None)
        .sign(&apikey_claims(role.as_str(), now))
        .map_err(|e| Failure::new(format!("signing the {} key: {e}", role.as_str())))
}

/// Refuses secrets shorter than `MIN_SECRET_CHARS`, saying how to make a good one.
pub(crate) fn check_secret(secret: &str) -> Result<(), Failure> {
    let length = secret.chars().count();
    if length < MIN_SECRET_CHARS {
        return Err(Failure::new(format!(
            "the JWT secret is too short ({length} characters; at least {MIN_SECRET_CHARS} are required). \
             Generate one with `openssl rand -hex 32`"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_keys_verify_and_carry_the_role() {
        let secret = "0123456789abcdef0123456789abcdef";
        let token = mint(secret, KeyRole::ServiceRole).unwrap();
        let claims = JwtKeys::new(secret, None).verify(&token).unwrap();
        assert_eq!(claims["role"], "service_role");
        assert!(claims["exp"].as_u64().unwrap() > claims["iat"].as_u64().unwrap());
    }

    #[test]
    fn short_secrets_are_refused() {
        let err = mint("short", KeyRole::Anon).unwrap_err();
        assert!(err.to_string().contains("too short (5 characters"), "{err}");
    }
}
