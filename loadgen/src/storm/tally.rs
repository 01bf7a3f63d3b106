//! What the storm's sessions record as it happens: every resume, how it was answered and how
//! long it took.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crate::report::Histogram;

/// Resumes of every session, shared (a resume is rare next to a delta: one lock each is fine).
pub struct Tally(Mutex<Resumes>);

/// Resumes counted so far.
pub struct Resumes {
    /// Answered by replayed deltas then `subscribed`.
    pub by_replay: u64,
    /// Answered by a snapshot.
    pub by_snapshot: u64,
    /// `subscribe` sent → `subscribed` or snapshot received, every resumed topic.
    pub latency: Histogram,
}

impl Tally {
    pub fn new() -> Self {
        Self(Mutex::new(Resumes {
            by_replay: 0,
            by_snapshot: 0,
            latency: Histogram::new(),
        }))
    }

    /// One topic resumed, by replay or by snapshot, `latency` after its `subscribe`.
    pub fn resumed(&self, by_replay: bool, latency: Duration) {
        let mut resumes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if by_replay {
            resumes.by_replay += 1;
        } else {
            resumes.by_snapshot += 1;
        }
        resumes.latency.record(latency);
    }

    /// Everything counted, leaving the tally empty.
    pub fn take(&self) -> Resumes {
        let mut resumes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        std::mem::replace(
            &mut resumes,
            Resumes {
                by_replay: 0,
                by_snapshot: 0,
                latency: Histogram::new(),
            },
        )
    }
}
