//! Starts real PostgreSQL servers from the machine's binaries: first start, queries, clean stop,
//! reuse of the data on restart, password authentication, and the shared test cluster.
//!
//! Must not depend on a server started elsewhere (except through PGREST_TEST_DATABASE_URL).

#![cfg(test)]

use std::fs;
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use pgrest_embedded::{Auth, Cluster, Options, Psql, free_port, shared_test_cluster};

/// A temp folder the unprivileged server account can pass through (when tests run as root).
fn traversable_tempdir() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755)).unwrap();
    tmp
}

fn options(auth: Auth) -> Options {
    Options {
        port: free_port().unwrap(),
        auth,
        durable: false,
        ..Options::default()
    }
}

fn port_open(port: u16) -> bool {
    TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(300)).is_ok()
}

fn postmaster_pid(data_dir: &Path) -> u32 {
    let text = fs::read_to_string(data_dir.join("postmaster.pid")).unwrap();
    text.lines().next().unwrap().trim().parse().unwrap()
}

#[test]
fn starts_queries_stops_and_reuses_data_on_restart() {
    let tmp = traversable_tempdir();
    let data_dir = tmp.path().join("postgres");
    let opts = options(Auth::Password);
    let port = opts.port;

    let mut cluster = Cluster::init_or_reuse(&data_dir, opts.clone()).unwrap();
    assert!(cluster.created());
    assert!(data_dir.join("PG_VERSION").is_file());
    let password_file = tmp.path().join("postgres.password");
    assert_eq!(cluster.password_file(), Some(password_file.as_path()));
    let mode = fs::metadata(&password_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);

    cluster.start().unwrap();
    assert!(cluster.is_running());
    assert!(port_open(port));
    assert_eq!(cluster.psql("postgres", "select 1").unwrap(), "1");
    cluster
        .psql(
            "postgres",
            "create table kept (v text); insert into kept values ('still here');",
        )
        .unwrap();
    let url = cluster.url("postgres");
    assert!(
        url.starts_with("postgres://postgres:")
            && url.ends_with(&format!("@127.0.0.1:{port}/postgres"))
    );

    // A wrong password is refused: scram-sha-256 on TCP.
    let intruder = Psql::new(
        cluster.binaries().tool("psql"),
        format!("postgres://postgres@127.0.0.1:{port}/postgres"),
        Some("wrong".into()),
    );
    assert!(intruder.run("select 1").is_err());

    cluster.stop().unwrap();
    assert!(!cluster.is_running());
    assert!(!port_open(port));
    assert!(
        !data_dir.join("postmaster.pid").exists(),
        "clean shutdown removes the lock file"
    );
    drop(cluster);

    let mut again = Cluster::init_or_reuse(&data_dir, opts).unwrap();
    assert!(!again.created());
    again.start().unwrap();
    assert_eq!(
        again.psql("postgres", "select v from kept").unwrap(),
        "still here"
    );
    again.stop().unwrap();
}

#[test]
fn dropping_the_cluster_stops_the_server() {
    let tmp = traversable_tempdir();
    let data_dir = tmp.path().join("pg");
    let opts = options(Auth::Trust);
    let port = opts.port;
    let mut cluster = Cluster::init_or_reuse(&data_dir, opts).unwrap();
    assert_eq!(cluster.password(), None);
    cluster.start().unwrap();
    let pid = postmaster_pid(&data_dir);
    assert!(Path::new(&format!("/proc/{pid}")).exists() || !cfg!(target_os = "linux"));
    // A second start on the same data is refused while the first server runs.
    let mut twin = Cluster::init_or_reuse(
        &data_dir,
        Options {
            port: free_port().unwrap(),
            ..options(Auth::Trust)
        },
    )
    .unwrap();
    assert!(matches!(
        twin.start(),
        Err(pgrest_embedded::Error::AlreadyRunning { .. })
    ));
    drop(cluster);
    assert!(!port_open(port));
    assert!(!data_dir.join("postmaster.pid").exists());
}

#[test]
fn refuses_a_folder_that_is_not_a_cluster() {
    let tmp = traversable_tempdir();
    let data_dir = tmp.path().join("busy");
    fs::create_dir(&data_dir).unwrap();
    fs::write(data_dir.join("notes.txt"), "mine").unwrap();
    let err = Cluster::init_or_reuse(&data_dir, options(Auth::Trust)).unwrap_err();
    assert!(
        matches!(err, pgrest_embedded::Error::NotACluster { .. }),
        "{err}"
    );
    assert_eq!(
        fs::read_to_string(data_dir.join("notes.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn shared_cluster_makes_databases() {
    let shared = shared_test_cluster().unwrap();
    assert!(shared.url().starts_with("postgres://"));
    if let Some(port) = shared.port() {
        assert_eq!(
            shared.url(),
            format!("postgres://postgres@127.0.0.1:{port}/postgres")
        );
    }
    let url = shared.create_database("embedded_selftest").unwrap();
    assert!(url.ends_with("/embedded_selftest"));
    let psql = shared.psql("embedded_selftest");
    assert_eq!(
        psql.run("select current_database()").unwrap(),
        "embedded_selftest"
    );
    // Re-creating gives an empty database.
    psql.run("create table t (id int)").unwrap();
    shared.create_database("embedded_selftest").unwrap();
    assert_eq!(
        psql.run("select count(*) from pg_tables where tablename = 't'")
            .unwrap(),
        "0"
    );
    let (name, _) = shared.fresh_database("fresh").unwrap();
    assert!(name.starts_with("fresh_"));
    assert!(shared.create_database("Bad-Name").is_err());
    // The same server for every caller in this process.
    assert!(std::ptr::eq(shared, shared_test_cluster().unwrap()));
}
