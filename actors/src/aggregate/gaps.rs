//! Versions that arrive out of order: a gap waits briefly for the versions before it, is
//! then asked of the change log, and as a last resort the row is re-read.

use std::time::Duration;

use ractor::{ActorProcessingErr, ActorRef};

use super::{AggregateMsg, AggregateState};
use crate::store::change_log::{self, Wanted};

/// How long a gap behind a commit of this node's waits before the change log is read. Such a
/// gap is another node's commit that this node has not heard of yet, and it is in the log
/// already: the aggregate row's lock orders the writers, so the earlier version committed
/// before this one could take its number. Reading it at once rather than after the signal's
/// `gap_timeout` matters because the local write answers only once applied (read-your-writes);
/// the moment's wait lets local commits that merely crossed on their way here close their own
/// gap without a query.
pub(super) const BEHIND_A_LOCAL_COMMIT: Duration = Duration::from_millis(2);

impl AggregateState {
    pub(super) fn has_gap(&self) -> bool {
        self.waiting
            .keys()
            .next()
            .is_some_and(|v| *v > self.version() + 1)
    }

    /// Asks for the missing versions after `wait` if a gap is open and no timer is armed.
    pub(super) fn arm_gap_timer(&mut self, myself: &ActorRef<AggregateMsg>, wait: Duration) {
        if self.has_gap() && !self.gap_timer_armed {
            self.gap_timer_armed = true;
            myself.send_after(wait, || AggregateMsg::GapTimeout);
        }
    }

    /// A gap was not filled in time (its delta's signal was lost, or is late). First the
    /// missing deltas are read from the change log, off the actor (it keeps serving), so that
    /// subscribers still get deltas; if that does not close the gap by the next timeout either,
    /// the row is re-read and subscribers get a snapshot.
    pub(super) async fn close_gap(
        &mut self,
        myself: &ActorRef<AggregateMsg>,
    ) -> Result<(), ActorProcessingErr> {
        let version = self.version();
        let logged = self.args.config.cluster.enabled;
        if !logged || self.gap_asked_from == Some(version) {
            tracing::debug!(scope = ?self.args.slot.scope, "version gap not filled in time: re-reading the row");
            return Box::pin(self.rehydrate()).await;
        }
        self.gap_asked_from = Some(version);
        let first_waiting = self.waiting.keys().next().copied().unwrap_or(version + 1);
        let wanted = [Wanted {
            scope: self.args.slot.scope,
            after: version,
            upto: first_waiting - 1,
        }];
        let (pool, myself) = (self.args.pool.clone(), myself.clone());
        tokio::spawn(async move {
            let read = async {
                let mut conn = pool.get().await?;
                change_log::read(&mut conn, &wanted, first_waiting - version).await
            };
            // What the log cannot give, the next timeout re-reads from the row.
            for change in read.await.unwrap_or_default() {
                let _ = myself.cast(AggregateMsg::Apply(change, None));
            }
        });
        Ok(())
    }
}
