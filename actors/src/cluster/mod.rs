//! Several nodes on one database (docs/cluster.md). PostgreSQL is the whole
//! cluster: each change is appended to the change log in its writing transaction, a small
//! signal (NOTIFY) tells the other nodes which scopes moved, and each node reads the versions
//! it lacks from the log. Signals are only hints: a periodic check compares every live scope
//! with its row (and every team subscription with the team's members), so a lost signal or
//! revocation is healed within `heal_every`.

mod heal;
mod listener;
mod prune;
mod signal;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use diesel_async::AsyncPgConnection;
use ractor::ActorRef;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

use crate::config::{ClusterConfig, SignalMode};
use crate::endings::{Ending, Endings};
use crate::error::Result;
use crate::feed::Feeds;
use crate::known_members::KnownMembers;
use crate::model::{TeamId, UserId};
use crate::notify::Inboxes;
use crate::published::Published;
use crate::slots::Slots;
use crate::stats::Scope;
use crate::store::Pool;
use crate::store::aggregates::ChangeLog;
use crate::store::change_log::{self, Wanted};
use crate::supervisor::SupervisorMsg;

pub(crate) use signal::Announcement;
use signal::Signal;

/// Tells the other nodes what this node's background work did (the signal sender batches it
/// with the commits' announcements).
#[derive(Clone)]
pub(crate) struct Announcer(Option<mpsc::UnboundedSender<Announcement>>);

impl Announcer {
    /// Notifications were made: the other nodes' `notifications` topics read them.
    pub fn notified(&self) {
        if let Some(announce) = &self.0 {
            let _ = announce.send(Announcement::Notified);
        }
    }
}

/// How long start-up waits for the listener's first connection.
const FIRST_CONNECT: Duration = Duration::from_secs(5);

/// What the cluster's tasks work with: this node's live scopes and its database.
#[derive(Clone)]
pub(crate) struct Node {
    pub pool: Pool,
    pub slots: Arc<Slots>,
    pub supervisor: ActorRef<SupervisorMsg>,
    pub config: Arc<ClusterConfig>,
    pub link: Arc<Link>,
    pub endings: Arc<Endings>,
    /// Team memberships seen lately; revocations forget them.
    pub members: Arc<KnownMembers>,
    /// The feeds read the log when another node signals a commit.
    pub feeds: Arc<Feeds>,
    /// The `notifications` topics read when another node signals it made notifications.
    pub inboxes: Arc<Inboxes>,
}

/// The state of this node's link to the others, for health.
#[derive(Debug, Default)]
pub(crate) struct Link {
    listening: AtomicBool,
    last_lag_micros: AtomicU64,
}

/// How this node hears the others, as health reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterLink {
    /// This node's id.
    pub node_id: String,
    /// Whether the cluster machinery runs (off: the node assumes it is alone).
    pub enabled: bool,
    /// Whether the listener is connected and listening now.
    pub listening: bool,
    /// How long after its commit the last change from another node reached this node.
    pub last_lag: Option<Duration>,
}

/// The cluster side of one engine: announces its commits, hears the others'.
pub(crate) struct Cluster {
    node: Node,
    announce: Option<mpsc::UnboundedSender<Announcement>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Cluster {
    /// Starts the listener, the periodic check, the pruner and the signal sender (none of them
    /// when the cluster is off). Waits for the listener's first connection, so that a node
    /// hears the others before it serves; a database that is down now is retried later.
    pub async fn start(node: Node) -> Self {
        if !node.config.enabled {
            return Self {
                node,
                announce: None,
                tasks: Vec::new(),
            };
        }
        let (announce, queue) = mpsc::unbounded_channel();
        let heal_now = Arc::new(Notify::new());
        let first = tokio::time::timeout(FIRST_CONNECT, listener::connect(&node))
            .await
            .ok()
            .and_then(Result::ok);
        node.link.set_listening(first.is_some());
        let tasks = vec![
            tokio::spawn(signal::send_after_commit(node.clone(), queue)),
            tokio::spawn(listener::listen(node.clone(), Arc::clone(&heal_now), first)),
            tokio::spawn(heal::every_tick(node.clone(), heal_now)),
            tokio::spawn(prune::every_tick(node.clone())),
        ];
        Self {
            node,
            announce: Some(announce),
            tasks,
        }
    }

    pub fn enabled(&self) -> bool {
        self.node.config.enabled
    }

    /// Stops hearing, checking and pruning (what is queued to announce is dropped: the other
    /// nodes' periodic checks cover it).
    pub fn stop(&self) {
        self.tasks.iter().for_each(JoinHandle::abort);
    }

    /// Whether writes append their changes to the change log (they do it in the statement
    /// that bumps each row).
    pub fn change_log(&self) -> ChangeLog {
        if self.enabled() {
            ChangeLog::Append
        } else {
            ChangeLog::Skip
        }
    }

    /// Whether the signal travels with the writer's commit (a NOTIFY in its transaction).
    pub fn signals_in_transaction(&self) -> bool {
        self.enabled() && self.node.config.signal == SignalMode::InTransaction
    }

    /// Inside the writing transaction, after the rows were bumped: the signal, when it travels
    /// with the commit.
    pub async fn stage(&self, conn: &mut AsyncPgConnection, published: &[Published]) -> Result<()> {
        if self.signals_in_transaction() {
            let announcements: Vec<Announcement> = signal::changed(published).collect();
            signal::notify(
                conn,
                &Signal::pack(&self.node.config.node_id, &announcements),
            )
            .await?;
        }
        Ok(())
    }

    /// After commit: tell the other nodes what changed.
    pub fn announce_changed(&self, published: &[Published]) {
        if self.node.config.signal == SignalMode::AfterCommit {
            signal::changed(published).for_each(|a| self.send(a));
        }
    }

    /// After commit: `user` (everyone, when `None`: the team is gone) may no longer read the
    /// team, on this node and on the others.
    /// After commit: a session or an account ended; the other nodes refuse its tokens too.
    pub fn end(&self, ending: Ending) {
        self.node.endings.end(ending);
        self.send(Announcement::Ended(ending));
    }

    pub fn revoke(&self, team: TeamId, user: Option<UserId>) {
        heal::revoke(&self.node, team, user);
        self.send(Announcement::Revoked(team, user));
    }

    /// What the outbox's worker tells the other nodes with.
    pub fn announcer(&self) -> Announcer {
        Announcer(self.announce.clone())
    }

    fn send(&self, announcement: Announcement) {
        if let Some(announce) = &self.announce {
            // Only fails once the sender task is gone, at shutdown.
            let _ = announce.send(announcement);
        }
    }

    /// The logged changes of `scope` after `since` up to `upto`, for a resuming subscriber (at
    /// most the replay limit; empty when the cluster is off or the database does not answer).
    pub async fn history(&self, scope: Scope, since: i64, upto: i64) -> Vec<Published> {
        if !self.enabled() {
            return Vec::new();
        }
        let wanted = [Wanted {
            scope,
            after: since,
            upto,
        }];
        let read = async {
            let mut conn = self.node.pool.get().await?;
            self.node.slots.metrics.cluster.resume_log_read();
            change_log::read(&mut conn, &wanted, self.node.config.replay_limit).await
        };
        read.await.unwrap_or_else(|err| {
            tracing::debug!(error = %err, ?scope, "cannot read the change log to resume: a snapshot instead");
            Vec::new()
        })
    }

    /// Brings this node's aggregate of `scope` up to at least `version` (from the log, else
    /// from its row) before anything else is asked of it.
    pub async fn catch_up(&self, scope: Scope, version: i64) {
        if !self.enabled() {
            return;
        }
        if let Err(err) = heal::catch_up(&self.node, [(scope, version)]).await {
            tracing::debug!(error = %err, ?scope, "cannot catch up before a resume");
        }
    }

    pub fn link(&self) -> ClusterLink {
        let link = &self.node.link;
        let lag = link.last_lag_micros.load(Ordering::Relaxed);
        ClusterLink {
            node_id: self.node.config.node_id.clone(),
            enabled: self.enabled(),
            listening: link.listening.load(Ordering::Relaxed),
            last_lag: (lag > 0).then(|| Duration::from_micros(lag)),
        }
    }
}

impl Link {
    fn set_listening(&self, listening: bool) {
        self.listening.store(listening, Ordering::Relaxed);
    }

    fn heard(&self, lag: Duration) {
        let micros = u64::try_from(lag.as_micros()).unwrap_or(u64::MAX).max(1);
        self.last_lag_micros.store(micros, Ordering::Relaxed);
    }
}
