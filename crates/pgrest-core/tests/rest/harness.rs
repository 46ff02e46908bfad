//! Test harness: a fresh database per test on the process-wide PostgreSQL cluster, loaded with
//! the fixture, and an `App` connected as `authenticator`, as in production.

use std::sync::OnceLock;

use bytes::Bytes;
use pgrest_core::{App, Config, Overrides, TxEnd};
use serde_json::Value;

pub const SECRET: &str = "test-secret-test-secret-test-secret-0123";

static ROLES: OnceLock<()> = OnceLock::new();

/// A loaded database and an App over it.
pub struct TestApp {
    pub app: App,
    pub database_url: String,
}

pub async fn app() -> TestApp {
    app_with(|_| {}).await
}

pub async fn app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let cluster = pgrest_embedded::shared_test_cluster().expect("test cluster");
    ROLES.get_or_init(|| {
        cluster.psql("postgres").run(include_str!("../fixtures/roles.sql")).expect("roles");
    });
    let (name, superuser_url) = cluster.fresh_database("rest").expect("database");
    cluster.psql(&name).run(include_str!("../fixtures/schema.sql")).expect("fixture");
    let database_url = superuser_url.replacen("postgres@", "authenticator@", 1);
    let overrides = Overrides {
        database_url: Some(database_url.clone()),
        jwt_secret: Some(SECRET.to_string()),
        schemas: Some(vec!["public".to_string()]),
        anon_role: Some("anon".to_string()),
        tx_end: Some(TxEnd::Commit),
        allow_unfiltered_mutations: Some(false),
        trust_authorizer: Some(false),
    };
    let mut config = Config::from_sources(overrides, &Default::default()).expect("config");
    adjust(&mut config);
    let app = App::new(config).await.expect("app");
    TestApp { app, database_url: superuser_url }
}

/// A response, decoded for assertions.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl TestApp {
    pub async fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
        let mut builder = http::Request::builder().method(method).uri(path);
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        let request = builder.body(Bytes::from(body.to_string())).expect("request");
        let response = self.app.handle(request).await;
        let (parts, body) = response.into_parts();
        Reply { status: parts.status.as_u16(), headers: parts.headers, body }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send("GET", path, &[], "").await
    }

    /// A signed token with these claims, plus an `exp` an hour out unless they name one.
    pub fn token(&self, mut claims: Value) -> String {
        if let Some(map) = claims.as_object_mut() {
            let soon = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() + 3600;
            map.entry("exp").or_insert_with(|| Value::from(soon));
        }
        self.app.keys().sign(&claims).expect("sign")
    }

    /// Runs SQL as the superuser (to check what a request left behind).
    pub fn sql(&self, query: &str) -> String {
        let cluster = pgrest_embedded::shared_test_cluster().expect("cluster");
        let name = self.database_url.rsplit('/').next().unwrap_or("postgres").to_string();
        cluster.psql(&name).run(query).expect("sql").trim().to_string()
    }
}
