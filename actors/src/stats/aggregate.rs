//! An aggregate's state and how a delta changes it: what the live actors hold and readers see.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use super::history::History;
use super::{Counts, DayCounts, Delta, MemberCounts, Scope, TaskFacts, task_deltas};
use crate::model::{TaskId, UserId};

/// An aggregate's state: what the dashboard reads. Parts are shared (`Arc`) so that each
/// published snapshot costs only what changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Aggregate {
    /// The counters.
    pub counts: Counts,
    /// Due dates of open tasks, sorted, for counting overdue ones against the clock.
    pub open_due: Arc<Vec<(DateTime<Utc>, TaskId)>>,
    /// Activity by day, sorted, for the recent window only.
    pub days: Arc<Vec<(NaiveDate, DayCounts)>>,
    /// Team tasks by owner (team scopes only), owners with no tasks left dropped.
    pub members: Arc<BTreeMap<UserId, MemberCounts>>,
    /// When each task was created, started and completed: loaded only while someone follows
    /// the scope's trends (an idle aggregate stays small), then kept by the deltas.
    pub history: Option<Arc<History>>,
}

/// How many days of activity an aggregate keeps (reads ask for at most 90).
pub const ACTIVITY_WINDOW_DAYS: i64 = 100;

impl Aggregate {
    /// Applies one delta. `today` bounds the activity window.
    pub fn apply(&mut self, delta: &Delta, today: NaiveDate) {
        self.counts += delta.counts;
        if !delta.due.is_empty() {
            let due = Arc::make_mut(&mut self.open_due);
            for change in &delta.due {
                if let Some(before) = change.before
                    && let Ok(at) = due.binary_search(&(before, change.task))
                {
                    due.remove(at);
                }
                if let Some(after) = change.after {
                    let entry = (after, change.task);
                    if let Err(at) = due.binary_search(&entry) {
                        due.insert(at, entry);
                    }
                }
            }
        }
        if !delta.days.is_empty() {
            let oldest = today - chrono::Duration::days(ACTIVITY_WINDOW_DAYS);
            let days = Arc::make_mut(&mut self.days);
            for (day, change) in delta.days.iter().filter(|(day, _)| **day >= oldest) {
                match days.binary_search_by_key(day, |(d, _)| *d) {
                    Ok(at) => {
                        days[at].1.created += change.created;
                        days[at].1.completed += change.completed;
                    }
                    Err(at) => days.insert(at, (*day, *change)),
                }
            }
            days.retain(|(day, c)| *day >= oldest && *c != DayCounts::default());
        }
        if let Some(history) = self.history.as_mut().filter(|_| !delta.history.is_empty()) {
            let history = Arc::make_mut(history);
            delta
                .history
                .iter()
                .for_each(|change| history.apply(change));
        }
        if !delta.members.is_empty() {
            let members = Arc::make_mut(&mut self.members);
            for (user, change) in &delta.members {
                let entry = members.entry(*user).or_default();
                entry.total += change.total;
                entry.completed += change.completed;
                if *entry == MemberCounts::default() {
                    members.remove(user);
                }
            }
        }
    }

    /// The same state without its history (nobody follows it any more).
    pub fn without_history(&self) -> Aggregate {
        Aggregate {
            history: None,
            ..self.clone()
        }
    }

    /// Open tasks due before `now`.
    pub fn overdue(&self, now: DateTime<Utc>) -> i64 {
        self.open_due.partition_point(|(due, _)| *due < now) as i64
    }

    /// Activity for the `days` days ending `today`, oldest first, zeros included.
    pub fn activity(&self, today: NaiveDate, days: u32) -> Vec<(NaiveDate, DayCounts)> {
        (0..i64::from(days))
            .rev()
            .map(|back| {
                let day = today - chrono::Duration::days(back);
                let counts = self
                    .days
                    .binary_search_by_key(&day, |(d, _)| *d)
                    .map(|at| self.days[at].1)
                    .unwrap_or_default();
                (day, counts)
            })
            .collect()
    }

    /// An empty aggregate that keeps its history.
    pub fn with_history() -> Aggregate {
        Aggregate {
            history: Some(Arc::default()),
            ..Aggregate::default()
        }
    }

    /// The aggregate of `scope` recounted from scratch over `tasks`, history included.
    pub fn recount<'a>(
        scope: Scope,
        tasks: impl IntoIterator<Item = &'a TaskFacts>,
        today: NaiveDate,
    ) -> Aggregate {
        let mut aggregate = Aggregate::default();
        let mut milestones = Vec::new();
        for task in tasks {
            if let Some(delta) = task_deltas(None, Some(task)).remove(&scope) {
                aggregate.apply(&delta, today);
                milestones.extend(delta.history.iter().filter_map(|change| change.1));
            }
        }
        aggregate.history = Some(Arc::new(History::of(milestones)));
        aggregate
    }
}
