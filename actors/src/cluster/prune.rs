//! Pruning the change log in the background: what retention no longer keeps, and the history
//! of aggregates that are gone. Deletes never touch the rows writers append, so writes are
//! not blocked; one node prunes at a time.

use std::time::Duration;

use super::Node;
use crate::error::Result;
use crate::store::change_log::{self, Retention};

pub(crate) async fn every_tick(node: Node) {
    let mut tick = tokio::time::interval(node.config.prune_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(err) = prune(&node).await {
            tracing::debug!(error = %err, "cannot prune the change log now; retrying later");
        }
    }
}

async fn prune(node: &Node) -> Result<()> {
    let retention = Retention {
        versions: node.config.log_keep_versions,
        age: node.config.log_keep_for,
        // Generous: another node may have pruned last, or none for a while.
        moved_within: (node.config.prune_every * 10).max(Duration::from_secs(600)),
    };
    let mut conn = node.pool.get().await?;
    let metrics = &node.slots.metrics.cluster;
    if let Some(rows) = change_log::prune(&mut conn, retention).await? {
        metrics.pruned(rows);
    }
    let (bytes, rows) = change_log::size(&mut conn).await?;
    metrics.log_size(bytes, rows);
    Ok(())
}
