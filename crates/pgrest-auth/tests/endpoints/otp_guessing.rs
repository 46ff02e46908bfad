//! V-12: a six-digit code dies after a few wrong guesses whatever IP they come from, an address
//! allows only so many wrong codes per window across codes, and the link in the mail is a secret
//! of its own, not a hash of the address and the code.

use serde_json::json;
use sha2::{Digest, Sha224};

use crate::harness::*;

fn wrong(code: &str, n: u32) -> String {
    let c: u32 = code.parse().unwrap();
    format!("{:06}", (c + 1 + n) % 1_000_000)
}

async fn guess(t: &TestAuth, e: &str, code: &str, ip: &str) -> Reply {
    t.post("/verify").ip(ip).json(json!({"type": "email", "email": e, "token": code})).send().await
}

#[tokio::test]
async fn five_wrong_guesses_burn_the_code_whatever_ip_they_come_from() {
    let t = Setup::new().autoconfirm(false).start().await;
    let e = email("burn");
    t.post("/otp").json(json!({"email": e})).send().await.expect(200);
    let code = t.code_for(&e);
    for n in 0..5 {
        // A distributed guesser: every guess from another address.
        guess(&t, &e, &wrong(&code, n), &format!("198.51.100.{n}")).await.expect_error(403, "otp_expired", "Token has expired or is invalid");
    }
    let left: i64 = t.query_one("SELECT count(*) FROM auth.one_time_tokens WHERE relates_to = $1", &[&e]).await.get(0);
    assert_eq!(left, 0, "the code is burnt");
    guess(&t, &e, &code, "203.0.113.1").await.expect_error(403, "otp_expired", "Token has expired or is invalid");
    // The mailed link belonged to the same token: gone too.
    let link = t.link_for(&e);
    let r = t.get(&TestAuth::local_path(&link)).send().await;
    assert_eq!(fragment(&r.location())["error_code"], "otp_expired");

    // Four wrong guesses leave the right code working; a new code starts with a clean count.
    t.post("/otp").json(json!({"email": e})).send().await.expect(200);
    let code = t.code_for(&e);
    for n in 0..4 {
        guess(&t, &e, &wrong(&code, n), "198.51.100.9").await.expect_code(403, "otp_expired");
    }
    let s = Session::from_body(guess(&t, &e, &code, "198.51.100.9").await.expect(200));
    assert_eq!(s.email, e);
}

#[tokio::test]
async fn wrong_codes_per_address_are_capped_across_new_codes() {
    let t = Setup::new().autoconfirm(false).set("AUTH_OTP_FAILURES_PER_ADDRESS", "7/3600").start().await;
    let e = email("window");
    t.post("/otp").json(json!({"email": e})).send().await.expect(200);
    let code = t.code_for(&e);
    for n in 0..5 {
        guess(&t, &e, &wrong(&code, n), "198.51.100.1").await.expect_code(403, "otp_expired");
    }
    // Asking for a new code does not buy a new budget for the address.
    t.post("/otp").json(json!({"email": e})).send().await.expect(200);
    let code = t.code_for(&e);
    for n in 0..2 {
        guess(&t, &e, &wrong(&code, n), "198.51.100.2").await.expect_code(403, "otp_expired");
    }
    let r = guess(&t, &e, &code, "203.0.113.5").await;
    r.expect_error(429, "over_request_rate_limit", "Request rate limit reached");
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((3500..=3600).contains(&retry), "{retry}");
    // Nothing is stored in the clear.
    let stored: i64 = t.query_one("SELECT count(*) FROM auth.otp_address_failures WHERE address_hash = $1 AND failures = 7", &[&pgrest_auth::tokens::hash_token(&e)]).await.get(0);
    assert_eq!(stored, 1);

    // An unknown address answers the same way, so the limit tells nothing about registration.
    let nobody = email("nobody");
    for n in 0..7 {
        guess(&t, &nobody, &format!("{n:06}"), "198.51.100.3").await.expect_code(403, "otp_expired");
    }
    guess(&t, &nobody, "999999", "198.51.100.3").await.expect_code(429, "over_request_rate_limit");

    // Once the window has passed, the address verifies again.
    t.execute("UPDATE auth.otp_address_failures SET window_started_at = now() - interval '2 hours'", &[]).await;
    guess(&t, &e, &code, "203.0.113.5").await.expect(200);
}

#[tokio::test]
async fn the_link_secret_is_not_a_hash_of_address_and_code() {
    let t = Setup::new().autoconfirm(false).start().await;
    let e = email("link");
    t.post("/otp").json(json!({"email": e})).send().await.expect(200);
    let code = t.code_for(&e);
    let link = t.link_for(&e);
    let token = pairs(link.split_once('?').unwrap().1)["token"].clone();
    let gotrue_hash: String = Sha224::digest(format!("{e}{code}")).iter().map(|b| format!("{b:02x}")).collect();
    assert_ne!(token, gotrue_hash);
    assert_eq!(token.len(), 43, "32 random bytes, base64url: {token}");
    assert!(t.mail_to(&e).text.contains(&token), "the mail carries the secret");
    // Knowing the address and guessing the code no longer yields a working link or token_hash.
    t.post("/verify").json(json!({"type": "email", "token_hash": gotrue_hash})).send().await.expect_error(403, "otp_expired", "Email link is invalid or has expired");
    let r = t.get(&format!("/verify?token={gotrue_hash}&type=signup")).send().await;
    assert_eq!(fragment(&r.location())["error_code"], "otp_expired");
    // Only the secret's hash is stored.
    let stored: i64 = t.query_one("SELECT count(*) FROM auth.one_time_token_guards WHERE link_hash = $1", &[&token]).await.get(0);
    assert_eq!(stored, 0);
    // The secret itself works, as a link and as verifyOtp's token_hash.
    let s = Session::from_body(t.post("/verify").json(json!({"type": "email", "token_hash": token})).send().await.expect(200));
    assert_eq!(s.email, e);
}

#[tokio::test]
async fn links_issued_before_the_upgrade_still_verify() {
    let t = Setup::new().autoconfirm(false).start().await;
    let e = email("legacy");
    t.post("/otp").json(json!({"email": e})).send().await.expect(200);
    // A token as Supabase (or pgrest-lambda-1) stored it: GoTrue's hash, no link secret.
    let legacy: String = Sha224::digest(format!("{e}123456")).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(t.execute("UPDATE auth.one_time_tokens SET token_hash = $2 WHERE relates_to = $1", &[&e, &legacy]).await, 1);
    assert_eq!(t.execute("DELETE FROM auth.one_time_token_guards", &[]).await, 1);
    let r = t.get(&format!("/verify?token={legacy}&type=signup&redirect_to=http://localhost:3000/welcome")).send().await;
    assert!(r.location().starts_with("http://localhost:3000/welcome#access_token="), "{}", r.location());
}

#[tokio::test]
async fn concurrent_guesses_are_all_counted() {
    let t = Setup::new().autoconfirm(false).start().await;
    let e = email("race");
    t.post("/otp").json(json!({"email": e})).send().await.expect(200);
    let code = t.code_for(&e);
    let w: Vec<String> = (0..8).map(|n| wrong(&code, n)).collect();
    // Eight wrong guesses at once from eight addresses: no count is lost.
    let (r0, r1, r2, r3, r4, r5, r6, r7) = tokio::join!(
        guess(&t, &e, &w[0], "198.51.100.10"),
        guess(&t, &e, &w[1], "198.51.100.11"),
        guess(&t, &e, &w[2], "198.51.100.12"),
        guess(&t, &e, &w[3], "198.51.100.13"),
        guess(&t, &e, &w[4], "198.51.100.14"),
        guess(&t, &e, &w[5], "198.51.100.15"),
        guess(&t, &e, &w[6], "198.51.100.16"),
        guess(&t, &e, &w[7], "198.51.100.17"),
    );
    for r in [r0, r1, r2, r3, r4, r5, r6, r7] {
        r.expect_error(403, "otp_expired", "Token has expired or is invalid");
    }
    let failures: i32 = t.query_one("SELECT failures FROM auth.otp_address_failures WHERE address_hash = $1", &[&pgrest_auth::tokens::hash_token(&e)]).await.get(0);
    assert_eq!(failures, 8, "every wrong guess counts against the address");
    let left: i64 = t.query_one("SELECT count(*) FROM auth.one_time_tokens WHERE relates_to = $1", &[&e]).await.get(0);
    assert_eq!(left, 0, "burnt at the fifth");
    guess(&t, &e, &code, "203.0.113.9").await.expect_code(403, "otp_expired");
}
