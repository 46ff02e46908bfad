//! The unprivileged OS account PostgreSQL runs as when we are root (it refuses to run as root),
//! plus ownership and reachability of folders for that account.
//!
//! Must not start processes or pick data folders: it answers "who" and "can they get there".

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::Error;
use crate::sys;

/// An OS account by name and numeric ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

/// Accounts tried, in order, when running as root and no name is given.
const DEFAULT_ACCOUNTS: [&str; 2] = ["postgres", "nobody"];

/// `Ok(None)` when not root (the server runs as us); otherwise the account to drop to:
/// `preferred` when given, else `postgres` when it exists, else `nobody`.
pub fn server_account(preferred: Option<&str>) -> Result<Option<Account>, Error> {
    if sys::effective_uid() != 0 {
        return Ok(None);
    }
    let passwd = fs::read_to_string("/etc/passwd").unwrap_or_default();
    let candidates: Vec<&str> = match preferred {
        Some(name) => vec![name],
        None => DEFAULT_ACCOUNTS.to_vec(),
    };
    for name in &candidates {
        if let Some(account) = parse_passwd(&passwd, name).filter(|a| a.uid != 0) {
            return Ok(Some(account));
        }
    }
    // `nobody` is 65534 nearly everywhere even when /etc/passwd is not the source of truth.
    if preferred.is_none() {
        return Ok(Some(Account {
            name: "nobody".to_string(),
            uid: 65534,
            gid: 65534,
        }));
    }
    Err(Error::NoAccount {
        tried: candidates.join(", "),
    })
}

/// Finds `name` in passwd(5) text.
fn parse_passwd(text: &str, name: &str) -> Option<Account> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|line| {
            let mut fields = line.split(':');
            let user = fields.next()?;
            if user != name {
                return None;
            }
            let _password = fields.next()?;
            let uid = fields.next()?.parse().ok()?;
            let gid = fields.next()?.parse().ok()?;
            Some(Account {
                name: user.to_string(),
                uid,
                gid,
            })
        })
}

/// Checks that `account` can traverse every existing folder from `/` down to `dir`.
pub fn check_reachable(dir: &Path, account: &Account) -> Result<(), Error> {
    let dir = absolute(dir)?;
    let mut blocking = None;
    for ancestor in dir.ancestors() {
        let Ok(meta) = fs::metadata(ancestor) else {
            continue;
        };
        let mode = meta.permissions().mode();
        let bit = if meta.uid() == account.uid {
            0o100
        } else if meta.gid() == account.gid {
            0o010
        } else {
            0o001
        };
        if mode & bit == 0 {
            // Keep the outermost blocker: that is the folder to fix or avoid.
            blocking = Some(ancestor.to_path_buf());
        }
    }
    match blocking {
        None => Ok(()),
        Some(blocking) => Err(Error::Unreachable {
            path: dir,
            user: account.name.clone(),
            blocking,
        }),
    }
}

/// Creates `dir` and its missing ancestors; folders created here get mode 0755 whatever the
/// umask, so an unprivileged account can pass through them.
pub(crate) fn create_traversable(dir: &Path) -> Result<(), Error> {
    let mut missing = Vec::new();
    for ancestor in dir.ancestors() {
        if ancestor.as_os_str().is_empty() || ancestor.exists() {
            break;
        }
        missing.push(ancestor.to_path_buf());
    }
    for folder in missing.iter().rev() {
        match fs::create_dir(folder) {
            Ok(()) => {
                fs::set_permissions(folder, fs::Permissions::from_mode(0o755)).map_err(|e| {
                    Error::io(format!("setting permissions of {}", folder.display()), e)
                })?
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::io(format!("creating {}", folder.display()), e)),
        }
    }
    Ok(())
}

/// Creates (if needed) a folder only its owner can enter: `account` when given, else us.
pub(crate) fn create_private(dir: &Path, account: Option<&Account>) -> Result<(), Error> {
    match fs::create_dir(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(Error::io(format!("creating {}", dir.display()), e)),
    }
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
        .map_err(|e| Error::io(format!("setting permissions of {}", dir.display()), e))?;
    if let Some(account) = account {
        chown(dir, account)?;
    }
    Ok(())
}

/// Gives `path` (not following symlinks) to `account`.
pub(crate) fn chown(path: &Path, account: &Account) -> Result<(), Error> {
    std::os::unix::fs::lchown(path, Some(account.uid), Some(account.gid)).map_err(|e| {
        Error::io(
            format!("changing owner of {} to {}", path.display(), account.name),
            e,
        )
    })
}

/// Gives `root` and everything below it to `account`, touching only entries owned by others.
pub(crate) fn chown_tree(root: &Path, account: &Account) -> Result<(), Error> {
    let mut pending = vec![root.to_path_buf()];
    while let Some(path) = pending.pop() {
        let meta = fs::symlink_metadata(&path)
            .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        if meta.uid() != account.uid || meta.gid() != account.gid {
            chown(&path, account)?;
        }
        if meta.is_dir() {
            let entries = fs::read_dir(&path)
                .map_err(|e| Error::io(format!("listing {}", path.display()), e))?;
            for entry in entries {
                let entry =
                    entry.map_err(|e| Error::io(format!("listing {}", path.display()), e))?;
                pending.push(entry.path());
            }
        }
    }
    Ok(())
}

/// `path` made absolute against the current directory (no symlink resolution).
pub(crate) fn absolute(path: &Path) -> Result<PathBuf, Error> {
    std::path::absolute(path).map_err(|e| Error::io(format!("resolving {}", path.display()), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n# comment\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";

    #[test]
    fn parses_passwd_lines() {
        assert_eq!(
            parse_passwd(PASSWD, "nobody"),
            Some(Account {
                name: "nobody".into(),
                uid: 65534,
                gid: 65534
            })
        );
        assert_eq!(parse_passwd(PASSWD, "postgres"), None);
    }

    #[test]
    fn private_folder_blocks_strangers_but_not_its_owner() {
        let tmp = tempfile::tempdir().unwrap();
        let inner = tmp.path().join("a/b");
        create_traversable(&inner).unwrap();
        let mode = fs::metadata(tmp.path().join("a"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o755);
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o700)).unwrap();
        let owner = fs::metadata(tmp.path()).unwrap().uid();
        let stranger = Account {
            name: "stranger".into(),
            uid: owner.wrapping_add(4242),
            gid: 4242,
        };
        let err = check_reachable(&inner, &stranger).unwrap_err();
        assert!(
            matches!(&err, Error::Unreachable { blocking, .. } if blocking == tmp.path()),
            "{err}"
        );
        let me = Account {
            name: "me".into(),
            uid: owner,
            gid: 4242,
        };
        check_reachable(&inner, &me).unwrap();
    }
}
