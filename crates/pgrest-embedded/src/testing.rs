//! One throwaway PostgreSQL server per test process (`shared_test_cluster`), or the server named
//! by `PGREST_TEST_DATABASE_URL`, plus helpers to make fresh databases on it.
//!
//! Must not be used for anything but tests: trust authentication, no fsync, data under /tmp.
//! The server stops when the test process exits (parent-death signal on the supervisor thread,
//! which lives as long as the server); stale folders are removed by the next test process.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use crate::cluster::{Auth, Cluster, Options};
use crate::psql::with_database;
use crate::{Binaries, Error, Psql};

/// Environment variable naming an existing server to use instead of starting one.
pub const TEST_DATABASE_URL_VAR: &str = "PGREST_TEST_DATABASE_URL";

/// Prefix of the per-process folders under the temp dir.
const FOLDER_PREFIX: &str = "pgrest-test-";

/// The test server: its superuser URL and how to run SQL on it.
pub struct TestCluster {
    url: String,
    psql: PathBuf,
    port: Option<u16>,
    /// Kept alive for the whole process; never dropped (it lives in a static).
    _cluster: Option<Mutex<Cluster>>,
}

impl std::fmt::Debug for TestCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCluster")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

static SHARED: OnceLock<Result<TestCluster, String>> = OnceLock::new();

/// The process-wide test server, started on first use (about 2-5 seconds), shared by all tests.
pub fn shared_test_cluster() -> Result<&'static TestCluster, Error> {
    match SHARED.get_or_init(|| TestCluster::start().map_err(|e| e.to_string())) {
        Ok(cluster) => Ok(cluster),
        Err(message) => Err(Error::TestCluster(message.clone())),
    }
}

impl TestCluster {
    fn start() -> Result<TestCluster, Error> {
        if let Some(url) = std::env::var(TEST_DATABASE_URL_VAR)
            .ok()
            .filter(|u| !u.is_empty())
        {
            let psql = Binaries::locate()
                .map(|b| b.tool("psql"))
                .unwrap_or_else(|_| PathBuf::from("psql"));
            return Ok(TestCluster {
                url,
                psql,
                port: None,
                _cluster: None,
            });
        }
        let temp = std::env::temp_dir();
        remove_stale_folders(&temp);
        let binaries = Binaries::locate()?;
        let account = crate::account::server_account(None)?;
        let root = temp.join(format!(
            "{FOLDER_PREFIX}{}-{}",
            std::process::id(),
            crate::random_hex(4)
        ));
        crate::account::create_private(&root, account.as_ref())?;
        let data_dir = root.join("data");
        let mut last_error = None;
        // The free port can be taken between probing and binding; a few tries make that moot.
        for _ in 0..3 {
            let options = Options {
                port: crate::free_port()?,
                auth: Auth::Trust,
                durable: false,
                // Suites open a pool per test; headroom avoids "too many clients" under load.
                settings: vec![("max_connections".to_string(), "300".to_string())],
                start_timeout: std::time::Duration::from_secs(60),
                ..Options::default()
            };
            let mut cluster = Cluster::init_or_reuse_with(binaries.clone(), &data_dir, options)?;
            match cluster.start() {
                Ok(()) => {
                    let port = cluster.port();
                    return Ok(TestCluster {
                        url: cluster.url("postgres"),
                        psql: binaries.tool("psql"),
                        port: Some(port),
                        _cluster: Some(Mutex::new(cluster)),
                    });
                }
                Err(e @ (Error::PortInUse { .. } | Error::Exited { .. })) => last_error = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last_error.unwrap_or(Error::TestCluster("could not start".to_string())))
    }

    /// Superuser URL of the `postgres` database (`postgres://postgres@127.0.0.1:PORT/postgres`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Superuser URL of another database on the same server.
    pub fn url_for(&self, database: &str) -> String {
        with_database(&self.url, database)
    }

    /// The port, when this process started the server (not with `PGREST_TEST_DATABASE_URL`).
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// `psql` as the superuser on `database`.
    pub fn psql(&self, database: &str) -> Psql {
        Psql::new(self.psql.clone(), self.url_for(database), None)
    }

    /// Drops (if present) and creates database `name`; returns its superuser URL.
    /// `name`: lowercase letters, digits, underscores.
    pub fn create_database(&self, name: &str) -> Result<String, Error> {
        if !crate::is_plain_identifier(name) {
            return Err(Error::InvalidName(name.to_string()));
        }
        // Two statements: CREATE DATABASE cannot run inside psql's implicit transaction block.
        let admin = self.psql("postgres");
        admin.run(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE);"))?;
        admin.run(&format!("CREATE DATABASE {name};"))?;
        Ok(self.url_for(name))
    }

    /// Creates a database named `<prefix>_<random>` (safe when test processes share a server).
    pub fn fresh_database(&self, prefix: &str) -> Result<(String, String), Error> {
        let name = format!("{prefix}_{}", crate::random_hex(5));
        let url = self.create_database(&name)?;
        Ok((name, url))
    }
}

/// Removes `pgrest-test-<pid>-*` folders whose test process and server are both gone.
fn remove_stale_folders(temp: &Path) {
    let Ok(entries) = fs::read_dir(temp) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(FOLDER_PREFIX)
            .and_then(|rest| rest.split('-').next())
        else {
            continue;
        };
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        let path = entry.path();
        if crate::sys::process_exists(pid)
            || crate::postmaster::running_pid(&path.join("data")).is_some()
        {
            continue;
        }
        match fs::remove_dir_all(&path) {
            Ok(()) => tracing::debug!(folder = %path.display(), "removed stale test cluster"),
            Err(e) => {
                tracing::debug!(folder = %path.display(), error = %e, "could not remove stale test cluster")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_folders_go_live_ones_stay() {
        let tmp = tempfile::tempdir().unwrap();
        let live = tmp
            .path()
            .join(format!("{FOLDER_PREFIX}{}-aaaa", std::process::id()));
        // pid_max is at most 2^22 on Linux, so this pid cannot exist.
        let stale = tmp.path().join(format!("{FOLDER_PREFIX}99999999-bbbb"));
        let other = tmp.path().join("unrelated-99999999");
        for dir in [&live, &stale, &other] {
            fs::create_dir_all(dir.join("data")).unwrap();
        }
        remove_stale_folders(tmp.path());
        assert!(live.exists());
        assert!(!stale.exists());
        assert!(other.exists());
    }
}
