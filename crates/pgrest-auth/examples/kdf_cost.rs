//! Bare cost of the password KDF with the server's default parameters, for the benchmark
//! (bench/bench.py): `cargo run --release -p pgrest-auth --example kdf_cost -- [N]`.
//!
//! Hashes one password with `KdfParams::default()`, then runs `verify_password` (the path a
//! password grant takes) and `hash_password` N times each, one at a time, on a current-thread
//! runtime. Prints one line per operation: `<op> n=<N> cpu_ms=<process CPU per op> wall_ms=<wall
//! per op>`. CPU is utime + stime of the whole process from /proc/self/stat (clock ticks), so it
//! includes the blocking-pool thread that runs the KDF.

use std::process::ExitCode;
use std::time::Instant;

use pgrest_auth::password::{hash_password, verify_password, KdfParams};

/// utime + stime of this process, in clock ticks.
fn cpu_ticks() -> Result<u64, String> {
    let stat = std::fs::read_to_string("/proc/self/stat").map_err(|e| format!("/proc/self/stat: {e}"))?;
    let (_, after_comm) = stat.rsplit_once(')').ok_or("/proc/self/stat: no ')'")?;
    // After ")": field 3 (state) comes first, so utime (field 14) is the 12th, stime the 13th.
    let mut fields = after_comm.split_whitespace().skip(11);
    let mut next = || -> Result<u64, String> {
        fields.next().and_then(|f| f.parse().ok()).ok_or_else(|| "/proc/self/stat: no utime/stime".to_string())
    };
    Ok(next()? + next()?)
}

/// Clock ticks per second (USER_HZ): `CLK_TCK` from the environment, else 100 (Linux).
fn clk_tck() -> f64 {
    std::env::var("CLK_TCK").ok().and_then(|v| v.parse().ok()).unwrap_or(100.0)
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kdf_cost: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let n: u32 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(30).max(1);
    let params = KdfParams::default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    runtime.block_on(async move {
        let password = "correct horse battery staple".to_string();
        let stored = hash_password(password.clone(), &params).await.map_err(|e| e.to_string())?;
        // One untimed verification to warm up the blocking pool and the allocator.
        verify(&password, &stored, &params).await?;

        let (t0, c0) = (Instant::now(), cpu_ticks()?);
        for _ in 0..n {
            verify(&password, &stored, &params).await?;
        }
        report("verify", n, t0, c0)?;

        let (t0, c0) = (Instant::now(), cpu_ticks()?);
        for _ in 0..n {
            hash_password(password.clone(), &params).await.map_err(|e| e.to_string())?;
        }
        report("hash", n, t0, c0)
    })?;
    println!("params m={}KiB t={} p={}", params.memory_kib, params.iterations, params.parallelism);
    Ok(())
}

async fn verify(password: &str, stored: &str, params: &KdfParams) -> Result<(), String> {
    let verified = verify_password(password.to_string(), Some(stored.to_string()), params)
        .await
        .map_err(|e| e.to_string())?;
    if verified.ok { Ok(()) } else { Err("the password did not verify".to_string()) }
}

fn report(op: &str, n: u32, t0: Instant, c0: u64) -> Result<(), String> {
    let wall_ms = t0.elapsed().as_secs_f64() * 1000.0 / f64::from(n);
    let ticks = cpu_ticks()?.saturating_sub(c0);
    let cpu_ms = ticks as f64 * 1000.0 / clk_tck() / f64::from(n);
    println!("{op} n={n} cpu_ms={cpu_ms:.3} wall_ms={wall_ms:.3}");
    Ok(())
}
