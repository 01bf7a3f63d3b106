//! A burst of registrations: each takes an Argon2 hash of 19 MiB; the server must give that
//! memory back rather than keep a heap the size of the burst.

use futures_util::future::try_join_all;

use crate::common::ProcessApp;

/// The server's peak resident memory so far, in KiB.
fn peak_rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no VmHWM in /proc/{pid}/status"))
}

#[tokio::test]
async fn a_burst_of_registrations_does_not_keep_a_hash_worth_of_memory_each() -> anyhow::Result<()>
{
    let app = ProcessApp::builder()
        .with_arg("--no-rate-limit")
        .spawn()
        .await?;
    let burst = 64;

    try_join_all((0..burst).map(|n| {
        let app = &app;
        async move { app.register(&format!("burst{n}@example.com")).await }
    }))
    .await?;

    // At most one 19 MiB hash per core runs at once, and freed ones go back to the system;
    // kept, they would add up to over 19 MiB × 64 ≈ 1.2 GB here in the worst case.
    let peak_mib = peak_rss_kib(app.pid()?)? / 1024;
    assert!(peak_mib < 250, "peak resident memory {peak_mib} MiB");
    Ok(())
}
