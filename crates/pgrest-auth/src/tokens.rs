//! Access tokens and keys: signs user access tokens HS256 (with `JWT_SECRET`) or ES256 (with the
//! first key of `AUTH_JWT_SIGNING_KEYS`, a JSON array of private P-256 JWKs); publishes every
//! configured key's public half as the JWKS so rotated-out keys keep verifying (overlap).
//! Also mints opaque refresh tokens: an HMAC, under a key derived from `JWT_SECRET`, of the
//! session and the stored hash of the token it replaces, so the database keeps only hashes yet the
//! active token of a session can be recomputed (GoTrue's parent-of-active answer).
//!
//! Must not verify tokens (the core `JwtKeys` does, for REST and auth alike) or expose private keys.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::pkcs8::EncodePrivateKey;
use rand::RngCore;
use serde_json::{json, Value};

use crate::error::AuthError;

/// One ES256 key: its id, signing key and public coordinates.
struct EcKey {
    kid: String,
    encoding: EncodingKey,
    x: String,
    y: String,
}

/// Signs access tokens and derives refresh tokens.
pub struct Signer {
    hs256: EncodingKey,
    /// The first key signs; all are published.
    ec: Vec<EcKey>,
    /// HMAC key for refresh tokens, derived from `JWT_SECRET` (never the secret itself).
    refresh_key: [u8; 32],
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").field("es256_keys", &self.ec.iter().map(|k| k.kid.as_str()).collect::<Vec<_>>()).finish()
    }
}

impl Signer {
    /// `signing_keys`: `AUTH_JWT_SIGNING_KEYS` (a JSON array, or a JWKS object, of private EC P-256 JWKs).
    pub fn new(jwt_secret: &str, signing_keys: Option<&str>) -> Result<Signer, String> {
        let mut ec = Vec::new();
        if let Some(text) = signing_keys {
            let value: Value = serde_json::from_str(text).map_err(|e| format!("AUTH_JWT_SIGNING_KEYS is not JSON: {e}"))?;
            let keys = match &value {
                Value::Array(items) => items.clone(),
                other => other.get("keys").and_then(Value::as_array).cloned().ok_or("AUTH_JWT_SIGNING_KEYS must be an array of JWKs")?,
            };
            for key in keys {
                ec.push(ec_key_from_jwk(&key)?);
            }
        }
        let refresh_key = hmac_sha256(jwt_secret.as_bytes(), &[b"pgrest-lambda refresh token key"]);
        Ok(Signer { hs256: EncodingKey::from_secret(jwt_secret.as_bytes()), ec, refresh_key })
    }

    /// The refresh token of `session_id` whose parent's stored hash is `parent_hash` (`None` for
    /// a session's first token): 32 bytes, base64url, the same shape as a random token. The same
    /// inputs always give the same token, so the database needs only `hash_token` of it.
    pub fn refresh_token(&self, session_id: uuid::Uuid, parent_hash: Option<&str>) -> String {
        let parent = parent_hash.unwrap_or("");
        URL_SAFE_NO_PAD.encode(hmac_sha256(&self.refresh_key, &[b"refresh\0", session_id.as_bytes(), b"\0", parent.as_bytes()]))
    }

    /// `true` when user tokens are signed asymmetrically.
    pub fn asymmetric(&self) -> bool {
        !self.ec.is_empty()
    }

    pub fn sign(&self, claims: &Value) -> Result<String, AuthError> {
        let result = match self.ec.first() {
            Some(key) => {
                let mut header = Header::new(Algorithm::ES256);
                header.kid = Some(key.kid.clone());
                jsonwebtoken::encode(&header, claims, &key.encoding)
            }
            None => jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.hs256),
        };
        result.map_err(AuthError::unexpected)
    }

    /// The public JWKS (`{"keys": [...]}`); empty when only HS256 is used (the secret is never published).
    pub fn jwks(&self) -> Value {
        let keys: Vec<Value> = self
            .ec
            .iter()
            .map(|k| json!({"kty": "EC", "crv": "P-256", "x": k.x, "y": k.y, "kid": k.kid, "alg": "ES256", "use": "sig", "key_ops": ["verify"]}))
            .collect();
        json!({ "keys": keys })
    }
}

fn ec_key_from_jwk(jwk: &Value) -> Result<EcKey, String> {
    let field = |name: &str| jwk.get(name).and_then(Value::as_str).map(str::to_string);
    let kid = field("kid").ok_or("signing key without kid")?;
    if field("kty").as_deref() != Some("EC") || field("crv").as_deref() != Some("P-256") {
        return Err(format!("signing key {kid}: only EC P-256 keys (ES256) are supported"));
    }
    let d = field("d").ok_or_else(|| format!("signing key {kid}: the private member d is missing"))?;
    let d = URL_SAFE_NO_PAD.decode(d.trim_end_matches('=')).map_err(|_| format!("signing key {kid}: d is not base64url"))?;
    let secret = p256::SecretKey::from_slice(&d).map_err(|_| format!("signing key {kid}: d is not a valid P-256 scalar"))?;
    let der = secret.to_pkcs8_der().map_err(|e| format!("signing key {kid}: {e}"))?;
    let (x, y) = public_coordinates(&secret);
    if field("x").is_some_and(|v| v != x) || field("y").is_some_and(|v| v != y) {
        return Err(format!("signing key {kid}: x/y do not match d"));
    }
    Ok(EcKey { kid, encoding: EncodingKey::from_ec_der(der.as_bytes()), x, y })
}

fn public_coordinates(secret: &p256::SecretKey) -> (String, String) {
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    let point = secret.public_key().to_encoded_point(false);
    let enc = |b: Option<&p256::FieldBytes>| b.map(|b| URL_SAFE_NO_PAD.encode(b)).unwrap_or_default();
    (enc(point.x()), enc(point.y()))
}

/// A new private P-256 JWK (for `generate-key es256` and `dev`).
pub fn generate_signing_jwk(kid: &str) -> Result<Value, String> {
    let mut rng = rand::rng();
    for _ in 0..8 {
        let mut bytes = [0u8; 32];
        rng.fill_bytes(&mut bytes);
        if let Ok(secret) = p256::SecretKey::from_slice(&bytes) {
            let (x, y) = public_coordinates(&secret);
            return Ok(json!({"kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256", "use": "sig", "x": x, "y": y, "d": URL_SAFE_NO_PAD.encode(bytes)}));
        }
    }
    Err("could not generate a P-256 key".to_string())
}

/// HMAC-SHA-256 of the concatenated `parts` under `key`.
fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    use hmac::Mac as _;
    // HMAC takes keys of any length; the error arm cannot happen.
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(key) else { return [0; 32] };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// Whether `token` has a shape a refresh token of ours (or a legacy GoTrue one, 12 lower-case
/// letters and digits) can have: 32 bytes base64url. Anything else is refused before any lookup.
pub fn plausible_refresh_token(token: &str) -> bool {
    let legacy = token.len() == 12 && token.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    legacy || (token.len() == 43 && URL_SAFE_NO_PAD.decode(token).is_ok_and(|b| b.len() == 32))
}

/// `n` random bytes, base64url.
pub fn random_token(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A six-digit one-time code.
pub fn new_otp() -> String {
    let n = rand::random::<u32>() % 1_000_000;
    format!("{n:06}")
}

/// SHA-256 hex of a token (tokens are stored hashed).
pub fn hash_token(token: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "auth-test-secret-auth-test-secret-0000";
    /// 2100-01-01: core refuses tokens without `exp`.
    const EXP: u64 = 4_102_444_800;

    #[test]
    fn es256_tokens_verify_with_core_keys_and_jwks_has_no_private_part() {
        let jwk = generate_signing_jwk("k1").unwrap();
        let signer = Signer::new(SECRET, Some(&Value::Array(vec![jwk.clone()]).to_string())).unwrap();
        let token = signer.sign(&json!({"sub": "u", "role": "authenticated", "exp": EXP})).unwrap();
        let jwks = signer.jwks();
        assert!(jwks["keys"][0].get("d").is_none());
        let public = pgrest_core::config::parse_ec_keys(&jwks.to_string()).unwrap();
        let keys = pgrest_core::JwtKeys::new(SECRET, None).with_ec_keys(&public).unwrap();
        assert_eq!(keys.verify(&token).unwrap()["sub"], "u");
    }

    #[test]
    fn rotation_keeps_old_tokens_verifying_during_the_overlap() {
        let old = generate_signing_jwk("old").unwrap();
        let new = generate_signing_jwk("new").unwrap();
        let before = Signer::new(SECRET, Some(&json!([old.clone()]).to_string())).unwrap();
        let old_token = before.sign(&json!({"sub": "u1", "exp": EXP})).unwrap();
        // Rotation: the new key first (it signs), the old one still published.
        let after = Signer::new(SECRET, Some(&json!([new, old]).to_string())).unwrap();
        let new_token = after.sign(&json!({"sub": "u2", "exp": EXP})).unwrap();
        assert_eq!(jsonwebtoken::decode_header(&new_token).unwrap().kid.as_deref(), Some("new"));
        let jwks = after.jwks();
        assert_eq!(jwks["keys"].as_array().map(Vec::len), Some(2));
        let public = pgrest_core::config::parse_ec_keys(&jwks.to_string()).unwrap();
        let keys = pgrest_core::JwtKeys::new(SECRET, None).with_ec_keys(&public).unwrap();
        assert_eq!(keys.verify(&old_token).unwrap()["sub"], "u1");
        assert_eq!(keys.verify(&new_token).unwrap()["sub"], "u2");
        // Once the old key is dropped, its tokens stop verifying.
        let only_new = pgrest_core::config::parse_ec_keys(&json!({"keys": [jwks["keys"][0].clone()]}).to_string()).unwrap();
        let keys = pgrest_core::JwtKeys::new(SECRET, None).with_ec_keys(&only_new).unwrap();
        assert!(keys.verify(&old_token).is_err());
    }

    #[test]
    fn hs256_when_no_keys() {
        let signer = Signer::new(SECRET, None).unwrap();
        assert!(!signer.asymmetric());
        let token = signer.sign(&json!({"sub": "u", "exp": EXP})).unwrap();
        assert_eq!(pgrest_core::JwtKeys::new(SECRET, None).verify(&token).unwrap()["sub"], "u");
        assert_eq!(signer.jwks(), json!({"keys": []}));
    }

    #[test]
    fn rejects_mismatched_public_part() {
        let mut jwk = generate_signing_jwk("k1").unwrap();
        jwk["x"] = json!("AAAA");
        assert!(Signer::new(SECRET, Some(&json!([jwk]).to_string())).is_err());
    }

    #[test]
    fn otp_and_hash_shapes() {
        assert_eq!(new_otp().len(), 6);
        assert_eq!(hash_token("abc").len(), 64);
    }

    #[test]
    fn refresh_tokens_are_derived_per_session_and_parent() {
        let signer = Signer::new(SECRET, None).unwrap();
        let (s1, s2) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
        let first = signer.refresh_token(s1, None);
        assert!(plausible_refresh_token(&first), "{first}");
        assert_eq!(first, signer.refresh_token(s1, None), "recomputable");
        let child = signer.refresh_token(s1, Some(&hash_token(&first)));
        assert_ne!(child, first);
        assert_ne!(signer.refresh_token(s2, None), first);
        let other = Signer::new("another-secret-another-secret-another", None).unwrap();
        assert_ne!(other.refresh_token(s1, None), first, "keyed by the secret");
    }

    #[test]
    fn refresh_token_shapes() {
        assert!(plausible_refresh_token("abcdefghij12"), "GoTrue's legacy tokens");
        assert!(plausible_refresh_token(&random_token(32)));
        for bad in ["", "short", "ABCDEFGHIJ12", "abcdefghij1!", &random_token(31), &random_token(33), &hash_token("x"), "a.b.c"] {
            assert!(!plausible_refresh_token(bad), "{bad}");
        }
    }
}
