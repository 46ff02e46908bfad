//! One cluster's life: `initdb` on first use (reused afterwards), start on 127.0.0.1 only (no
//! Unix sockets), readiness, clean stop. Drops to an unprivileged account when we are root.
//!
//! Must not create application objects (roles, schemas, data): callers run their own SQL.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::account::{self, Account};
use crate::initdb;
use crate::postmaster::{self, Launch, Postmaster};
use crate::{Binaries, Error, Psql};

/// How TCP connections on 127.0.0.1 authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// Any local user may connect as any role without a password (test clusters).
    Trust,
    /// `scram-sha-256`; the superuser's generated password lives in `<data dir>.password`.
    Password,
}

/// How to create and run the cluster.
#[derive(Debug, Clone)]
pub struct Options {
    pub port: u16,
    pub auth: Auth,
    /// Name of the database superuser (`initdb -U`).
    pub superuser: String,
    /// OS account to run as when we are root; `None` = `postgres` if it exists, else `nobody`.
    pub os_user: Option<String>,
    /// `false` trades crash safety for speed (`fsync=off` and friends): for throwaway clusters.
    pub durable: bool,
    /// Extra server settings, passed as `-c name=value`.
    pub settings: Vec<(String, String)>,
    pub start_timeout: Duration,
    pub stop_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            port: 54322,
            auth: Auth::Password,
            superuser: "postgres".to_string(),
            os_user: None,
            durable: true,
            settings: Vec::new(),
            start_timeout: Duration::from_secs(60),
            stop_timeout: Duration::from_secs(30),
        }
    }
}

/// A data folder plus, while started, its server process. Dropping it stops the server.
pub struct Cluster {
    binaries: Binaries,
    data_dir: PathBuf,
    options: Options,
    account: Option<Account>,
    password: Option<String>,
    password_file: Option<PathBuf>,
    log_file: PathBuf,
    created: bool,
    postmaster: Option<Postmaster>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("data_dir", &self.data_dir)
            .field("port", &self.options.port)
            .field("account", &self.account)
            .field("running", &self.postmaster.as_ref().map(Postmaster::pid))
            .finish_non_exhaustive()
    }
}

impl Cluster {
    /// Creates the cluster with `initdb` when `data_dir` has no `PG_VERSION`, else reuses it.
    /// Does not start it.
    pub fn init_or_reuse(data_dir: impl AsRef<Path>, options: Options) -> Result<Cluster, Error> {
        Cluster::init_or_reuse_with(Binaries::locate()?, data_dir.as_ref(), options)
    }

    /// `init_or_reuse` with binaries chosen by the caller.
    pub fn init_or_reuse_with(
        binaries: Binaries,
        data_dir: &Path,
        options: Options,
    ) -> Result<Cluster, Error> {
        let data_dir = account::absolute(data_dir)?;
        let parent = data_dir
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("/"));
        let name = data_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "data".into());
        let account = account::server_account(options.os_user.as_deref())?;
        account::create_traversable(&parent)?;
        if let Some(account) = &account {
            account::check_reachable(&parent, account)?;
        }
        let password_file =
            (options.auth == Auth::Password).then(|| parent.join(format!("{name}.password")));
        let mut cluster = Cluster {
            binaries,
            log_file: parent.join(format!("{name}.log")),
            data_dir,
            options,
            account,
            password: None,
            password_file,
            created: false,
            postmaster: None,
        };
        if cluster.data_dir.join("PG_VERSION").is_file() {
            initdb::check_version(&cluster.binaries, &cluster.data_dir)?;
            if let Some(path) = &cluster.password_file {
                let text = fs::read_to_string(path).map_err(|_| Error::MissingPassword {
                    path: path.clone(),
                    data_dir: cluster.data_dir.clone(),
                })?;
                cluster.password = Some(text.trim().to_string());
            }
        } else {
            let setup = initdb::Setup {
                binaries: &cluster.binaries,
                data_dir: &cluster.data_dir,
                options: &cluster.options,
                account: cluster.account.as_ref(),
                password_file: cluster.password_file.as_deref(),
            };
            cluster.password = setup.run()?;
            cluster.created = true;
        }
        Ok(cluster)
    }

    /// Starts the server and waits until it accepts connections. Does nothing when running.
    pub fn start(&mut self) -> Result<(), Error> {
        if self.is_running() {
            return Ok(());
        }
        if let Some(pid) = postmaster::running_pid(&self.data_dir) {
            return Err(Error::AlreadyRunning {
                pid,
                data_dir: self.data_dir.clone(),
            });
        }
        let port = self.options.port;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_err() {
            return Err(Error::PortInUse { port });
        }
        initdb::prepare(&self.data_dir, self.options.auth, self.account.as_ref())?;
        let mut args = vec![
            "-D".to_string(),
            self.data_dir.display().to_string(),
            "-p".to_string(),
            port.to_string(),
        ];
        let mut settings = vec![
            ("listen_addresses", "127.0.0.1".to_string()),
            ("unix_socket_directories", String::new()),
            ("logging_collector", "off".to_string()),
        ];
        if !self.options.durable {
            settings.extend([
                ("fsync", "off".into()),
                ("synchronous_commit", "off".into()),
                ("full_page_writes", "off".into()),
            ]);
        }
        let extra = self
            .options
            .settings
            .iter()
            .map(|(k, v)| (k.as_str(), v.clone()));
        for (name, value) in settings.into_iter().chain(extra) {
            args.push("-c".to_string());
            args.push(format!("{name}={value}"));
        }
        let mut postmaster = Postmaster::spawn(Launch {
            program: self.binaries.tool("postgres"),
            args,
            data_dir: self.data_dir.clone(),
            log_file: self.log_file.clone(),
            account: self.account.clone(),
        })?;
        if let Err(e) = postmaster.wait_ready(
            &self.binaries,
            &self.data_dir,
            port,
            self.options.start_timeout,
        ) {
            let _ = postmaster.shutdown(Duration::from_secs(5));
            return Err(e);
        }
        tracing::debug!(pid = postmaster.pid(), port, data_dir = %self.data_dir.display(), "postgres started");
        self.postmaster = Some(postmaster);
        Ok(())
    }

    /// Fast shutdown, escalating if the server does not stop within `stop_timeout`.
    pub fn stop(&mut self) -> Result<(), Error> {
        match self.postmaster.take() {
            Some(mut postmaster) => postmaster.shutdown(self.options.stop_timeout),
            None => Ok(()),
        }
    }

    /// Whether the server we started is still running.
    pub fn is_running(&mut self) -> bool {
        self.postmaster
            .as_mut()
            .is_some_and(|p| p.exit_status().is_none())
    }

    /// `true` when `init_or_reuse` ran `initdb` (a fresh cluster), `false` when reused.
    pub fn created(&self) -> bool {
        self.created
    }

    pub fn port(&self) -> u16 {
        self.options.port
    }

    pub fn superuser(&self) -> &str {
        &self.options.superuser
    }

    /// The superuser's password (`None` with `Auth::Trust`).
    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    /// Where the superuser password is kept (`<data dir>.password`, mode 0600).
    pub fn password_file(&self) -> Option<&Path> {
        self.password_file.as_deref()
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The server log (`<data dir>.log`).
    pub fn log_file(&self) -> &Path {
        &self.log_file
    }

    pub fn binaries(&self) -> &Binaries {
        &self.binaries
    }

    /// The OS account the server runs as when we are root.
    pub fn account(&self) -> Option<&Account> {
        self.account.as_ref()
    }

    /// Superuser URL for `database`, password included (keep it out of logs).
    pub fn url(&self, database: &str) -> String {
        let auth = match &self.password {
            Some(password) => format!("{}:{password}", self.options.superuser),
            None => self.options.superuser.clone(),
        };
        format!(
            "postgres://{auth}@127.0.0.1:{}/{database}",
            self.options.port
        )
    }

    /// `psql` connected as the superuser to `database`.
    pub fn psql_for(&self, database: &str) -> Psql {
        let url = format!(
            "postgres://{}@127.0.0.1:{}/{database}",
            self.options.superuser, self.options.port
        );
        Psql::new(self.binaries.tool("psql"), url, self.password.clone())
    }

    /// Runs `script` as the superuser in `database`; returns psql's tuples-only output.
    pub fn psql(&self, database: &str, script: &str) -> Result<String, Error> {
        self.psql_for(database).run(script)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            tracing::warn!(error = %e, "stopping postgres");
        }
    }
}
