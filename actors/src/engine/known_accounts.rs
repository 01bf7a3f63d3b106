//! Which user ids name an account, remembered for a while, so that a well-signed token whose
//! account does not exist is refused on every request without a query per request.

use std::time::{Duration, Instant};

use dashmap::DashMap;

use super::Engine;
use crate::error::Result;
use crate::model::UserId;
use crate::single_flight::{self, SingleFlight, answered};
use crate::store::users::find_user;

/// How long an account found once is trusted to exist without asking again.
const REMEMBERED_FOR: Duration = Duration::from_secs(60);
/// Beyond this many remembered ids the memory starts over (each is asked for again once).
const MAX_REMEMBERED: usize = 200_000;

#[derive(Default)]
pub(crate) struct KnownAccounts {
    seen: DashMap<UserId, Instant>,
    /// Questions in flight: the sessions of a user signing in to this node together (a
    /// storm of clients coming back) ask the database once.
    asks: SingleFlight<UserId, single_flight::Shared<bool>>,
}

impl KnownAccounts {
    fn remembers(&self, user: UserId, now: Instant) -> bool {
        self.seen
            .get(&user)
            .is_some_and(|seen| now.duration_since(*seen) < REMEMBERED_FOR)
    }

    pub fn forget(&self, user: UserId) {
        self.seen.remove(&user);
    }

    pub fn remember(&self, user: UserId, now: Instant) {
        if self.seen.len() >= MAX_REMEMBERED {
            self.seen.clear();
        }
        self.seen.insert(user, now);
    }
}

impl Engine {
    /// Whether `user` names an existing account: what a caller checks before trusting a
    /// token's subject. Answered from memory for an account seen in the last minute.
    pub async fn is_account(&self, user: UserId) -> Result<bool> {
        let now = Instant::now();
        let known = &self.inner.known_accounts;
        if known.remembers(user, now) {
            return Ok(true);
        }
        let engine = self.clone();
        let work =
            move || async move { engine.find_account(user).await.map_err(|e| e.to_string()) };
        answered(known.asks.ask(user, work).await, "the account check")
    }

    async fn find_account(&self, user: UserId) -> Result<bool> {
        let asked = Instant::now();
        let mut conn = self.conn().await?;
        let exists = find_user(&mut conn, user).await?.is_some();
        if exists {
            self.inner.known_accounts.remember(user, asked);
        }
        Ok(exists)
    }
}
