//! A private PostgreSQL cluster for one test, for what the shared one must not suffer: being
//! stopped and restarted, or serving TLS with certificates the test made.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use pgrest_core::{App, Config, Overrides, StartupError, TxEnd};
use pgrest_embedded::{Auth, Cluster, Options};

use crate::harness::SECRET;

/// The cluster (stopped when dropped) and the folder holding its data and any certificates.
pub struct Private {
    pub cluster: Option<Cluster>,
    pub dir: tempfile::TempDir,
    pub port: u16,
}

impl Private {
    /// Creates (does not start) a cluster with no extra server settings.
    pub fn init() -> Private {
        Private::init_with(|_| Vec::new())
    }

    /// Creates (does not start) a cluster with extra server settings, which may name files in
    /// the cluster's folder (given).
    pub fn init_with(settings: impl FnOnce(&std::path::Path) -> Vec<(String, String)>) -> Private {
        let dir = tempfile::tempdir().expect("tempdir");
        // The server runs as an unprivileged account when we are root: it must reach the folder.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let port = pgrest_embedded::free_port().expect("port");
        let options = Options {
            port,
            auth: Auth::Trust,
            durable: false,
            settings: settings(dir.path()),
            ..Options::default()
        };
        let cluster = Cluster::init_or_reuse(dir.path().join("data"), options).expect("initdb");
        Private { cluster: Some(cluster), dir, port }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Makes `name` readable by the server only (what PostgreSQL demands of a key file).
    pub fn give_to_server(&self, name: &str) {
        let path = self.path(name);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        if let Some(account) = self.cluster().account() {
            std::os::unix::fs::chown(&path, Some(account.uid), Some(account.gid)).expect("chown");
        }
    }

    pub fn cluster(&self) -> &Cluster {
        self.cluster.as_ref().expect("cluster")
    }

    pub fn cluster_mut(&mut self) -> &mut Cluster {
        self.cluster.as_mut().expect("cluster")
    }

    /// Starts the server and loads the REST and fault fixtures into `postgres`.
    pub fn start_with_fixture(&mut self) {
        self.cluster_mut().start().expect("start");
        let psql = self.cluster().psql_for("postgres");
        psql.run(include_str!("../fixtures/roles.sql")).expect("roles");
        psql.run(include_str!("../fixtures/schema.sql")).expect("schema");
        psql.run(include_str!("../fixtures/faults.sql")).expect("faults");
    }

    /// `authenticator`'s URL with `query` appended (e.g. `?sslmode=verify-full`).
    pub fn url(&self, query: &str) -> String {
        format!("postgres://authenticator@127.0.0.1:{}/postgres{query}", self.port)
    }

    /// A server's `App` over this cluster.
    pub async fn app(&self, query: &str, adjust: impl FnOnce(&mut Config)) -> Result<App, StartupError> {
        let overrides = Overrides {
            database_url: Some(self.url(query)),
            jwt_secret: Some(SECRET.to_string()),
            schemas: Some(vec!["public".to_string()]),
            anon_role: Some("anon".to_string()),
            tx_end: Some(TxEnd::Commit),
            ..Default::default()
        };
        let mut config = Config::from_sources(overrides, &Default::default()).expect("config");
        adjust(&mut config);
        App::new(config).await
    }

    /// Stops, then (after `down` ms) starts the server again, off the async threads.
    pub async fn restart(&mut self, down: std::time::Duration) {
        let mut cluster = self.cluster.take().expect("cluster");
        let cluster = tokio::task::spawn_blocking(move || {
            cluster.stop().expect("stop");
            std::thread::sleep(down);
            cluster.start().expect("restart");
            cluster
        })
        .await
        .expect("restart task");
        self.cluster = Some(cluster);
    }
}

/// Sends one request to `app` (the harness's `TestApp::send` for an `App` it did not build).
pub async fn send(app: &App, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, serde_json::Value) {
    let mut builder = http::Request::builder().method(method).uri(path);
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    let response = app.handle(builder.body(bytes::Bytes::from(body.to_string())).expect("request")).await;
    let status = response.status().as_u16();
    let body = serde_json::from_slice(response.body()).unwrap_or(serde_json::Value::Null);
    (status, body)
}
