//! Stage 1 (jwt): who is calling. Verifies apikey and bearer tokens in-process, or takes the
//! identity an API Gateway authorizer already verified, and yields an `AuthContext`.
//!
//! Must not touch the database or trust unsigned claims: HS256 only with the configured secret,
//! ES256 only against configured public keys (by `kid`); every other algorithm is refused (V-02).

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Map, Value};

/// The caller, as the rest of the pipeline sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthContext {
    /// Database role the request runs as (`SET LOCAL ROLE`).
    pub role: String,
    /// The verified JWT claims (`{}` for anonymous requests).
    pub claims: Value,
    /// `true` when no token was presented at all.
    pub anonymous: bool,
}

/// Identity that an API Gateway REQUEST authorizer verified, attached to the request by the
/// Lambda adapter. Trusted only when `Config::trust_authorizer` is set.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthorizerIdentity {
    pub role: String,
    pub claims: Value,
}

/// Why a token was refused (PostgREST's PGRST30x family).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// PGRST301: the token is not a well-formed, correctly signed JWT.
    #[error("{0}")]
    Invalid(String),
    /// PGRST303: signature fine, claims not acceptable (expired, wrong audience).
    #[error("{0}")]
    Claims(String),
    /// PGRST302: no credentials and anonymous access is disabled.
    #[error("Anonymous access is disabled")]
    Required,
}

/// An ES256 public key as published in a JWKS (`kty: EC`, `crv: P-256`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct EcPublicJwk {
    pub kid: String,
    pub x: String,
    pub y: String,
}

/// HS256 keys built once from the configured secret, plus ES256 public keys for user tokens.
#[derive(Clone)]
pub struct JwtKeys {
    decoding: DecodingKey,
    encoding: EncodingKey,
    audience: Option<String>,
    ec_keys: Vec<(String, DecodingKey)>,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKeys").field("audience", &self.audience).finish_non_exhaustive()
    }
}

impl JwtKeys {
    pub fn new(secret: &str, audience: Option<String>) -> Self {
        JwtKeys {
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            audience,
            ec_keys: Vec::new(),
        }
    }

    /// Adds ES256 public keys; tokens name theirs with `kid` (a lone key also verifies tokens without one).
    pub fn with_ec_keys(mut self, keys: &[EcPublicJwk]) -> Result<Self, JwtError> {
        for key in keys {
            let decoding = DecodingKey::from_ec_components(&key.x, &key.y)
                .map_err(|e| JwtError::Invalid(format!("invalid EC public key {}: {e}", key.kid)))?;
            self.ec_keys.push((key.kid.clone(), decoding));
        }
        Ok(self)
    }

    /// Verifies signature (HS256, or ES256 by `kid`), `exp` (required: a token without one would
    /// be valid forever), `nbf` when present, and `aud` when configured.
    pub fn verify(&self, token: &str) -> Result<Value, JwtError> {
        let parts = token.split('.').count();
        if parts != 3 {
            return Err(JwtError::Invalid(format!("Expected 3 parts in JWT; got {parts}")));
        }
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| JwtError::Invalid("JWT cryptographic operation failed".to_string()))?;
        let no_key = || JwtError::Invalid("No suitable key or wrong key type".to_string());
        let key = match header.alg {
            Algorithm::HS256 => &self.decoding,
            Algorithm::ES256 => match (&header.kid, self.ec_keys.as_slice()) {
                (Some(kid), keys) => keys.iter().find(|(k, _)| k == kid).map(|(_, d)| d).ok_or_else(no_key)?,
                (None, [(_, only)]) => only,
                (None, _) => return Err(no_key()),
            },
            _ => return Err(no_key()),
        };
        let mut validation = Validation::new(header.alg);
        validation.required_spec_claims.clear();
        validation.leeway = 30;
        validation.validate_nbf = true;
        match &self.audience {
            Some(aud) => validation.set_audience(&[aud]),
            None => validation.validate_aud = false,
        }
        let data = jsonwebtoken::decode::<Value>(token, key, &validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            match e.kind() {
                ErrorKind::ExpiredSignature => JwtError::Claims("JWT expired".to_string()),
                ErrorKind::ImmatureSignature => JwtError::Claims("JWT not yet valid".to_string()),
                ErrorKind::InvalidClaimFormat(claim) if claim == "exp" => {
                    JwtError::Claims("The JWT 'exp' claim must be a number".to_string())
                }
                ErrorKind::InvalidAudience => {
                    JwtError::Claims("JWT not in audience".to_string())
                }
                ErrorKind::InvalidSignature => {
                    JwtError::Invalid("JWT cryptographic operation failed".to_string())
                }
                _ => JwtError::Invalid("JWT cryptographic operation failed".to_string()),
            }
        })?;
        if !data.claims.is_object() {
            return Err(JwtError::Invalid("JWT claims must be a JSON object".to_string()));
        }
        // Checked here rather than as a required claim so a non-numeric `exp` keeps its own message.
        if data.claims.get("exp").is_none() {
            return Err(JwtError::Claims("The JWT 'exp' claim is required".to_string()));
        }
        Ok(data.claims)
    }

    /// Signs claims with HS256 (apikeys, test tokens).
    pub fn sign(&self, claims: &Value) -> Result<String, JwtError> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(|e| JwtError::Invalid(format!("could not sign token: {e}")))
    }
}

/// Claims of a long-lived apikey for `role` (`anon` or `service_role`), as Supabase issues them.
pub fn apikey_claims(role: &str, issued_at: u64) -> Value {
    let mut claims = Map::new();
    claims.insert("iss".into(), Value::from("pgrest-lambda"));
    claims.insert("role".into(), Value::from(role));
    claims.insert("iat".into(), Value::from(issued_at));
    // Ten years, like Supabase's project keys.
    claims.insert("exp".into(), Value::from(issued_at + 10 * 365 * 24 * 3600));
    Value::Object(claims)
}

/// Credentials as they arrive on a request.
#[derive(Debug, Default, Clone, Copy)]
pub struct Credentials<'a> {
    pub apikey: Option<&'a str>,
    pub bearer: Option<&'a str>,
}

impl<'a> Credentials<'a> {
    /// Reads `apikey` and `Authorization: Bearer` from request headers.
    pub fn from_headers(headers: &'a http::HeaderMap) -> Self {
        let apikey = headers.get("apikey").and_then(|v| v.to_str().ok()).map(str::trim).filter(|s| !s.is_empty());
        let bearer = headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, rest) = v.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
            })
            .filter(|s| !s.is_empty());
        Credentials { apikey, bearer }
    }
}

/// Resolves the caller: a verified bearer token wins, then the apikey, then the anonymous role.
/// A presented but invalid token is always an error, never a silent fallback to anonymous.
pub fn authenticate(keys: &JwtKeys, creds: Credentials<'_>, anon_role: Option<&str>) -> Result<AuthContext, JwtError> {
    let apikey_claims = creds.apikey.map(|k| keys.verify(k)).transpose()?;
    let bearer_claims = creds.bearer.map(|t| keys.verify(t)).transpose()?;
    match bearer_claims.or(apikey_claims) {
        Some(claims) => {
            let role = claims.get("role").and_then(Value::as_str).map(str::to_string);
            match role.or_else(|| anon_role.map(str::to_string)) {
                Some(role) => Ok(AuthContext { role, claims, anonymous: false }),
                None => Err(JwtError::Required),
            }
        }
        None => match anon_role {
            Some(role) => Ok(AuthContext { role: role.to_string(), claims: Value::Object(Map::new()), anonymous: true }),
            None => Err(JwtError::Required),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SECRET: &str = "reallyreallyreallyreallyverysafe";

    fn keys() -> JwtKeys {
        JwtKeys::new(SECRET, None)
    }

    /// An `exp` an hour from now.
    fn soon() -> u64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 3600
    }

    #[test]
    fn bearer_wins_over_apikey() {
        let k = keys();
        let anon = k.sign(&json!({"role": "anon", "exp": soon()})).unwrap();
        let user = k.sign(&json!({"role": "authenticated", "sub": "u1", "exp": soon()})).unwrap();
        let ctx = authenticate(&k, Credentials { apikey: Some(&anon), bearer: Some(&user) }, Some("anon")).unwrap();
        assert_eq!(ctx.role, "authenticated");
        assert_eq!(ctx.claims["sub"], "u1");
    }

    #[test]
    fn no_credentials_is_anonymous_or_refused() {
        let ctx = authenticate(&keys(), Credentials::default(), Some("web_anon")).unwrap();
        assert!(ctx.anonymous);
        assert_eq!(ctx.role, "web_anon");
        assert_eq!(authenticate(&keys(), Credentials::default(), None), Err(JwtError::Required));
    }

    #[test]
    fn rejects_alg_none_and_wrong_secret() {
        // {"alg":"none"}.{"role":"service_role"}.
        let none = "eyJhbGciOiJub25lIn0.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.";
        assert!(matches!(keys().verify(none), Err(JwtError::Invalid(_))));
        let other = JwtKeys::new("another-secret-another-secret-another", None);
        let forged = other.sign(&json!({"role": "service_role"})).unwrap();
        assert!(matches!(keys().verify(&forged), Err(JwtError::Invalid(_))));
    }

    #[test]
    fn expired_token_is_a_claims_error() {
        let k = keys();
        let t = k.sign(&json!({"role": "anon", "exp": 1000})).unwrap();
        assert_eq!(k.verify(&t), Err(JwtError::Claims("JWT expired".into())));
    }

    #[test]
    fn token_without_exp_is_refused_as_apikey_and_as_bearer() {
        let k = keys();
        let forever = k.sign(&json!({"role": "service_role"})).unwrap();
        let missing = JwtError::Claims("The JWT 'exp' claim is required".into());
        assert_eq!(k.verify(&forever), Err(missing.clone()));
        let not_a_number = JwtError::Claims("The JWT 'exp' claim must be a number".into());
        for exp in [json!(null), json!("4102444800"), json!({})] {
            assert_eq!(k.verify(&k.sign(&json!({"role": "anon", "exp": exp})).unwrap()), Err(not_a_number.clone()), "{exp}");
        }
        let anon = k.sign(&json!({"role": "anon", "exp": soon()})).unwrap();
        assert_eq!(authenticate(&k, Credentials { apikey: Some(&forever), bearer: None }, Some("anon")), Err(missing.clone()));
        assert_eq!(authenticate(&k, Credentials { apikey: Some(&anon), bearer: Some(&forever) }, Some("anon")), Err(missing));
        assert_eq!(authenticate(&k, Credentials { apikey: Some(&anon), bearer: None }, Some("anon")).unwrap().role, "anon");
        // The keys `generate-key` mints carry one.
        assert!(k.verify(&k.sign(&apikey_claims("service_role", soon() - 3600)).unwrap()).is_ok());
    }

    #[test]
    fn malformed_token_names_part_count() {
        assert_eq!(keys().verify("abc.def"), Err(JwtError::Invalid("Expected 3 parts in JWT; got 2".into())));
    }

    #[test]
    fn invalid_apikey_is_not_silently_anonymous() {
        let r = authenticate(&keys(), Credentials { apikey: Some("x.y.z"), bearer: None }, Some("anon"));
        assert!(matches!(r, Err(JwtError::Invalid(_))));
    }

    /// A throwaway P-256 key for tests only.
    const TEST_EC_PEM: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgaFlM4qlp3VnvJZ71
i1EDtXqsUUA4j2UNbITR65MjB96hRANCAAS646g2oq3Xi2QFnUcc8RgRVGctL3TR
1yNer7w8jL/aK0x+k8MBHKa5xl5SSRuYvDAfkiUH/OyYJ1kxl3eNJpsB
-----END PRIVATE KEY-----
";

    fn test_ec_jwk(kid: &str) -> EcPublicJwk {
        EcPublicJwk { kid: kid.into(), x: "uuOoNqKt14tkBZ1HHPEYEVRnLS900dcjXq-8PIy_2is".into(), y: "TH6TwwEcprnGXlJJG5i8MB-SJQf87JgnWTGXd40mmwE".into() }
    }

    fn es256(kid: Option<&str>, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = kid.map(str::to_string);
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_ec_pem(TEST_EC_PEM.as_bytes()).unwrap()).unwrap()
    }

    #[test]
    fn es256_tokens_verify_against_their_kid_only() {
        let k = keys().with_ec_keys(&[test_ec_jwk("k1")]).unwrap();
        let claims = k.verify(&es256(Some("k1"), &json!({"role": "authenticated", "sub": "u", "exp": soon()}))).unwrap();
        assert_eq!(claims["sub"], "u");
        assert!(k.verify(&es256(None, &json!({"role": "x", "exp": soon()}))).is_ok(), "a lone key verifies tokens without kid");
        assert!(matches!(k.verify(&es256(Some("other"), &json!({}))), Err(JwtError::Invalid(_))));
        // Without EC keys configured, ES256 tokens are refused outright.
        assert!(matches!(keys().verify(&es256(Some("k1"), &json!({}))), Err(JwtError::Invalid(_))));
    }

    #[test]
    fn hs256_token_cannot_pose_as_es256() {
        // An HS256 token signed with the EC key's public x as secret (algorithm confusion) is refused.
        let k = keys().with_ec_keys(&[test_ec_jwk("k1")]).unwrap();
        let confused = JwtKeys::new("uuOoNqKt14tkBZ1HHPEYEVRnLS900dcjXq-8PIy_2is", None).sign(&json!({"role": "service_role"})).unwrap();
        assert!(matches!(k.verify(&confused), Err(JwtError::Invalid(_))));
    }
}
