//! A burst of registrations: each takes an Argon2 hash of 19 MiB; the server must run no more
//! of them at once than it has turns for, and give that memory back rather than keep a heap the
//! size of the burst.

use std::num::NonZero;

use futures_util::future::try_join_all;

use crate::common::ProcessApp;

/// The memory block of one Argon2 hash (`m=19456` KiB).
const HASH_MIB: u64 = 19;
/// What a burst of requests costs besides the hashes: connections, buffers, allocator slack.
const REQUESTS_MIB: u64 = 64;

/// The server's peak resident memory so far, in KiB.
fn peak_rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no VmHWM in /proc/{pid}/status"))
}

/// How many hashes the server runs at once: one per core, counted as `api/src/auth/password.rs`
/// counts them. The server is this process's child, on the same cores.
fn concurrent_hashes() -> u64 {
    std::thread::available_parallelism().map_or(2, NonZero::get) as u64
}

#[tokio::test]
async fn a_burst_of_registrations_does_not_keep_a_hash_worth_of_memory_each() -> anyhow::Result<()>
{
    let app = ProcessApp::builder()
        .with_arg("--no-rate-limit")
        .spawn()
        .await?;
    let hashes = concurrent_hashes();
    // Well beyond the hashes that may run at once, so that memory held per registration shows.
    let burst = (4 * hashes).max(64);
    // Start-up has hashed once already (the dummy hash of unknown accounts).
    let before_mib = peak_rss_kib(app.pid()?)? / 1024;

    try_join_all((0..burst).map(|n| {
        let app = &app;
        async move { app.register(&format!("burst{n}@example.com")).await }
    }))
    .await?;

    // At most one 19 MiB hash per core at once, and freed ones go back to the system; kept,
    // they would add up to 19 MiB × the burst.
    let peak_mib = peak_rss_kib(app.pid()?)? / 1024;
    let ceiling_mib = before_mib + hashes * HASH_MIB + REQUESTS_MIB;
    assert!(
        peak_mib <= ceiling_mib,
        "peak resident memory {peak_mib} MiB after {burst} registrations, over {ceiling_mib} MiB \
         ({before_mib} MiB before, {hashes} hashes at once)"
    );
    Ok(())
}
