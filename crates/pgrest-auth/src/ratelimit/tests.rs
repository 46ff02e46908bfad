//! Tests for the in-memory rate limiter. Must not sleep: time is passed in explicitly.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::*;

const SECOND: Duration = Duration::from_secs(1);

#[test]
fn burst_then_refusal_then_refill() {
    let rl = RateLimiter::new(100);
    let limit = Limit::new(3, 3 * SECOND);
    let t0 = Instant::now();
    for _ in 0..3 {
        assert_eq!(rl.check_at("signup", "1.2.3.4", limit, t0), Ok(()));
    }
    assert_eq!(
        rl.check_at("signup", "1.2.3.4", limit, t0),
        Err(RetryAfter(SECOND))
    );
    // Refused events are not counted.
    assert_eq!(
        rl.check_at("signup", "1.2.3.4", limit, t0),
        Err(RetryAfter(SECOND))
    );
    let half = t0 + SECOND / 2;
    assert_eq!(
        rl.check_at("signup", "1.2.3.4", limit, half),
        Err(RetryAfter(SECOND / 2))
    );

    // One token back after per/max.
    let t1 = t0 + SECOND;
    assert_eq!(rl.check_at("signup", "1.2.3.4", limit, t1), Ok(()));
    assert_eq!(
        rl.check_at("signup", "1.2.3.4", limit, t1),
        Err(RetryAfter(SECOND))
    );

    // A full burst again once the whole bucket has refilled, and no more.
    let t2 = t1 + 10 * SECOND;
    for _ in 0..3 {
        assert_eq!(rl.check_at("signup", "1.2.3.4", limit, t2), Ok(()));
    }
    assert!(rl.check_at("signup", "1.2.3.4", limit, t2).is_err());

    // A clock going backwards does not refill anything.
    assert!(rl.check_at("signup", "1.2.3.4", limit, t0).is_err());
}

#[test]
fn steady_rate_is_max_per_period() {
    let rl = RateLimiter::new(10);
    let limit = Limit::new(30, Duration::from_secs(60));
    let t0 = Instant::now();
    let mut allowed = 0;
    // One attempt every 100 ms for 10 minutes: burst 30 + 10 minutes × 30/min.
    for i in 0..6000 {
        if rl
            .check_at("token", "ip", limit, t0 + Duration::from_millis(100 * i))
            .is_ok()
        {
            allowed += 1;
        }
    }
    assert!((329..=331).contains(&allowed), "{allowed}");
}

#[test]
fn keys_and_buckets_are_independent() {
    let rl = RateLimiter::new(100);
    let limit = Limit::new(1, Duration::from_secs(60));
    let now = Instant::now();
    assert!(rl.check_at("otp", "a@example.com", limit, now).is_ok());
    assert!(rl.check_at("otp", "a@example.com", limit, now).is_err());
    assert!(rl.check_at("otp", "b@example.com", limit, now).is_ok());
    assert!(rl.check_at("signup", "a@example.com", limit, now).is_ok());
    assert!(rl.check_at("signup", "a@example.com", limit, now).is_err());
    assert_eq!(rl.len(), 3);
}

#[test]
fn zero_max_refuses_and_zero_per_allows() {
    let rl = RateLimiter::new(10);
    let now = Instant::now();
    let never = Limit::new(0, Duration::from_secs(60));
    assert_eq!(
        rl.check_at("email", GLOBAL_KEY, never, now),
        Err(RetryAfter(never.per))
    );
    let unlimited = Limit::new(5, Duration::ZERO);
    for _ in 0..100 {
        assert!(rl.check_at("email", GLOBAL_KEY, unlimited, now).is_ok());
    }
    assert!(rl.is_empty());
}

#[test]
fn memory_is_bounded() {
    let max_keys = 100;
    let rl = RateLimiter::new(max_keys);
    let limit = Limit::new(5, Duration::from_secs(60));
    let t0 = Instant::now();
    for i in 0..10 * max_keys {
        let now = t0 + Duration::from_millis(i as u64);
        assert!(
            rl.check_at(
                "signup",
                &format!("10.0.{}.{}", i / 256, i % 256),
                limit,
                now
            )
            .is_ok()
        );
        assert!(rl.len() <= max_keys, "{} keys after {i}", rl.len());
    }
    assert!(rl.len() > max_keys / 2);

    // Long keys cost a digest, not their length, and stay distinct.
    let a = format!("{}a", "x".repeat(10_000));
    let b = format!("{}b", "x".repeat(10_000));
    let one = Limit::new(1, Duration::from_secs(60));
    let later = t0 + Duration::from_secs(1);
    assert!(rl.check_at("long", &a, one, later).is_ok());
    assert!(rl.check_at("long", &b, one, later).is_ok());
    assert!(rl.check_at("long", &a, one, later).is_err());
}

#[test]
fn eviction_prefers_refilled_then_nearly_refilled_buckets() {
    let rl = RateLimiter::new(4);
    let short = Limit::new(1, SECOND);
    let long = Limit::new(1, Duration::from_secs(3600));
    let t0 = Instant::now();
    assert!(rl.check_at("b", "long-1", long, t0).is_ok());
    assert!(rl.check_at("b", "long-2", long, t0).is_ok());
    assert!(rl.check_at("b", "short-1", short, t0).is_ok());
    assert!(rl.check_at("b", "short-2", short, t0).is_ok());
    // Table full; the short buckets have refilled by now and go first.
    let t1 = t0 + 2 * SECOND;
    assert!(rl.check_at("b", "new", long, t1).is_ok());
    assert!(rl.len() <= 4);
    assert!(
        rl.check_at("b", "long-1", long, t1).is_err(),
        "still remembered"
    );
    assert!(
        rl.check_at("b", "long-2", long, t1).is_err(),
        "still remembered"
    );

    // Nothing refilled: the bucket closest to refilled (oldest activity) goes first.
    let rl = RateLimiter::new(2);
    assert!(rl.check_at("b", "old", long, t0).is_ok());
    assert!(rl.check_at("b", "young", long, t1).is_ok());
    assert!(rl.check_at("b", "newest", long, t1).is_ok());
    assert!(rl.len() <= 2);
    assert!(rl.check_at("b", "young", long, t1).is_err(), "young kept");
    assert!(rl.check_at("b", "old", long, t1).is_ok(), "old evicted");
}

#[test]
fn threads_share_one_limit() {
    let rl = Arc::new(RateLimiter::new(1000));
    let limit = Limit::new(100, Duration::from_secs(3600));
    let now = Instant::now();
    let allowed = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let (rl, allowed) = (Arc::clone(&rl), Arc::clone(&allowed));
            std::thread::spawn(move || {
                for i in 0..1000 {
                    if rl.check_at("token", "shared", limit, now).is_ok() {
                        allowed.fetch_add(1, Ordering::Relaxed);
                    }
                    let _ = rl.check("token", &format!("t{t}-{i}"), limit);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(allowed.load(Ordering::Relaxed), 100);
    assert!(rl.len() <= 1000);
}

#[test]
fn gotrue_defaults() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<RateLimiter>();

    assert_eq!(Limit::gotrue_per_5_minutes(150.0), TOKEN);
    assert_eq!(Limit::gotrue_per_5_minutes(30.0), OTP);
    assert_eq!(Limit::gotrue_per_5_minutes(30.0), VERIFY);
    assert_eq!(
        Limit::gotrue_per_5_minutes(15.0 * 5.0),
        MFA_CHALLENGE_AND_VERIFY
    );
    assert_eq!(Limit::gotrue_per_5_minutes(0.0).max, 0);
    assert_eq!(Limit::gotrue_per_5_minutes(f64::NAN).max, 0);
    assert_eq!(
        Limit::gotrue_per_5_minutes(f64::INFINITY).per,
        Duration::ZERO
    );
    let tiny = Limit::gotrue_per_5_minutes(1e-300);
    let rl = RateLimiter::new(10);
    assert!(rl.check("x", "y", tiny).is_ok());

    assert_eq!(RetryAfter(Duration::from_millis(1)).as_secs_ceil(), 1);
    assert_eq!(RetryAfter(Duration::from_millis(2001)).as_secs_ceil(), 3);
    assert_eq!(RetryAfter(Duration::from_secs(2)).as_secs_ceil(), 2);
    assert_eq!(RetryAfter(Duration::ZERO).as_secs_ceil(), 1);
}

#[test]
fn ipv6_clients_share_one_bucket_per_64() {
    let rl = RateLimiter::new(100);
    let limit = Limit::new(2, Duration::from_secs(300));
    let now = Instant::now();
    // One subscriber rotating through addresses of its /64 gets no fresh buckets (V-12).
    assert!(rl.check_at("verify", "2001:db8:1:2::1", limit, now).is_ok());
    assert!(rl.check_at("verify", "2001:db8:1:2:aaaa:bbbb:cccc:dddd", limit, now).is_ok());
    assert!(rl.check_at("verify", "2001:db8:1:2:ffff::7", limit, now).is_err());
    // The next /64 is another client.
    assert!(rl.check_at("verify", "2001:db8:1:3::1", limit, now).is_ok());
    assert_eq!(network_key("2001:db8:1:2:ffff::7"), "2001:db8:1:2::/64");
    // IPv4 (also written IPv4-mapped) is counted per address; other keys are themselves.
    assert_eq!(network_key("::ffff:192.0.2.7"), "192.0.2.7");
    assert_eq!(network_key("192.0.2.7"), "192.0.2.7");
    assert_eq!(network_key("ada@example.com"), "ada@example.com");
    assert!(rl.check_at("verify", "192.0.2.7", limit, now).is_ok());
    assert!(rl.check_at("verify", "::ffff:192.0.2.7", limit, now).is_ok());
    assert!(rl.check_at("verify", "192.0.2.8", limit, now).is_ok());
    assert!(rl.check_at("verify", "192.0.2.7", limit, now).is_err());
}

#[test]
fn a_refund_gives_the_event_back() {
    let rl = RateLimiter::new(10);
    let limit = Limit::new(2, Duration::from_secs(3600));
    let now = Instant::now();
    assert!(rl.check_at("mail", "a@b", limit, now).is_ok());
    assert!(rl.check_at("mail", "a@b", limit, now).is_ok());
    assert!(rl.check_at("mail", "a@b", limit, now).is_err());
    rl.refund("mail", "a@b", limit);
    assert!(rl.check_at("mail", "a@b", limit, now).is_ok(), "the refunded event is available again");
    assert!(rl.check_at("mail", "a@b", limit, now).is_err());
    // Refunding an unknown key or with a refusing limit changes nothing.
    rl.refund("mail", "other", limit);
    rl.refund("mail", "a@b", Limit::new(0, Duration::from_secs(1)));
    assert!(rl.check_at("mail", "a@b", limit, now).is_err());
}
