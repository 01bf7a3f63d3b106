//! Resume: a subscriber that names the version it holds gets the changes after it, from the
//! actor's short memory or from logged deltas, else a snapshot.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::AggregateState;
use crate::published::{Published, Snapshot};
use crate::stats::Delta;
use crate::subscription::Subscriber;

impl AggregateState {
    pub(super) fn remember(&mut self, delta: Arc<Delta>, snapshot: Arc<Snapshot>) {
        if self.args.config.history_len == 0 {
            return;
        }
        if self.history.len() >= self.args.config.history_len {
            self.history.pop_front();
        }
        self.history.push_back((delta, snapshot));
    }

    pub(super) fn attach(
        &mut self,
        subscriber: Arc<Subscriber>,
        since: Option<i64>,
        log: &[Published],
    ) {
        let Some(current) = self.current.clone() else {
            return;
        };
        match since.and_then(|since| self.replay_after(&current, since, log)) {
            Some(replay) => {
                for (delta, snapshot) in &replay {
                    subscriber.push_delta(Arc::clone(delta), Arc::clone(snapshot));
                }
                subscriber.push_resumed(current.version);
                self.keep_replayed(replay);
            }
            None => subscriber.push_snapshot(current),
        }
        self.args.slot.add_subscriber(subscriber);
    }

    /// The changes after `since` with the state after each, from memory when it reaches back
    /// that far, else from the logged deltas: walking back from the current state with their
    /// inverses rebuilds every state in between. `None` when neither covers the gap.
    pub(super) fn replay_after(
        &self,
        current: &Arc<Snapshot>,
        since: i64,
        log: &[Published],
    ) -> Option<Vec<(Arc<Delta>, Arc<Snapshot>)>> {
        if since > current.version || since < 0 {
            return None;
        }
        if since >= self.replay_floor() {
            let held = self.history.iter().filter(|(_, s)| s.version > since);
            return Some(held.map(|(d, s)| (Arc::clone(d), Arc::clone(s))).collect());
        }
        let mut chain: BTreeMap<i64, (Arc<Delta>, DateTime<Utc>)> = (log.iter())
            .filter(|p| p.version > since && p.version <= current.version)
            .map(|p| (p.version, (Arc::clone(&p.delta), p.as_of)))
            .collect();
        for (delta, snapshot) in &self.history {
            chain.insert(snapshot.version, (Arc::clone(delta), snapshot.as_of));
        }
        let complete = usize::try_from(current.version - since).ok() == Some(chain.len())
            && chain.keys().next() == Some(&(since + 1));
        if !complete {
            return None;
        }
        let today = Utc::now().date_naive();
        let mut aggregate = current.aggregate.clone();
        let mut replay = Vec::with_capacity(chain.len());
        for (version, (delta, as_of)) in chain.into_iter().rev() {
            let undo = delta.inverse();
            replay.push((
                delta,
                Arc::new(Snapshot {
                    scope: current.scope,
                    version,
                    as_of,
                    aggregate: aggregate.clone(),
                }),
            ));
            aggregate.apply(&undo, today);
        }
        replay.reverse();
        Some(replay)
    }

    /// Keeps a replay that reached back further than memory (it came from the change log)
    /// as the memory: the next subscriber resuming from about there — another session of the
    /// same user, say — replays without reading the log again.
    fn keep_replayed(&mut self, replay: Vec<(Arc<Delta>, Arc<Snapshot>)>) {
        let limit = self.args.config.history_len;
        let reaches_back = replay.len() > self.history.len();
        let ends_now = replay.last().map(|(_, s)| s.version) == Some(self.version());
        if limit == 0 || !reaches_back || !ends_now {
            return;
        }
        let skip = replay.len().saturating_sub(limit);
        self.history = replay.into_iter().skip(skip).collect();
        self.args.slot.set_replay_floor(self.replay_floor());
    }

    /// The oldest version after which memory alone can replay.
    pub(super) fn replay_floor(&self) -> i64 {
        match self.history.front() {
            Some((_, first)) => first.version - 1,
            None => self.version(),
        }
    }
}
