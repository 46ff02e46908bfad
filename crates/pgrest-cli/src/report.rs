//! How the command reports: log output for every subcommand (`LOG_LEVEL`: a level or tracing
//! filter, default `info`; `LOG_FORMAT`: `pretty`, the default, or `json`; on stderr) and the
//! `Failure` value every subcommand returns (printed as `error: ...`, exit code 1).
//!
//! Must not print secrets or the banner (stdout belongs to the banner and `generate-key`).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber from `LOG_LEVEL` and `LOG_FORMAT`.
pub(crate) fn init_logging() -> Result<(), Failure> {
    let level = std::env::var("LOG_LEVEL")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| "info".to_string());
    let format = std::env::var("LOG_FORMAT")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| "pretty".to_string());
    let filter = filter(&level)?;
    let ansi = std::io::stderr().is_terminal();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    let installed = match format.trim().to_ascii_lowercase().as_str() {
        "json" => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
        "pretty" | "text" => builder.with_target(false).compact().try_init(),
        other => {
            return Err(Failure::new(format!(
                "invalid LOG_FORMAT {other:?}: expected pretty or json"
            )));
        }
    };
    installed.map_err(|e| Failure::new(format!("installing the logger: {e}")))
}

/// `debug` → `debug`; also accepts full directives such as `info,pgrest_core=debug`.
fn filter(level: &str) -> Result<EnvFilter, Failure> {
    let level = level.trim();
    let directive = directive(level);
    EnvFilter::try_new(&directive).map_err(|e| {
        Failure::new(format!(
            "invalid LOG_LEVEL {level:?} ({e}): expected error, warn, info, debug or trace"
        ))
    })
}

/// The tracing directive for `LOG_LEVEL`. At `info` the database driver's own lines (every
/// PostgreSQL NOTICE a statement raises, e.g. from a function's `RAISE NOTICE`, one per request)
/// are kept to warnings; `debug`/`trace` or an explicit `tokio_postgres=...` directive show them.
fn directive(level: &str) -> String {
    match level.to_ascii_lowercase().as_str() {
        "warning" => "warn".to_string(),
        "silent" | "off" | "none" => "off".to_string(),
        "info" => "info,tokio_postgres=warn".to_string(),
        _ => level.to_string(),
    }
}

/// A failure reported to the user (one line or a few), exit code 1. Usage errors exit 2 in clap.
#[derive(Debug)]
pub(crate) struct Failure(String);

impl Failure {
    pub(crate) fn new(message: impl Into<String>) -> Failure {
        Failure(message.into())
    }

    pub(crate) fn io(what: impl std::fmt::Display, error: std::io::Error) -> Failure {
        Failure(format!("{what}: {error}"))
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<pgrest_core::ConfigError> for Failure {
    fn from(error: pgrest_core::ConfigError) -> Failure {
        Failure(format!("configuration: {error}"))
    }
}

impl From<pgrest_core::StartupError> for Failure {
    fn from(error: pgrest_core::StartupError) -> Failure {
        Failure(format!("startup: {error}"))
    }
}

impl From<pgrest_embedded::Error> for Failure {
    fn from(error: pgrest_embedded::Error) -> Failure {
        Failure(format!("embedded PostgreSQL: {error}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_levels_and_directives() {
        for ok in ["info", "DEBUG", "warning", "off", "info,pgrest_core=trace"] {
            assert!(filter(ok).is_ok(), "{ok}");
        }
        assert!(filter("pgrest_core=loud").is_err());
    }

    #[test]
    fn info_keeps_driver_notices_out_and_explicit_directives_win() {
        assert_eq!(directive("info"), "info,tokio_postgres=warn");
        assert_eq!(directive("INFO"), "info,tokio_postgres=warn");
        assert_eq!(directive("debug"), "debug");
        assert_eq!(directive("warning"), "warn");
        assert_eq!(directive("info,tokio_postgres=info"), "info,tokio_postgres=info");
    }
}
