//! The history an aggregate holds while its trends are followed (docs/history.md): loaded in
//! the same snapshot as the row, let go when nobody follows it.

use std::sync::Arc;

use chrono::Utc;
use ractor::ActorProcessingErr;

use super::AggregateState;
use crate::published::Snapshot;
use crate::stats::Aggregate;
use crate::store::hydrate::{WithHistory, hydrate};

impl AggregateState {
    pub(super) fn has_history(&self) -> bool {
        (self.current.as_ref()).is_some_and(|c| c.aggregate.history.is_some())
    }

    /// Loads the scope's history, read in one snapshot with the row: when the row is at the
    /// version held, the history joins the state; when it is ahead (deltas on their way), the
    /// whole state is read again there.
    pub(super) async fn follow_history(&mut self) -> Result<(), ActorProcessingErr> {
        self.args.slot.touch_history(self.args.slots.now_ms());
        if self.has_history() {
            return Ok(());
        }
        let scope = self.args.slot.scope;
        let mut conn = self.args.pool.get().await?;
        let hydrated = hydrate(&mut conn, scope, Utc::now().date_naive(), WithHistory::Yes).await?;
        drop(conn);
        match (hydrated, &self.current) {
            (Some(hydrated), Some(current)) if hydrated.version == current.version => {
                let snapshot = Arc::new(Snapshot {
                    aggregate: Aggregate {
                        history: hydrated.aggregate.history,
                        ..current.aggregate.clone()
                    },
                    ..Snapshot::clone(current)
                });
                // Held states without the history cannot serve a trends subscriber's resume.
                self.history.clear();
                self.args.slot.publish(Arc::clone(&snapshot));
                self.current = Some(snapshot);
                self.args.slot.set_replay_floor(self.replay_floor());
            }
            (hydrated, _) => self.install(hydrated, WithHistory::Yes),
        }
        Ok(())
    }

    /// Lets the history go when no subscriber follows it (readers load it again).
    pub(super) fn forget_history(&mut self) {
        if !self.has_history() || self.args.slot.has_history_followers() {
            return;
        }
        let strip = |snapshot: &Arc<Snapshot>| {
            Arc::new(Snapshot {
                aggregate: snapshot.aggregate.without_history(),
                ..Snapshot::clone(snapshot)
            })
        };
        for (_, snapshot) in &mut self.history {
            *snapshot = strip(snapshot);
        }
        if let Some(current) = self.current.as_ref().map(strip) {
            self.args.slot.publish(Arc::clone(&current));
            self.current = Some(current);
        }
    }
}
