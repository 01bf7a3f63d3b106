//! One question asked once while it is in flight: callers asking the same key meanwhile wait
//! for the first one's answer. A storm of resuming clients — the sessions of one user, say,
//! all coming back to a node that has not served them before — then costs the database one
//! membership query and one change-log read per user, not one per session, and the pool stays
//! free for the writes (BENCHMARKS.md, "Storms and fan-out").
//!
//! The work runs as a task of its own: a caller that gives up does not cancel it for the
//! others, and the key is free again as soon as the answer is known, so a later question is
//! asked anew (an answer is never served after it was given).

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::FutureExt;
use futures_util::future::{self, BoxFuture};

use crate::error::{Error, Result};

/// Questions in flight by key; `V` is the answer every asker gets a copy of.
pub(crate) struct SingleFlight<K, V: Clone> {
    inflight: Arc<Mutex<HashMap<K, InFlight<V>>>>,
}

/// A shared database answer: what was found, or why it could not be (the engine's errors are
/// not `Clone`; every asker gets the message as [`Error::DatabaseUnavailable`]).
pub(crate) type Shared<T> = std::result::Result<T, String>;

/// The engine's result of a shared database answer; `what` names the question if its task
/// panicked.
pub(crate) fn answered<T>(answer: Option<Shared<T>>, what: &str) -> Result<T> {
    match answer {
        Some(Ok(found)) => Ok(found),
        Some(Err(why)) => Err(Error::DatabaseUnavailable(why)),
        None => Err(Error::DatabaseUnavailable(format!("{what} failed"))),
    }
}

/// An answer being worked out; `None` if its task panicked.
type InFlight<V> = future::Shared<BoxFuture<'static, Option<V>>>;

impl<K, V: Clone> Default for SingleFlight<K, V> {
    fn default() -> Self {
        Self {
            inflight: Arc::default(),
        }
    }
}

impl<K, V> SingleFlight<K, V>
where
    K: Hash + Eq + Clone + Send + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// The answer to `key`: the one in flight, or `work`'s (started now, in a task of its
    /// own). `None` when the work panicked.
    pub async fn ask<F>(&self, key: K, work: impl FnOnce() -> F) -> Option<V>
    where
        F: Future<Output = V> + Send + 'static,
    {
        let answer = {
            let mut inflight = self.inflight.lock().unwrap_or_else(PoisonError::into_inner);
            match inflight.get(&key) {
                Some(answer) => answer.clone(),
                None => {
                    let answer = self.start(key.clone(), work());
                    inflight.insert(key, answer.clone());
                    answer
                }
            }
        };
        answer.await
    }

    /// Runs `work` in a task that frees `key` once it has the answer. (It cannot free it
    /// before it is inserted: the map is locked until then.)
    fn start<F>(&self, key: K, work: F) -> InFlight<V>
    where
        F: Future<Output = V> + Send + 'static,
    {
        let inflight = Arc::clone(&self.inflight);
        let task = tokio::spawn(async move {
            let answer = work.await;
            let mut inflight = inflight.lock().unwrap_or_else(PoisonError::into_inner);
            inflight.remove(&key);
            answer
        });
        task.map(Result::ok).boxed().shared()
    }

    /// Keys in flight now.
    #[cfg(test)]
    fn in_flight(&self) -> usize {
        self.inflight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn askers_of_one_key_share_one_answer_and_other_keys_get_their_own() {
        let flights: Arc<SingleFlight<u8, usize>> = Arc::default();
        let runs = Arc::new(AtomicUsize::new(0));
        let (release, released) = tokio::sync::watch::channel(false);
        let ask = |key: u8| {
            let (flights, runs, mut released) =
                (Arc::clone(&flights), Arc::clone(&runs), released.clone());
            tokio::spawn(async move {
                let work = move || async move {
                    let _ = released.wait_for(|go| *go).await;
                    runs.fetch_add(1, Ordering::SeqCst) + usize::from(key) * 100
                };
                flights.ask(key, work).await
            })
        };
        let same: Vec<_> = (0..5).map(|_| ask(1)).collect();
        let other = ask(2);
        while flights.in_flight() < 2 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        release.send_replace(true);
        let mut answers = Vec::new();
        for asker in same {
            answers.push(asker.await.ok().flatten());
        }
        let other = other.await.ok().flatten();
        assert_eq!(runs.load(Ordering::SeqCst), 2, "one run per key");
        assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
        assert!(answers[0].is_some_and(|a| a >= 100) && other.is_some_and(|a| a >= 200));
        assert_eq!(flights.in_flight(), 0, "answered keys are free again");
    }

    #[tokio::test]
    async fn an_answer_given_is_not_served_again() {
        let flights: SingleFlight<u8, usize> = SingleFlight::default();
        let runs = Arc::new(AtomicUsize::new(0));
        for expected in 1..=2 {
            let runs = Arc::clone(&runs);
            let answer = flights
                .ask(
                    7,
                    move || async move { runs.fetch_add(1, Ordering::SeqCst) + 1 },
                )
                .await;
            assert_eq!(answer, Some(expected));
        }
    }

    #[tokio::test]
    async fn an_asker_that_gives_up_does_not_cancel_the_others_answer() {
        let flights: Arc<SingleFlight<u8, u8>> = Arc::default();
        let slow = || async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            9
        };
        let quitter = flights.ask(3, slow);
        assert!(
            tokio::time::timeout(Duration::from_millis(5), quitter)
                .await
                .is_err()
        );
        // The first work is in flight still: this one is not run.
        let answer = flights.ask(3, || async { 0 });
        assert_eq!(answer.await, Some(9));
    }
}
