//! Creating a cluster's data folder with `initdb` (UTF8, C locale, generated superuser password
//! for scram-sha-256), checking an existing folder's version, and preparing it before each start
//! (our `pg_hba.conf`, ownership, mode).
//!
//! Must not start the server or overwrite an existing data folder.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use crate::account::{self, Account};
use crate::cluster::{Auth, Options};
use crate::{Binaries, Error};

/// Everything `initdb` needs; `run` returns the superuser password it set, if any.
pub(crate) struct Setup<'a> {
    pub binaries: &'a Binaries,
    pub data_dir: &'a Path,
    pub options: &'a Options,
    pub account: Option<&'a Account>,
    /// Where to keep the generated password (`Some` exactly when `Auth::Password`).
    pub password_file: Option<&'a Path>,
}

impl Setup<'_> {
    pub(crate) fn run(&self) -> Result<Option<String>, Error> {
        if fs::read_dir(self.data_dir).is_ok_and(|mut entries| entries.next().is_some()) {
            return Err(Error::NotACluster {
                path: self.data_dir.to_path_buf(),
            });
        }
        account::create_private(self.data_dir, self.account)?;
        let program = self.binaries.tool("initdb");
        let mut command = Command::new(&program);
        command
            .arg("-D")
            .arg(self.data_dir)
            .args([
                "-U",
                &self.options.superuser,
                "-E",
                "UTF8",
                "--locale=C",
                "--auth-local=trust",
            ])
            .arg(format!("--auth-host={}", method(self.options.auth)))
            .current_dir("/");
        if !self.options.durable {
            command.arg("--no-sync");
        }
        // initdb reads the password from a file the server account can open: a private temp
        // file, removed right after (stdin would not do: a dropped account cannot reopen our pipe).
        let mut password = None;
        let mut temp_file = None;
        if let Some(path) = self.password_file {
            let generated = crate::generate_password();
            write_private(path, &generated, None)?;
            let temp =
                std::env::temp_dir().join(format!("pgrest-initdb-{}.pw", crate::random_hex(8)));
            write_private(&temp, &generated, self.account)?;
            command.arg(format!("--pwfile={}", temp.display()));
            password = Some(generated);
            temp_file = Some(temp);
        }
        crate::psql::scrub_environment(&mut command);
        if let Some(account) = self.account {
            command.uid(account.uid).gid(account.gid);
        }
        let output = command.output();
        if let Some(temp) = temp_file {
            let _ = fs::remove_file(temp);
        }
        let program = program.display().to_string();
        let output = output.map_err(|e| Error::io(format!("running {program}"), e))?;
        if !output.status.success() {
            let text = String::from_utf8_lossy(&output.stderr).trim().to_string();
            return Err(Error::Command {
                program,
                status: output.status.to_string(),
                output: text,
            });
        }
        tracing::debug!(data_dir = %self.data_dir.display(), "initdb done");
        Ok(password)
    }
}

/// Refuses a data folder made by another major version than the binaries.
pub(crate) fn check_version(binaries: &Binaries, data_dir: &Path) -> Result<(), Error> {
    let data_version = fs::read_to_string(data_dir.join("PG_VERSION"))
        .unwrap_or_default()
        .trim()
        .to_string();
    let bin_version = binaries.major_version()?;
    if data_version.split('.').next() != Some(bin_version.to_string().as_str()) {
        return Err(Error::VersionMismatch {
            data_dir: data_dir.to_path_buf(),
            data_version,
            bin_version,
            bin_dir: binaries.dir().to_path_buf(),
        });
    }
    Ok(())
}

fn method(auth: Auth) -> &'static str {
    match auth {
        Auth::Trust => "trust",
        Auth::Password => "scram-sha-256",
    }
}

/// Before every start: our own `pg_hba.conf`, ownership by the server account, mode 0700.
pub(crate) fn prepare(data_dir: &Path, auth: Auth, account: Option<&Account>) -> Result<(), Error> {
    let path = data_dir.join("pg_hba.conf");
    fs::write(&path, hba_conf(auth))
        .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
    if let Some(account) = account {
        account::chown_tree(data_dir, account)?;
    }
    fs::set_permissions(data_dir, fs::Permissions::from_mode(0o700))
        .map_err(|e| Error::io(format!("setting permissions of {}", data_dir.display()), e))
}

/// The whole `pg_hba.conf`: loopback TCP only (no Unix sockets are opened at all).
pub(crate) fn hba_conf(auth: Auth) -> String {
    let method = method(auth);
    format!(
        "# Written by pgrest-embedded at every start; edits are lost.\n\
         # Only 127.0.0.1 listens (no Unix sockets are opened).\n\
         local all all trust\n\
         host all all 127.0.0.1/32 {method}\n\
         host all all ::1/128 {method}\n"
    )
}

/// Writes `text` to a new file only its owner can read (`account` when given, else us).
pub(crate) fn write_private(
    path: &Path,
    text: &str,
    account: Option<&Account>,
) -> Result<(), Error> {
    let _ = fs::remove_file(path);
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| Error::io(format!("creating {}", path.display()), e))?;
    file.write_all(format!("{text}\n").as_bytes())
        .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
    if let Some(account) = account {
        account::chown(path, account)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hba_uses_the_chosen_method_on_loopback_only() {
        let text = hba_conf(Auth::Password);
        assert!(text.contains("host all all 127.0.0.1/32 scram-sha-256"));
        assert!(!text.contains("0.0.0.0"));
        assert!(hba_conf(Auth::Trust).contains("127.0.0.1/32 trust"));
    }

    #[test]
    fn private_files_are_0600_and_replaced() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("pw");
        write_private(&path, "one", None).unwrap();
        write_private(&path, "two", None).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "two\n");
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[test]
    fn version_mismatch_is_explained() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join("PG_VERSION"), "9.4\n").unwrap();
        let binaries = Binaries::locate().unwrap();
        let err = check_version(&binaries, tmp.path()).unwrap_err();
        assert!(err.to_string().contains("PostgreSQL 9.4 cluster"), "{err}");
    }
}
