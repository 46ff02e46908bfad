//! Auth for the CLI: `migrate-auth` (the explicit migration step) and turning the native auth
//! service on for `serve` and `dev`.
//!
//! Must not migrate anything implicitly for `serve`; only `dev` (on its own embedded database)
//! and `migrate-auth` change the schema.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use pgrest_auth::mailer::CaptureMailer;
use pgrest_auth::setup::{install_from_env, AuthSetup};
use pgrest_core::db::Db;
use pgrest_core::App;

use crate::{server, Failure};

#[derive(Args, Debug)]
pub(crate) struct MigrateArgs {
    /// Database to migrate, connecting as the role that will own the auth schema
    /// (else AUTH_DATABASE_URL, else DATABASE_URL)
    #[arg(long, hide_env_values = true)]
    pub database_url: Option<String>,
}

/// `pgrest-lambda migrate-auth`: creates or upgrades the `auth` schema, idempotently.
pub(crate) fn migrate_command(args: MigrateArgs) -> Result<(), Failure> {
    let url = args
        .database_url
        .or_else(|| std::env::var("AUTH_DATABASE_URL").ok().filter(|v| !v.is_empty()))
        .or_else(|| std::env::var("DATABASE_URL").ok().filter(|v| !v.is_empty()))
        .ok_or_else(|| Failure::new("no database: pass --database-url or set DATABASE_URL"))?;
    let runtime = server::runtime()?;
    runtime.block_on(migrate(&url))?;
    println!("auth schema is current ({})", pgrest_auth::migrate::AUTH_SCHEMA_VERSION);
    Ok(())
}

/// Applies the auth schema over `url`.
pub(crate) async fn migrate(url: &str) -> Result<(), Failure> {
    let db = Db::connect(url, 1, Duration::from_secs(120)).map_err(|e| Failure::new(format!("database: {e}")))?;
    let mut conn = db.connection().await.map_err(|e| Failure::new(format!("database: {e}")))?;
    pgrest_auth::migrate::migrate(&mut conn).await.map_err(|e| Failure::new(format!("migrating the auth schema: {e}")))
}

/// Installs `/auth/v1` per `AUTH_PROVIDER`; `capture` uses the in-memory mailer that prints links.
/// Returns a line for the banner or log.
pub(crate) async fn install(app: &App, env: &HashMap<String, String>, external_url: &str, capture: bool) -> Result<String, Failure> {
    let mailer: Option<Arc<dyn pgrest_auth::mailer::Mailer>> = if capture && !env.contains_key("SMTP_HOST") {
        Some(Arc::new(CaptureMailer::new()))
    } else {
        None
    };
    match install_from_env(app, env, external_url, mailer).await {
        Ok(AuthSetup::Installed { mailer }) => {
            let confirm = if env.get("MAILER_AUTOCONFIRM").is_some_and(|v| v == "true") { "off" } else { "on" };
            let mails = match mailer {
                "capture" => "printed to the log",
                "smtp" => "sent over SMTP",
                _ => "not sent (set SMTP_HOST)",
            };
            Ok(format!("native; email confirmation {confirm}; auth emails {mails}"))
        }
        Ok(AuthSetup::Disabled(reason)) => Ok(format!("off ({reason})")),
        Err(e) => Err(Failure::new(format!("auth: {e}"))),
    }
}
