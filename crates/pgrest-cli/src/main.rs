//! `pgrest-lambda`: the command line. Parses arguments (clap), dispatches to `dev`, `serve` and
//! `generate-key`, and maps the outcome to exit codes: 0 ok, 1 failure, 2 usage.
//!
//! Must not hold engine logic: requests go to `pgrest_core::App`, configuration to `Config`.

mod auth;
mod cedar;
mod dev;
mod embedded;
mod envfile;
mod keys;
mod lint;
mod report;
mod server;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use pgrest_core::{Overrides, TxEnd};

pub(crate) use report::Failure;

#[derive(Parser)]
#[command(
    name = "pgrest-lambda",
    version,
    about = "A Supabase-compatible REST API for any PostgreSQL database"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Local development: embedded PostgreSQL (unless DATABASE_URL is given) plus the API server.
    Dev(DevArgs),
    /// Serve the API over HTTP against DATABASE_URL.
    Serve(ServeArgs),
    /// Print an apikey JWT for `anon` or `service_role`, signed with JWT_SECRET.
    GenerateKey(keys::GenerateKeyArgs),
    /// Create or upgrade the `auth` schema (Supabase-shaped) in DATABASE_URL; idempotent.
    MigrateAuth(auth::MigrateArgs),
    /// Print the Cedar schema generated from DATABASE_URL's schema cache.
    CedarSchema(cedar::CedarSchemaArgs),
    /// Check the `.cedar` files of a directory against the linter's rules (exit 0 clean, 1 findings, 2 usage).
    LintPolicies(lint::LintArgs),
}

/// Engine settings shared by `serve` (explicit flag > environment > default).
#[derive(Args, Debug, Default)]
struct EngineArgs {
    /// PostgreSQL URL, e.g. postgres://user:pass@host:5432/db?sslmode=require
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Schemas exposed through /rest/v1 (comma-separated; the first is the default)
    #[arg(long, env = "PGREST_SCHEMAS", value_delimiter = ',')]
    schemas: Option<Vec<String>>,
    /// Role for requests without a token ("" refuses them)
    #[arg(long, env = "PGREST_ANON_ROLE")]
    anon_role: Option<String>,
    /// HS256 secret for apikeys and user tokens (at least 32 characters)
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    jwt_secret: Option<String>,
    /// How each request's transaction ends
    #[arg(long, env = "PGREST_TX_END", value_enum)]
    tx_end: Option<TxEndArg>,
    /// Allow PATCH and DELETE without any filter
    #[arg(long)]
    allow_unfiltered_mutations: bool,
}

impl EngineArgs {
    fn overrides(self) -> Overrides {
        Overrides {
            database_url: self.database_url,
            schemas: self.schemas,
            anon_role: self.anon_role,
            jwt_secret: self.jwt_secret,
            tx_end: self.tx_end.map(TxEndArg::into_core),
            allow_unfiltered_mutations: self.allow_unfiltered_mutations.then_some(true),
            trust_authorizer: None,
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum TxEndArg {
    Commit,
    CommitAllowOverride,
    Rollback,
    RollbackAllowOverride,
}

impl TxEndArg {
    fn into_core(self) -> TxEnd {
        match self {
            TxEndArg::Commit => TxEnd::Commit,
            TxEndArg::CommitAllowOverride => TxEnd::CommitAllowOverride,
            TxEndArg::Rollback => TxEnd::Rollback,
            TxEndArg::RollbackAllowOverride => TxEnd::RollbackAllowOverride,
        }
    }
}

#[derive(Args, Debug)]
struct ServeArgs {
    /// TCP port to listen on (0 picks a free one; the address is printed on stdout)
    #[arg(long, env = "PGREST_PORT", default_value_t = 3000)]
    port: u16,
    /// Address to listen on (0.0.0.0 for all interfaces)
    #[arg(long, env = "PGREST_HOST", default_value = "127.0.0.1")]
    host: String,
    #[command(flatten)]
    engine: EngineArgs,
}

#[derive(Args, Debug)]
pub(crate) struct DevArgs {
    /// TCP port of the API server (0 picks a free one)
    #[arg(long, env = "PGREST_PORT", default_value_t = 3000)]
    pub port: u16,
    /// Address of the API server
    #[arg(long, env = "PGREST_HOST", default_value = "127.0.0.1")]
    pub host: String,
    /// Use this database instead of the embedded one (also read from DATABASE_URL and .env.local)
    #[arg(long)]
    pub database_url: Option<String>,
    /// Port of the embedded PostgreSQL [default: 54322, or a free one when taken]
    #[arg(long, env = "PGREST_DB_PORT")]
    pub db_port: Option<u16>,
    /// Folder of the embedded cluster [default: ./.pgrest/postgres]
    #[arg(long, env = "PGREST_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Do not create the demo tables (users, posts) in an empty `public` schema
    #[arg(long)]
    pub no_demo: bool,
    /// HS256 secret (else JWT_SECRET, else .env.local, else generated into .env.local)
    #[arg(long, hide_env_values = true)]
    pub jwt_secret: Option<String>,
}

fn main() -> ExitCode {
    // Before any thread starts: keep password-hashing buffers from piling up in malloc arenas.
    pgrest_auth::password::limit_allocator_retention();
    let cli = Cli::parse();
    if let Err(failure) = report::init_logging() {
        eprintln!("error: {failure}");
        return ExitCode::FAILURE;
    }
    let outcome = match cli.command {
        Command::LintPolicies(args) => return lint::run(args),
        Command::Dev(args) => dev::run(args),
        Command::Serve(args) => serve(args),
        Command::GenerateKey(args) => keys::run(args),
        Command::MigrateAuth(args) => auth::migrate_command(args),
        Command::CedarSchema(args) => cedar::run(args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {failure}");
            ExitCode::FAILURE
        }
    }
}

fn serve(args: ServeArgs) -> Result<(), Failure> {
    let config = pgrest_core::Config::load(args.engine.overrides())?;
    let runtime = server::runtime()?;
    runtime.block_on(async move {
        let shutdown = server::shutdown_signal()?;
        let app = pgrest_core::App::new(config).await?;
        let listener = server::bind(&args.host, args.port).await?;
        let address = listener
            .local_addr()
            .map_err(|e| Failure::io("reading the listening address", e))?;
        let env: std::collections::HashMap<String, String> = std::env::vars().collect();
        let auth = auth::install(&app, &env, &format!("http://{address}"), false).await?;
        tracing::info!(%address, auth = %auth, "pgrest-lambda listening");
        // One line on stdout whatever LOG_LEVEL says: scripts start `serve --port 0` and read
        // the port the OS picked from it, so no port is probed and released first.
        println!("pgrest-lambda listening on http://{address}");
        server::serve(app, listener, shutdown).await
    })
}
