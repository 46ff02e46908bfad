//! PKCE (RFC 7636 vectors) and state helpers.

use super::*;

// ---------------------------------------------------------------- PKCE and state

#[test]
fn pkce_rfc7636_appendix_b() {
    // RFC 7636 Appendix B: these 32 octets, base64url-encoded, are the verifier.
    let octets: [u8; 32] = [
        116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37,
        77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
    ];
    use base64::Engine as _;
    let verifier = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(octets);
    assert_eq!(verifier, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
    assert_eq!(
        pkce::challenge_s256(&verifier),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
    assert!(pkce::verify(
        "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        Method::S256
    ));
    assert!(!pkce::verify(
        "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK",
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        Method::S256
    ));
    // The challenge itself is not a valid verifier under S256.
    assert!(!pkce::verify(
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        Method::S256
    ));
}

#[test]
fn pkce_plain_and_method_parsing() {
    let v = pkce::new_verifier();
    assert!(pkce::verify(&v, &v, Method::Plain));
    assert!(!pkce::verify(&v, &format!("{v}x"), Method::Plain));
    assert!(!pkce::verify(&v, "", Method::Plain));

    assert_eq!(Method::parse("S256"), Some(Method::S256));
    assert_eq!(Method::parse("s256"), Some(Method::S256));
    assert_eq!(Method::parse("PLAIN"), Some(Method::Plain));
    assert_eq!(Method::parse("plain"), Some(Method::Plain));
    assert_eq!(Method::parse("sha256"), None);
    assert_eq!(Method::parse(""), None);
    assert_eq!(Method::S256.as_str(), "s256");
    assert_eq!(Method::S256.wire_name(), "S256");
}

#[test]
fn pkce_new_verifier_shape() {
    let a = pkce::new_verifier();
    let b = pkce::new_verifier();
    assert_ne!(a, b);
    for v in [&a, &b] {
        assert!((43..=128).contains(&v.len()), "{v}");
        assert!(pkce::is_valid_syntax(v));
        let challenge = pkce::challenge_s256(v);
        assert!(pkce::is_valid_syntax(&challenge));
        assert!(pkce::verify(v, &challenge, Method::S256));
    }
    assert!(!pkce::is_valid_syntax(&"a".repeat(42)));
    assert!(pkce::is_valid_syntax(&"a".repeat(128)));
    assert!(!pkce::is_valid_syntax(&"a".repeat(129)));
    assert!(!pkce::is_valid_syntax(&format!("{}+", "a".repeat(50))));
    assert!(pkce::is_valid_syntax(&format!("{}-._~", "a".repeat(50))));
}

#[test]
fn state_tokens() {
    let (state, hash) = new_state();
    let (other, other_hash) = new_state();
    assert_ne!(state, other);
    assert_ne!(hash, other_hash);
    assert_eq!(state.len(), 43);
    assert!(
        state
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    assert_eq!(hash, hash_state(&state));
    assert_eq!(hash.len(), 64);
    assert!(
        hash.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    // SHA-256("abc")
    assert_eq!(
        hash_state("abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}
