//! Which user ids name an account, remembered for a while, so that a well-signed token whose
//! account does not exist is refused on every request without a query per request.

use std::time::{Duration, Instant};

use dashmap::DashMap;

use super::Engine;
use crate::error::Result;
use crate::model::UserId;
use crate::store::users::find_user;

/// How long an account found once is trusted to exist without asking again.
const REMEMBERED_FOR: Duration = Duration::from_secs(60);
/// Beyond this many remembered ids the memory starts over (each is asked for again once).
const MAX_REMEMBERED: usize = 200_000;

#[derive(Default)]
pub(crate) struct KnownAccounts(DashMap<UserId, Instant>);

impl KnownAccounts {
    fn remembers(&self, user: UserId, now: Instant) -> bool {
        self.0
            .get(&user)
            .is_some_and(|seen| now.duration_since(*seen) < REMEMBERED_FOR)
    }

    pub fn forget(&self, user: UserId) {
        self.0.remove(&user);
    }

    pub fn remember(&self, user: UserId, now: Instant) {
        if self.0.len() >= MAX_REMEMBERED {
            self.0.clear();
        }
        self.0.insert(user, now);
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
        let mut conn = self.conn().await?;
        let exists = find_user(&mut conn, user).await?.is_some();
        if exists {
            known.remember(user, now);
        }
        Ok(exists)
    }
}
