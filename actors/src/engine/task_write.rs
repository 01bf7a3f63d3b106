//! How a command that changes one task writes: read, decide, write in one statement that
//! applies only while the task is as it was read (`store/write/`). Two round trips, no
//! transaction, no lock held between them: the connection of the read goes back to the pool
//! before the write waits for its gates and takes one.

use diesel_async::{AsyncConnection, AsyncPgConnection};

use super::Engine;
use super::transaction::Committed;
use crate::error::{Entity, Error, Result};
use crate::model::{TaskId, UserId};
use crate::notify::CommittedFor;
use crate::store::drop_if_unavailable;
use crate::store::task_context::{Target, TaskContext, lock_task, task_context};
use crate::store::write::{Write, Written};

/// What a command decided, given the task as it read it.
pub(crate) enum Decision<T> {
    /// Nothing to write: answer this.
    Answer(T),
    /// Write this; answer that once it is committed (boxed: a write is large, an answer
    /// often small).
    Write(Box<Write>, T),
}

impl Engine {
    /// A write that bumps aggregates the way this engine is configured to (with or without the
    /// change log).
    pub(crate) fn write(&self) -> Write {
        Write::new(self.inner.cluster.change_log())
    }

    /// Runs a command on the existing task `id`: reads it with what `actor` may do with it (and
    /// the user `target` names), lets `decide` choose, and writes the choice as one statement
    /// that applies only while the task is unchanged. When it changed in between, decides once
    /// more with the task locked, in a transaction, where the write cannot miss: a busy task
    /// costs its writers another try, never an error. Answers once the deltas are published
    /// (the answer's [`Written`] without them).
    pub(crate) async fn on_task<T: Send>(
        &self,
        id: TaskId,
        actor: UserId,
        target: Option<Target<'_>>,
        decide: impl Fn(&TaskContext) -> Result<Decision<T>> + Sync,
    ) -> Result<(T, Option<Written>)> {
        let decision = {
            let mut conn = self.conn().await?;
            read_and_decide(&mut conn, id, actor, target, &decide).await?
        };
        let (write, answer) = match decision {
            Decision::Answer(answer) => return Ok((answer, None)),
            Decision::Write(write, answer) => (write, answer),
        };
        let written = self.commit(*write).await?;
        if written.applied {
            let committed = Committed::from_write((answer, Some(written)));
            self.publish(committed.published).await;
            return Ok(committed.answer);
        }
        self.transaction(async |conn| {
            lock_task(conn, id).await?;
            let (answer, written) = match read_and_decide(conn, id, actor, target, &decide).await? {
                Decision::Answer(answer) => (answer, None),
                Decision::Write(write, answer) => {
                    let written = self.run_staged(conn, *write).await?;
                    if !written.applied {
                        return Err(Error::DatabaseUnavailable(
                            "a locked task changed under its writer".to_owned(),
                        ));
                    }
                    (answer, Some(written))
                }
            };
            Ok(Committed::from_write((answer, written)))
        })
        .await
    }

    /// Runs a write on its own (one statement, its own transaction) on a connection of its
    /// own, once its aggregates' gates let it: the gates first, so that writes waiting for a
    /// busy aggregate hold no connection (`write_gates.rs`). When the cluster's signal travels
    /// with the commit, the statement and the signal share a transaction instead.
    pub(crate) async fn commit(&self, write: Write) -> Result<Written> {
        let _passes = self.inner.write_gates.enter(write.scopes()).await;
        let mut conn = self.conn().await?;
        let written = if self.inner.cluster.signals_in_transaction() {
            conn.transaction::<_, Error, _>(async |conn| self.run_staged(conn, write).await)
                .await
        } else {
            write.run(&mut conn).await
        };
        drop_if_unavailable(&mut conn, &written);
        if let Ok(written) = &written {
            // Only writes that put something in the outbox wake its workers: the others (most
            // writes) cost the outbox nothing.
            if written.noticed {
                self.inner.notifier.poke();
            }
            if !written.hooked.is_empty() {
                let hooked = CommittedFor::webhooks(written.hooked.iter().copied());
                self.inner.notifier.poke_webhooks(hooked);
            }
        }
        written
    }

    /// Runs a write inside the caller's transaction, with the cluster's signal when it travels
    /// with the commit.
    pub(crate) async fn run_staged(
        &self,
        conn: &mut AsyncPgConnection,
        write: Write,
    ) -> Result<Written> {
        let written = write.run(conn).await?;
        self.inner.cluster.stage(conn, &written.published).await?;
        Ok(written)
    }
}

/// Reads the task with what `actor` may do with it and lets `decide` choose. Unless the caller
/// locked the task first, the write that follows applies only while the task is still as read.
async fn read_and_decide<T>(
    conn: &mut AsyncPgConnection,
    id: TaskId,
    actor: UserId,
    target: Option<Target<'_>>,
    decide: &(impl Fn(&TaskContext) -> Result<Decision<T>> + Sync),
) -> Result<Decision<T>> {
    let context = task_context(conn, id, actor, target)
        .await?
        .ok_or(Error::NotFound(Entity::Task))?;
    decide(&context)
}

impl<T> Committed<(T, Option<Written>)> {
    /// A command's answer and what its write committed, the deltas taken out to publish.
    fn from_write((answer, mut written): (T, Option<Written>)) -> Self {
        let published = (written.as_mut())
            .map(|written| std::mem::take(&mut written.published))
            .unwrap_or_default();
        Self {
            answer: (answer, written),
            published,
        }
    }
}
