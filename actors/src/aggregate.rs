//! The aggregate actor: one per live user and per live team. Holds the state at an exact
//! version, applies only the next version (reordering briefly, re-reading its row when a gap
//! is not filled), publishes each new snapshot, keeps a short history for resume and fans
//! every change out to its subscribers without ever waiting for them. Versions out of order:
//! `gaps.rs`; resume: `resume.rs`; the history followed for trends: `history.rs`.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use chrono::Utc;
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

use crate::config::EngineConfig;
use crate::published::{Published, Snapshot};
use crate::slots::{Slot, Slots};
use crate::stats::Aggregate;
use crate::stats::Delta;
use crate::store::Pool;
use crate::store::hydrate::{Hydrated, WithHistory, hydrate};
use crate::subscription::Subscriber;

mod gaps;
mod history;
mod resume;

use gaps::BEHIND_A_LOCAL_COMMIT;

/// The aggregate actor's behaviour.
pub(crate) struct AggregateActor;

/// What an aggregate actor starts with.
pub(crate) struct AggregateArguments {
    pub slot: Arc<Slot>,
    pub slots: Arc<Slots>,
    pub pool: Pool,
    pub config: Arc<EngineConfig>,
}

pub(crate) use crate::bus::Applied;

/// Messages to an aggregate actor.
pub(crate) enum AggregateMsg {
    /// A committed delta.
    Apply(Published, Option<Applied>),
    /// The current snapshot.
    Read(RpcReplyPort<Arc<Snapshot>>),
    /// A new subscriber: replay the deltas after `since` if all are still held (in memory,
    /// or in `log`, read from the change log), else send a snapshot; then every change.
    Attach {
        subscriber: Arc<Subscriber>,
        since: Option<i64>,
        log: Vec<Published>,
    },
    /// Another node committed up to this version and the change log cannot say how: re-read
    /// the row unless already there.
    Reload(i64),
    /// Someone reads the scope's trends: load its history unless held; answer the snapshot.
    FollowHistory(RpcReplyPort<Arc<Snapshot>>),
    /// Nobody followed the history for a while: let it go unless a subscriber follows it.
    ForgetHistory,
    /// A gap in versions was not filled in time.
    GapTimeout,
    /// Crash on purpose, to exercise supervision in tests.
    #[cfg(feature = "testing")]
    Panic,
}

/// The aggregate actor's state.
pub(crate) struct AggregateState {
    args: AggregateArguments,
    current: Option<Arc<Snapshot>>,
    /// Deltas that arrived ahead of their turn, by version.
    waiting: BTreeMap<i64, (Published, Vec<Applied>)>,
    gap_timer_armed: bool,
    /// The version from which the missing deltas were last asked of the change log.
    gap_asked_from: Option<i64>,
    /// The latest changes, oldest first, for resume.
    history: VecDeque<(Arc<Delta>, Arc<Snapshot>)>,
}

impl Actor for AggregateActor {
    type Msg = AggregateMsg;
    type State = AggregateState;
    type Arguments = AggregateArguments;

    async fn pre_start(
        &self,
        _: ActorRef<Self::Msg>,
        args: AggregateArguments,
    ) -> Result<AggregateState, ActorProcessingErr> {
        Ok(AggregateState {
            args,
            current: None,
            waiting: BTreeMap::new(),
            gap_timer_armed: false,
            gap_asked_from: None,
            history: VecDeque::new(),
        })
    }

    /// Hydrates after start-up so the supervisor never waits on the database; messages that
    /// arrive meanwhile queue in the mailbox. The database future is boxed so that an idle
    /// actor's task does not keep room for it (memory per idle aggregate).
    async fn post_start(
        &self,
        _: ActorRef<Self::Msg>,
        state: &mut AggregateState,
    ) -> Result<(), ActorProcessingErr> {
        Box::pin(state.rehydrate()).await
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        message: AggregateMsg,
        state: &mut AggregateState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            AggregateMsg::Apply(published, applied) => {
                let wait = match applied {
                    Some(_) => BEHIND_A_LOCAL_COMMIT,
                    None => state.args.config.gap_timeout,
                };
                state.receive(published, applied);
                state.arm_gap_timer(&myself, wait);
            }
            AggregateMsg::Read(reply) => {
                if let Some(current) = &state.current {
                    let _ = reply.send(Arc::clone(current));
                }
            }
            AggregateMsg::Attach {
                subscriber,
                since,
                log,
            } => {
                // Without its history (the database failed), the subscriber is told by its
                // first snapshot, and may subscribe again; the actor carries on.
                if subscriber.follows_history
                    && let Err(err) = Box::pin(state.follow_history()).await
                {
                    tracing::warn!(error = %err, "could not load an aggregate's history");
                }
                state.attach(subscriber, since, &log);
            }
            AggregateMsg::FollowHistory(reply) => match Box::pin(state.follow_history()).await {
                Ok(()) => {
                    if let Some(current) = &state.current {
                        let _ = reply.send(Arc::clone(current));
                    }
                }
                // Dropping the reply tells the reader.
                Err(err) => tracing::warn!(error = %err, "could not load an aggregate's history"),
            },
            AggregateMsg::ForgetHistory => state.forget_history(),
            AggregateMsg::Reload(version) => {
                if state.version() < version {
                    Box::pin(state.rehydrate()).await?;
                }
            }
            AggregateMsg::GapTimeout => {
                state.gap_timer_armed = false;
                if state.has_gap() {
                    state.close_gap(&myself).await?;
                }
                state.arm_gap_timer(&myself, state.args.config.gap_timeout);
            }
            #[cfg(feature = "testing")]
            AggregateMsg::Panic => panic!("aggregate actor crashed on purpose"),
        }
        Ok(())
    }
}

impl AggregateState {
    fn version(&self) -> i64 {
        self.current.as_ref().map_or(i64::MIN, |c| c.version)
    }

    /// Takes a delta in; applies it and whatever it unblocks, in version order.
    fn receive(&mut self, published: Published, applied: Option<Applied>) {
        let version = self.version();
        if published.version <= version {
            // Already reflected (a duplicate, or covered by hydration).
            drop(applied);
            return;
        }
        if published.version == version + 1 && self.waiting.is_empty() {
            // The usual case: in order, nothing waiting.
            self.apply_next(&published);
            drop(applied);
            return;
        }
        let version = published.version;
        let entry = self
            .waiting
            .entry(version)
            .or_insert_with(|| (published, Vec::new()));
        entry.1.extend(applied);
        self.drain();
    }

    /// Applies the waiting deltas that are next in line.
    fn drain(&mut self) {
        while let Some((published, applied)) = self.waiting.remove(&(self.version() + 1)) {
            self.apply_next(&published);
            drop(applied);
        }
    }

    /// Applies the delta of version `current + 1`: publish the new snapshot first, then tell
    /// the subscribers.
    fn apply_next(&mut self, published: &Published) {
        let Some(current) = &self.current else {
            return;
        };
        let mut aggregate = current.aggregate.clone();
        aggregate.apply(&published.delta, Utc::now().date_naive());
        let next = Arc::new(Snapshot {
            scope: current.scope,
            version: published.version,
            as_of: published.as_of,
            aggregate,
        });
        self.args.slot.publish(Arc::clone(&next));
        self.args.slot.for_each_subscriber(|subscriber| {
            subscriber.push_delta(Arc::clone(&published.delta), Arc::clone(&next))
        });
        self.remember(Arc::clone(&published.delta), Arc::clone(&next));
        self.args.slots.metrics.delta_applied();
        self.current = Some(next);
        self.args.slot.set_replay_floor(self.replay_floor());
    }

    /// Reads the row at an exact version (with the history when it is followed) and starts
    /// over from it.
    async fn rehydrate(&mut self) -> Result<(), ActorProcessingErr> {
        let scope = self.args.slot.scope;
        let with_history = match self.has_history() {
            true => WithHistory::Yes,
            false => WithHistory::No,
        };
        let mut conn = self.args.pool.get().await?;
        let today = Utc::now().date_naive();
        let hydrated = hydrate(&mut conn, scope, today, with_history).await?;
        drop(conn);
        self.install(hydrated, with_history);
        Ok(())
    }

    /// Starts over from a state read from the rows.
    fn install(&mut self, hydrated: Option<Hydrated>, with_history: WithHistory) {
        let scope = self.args.slot.scope;
        let snapshot = Arc::new(match hydrated {
            Some(h) => Snapshot {
                scope,
                version: h.version,
                as_of: h.as_of,
                aggregate: h.aggregate,
            },
            // No row yet: the first change creates it at version 1.
            None => Snapshot {
                scope,
                version: 0,
                as_of: Utc::now(),
                aggregate: match with_history {
                    WithHistory::Yes => Aggregate::with_history(),
                    WithHistory::No => Aggregate::default(),
                },
            },
        });
        let had_state = self.current.is_some();
        let version = snapshot.version;
        let stale: Vec<i64> = self.waiting.range(..=version).map(|(v, _)| *v).collect();
        for v in stale {
            // Dropping the acknowledgements tells the writers: the row read covers them.
            self.waiting.remove(&v);
        }
        // Changes before this version can no longer be replayed in order.
        self.history.clear();
        self.args.slot.publish(Arc::clone(&snapshot));
        self.current = Some(snapshot);
        self.args.slot.set_replay_floor(self.replay_floor());
        if had_state || self.args.slot.has_subscribers() {
            self.args.slot.for_each_subscriber(Subscriber::resync);
        }
        self.args.slot.touch(self.args.slots.now_ms());
        self.drain();
    }
}
