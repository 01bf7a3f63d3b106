//! The delta algebra: what a task contributes to each aggregate, and how aggregates change.
//! Pure functions, no I/O. A change to a task is `contribution(new) - contribution(old)` for
//! every scope either version touches, so folding deltas always equals recounting.

use std::collections::BTreeMap;
use std::ops::{AddAssign, Neg};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{Priority, TaskId, TaskStatus, TeamId, UserId};

mod aggregate;
pub mod history;
pub mod trends;
pub use aggregate::{ACTIVITY_WINDOW_DAYS, Aggregate};
use history::{MilestoneChange, Milestones};

/// An aggregate's key: one user's tasks and shares, or one team's tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Scope {
    /// The tasks a user owns (personal and team alike) and their sharing counters.
    User(UserId),
    /// A team's tasks.
    Team(TeamId),
}

/// The counters an aggregate keeps (team scopes leave the sharing ones at zero).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Counts {
    /// Tasks pending.
    pub pending: i64,
    /// Tasks in progress.
    pub in_progress: i64,
    /// Tasks completed.
    pub completed: i64,
    /// Tasks of low priority.
    pub low: i64,
    /// Tasks of medium priority.
    pub medium: i64,
    /// Tasks of high priority.
    pub high: i64,
    /// Tasks of urgent priority.
    pub urgent: i64,
    /// Tasks others shared with this user.
    pub shared_with_me: i64,
    /// This user's tasks shared with at least one other user.
    pub shared_by_me: i64,
}

impl Counts {
    /// All tasks (every task has exactly one status).
    pub fn total(&self) -> i64 {
        self.pending + self.in_progress + self.completed
    }

    /// Whether every counter is zero.
    pub fn is_zero(&self) -> bool {
        *self == Counts::default()
    }

    /// The counters as (name, value) pairs, in API order.
    pub fn fields(&self) -> [(&'static str, i64); 9] {
        [
            ("pending", self.pending),
            ("in_progress", self.in_progress),
            ("completed", self.completed),
            ("low", self.low),
            ("medium", self.medium),
            ("high", self.high),
            ("urgent", self.urgent),
            ("shared_with_me", self.shared_with_me),
            ("shared_by_me", self.shared_by_me),
        ]
    }
}

impl AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.pending += o.pending;
        self.in_progress += o.in_progress;
        self.completed += o.completed;
        self.low += o.low;
        self.medium += o.medium;
        self.high += o.high;
        self.urgent += o.urgent;
        self.shared_with_me += o.shared_with_me;
        self.shared_by_me += o.shared_by_me;
    }
}

impl Neg for Counts {
    type Output = Counts;

    fn neg(self) -> Counts {
        Counts {
            pending: -self.pending,
            in_progress: -self.in_progress,
            completed: -self.completed,
            low: -self.low,
            medium: -self.medium,
            high: -self.high,
            urgent: -self.urgent,
            shared_with_me: -self.shared_with_me,
            shared_by_me: -self.shared_by_me,
        }
    }
}

/// Tasks created and completed on one UTC day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DayCounts {
    /// Tasks created that day (that still exist).
    pub created: i64,
    /// Tasks completed that day (that still are).
    pub completed: i64,
}

impl Neg for DayCounts {
    type Output = DayCounts;

    fn neg(self) -> DayCounts {
        DayCounts {
            created: -self.created,
            completed: -self.completed,
        }
    }
}

/// One owner's share of a team's tasks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MemberCounts {
    /// Team tasks they own.
    pub total: i64,
    /// Of which completed.
    pub completed: i64,
}

impl Neg for MemberCounts {
    type Output = MemberCounts;

    fn neg(self) -> MemberCounts {
        MemberCounts {
            total: -self.total,
            completed: -self.completed,
        }
    }
}

/// How an open task's due date changes, for overdue counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueChange {
    /// The task.
    pub task: TaskId,
    /// Its due date while open, before the change.
    pub before: Option<DateTime<Utc>>,
    /// Its due date while open, after the change.
    pub after: Option<DateTime<Utc>>,
}

/// What one committed change does to one aggregate. Serialised into the change log, which
/// other nodes and resuming clients read it back from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Delta {
    /// Counter changes.
    pub counts: Counts,
    /// Activity changes by day.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub days: BTreeMap<NaiveDate, DayCounts>,
    /// Changes to the due dates of open tasks.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub due: Vec<DueChange>,
    /// Changes by task owner (team scopes only).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub members: BTreeMap<UserId, MemberCounts>,
    /// Changes to when tasks were created, started and completed (the scope's history).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<MilestoneChange>,
}

impl Delta {
    /// Whether the delta changes nothing a reader can see.
    pub fn is_empty(&self) -> bool {
        self.counts.is_zero()
            && self.days.values().all(|d| *d == DayCounts::default())
            && self.due.iter().all(|c| c.before == c.after)
            && self.members.values().all(|m| *m == MemberCounts::default())
            && self.history.iter().all(MilestoneChange::is_noop)
    }

    /// The delta that undoes this one: applied after it, it restores the aggregate exactly
    /// (resume walks back from the current state to rebuild the states between).
    pub fn inverse(&self) -> Delta {
        Delta {
            counts: -self.counts,
            days: self.days.iter().map(|(day, c)| (*day, -*c)).collect(),
            due: (self.due.iter().rev())
                .map(|change| DueChange {
                    task: change.task,
                    before: change.after,
                    after: change.before,
                })
                .collect(),
            members: self.members.iter().map(|(user, m)| (*user, -*m)).collect(),
            history: self.history.iter().rev().map(|c| c.inverse()).collect(),
        }
    }

    /// Adds another delta of the same scope (for commands that change many tasks).
    pub fn merge(&mut self, other: Delta) {
        self.counts += other.counts;
        for (day, c) in other.days {
            let entry = self.days.entry(day).or_default();
            entry.created += c.created;
            entry.completed += c.completed;
        }
        self.due.extend(other.due);
        self.history.extend(other.history);
        for (user, m) in other.members {
            let entry = self.members.entry(user).or_default();
            entry.total += m.total;
            entry.completed += m.completed;
        }
        self.days.retain(|_, c| *c != DayCounts::default());
        self.members.retain(|_, m| *m != MemberCounts::default());
    }
}

/// The deltas of one command, one per scope it touches, in lock order.
pub type DeltaSet = BTreeMap<Scope, Delta>;

/// Adds `delta` to `set` under `scope`.
pub fn merge_into(set: &mut DeltaSet, scope: Scope, delta: Delta) {
    set.entry(scope).or_default().merge(delta);
}

/// Everything about a task that an aggregate depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskFacts {
    /// The task.
    pub id: TaskId,
    /// Its owner.
    pub owner: UserId,
    /// Its team.
    pub team: Option<TeamId>,
    /// Its status.
    pub status: TaskStatus,
    /// Its priority.
    pub priority: Priority,
    /// Its due date.
    pub due_at: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it first entered `in_progress`, if it ever did.
    pub started_at: Option<DateTime<Utc>>,
    /// When it was completed, while it is.
    pub completed_at: Option<DateTime<Utc>>,
    /// The users it is shared with.
    pub shared_with: Vec<UserId>,
}

impl TaskFacts {
    fn milestones(&self) -> Milestones {
        Milestones::of(
            self.created_at,
            self.started_at,
            self.completed_at,
            self.owner,
        )
    }

    fn open_due(&self) -> Option<DateTime<Utc>> {
        self.due_at.filter(|_| self.status != TaskStatus::Completed)
    }

    /// The scopes this task counts in.
    fn scopes(&self) -> impl Iterator<Item = Scope> + '_ {
        std::iter::once(Scope::User(self.owner))
            .chain(self.team.map(Scope::Team))
            .chain(self.shared_with.iter().map(|u| Scope::User(*u)))
    }

    /// What this task adds to `scope`, with every sign `sign` (+1 or -1).
    fn contribution(&self, scope: Scope, sign: i64) -> Delta {
        let mut delta = Delta::default();
        let counts_task =
            scope == Scope::User(self.owner) || self.team.map(Scope::Team) == Some(scope);
        if counts_task {
            let c = &mut delta.counts;
            match self.status {
                TaskStatus::Pending => c.pending = sign,
                TaskStatus::InProgress => c.in_progress = sign,
                TaskStatus::Completed => c.completed = sign,
            }
            match self.priority {
                Priority::Low => c.low = sign,
                Priority::Medium => c.medium = sign,
                Priority::High => c.high = sign,
                Priority::Urgent => c.urgent = sign,
            }
            delta
                .days
                .entry(self.created_at.date_naive())
                .or_default()
                .created += sign;
            if let Some(done) = self.completed_at {
                delta.days.entry(done.date_naive()).or_default().completed += sign;
            }
            if let Scope::Team(_) = scope {
                delta.members.insert(
                    self.owner,
                    MemberCounts {
                        total: sign,
                        completed: sign * i64::from(self.status == TaskStatus::Completed),
                    },
                );
            }
        }
        if scope == Scope::User(self.owner) {
            delta.counts.shared_by_me = sign * i64::from(!self.shared_with.is_empty());
        }
        if let Scope::User(user) = scope
            && user != self.owner
            && self.shared_with.contains(&user)
        {
            delta.counts.shared_with_me = sign;
        }
        delta
    }
}

/// The deltas of a task going from `old` to `new` (`None`: it did not exist / no longer does).
/// Scopes whose delta is empty are left out: their versions do not move.
pub fn task_deltas(old: Option<&TaskFacts>, new: Option<&TaskFacts>) -> DeltaSet {
    let mut set = DeltaSet::new();
    let scopes: Vec<Scope> = old
        .into_iter()
        .flat_map(TaskFacts::scopes)
        .chain(new.into_iter().flat_map(TaskFacts::scopes))
        .collect();
    for scope in scopes {
        if set.contains_key(&scope) {
            continue;
        }
        let mut delta = Delta::default();
        if let Some(old) = old {
            delta.merge(old.contribution(scope, -1));
        }
        if let Some(new) = new {
            delta.merge(new.contribution(scope, 1));
        }
        let task = old.or(new).map(|f| f.id);
        let counts_task =
            |f: &TaskFacts| scope == Scope::User(f.owner) || f.team.map(Scope::Team) == Some(scope);
        let before = old.filter(|f| counts_task(f)).and_then(TaskFacts::open_due);
        let after = new.filter(|f| counts_task(f)).and_then(TaskFacts::open_due);
        if let Some(task) = task.filter(|_| before != after) {
            delta.due.push(DueChange {
                task,
                before,
                after,
            });
        }
        let milestones = MilestoneChange(
            old.filter(|f| counts_task(f)).map(TaskFacts::milestones),
            new.filter(|f| counts_task(f)).map(TaskFacts::milestones),
        );
        if !milestones.is_noop() {
            delta.history.push(milestones);
        }
        set.insert(scope, delta);
    }
    set.retain(|_, d| !d.is_empty());
    set
}

#[cfg(test)]
mod tests;
