//! The few POSIX calls std does not wrap (effective uid, signals, parent-death signal), each in
//! the smallest `unsafe` item with its reason stated.
//!
//! Must not hold policy (which signal, which account, when): callers decide, this only calls.

use std::io;
use std::process::Command;

/// Signals this crate sends to the postmaster (PostgreSQL's shutdown modes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    /// Fast shutdown: roll back open transactions, checkpoint, exit.
    Interrupt,
    /// Immediate shutdown: exit without a checkpoint (crash recovery at next start).
    Quit,
    /// Last resort when the postmaster ignores everything else.
    Kill,
}

impl Signal {
    fn number(self) -> libc::c_int {
        match self {
            Signal::Interrupt => libc::SIGINT,
            Signal::Quit => libc::SIGQUIT,
            Signal::Kill => libc::SIGKILL,
        }
    }
}

/// The effective user id of this process (0 when running as root).
#[expect(
    unsafe_code,
    reason = "geteuid has no preconditions and cannot fail; std offers no wrapper"
)]
pub(crate) fn effective_uid() -> u32 {
    // SAFETY: geteuid takes no arguments, touches no memory we own and always succeeds.
    unsafe { libc::geteuid() }
}

/// Sends `signal` to process `pid`.
pub(crate) fn send_signal(pid: u32, signal: Signal) -> io::Result<()> {
    let pid = libc::pid_t::try_from(pid)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "pid out of range"))?;
    if pid <= 0 {
        // 0 and negative pids address process groups; never do that by accident.
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "refusing to signal a process group",
        ));
    }
    if raw_kill(pid, signal.number()) == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Whether a process with this pid exists (zombies included; another user's processes too).
pub(crate) fn process_exists(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    if raw_kill(pid, 0) == 0 {
        return true;
    }
    io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[expect(
    unsafe_code,
    reason = "kill(2) is an FFI call; the pid is checked positive by every caller"
)]
fn raw_kill(pid: libc::pid_t, signal: libc::c_int) -> libc::c_int {
    // SAFETY: kill takes plain integers and reports failure through errno; no memory is shared.
    unsafe { libc::kill(pid, signal) }
}

/// Arranges for the spawned child to receive SIGINT (PostgreSQL's fast shutdown) when the
/// thread that spawned it exits, so a crashed or killed parent never leaves a server behind.
///
/// The child's SIGINT disposition is reset to the default first: an ignored SIGINT survives
/// exec (a shell ignores it for background jobs, `make test &`), and the death signal would then
/// be ignored by any child that does not install its own handler.
///
/// std runs `pre_exec` hooks after switching uid/gid, so the setting survives the privilege
/// drop (the kernel clears it on credential changes). Linux only; elsewhere this does nothing.
#[cfg(target_os = "linux")]
#[expect(
    unsafe_code,
    reason = "pre_exec runs in the forked child; prctl there is async-signal-safe"
)]
pub(crate) fn die_with_parent(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure only calls signal(2) and prctl(2) and reads errno, all
    // async-signal-safe; it allocates nothing and touches no state shared with the parent.
    unsafe {
        command.pre_exec(|| {
            if libc::signal(libc::SIGINT, libc::SIG_DFL) == libc::SIG_ERR {
                return Err(io::Error::last_os_error());
            }
            let signal = libc::c_ulong::try_from(libc::SIGINT).unwrap_or(2);
            if libc::prctl(libc::PR_SET_PDEATHSIG, signal, 0, 0, 0) == 0 {
                Ok(())
            } else {
                Err(io::Error::last_os_error())
            }
        });
    }
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn die_with_parent(_command: &mut Command) {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn own_process_exists_and_group_signals_are_refused() {
        assert!(process_exists(std::process::id()));
        assert!(!process_exists(0));
        assert!(send_signal(0, Signal::Interrupt).is_err());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn child_dies_when_spawning_thread_exits() {
        // The thread spawns `sleep` and ends at once; the kernel then signals the child. This
        // holds however the test was launched: `die_with_parent` resets an inherited SIG_IGN.
        assert_child_dies_with_spawning_thread(false);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn child_dies_even_when_sigint_is_ignored() {
        // As under `make test &` from a script: the child starts with SIGINT ignored.
        assert_child_dies_with_spawning_thread(true);
    }

    #[cfg(target_os = "linux")]
    #[expect(unsafe_code, reason = "test-only pre_exec hook that ignores SIGINT in the child")]
    fn ignore_sigint_in_child(command: &mut Command) {
        use std::os::unix::process::CommandExt;
        // SAFETY: signal(2) is async-signal-safe; nothing else runs in the forked child.
        unsafe {
            command.pre_exec(|| {
                libc::signal(libc::SIGINT, libc::SIG_IGN);
                Ok(())
            });
        }
    }

    #[cfg(target_os = "linux")]
    fn assert_child_dies_with_spawning_thread(ignore_sigint_first: bool) {
        let pid = std::thread::spawn(move || {
            let mut command = Command::new("sleep");
            command.arg("30");
            if ignore_sigint_first {
                // Hooks run in order: this one stands in for a disposition inherited from
                // the launching shell, before die_with_parent's own hook.
                ignore_sigint_in_child(&mut command);
            }
            die_with_parent(&mut command);
            command.spawn().map(|c| c.id())
        })
        .join()
        .unwrap()
        .unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            // Unreaped, the dead child stays a zombie: state `Z` in /proc/PID/stat.
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let state = stat
                .rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .chars()
                .next();
            if state == Some('Z') || stat.is_empty() {
                break;
            }
            assert!(Instant::now() < deadline, "child {pid} still alive: {stat}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
