//! TLS for database connections: certificate verification always on when TLS is used
//! (webpki roots, plus the `sslrootcert` file when the URL names one).
//!
//! Must not offer a way to skip verification, nor fall back to plaintext: `sslmode=prefer` and
//! `allow` (which let libpq continue unencrypted) mean verified TLS here; only `disable` (or no
//! `sslmode` at all) means plain TCP.

use std::sync::Arc;

/// The connection URL split into what tokio-postgres understands and what we handle ourselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlTls {
    pub url: String,
    pub use_tls: bool,
    pub root_cert: Option<String>,
    /// `sslmode` allowed plaintext (`prefer`, `allow`, unknown) and was made verified TLS.
    pub upgraded: bool,
}

/// Reads `sslmode`/`sslrootcert` from the URL: `disable` (or none) means plain TCP; every other
/// mode means TLS with the certificate and host verified, and never a plaintext fallback.
pub fn split_tls_params(url: &str) -> UrlTls {
    let Some((base, query)) = url.split_once('?') else {
        return UrlTls { url: url.to_string(), use_tls: false, root_cert: None, upgraded: false };
    };
    let mut kept = form_urlencoded::Serializer::new(String::new());
    let mut use_tls = false;
    let mut upgraded = false;
    let mut root_cert = None;
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "sslmode" => {
                use_tls = v != "disable";
                upgraded = !matches!(v.as_ref(), "disable" | "require" | "verify-ca" | "verify-full");
            }
            "sslrootcert" => root_cert = Some(v.into_owned()),
            _ => {
                kept.append_pair(&k, &v);
            }
        }
    }
    if use_tls {
        kept.append_pair("sslmode", "require");
    }
    let rest = kept.finish();
    let url = if rest.is_empty() { base.to_string() } else { format!("{base}?{rest}") };
    UrlTls { url, use_tls, root_cert, upgraded }
}

/// A verifying rustls connector.
pub fn connector(root_cert: Option<&str>) -> Result<tokio_postgres_rustls::MakeRustlsConnect, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = root_cert {
        let pem = std::fs::read(path).map_err(|e| format!("cannot read sslrootcert {path}: {e}"))?;
        let mut reader = std::io::BufReader::new(pem.as_slice());
        for cert in rustls_pemfile_certs(&mut reader)? {
            roots.add(cert).map_err(|e| format!("invalid certificate in {path}: {e}"))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

fn rustls_pemfile_certs(reader: &mut dyn std::io::BufRead) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, String> {
    use rustls::pki_types::pem::PemObject;
    let mut text = Vec::new();
    reader.read_to_end(&mut text).map_err(|e| e.to_string())?;
    rustls::pki_types::CertificateDer::pem_slice_iter(&text).collect::<Result<Vec<_>, _>>().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_modes_mean_tls_and_are_normalised() {
        let t = split_tls_params("postgres://u@h/db?sslmode=verify-full&sslrootcert=/ca.pem&application_name=x");
        assert!(t.use_tls);
        assert_eq!(t.root_cert.as_deref(), Some("/ca.pem"));
        assert_eq!(t.url, "postgres://u@h/db?application_name=x&sslmode=require");
    }

    #[test]
    fn no_sslmode_is_plain() {
        let t = split_tls_params("postgres://u@h/db");
        assert!(!t.use_tls);
        let t = split_tls_params("postgres://u@h/db?sslmode=disable");
        assert!(!t.use_tls);
        assert_eq!(t.url, "postgres://u@h/db");
    }

    #[test]
    fn modes_that_allow_plaintext_mean_verified_tls() {
        for mode in ["prefer", "allow", "bogus"] {
            let t = split_tls_params(&format!("postgres://u@h/db?sslmode={mode}"));
            assert!(t.use_tls, "{mode}");
            assert!(t.upgraded, "{mode}");
            assert_eq!(t.url, "postgres://u@h/db?sslmode=require");
        }
        assert!(!split_tls_params("postgres://u@h/db?sslmode=verify-full").upgraded);
    }
}
