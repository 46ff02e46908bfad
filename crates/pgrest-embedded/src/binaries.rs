//! Locating the machine's PostgreSQL server binaries (`initdb`, `postgres`, `pg_isready`, `psql`).
//!
//! Must not start a server or touch data folders; it only finds programs and reads versions.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Error;

/// A folder holding `initdb` and `postgres` (and, beside them, `pg_isready` and `psql`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binaries {
    dir: PathBuf,
}

impl Binaries {
    /// Finds the binaries: `PG_BIN_DIR`, else `pg_config --bindir`, else `initdb` on `PATH`,
    /// else the newest `/usr/lib/postgresql/*/bin` (Debian, Ubuntu), `/usr/pgsql-*/bin` (RHEL)
    /// or Homebrew's `postgresql@*`.
    pub fn locate() -> Result<Binaries, Error> {
        if let Some(dir) = env::var_os("PG_BIN_DIR").filter(|d| !d.is_empty()) {
            let dir = PathBuf::from(dir);
            // An explicit choice that does not work is an error, not a hint to look elsewhere.
            return Binaries::in_dir(&dir).ok_or(Error::BinariesNotFound {
                searched: format!("PG_BIN_DIR={}", dir.display()),
            });
        }
        let mut searched = Vec::new();
        if let Some(dir) = pg_config_bindir() {
            if let Some(found) = Binaries::in_dir(&dir) {
                return Ok(found);
            }
            searched.push(format!("{} (pg_config --bindir)", dir.display()));
        } else {
            searched.push("pg_config on PATH".to_string());
        }
        if let Some(dir) = initdb_on_path() {
            if let Some(found) = Binaries::in_dir(&dir) {
                return Ok(found);
            }
        }
        searched.push("initdb on PATH".to_string());
        for pattern in [
            ("/usr/lib/postgresql", "", "bin"),
            ("/usr", "pgsql-", "bin"),
        ] {
            if let Some(found) = newest_versioned(Path::new(pattern.0), pattern.1, pattern.2) {
                return Ok(found);
            }
            searched.push(format!("{}/{}*/{}", pattern.0, pattern.1, pattern.2));
        }
        for base in ["/opt/homebrew/opt", "/usr/local/opt"] {
            if let Some(found) = newest_versioned(Path::new(base), "postgresql@", "bin") {
                return Ok(found);
            }
            searched.push(format!("{base}/postgresql@*/bin"));
        }
        Err(Error::BinariesNotFound {
            searched: searched.join(", "),
        })
    }

    /// `Some` when `dir` holds both `initdb` and `postgres`.
    pub fn in_dir(dir: &Path) -> Option<Binaries> {
        let complete = ["initdb", "postgres"]
            .iter()
            .all(|name| dir.join(name).is_file());
        complete.then(|| Binaries {
            dir: dir.to_path_buf(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Path of a program in this folder (`postgres`, `initdb`, `pg_isready`, `psql`, ...).
    pub fn tool(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Major version of the server (`postgres --version` → `15`).
    pub fn major_version(&self) -> Result<u32, Error> {
        let program = self.tool("postgres");
        let output = Command::new(&program)
            .arg("--version")
            .output()
            .map_err(|e| Error::io(format!("running {} --version", program.display()), e))?;
        let text = String::from_utf8_lossy(&output.stdout);
        parse_major(&text).ok_or_else(|| Error::Command {
            program: program.display().to_string(),
            status: output.status.to_string(),
            output: format!("unexpected version text {text:?}"),
        })
    }
}

/// `postgres (PostgreSQL) 15.8 (Debian 15.8-1)` → 15; `9.6.24` → 9.
fn parse_major(text: &str) -> Option<u32> {
    let version = text
        .split_whitespace()
        .find(|w| w.starts_with(|c: char| c.is_ascii_digit()))?;
    version
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

fn pg_config_bindir() -> Option<PathBuf> {
    let output = Command::new("pg_config").arg("--bindir").output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    let dir = text.trim();
    (output.status.success() && !dir.is_empty()).then(|| PathBuf::from(dir))
}

/// The real folder of the first `initdb` on `PATH` (symlinks resolved, as on Debian).
fn initdb_on_path() -> Option<PathBuf> {
    let path = env::var_os("PATH")?;
    env::split_paths(&path).find_map(|dir| {
        let candidate = dir.join("initdb");
        if !candidate.is_file() {
            return None;
        }
        let real = fs::canonicalize(&candidate).ok()?;
        real.parent().map(Path::to_path_buf)
    })
}

/// In `base`, the entry `<prefix><version>/<tail>` with the highest version that is complete.
fn newest_versioned(base: &Path, prefix: &str, tail: &str) -> Option<Binaries> {
    let mut found: Vec<(Vec<u32>, PathBuf)> = fs::read_dir(base)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let version = name.strip_prefix(prefix)?;
            let key: Vec<u32> = version
                .split('.')
                .map(|p| p.parse().ok())
                .collect::<Option<_>>()?;
            Some((key, entry.path().join(tail)))
        })
        .collect();
    found.sort();
    found
        .iter()
        .rev()
        .find_map(|(_, dir)| Binaries::in_dir(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_major_versions() {
        assert_eq!(
            parse_major("postgres (PostgreSQL) 15.8 (Debian 15.8-1.pgdg120+1)\n"),
            Some(15)
        );
        assert_eq!(parse_major("postgres (PostgreSQL) 9.6.24"), Some(9));
        assert_eq!(parse_major("postgres (PostgreSQL) 17beta1"), Some(17));
        assert_eq!(parse_major("garbage"), None);
    }

    #[test]
    fn newest_complete_version_wins() {
        let tmp = tempfile::tempdir().unwrap();
        for version in ["9.6", "13", "16"] {
            let bin = tmp.path().join(version).join("bin");
            fs::create_dir_all(&bin).unwrap();
            if version != "16" {
                fs::write(bin.join("initdb"), "").unwrap();
                fs::write(bin.join("postgres"), "").unwrap();
            }
        }
        fs::create_dir_all(tmp.path().join("common")).unwrap();
        let found = newest_versioned(tmp.path(), "", "bin").unwrap();
        assert_eq!(found.dir(), tmp.path().join("13").join("bin"));
    }

    #[test]
    fn locates_the_machine_binaries() {
        // The development machines and CI have PostgreSQL installed; the server tests need it anyway.
        let found = Binaries::locate().unwrap();
        assert!(found.tool("postgres").is_file());
        assert!(found.major_version().unwrap() >= 10);
    }
}
