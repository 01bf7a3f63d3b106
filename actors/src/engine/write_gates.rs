//! How many of this node's writes may wait on one aggregate's rows at once.
//!
//! Every write to a scope bumps that scope's statistics row, whose lock it holds until it
//! commits: writes to one hot scope run one after another whatever the pool size. Sent
//! together, they would all wait in PostgreSQL's lock queue, and each commit would wake every
//! waiter for one of them to win while the rest go back to sleep: PostgreSQL CPU spent on
//! nothing, on a machine whose cores the writes share. A gate per scope lets a few writes in
//! (one running, one queued behind its lock, so the next starts the moment the first commits)
//! and keeps the rest waiting here, where waiting costs nothing. Spread writes never meet a
//! gate that is closed.
//!
//! Gates only order who goes next; the row locks still make the writes correct. A write takes
//! its gates in scope order (the rows' lock order) before it takes a connection, so it holds
//! neither a database lock nor a connection while it waits, and it holds every gate it needs
//! before its statement starts: nothing that holds a row lock or a connection ever waits for a
//! gate, so gates add no deadlock, and a busy aggregate's waiting writes leave the pool to
//! everyone else.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::Semaphore;

use crate::stats::Scope;

/// This node's gates, one per scope with a write in flight.
#[derive(Debug)]
pub(crate) struct WriteGates {
    per_scope: usize,
    open: Mutex<HashMap<Scope, Gate>>,
}

#[derive(Debug)]
struct Gate {
    places: Arc<Semaphore>,
    /// Writes holding or awaiting a place; the gate is forgotten when none is left.
    users: usize,
}

/// One write's passage through one scope's gate, from the moment it queues: dropped, it
/// gives its place back (or leaves the queue, when the write was abandoned while waiting).
pub(crate) struct Pass<'g> {
    gates: &'g WriteGates,
    scope: Scope,
    places: Arc<Semaphore>,
    entered: bool,
}

impl WriteGates {
    /// Gates that let `per_scope` writes of one scope through at once (at least one).
    pub fn new(per_scope: usize) -> Self {
        Self {
            per_scope: per_scope.max(1),
            open: Mutex::new(HashMap::new()),
        }
    }

    /// Waits until a write to `scopes` (in lock order) may go; it may while the passes live.
    pub async fn enter(&self, scopes: impl IntoIterator<Item = Scope>) -> Vec<Pass<'_>> {
        let mut passes = Vec::new();
        for scope in scopes {
            let places = {
                let mut open = self.lock();
                let gate = open.entry(scope).or_insert_with(|| Gate {
                    places: Arc::new(Semaphore::new(self.per_scope)),
                    users: 0,
                });
                gate.users += 1;
                Arc::clone(&gate.places)
            };
            let mut pass = Pass {
                gates: self,
                scope,
                places,
                entered: false,
            };
            // Never closed: `Err` cannot happen.
            if let Ok(place) = pass.places.acquire().await {
                place.forget();
                pass.entered = true;
            }
            passes.push(pass);
        }
        passes
    }

    /// Scopes with a write in flight (tests).
    #[cfg(test)]
    fn in_use(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Scope, Gate>> {
        // The map is always whole: every change to it is one insert, update or remove.
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Pass<'_> {
    fn drop(&mut self) {
        if self.entered {
            self.places.add_permits(1);
        }
        let mut open = self.gates.lock();
        if let Some(gate) = open.get_mut(&self.scope) {
            gate.users -= 1;
            if gate.users == 0 {
                open.remove(&self.scope);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use futures_util::FutureExt;

    use super::*;
    use crate::model::{TeamId, UserId};

    #[tokio::test]
    async fn a_scope_lets_its_quota_through_and_the_rest_wait() {
        let gates = WriteGates::new(2);
        let team = Scope::Team(TeamId::new());
        let first = gates.enter([team]).await;
        let second = gates.enter([team]).await;
        let third = tokio::time::timeout(Duration::from_millis(50), gates.enter([team])).await;
        assert!(third.is_err(), "a third write to the scope went through");
        // Another scope is not held up.
        let other = Scope::User(UserId::new());
        let spread = tokio::time::timeout(Duration::from_millis(50), gates.enter([other]))
            .await
            .expect("another scope's write waited");
        drop(first);
        let third = tokio::time::timeout(Duration::from_millis(50), gates.enter([team]))
            .await
            .expect("a freed place was not taken");
        drop((second, third, spread));
        // The write that gave up waiting left the queue too: nothing is left behind.
        assert_eq!(gates.in_use(), 0);
    }

    #[tokio::test]
    async fn a_write_abandoned_while_it_waits_leaves_nothing_behind() {
        let gates = WriteGates::new(1);
        let team = Scope::Team(TeamId::new());
        let held = gates.enter([team]).await;
        let mut waiting = Box::pin(gates.enter([team]));
        assert!(
            (&mut waiting).now_or_never().is_none(),
            "went through a full gate"
        );
        drop(held);
        // Its request went away before it was polled again.
        drop(waiting);
        assert_eq!(gates.in_use(), 0);
        let again = tokio::time::timeout(Duration::from_millis(50), gates.enter([team])).await;
        assert!(again.is_ok(), "the place was lost with the abandoned write");
    }

    #[tokio::test]
    async fn gates_are_forgotten_when_nobody_holds_them() {
        let gates = WriteGates::new(1);
        let scopes = [Scope::User(UserId::new()), Scope::Team(TeamId::new())];
        let passes = gates.enter(scopes).await;
        assert_eq!(gates.in_use(), 2);
        let waiter = {
            let gates = &gates;
            async move { gates.enter(scopes).await.len() }
        };
        let (entered, ()) = tokio::join!(waiter, async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            drop(passes);
        });
        assert_eq!(entered, 2);
        assert_eq!(gates.in_use(), 0);
    }
}
