//! Memory check for password hashing under load: runs many concurrent verifications with the
//! default parameters on a multi-threaded runtime (as a server would, in waves with pauses so
//! blocking-pool threads come and go) and prints the process RSS. Not a test; a measurement.
//! `KDF_RSS_DEFAULT_MALLOC=1` skips `limit_allocator_retention` to compare.

use pgrest_auth::password::{hash_password, verify_password, KdfParams};

fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::var_os("KDF_RSS_DEFAULT_MALLOC").is_none() {
        pgrest_auth::password::limit_allocator_retention();
    }
    let params = KdfParams::default();
    let stored = hash_password("correct horse".to_string(), &params).await?;
    println!("start: {:.1} MB", rss_mb());
    for wave in 0..6 {
        let mut tasks = Vec::new();
        for _ in 0..24 {
            let stored = stored.clone();
            tasks.push(tokio::spawn(async move { verify_password("guess".to_string(), Some(stored), &params).await }));
        }
        for t in tasks {
            t.await??;
        }
        println!("after wave {wave}: {:.1} MB", rss_mb());
        // Let idle blocking threads expire (tokio keeps them 10 s), so later waves use new ones.
        tokio::time::sleep(std::time::Duration::from_secs(11)).await;
    }
    Ok(())
}
