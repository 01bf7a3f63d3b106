//! A scope's history: when each of its tasks was created, started and completed, kept as
//! sorted multisets so that any bucket of any time zone is counted exactly with a few binary
//! searches (docs/history.md). Loaded only while someone follows the scope's trends; kept by
//! the same deltas as the counters, so it is exact at every version.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::UserId;

/// When a task was created, first started and completed, in whole seconds since the Unix
/// epoch (flooring never moves an instant across a bucket boundary: boundaries are whole
/// seconds), and who owns it (a team's throughput by member). Written as
/// `[created, started, completed, owner]` in the change log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Milestones(pub i64, pub Option<i64>, pub Option<i64>, pub UserId);

impl Milestones {
    /// A task's milestones from its timestamps.
    pub fn of(
        created: DateTime<Utc>,
        started: Option<DateTime<Utc>>,
        completed: Option<DateTime<Utc>>,
        owner: UserId,
    ) -> Self {
        Self(
            created.timestamp(),
            started.map(|t| t.timestamp()),
            completed.map(|t| t.timestamp()),
            owner,
        )
    }

    fn created(&self) -> i64 {
        self.0
    }

    fn started(&self) -> Option<i64> {
        self.1
    }

    fn completed(&self) -> Option<i64> {
        self.2
    }

    fn owner(&self) -> UserId {
        self.3
    }
}

/// One task's milestones before and after a change (`None`: not counted in the scope).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MilestoneChange(pub Option<Milestones>, pub Option<Milestones>);

impl MilestoneChange {
    /// The change that undoes this one.
    pub fn inverse(self) -> Self {
        Self(self.1, self.0)
    }

    /// Whether it changes anything.
    pub fn is_noop(&self) -> bool {
        self.0 == self.1
    }

    /// Every instant it moves (for finding the buckets it touches).
    pub fn instants(&self) -> impl Iterator<Item = i64> + '_ {
        [self.0, self.1]
            .into_iter()
            .flatten()
            .flat_map(|m| [Some(m.created()), m.started(), m.completed()])
            .flatten()
    }
}

/// One completed task, by completion time: what lead and cycle times are computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Completion {
    /// When it was completed.
    pub at: i64,
    /// Seconds from creation to completion.
    pub lead: i64,
    /// Seconds from its start to completion, if it was started.
    pub cycle: Option<i64>,
    /// Its owner.
    pub owner: UserId,
}

/// A sorted multiset cut into shared chunks, so that a copy of the history (every published
/// snapshot holds one) shares all but the chunk a change touched.
#[derive(Debug, Clone)]
pub struct Multiset<T> {
    chunks: Vec<Arc<Vec<T>>>,
    len: usize,
}

/// Chunks split when they grow past twice this.
const CHUNK: usize = 512;

impl<T: Ord + Copy> Default for Multiset<T> {
    fn default() -> Self {
        Self {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T: Ord + Copy> PartialEq for Multiset<T> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl<T: Ord + Copy> Eq for Multiset<T> {}

impl<T: Ord + Copy> Multiset<T> {
    /// The multiset of `values` (in any order).
    pub fn from_unsorted(mut values: Vec<T>) -> Self {
        values.sort_unstable();
        let len = values.len();
        let chunks = values
            .chunks(CHUNK)
            .map(|chunk| Arc::new(chunk.to_vec()))
            .collect();
        Self { chunks, len }
    }

    /// How many values it holds.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Every value, in order.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flat_map(|chunk| chunk.iter())
    }

    /// The chunk where `value` belongs: the first whose last value is not below it.
    fn chunk_for(&self, value: &T) -> usize {
        (self.chunks)
            .partition_point(|chunk| chunk.last().is_some_and(|last| last < value))
            .min(self.chunks.len().saturating_sub(1))
    }

    /// Adds one `value`.
    pub fn insert(&mut self, value: T) {
        if self.chunks.is_empty() {
            self.chunks.push(Arc::new(Vec::with_capacity(1)));
        }
        let at = self.chunk_for(&value);
        let chunk = Arc::make_mut(&mut self.chunks[at]);
        let position = chunk.partition_point(|v| *v < value);
        chunk.insert(position, value);
        self.len += 1;
        if chunk.len() > 2 * CHUNK {
            let tail = chunk.split_off(CHUNK);
            self.chunks.insert(at + 1, Arc::new(tail));
        }
    }

    /// Removes one `value`; `false` when it held none.
    pub fn remove(&mut self, value: &T) -> bool {
        if self.chunks.is_empty() {
            return false;
        }
        let at = self.chunk_for(value);
        let Ok(position) = self.chunks[at].binary_search(value) else {
            return false;
        };
        let chunk = Arc::make_mut(&mut self.chunks[at]);
        chunk.remove(position);
        if chunk.is_empty() {
            self.chunks.remove(at);
        }
        self.len -= 1;
        true
    }

    /// How many values are below `bound` (by `below`, which must be monotone: true then false).
    pub fn count_while(&self, below: impl Fn(&T) -> bool) -> usize {
        let full = self
            .chunks
            .partition_point(|chunk| chunk.last().is_some_and(&below));
        let before: usize = self.chunks[..full].iter().map(|chunk| chunk.len()).sum();
        let partial = self
            .chunks
            .get(full)
            .map_or(0, |chunk| chunk.partition_point(&below));
        before + partial
    }

    /// The values `v` with `from(v)` false and `until(v)` true, in order (both monotone).
    pub fn range<'a>(
        &'a self,
        from: impl Fn(&T) -> bool + 'a,
        until: impl Fn(&T) -> bool + 'a,
    ) -> impl Iterator<Item = &'a T> + 'a {
        let first = self
            .chunks
            .partition_point(|chunk| chunk.last().is_some_and(&from));
        self.chunks[first..]
            .iter()
            .flat_map(|chunk| chunk.iter())
            .skip_while(move |v| from(v))
            .take_while(move |v| until(v))
    }
}

/// A scope's history: one entry per task it counts in each multiset that applies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    /// Every task's creation time.
    pub created: Multiset<i64>,
    /// Start times of the tasks that were started.
    pub started: Multiset<i64>,
    /// The completed tasks.
    pub completed: Multiset<Completion>,
    /// Completion times of the completed tasks that were started (what leaves
    /// "in progress" when they complete).
    pub completed_started: Multiset<i64>,
}

impl History {
    /// The history of tasks with these milestones.
    pub fn of(tasks: impl IntoIterator<Item = Milestones>) -> Self {
        let (mut created, mut started, mut completed, mut completed_started) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for task in tasks {
            created.push(task.created());
            started.extend(task.started());
            if let Some(done) = completion(task) {
                completed.push(done);
            }
            if let (Some(_), Some(done)) = (task.started(), task.completed()) {
                completed_started.push(done);
            }
        }
        Self {
            created: Multiset::from_unsorted(created),
            started: Multiset::from_unsorted(started),
            completed: Multiset::from_unsorted(completed),
            completed_started: Multiset::from_unsorted(completed_started),
        }
    }

    /// How many tasks it counts.
    pub fn tasks(&self) -> usize {
        self.created.len()
    }

    /// Applies one change: the task's old milestones leave, its new ones enter.
    pub fn apply(&mut self, change: &MilestoneChange) {
        if let Some(old) = change.0 {
            self.created.remove(&old.created());
            if let Some(started) = old.started() {
                self.started.remove(&started);
            }
            if let Some(done) = completion(old) {
                self.completed.remove(&done);
                if old.started().is_some() {
                    self.completed_started.remove(&done.at);
                }
            }
        }
        if let Some(new) = change.1 {
            self.created.insert(new.created());
            if let Some(started) = new.started() {
                self.started.insert(started);
            }
            if let Some(done) = completion(new) {
                self.completed.insert(done);
                if new.started().is_some() {
                    self.completed_started.insert(done.at);
                }
            }
        }
    }

    /// Bytes it holds (for the memory figures).
    pub fn heap_bytes(&self) -> usize {
        self.created.len() * 8
            + self.started.len() * 8
            + self.completed.len() * size_of::<Completion>()
            + self.completed_started.len() * 8
    }
}

fn completion(task: Milestones) -> Option<Completion> {
    task.completed().map(|at| Completion {
        at,
        lead: at - task.created(),
        cycle: task.started().map(|started| at - started),
        owner: task.owner(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multiset_counts_duplicates_and_splits_its_chunks() {
        let mut set = Multiset::default();
        for v in (0..3000).rev() {
            set.insert(v / 2);
        }
        assert_eq!(set.len(), 3000);
        assert!(set.chunks.len() > 2, "chunks split: {}", set.chunks.len());
        assert_eq!(set.count_while(|v| *v < 10), 20);
        assert!(set.remove(&7));
        assert!(set.remove(&7));
        assert!(!set.remove(&7));
        assert_eq!(set.count_while(|v| *v < 10), 18);
        let range: Vec<i64> = set.range(|v| *v < 6, |v| *v < 9).copied().collect();
        assert_eq!(range, vec![6, 6, 8, 8]);
        assert!(set.iter().zip(set.iter().skip(1)).all(|(a, b)| a <= b));
    }

    #[test]
    fn a_change_and_its_inverse_leave_the_history_as_it_was() {
        let ann = UserId(uuid::Uuid::from_u128(1));
        let before = History::of([
            Milestones(10, Some(20), Some(30), ann),
            Milestones(5, None, None, ann),
        ]);
        let change = MilestoneChange(
            Some(Milestones(10, Some(20), Some(30), ann)),
            Some(Milestones(10, Some(20), None, ann)),
        );
        let mut history = before.clone();
        history.apply(&change);
        assert_eq!(history.completed.len(), 0);
        assert_eq!(history.started.len(), 1);
        history.apply(&change.inverse());
        assert_eq!(history, before);
    }
}
