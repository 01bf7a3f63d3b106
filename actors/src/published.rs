//! What a commit publishes: each delta as committed ([`Published`]), and the state of its
//! aggregate after it ([`Snapshot`]), which readers and subscribers share
//! (docs/architecture.md, "The live side").

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::stats::{Aggregate, Delta, Scope};

/// A delta as committed: its aggregate's new version and when it changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Published {
    /// The aggregate.
    pub scope: Scope,
    /// The version this delta brings the aggregate to.
    pub version: i64,
    /// When the change was committed (the row's `updated_at`).
    pub as_of: DateTime<Utc>,
    /// The change.
    pub delta: Arc<Delta>,
}

/// An aggregate at one version: immutable, cheap to share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// Whose aggregate.
    pub scope: Scope,
    /// Its version: one more with every change that alters what it reports.
    pub version: i64,
    /// When that version was committed.
    pub as_of: DateTime<Utc>,
    /// The state.
    pub aggregate: Aggregate,
}

impl Snapshot {
    /// The state just before `delta`, the change that made this version: what a subscriber
    /// that resumed mid-stream compares its first delta with.
    pub fn before(&self, delta: &Delta) -> Snapshot {
        let mut aggregate = self.aggregate.clone();
        aggregate.apply(&delta.inverse(), self.as_of.date_naive());
        Snapshot {
            scope: self.scope,
            version: self.version - 1,
            as_of: self.as_of,
            aggregate,
        }
    }
}
