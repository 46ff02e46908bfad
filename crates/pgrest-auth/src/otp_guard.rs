//! Guessing limits for mailed one-time tokens (V-12), over `sql/auth_v2_otp.sql`'s tables: each
//! token's link is an independent 256-bit secret (only its hash is stored), each six-digit code
//! dies after `max_attempts` wrong guesses, and each address allows so many wrong codes per
//! window, all counted in the database so every instance sees the same numbers.
//!
//! Must not decide which token types a verification may use (the handler does), must not reveal
//! whether an address is registered (failures are counted for any address), and stores neither
//! link tokens nor addresses of failed guesses in the clear.

use deadpool_postgres::GenericClient;
use uuid::Uuid;

use crate::error::AuthError;
use crate::ratelimit::Limit;
use crate::tokens::{hash_token, random_token};

/// A consumed token: whose, of which type, sent to which address, and whether still fresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consumed {
    pub user_id: Uuid,
    pub token_type: String,
    pub relates_to: String,
    pub fresh: bool,
}

impl Consumed {
    fn from_row(row: &tokio_postgres::Row) -> Result<Consumed, tokio_postgres::Error> {
        Ok(Consumed { user_id: row.try_get(0)?, token_type: row.try_get(1)?, relates_to: row.try_get(2)?, fresh: row.try_get(3)? })
    }
}

const RETURNING: &str = "RETURNING t.user_id, t.token_type::text, t.relates_to, t.created_at > now() - make_interval(secs => $3::float8)";

/// Gives the stored token `token_id` a fresh link secret (returned, for the mail) and a clean
/// failure count; called whenever a token is (re)issued.
pub async fn arm<C: GenericClient>(c: &C, token_id: Uuid) -> Result<String, AuthError> {
    let link = random_token(32);
    c.execute(
        "INSERT INTO auth.one_time_token_guards (token_id, link_hash, failed_attempts) VALUES ($1, $2, 0) \
         ON CONFLICT (token_id) DO UPDATE SET link_hash = EXCLUDED.link_hash, failed_attempts = 0",
        &[&token_id, &hash_token(&link)],
    )
    .await?;
    Ok(link)
}

/// Consumes the token behind a link secret. Tokens issued before `pgrest-lambda-2` (by Supabase,
/// or an older pgrest-lambda) carry GoTrue's `token_hash` in their links and have no link
/// secret; they are still accepted by that hash until they expire.
pub async fn consume_link<C: GenericClient>(c: &C, link: &str, types: &[String], ttl_secs: f64) -> Result<Option<Consumed>, AuthError> {
    let sql = format!(
        "DELETE FROM auth.one_time_tokens t USING auth.one_time_token_guards g \
         WHERE g.token_id = t.id AND g.link_hash = $1 AND t.token_type::text = ANY($2) {RETURNING}"
    );
    if let Some(row) = c.query_opt(&sql, &[&hash_token(link), &types, &ttl_secs]).await? {
        return Ok(Some(Consumed::from_row(&row)?));
    }
    let legacy = format!(
        "DELETE FROM auth.one_time_tokens t WHERE t.token_hash = $1 AND t.token_type::text = ANY($2) \
         AND NOT EXISTS (SELECT 1 FROM auth.one_time_token_guards g WHERE g.token_id = t.id AND g.link_hash IS NOT NULL) {RETURNING}"
    );
    let row = c.query_opt(&legacy, &[&link, &types, &ttl_secs]).await?;
    Ok(row.map(|r| Consumed::from_row(&r)).transpose()?)
}

/// Consumes the token mailed to `address` whose code hashes to `code_hash`, unless that token
/// has used up its attempts. The address's tokens stay locked until the transaction ends, so
/// concurrent guesses are counted one after the other.
pub async fn consume_code<C: GenericClient>(c: &C, address: &str, code_hash: &str, types: &[String], max_attempts: u32, ttl_secs: f64) -> Result<Option<Consumed>, AuthError> {
    let rows = c
        .query(
            "SELECT t.id, t.token_hash = $3, coalesce(g.failed_attempts, 0) FROM auth.one_time_tokens t \
             LEFT JOIN auth.one_time_token_guards g ON g.token_id = t.id \
             WHERE t.relates_to = $1 AND t.token_type::text = ANY($2) ORDER BY t.id FOR UPDATE OF t",
            &[&address, &types, &code_hash],
        )
        .await?;
    let max = i32::try_from(max_attempts).unwrap_or(i32::MAX);
    let mut hit = None;
    for row in &rows {
        let (id, matches, failed): (Uuid, bool, i32) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        if matches && failed < max {
            hit = Some(id);
        }
    }
    let Some(id) = hit else { return Ok(None) };
    let sql = format!("DELETE FROM auth.one_time_tokens t WHERE t.id = $1 AND t.token_type::text = ANY($2) {RETURNING}");
    let row = c.query_opt(&sql, &[&id, &types, &ttl_secs]).await?;
    Ok(row.map(|r| Consumed::from_row(&r)).transpose()?)
}

/// Counts a wrong code for `address`: one more failure on each of its pending tokens of `types`
/// (those reaching `max_attempts` are deleted: the code is burnt) and on the address's window.
pub async fn record_failure<C: GenericClient>(c: &C, address: &str, types: &[String], max_attempts: u32, per_address: Limit) -> Result<(), AuthError> {
    let max = i32::try_from(max_attempts).unwrap_or(i32::MAX);
    let bumped = c
        .query(
            "INSERT INTO auth.one_time_token_guards (token_id, failed_attempts) \
             SELECT id, 1 FROM auth.one_time_tokens WHERE relates_to = $1 AND token_type::text = ANY($2) \
             ON CONFLICT (token_id) DO UPDATE SET failed_attempts = auth.one_time_token_guards.failed_attempts + 1 \
             RETURNING token_id, failed_attempts",
            &[&address, &types],
        )
        .await?;
    let mut burnt = Vec::new();
    for row in &bumped {
        let (id, failed): (Uuid, i32) = (row.try_get(0)?, row.try_get(1)?);
        if failed >= max {
            burnt.push(id);
        }
    }
    if !burnt.is_empty() {
        c.execute("DELETE FROM auth.one_time_tokens WHERE id = ANY($1)", &[&burnt]).await?;
        tracing::warn!(tokens = burnt.len(), "auth: one-time code burnt after too many wrong guesses");
    }
    let window = per_address.per.as_secs_f64();
    c.execute("DELETE FROM auth.otp_address_failures WHERE window_started_at < now() - make_interval(secs => $1)", &[&window]).await?;
    c.execute(
        "INSERT INTO auth.otp_address_failures AS f (address_hash, failures, window_started_at) VALUES ($1, 1, now()) \
         ON CONFLICT (address_hash) DO UPDATE SET failures = f.failures + 1",
        &[&hash_token(address)],
    )
    .await?;
    Ok(())
}

/// `Err(429 over_request_rate_limit)` when `address` has had `per_address.max` wrong codes in
/// the current window (the right code is refused too until the window ends).
pub async fn check_address<C: GenericClient>(c: &C, address: &str, per_address: Limit) -> Result<(), AuthError> {
    let window = per_address.per.as_secs_f64();
    let row = c
        .query_opt(
            "SELECT failures, extract(epoch FROM window_started_at + make_interval(secs => $2) - now())::float8 \
             FROM auth.otp_address_failures WHERE address_hash = $1 AND window_started_at >= now() - make_interval(secs => $2)",
            &[&hash_token(address), &window],
        )
        .await?;
    let Some(row) = row else { return Ok(()) };
    let (failures, left): (i32, f64) = (row.try_get(0)?, row.try_get(1)?);
    if u32::try_from(failures).unwrap_or(0) < per_address.max {
        return Ok(());
    }
    tracing::warn!("auth: verification refused, too many wrong codes for one address");
    let left = std::time::Duration::try_from_secs_f64(left.max(1.0)).unwrap_or(per_address.per);
    Err(AuthError::rate_limited(left))
}
