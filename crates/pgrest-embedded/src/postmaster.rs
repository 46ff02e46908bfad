//! The running server process: spawned by a dedicated supervisor thread that owns and reaps it
//! (so the kernel's parent-death signal stops the server if this process dies), readiness
//! polling, and shutdown by signals (SIGINT, then SIGQUIT, then SIGKILL).
//!
//! Must not decide settings or folders: `Cluster` builds the command line and hands it over.

use std::fs;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use crate::account::Account;
use crate::sys::{self, Signal};
use crate::{Binaries, Error};

/// What to run: the `postgres` program, its arguments, who runs it, where it logs.
pub(crate) struct Launch {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub data_dir: PathBuf,
    pub log_file: PathBuf,
    pub account: Option<Account>,
}

/// A postmaster we started; `exited` holds its exit description once the supervisor saw it.
pub(crate) struct Postmaster {
    pid: u32,
    exit: mpsc::Receiver<String>,
    exited: Option<String>,
    log_file: PathBuf,
}

impl Postmaster {
    /// Starts the server on a supervisor thread that lives exactly as long as the server.
    pub(crate) fn spawn(launch: Launch) -> Result<Postmaster, Error> {
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&launch.log_file)
            .map_err(|e| Error::io(format!("opening log {}", launch.log_file.display()), e))?;
        let log_err = log
            .try_clone()
            .map_err(|e| Error::io("duplicating the log handle", e))?;
        let log_file = launch.log_file.clone();
        let (started_tx, started_rx) = mpsc::channel();
        let (exit_tx, exit_rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("pgrest-postmaster".to_string())
            .spawn(move || {
                let mut command = Command::new(&launch.program);
                command
                    .args(&launch.args)
                    .current_dir(&launch.data_dir)
                    .stdin(Stdio::null())
                    .stdout(log)
                    .stderr(log_err)
                    // Own process group: a terminal's Ctrl-C reaches us, and we stop the server
                    // in order (after the HTTP server), instead of both at once.
                    .process_group(0);
                crate::psql::scrub_environment(&mut command);
                if let Some(account) = &launch.account {
                    command.uid(account.uid).gid(account.gid);
                }
                sys::die_with_parent(&mut command);
                match command.spawn() {
                    Err(e) => {
                        let _ = started_tx.send(Err(e));
                    }
                    Ok(mut child) => {
                        let _ = started_tx.send(Ok(child.id()));
                        let status = match child.wait() {
                            Ok(status) => status.to_string(),
                            Err(e) => format!("wait failed: {e}"),
                        };
                        let _ = exit_tx.send(status);
                    }
                }
            })
            .map_err(|e| Error::io("starting the supervisor thread", e))?;
        let pid = match started_rx.recv() {
            Ok(Ok(pid)) => pid,
            Ok(Err(e)) => return Err(Error::io("starting postgres", e)),
            Err(_) => {
                return Err(Error::io(
                    "starting postgres",
                    std::io::Error::other("supervisor thread died"),
                ));
            }
        };
        Ok(Postmaster {
            pid,
            exit: exit_rx,
            exited: None,
            log_file,
        })
    }

    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// `Some(description)` once the process has exited.
    pub(crate) fn exit_status(&mut self) -> Option<&str> {
        if self.exited.is_none() {
            match self.exit.try_recv() {
                Ok(status) => self.exited = Some(status),
                Err(mpsc::TryRecvError::Disconnected) => {
                    self.exited = Some("supervisor gone".to_string())
                }
                Err(mpsc::TryRecvError::Empty) => {}
            }
        }
        self.exited.as_deref()
    }

    /// Waits until the server accepts connections: our pid in `postmaster.pid` with status
    /// `ready`, the port answering, and `pg_isready` agreeing.
    pub(crate) fn wait_ready(
        &mut self,
        binaries: &Binaries,
        data_dir: &Path,
        port: u16,
        timeout: Duration,
    ) -> Result<(), Error> {
        let deadline = Instant::now() + timeout;
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        loop {
            if let Some(status) = self.exit_status() {
                return Err(Error::Exited {
                    status: status.to_string(),
                    log: self.log_file.clone(),
                    tail: self.log_tail(),
                });
            }
            if lock_file_ready(data_dir, self.pid)
                && TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok()
                && pg_isready(binaries, port)
            {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(Error::StartTimeout {
                    seconds: timeout.as_secs(),
                    log: self.log_file.clone(),
                    tail: self.log_tail(),
                });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Fast shutdown (SIGINT), escalating to SIGQUIT after `timeout` and SIGKILL after 5s more.
    pub(crate) fn shutdown(&mut self, timeout: Duration) -> Result<(), Error> {
        let steps = [
            (Signal::Interrupt, timeout),
            (Signal::Quit, Duration::from_secs(5)),
            (Signal::Kill, Duration::from_secs(5)),
        ];
        for (signal, wait) in steps {
            if self.exit_status().is_some() {
                return Ok(());
            }
            if signal != Signal::Interrupt {
                tracing::warn!(
                    pid = self.pid,
                    ?signal,
                    "postgres did not stop in time; escalating"
                );
            }
            // Failure here means the process is already gone; the wait below confirms it.
            let _ = sys::send_signal(self.pid, signal);
            match self.exit.recv_timeout(wait) {
                Ok(status) => {
                    self.exited = Some(status);
                    return Ok(());
                }
                Err(RecvTimeoutError::Disconnected) => {
                    self.exited = Some("supervisor gone".to_string());
                    return Ok(());
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
        }
        Err(Error::StopFailed { pid: self.pid })
    }

    /// The last lines of the server log, for error messages.
    pub(crate) fn log_tail(&self) -> String {
        log_tail(&self.log_file, 20)
    }
}

/// The last `lines` lines of a text file (empty when unreadable).
pub(crate) fn log_tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all.iter()
        .skip(all.len().saturating_sub(lines))
        .copied()
        .collect::<Vec<_>>()
        .join("\n")
}

/// `postmaster.pid` names `pid` and says `ready` (line 8, PostgreSQL 10 and later).
fn lock_file_ready(data_dir: &Path, pid: u32) -> bool {
    let text = fs::read_to_string(data_dir.join("postmaster.pid")).unwrap_or_default();
    let mut lines = text.lines();
    let ours = lines.next().map(str::trim) == Some(pid.to_string().as_str());
    ours && lines.nth(6).map(str::trim) == Some("ready")
}

/// The pid in a data folder's `postmaster.pid`, when that process still exists.
pub(crate) fn running_pid(data_dir: &Path) -> Option<u32> {
    let text = fs::read_to_string(data_dir.join("postmaster.pid")).ok()?;
    let pid: u32 = text.lines().next()?.trim().parse().ok()?;
    sys::process_exists(pid).then_some(pid)
}

fn pg_isready(binaries: &Binaries, port: u16) -> bool {
    let mut command = Command::new(binaries.tool("pg_isready"));
    command.args([
        "-q",
        "-h",
        "127.0.0.1",
        "-p",
        &port.to_string(),
        "-t",
        "2",
        "-d",
        "postgres",
    ]);
    crate::psql::scrub_environment(&mut command);
    command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_ready_status_from_lock_file() {
        let tmp = tempfile::tempdir().unwrap();
        let lines = [
            "4242",
            "/data",
            "1700000000",
            "5432",
            "",
            "127.0.0.1",
            "  1234  5678",
            "ready   ",
        ];
        fs::write(tmp.path().join("postmaster.pid"), lines.join("\n")).unwrap();
        assert!(lock_file_ready(tmp.path(), 4242));
        assert!(!lock_file_ready(tmp.path(), 4243));
        fs::write(
            tmp.path().join("postmaster.pid"),
            lines[..7].join("\n") + "\nstarting",
        )
        .unwrap();
        assert!(!lock_file_ready(tmp.path(), 4242));
    }

    #[test]
    fn tails_logs() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("log");
        fs::write(&path, "a\nb\nc\n").unwrap();
        assert_eq!(log_tail(&path, 2), "b\nc");
        assert_eq!(log_tail(&tmp.path().join("missing"), 2), "");
    }
}
