//! Exporting every task a listing would show, from one consistent snapshot and in constant
//! memory: a repeatable-read, read-only transaction reads the tasks through a server-side cursor,
//! a batch at a time, into a small bounded channel that the caller drains at its own pace.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use futures_util::Stream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};

use super::Engine;
use super::tasks::{TaskQuery, visible_filter};
use crate::error::{Error, Result};
use crate::model::{Task, UserId};
use crate::store::Pool;
use crate::store::export::{EXPORT_BATCH, fetch_tasks, open_task_cursor};

/// How many batches may wait for a slow reader: what an export holds in memory beyond the one
/// being read.
const QUEUED_BATCHES: usize = 2;

/// How long an export waits for its reader to take the next batch before it gives up: a
/// reader that stopped reading must not hold a database connection and a snapshot forever.
const STALLED_READER: Duration = Duration::from_secs(30);

/// The tasks of an export, oldest first, in batches of at most 1 000, read from one snapshot
/// of the database. A failure after the first batch ends the stream with an `Err` (never a
/// quiet end: the reader would take a cut file for a whole one). Dropping it stops the export.
pub struct TaskExport {
    batches: Option<mpsc::Receiver<Vec<Task>>>,
    outcome: Option<oneshot::Receiver<Result<()>>>,
}

impl Stream for TaskExport {
    type Item = Result<Vec<Task>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if let Some(batches) = &mut this.batches {
            match ready!(batches.poll_recv(cx)) {
                Some(batch) => return Poll::Ready(Some(Ok(batch))),
                None => this.batches = None,
            }
        }
        let Some(outcome) = &mut this.outcome else {
            return Poll::Ready(None);
        };
        let outcome = ready!(Pin::new(outcome).poll(cx));
        this.outcome = None;
        Poll::Ready(match outcome {
            Ok(Ok(())) => None,
            Ok(Err(err)) => Some(Err(err)),
            Err(_) => Some(Err(Error::EngineUnavailable(
                "the export stopped before its end".to_owned(),
            ))),
        })
    }
}

/// This node's exports in flight: each holds a database connection for as long as its reader
/// takes, so at most a quarter of the pool goes to them.
pub(crate) struct Exports {
    places: Arc<Semaphore>,
}

impl Exports {
    pub fn new(pool_size: u32) -> Self {
        Self {
            places: Arc::new(Semaphore::new((pool_size as usize / 4).max(1))),
        }
    }
}

impl Engine {
    /// Every task `actor` may see that `query` names (its `limit` and `cursor` are ignored),
    /// oldest first, as one consistent snapshot: a change committed while the export runs is in
    /// it entirely or not at all. Answers once the snapshot is taken, so that a refused request
    /// (`team_id` of a team the caller is not in: `NotFound`) fails before anything is sent;
    /// the tasks follow as the caller reads them. At most a quarter of the pool's connections
    /// serve exports at once; one more waits as long as a connection may be waited for, then
    /// is `EngineUnavailable`.
    pub async fn export_tasks(&self, actor: UserId, query: TaskQuery) -> Result<TaskExport> {
        let wait = self.inner.config.pool.connection_timeout;
        let place =
            tokio::time::timeout(wait, Arc::clone(&self.inner.exports.places).acquire_owned())
                .await
                .ok()
                .and_then(std::result::Result::ok)
                .ok_or_else(|| {
                    Error::EngineUnavailable(
                        "too many exports are running; try again shortly".to_owned(),
                    )
                })?;
        let (batches_tx, batches) = mpsc::channel(QUEUED_BATCHES);
        let (opened_tx, opened) = oneshot::channel();
        let (outcome_tx, outcome) = oneshot::channel();
        let pool = self.inner.pool.clone();
        tokio::spawn(async move {
            let result = export(pool, actor, query, batches_tx, opened_tx, place).await;
            if let Err(Refusal::Outcome(err)) = &result {
                tracing::debug!(error = %err, "an export ended early");
            }
            let _ = outcome_tx.send(result.map_err(Refusal::into_error));
        });
        match opened.await {
            Ok(Ok(())) => Ok(TaskExport {
                batches: Some(batches),
                outcome: Some(outcome),
            }),
            Ok(Err(err)) => Err(err),
            Err(_) => Err(match outcome.await {
                Ok(Err(err)) => err,
                _ => Error::EngineUnavailable("the export could not start".to_owned()),
            }),
        }
    }
}

/// Why an export stopped: before it opened (the error went to the caller already) or after.
enum Refusal {
    BeforeOpening,
    Outcome(Error),
}

impl Refusal {
    fn into_error(self) -> Error {
        match self {
            Refusal::BeforeOpening => {
                Error::EngineUnavailable("the export could not start".to_owned())
            }
            Refusal::Outcome(err) => err,
        }
    }
}

impl From<diesel::result::Error> for Refusal {
    fn from(err: diesel::result::Error) -> Self {
        Refusal::Outcome(err.into())
    }
}

/// The export's own task: takes a connection, opens the snapshot and the cursor, tells the
/// caller it is open (or why not), then sends batch after batch until the cursor is spent, the
/// reader is gone or has stalled.
async fn export(
    pool: Pool,
    actor: UserId,
    query: TaskQuery,
    batches: mpsc::Sender<Vec<Task>>,
    opened: oneshot::Sender<Result<()>>,
    _place: OwnedSemaphorePermit,
) -> std::result::Result<(), Refusal> {
    let mut opened = Some(opened);
    let mut conn = match pool.get_owned().await {
        Ok(conn) => conn,
        Err(err) => return refuse(&mut opened, err.into()),
    };
    let opened = &mut opened;
    conn.build_transaction()
        .repeatable_read()
        .read_only()
        .run(async |conn| {
            // The first statement takes the snapshot: the membership check sees what the
            // tasks are read from.
            let opening = async {
                let filter = visible_filter(conn, actor, &query).await?;
                open_task_cursor(conn, &filter).await
            };
            if let Err(err) = opening.await {
                return refuse(opened, err);
            }
            if let Some(opened) = opened.take() {
                let _ = opened.send(Ok(()));
            }
            loop {
                let batch = fetch_tasks(conn).await.map_err(Refusal::Outcome)?;
                let last = batch.len() < EXPORT_BATCH;
                if !batch.is_empty() {
                    batches
                        .send_timeout(batch, STALLED_READER)
                        .await
                        .map_err(|_| {
                            Refusal::Outcome(Error::EngineUnavailable(
                                "the export's reader stopped reading".to_owned(),
                            ))
                        })?;
                }
                if last {
                    return Ok(());
                }
            }
        })
        .await
}

/// Hands `err` to the caller while it still waits for the export to open; later, to the stream.
fn refuse(
    opened: &mut Option<oneshot::Sender<Result<()>>>,
    err: Error,
) -> std::result::Result<(), Refusal> {
    match opened.take() {
        Some(opened) => {
            let _ = opened.send(Err(err));
            Err(Refusal::BeforeOpening)
        }
        None => Err(Refusal::Outcome(err)),
    }
}
