//! OAuth 2 / OpenID Connect client side of Supabase Auth's external sign-in (GoTrue's
//! `/authorize?provider=` → provider → `/callback`): provider configuration (GitHub, Google,
//! generic OIDC), the provider authorize URL, code exchange and user lookup, PKCE helpers, and the
//! opaque `state` token.
//!
//! Must not touch the database, sessions or HTTP routing (the callers do); must not build its own
//! HTTP client; must not expose client secrets, codes, verifiers or provider tokens in `Debug`,
//! errors or logs. Provider ID tokens are not parsed: the identity comes from the userinfo endpoint
//! fetched with the access token, over the configured endpoint.

mod config;
mod error;
mod exchange;
pub mod pkce;
mod providers;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

pub use config::{ProviderConfig, ProviderKind};
pub use error::{OAuthError, Stage};
pub use exchange::{Exchanged, ProviderTokens};

/// A user as an external provider describes them.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderUser {
    /// The provider's stable subject (GitHub's numeric id as a string, OIDC `sub`); GoTrue's
    /// `identities.provider_id`.
    pub id: String,
    /// The chosen e-mail address, lower-cased (GoTrue's candidate e-mail). Always `Some` from
    /// [`ProviderConfig::exchange`], which fails with [`OAuthError::NoEmail`] otherwise.
    pub email: Option<String>,
    /// Whether the provider says `email` is verified.
    pub email_verified: bool,
    /// Display name, when given.
    pub name: Option<String>,
    /// Avatar / picture URL, when given.
    pub avatar_url: Option<String>,
    /// GoTrue-shaped `identity_data` (also merged into `raw_user_meta_data`): `iss`, `sub`,
    /// `name`, `full_name`, `avatar_url`/`picture`, `provider_id`, `user_name`/
    /// `preferred_username`, `email` (as the provider spelled it), `email_verified`,
    /// `phone_verified`, and Google's `custom_claims.hd`.
    pub raw: serde_json::Value,
}

/// A new opaque `state` for the provider round trip and its hash for storage:
/// `(state, hash_state(state))`. The state is 32 random bytes, base64url without padding.
#[must_use]
pub fn new_state() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let state = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_state(&state);
    (state, hash)
}

/// The SHA-256 of `state`, as 64 lower-case hex digits (what to store and look up).
#[must_use]
pub fn hash_state(state: &str) -> String {
    use std::fmt::Write as _;
    Sha256::digest(state.as_bytes())
        .iter()
        .fold(String::with_capacity(64), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}
