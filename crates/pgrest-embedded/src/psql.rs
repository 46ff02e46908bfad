//! Running SQL through the `psql` program that ships beside the server binaries: scripts on
//! stdin with `ON_ERROR_STOP`, psql variables (`:'name'`), and a scrubbed libpq environment.
//!
//! Must not build SQL from values: callers pass fixed scripts and hand values over as variables.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::Error;

/// libpq variables that would silently redirect or alter our connections.
const LIBPQ_VARIABLES: [&str; 14] = [
    "PGHOST",
    "PGHOSTADDR",
    "PGPORT",
    "PGDATABASE",
    "PGUSER",
    "PGPASSWORD",
    "PGPASSFILE",
    "PGSERVICE",
    "PGSERVICEFILE",
    "PGOPTIONS",
    "PGSSLMODE",
    "PGTARGETSESSIONATTRS",
    "PGDATA",
    "PGCONNECT_TIMEOUT",
];

/// Removes libpq variables from a child's environment so only our arguments count.
pub(crate) fn scrub_environment(command: &mut Command) {
    for name in LIBPQ_VARIABLES {
        command.env_remove(name);
    }
}

/// A way to run SQL against one database: the `psql` program, a URL, an optional password.
#[derive(Clone)]
pub struct Psql {
    program: PathBuf,
    url: String,
    password: Option<String>,
}

impl std::fmt::Debug for Psql {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Psql")
            .field("program", &self.program)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Psql {
    /// `url` should not carry the password (it would show in `ps`); pass it separately.
    pub fn new(program: PathBuf, url: impl Into<String>, password: Option<String>) -> Psql {
        Psql {
            program,
            url: url.into(),
            password,
        }
    }

    /// Runs `script` (any number of statements) and returns its unaligned, tuples-only output.
    pub fn run(&self, script: &str) -> Result<String, Error> {
        self.run_with(script, &[])
    }

    /// Like `run`, with psql variables set (`-v name=value`; use them as `:'name'` in the script).
    pub fn run_with(&self, script: &str, variables: &[(&str, &str)]) -> Result<String, Error> {
        let mut command = Command::new(&self.program);
        command.args([
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            &self.url,
            "-f",
            "-",
        ]);
        for (name, value) in variables {
            command.arg("-v").arg(format!("{name}={value}"));
        }
        scrub_environment(&mut command);
        if let Some(password) = &self.password {
            command.env("PGPASSWORD", password);
        }
        command.env("PGCONNECT_TIMEOUT", "10").current_dir("/");
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let program = self.program.display().to_string();
        let mut child = command
            .spawn()
            .map_err(|e| Error::io(format!("running {program}"), e))?;
        let writer = child.stdin.take().map(|mut stdin| {
            let script = script.to_string();
            // A separate thread, so a chatty script cannot deadlock on full pipes.
            std::thread::spawn(move || stdin.write_all(script.as_bytes()))
        });
        let output = child
            .wait_with_output()
            .map_err(|e| Error::io(format!("running {program}"), e))?;
        let written = writer.map(|w| w.join());
        if !output.status.success() {
            let mut text = String::from_utf8_lossy(&output.stderr).trim().to_string();
            if text.is_empty() {
                text = String::from_utf8_lossy(&output.stdout).trim().to_string();
            }
            return Err(Error::Command {
                program,
                status: output.status.to_string(),
                output: text,
            });
        }
        if let Some(Ok(Err(e))) = written {
            return Err(Error::io(format!("sending the script to {program}"), e));
        }
        Ok(String::from_utf8_lossy(&output.stdout)
            .trim_end()
            .to_string())
    }
}

/// `postgres://user:pw@host:5432/old?x=1` → same URL naming `database` instead of `old`.
pub(crate) fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    let mut out = format!("{}/{}", &base[..path_start], database);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swaps_the_database_in_urls() {
        assert_eq!(
            with_database("postgres://u:p@h:5/old?sslmode=disable", "new"),
            "postgres://u:p@h:5/new?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://u@h:5", "new"),
            "postgres://u@h:5/new"
        );
        assert_eq!(
            with_database("postgresql://h/", "new"),
            "postgresql://h/new"
        );
    }

    #[test]
    fn debug_hides_the_password() {
        let psql = Psql::new(
            PathBuf::from("psql"),
            "postgres://u@h/d",
            Some("secret".into()),
        );
        assert!(!format!("{psql:?}").contains("secret"));
    }
}
