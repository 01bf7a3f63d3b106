//! A node whose connections reach a standby (SQLSTATE 25006 on every write): 503 with
//! `Retry-After`, reads served, and each such connection dropped by the pool.

use super::Node;
use super::pair::PostgresPair;
use super::writers::{self, Outcome};
use crate::common::expect_json;

#[tokio::test(flavor = "multi_thread")]
async fn a_connection_to_a_standby_is_dropped_and_its_writes_answer_503() -> anyhow::Result<()> {
    // Arrange: the database made through the multi-host URL, then a node on the standby alone
    // (no target_session_attrs: as behind a name that still points at a demoted server).
    let pair = PostgresPair::start().await?;
    let secret = format!(
        "{}{}",
        uuid::Uuid::now_v7().simple(),
        uuid::Uuid::now_v7().simple()
    );
    let on_primary = Node::start(&pair.url("taskpulse"), &secret).await?;
    let ann = on_primary.api.register("ann@example.com").await?;
    on_primary
        .api
        .create_task(&ann.access, serde_json::json!({ "title": "before" }))
        .await?;
    let on_standby =
        Node::start_with(&pair.url_of(1, "taskpulse"), &secret, &["--no-migrate"]).await?;

    // Act: writes through the node whose connections reach only the standby.
    let mut answers = Vec::new();
    for i in 0..3 {
        answers.push(writers::write(&on_standby.api, &ann.access, &format!("refused-{i}")).await);
    }
    let read = on_standby
        .api
        .get_as("/api/v1/dashboard/statistics", &ann.access)
        .await?;
    let metrics = on_standby.api.get("/metrics").await?.text().await?;

    // Assert: 503 + Retry-After (SQLSTATE 25006 is the server's state, not a 500), reads
    // served, and each connection that met 25006 dropped rather than handed out again.
    assert!(
        answers.iter().all(|a| matches!(a, Outcome::Unavailable)),
        "{answers:?}"
    );
    assert_eq!(expect_json(read, 200).await?["total"], 1);
    let dropped = metrics
        .lines()
        .find_map(|line| line.strip_prefix("taskpulse_db_pool_connections_closed_broken_total "))
        .and_then(|value| value.trim().parse::<f64>().ok());
    assert!(dropped.is_some_and(|n| n >= 3.0), "dropped: {dropped:?}");
    Ok(())
}
