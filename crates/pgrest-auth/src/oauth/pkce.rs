//! PKCE (RFC 7636) helpers: fresh code verifiers, S256 challenges, challenge-syntax checks and
//! constant-time verification, used both towards external providers and for our own PKCE flow.
//!
//! Must not log or return verifiers in errors; must not compare secrets with early-exit equality.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

/// Shortest code challenge / verifier RFC 7636 §4.1–4.2 allows.
pub const MIN_LEN: usize = 43;
/// Longest code challenge / verifier RFC 7636 §4.1–4.2 allows.
pub const MAX_LEN: usize = 128;

/// A `code_challenge_method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `BASE64URL(SHA256(verifier))`.
    S256,
    /// The challenge is the verifier itself.
    Plain,
}

impl Method {
    /// Parses `s256` / `plain`, case-insensitively (GoTrue accepts `S256`, `s256`, `PLAIN`, ...).
    #[must_use]
    pub fn parse(value: &str) -> Option<Self> {
        if value.eq_ignore_ascii_case("s256") {
            Some(Self::S256)
        } else if value.eq_ignore_ascii_case("plain") {
            Some(Self::Plain)
        } else {
            None
        }
    }

    /// The spelling GoTrue stores in `auth.flow_state.code_challenge_method`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::S256 => "s256",
            Self::Plain => "plain",
        }
    }

    /// The spelling RFC 7636 uses on the wire (`S256` / `plain`).
    #[must_use]
    pub fn wire_name(self) -> &'static str {
        match self {
            Self::S256 => "S256",
            Self::Plain => "plain",
        }
    }
}

/// A new random code verifier: 48 random bytes, base64url without padding (64 characters, all
/// from the RFC 7636 unreserved set).
#[must_use]
pub fn new_verifier() -> String {
    let mut bytes = [0u8; 48];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `BASE64URL-ENCODE(SHA256(ASCII(verifier)))`, unpadded (RFC 7636 §4.2).
#[must_use]
pub fn challenge_s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Whether `value` has the syntax of a code challenge or verifier: 43–128 characters from
/// `[A-Za-z0-9._~-]` (GoTrue rejects other challenges at `/authorize` with 400).
#[must_use]
pub fn is_valid_syntax(value: &str) -> bool {
    (MIN_LEN..=MAX_LEN).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Whether `verifier` matches the stored `challenge` under `method`. The comparison runs in time
/// independent of where the two values differ. Like GoTrue, the verifier's syntax is not checked
/// here: a verifier that does not match simply fails.
#[must_use]
pub fn verify(verifier: &str, challenge: &str, method: Method) -> bool {
    match method {
        Method::S256 => constant_time_eq(challenge_s256(verifier).as_bytes(), challenge.as_bytes()),
        Method::Plain => constant_time_eq(verifier.as_bytes(), challenge.as_bytes()),
    }
}

/// Compares two byte strings without an early exit on the first difference. Only the lengths,
/// which are not secret here, can end the comparison early.
#[must_use]
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}
