//! The tailer: reads the audit log forward for this node's feed subscribers while there are
//! any, when something commits (at most every `READ_GAP`) and every `POLL_EVERY` besides.

use std::sync::Arc;
use std::time::Duration;

use super::{Feeds, POLL_EVERY, READ_BATCH};
use crate::store::feed;

/// The least time between two reads of the log (a poke meanwhile is kept for after).
const READ_GAP: Duration = Duration::from_millis(5);

/// How long the tailer waits after the database failed it.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Runs until the task is aborted.
pub(crate) async fn tail(feeds: Arc<Feeds>) {
    loop {
        let Some((from, interest)) = feeds.interest() else {
            feeds.wake.notified().await;
            continue;
        };
        let read = async {
            let mut conn = feeds.pool.get().await?;
            feed::read_after(&mut conn, from, &interest, READ_BATCH).await
        };
        match read.await {
            Ok(read) => {
                let more = read.rows.len() as i64 >= READ_BATCH;
                feeds.deliver(from, &interest, read);
                if more {
                    continue;
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, "the feeds cannot read the audit log: retrying");
                tokio::time::sleep(RETRY_AFTER).await;
                continue;
            }
        }
        // Under a stream of commits each one pokes: reads at most every READ_GAP, each taking
        // what came meanwhile, instead of one statement per commit.
        tokio::time::sleep(READ_GAP).await;
        tokio::select! {
            () = feeds.wake.notified() => {}
            () = tokio::time::sleep(POLL_EVERY) => {}
        }
    }
}
