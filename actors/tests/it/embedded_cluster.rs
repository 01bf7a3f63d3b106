//! The embedded cluster: made from the installed PostgreSQL programs, reachable on its Unix
//! socket, reused when already running, stopped when its handle is dropped, and started again
//! when its postmaster dies.

use std::time::Duration;

use taskpulse_actors::database::{EmbeddedCluster, ensure_database, probe, run_migrations};

fn scratch_dir() -> std::path::PathBuf {
    // Short, so that the socket path stays within the Unix limit.
    std::env::temp_dir().join(format!(
        "tp-{}",
        &uuid::Uuid::now_v7().simple().to_string()[24..]
    ))
}

#[tokio::test(flavor = "multi_thread")]
async fn embedded_cluster_starts_serves_and_stops() -> anyhow::Result<()> {
    let root = scratch_dir();
    let data_dir = root.join("postgres");

    let cluster = EmbeddedCluster::start(&data_dir, false).await?;
    let url = cluster.url("taskpulse");
    let created = ensure_database(&url).await?;
    let applied = run_migrations(&url).await?;
    let adopted = EmbeddedCluster::start(&data_dir, true).await?;
    let reachable_while_running = probe(&url).await;
    drop(adopted);
    let still_reachable_after_adopter_left = probe(&url).await;
    drop(cluster);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after_stop = probe(&url).await;

    assert!(created);
    assert!(applied >= 5);
    assert_eq!(reachable_while_running, Ok(()));
    assert_eq!(still_reachable_after_adopter_left, Ok(()));
    assert!(
        after_stop.is_err(),
        "the cluster still answers after it was stopped"
    );
    std::fs::remove_dir_all(&root)?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_embedded_cluster_is_started_again() -> anyhow::Result<()> {
    let root = scratch_dir();
    let data_dir = root.join("postgres");
    let cluster = EmbeddedCluster::start(&data_dir, false).await?;
    let url = cluster.url("postgres");
    let watcher = cluster.keep_alive();
    let postmaster = std::fs::read_to_string(cluster.data_dir().join("postmaster.pid"))?
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned();

    let killed = std::process::Command::new("kill")
        .args(["-KILL", &postmaster])
        .status()?;
    let mut back = false;
    for _ in 0..300 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if probe(&url).await.is_ok() {
            back = true;
            break;
        }
    }

    let now_running = std::fs::read_to_string(cluster.data_dir().join("postmaster.pid"))?;
    watcher.abort();
    drop(cluster);
    assert!(killed.success(), "kill -KILL {postmaster}");
    assert!(
        back,
        "the embedded cluster was not started again within 30 s"
    );
    assert_ne!(
        now_running.lines().next().map(str::trim),
        Some(postmaster.as_str()),
        "the same postmaster still runs"
    );
    std::fs::remove_dir_all(&root)?;
    Ok(())
}
