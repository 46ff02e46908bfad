//! `pgrest-lambda dev` end to end: a first start in an empty folder (initdb, roles, demo, a
//! generated `.env.local`), the banner, the HTTP port, the body limit, the server's database role
//! (a NOINHERIT authenticator, never a superuser), a clean SIGINT stop that also stops
//! PostgreSQL, and a second start that reuses the data and the secret.
//!
//! Must not test REST behaviour (the engine's suites do) nor touch the developer's folders.

#![cfg(test)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A running `dev` process; killed (SIGKILL) if the test fails before stopping it.
struct Dev {
    child: Child,
    banner: Vec<String>,
}

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Dev {
    /// Starts `dev --port 0`: the API binds a port the OS picks (read it with `api_port`), so
    /// no other process can take it between a probe and the bind.
    fn start(cwd: &Path, db_port: u16) -> Dev {
        let mut command = Command::new(env!("CARGO_BIN_EXE_pgrest-lambda"));
        command
            .current_dir(cwd)
            .args([
                "dev",
                "--port",
                "0",
                "--db-port",
                &db_port.to_string(),
            ])
            .env("PGREST_MAX_BODY_BYTES", "1024")
            .env("LOG_LEVEL", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for name in [
            "DATABASE_URL",
            "JWT_SECRET",
            "PGREST_PORT",
            "PGREST_HOST",
            "PGREST_DB_PORT",
            "PGREST_DATA_DIR",
            "PG_HOST",
        ] {
            command.env_remove(name);
        }
        let mut child = command.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut dev = Dev {
            child,
            banner: Vec::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    let done = line.contains("Press Ctrl-C");
                    dev.banner.push(line);
                    if done {
                        return dev;
                    }
                }
                Err(_) => panic!("no banner within 120s; got {:?}", dev.banner),
            }
        }
    }

    fn banner_value(&self, label: &str) -> String {
        let line = self
            .banner
            .iter()
            .find(|l| l.trim_start().starts_with(label))
            .unwrap();
        line.split_once(':').unwrap().1.trim().to_string()
    }

    /// The port in the banner's `API URL: http://127.0.0.1:PORT`.
    fn api_port(&self) -> u16 {
        let url = self.banner_value("API URL");
        let port = url.strip_prefix("http://127.0.0.1:").unwrap_or_else(|| panic!("API URL {url}"));
        port.parse().unwrap()
    }

    fn interrupt_and_wait(&mut self) -> ExitStatus {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "dev did not stop within 60s of SIGINT"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn free_port() -> u16 {
    pgrest_embedded::free_port().unwrap()
}

fn port_open(port: u16) -> bool {
    TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(500)).is_ok()
}

/// Sends a POST whose declared body is over the limit; returns the status line.
fn oversized_post(port: u16) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let body = "x".repeat(4096);
    let request = format!(
        "POST /rest/v1/posts HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.lines().next().unwrap_or_default().to_string()
}

/// V-06: the API's own connections are a NOINHERIT, non-superuser role (the auth service's pool,
/// named `pgrest-lambda-auth`, is the owner of the auth tables and is left out).
fn assert_server_logs_in_as_noinherit_authenticator(dev: &Dev, db_port: u16) {
    assert_eq!(
        dev.banner_value("Server DB role"),
        "authenticator (NOINHERIT, not a superuser)"
    );
    let password_file = dev.banner_value("DB password file");
    let password = std::fs::read_to_string(&password_file).unwrap();
    let psql = pgrest_embedded::Psql::new(
        pgrest_embedded::Binaries::locate().unwrap().tool("psql"),
        format!("postgres://postgres@127.0.0.1:{db_port}/postgres"),
        Some(password.trim().to_string()),
    );
    let seen = psql
        .run(
            "SELECT string_agg(DISTINCT format('%s super=%s inherit=%s', r.rolname, r.rolsuper::text, r.rolinherit::text), '; ') \
             FROM pg_catalog.pg_stat_activity a JOIN pg_catalog.pg_roles r ON r.oid = a.usesysid \
             WHERE a.application_name = 'pgrest-lambda'",
        )
        .unwrap();
    assert_eq!(seen.trim(), "authenticator super=false inherit=false");
}

#[test]
fn dev_starts_serves_and_stops_cleanly_then_reuses_its_data() {
    let tmp = tempfile::tempdir().unwrap();
    // When tests run as root, PostgreSQL runs as an unprivileged account that must reach the folder.
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let db_port = free_port();

    let mut dev = Dev::start(tmp.path(), db_port);
    let api_port = dev.api_port();
    assert_ne!(api_port, 0);
    assert_eq!(
        dev.banner_value("API URL"),
        format!("http://127.0.0.1:{api_port}")
    );
    assert_eq!(
        dev.banner_value("REST URL"),
        format!("http://127.0.0.1:{api_port}/rest/v1")
    );
    assert_eq!(dev.banner_value("anon key").split('.').count(), 3);
    assert_eq!(dev.banner_value("service_role key").split('.').count(), 3);
    let db_url = dev.banner_value("Database URL");
    assert_eq!(
        db_url,
        format!("postgres://postgres:****@127.0.0.1:{db_port}/postgres")
    );
    let data_dir = tmp.path().join(".pgrest").join("postgres");
    assert_eq!(Path::new(&dev.banner_value("Data folder")), data_dir);

    let env_local = std::fs::read_to_string(tmp.path().join(".env.local")).unwrap();
    let secret = env_local
        .lines()
        .find_map(|l| l.strip_prefix("JWT_SECRET="))
        .unwrap()
        .to_string();
    assert_eq!(secret.len(), 64);
    assert!(secret.chars().all(|c| c.is_ascii_hexdigit()));
    let claims = pgrest_core::JwtKeys::new(&secret, None)
        .verify(&dev.banner_value("anon key"))
        .unwrap();
    assert_eq!(claims["role"], "anon");

    assert!(port_open(api_port));
    assert!(port_open(db_port));
    assert!(oversized_post(api_port).starts_with("HTTP/1.1 413"));
    assert_server_logs_in_as_noinherit_authenticator(&dev, db_port);

    let status = dev.interrupt_and_wait();
    assert!(status.success(), "{status:?}");
    assert!(!port_open(api_port));
    assert!(
        !port_open(db_port),
        "PostgreSQL still listening after dev stopped"
    );
    assert!(
        !data_dir.join("postmaster.pid").exists(),
        "PostgreSQL did not shut down cleanly"
    );

    // Second start: same data, same secret, nothing appended to .env.local.
    let mut again = Dev::start(tmp.path(), db_port);
    let api_port = again.api_port();
    assert!(again.banner_value("Secrets").contains(".env.local"));
    assert_eq!(
        std::fs::read_to_string(tmp.path().join(".env.local")).unwrap(),
        env_local
    );
    assert!(port_open(api_port));
    assert!(again.interrupt_and_wait().success());
    assert!(!port_open(db_port));
}
