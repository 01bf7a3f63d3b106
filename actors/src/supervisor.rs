//! The supervisor: owns the map from scope to aggregate actor. Spawns an actor on first use,
//! stops idle ones so memory follows the working set, and restarts a crashed one, which
//! re-reads its row; its subscribers then get a fresh snapshot.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ractor::{
    Actor, ActorCell, ActorId, ActorProcessingErr, ActorRef, RpcReplyPort, SupervisionEvent,
};

use crate::aggregate::{AggregateActor, AggregateArguments, AggregateMsg};
use crate::config::EngineConfig;
use crate::published::Published;
use crate::slots::{Slot, Slots};
use crate::stats::Scope;
use crate::store::Pool;
use crate::subscription::Subscriber;

/// A crash within this long of the previous one waits this long before the restart, so a
/// database outage does not become a restart loop.
const RESTART_BACKOFF: Duration = Duration::from_secs(1);

/// The supervisor's behaviour.
pub(crate) struct SupervisorActor;

/// What the supervisor starts with.
pub(crate) struct SupervisorArguments {
    pub slots: Arc<Slots>,
    pub pool: Pool,
    pub config: Arc<EngineConfig>,
}

/// Messages to the supervisor.
pub(crate) enum SupervisorMsg {
    /// The scope's actor, spawned (and hydrating) if it was not live.
    Warm(Scope, RpcReplyPort<ActorRef<AggregateMsg>>),
    /// Attach a subscriber to the scope's actor, spawning it if needed; answers the slot.
    Subscribe {
        scope: Scope,
        subscriber: Arc<Subscriber>,
        since: Option<i64>,
        /// Logged changes after `since`, when memory might not reach back that far.
        log: Vec<Published>,
        reply: RpcReplyPort<Arc<Slot>>,
    },
    /// The scope is gone (a deleted team): revoke its subscribers and stop its actor.
    Retire(Scope),
    /// Stop the actors nobody used for a while.
    Sweep,
    /// Answers how many aggregates are live (a liveness probe).
    Ping(RpcReplyPort<usize>),
    /// Stop this scope's actor now unless it has subscribers.
    Passivate(Scope, RpcReplyPort<()>),
    /// Restart a crashed scope's actor (after a back-off).
    Restart(Scope),
}

/// The supervisor's state.
pub(crate) struct SupervisorState {
    args: SupervisorArguments,
    scopes: HashMap<ActorId, Scope>,
    last_crash: HashMap<Scope, Instant>,
}

impl Actor for SupervisorActor {
    type Msg = SupervisorMsg;
    type State = SupervisorState;
    type Arguments = SupervisorArguments;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        args: SupervisorArguments,
    ) -> Result<SupervisorState, ActorProcessingErr> {
        let sweep_every = (args.config.idle_after / 4).max(Duration::from_millis(50));
        myself.send_interval(sweep_every, || SupervisorMsg::Sweep);
        Ok(SupervisorState {
            args,
            scopes: HashMap::new(),
            last_crash: HashMap::new(),
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        message: SupervisorMsg,
        state: &mut SupervisorState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            SupervisorMsg::Warm(scope, reply) => {
                let actor = state.ensure(&myself, scope).await?;
                let _ = reply.send(actor);
            }
            SupervisorMsg::Subscribe {
                scope,
                subscriber,
                since,
                log,
                reply,
            } => {
                let actor = state.ensure(&myself, scope).await?;
                let _ = actor.cast(AggregateMsg::Attach {
                    subscriber,
                    since,
                    log,
                });
                if let Some(slot) = state.args.slots.slot(&scope) {
                    let _ = reply.send(slot);
                }
            }
            SupervisorMsg::Retire(scope) => {
                if let Some((_, slot)) = state.args.slots.by_scope.remove(&scope) {
                    slot.revoke(None);
                    if let Some(actor) = slot.actor() {
                        state.scopes.remove(&actor.get_id());
                        actor.stop(Some("retired".to_owned()));
                    }
                }
            }
            SupervisorMsg::Sweep => state.passivate_idle(),
            SupervisorMsg::Ping(reply) => {
                let _ = reply.send(state.args.slots.by_scope.len());
            }
            SupervisorMsg::Passivate(scope, reply) => {
                let quiet = state
                    .args
                    .slots
                    .slot(&scope)
                    .is_some_and(|slot| !slot.has_subscribers());
                if quiet {
                    state.stop(scope);
                }
                let _ = reply.send(());
            }
            SupervisorMsg::Restart(scope) => {
                if let Some(slot) = state.args.slots.slot(&scope)
                    && slot.actor().is_none()
                {
                    state.spawn(&myself, slot).await?;
                }
            }
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<Self::Msg>,
        event: SupervisionEvent,
        state: &mut SupervisorState,
    ) -> Result<(), ActorProcessingErr> {
        match event {
            SupervisionEvent::ActorFailed(cell, err) => {
                let Some(scope) = state.scopes.remove(&cell.get_id()) else {
                    return Ok(());
                };
                tracing::warn!(?scope, error = %err, "aggregate actor failed: restarting it from the database");
                let Some(slot) = state.args.slots.slot(&scope) else {
                    return Ok(());
                };
                slot.set_actor(None);
                let now = Instant::now();
                let recent = state
                    .last_crash
                    .insert(scope, now)
                    .is_some_and(|t| now - t < RESTART_BACKOFF);
                if recent {
                    myself.send_after(RESTART_BACKOFF, move || SupervisorMsg::Restart(scope));
                } else {
                    state.spawn(&myself, slot).await?;
                }
            }
            SupervisionEvent::ActorTerminated(cell, _, _) => {
                state.scopes.remove(&cell.get_id());
            }
            _ => {}
        }
        Ok(())
    }
}

impl SupervisorState {
    /// The scope's live actor, spawning one when there is none.
    async fn ensure(
        &mut self,
        myself: &ActorRef<SupervisorMsg>,
        scope: Scope,
    ) -> Result<ActorRef<AggregateMsg>, ActorProcessingErr> {
        let slots = &self.args.slots;
        let slot = match slots.slot(&scope) {
            Some(slot) => slot,
            None => {
                let slot = Arc::new(Slot::new(scope, slots.now_ms()));
                slots.by_scope.insert(scope, Arc::clone(&slot));
                slot
            }
        };
        slot.touch(slots.now_ms());
        match slot.actor() {
            Some(actor) => Ok(actor),
            None => self.spawn(myself, slot).await,
        }
    }

    async fn spawn(
        &mut self,
        myself: &ActorRef<SupervisorMsg>,
        slot: Arc<Slot>,
    ) -> Result<ActorRef<AggregateMsg>, ActorProcessingErr> {
        let args = AggregateArguments {
            slot: Arc::clone(&slot),
            slots: Arc::clone(&self.args.slots),
            pool: self.args.pool.clone(),
            config: Arc::clone(&self.args.config),
        };
        let cell: ActorCell = myself.get_cell();
        let (actor, _) = Actor::spawn_linked(None, AggregateActor, args, cell).await?;
        self.scopes.insert(actor.get_id(), slot.scope);
        slot.set_actor(Some(actor.clone()));
        Ok(actor)
    }

    fn passivate_idle(&mut self) {
        let slots = &self.args.slots;
        let now = slots.now_ms();
        let idle_ms = u64::try_from(self.args.config.idle_after.as_millis()).unwrap_or(u64::MAX);
        let idle: Vec<Scope> = slots
            .by_scope
            .iter()
            .filter(|entry| {
                entry.value().idle_for_ms(now) >= idle_ms && !entry.value().has_subscribers()
            })
            .map(|entry| *entry.key())
            .collect();
        for scope in idle {
            self.stop(scope);
        }
        for entry in self.args.slots.by_scope.iter() {
            let slot = entry.value();
            if slot.history_idle(now, idle_ms)
                && !slot.has_history_followers()
                && let Some(actor) = slot.actor()
            {
                let _ = actor.cast(AggregateMsg::ForgetHistory);
            }
        }
    }

    fn stop(&mut self, scope: Scope) {
        if let Some((_, slot)) = self.args.slots.by_scope.remove(&scope)
            && let Some(actor) = slot.actor()
        {
            self.scopes.remove(&actor.get_id());
            actor.stop(Some("idle".to_owned()));
        }
    }
}
