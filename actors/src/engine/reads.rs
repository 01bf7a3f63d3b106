//! Dashboard reads: computed from a live snapshot (no database round trip once warm), with
//! `overdue` taken against the clock at read time.

use std::time::Instant;

use chrono::{DateTime, NaiveDate, Utc};

use super::Engine;
use crate::error::{Entity, Error, Result};
use crate::model::{TeamId, UserId};
use crate::published::Snapshot;
use crate::single_flight::answered;
use crate::stats::Scope;
pub use crate::store::shares::{SharedByMe, SharedWithMe};
use crate::store::shares::{shared_by_owner, shared_with_user};
use crate::store::teams;
use crate::subscription::Subscription;

/// The statistics card numbers of one scope.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Statistics {
    /// Whose.
    pub scope: Scope,
    /// The aggregate's version.
    pub version: i64,
    /// When it last changed.
    pub as_of: DateTime<Utc>,
    /// All tasks.
    pub total: i64,
    /// Pending ones.
    pub pending: i64,
    /// In progress.
    pub in_progress: i64,
    /// Completed.
    pub completed: i64,
    /// Not completed and due before now.
    pub overdue: i64,
    /// Tasks shared with the user (user scope only).
    pub shared_with_me: Option<i64>,
    /// The user's tasks shared with others (user scope only).
    pub shared_by_me: Option<i64>,
    /// completed / total; 0 when there are no tasks.
    pub completion_rate: f64,
}

/// One owner's numbers in a team.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MemberStat {
    /// The owner.
    pub user_id: UserId,
    /// Team tasks they own.
    pub total: i64,
    /// Of which completed.
    pub completed: i64,
}

/// Counts by status and priority (and, for teams, by owner).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Breakdown {
    /// Whose.
    pub scope: Scope,
    /// The aggregate's version.
    pub version: i64,
    /// When it last changed.
    pub as_of: DateTime<Utc>,
    /// (pending, in_progress, completed).
    pub by_status: [i64; 3],
    /// (low, medium, high, urgent).
    pub by_priority: [i64; 4],
    /// Team scopes: per owner, most tasks first.
    pub by_member: Option<Vec<MemberStat>>,
}

/// One UTC day of activity.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ActivityDay {
    /// The day.
    pub date: NaiveDate,
    /// Tasks created that day.
    pub created: i64,
    /// Tasks completed that day.
    pub completed: i64,
}

/// Recent activity, oldest day first, zeros included.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Activity {
    /// Whose.
    pub scope: Scope,
    /// The aggregate's version.
    pub version: i64,
    /// When it last changed.
    pub as_of: DateTime<Utc>,
    /// One entry per day.
    pub days: Vec<ActivityDay>,
}

impl Snapshot {
    /// The statistics at `now`.
    pub fn statistics(&self, now: DateTime<Utc>) -> Statistics {
        let c = &self.aggregate.counts;
        let total = c.total();
        let user_scope = matches!(self.scope, Scope::User(_));
        Statistics {
            scope: self.scope,
            version: self.version,
            as_of: self.as_of,
            total,
            pending: c.pending,
            in_progress: c.in_progress,
            completed: c.completed,
            overdue: self.aggregate.overdue(now),
            shared_with_me: user_scope.then_some(c.shared_with_me),
            shared_by_me: user_scope.then_some(c.shared_by_me),
            completion_rate: if total == 0 {
                0.0
            } else {
                c.completed as f64 / total as f64
            },
        }
    }

    /// The breakdown.
    pub fn breakdown(&self) -> Breakdown {
        let c = &self.aggregate.counts;
        let by_member = matches!(self.scope, Scope::Team(_)).then(|| {
            let mut members: Vec<MemberStat> = self
                .aggregate
                .members
                .iter()
                .map(|(user, m)| MemberStat {
                    user_id: *user,
                    total: m.total,
                    completed: m.completed,
                })
                .collect();
            members.sort_by(|a, b| b.total.cmp(&a.total).then(a.user_id.cmp(&b.user_id)));
            members
        });
        Breakdown {
            scope: self.scope,
            version: self.version,
            as_of: self.as_of,
            by_status: [c.pending, c.in_progress, c.completed],
            by_priority: [c.low, c.medium, c.high, c.urgent],
            by_member,
        }
    }

    /// Activity over the `days` UTC days ending `today` (other zones: `activity_in`).
    pub fn activity(&self, today: NaiveDate, days: u32) -> Activity {
        Activity {
            scope: self.scope,
            version: self.version,
            as_of: self.as_of,
            days: self
                .aggregate
                .activity(today, days)
                .into_iter()
                .map(|(date, c)| ActivityDay {
                    date,
                    created: c.created,
                    completed: c.completed,
                })
                .collect(),
        }
    }
}

/// Both sharing lists of the caller.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SharedOverview {
    /// Tasks others shared with the caller, newest share first.
    pub shared_with_me: Vec<SharedWithMe>,
    /// The caller's shared tasks, newest task first.
    pub shared_by_me: Vec<SharedByMe>,
}

/// The longest sharing list answered (the counters hold the full numbers).
const SHARED_LIST_MAX: i64 = 1000;

/// The most days of activity a read may ask for.
pub const ACTIVITY_MAX_DAYS: u32 = 90;

impl Engine {
    /// May `actor` read `scope`? Their own user scope, and teams they belong to — asked of
    /// the database, so that a removal committed on any node is obeyed at once.
    pub async fn authorize_read(&self, actor: UserId, scope: Scope) -> Result<()> {
        match scope {
            Scope::User(_) => own_scope(actor, scope).map(|_| ()),
            Scope::Team(team) => self.ask_membership(team, actor).await.map(|_| ()),
        }
    }

    /// The moment of the evidence that `actor` may follow `scope`: now for their own user
    /// scope; for a team, when the membership was last found in the database. A subscription
    /// may rest on a membership remembered for a while (a storm of resuming clients then does
    /// not queue for the pool): a removal the node has not heard of yet ends it as soon as it
    /// does, as it ends every subscription allowed before it.
    pub(crate) async fn subscription_allowed_at(
        &self,
        actor: UserId,
        scope: Scope,
    ) -> Result<Instant> {
        match scope {
            Scope::User(_) => own_scope(actor, scope),
            Scope::Team(team) => match self.inner.members.remembered(team, actor) {
                Some(seen) => Ok(seen),
                None => self.ask_membership_once(team, actor).await,
            },
        }
    }

    /// [`Self::ask_membership`], shared by everyone asking the same while it is in flight:
    /// the sessions of a user coming back to this node all at once ask the database once.
    /// Their evidence is dated by the shared query, as any remembered membership is.
    async fn ask_membership_once(&self, team: TeamId, user: UserId) -> Result<Instant> {
        let engine = self.clone();
        let work = move || async move {
            match engine.ask_membership(team, user).await {
                Ok(at) => Ok(Some(at)),
                Err(Error::NotFound(_)) => Ok(None),
                Err(err) => Err(err.to_string()),
            }
        };
        let answer = self.inner.membership_asks.ask((team, user), work).await;
        answered(answer, "the membership check")?.ok_or(Error::NotFound(Entity::Team))
    }

    /// Asks the database whether `user` belongs to `team`, and remembers it when they do.
    async fn ask_membership(&self, team: TeamId, user: UserId) -> Result<Instant> {
        let members = &self.inner.members;
        let asked = members.ask();
        let mut conn = self.conn().await?;
        teams::role_of(&mut conn, team, user)
            .await?
            .ok_or(Error::NotFound(Entity::Team))?;
        members.remember(team, user, asked);
        Ok(asked.at)
    }

    /// The statistics of a scope the caller may read.
    pub async fn statistics(&self, actor: UserId, scope: Scope) -> Result<Statistics> {
        self.authorize_read(actor, scope).await?;
        Ok(self.snapshot(scope).await?.statistics(Utc::now()))
    }

    /// The breakdown of a scope the caller may read.
    pub async fn breakdown(&self, actor: UserId, scope: Scope) -> Result<Breakdown> {
        self.authorize_read(actor, scope).await?;
        Ok(self.snapshot(scope).await?.breakdown())
    }

    /// Subscribes to a scope the caller may read: a snapshot (or the deltas after
    /// `since_version`, while they are still held), then every change.
    pub async fn subscribe(
        &self,
        actor: UserId,
        scope: Scope,
        since_version: Option<i64>,
    ) -> Result<Subscription> {
        let allowed_at = self.subscription_allowed_at(actor, scope).await?;
        self.attach(actor, scope, since_version, false, allowed_at)
            .await
    }

    /// What is shared with the caller and by the caller.
    pub async fn shared_overview(&self, actor: UserId) -> Result<SharedOverview> {
        let mut conn = self.conn().await?;
        Ok(SharedOverview {
            shared_with_me: shared_with_user(&mut conn, actor, SHARED_LIST_MAX).await?,
            shared_by_me: shared_by_owner(&mut conn, actor, SHARED_LIST_MAX).await?,
        })
    }
}

/// A user scope is its own user's alone.
fn own_scope(actor: UserId, scope: Scope) -> Result<Instant> {
    match scope {
        Scope::User(user) if user == actor => Ok(Instant::now()),
        _ => Err(Error::Forbidden(
            "a user's dashboard is theirs alone".to_owned(),
        )),
    }
}
