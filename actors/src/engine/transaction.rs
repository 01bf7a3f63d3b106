//! The sequence every command that needs a transaction follows: open it on a pooled
//! connection, let the command check, write and apply its deltas, commit, give the connection
//! back, then publish the deltas. The caller answers once this node's live aggregates reflect
//! them (read-your-writes), and never holds a connection while it waits.

use std::future::Future;

use diesel_async::{AsyncConnection, AsyncPgConnection};

use super::Engine;
use crate::error::{Error, Result};
use crate::notify::CommittedFor;
use crate::published::Published;
use crate::stats::DeltaSet;
use crate::store::{aggregates, drop_if_unavailable};

/// What a command's transaction answers: its result, and the deltas it committed.
pub(crate) struct Committed<T> {
    pub answer: T,
    pub published: Vec<Published>,
}

impl<T> Committed<T> {
    /// A change that moved no aggregate.
    pub fn answer(answer: T) -> Self {
        Self {
            answer,
            published: Vec::new(),
        }
    }
}

/// A command's body as `AsyncConnection::transaction` takes it: an async closure over the
/// connection whose future is `Send` (so the command's own future is). Stable Rust cannot
/// name an async closure's future, hence the `FnOnce` view of it.
pub(crate) trait Change<'c, T>:
    FnOnce(&'c mut AsyncPgConnection) -> <Self as Change<'c, T>>::Fut
{
    type Fut: Future<Output = Result<Committed<T>>> + Send;
}

impl<'c, T, F, Fut> Change<'c, T> for F
where
    F: FnOnce(&'c mut AsyncPgConnection) -> Fut,
    Fut: Future<Output = Result<Committed<T>>> + Send,
{
    type Fut = Fut;
}

impl Engine {
    /// Runs `change` in a transaction of its own, then publishes the deltas it committed.
    pub(crate) async fn transaction<T, F>(&self, change: F) -> Result<T>
    where
        T: Send,
        F: for<'c> AsyncFnOnce(&'c mut AsyncPgConnection) -> Result<Committed<T>>
            + for<'c> Change<'c, T>
            + Send,
    {
        let mut conn = self.conn().await?;
        let committed = (*conn).transaction::<_, Error, _>(change).await;
        drop_if_unavailable(&mut conn, &committed);
        drop(conn);
        let committed = committed?;
        // Team commands write their notices in the transaction (and a task command retried
        // with its task locked may): the outbox's workers look.
        self.inner.notifier.poke();
        self.inner.notifier.poke_webhooks(CommittedFor::any());
        self.publish(committed.published).await;
        Ok(committed.answer)
    }

    /// Inside a transaction: the deltas to their rows and to the change log, and the cluster's
    /// signal when it travels with the commit. Answers what to publish once committed.
    pub(crate) async fn apply_deltas(
        &self,
        conn: &mut AsyncPgConnection,
        deltas: DeltaSet,
    ) -> Result<Vec<Published>> {
        let change_log = self.inner.cluster.change_log();
        let published = aggregates::apply_deltas(conn, deltas, change_log).await?;
        self.inner.cluster.stage(conn, &published).await?;
        Ok(published)
    }

    /// After commit: a signal to the other nodes (never waited for), the feeds to the log, then
    /// the deltas to this node's live aggregates, waiting until they reflect them
    /// (read-your-writes).
    pub(crate) async fn publish(&self, published: Vec<Published>) {
        self.inner.cluster.announce_changed(&published);
        self.inner.feeds.poke();
        self.deliver_here(published).await;
    }
}
