//! Tests for password hashing and verification. Must not depend on wall-clock targets:
//! timing assertions compare two code paths measured side by side.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::*;

const FAST: KdfParams = KdfParams::fast_for_tests();

/// Made once with the bcrypt crate (cost 10, `$2a$` prefix) for "supabase-dump-password".
const BCRYPT_2A_COST_10: &str = "$2a$10$R7IDa3/Q6j8vBEAChlGC/.1mnGdl4ridPqq.xTejAar7unwG2uCvi";

#[tokio::test]
async fn hash_then_verify() {
    let hash = hash_password("correct horse".into(), &FAST).await.unwrap();
    assert!(hash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{hash}");
    let other = hash_password("correct horse".into(), &FAST).await.unwrap();
    assert_ne!(hash, other, "salts must differ");

    let v = verify_password("correct horse".into(), Some(hash.clone()), &FAST)
        .await
        .unwrap();
    assert_eq!(
        v,
        Verified {
            ok: true,
            needs_rehash: false
        }
    );

    let v = verify_password("correct horsf".into(), Some(hash), &FAST)
        .await
        .unwrap();
    assert_eq!(
        v,
        Verified {
            ok: false,
            needs_rehash: false
        }
    );
}

#[tokio::test]
async fn bcrypt_hashes_verify_and_need_rehash() {
    let generated = bcrypt::hash("from-gotrue", 4).unwrap();
    let v = verify_password("from-gotrue".into(), Some(generated.clone()), &FAST)
        .await
        .unwrap();
    assert_eq!(
        v,
        Verified {
            ok: true,
            needs_rehash: true
        }
    );
    let v = verify_password("from-gotruE".into(), Some(generated), &FAST)
        .await
        .unwrap();
    assert_eq!(
        v,
        Verified {
            ok: false,
            needs_rehash: false
        }
    );

    for prefix in ["$2a$", "$2b$", "$2y$"] {
        let stored = BCRYPT_2A_COST_10.replacen("$2a$", prefix, 1);
        let v = verify_password("supabase-dump-password".into(), Some(stored.clone()), &FAST)
            .await
            .unwrap();
        assert_eq!(
            v,
            Verified {
                ok: true,
                needs_rehash: true
            },
            "{prefix}"
        );
    }
    let v = verify_password(
        "supabase-dump-passwore".into(),
        Some(BCRYPT_2A_COST_10.into()),
        &FAST,
    )
    .await
    .unwrap();
    assert_eq!(
        v,
        Verified {
            ok: false,
            needs_rehash: false
        }
    );
}

#[tokio::test]
async fn bcrypt_only_reads_72_bytes_like_gotrue() {
    let long = "x".repeat(72);
    let stored = bcrypt::hash(&long, 4).unwrap();
    let v = verify_password(format!("{long}tail"), Some(stored), &FAST)
        .await
        .unwrap();
    assert!(v.ok);
}

#[tokio::test]
async fn weaker_argon2_needs_rehash() {
    let strong = KdfParams::default();
    let hash = hash_password("pw-123456".into(), &FAST).await.unwrap();
    let v = verify_password("pw-123456".into(), Some(hash.clone()), &strong)
        .await
        .unwrap();
    assert_eq!(
        v,
        Verified {
            ok: true,
            needs_rehash: true
        }
    );
    let v = verify_password("pw-1234567".into(), Some(hash), &strong)
        .await
        .unwrap();
    assert_eq!(
        v,
        Verified {
            ok: false,
            needs_rehash: false
        }
    );

    // argon2i with the current params still needs a rehash (not argon2id).
    let params = Params::new(FAST.memory_kib, FAST.iterations, FAST.parallelism, None).unwrap();
    let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x13, params);
    let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
    let hash = argon2i
        .hash_password(b"pw-123456", &salt)
        .unwrap()
        .to_string();
    assert!(hash.starts_with("$argon2i$"));
    let v = verify_password("pw-123456".into(), Some(hash), &FAST)
        .await
        .unwrap();
    assert_eq!(
        v,
        Verified {
            ok: true,
            needs_rehash: true
        }
    );
}

#[tokio::test]
async fn missing_hash_is_rejected() {
    for stored in [None, Some(String::new())] {
        let v = verify_password("anything".into(), stored, &FAST)
            .await
            .unwrap();
        assert_eq!(
            v,
            Verified {
                ok: false,
                needs_rehash: false
            }
        );
    }
}

#[tokio::test]
async fn unsupported_hashes_are_errors() {
    let argon2d = "$argon2d$v=19$m=1024,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlo";
    let huge_memory = "$argon2id$v=19$m=4194304,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlo";
    let huge_cost = BCRYPT_2A_COST_10.replacen("$10$", "$31$", 1);
    for stored in [
        "plaintext",
        "$argon2id$garbage",
        "$2x$10$abc",
        "$2a$xx$abc",
        argon2d,
        huge_memory,
    ]
    .into_iter()
    .map(String::from)
    .chain([huge_cost])
    {
        let r = verify_password("pw".into(), Some(stored.clone()), &FAST).await;
        assert!(
            matches!(r, Err(PasswordError::UnsupportedHash)),
            "{stored}: {r:?}"
        );
    }
}

#[tokio::test]
async fn oversized_input_is_capped() {
    let big = "a".repeat(MAX_INPUT_BYTES + 1);
    let r = hash_password(big.clone(), &FAST).await;
    assert!(
        matches!(
            r,
            Err(PasswordError::TooLong {
                max: MAX_INPUT_BYTES
            })
        ),
        "{r:?}"
    );
    let hash = hash_password("a".repeat(MAX_INPUT_BYTES), &FAST)
        .await
        .unwrap();
    let v = verify_password(big, Some(hash), &FAST).await.unwrap();
    assert_eq!(
        v,
        Verified {
            ok: false,
            needs_rehash: false
        }
    );
}

#[tokio::test]
async fn invalid_params_are_reported() {
    let bad = KdfParams {
        memory_kib: 1,
        iterations: 1,
        parallelism: 1,
    };
    assert!(matches!(
        bad.validate(),
        Err(PasswordError::InvalidParams(_))
    ));
    assert!(KdfParams::default().validate().is_ok());
    let r = hash_password("pw".into(), &bad).await;
    assert!(matches!(r, Err(PasswordError::InvalidParams(_))), "{r:?}");
    let r = verify_password("pw".into(), None, &bad).await;
    assert!(matches!(r, Err(PasswordError::InvalidParams(_))), "{r:?}");
}

#[test]
fn no_runtime_is_an_error_not_a_panic() {
    // Poll once by hand, on a thread with no Tokio runtime.
    let fut = hash_password("pw".into(), &FAST);
    let r = std::thread::spawn(move || {
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut fut = std::pin::pin!(fut);
        fut.as_mut().poll(&mut cx)
    })
    .join()
    .unwrap();
    assert!(
        matches!(r, std::task::Poll::Ready(Err(PasswordError::NoRuntime))),
        "{r:?}"
    );
}

#[tokio::test]
async fn missing_hash_runs_the_same_verification_as_a_real_one() {
    // Deterministic instead of timed: an unknown user must cost exactly one argon2id
    // verification with the configured parameters, like a known user with a wrong password.
    let params = KdfParams { memory_kib: 2048, iterations: 1, parallelism: 1 };
    let stored = hash_password("the real one".into(), &params).await.unwrap();
    let count = |guess: &str| {
        super::ARGON2_VERIFICATIONS.lock().unwrap().iter().filter(|p| p.as_slice() == guess.as_bytes()).count()
    };
    let v = verify_password("guess for a known user".into(), Some(stored.clone()), &params).await.unwrap();
    assert!(!v.ok);
    assert_eq!(count("guess for a known user"), 1);
    let v = verify_password("guess for an unknown user".into(), None, &params).await.unwrap();
    assert!(!v.ok);
    assert_eq!(count("guess for an unknown user"), 1);
    let v = verify_password("guess for an empty hash".into(), Some(String::new()), &params).await.unwrap();
    assert!(!v.ok);
    assert_eq!(count("guess for an empty hash"), 1);
    // The dummy hash uses the same cost parameters as real hashes made with `params`.
    let cost = |hash: &str| hash.split('$').nth(3).map(str::to_string);
    assert_eq!(cost(&super::dummy_hash_for_tests(params).unwrap()), cost(&stored));
}

#[tokio::test(flavor = "current_thread")]
async fn hashing_runs_off_the_executor() {
    let ticks = Arc::new(AtomicUsize::new(0));
    let ticker = {
        let ticks = Arc::clone(&ticks);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(1)).await;
                ticks.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    // Each hash must outlast a few 1 ms ticks, even in an optimised build.
    let params = KdfParams {
        memory_kib: 8192,
        iterations: 1,
        parallelism: 1,
    };
    let (a, b, c, d) = tokio::join!(
        hash_password("one".into(), &params),
        hash_password("two".into(), &params),
        hash_password("three".into(), &params),
        hash_password("four".into(), &params),
    );
    // Read before yielding: had the hashes run on this (only) executor thread, the ticker could
    // not have run while they did.
    let seen = ticks.load(Ordering::Relaxed);
    ticker.abort();
    for h in [a, b, c, d] {
        assert!(h.unwrap().starts_with("$argon2id$"));
    }
    assert!(seen >= 2, "ticker ran {seen} times while 4 hashes ran");
}

#[test]
fn default_params_are_owasp() {
    let p = KdfParams::default();
    assert_eq!(
        (p.memory_kib, p.iterations, p.parallelism),
        (19 * 1024, 2, 1)
    );
}
