//! How committed deltas reach this node's aggregate actors: straight to the live actor of
//! their scope, and the writer waits until they are applied (read-your-writes). What other
//! nodes commit arrives through `cluster/`, which hands it to the same actors without waiting.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::aggregate::AggregateMsg;
use crate::published::Published;
use crate::slots::Slots;

/// One writer's wait for its deltas: counts the acknowledgements still out.
struct AppliedBatch {
    outstanding: AtomicUsize,
    done: Notify,
}

/// An acknowledgement: dropped once its delta is reflected by the aggregate (applied, or
/// covered by a re-read of the row), or with an actor that stopped, which leaves nothing to
/// wait for either. One counter per batch instead of a channel per delta.
pub(crate) struct Applied(Arc<AppliedBatch>);

impl Drop for Applied {
    fn drop(&mut self) {
        if self.0.outstanding.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.done.notify_one();
        }
    }
}

/// Hands each delta to its scope's live actor, if any (a scope nobody reads has no actor: its
/// row already holds the change), and waits up to `wait` until all of them reflect it.
pub(crate) async fn deliver(slots: &Slots, batch: Vec<Published>, wait: Duration) {
    let started = Instant::now();
    // The batch's own token keeps the count above zero until every delta is handed over.
    let applied = Arc::new(AppliedBatch {
        outstanding: AtomicUsize::new(1),
        done: Notify::new(),
    });
    let own = Applied(Arc::clone(&applied));
    let mut handed = 0;
    for published in batch {
        let Some(actor) = slots.slot(&published.scope).and_then(|slot| slot.actor()) else {
            continue;
        };
        handed += 1;
        applied.outstanding.fetch_add(1, Ordering::AcqRel);
        // A failed cast drops the message, and with it the acknowledgement.
        let _ = actor.cast(AggregateMsg::Apply(
            published,
            Some(Applied(Arc::clone(&applied))),
        ));
    }
    drop(own);
    if handed == 0 {
        // No live aggregate is concerned: nothing to wait for, nothing to measure.
        return;
    }
    if applied.outstanding.load(Ordering::Acquire) == 0 {
        slots.metrics.delivered(started.elapsed());
        return;
    }
    if tokio::time::timeout(wait, applied.done.notified())
        .await
        .is_err()
    {
        tracing::warn!(?wait, "a write was not reflected by its aggregates in time");
    }
    slots.metrics.delivered(started.elapsed());
}
