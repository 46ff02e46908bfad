//! TLS to the database: a certificate from an unknown issuer or for another host is refused,
//! `sslrootcert` is honoured, and `sslmode=prefer` never ends up in plaintext. Certificates
//! are made here with the openssl CLI; the cluster serves them with `ssl=on`.

use std::process::Command;

use crate::private::{send, Private};

fn openssl(dir: &std::path::Path, args: &[&str]) {
    let out = Command::new("openssl").current_dir(dir).args(args).output().expect("openssl");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A CA, a server certificate for 127.0.0.1 (`good`), one for another host (`wrong`), and a
/// self-signed one for 127.0.0.1 (`selfsigned`), each as `<name>.pem` + `<name>.key`.
fn make_certificates(dir: &std::path::Path) {
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend(["-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=pgrest test CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
    openssl(dir, &ca);
    for (name, san) in [("good", "IP:127.0.0.1"), ("wrong", "DNS:wrong.example")] {
        let mut req = vec!["req"];
        req.extend(ec);
        let (key, csr, pem) = (format!("{name}.key"), format!("{name}.csr"), format!("{name}.pem"));
        req.extend(["-keyout", &key, "-out", &csr, "-subj", "/CN=pgrest test server"]);
        openssl(dir, &req);
        let ext = format!("{name}.ext");
        std::fs::write(dir.join(&ext), format!("subjectAltName={san}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n")).unwrap();
        openssl(dir, &["x509", "-req", "-in", &csr, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", &pem, "-days", "2", "-extfile", &ext]);
    }
    let mut own = vec!["req", "-x509"];
    own.extend(ec);
    own.extend(["-keyout", "selfsigned.key", "-out", "selfsigned.pem", "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]);
    openssl(dir, &own);
}

/// Serves `name`'s certificate from now on (PostgreSQL reloads TLS files on SIGHUP).
fn serve(private: &Private, name: &str) {
    std::fs::copy(private.path(&format!("{name}.pem")), private.path("server.pem")).unwrap();
    std::fs::copy(private.path(&format!("{name}.key")), private.path("server.key")).unwrap();
    private.give_to_server("server.pem");
    private.give_to_server("server.key");
    let reloaded = private.cluster().psql("postgres", "SELECT pg_reload_conf()").unwrap();
    assert_eq!(reloaded.trim(), "t");
    std::thread::sleep(std::time::Duration::from_millis(300));
}

#[tokio::test]
async fn database_tls_verifies_issuer_and_host_and_never_falls_back_to_plaintext() {
    let dir = tempfile::tempdir().unwrap();
    make_certificates(dir.path());
    let mut private = Private::init_with(|folder| {
        let file = |name: &str| folder.join(name).display().to_string();
        vec![("ssl".into(), "on".into()), ("ssl_cert_file".into(), file("server.pem")), ("ssl_key_file".into(), file("server.key"))]
    });
    for name in ["ca", "good", "wrong", "selfsigned"] {
        for ext in ["pem", "key"] {
            std::fs::copy(dir.path().join(format!("{name}.{ext}")), private.path(&format!("{name}.{ext}"))).unwrap();
        }
    }
    for ext in ["pem", "key"] {
        std::fs::copy(private.path(&format!("good.{ext}")), private.path(&format!("server.{ext}"))).unwrap();
        private.give_to_server(&format!("server.{ext}"));
    }
    private.start_with_fixture();
    let ca = private.path("ca.pem").display().to_string();
    let ssl_in_use = |app: pgrest_core::App| async move { send(&app, "GET", "/rest/v1/rpc/ssl_in_use", &[], "").await };

    // The CA named by sslrootcert: verified TLS.
    let app = private.app(&format!("?sslmode=verify-full&sslrootcert={ca}"), |c| c.verbose_errors = true).await.expect("verified TLS");
    assert_eq!(ssl_in_use(app).await, (200, serde_json::json!(true)));
    // Without it the issuer is unknown: refused.
    let e = private.app("?sslmode=require", |_| {}).await.expect_err("unknown issuer");
    assert!(e.to_string().contains("UnknownIssuer"), "{e}");
    // prefer means verified TLS, not "TLS if it happens to work".
    let app = private.app(&format!("?sslmode=prefer&sslrootcert={ca}"), |_| {}).await.expect("prefer with a good certificate");
    assert_eq!(ssl_in_use(app).await, (200, serde_json::json!(true)));

    // A certificate from our CA but for another host: refused.
    serve(&private, "wrong");
    let e = private.app(&format!("?sslmode=verify-full&sslrootcert={ca}"), |_| {}).await.expect_err("wrong host");
    assert!(e.to_string().contains("certificate not valid for name \"127.0.0.1\""), "{e}");
    // A self-signed certificate: refused, and prefer/allow do not fall back to plaintext.
    serve(&private, "selfsigned");
    for mode in ["verify-full", "require", "prefer", "allow"] {
        let e = private.app(&format!("?sslmode={mode}&sslrootcert={ca}"), |_| {}).await.expect_err(mode);
        assert!(e.to_string().contains("invalid peer certificate"), "sslmode={mode}: {e}");
    }
    // sslmode=disable is the one explicit way to plaintext.
    let app = private.app("?sslmode=disable", |_| {}).await.expect("plaintext on request");
    assert_eq!(ssl_in_use(app).await, (200, serde_json::json!(false)));
}
