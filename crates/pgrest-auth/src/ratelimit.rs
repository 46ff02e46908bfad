//! In-memory rate limiting for the auth endpoints: a token bucket per `(bucket, key)` (keys are
//! client IPs, IPv6 ones by /64, lower-cased emails, or [`GLOBAL_KEY`]), with bounded memory. Must not block on
//! I/O, must not grow without bound, and must not be mistaken for a global limit.
//!
//! **Per-process only.** Counters live in this process's memory: every Lambda instance (and
//! every replica of a long-running server) counts on its own and starts empty after a cold
//! start, so the effective limit is `max × number of live instances`. That matches GoTrue, whose
//! limiters are also in-memory per process; a shared store would be needed for exact global
//! limits.
//!
//! The algorithm is GCRA, i.e. a token bucket without a timer: one stored instant per key (the
//! "theoretical arrival time"), `max` events of burst, refilled at `max / per`. A key whose
//! instant has passed has a full bucket, so such entries can be dropped at any time without
//! changing any answer; they are what gets evicted first when the table is full.
//!
//! ## GoTrue's defaults (v2.186.0)
//!
//! GoTrue limits by IP with `tollbooth` token buckets whose **burst is always 30** and whose
//! refill rate is the configured number of events per 5 minutes (`internal/api/options.go`,
//! `NewLimiterOptions`; defaults in `internal/conf/configuration.go`). A bucket of 30 refilled at
//! `R` per 5 minutes is exactly `Limit { max: 30, per: 30 × 5 min / R }`, which is how the
//! constants below are written (see [`Limit::gotrue_per_5_minutes`]). Note that GoTrue applies
//! these IP limits only when it can find the client IP (the `Sb-Forwarded-For` header, or the
//! header named by `GOTRUE_RATE_LIMIT_HEADER`); otherwise it does not limit by IP at all.

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use sha2::{Digest as _, Sha256};

const FIVE_MINUTES: Duration = Duration::from_secs(5 * 60);
const HOUR: Duration = Duration::from_secs(60 * 60);

/// `GOTRUE_RATE_LIMIT_TOKEN_REFRESH` (default 150 per 5 minutes, burst 30), which GoTrue applies
/// per IP to every `/token` grant except web3: `password`, `refresh_token`, `id_token`, `pkce`.
/// So password sign-ins share this limiter with refreshes. = 30 per minute, burst 30.
pub const TOKEN: Limit = Limit::new(30, Duration::from_secs(60));

/// `GOTRUE_RATE_LIMIT_OTP` (default 30 per 5 minutes, burst 30), applied per IP, each endpoint
/// with its own bucket, to `/signup` with an email or phone, `/recover`, `/resend`,
/// `/magiclink`, `/otp` and `PUT /user`. (Supabase's dashboard calls it "sign-ups and
/// sign-ins".)
pub const OTP: Limit = Limit::new(30, FIVE_MINUTES);

/// Same value as [`OTP`]: GoTrue's `/signup` limiter is built from `GOTRUE_RATE_LIMIT_OTP`.
pub const SIGNUP: Limit = OTP;

/// `GOTRUE_RATE_LIMIT_VERIFY` (default 30 per 5 minutes, burst 30), per IP, `/verify`.
pub const VERIFY: Limit = Limit::new(30, FIVE_MINUTES);

/// `GOTRUE_RATE_LIMIT_ANONYMOUS_USERS` (default 30 per **hour**, burst 30), per IP, anonymous
/// `/signup` (no email, no phone).
pub const ANONYMOUS_SIGN_IN: Limit = Limit::new(30, HOUR);

/// `GOTRUE_RATE_LIMIT_SSO` (default 30 per 5 minutes, burst 30), per IP, `/sso`.
pub const SSO: Limit = Limit::new(30, FIVE_MINUTES);

/// `GOTRUE_MFA_RATE_LIMIT_CHALLENGE_AND_VERIFY` (default 15 per **minute**, burst 30), per IP,
/// `/factors/{id}/challenge` and `/factors/{id}/verify` (separate buckets).
pub const MFA_CHALLENGE_AND_VERIFY: Limit = Limit::new(30, Duration::from_secs(120));

/// `GOTRUE_RATE_LIMIT_EMAIL_SENT` (default `30`, meaning 30 per hour). In GoTrue this is **one
/// counter for the whole server** (use [`GLOBAL_KEY`]), checked before each auth email is sent,
/// a fixed one-hour window rather than a token bucket; a value of 0 refuses every email.
pub const EMAIL_SENT: Limit = Limit::new(30, HOUR);

/// Supabase's hosted platform caps its built-in SMTP at 2 emails per hour (Supabase docs, "Auth
/// rate limits", since 21 Oct 2023); not a GoTrue default, offered for a built-in-mailer setup.
pub const EMAIL_SENT_SUPABASE_BUILTIN_SMTP: Limit = Limit::new(2, HOUR);

/// `GOTRUE_RATE_LIMIT_SMS_SENT` (default `30`, meaning 30 per hour), one server-wide counter like
/// [`EMAIL_SENT`].
pub const SMS_SENT: Limit = Limit::new(30, HOUR);

/// The key for server-wide limits ([`EMAIL_SENT`], [`SMS_SENT`]).
pub const GLOBAL_KEY: &str = "*";

/// A suggested table size: about 2 MB of keys at most.
pub const DEFAULT_MAX_KEYS: usize = 10_000;

/// Keys longer than this are stored as their SHA-256 (bounded memory per entry).
const MAX_KEY_BYTES: usize = 128;

/// `max` events of burst, refilled at `max` per `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Burst size; 0 refuses everything.
    pub max: u32,
    /// Time to refill the whole burst; zero means unlimited.
    pub per: Duration,
}

impl Limit {
    /// `Limit { max, per }`.
    pub const fn new(max: u32, per: Duration) -> Self {
        Self { max, per }
    }

    /// The limit GoTrue builds from an IP rate setting such as `GOTRUE_RATE_LIMIT_TOKEN_REFRESH`
    /// or `GOTRUE_RATE_LIMIT_OTP` (events per 5 minutes, burst 30): `Limit { max: 30, per:
    /// 5 min × 30 / events }` (`per` capped at a year). Zero, negative or NaN events refuse
    /// everything (GoTrue would allow one burst of 30 per key and hour); an infinite rate is
    /// unlimited.
    pub fn gotrue_per_5_minutes(events: f64) -> Self {
        const BURST: u32 = 30;
        if events.is_nan() || events <= 0.0 {
            return Self::new(0, FIVE_MINUTES);
        }
        // A year is "never" for a rate limit, and keeps instant arithmetic far from overflow.
        const LONGEST: Duration = Duration::from_secs(365 * 24 * 60 * 60);
        let per = FIVE_MINUTES.as_secs_f64() * f64::from(BURST) / events;
        let per = Duration::try_from_secs_f64(per)
            .unwrap_or(LONGEST)
            .min(LONGEST);
        Self::new(BURST, per)
    }
}

/// How long until the refused event would be allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub std::time::Duration);

impl RetryAfter {
    /// Whole seconds, rounded up (for a `Retry-After` header); at least 1.
    pub fn as_secs_ceil(&self) -> u64 {
        let secs = self.0.as_secs() + u64::from(self.0.subsec_nanos() > 0);
        secs.max(1)
    }
}

type EntryKey = (&'static str, Box<str>);

/// Token buckets keyed by `(bucket, key)`, at most `max_keys` of them. `Send + Sync`; share it in
/// an `Arc`. One mutex guards the table: every operation is a hash lookup, except that a full
/// table is swept in one O(n) pass that frees room for the next `max_keys / 16` new keys.
#[derive(Debug)]
pub struct RateLimiter {
    max_keys: usize,
    /// Theoretical arrival time per key: the bucket is full once `now` reaches it.
    entries: Mutex<HashMap<EntryKey, Instant>>,
}

impl RateLimiter {
    /// A limiter remembering at most `max_keys` keys (at least 1). When full, it drops keys whose
    /// buckets have refilled first, then the keys whose buckets are closest to full (the ones
    /// whose last limiting activity is oldest, so the least information is lost).
    pub fn new(max_keys: usize) -> Self {
        Self {
            max_keys: max_keys.max(1),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one event for `(bucket, key)`; Err when the limit is exceeded (token bucket: `max`
    /// burst refilling over `per`). A refused event is not counted.
    pub fn check(&self, bucket: &'static str, key: &str, limit: Limit) -> Result<(), RetryAfter> {
        self.check_at(bucket, key, limit, Instant::now())
    }

    /// The same with an explicit clock (for tests). Instants earlier than ones already seen are
    /// fine (they find the bucket no fuller).
    pub fn check_at(
        &self,
        bucket: &'static str,
        key: &str,
        limit: Limit,
        now: Instant,
    ) -> Result<(), RetryAfter> {
        let Some(interval) = limit.per.checked_div(limit.max) else {
            return Err(RetryAfter(limit.per));
        };
        if interval.is_zero() {
            return Ok(());
        }
        let entry_key: EntryKey = (bucket, stored_key(&network_key(key)));
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let arrival = entries
            .get(&entry_key)
            .copied()
            .filter(|t| *t > now)
            .unwrap_or(now);
        let Some(next) = arrival.checked_add(interval) else {
            return Err(RetryAfter(limit.per));
        };
        let ahead = next.saturating_duration_since(now);
        if ahead > limit.per {
            return Err(RetryAfter(ahead.saturating_sub(limit.per)));
        }
        if !entries.contains_key(&entry_key) && entries.len() >= self.max_keys {
            self.make_room(&mut entries, now);
        }
        entries.insert(entry_key, next);
        Ok(())
    }

    /// Takes back one event `check` counted for `(bucket, key)` under `limit`, for an event that
    /// did not happen after all (a mail the server failed to send), so it costs the user nothing.
    pub fn refund(&self, bucket: &'static str, key: &str, limit: Limit) {
        let Some(interval) = limit.per.checked_div(limit.max) else { return };
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(arrival) = entries.get_mut(&(bucket, stored_key(key))) {
            if let Some(earlier) = arrival.checked_sub(interval) {
                *arrival = earlier;
            }
        }
    }

    /// Number of keys currently remembered (never more than `max_keys`).
    pub fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether no key is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Brings the table below `max_keys` with some headroom: drops refilled buckets, then the
    /// ones closest to refilled.
    fn make_room(&self, entries: &mut HashMap<EntryKey, Instant>, now: Instant) {
        entries.retain(|_, arrival| *arrival > now);
        let headroom = (self.max_keys / 16).max(1);
        let target = self.max_keys.saturating_sub(headroom);
        let excess = entries.len().saturating_sub(target);
        if excess == 0 {
            return;
        }
        let mut arrivals: Vec<Instant> = entries.values().copied().collect();
        if excess >= arrivals.len() {
            entries.clear();
            return;
        }
        let (_, threshold, _) = arrivals.select_nth_unstable(excess - 1);
        let threshold = *threshold;
        entries.retain(|_, arrival| *arrival > threshold);
    }
}

/// IPv6 clients are counted per /64 (one subscriber's allocation: rotating through its 2^64
/// addresses must not buy fresh buckets); IPv4-mapped IPv6 addresses count as their IPv4
/// address. Every other key (IPv4 addresses, emails) is itself.
pub fn network_key(key: &str) -> std::borrow::Cow<'_, str> {
    let Ok(ip) = key.parse::<std::net::Ipv6Addr>() else { return key.into() };
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4.to_string().into();
    }
    let prefix = u128::from(ip) & !(u128::from(u64::MAX));
    format!("{}/64", std::net::Ipv6Addr::from(prefix)).into()
}

/// The key as stored: itself, or `sha256:<hex>` when long.
fn stored_key(key: &str) -> Box<str> {
    if key.len() <= MAX_KEY_BYTES {
        return key.into();
    }
    let digest = Sha256::digest(key.as_bytes());
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for byte in digest {
        let _ = write!(out, "{byte:02x}");
    }
    out.into_boxed_str()
}
