//! A private PostgreSQL cluster started from the machine's own server binaries, for
//! `pgrest-lambda dev` and for test suites (one shared server per test process).
//!
//! Must not download or bundle PostgreSQL, must not know about pgrest's schema or roles, and
//! must not leave servers running: every postmaster is stopped by `Cluster::stop`, by `Drop`,
//! or by the kernel (parent-death signal) when the owning process dies.
//!
//! ```no_run
//! use pgrest_embedded::{Cluster, Options};
//! let mut cluster = Cluster::init_or_reuse("/tmp/demo/postgres", Options::default())?;
//! cluster.start()?;
//! println!("{}", cluster.psql("postgres", "select 1")?);
//! cluster.stop()?;
//! # Ok::<(), pgrest_embedded::Error>(())
//! ```

mod account;
mod binaries;
mod cluster;
mod initdb;
mod postmaster;
mod psql;
mod sys;
mod testing;

use std::path::PathBuf;

pub use account::{Account, check_reachable, server_account};
pub use binaries::Binaries;
pub use cluster::{Auth, Cluster, Options};
pub use psql::Psql;
pub use testing::{TestCluster, shared_test_cluster};

/// Everything that can go wrong while finding, creating, starting or stopping a cluster.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "PostgreSQL server binaries (initdb, postgres) not found; searched {searched}. Install them \
         (Debian/Ubuntu: `sudo apt-get install postgresql` or `postgresql-15`; Fedora/RHEL: \
         `sudo dnf install postgresql-server`; macOS: `brew install postgresql@15`) or set PG_BIN_DIR \
         to the folder that holds `initdb` and `postgres`"
    )]
    BinariesNotFound { searched: String },

    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },

    #[error("{program} failed ({status}): {output}")]
    Command {
        program: String,
        status: String,
        output: String,
    },

    #[error("running as root, but no unprivileged account to run PostgreSQL as (tried: {tried})")]
    NoAccount { tried: String },

    #[error(
        "{path} is not reachable by the `{user}` account PostgreSQL runs as (it refuses to run as root): \
         {blocking} lacks search (x) permission for it. Choose a data folder under /tmp or /var/tmp, \
         or run as an ordinary user"
    )]
    Unreachable {
        path: PathBuf,
        user: String,
        blocking: PathBuf,
    },

    #[error(
        "{path} exists, is not empty and is not a PostgreSQL data folder; refusing to touch it"
    )]
    NotACluster { path: PathBuf },

    #[error(
        "{data_dir} holds a PostgreSQL {data_version} cluster but the binaries in {bin_dir} are version \
         {bin_version}; set PG_BIN_DIR to matching binaries, or move the folder away to start afresh"
    )]
    VersionMismatch {
        data_dir: PathBuf,
        data_version: String,
        bin_version: u32,
        bin_dir: PathBuf,
    },

    #[error(
        "the superuser password file {path} is missing, so the existing cluster in {data_dir} cannot \
         be reached; restore the file or delete the data folder to start afresh"
    )]
    MissingPassword { path: PathBuf, data_dir: PathBuf },

    #[error("a PostgreSQL server (pid {pid}) is already running on {data_dir}")]
    AlreadyRunning { pid: u32, data_dir: PathBuf },

    #[error("port {port} on 127.0.0.1 is already in use; choose another port")]
    PortInUse { port: u16 },

    #[error("PostgreSQL exited during startup ({status}); last lines of {log}:\n{tail}")]
    Exited {
        status: String,
        log: PathBuf,
        tail: String,
    },

    #[error(
        "PostgreSQL did not accept connections within {seconds}s; last lines of {log}:\n{tail}"
    )]
    StartTimeout {
        seconds: u64,
        log: PathBuf,
        tail: String,
    },

    #[error("PostgreSQL (pid {pid}) did not stop, even after SIGQUIT and SIGKILL")]
    StopFailed { pid: u32 },

    #[error(
        "invalid database name {0:?}: use 1-63 lowercase letters, digits and underscores, starting with a letter"
    )]
    InvalidName(String),

    #[error("shared test cluster unavailable: {0}")]
    TestCluster(String),
}

impl Error {
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io {
            what: what.into(),
            source,
        }
    }
}

/// A password of 32 lowercase hex characters: safe inside URLs and SQL literals unescaped.
pub fn generate_password() -> String {
    random_hex(16)
}

/// `bytes` random bytes as lowercase hex (twice as many characters).
pub(crate) fn random_hex(bytes: usize) -> String {
    (0..bytes)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}

/// A port on 127.0.0.1 that was free a moment ago, outside the kernel's ephemeral range.
///
/// Still a probe (the port is released before the caller binds it), so callers retry on a bind
/// failure; but not one the OS hands out itself (`bind(0)` does, and so does every outgoing
/// connection, e.g. a test's pool opening connections), which makes a collision far rarer.
pub fn free_port() -> Result<u16, Error> {
    let (low, high) = ephemeral_range();
    let candidates: Vec<(u16, u16)> = [(10_000, low.saturating_sub(1)), (high.saturating_add(1), u16::MAX)]
        .into_iter()
        .filter(|(from, to)| to.saturating_sub(*from) > 100)
        .collect();
    for _ in 0..200 {
        let Some(&(from, to)) = candidates.get(usize::from(rand::random::<u8>()) % candidates.len().max(1)) else {
            break;
        };
        let port = rand::random_range(from..=to);
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    // No room outside the ephemeral range (or all taken): let the OS pick.
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))
        .map_err(|e| Error::io("finding a free port", e))?;
    let port = listener
        .local_addr()
        .map_err(|e| Error::io("finding a free port", e))?
        .port();
    Ok(port)
}

/// Linux's `ip_local_port_range` (the ports the kernel picks for `bind(0)` and outgoing
/// connections); its default when unreadable.
fn ephemeral_range() -> (u16, u16) {
    let text = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").unwrap_or_default();
    let mut numbers = text.split_whitespace().filter_map(|n| n.parse::<u16>().ok());
    match (numbers.next(), numbers.next()) {
        (Some(low), Some(high)) if low <= high => (low, high),
        _ => (32_768, 60_999),
    }
}

/// Whether `name` is a plain lowercase identifier (no quoting needed in SQL).
pub(crate) fn is_plain_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && name.len() <= 63
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hex_and_distinct() {
        let (a, b) = (generate_password(), generate_password());
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn plain_identifiers_only() {
        assert!(is_plain_identifier("app_test_1"));
        assert!(!is_plain_identifier("1abc"));
        assert!(!is_plain_identifier("Abc"));
        assert!(!is_plain_identifier("a;drop"));
        assert!(!is_plain_identifier(""));
        assert!(!is_plain_identifier(&"a".repeat(64)));
    }

    #[test]
    fn free_port_is_nonzero() {
        assert_ne!(free_port().unwrap(), 0);
    }

    #[test]
    fn free_port_avoids_the_ephemeral_range() {
        let (low, high) = ephemeral_range();
        for _ in 0..50 {
            let port = free_port().unwrap();
            assert!(!(low..=high).contains(&port), "{port} is in {low}-{high}");
        }
    }
}
