//! Reading a scope and attaching subscribers to it: the current snapshot (warm scopes answer
//! without a round trip), and a subscription that resumes from memory, or from the change log
//! when memory no longer holds what the client lacks.

use std::sync::Arc;
use std::time::Instant;

use ractor::ActorRef;
use ractor::rpc::CallResult;

use super::Engine;
use crate::aggregate::AggregateMsg;
use crate::error::{Error, Result};
use crate::model::UserId;
use crate::published::{Published, Snapshot};
use crate::stats::Scope;
use crate::subscription::{Subscriber, Subscription};
use crate::supervisor::SupervisorMsg;

impl Engine {
    /// The current snapshot of a scope, without a permission check (for embedders and
    /// operations; request handlers go through the `*_for` reads). Warm scopes answer without
    /// any round trip.
    pub async fn snapshot(&self, scope: Scope) -> Result<Arc<Snapshot>> {
        let slots = &self.inner.slots;
        if let Some(slot) = slots.slot(&scope) {
            slot.touch(slots.now_ms());
            if let Some(snapshot) = slot.current() {
                return Ok(snapshot);
            }
        }
        let timeout = self.inner.config.call_timeout;
        for _ in 0..3 {
            let actor = self.warm(scope).await?;
            // An actor that stops between the two calls (passivation) is simply asked again.
            if let Ok(CallResult::Success(snapshot)) =
                actor.call(AggregateMsg::Read, Some(timeout)).await
            {
                return Ok(snapshot);
            }
        }
        Err(Error::EngineUnavailable(format!(
            "the aggregate {scope:?} did not answer"
        )))
    }

    pub(super) async fn warm(&self, scope: Scope) -> Result<ActorRef<AggregateMsg>> {
        self.ask(|reply| SupervisorMsg::Warm(scope, reply)).await
    }

    /// Subscribes to a scope without a permission check (see [`Engine::subscribe`]).
    pub async fn subscribe_unchecked(
        &self,
        subscriber: UserId,
        scope: Scope,
        since_version: Option<i64>,
    ) -> Result<Subscription> {
        let allowed_at = Instant::now();
        self.attach(subscriber, scope, since_version, false, allowed_at)
            .await
    }

    /// Attaches a subscriber (one that follows the scope's history, if `follows_history`)
    /// whose read was allowed by evidence from `allowed_at`.
    pub(super) async fn attach(
        &self,
        subscriber: UserId,
        scope: Scope,
        since_version: Option<i64>,
        follows_history: bool,
        allowed_at: Instant,
    ) -> Result<Subscription> {
        let attached = Arc::new(Subscriber::new(
            subscriber,
            follows_history,
            allowed_at,
            self.inner.config.subscriber_queue,
            Arc::clone(&self.inner.slots.metrics.collapsed),
        ));
        let attach = Arc::clone(&attached);
        let log = match since_version {
            Some(since) if !self.replays_from_memory(scope, since) => {
                self.history_for_resume(scope, since).await
            }
            _ => Vec::new(),
        };
        let slot = self
            .ask(move |reply| SupervisorMsg::Subscribe {
                scope,
                subscriber: attach,
                since: since_version,
                log,
                reply,
            })
            .await?;
        Ok(Subscription::new(attached, slot, since_version))
    }

    /// The logged changes a subscriber resuming after `since` needs from the log: those up to
    /// the version the aggregate holds once warm (what comes later, it holds itself). A client
    /// that saw more than this node has heard of (it was on a node that has since died, say)
    /// first has the aggregate caught up, so that it is never answered with an older state.
    ///
    /// Asked once for everyone resuming `scope` from `since` meanwhile (the sessions of one
    /// user that come back together); the aggregate then keeps what was read, so that later
    /// resumes replay from memory.
    async fn history_for_resume(&self, scope: Scope, since: i64) -> Vec<Published> {
        let engine = self.clone();
        let work = move || async move { engine.read_history_for_resume(scope, since).await };
        let read = self.inner.resume_reads.ask((scope, since), work).await;
        read.unwrap_or_default()
    }

    async fn read_history_for_resume(&self, scope: Scope, since: i64) -> Vec<Published> {
        let Ok(held) = self.snapshot(scope).await else {
            return Vec::new();
        };
        if since > held.version {
            self.inner.cluster.catch_up(scope, since).await;
            return Vec::new();
        }
        self.inner.cluster.history(scope, since, held.version).await
    }

    fn replays_from_memory(&self, scope: Scope, since: i64) -> bool {
        (self.inner.slots.slot(&scope)).is_some_and(|slot| slot.replays_from_memory(since))
    }
}
