//! The database side of `dev`: where the embedded cluster's data lives (a project-local folder,
//! or /var/tmp when running as root from a folder the server account cannot reach), starting
//! it, and applying the Supabase roles (`sql/roles.sql`) and the demo schema (`sql/demo.sql`).
//!
//! Must not write SQL with values in it: values travel as psql variables.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use pgrest_embedded::{Auth, Cluster, Options};

use crate::Failure;

const ROLES_SQL: &str = include_str!("../sql/roles.sql");
const DEMO_SQL: &str = include_str!("../sql/demo.sql");

/// Port the embedded server prefers (Supabase's local database port).
const DEFAULT_DB_PORT: u16 = 54322;

/// The running embedded database and what the banner says about it.
pub(crate) struct Embedded {
    pub cluster: Cluster,
    /// URL the API server connects with (as `authenticator`, password included).
    pub server_url: String,
    /// Why the data is not in the project folder, when it is not.
    pub relocated: Option<String>,
}

/// Picks the data folder: `explicit`, else `<cwd>/.pgrest/postgres`; as root, when the server
/// account cannot reach the project folder, `/var/tmp/pgrest-lambda/<hash of cwd>/postgres`.
pub(crate) fn data_folder(
    explicit: Option<PathBuf>,
    cwd: &Path,
) -> Result<(PathBuf, Option<String>), Failure> {
    if let Some(dir) = explicit {
        return Ok((dir, None));
    }
    let local = cwd.join(".pgrest").join("postgres");
    let Some(account) = pgrest_embedded::server_account(None)? else {
        return Ok((local, None));
    };
    match pgrest_embedded::check_reachable(&cwd.join(".pgrest"), &account) {
        Ok(()) => Ok((local, None)),
        Err(reason) => {
            let folder = PathBuf::from("/var/tmp/pgrest-lambda").join(format!(
                "{:016x}",
                fnv1a(cwd.as_os_str().as_encoded_bytes())
            ));
            let blocking = match &reason {
                pgrest_embedded::Error::Unreachable { blocking, .. } => {
                    format!("{} is not searchable for it", blocking.display())
                }
                other => other.to_string(),
            };
            let note = format!(
                "running as root, PostgreSQL runs as `{}`, which cannot reach {} ({blocking}); data kept in {} instead",
                account.name,
                cwd.display(),
                folder.display()
            );
            Ok((folder.join("postgres"), Some(note)))
        }
    }
}

/// 64-bit FNV-1a: a stable, dependency-free folder name per project path.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Creates or reuses the cluster, starts it, applies roles (and the demo unless `no_demo`).
pub(crate) fn start(
    data_dir: &Path,
    db_port: Option<u16>,
    no_demo: bool,
    relocated: Option<String>,
) -> Result<Embedded, Failure> {
    let port = match db_port {
        Some(port) => port,
        None if port_free(DEFAULT_DB_PORT) => DEFAULT_DB_PORT,
        None => pgrest_embedded::free_port()?,
    };
    let options = Options {
        port,
        auth: Auth::Password,
        ..Options::default()
    };
    let mut cluster = Cluster::init_or_reuse(data_dir, options)?;
    tracing::info!(
        data_dir = %cluster.data_dir().display(),
        created = cluster.created(),
        port,
        "starting embedded PostgreSQL"
    );
    cluster.start()?;
    let password = authenticator_password(cluster.data_dir())?;
    let psql = cluster.psql_for("postgres");
    psql.run_with(ROLES_SQL, &[("authenticator_password", &password)])?;
    if !no_demo {
        psql.run(DEMO_SQL)?;
    }
    let server_url = format!("postgres://authenticator:{password}@127.0.0.1:{port}/postgres");
    Ok(Embedded {
        cluster,
        server_url,
        relocated,
    })
}

fn port_free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// The `authenticator` role's password, kept beside the data folder (generated once, 0600).
fn authenticator_password(data_dir: &Path) -> Result<String, Failure> {
    let path = data_dir.with_file_name("authenticator.password");
    if let Ok(text) = fs::read_to_string(&path) {
        let text = text.trim();
        if text.len() >= 16 && text.chars().all(|c| c.is_ascii_hexdigit()) {
            return Ok(text.to_string());
        }
    }
    let password = pgrest_embedded::generate_password();
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| Failure::io(format!("creating {}", path.display()), e))?;
    file.write_all(format!("{password}\n").as_bytes())
        .map_err(|e| Failure::io(format!("writing {}", path.display()), e))?;
    Ok(password)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_stable_and_spreads() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_ne!(fnv1a(b"/work/a"), fnv1a(b"/work/b"));
    }

    #[test]
    fn explicit_folder_wins() {
        let (dir, note) = data_folder(Some(PathBuf::from("/tmp/x")), Path::new("/root")).unwrap();
        assert_eq!(dir, PathBuf::from("/tmp/x"));
        assert!(note.is_none());
    }

    #[test]
    fn authenticator_password_is_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("postgres");
        let first = authenticator_password(&data).unwrap();
        assert_eq!(authenticator_password(&data).unwrap(), first);
        assert!(tmp.path().join("authenticator.password").is_file());
    }

    #[test]
    fn sql_scripts_use_variables_not_values() {
        assert!(ROLES_SQL.contains(":'authenticator_password'"));
        assert!(
            DEMO_SQL.contains(
                "IF EXISTS (SELECT FROM pg_catalog.pg_tables WHERE schemaname = 'public')"
            )
        );
    }
}
