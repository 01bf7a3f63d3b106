//! The engine: one command per mutation, each one transaction (lock, check, write, deltas to
//! the versioned aggregate rows in a fixed order, audit, commit), then the deltas go to the
//! live aggregates and the call returns once they reflect it.

mod access;
mod account_deletion;
mod accounts;
mod attach;
mod audit;
mod check;
mod email_outbox;
mod ended_sessions;
mod export;
mod external_accounts;
mod feeds;
mod import;
mod import_rules;
mod known_accounts;
#[cfg(feature = "local-accounts")]
mod local_accounts;
mod notifications;
mod paging;
mod personal_tokens;
mod reads;
mod shares;
mod task_write;
mod tasks;
mod teams;
mod transaction;
mod trends;
mod user_settings;
mod validate;
mod webhook_outbox;
mod webhooks;
mod write_gates;

use std::sync::Arc;
use std::time::{Duration, Instant};

use ractor::rpc::CallResult;
use ractor::{Actor, ActorRef, RpcReplyPort};

pub use accounts::NewAccount;
pub use check::{CheckOptions, CheckReport};
pub use email_outbox::{DIGEST_LINES, EmailOutbox, Mail, MailContent};
pub use export::TaskExport;
pub use import::{IMPORT_MAX_ERRORS, IMPORT_MAX_TASKS, ImportLine, ImportedTask};
#[cfg(feature = "local-accounts")]
pub use local_accounts::{NewSessionToken, SignInAttempt, SignInCandidate, SignedIn};
pub use paging::Page;
pub use personal_tokens::{MAX_LIVE_TOKENS, NewPersonalToken, PersonalToken, TokenScopes};
pub use reads::{
    Activity, ActivityDay, Breakdown, MemberStat, SharedByMe, SharedOverview, SharedWithMe,
    Statistics,
};
pub use tasks::{NewTask, TaskPatch, TaskQuery, TaskScope};
pub use teams::TeamDetail;
pub use trends::{Trends, TrendsQuery, parse_interval, parse_tz, window_error};
pub use user_settings::{Account, DIGEST_HOUR, SettingsPatch, next_digest};
pub use webhook_outbox::{
    Attempt, GIVE_UP_AFTER, PendingEvent, Progress, WebhookBatch, WebhookOutbox, retry_delay,
};
pub use webhooks::{MAX_WEBHOOK_URL, MAX_WEBHOOKS, NewWebhook, Webhook, WebhookDelivery};

use crate::bus::deliver;
use crate::cluster::{Cluster, ClusterLink, Link, Node};
use crate::config::EngineConfig;
use crate::endings::Endings;
use crate::error::{Error, Result};
use crate::feed::{self, Feeds};
use crate::known_members::KnownMembers;
use crate::metrics::MetricsSnapshot;
use crate::model::{TeamId, UserId};
use crate::notify::{self, Inboxes, Notifier};
use crate::published::Published;
use crate::single_flight::{self, SingleFlight};
use crate::slots::Slots;
use crate::stats::Scope;
use crate::store::{Pool, PoolFigures, PooledConnection, connect_pool, pool_figures};
use crate::supervisor::{SupervisorActor, SupervisorArguments, SupervisorMsg};
use external_accounts::KnownExternalAccounts;
pub use external_accounts::{EXTERNAL_EMAIL_DOMAIN, ExternalIdentity};
use known_accounts::KnownAccounts;
use write_gates::WriteGates;

/// Names the user a command is about: by id or by email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserRef {
    /// By id.
    Id(UserId),
    /// By email (case-insensitive).
    Email(String),
}

/// The engine: cheap to clone; stops its actors when the last clone is dropped.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

/// A shared membership check's answer: when it was asked and found (`None`: not a member),
/// or why it could not be.
type MembershipAnswer = single_flight::Shared<Option<Instant>>;

struct Inner {
    pool: Pool,
    write_gates: WriteGates,
    exports: export::Exports,
    slots: Arc<Slots>,
    supervisor: ActorRef<SupervisorMsg>,
    cluster: Cluster,
    config: Arc<EngineConfig>,
    known_accounts: KnownAccounts,
    known_external_accounts: KnownExternalAccounts,
    /// Team memberships seen lately (read checks), shared with the cluster's revocations.
    members: Arc<KnownMembers>,
    /// Membership checks of subscriptions in flight, asked once for all who ask meanwhile.
    membership_asks: SingleFlight<(TeamId, UserId), MembershipAnswer>,
    /// Change-log reads of resuming subscribers in flight, likewise.
    resume_reads: SingleFlight<(Scope, i64), Vec<Published>>,
    endings: Arc<Endings>,
    personal_tokens: personal_tokens::TokenCache,
    feeds: Arc<Feeds>,
    tailer: tokio::task::JoinHandle<()>,
    notifier: Arc<Notifier>,
    in_app_worker: tokio::task::JoinHandle<()>,
    inboxes: Arc<Inboxes>,
    inbox_tailer: tokio::task::JoinHandle<()>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.tailer.abort();
        self.in_app_worker.abort();
        self.inbox_tailer.abort();
        self.supervisor.stop(Some("engine dropped".to_owned()));
    }
}

impl Engine {
    /// Starts an engine on the (migrated) database at `url`, in the schema the URL names
    /// (`taskpulse` when it names none: see [`crate::database::in_schema`]), with a pool of its own
    /// (`config.pool`; it connects lazily, so a database that is down now does not stop the
    /// start). With `config.cluster` enabled (the default) it joins whatever other engines
    /// share the database: their commits reach this one's aggregates and subscribers, and this
    /// one's reach theirs.
    pub async fn start(url: &str, config: EngineConfig) -> Result<Self> {
        let url = crate::database::with_default_schema(url)?;
        let pool = connect_pool(&url, &config.pool);
        let write_gates = WriteGates::new(config.pool.writes_per_aggregate as usize);
        let exports = export::Exports::new(config.pool.max_size);
        let slots = Arc::new(Slots::new());
        let config = Arc::new(config);
        let args = SupervisorArguments {
            slots: Arc::clone(&slots),
            pool: pool.clone(),
            config: Arc::clone(&config),
        };
        let (supervisor, _) = Actor::spawn(None, SupervisorActor, args)
            .await
            .map_err(|err| Error::EngineUnavailable(err.to_string()))?;
        let endings = Arc::new(Endings::new(config.session_memory));
        ended_sessions::endings_since_start(&pool, &endings, config.session_memory).await;
        let feeds = Feeds::new(pool.clone(), config.subscriber_queue);
        let members = Arc::new(KnownMembers::default());
        let tailer = tokio::spawn(feed::tail(Arc::clone(&feeds)));
        let inboxes = Inboxes::new(pool.clone(), config.subscriber_queue);
        let inbox_tailer = tokio::spawn(notify::tail_inboxes(Arc::clone(&inboxes)));
        let cluster = Cluster::start(Node {
            pool: pool.clone(),
            slots: Arc::clone(&slots),
            supervisor: supervisor.clone(),
            config: Arc::new(config.cluster.clone()),
            link: Arc::new(Link::default()),
            endings: Arc::clone(&endings),
            members: Arc::clone(&members),
            feeds: Arc::clone(&feeds),
            inboxes: Arc::clone(&inboxes),
        })
        .await;
        let notifier = Notifier::new(
            pool.clone(),
            config.notifications.clone(),
            Arc::clone(&inboxes),
            cluster.announcer(),
        );
        let in_app_worker = tokio::spawn(notify::work_in_app(Arc::clone(&notifier)));
        Ok(Self {
            inner: Arc::new(Inner {
                pool,
                write_gates,
                exports,
                slots,
                supervisor,
                cluster,
                config,
                known_accounts: KnownAccounts::default(),
                known_external_accounts: KnownExternalAccounts::default(),
                members,
                membership_asks: SingleFlight::default(),
                resume_reads: SingleFlight::default(),
                endings,
                personal_tokens: personal_tokens::TokenCache::default(),
                feeds,
                tailer,
                notifier,
                in_app_worker,
                inboxes,
                inbox_tailer,
            }),
        })
    }

    /// Stops every actor and waits for them; this node stops hearing the others.
    pub async fn shutdown(&self) {
        self.inner.tailer.abort();
        self.inner.in_app_worker.abort();
        self.inner.inbox_tailer.abort();
        self.inner.cluster.stop();
        self.inner
            .supervisor
            .stop_children_and_wait(None, Some(Duration::from_secs(5)))
            .await;
        let _ = self
            .inner
            .supervisor
            .stop_and_wait(None, Some(Duration::from_secs(5)))
            .await;
    }

    /// Whether the database answers a trivial query within `timeout`.
    pub async fn ping_database(&self, timeout: Duration) -> Result<()> {
        match tokio::time::timeout(timeout, async {
            let mut conn = self.conn().await?;
            crate::store::ping(&mut conn).await
        })
        .await
        {
            Ok(outcome) => outcome,
            Err(_) => Err(Error::DatabaseUnavailable(format!(
                "the database did not answer within {timeout:?}"
            ))),
        }
    }

    /// Asks the supervisor for a sign of life; answers how many aggregates are live.
    pub async fn ping(&self) -> Result<usize> {
        self.ask(SupervisorMsg::Ping).await
    }

    /// Asks the supervisor and waits for its answer, at most the configured call timeout: no
    /// answer in time, a dropped request or a supervisor that is gone is `EngineUnavailable`.
    async fn ask<T: Send + 'static>(
        &self,
        request: impl FnOnce(RpcReplyPort<T>) -> SupervisorMsg,
    ) -> Result<T> {
        let timeout = self.inner.config.call_timeout;
        match self.inner.supervisor.call(request, Some(timeout)).await {
            Ok(CallResult::Success(answer)) => Ok(answer),
            Ok(CallResult::Timeout) => Err(Error::EngineUnavailable(format!(
                "the supervisor did not answer within {timeout:?}"
            ))),
            Ok(CallResult::SenderError) => Err(Error::EngineUnavailable(
                "the supervisor dropped the request".to_owned(),
            )),
            Err(err) => Err(Error::EngineUnavailable(err.to_string())),
        }
    }

    /// The engine's figures: live aggregates, deltas applied, delivery latency, feeds, the
    /// outbox's work.
    pub fn metrics(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            feeds: self.inner.feeds.figures(),
            outbox: self.inner.notifier.counters.read(),
            ..self
                .inner
                .slots
                .metrics
                .read(self.inner.slots.by_scope.len())
        }
    }

    /// How the engine's database connections are used.
    pub fn pool_figures(&self) -> PoolFigures {
        pool_figures(&self.inner.pool)
    }

    /// How many aggregate actors are live.
    pub fn live_aggregates(&self) -> usize {
        self.inner.slots.by_scope.len()
    }

    /// How this node hears the others (for health).
    pub fn cluster_link(&self) -> ClusterLink {
        self.inner.cluster.link()
    }

    /// Crashes the scope's actor on purpose (tests of supervision).
    #[cfg(feature = "testing")]
    #[doc(hidden)]
    pub async fn crash_aggregate(&self, scope: Scope) -> Result<()> {
        let actor = self.warm(scope).await?;
        actor
            .cast(crate::aggregate::AggregateMsg::Panic)
            .map_err(|err| Error::EngineUnavailable(err.to_string()))
    }

    async fn conn(&self) -> Result<PooledConnection<'_>> {
        Ok(self.inner.pool.get().await?)
    }

    /// Hands deltas to this node's live aggregates and waits until they reflect them; only
    /// this node hears of them.
    async fn deliver_here(&self, batch: Vec<Published>) {
        deliver(&self.inner.slots, batch, self.inner.config.applied_timeout).await;
    }

    /// Hands deltas to this node's live aggregates as a commit does, and waits until they
    /// reflect them: tests and benchmarks feed synthetic deltas through it.
    #[cfg(feature = "testing")]
    #[doc(hidden)]
    pub async fn deliver(&self, batch: Vec<Published>) {
        self.deliver_here(batch).await;
    }

    /// After commit: `user` (everyone, when `None`: the team is gone) may no longer read the
    /// team, on this node and on the others.
    fn revoke(&self, team: TeamId, user: Option<UserId>) {
        self.inner.cluster.revoke(team, user);
    }

    /// Stops the scope's actor now if nobody subscribes to it (as idleness would); the next
    /// use re-reads it from its rows. A supervisor that does not answer in time is an error:
    /// the actor may still be live.
    pub async fn passivate(&self, scope: Scope) -> Result<()> {
        self.ask(|reply| SupervisorMsg::Passivate(scope, reply))
            .await
    }
}
