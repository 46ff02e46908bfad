//! `pgrest-lambda cedar-schema`: prints the Cedar schema generated from the database's schema
//! cache (Cedar schema syntax on stdout; column names left out for conflicting types on stderr).
//!
//! Must not change the database or load policies; it only reads the catalog.

use std::time::Duration;

use clap::Args;
use pgrest_core::db::Db;

use crate::{server, Failure};

#[derive(Args, Debug)]
pub(crate) struct CedarSchemaArgs {
    /// PostgreSQL URL (else DATABASE_URL)
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Schemas exposed through /rest/v1 (comma-separated)
    #[arg(long, env = "PGREST_SCHEMAS", value_delimiter = ',', default_value = "public")]
    pub schemas: Vec<String>,
}

pub(crate) fn run(args: CedarSchemaArgs) -> Result<(), Failure> {
    let url = args.database_url.filter(|u| !u.is_empty()).ok_or_else(|| Failure::new("no database: pass --database-url or set DATABASE_URL"))?;
    let runtime = server::runtime()?;
    let cache = runtime.block_on(async {
        let db = Db::connect(&url, 1, Duration::from_secs(60)).map_err(|e| Failure::new(format!("database: {e}")))?;
        db.load_schema_cache(&args.schemas).await.map_err(|e| Failure::new(format!("schema cache: {e}")))
    })?;
    let schema = pgrest_core::policy::cedar_schema(&cache, &args.schemas).map_err(|e| Failure::new(e.to_string()))?;
    for column in &schema.conflicts {
        eprintln!("note: column `{column}` has different Cedar types in different tables; left out of Row");
    }
    println!("{}", schema.to_text().map_err(|e| Failure::new(e.to_string()))?);
    Ok(())
}
