//! Who was last seen to belong to which team, remembered for a while, so that subscribing to a
//! team's aggregate — a storm of resuming clients, say — asks the database once a minute per
//! member rather than every time (a REST read always asks: `Engine::authorize_read`).
//!
//! A revocation forgets at once on every node (it travels with the revocation's signal, and a
//! node whose listener reconnects forgets everything, since it may have missed one). Evidence
//! is dated: a read allowed by a remembered membership is as old as the query that found it,
//! so a revocation made later ends a subscription it allowed (`Slot::revoke_allowed_before`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use dashmap::DashMap;

use crate::model::{TeamId, UserId};

/// How long a membership found once is trusted without asking again. The periodic cluster
/// check ends any subscription it allowed that a lost signal left standing.
const REMEMBERED_FOR: Duration = Duration::from_secs(60);
/// Beyond this many remembered memberships the memory starts over.
const MAX_REMEMBERED: usize = 200_000;

#[derive(Default)]
pub(crate) struct KnownMembers {
    /// When each membership was last found in the database (the instant the query was sent).
    seen: DashMap<(TeamId, UserId), Instant>,
    /// Counts forgettings: an answer asked for before one may be stale and is not remembered.
    forgotten: AtomicU64,
}

/// A question to the database about a membership, asked at a known moment.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Asked {
    pub at: Instant,
    forgotten: u64,
}

impl KnownMembers {
    /// When `user` was last found a member of `team`, if recently enough to trust it.
    pub fn remembered(&self, team: TeamId, user: UserId) -> Option<Instant> {
        let seen = *self.seen.get(&(team, user))?;
        (seen.elapsed() < REMEMBERED_FOR).then_some(seen)
    }

    /// Marks the moment a membership query is sent.
    pub fn ask(&self) -> Asked {
        Asked {
            forgotten: self.forgotten.load(Ordering::SeqCst),
            at: Instant::now(),
        }
    }

    /// Remembers that the query `asked` found `user` a member of `team` — unless something was
    /// forgotten since it was asked (the answer may predate a revocation).
    pub fn remember(&self, team: TeamId, user: UserId, asked: Asked) {
        if self.seen.len() >= MAX_REMEMBERED {
            self.seen.clear();
        }
        self.seen.insert((team, user), asked.at);
        // Checked after the insert: a forgetting either counted before this load (and the
        // entry goes here) or removes the entry itself after.
        if self.forgotten.load(Ordering::SeqCst) != asked.forgotten {
            self.seen.remove(&(team, user));
        }
    }

    /// Forgets `user`'s membership of `team` (everyone's, when `None`: the team is gone).
    pub fn forget(&self, team: TeamId, user: Option<UserId>) {
        self.forgotten.fetch_add(1, Ordering::SeqCst);
        match user {
            Some(user) => {
                self.seen.remove(&(team, user));
            }
            None => self.seen.retain(|(t, _), _| *t != team),
        }
    }

    /// Forgets every membership (revocations may have been missed).
    pub fn forget_all(&self) {
        self.forgotten.fetch_add(1, Ordering::SeqCst);
        self.seen.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> (TeamId, UserId) {
        (TeamId::new(), UserId::new())
    }

    #[test]
    fn an_answer_is_remembered_with_the_moment_it_was_asked() {
        let known = KnownMembers::default();
        let (team, user) = ids();
        let asked = known.ask();
        known.remember(team, user, asked);
        assert_eq!(known.remembered(team, user), Some(asked.at));
        assert_eq!(known.remembered(team, UserId::new()), None);
    }

    #[test]
    fn an_answer_asked_before_a_revocation_is_not_remembered() {
        let known = KnownMembers::default();
        let (team, user) = ids();
        let asked = known.ask();
        known.forget(team, Some(UserId::new()));
        known.remember(team, user, asked);
        assert_eq!(known.remembered(team, user), None);
    }

    #[test]
    fn forgetting_a_team_forgets_all_its_members_and_only_them() {
        let known = KnownMembers::default();
        let (team, user) = ids();
        let (other_team, _) = ids();
        let other_user = UserId::new();
        known.remember(team, user, known.ask());
        known.remember(team, other_user, known.ask());
        known.remember(other_team, user, known.ask());
        known.forget(team, None);
        assert_eq!(known.remembered(team, user), None);
        assert_eq!(known.remembered(team, other_user), None);
        assert!(known.remembered(other_team, user).is_some());
        known.forget_all();
        assert_eq!(known.remembered(other_team, user), None);
    }
}
