//! How committed deltas reach aggregate actors. Locally they go straight to the live actor of
//! their scope (and the writer waits until they are applied: read-your-writes). A [`Bus`]
//! carries them to other nodes; the in-process bus has none to reach, and a PostgreSQL
//! LISTEN/NOTIFY bus drops in behind the same trait: it stages a NOTIFY inside the writing
//! transaction (delivered only on commit) and feeds what it hears to [`deliver`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel_async::AsyncPgConnection;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Notify;

use crate::aggregate::AggregateMsg;
use crate::error::Result;
use crate::live::Live;
use crate::store::aggregates::Published;

/// A boxed future, for the object-safe trait below.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Carries committed deltas to the other nodes that share the database.
pub trait Bus: Send + Sync + 'static {
    /// Called inside the writing transaction, just before commit, with what it changed.
    fn stage<'a>(
        &'a self,
        conn: &'a mut AsyncPgConnection,
        batch: &'a [Published],
    ) -> BoxFuture<'a, Result<()>>;
}

/// A single node: nothing to carry.
#[derive(Debug, Default, Clone, Copy)]
pub struct InProcessBus;

impl Bus for InProcessBus {
    fn stage<'a>(
        &'a self,
        _: &'a mut AsyncPgConnection,
        _: &'a [Published],
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async { Ok(()) })
    }
}

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
pub(crate) async fn deliver(live: &Live, batch: Vec<Published>, wait: Duration) {
    let started = Instant::now();
    // The batch's own token keeps the count above zero until every delta is handed over.
    let applied = Arc::new(AppliedBatch {
        outstanding: AtomicUsize::new(1),
        done: Notify::new(),
    });
    let own = Applied(Arc::clone(&applied));
    let mut handed = 0;
    for published in batch {
        let Some(actor) = live.slot(&published.scope).and_then(|slot| slot.actor()) else {
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
        live.metrics.delivered(started.elapsed());
        return;
    }
    if tokio::time::timeout(wait, applied.done.notified())
        .await
        .is_err()
    {
        tracing::warn!(?wait, "a write was not reflected by its aggregates in time");
    }
    live.metrics.delivered(started.elapsed());
}
