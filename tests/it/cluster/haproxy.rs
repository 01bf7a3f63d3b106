//! The shipped HAProxy config in front of three nodes, one of which is killed (SIGKILL) while
//! clients write tasks through the balancer and follow their statistics over WebSocket
//! through it: no acknowledged write is lost, no delta is missed or repeated, and the data
//! stays consistent.

use std::time::Duration;

use super::balancer::Haproxy;
use super::load::{Followers, Load, closes, consecutive_versions};
use crate::common::{BINARY, ProcessApp, expect_json, poll_until, register_at};

/// Users, each writing and following its own statistics over one WebSocket session.
const USERS: usize = 6;
/// Acknowledged writes before the kill, and again after the balancer took the node out: the
/// kill lands mid-stream, and the stream goes on after it.
const WRITES_AROUND_KILL: usize = 40;
/// Bound on each wait; the whole test takes a few seconds.
const WAIT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread")]
async fn a_node_killed_behind_haproxy_loses_no_acknowledged_write_and_no_delta()
-> anyhow::Result<()> {
    // Arrange: three nodes behind the shipped config; users registered through it, each with
    // a session through it. Rate limits are not under test here (every request comes from
    // HAProxy's one address).
    let mut nodes = ProcessApp::builder()
        .with_arg("--no-rate-limit")
        .spawn_cluster(3)
        .await?;
    let addresses: Vec<String> = (nodes.iter())
        .map(|node| node.base_url.trim_start_matches("http://").to_owned())
        .collect();
    let balancer = Haproxy::start(&addresses).await?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()?;
    let mut users = Vec::with_capacity(USERS);
    for n in 0..USERS {
        let email = format!("user{n}@example.com");
        users.push(register_at(&http, &balancer.base_url, &email).await?);
    }
    let followers = Followers::start(&balancer.base_url, &users).await?;

    // Act: every user writes continuously; the node holding the most sessions is killed.
    let load = Load::start(&http, &balancer.base_url, &users);
    load.until_acked(WRITES_AROUND_KILL).await?;
    let mut sessions = Vec::with_capacity(nodes.len());
    for node in &nodes {
        sessions.push(live_sessions(node).await?);
    }
    let victim = (0..nodes.len()).max_by_key(|&n| sessions[n]).unwrap_or(0);
    nodes[victim].kill().await?;
    let acked_at_kill = load.acked();
    // Its health check fails and HAProxy takes it out (until then, it retries elsewhere).
    let down = format!("/{} is DOWN", balancer.servers[victim]);
    poll_until(WAIT, || async {
        Ok(if balancer.output().contains(&down) {
            Ok(())
        } else {
            Err(format!("no {down:?} in HAProxy's log"))
        })
    })
    .await?;
    load.until_acked(acked_at_kill + WRITES_AROUND_KILL).await?;
    let (tallies, failed_reads) = load.stop().await?;
    let survivor = &nodes[(victim + 1) % nodes.len()];
    let mut heads = Vec::with_capacity(USERS);
    for user in &users {
        heads.push(row_version(survivor, &user.user_id).await?);
    }
    let logs = followers.finish(heads.clone()).await?;

    // Assert: every follower saw one snapshot, then every version once, across the reconnect.
    for (log, head) in logs.iter().zip(&heads) {
        let versions =
            consecutive_versions(log).map_err(|gap| anyhow::anyhow!("{gap}: {log:?}"))?;
        assert_eq!(versions.last(), Some(head), "{log:?}");
    }
    // Exactly the sessions the killed node held were closed (and resumed, above).
    assert!(sessions[victim] >= 1, "sessions per node: {sessions:?}");
    assert_eq!(
        closes(&logs).len(),
        sessions[victim],
        "sessions per node: {sessions:?}; closes: {:?}",
        closes(&logs)
    );
    // Every acknowledged write is there; a write cut by the kill may or may not be.
    for ((user, tally), head) in users.iter().zip(&tallies).zip(&heads) {
        assert!(tally.refused.is_empty(), "refused: {:?}", tally.refused);
        let total = settled_total(&http, &balancer.base_url, &user.access, *head).await?;
        assert!(
            (tally.acked..=tally.acked + tally.uncertain).contains(&total),
            "{total} tasks, {tally:?}"
        );
    }
    // Only writes in flight on the killed node failed (one per writer at most): the others,
    // and every read, were sent to or retried on a live node.
    let uncertain: usize = tallies.iter().map(|t| t.uncertain).sum();
    assert!(uncertain <= USERS, "{tallies:?}");
    assert!(failed_reads.is_empty(), "failed reads: {failed_reads:?}");
    let check = tokio::process::Command::new(BINARY)
        .args(["check", "--all", "--database-url", &survivor.db.url])
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .output()
        .await?;
    assert!(
        check.status.success(),
        "taskpulse check: {}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    Ok(())
}

/// The node's live WebSocket sessions, from its `/metrics`.
async fn live_sessions(node: &ProcessApp) -> anyhow::Result<usize> {
    let text = node.get("/metrics").await?.text().await?;
    let value = (text.lines())
        .find_map(|line| line.strip_prefix("taskpulse_ws_live_sessions "))
        .ok_or_else(|| anyhow::anyhow!("no taskpulse_ws_live_sessions in /metrics"))?;
    Ok(value.trim().parse::<f64>()? as usize)
}

/// The version of the user's aggregate row: the truth every node must reach.
async fn row_version(node: &ProcessApp, user_id: &str) -> anyhow::Result<i64> {
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        version: i64,
    }
    let mut conn = node.db.connect().await?;
    let row: Row = diesel::sql_query("SELECT version FROM user_stats WHERE user_id = $1::uuid")
        .bind::<diesel::sql_types::Text, _>(user_id)
        .get_result(&mut conn)
        .await?;
    Ok(row.version)
}

/// The user's task total through the balancer, once the node answering is at `head`.
async fn settled_total(
    http: &reqwest::Client,
    base_url: &str,
    access: &str,
    head: i64,
) -> anyhow::Result<usize> {
    let url = format!("{base_url}/api/v1/dashboard/statistics");
    poll_until(WAIT, || async {
        let stats = expect_json(http.get(&url).bearer_auth(access).send().await?, 200).await?;
        Ok(match (stats["version"].as_i64(), stats["total"].as_u64()) {
            (Some(version), Some(total)) if version == head => Ok(usize::try_from(total)?),
            _ => Err(stats.to_string()),
        })
    })
    .await
}
