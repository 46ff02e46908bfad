//! Password hashing (argon2id, verifying argon2i/argon2id/bcrypt hashes from Supabase dumps) and
//! GoTrue's password strength policy. Must not run a KDF on the async executor, must not log,
//! return or keep a password, and must not let timing reveal whether an account exists.
//!
//! New hashes are argon2id PHC strings (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`), a format
//! GoTrue itself verifies, so a database can move back and forth between this server and GoTrue.
//! GoTrue writes bcrypt (cost 10); those hashes verify here and are reported as `needs_rehash`.
//!
//! Every KDF run goes to a fixed set of dedicated threads (as many as CPUs, at least 2), never the
//! async executor: a burst of sign-ins queues instead of allocating hundreds of argon2 memory
//! blocks at once, and waiting for the answer is asynchronous.

mod policy;
#[cfg(test)]
mod tests;

pub use policy::{
    DEFAULT_MIN_LENGTH, MAX_PASSWORD_LENGTH, PasswordPolicy, PasswordRejected, WeakPassword,
    check_password,
};

use std::sync::{Arc, OnceLock};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine as _;
use rand::RngCore as _;

/// Hard cap on the bytes of a password given to the KDF. Above it, hashing is refused and
/// verification fails without running the KDF (the KDF reads every byte, so megabyte passwords
/// would be a cheap denial of service). New passwords are held to the tighter
/// [`MAX_PASSWORD_LENGTH`] by [`check_password`].
pub const MAX_INPUT_BYTES: usize = 1024;

/// Stored argon2 hashes asking for more memory than this (or than the configured
/// [`KdfParams::memory_kib`], if larger) are refused instead of verified: one such row would let
/// every login attempt for that user allocate it.
const MAX_STORED_MEMORY_KIB: u32 = 256 * 1024;
/// Stored bcrypt hashes above this cost are refused for the same reason (cost 16 ≈ seconds).
const MAX_STORED_BCRYPT_COST: u32 = 16;
/// Output length of new hashes (argon2 crate default; GoTrue accepts any length).
const OUTPUT_LEN: usize = 32;
/// Fixed salt and digest of the dummy hash verified when there is no stored hash.
const DUMMY_SALT: [u8; 16] = *b"pgrest-auth-salt";
const DUMMY_DIGEST: [u8; OUTPUT_LEN] = [0x5a; OUTPUT_LEN];

/// argon2id cost parameters for new hashes and the bar below which stored hashes need a rehash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KdfParams {
    /// Memory in KiB (argon2 `m`).
    pub memory_kib: u32,
    /// Passes over memory (argon2 `t`).
    pub iterations: u32,
    /// Lanes (argon2 `p`).
    pub parallelism: u32,
}

impl Default for KdfParams {
    /// OWASP Password Storage Cheat Sheet's argon2id baseline: 19 MiB, 2 iterations, 1 lane.
    fn default() -> Self {
        Self {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

impl KdfParams {
    /// Cheap parameters (1 MiB, 1 iteration) for tests only.
    pub const fn fast_for_tests() -> Self {
        Self {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        }
    }

    /// Checks the parameters are accepted by argon2 (e.g. memory ≥ 8 × parallelism).
    pub fn validate(&self) -> Result<(), PasswordError> {
        argon2id(*self).map(|_| ())
    }
}

/// Result of [`verify_password`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// The password matches the stored hash.
    pub ok: bool,
    /// Only ever set together with `ok`: the stored hash is bcrypt, argon2i, or argon2 with less
    /// memory, fewer iterations or a shorter output than the configured [`KdfParams`]; the caller
    /// should store a fresh [`hash_password`] of the password it just verified.
    pub needs_rehash: bool,
}

impl Verified {
    const REJECTED: Self = Self {
        ok: false,
        needs_rehash: false,
    };
}

/// Why hashing or verification could not give an answer (a wrong password is not an error).
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// The password is longer than [`MAX_INPUT_BYTES`] (hashing only).
    #[error("password is longer than {max} bytes")]
    TooLong {
        /// The cap, [`MAX_INPUT_BYTES`].
        max: usize,
    },
    /// The configured [`KdfParams`] are not valid argon2 parameters.
    #[error("invalid argon2 parameters: {0}")]
    InvalidParams(String),
    /// The stored hash is neither argon2i/argon2id PHC nor bcrypt `$2a$`/`$2b$`/`$2y$`, is
    /// malformed, or asks for more work than this server agrees to do.
    #[error("stored password hash is not in a supported format")]
    UnsupportedHash,
    /// The KDF failed.
    #[error("password hashing failed: {0}")]
    Hashing(String),
    /// Called outside a Tokio runtime.
    #[error("password hashing needs a Tokio runtime")]
    NoRuntime,
    /// The blocking task was cancelled or panicked.
    #[error("password hashing task did not complete")]
    TaskFailed,
}

/// Hashes with argon2id (PHC string, random 16-byte salt) on a dedicated KDF thread, never on
/// the async executor.
pub async fn hash_password(password: String, params: &KdfParams) -> Result<String, PasswordError> {
    if password.len() > MAX_INPUT_BYTES {
        return Err(PasswordError::TooLong {
            max: MAX_INPUT_BYTES,
        });
    }
    let params = *params;
    run_blocking(move || hash_blocking(password.as_bytes(), params)).await
}

/// Verifies `password` against a stored hash: argon2id/argon2i PHC strings, and bcrypt
/// `$2a$`/`$2b$`/`$2y$` (Supabase dumps). `needs_rehash` when the password matched and the hash is
/// bcrypt or argon2 with weaker params than `params`.
///
/// `stored == None` (unknown email, or a user without a password; an empty string counts as
/// none, as in GoTrue) still runs one full argon2id verification against a fixed dummy hash made
/// with the same params, and returns ok=false — so timing does not reveal whether the email
/// exists. (A user whose stored hash is still bcrypt takes bcrypt's time, not argon2's, until
/// their first sign-in rehashes it.) A password over [`MAX_INPUT_BYTES`] is rejected (ok=false)
/// without running any KDF, whatever `stored` is. Also accepted: argon2 `v=16` (reported as
/// `needs_rehash`; GoTrue refuses it). Runs on the blocking pool.
pub async fn verify_password(
    password: String,
    stored: Option<String>,
    params: &KdfParams,
) -> Result<Verified, PasswordError> {
    if password.len() > MAX_INPUT_BYTES {
        return Ok(Verified::REJECTED);
    }
    let params = *params;
    run_blocking(move || verify_blocking(password.as_bytes(), stored.as_deref(), params)).await
}

/// Runs `job` on one of the dedicated KDF threads and waits for its answer without blocking the
/// executor.
///
/// A fixed set of threads (one per CPU, at least 2) instead of tokio's blocking pool: the pool
/// bounds concurrency (each argon2id run holds ~19 MiB), and because the threads live for the
/// whole process, the allocator keeps at most one freed KDF buffer per thread. With tokio's
/// rotating blocking threads each new thread got its own malloc arena and kept its own buffer
/// (RSS grew past 500 MB under sustained sign-ins; `examples/kdf_rss.rs` measures it).
/// A job runs to the end even if the caller stops waiting.
async fn run_blocking<T, F>(job: F) -> Result<T, PasswordError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, PasswordError> + Send + 'static,
{
    // Callers are async code on a Tokio runtime; refuse clearly anywhere else.
    tokio::runtime::Handle::try_current().map_err(|_| PasswordError::NoRuntime)?;
    let (reply, answer) = tokio::sync::oneshot::channel();
    let work: KdfJob = Box::new(move || {
        let _ = reply.send(job());
    });
    kdf_pool().send(work).map_err(|_| PasswordError::TaskFailed)?;
    answer.await.map_err(|_| PasswordError::TaskFailed)?
}

type KdfJob = Box<dyn FnOnce() + Send + 'static>;

/// The queue of the dedicated KDF threads, started on first use.
fn kdf_pool() -> &'static std::sync::mpsc::Sender<KdfJob> {
    static POOL: OnceLock<std::sync::mpsc::Sender<KdfJob>> = OnceLock::new();
    POOL.get_or_init(|| {
        let (sender, receiver) = std::sync::mpsc::channel::<KdfJob>();
        let receiver = Arc::new(std::sync::Mutex::new(receiver));
        let threads = std::thread::available_parallelism().map_or(1, usize::from).max(2);
        for n in 0..threads {
            let receiver = Arc::clone(&receiver);
            let spawned = std::thread::Builder::new().name(format!("pgrest-kdf-{n}")).spawn(move || {
                loop {
                    let next = match receiver.lock() {
                        Ok(queue) => queue.recv(),
                        Err(_) => return,
                    };
                    let Ok(job) = next else { return };
                    // A panicking job drops its reply (the caller gets TaskFailed); the thread lives on.
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                }
            });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a password-hashing thread");
            }
        }
        sender
    })
}

fn argon2id(params: KdfParams) -> Result<Argon2<'static>, PasswordError> {
    let params = Params::new(
        params.memory_kib,
        params.iterations,
        params.parallelism,
        Some(OUTPUT_LEN),
    )
    .map_err(|e| PasswordError::InvalidParams(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn hash_blocking(password: &[u8], params: KdfParams) -> Result<String, PasswordError> {
    let argon2 = argon2id(params)?;
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| PasswordError::Hashing(e.to_string()))?;
    let hash = argon2
        .hash_password(password, &salt)
        .map_err(|e| PasswordError::Hashing(e.to_string()))?;
    Ok(hash.to_string())
}

fn verify_blocking(
    password: &[u8],
    stored: Option<&str>,
    params: KdfParams,
) -> Result<Verified, PasswordError> {
    let stored = match stored {
        Some(s) if !s.is_empty() => s,
        _ => {
            dummy_verification(password, params)?;
            return Ok(Verified::REJECTED);
        }
    };
    let outcome = if stored.starts_with("$argon2") {
        verify_argon2(password, stored, params)
    } else if ["$2a$", "$2b$", "$2y$"]
        .iter()
        .any(|prefix| stored.starts_with(prefix))
    {
        verify_bcrypt(password, stored)
    } else {
        Err(PasswordError::UnsupportedHash)
    };
    if matches!(outcome, Err(PasswordError::UnsupportedHash)) {
        // Keep the time of this (rare, operator-visible) failure in line with the others.
        dummy_verification(password, params)?;
    }
    outcome
}

fn verify_argon2(
    password: &[u8],
    stored: &str,
    params: KdfParams,
) -> Result<Verified, PasswordError> {
    let hash = PasswordHash::new(stored).map_err(|_| PasswordError::UnsupportedHash)?;
    let algorithm = match hash.algorithm.as_str() {
        "argon2id" => Algorithm::Argon2id,
        "argon2i" => Algorithm::Argon2i,
        // GoTrue refuses argon2d too.
        _ => return Err(PasswordError::UnsupportedHash),
    };
    let version = match hash.version {
        None | Some(0x13) => Version::V0x13,
        Some(0x10) => Version::V0x10,
        Some(_) => return Err(PasswordError::UnsupportedHash),
    };
    let stored_params = Params::try_from(&hash).map_err(|_| PasswordError::UnsupportedHash)?;
    if stored_params.m_cost() > MAX_STORED_MEMORY_KIB.max(params.memory_kib) {
        return Err(PasswordError::UnsupportedHash);
    }
    let output_len = match (hash.salt, hash.hash) {
        (Some(_), Some(output)) => output.len(),
        _ => return Err(PasswordError::UnsupportedHash),
    };
    count_argon2_verification(password);
    match Argon2::default().verify_password(password, &hash) {
        Ok(()) => {
            let weaker = algorithm != Algorithm::Argon2id
                || version != Version::V0x13
                || stored_params.m_cost() < params.memory_kib
                || stored_params.t_cost() < params.iterations
                || output_len < OUTPUT_LEN;
            Ok(Verified {
                ok: true,
                needs_rehash: weaker,
            })
        }
        Err(argon2::password_hash::Error::Password) => Ok(Verified::REJECTED),
        Err(_) => Err(PasswordError::UnsupportedHash),
    }
}

fn verify_bcrypt(password: &[u8], stored: &str) -> Result<Verified, PasswordError> {
    let cost = stored
        .get(4..6)
        .and_then(|digits| digits.parse::<u32>().ok())
        .ok_or(PasswordError::UnsupportedHash)?;
    if cost > MAX_STORED_BCRYPT_COST {
        return Err(PasswordError::UnsupportedHash);
    }
    // Like GoTrue (Go's bcrypt), only the first 72 bytes take part.
    match bcrypt::verify(password, stored) {
        Ok(true) => Ok(Verified {
            ok: true,
            needs_rehash: true,
        }),
        Ok(false) => Ok(Verified::REJECTED),
        Err(_) => Err(PasswordError::UnsupportedHash),
    }
}

/// One full argon2id verification with `params` against a fixed hash no password matches.
fn dummy_hash(params: KdfParams) -> String {
    let b64 = base64::engine::general_purpose::STANDARD_NO_PAD;
    format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.memory_kib,
        params.iterations,
        params.parallelism,
        b64.encode(DUMMY_SALT),
        b64.encode(DUMMY_DIGEST),
    )
}

#[cfg(test)]
pub(crate) fn dummy_hash_for_tests(params: KdfParams) -> Option<String> {
    Some(dummy_hash(params))
}

fn dummy_verification(password: &[u8], params: KdfParams) -> Result<(), PasswordError> {
    let dummy = dummy_hash(params);
    let hash =
        PasswordHash::new(&dummy).map_err(|e| PasswordError::InvalidParams(e.to_string()))?;
    count_argon2_verification(password);
    match argon2id(params)?.verify_password(password, &hash) {
        Ok(()) | Err(argon2::password_hash::Error::Password) => Ok(()),
        Err(e) => Err(PasswordError::InvalidParams(e.to_string())),
    }
}

/// Test-only record of argon2 verifications per password, so tests can check that an unknown user
/// costs one full verification, exactly like a known one, without timing anything.
#[cfg(test)]
pub(crate) static ARGON2_VERIFICATIONS: std::sync::Mutex<Vec<Vec<u8>>> = std::sync::Mutex::new(Vec::new());

#[cfg(test)]
fn count_argon2_verification(password: &[u8]) {
    if let Ok(mut seen) = ARGON2_VERIFICATIONS.lock() {
        seen.push(password.to_vec());
    }
}

#[cfg(not(test))]
fn count_argon2_verification(_password: &[u8]) {}

/// Keeps argon2's large buffers (~19 MiB each) out of the heap: glibc raises its mmap threshold
/// after the first such buffer is freed, so later ones are carved from per-thread arenas and
/// stay resident (RSS grew by hundreds of MB under sustained sign-ins). Fixing the threshold at
/// 1 MiB makes every KDF buffer an mmap that goes back to the system when freed. Call once at
/// process start, before any threads; a no-op where the C library is not glibc.
pub fn limit_allocator_retention() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    set_mmap_threshold();
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[expect(unsafe_code, reason = "mallopt is the only way to fix glibc's mmap threshold; it takes plain integers and has no memory-safety preconditions")]
fn set_mmap_threshold() {
    const ONE_MIB: libc::c_int = 1024 * 1024;
    // SAFETY: mallopt only changes allocator tuning; any int value is accepted or rejected (returns 0).
    let accepted = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, ONE_MIB) };
    if accepted == 0 {
        tracing::warn!("could not set the malloc mmap threshold; password hashing may retain memory");
    }
}
