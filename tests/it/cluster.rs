//! Several real nodes on one database (API.md, "Several nodes"), each a server with an engine
//! of its own in this process: what one node commits reaches the others' reads and WebSocket
//! subscribers, revocations cross nodes, a client resumes on any node (even after every node
//! was restarted), and health lists the `cluster` link. `cluster/haproxy.rs` runs the shipped
//! balancer config in front of three `taskpulse serve` processes and kills one under load.

mod balancer;
mod haproxy;
mod load;
mod resume;
pub(crate) mod ws;

use std::time::Duration;

use crate::common::{TestApp, expect_json, poll_until};
use serde_json::{Value, json};
use ws::{kind_and_version, receive, subscribe};

/// Bound on anything crossing nodes: a lost signal is healed within about a second.
const SOON: Duration = Duration::from_secs(10);

async fn statistics(app: &TestApp, access: &str) -> anyhow::Result<Value> {
    expect_json(
        app.get_as("/api/v1/dashboard/statistics", access).await?,
        200,
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_task_created_on_one_node_reaches_another_nodes_reads_and_subscribers()
-> anyhow::Result<()> {
    let nodes = TestApp::builder().spawn_cluster(2).await?;
    let (a, b) = (&nodes[0], &nodes[1]);
    let ann = a.register("ann@example.com").await?;
    let mut on_b = subscribe(&b.base_url, &ann.access, "user", None).await?;
    let snapshot = receive(&mut on_b).await?;

    a.create_task(&ann.access, json!({ "title": "written on a" }))
        .await?;

    let read_on_b = poll_until(SOON, || async {
        let stats = statistics(b, &ann.access).await?;
        Ok(if stats["total"] == 1 {
            Ok(stats)
        } else {
            Err(stats.to_string())
        })
    })
    .await?;
    let delta = receive(&mut on_b).await?;
    let read_on_a = statistics(a, &ann.access).await?;
    let first = snapshot["version"].as_i64().unwrap_or(-1);
    assert_eq!(kind_and_version(&snapshot).0, Some("snapshot"));
    assert_eq!(kind_and_version(&delta), (Some("delta"), Some(first + 1)));
    assert_eq!(delta["stats"], read_on_a, "the delta on b and a's answer");
    assert_eq!(read_on_b, read_on_a, "b's answer and a's");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_whose_signal_was_lost_reaches_subscribers_as_a_delta() -> anyhow::Result<()> {
    // One node id for both, so each takes the other's signals for its own and ignores them:
    // b learns of a's commits from the change log only, when something shows it is behind.
    let nodes = TestApp::builder()
        .with_arg("--node-id")
        .with_arg("twin")
        .with_arg("--cluster-check-every")
        .with_arg("2s")
        .spawn_cluster(2)
        .await?;
    let (a, b) = (&nodes[0], &nodes[1]);
    let ann = a.register("ann@example.com").await?;
    let mut on_b = subscribe(&b.base_url, &ann.access, "user", None).await?;
    let first = receive(&mut on_b).await?["version"].as_i64().unwrap_or(-1);

    a.create_task(&ann.access, json!({ "title": "unannounced" }))
        .await?;
    b.create_task(&ann.access, json!({ "title": "after it, on b" }))
        .await?;

    // b sees the gap at once (its own write is one version ahead): the log fills it.
    let one = receive(&mut on_b).await?;
    assert_eq!(kind_and_version(&one), (Some("delta"), Some(first + 1)));
    let two = receive(&mut on_b).await?;
    assert_eq!(kind_and_version(&two), (Some("delta"), Some(first + 2)));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn removing_a_member_on_one_node_unsubscribes_their_session_on_another() -> anyhow::Result<()>
{
    let nodes = TestApp::builder().spawn_cluster(2).await?;
    let (a, b) = (&nodes[0], &nodes[1]);
    let owner = a.register("owner@example.com").await?;
    let bob = a.register("bob@example.com").await?;
    let team = a.create_team(&owner.access, "crew").await?;
    a.add_member(&owner.access, &team, &bob.user_id, "member")
        .await?;
    let topic = format!("team:{team}");
    let mut bobs = subscribe(&b.base_url, &bob.access, &topic, None).await?;
    let snapshot = receive(&mut bobs).await?;

    let path = format!("/api/v1/teams/{team}/members/{}", bob.user_id);
    let removed = a.delete_as(&path, &owner.access).await?;

    assert_eq!(kind_and_version(&snapshot).0, Some("snapshot"));
    assert_eq!(removed.status(), 204);
    assert_eq!(
        receive(&mut bobs).await?,
        json!({ "type": "unsubscribed", "topic": topic, "reason": "membership_revoked" })
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_a_team_on_one_node_unsubscribes_the_owners_session_on_another()
-> anyhow::Result<()> {
    let nodes = TestApp::builder().spawn_cluster(2).await?;
    let (a, b) = (&nodes[0], &nodes[1]);
    let owner = a.register("owner@example.com").await?;
    let team = a.create_team(&owner.access, "crew").await?;
    let topic = format!("team:{team}");
    let mut owners = subscribe(&b.base_url, &owner.access, &topic, None).await?;
    let snapshot = receive(&mut owners).await?;

    let deleted = a
        .delete_as(&format!("/api/v1/teams/{team}"), &owner.access)
        .await?;

    assert_eq!(kind_and_version(&snapshot).0, Some("snapshot"));
    assert_eq!(deleted.status(), 204);
    // The server has one reason for every loss of access, the team's deletion included.
    assert_eq!(
        receive(&mut owners).await?,
        json!({ "type": "unsubscribed", "topic": topic, "reason": "membership_revoked" })
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn every_node_lists_the_cluster_service_healthy() -> anyhow::Result<()> {
    let nodes = TestApp::builder().spawn_cluster(3).await?;

    let mut node_ids = Vec::new();
    for node in &nodes {
        // The listener connects in the background after start-up.
        let cluster = poll_until(SOON, || async {
            let health = expect_json(node.get("/api/v1/health").await?, 200).await?;
            let services = health["services"].as_array().cloned().unwrap_or_default();
            let cluster = services.into_iter().find(|s| s["name"] == "cluster");
            Ok(match cluster {
                Some(cluster) if cluster["status"] == "healthy" => Ok(cluster),
                _ => Err(health.to_string()),
            })
        })
        .await?;
        let detail = cluster["detail"].as_str().unwrap_or_default().to_owned();
        assert!(detail.contains("listening"), "{detail}");
        node_ids.push(detail.split_whitespace().nth(1).map(str::to_owned));
    }

    node_ids.sort();
    node_ids.dedup();
    assert_eq!(node_ids.len(), 3, "each node has an id of its own");
    Ok(())
}
