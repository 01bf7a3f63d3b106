//! How committed deltas reach aggregate actors. Locally they go straight to the live actor of
//! their scope (and the writer waits until they are applied: read-your-writes). A [`Bus`]
//! carries them to other nodes; the in-process bus has none to reach, and a PostgreSQL
//! LISTEN/NOTIFY bus drops in behind the same trait: it stages a NOTIFY inside the writing
//! transaction (delivered only on commit) and feeds what it hears to [`deliver`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use diesel_async::AsyncPgConnection;
use futures_util::future::join_all;
use tokio::sync::oneshot;

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

/// Hands each delta to its scope's live actor, if any (a scope nobody reads has no actor: its
/// row already holds the change), and waits up to `wait` until all of them applied it.
pub(crate) async fn deliver(live: &Live, batch: Vec<Published>, wait: Duration) {
    let mut applied = Vec::with_capacity(batch.len());
    for published in batch {
        let Some(actor) = live.slot(&published.scope).and_then(|slot| slot.actor()) else {
            continue;
        };
        let (done, receive) = oneshot::channel();
        if actor
            .cast(AggregateMsg::Apply(Arc::new(published), Some(done)))
            .is_ok()
        {
            applied.push(receive);
        }
    }
    if applied.is_empty() {
        return;
    }
    // A receiver that errs belongs to an actor that stopped: nothing to wait for there.
    if tokio::time::timeout(wait, join_all(applied)).await.is_err() {
        tracing::warn!(?wait, "a write was not reflected by its aggregates in time");
    }
}
