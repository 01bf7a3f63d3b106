//! The listener: one dedicated connection (LISTEN cannot share a pooled one) that hears the
//! other nodes' signals. A dropped connection is noticed (by the stream ending, or by a
//! keep-alive query when all is quiet), reconnected with back-off, and followed by an
//! immediate periodic check for whatever was signalled meanwhile.

use std::sync::Arc;
use std::time::Duration;

use diesel_async::{AsyncPgConnection, RunQueryDsl};
use futures_util::{FutureExt, StreamExt};
use tokio::sync::Notify;

use super::Node;
use super::heal::heard;
use super::signal::{CHANNEL, Signal};
use crate::error::{Error, Result};

/// Quiet this long, the listener checks that its connection still answers.
const KEEP_ALIVE: Duration = Duration::from_secs(5);
/// Back-off between connection attempts: doubling from the first to the last.
const RECONNECT: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(1));

/// Listens until the engine stops, starting with `first` (the connection made at start-up,
/// so that a node listens before it serves) when there is one.
pub(crate) async fn listen(node: Node, heal_now: Arc<Notify>, first: Option<AsyncPgConnection>) {
    let mut backoff = RECONNECT.0;
    let mut first = first.map(Ok);
    loop {
        let connected = match first.take() {
            Some(conn) => conn,
            None => connect(&node).await,
        };
        match connected {
            Ok(mut conn) => {
                backoff = RECONNECT.0;
                node.link.set_listening(true);
                node.slots.metrics.cluster.listener_connected();
                // Revocations announced while it was away were not heard: trust no memory.
                node.members.forget_all();
                heal_now.notify_one();
                serve(&node, &mut conn).await;
                node.link.set_listening(false);
                tracing::warn!("lost the cluster listener's connection: reconnecting");
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen for the other nodes: retrying");
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(RECONNECT.1);
    }
}

pub(crate) async fn connect(node: &Node) -> Result<AsyncPgConnection> {
    let mut conn = (node.pool.dedicated_connection().await)
        .map_err(|err| Error::DatabaseUnavailable(err.to_string()))?;
    diesel::sql_query(format!("LISTEN {CHANNEL}"))
        .execute(&mut conn)
        .await?;
    Ok(conn)
}

/// Hears signals until the connection is lost.
async fn serve(node: &Node, conn: &mut AsyncPgConnection) {
    // This node's own signals come back to it too; most are told apart without parsing.
    let own = format!("{{\"n\":\"{}\"", node.config.node_id);
    loop {
        let first = {
            let mut stream = std::pin::pin!(conn.notifications_stream());
            tokio::time::timeout(KEEP_ALIVE, stream.next()).await
        };
        let payload = match first {
            Ok(Some(Ok(notification))) => notification.payload,
            Ok(Some(Err(_)) | None) => return,
            Err(_quiet) => {
                let alive = diesel::sql_query("SELECT 1").execute(conn);
                match tokio::time::timeout(KEEP_ALIVE, alive).await {
                    Ok(Ok(_)) => continue,
                    _ => return,
                }
            }
        };
        // Everything already queued behind it is handled with it, in one catch-up.
        let mut payloads = vec![payload];
        {
            let mut stream = std::pin::pin!(conn.notifications_stream());
            while let Some(Some(Ok(notification))) = stream.next().now_or_never() {
                payloads.push(notification.payload);
            }
        }
        let announcements: Vec<_> = payloads
            .iter()
            .filter(|payload| !payload.starts_with(&own))
            .filter_map(|payload| serde_json::from_str::<Signal>(payload).ok())
            .filter(|signal| signal.node != node.config.node_id)
            .flat_map(|signal| signal.announcements().collect::<Vec<_>>())
            .collect();
        if !announcements.is_empty() {
            node.feeds.poke();
        }
        if let Err(err) = heard(node, announcements).await {
            tracing::debug!(error = %err, "cannot catch up with a signal; the periodic check will");
        }
    }
}
