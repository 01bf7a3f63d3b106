//! `taskpulse check`: every live aggregate equals its row, every row equals what `COUNT(*)`
//! over the tasks says, and every live history (what trends count) equals the tasks' times.

use chrono::Utc;

use super::Engine;
use crate::error::Result;
use crate::stats::Scope;
use crate::store::hydrate::{WithHistory, hydrate};
use crate::store::truth::{overdue, row_mismatches, scopes_to_check};

/// Which aggregates to check.
#[derive(Debug, Clone, Copy, Default)]
pub struct CheckOptions {
    /// Check this many users and this many teams chosen at random; `None` checks all.
    pub sample: Option<i64>,
}

/// What a check found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// Users checked.
    pub users: usize,
    /// Teams checked.
    pub teams: usize,
    /// One line per difference; empty when everything agrees.
    pub differences: Vec<String>,
}

impl CheckReport {
    /// Whether everything agreed.
    pub fn is_consistent(&self) -> bool {
        self.differences.is_empty()
    }
}

impl Engine {
    /// Compares the live aggregates (every live one, plus the checked scopes, warmed) with
    /// their rows, and the rows with the truth. Meaningful at a quiet moment: a change in
    /// flight shows up as a difference.
    pub async fn check(&self, options: CheckOptions) -> Result<CheckReport> {
        let mut conn = self.conn().await?;
        let (user_ids, team_ids) = scopes_to_check(&mut conn, options.sample).await?;
        let mut differences = row_mismatches(&mut conn, &user_ids, &team_ids).await?;
        drop(conn);

        let mut scopes: Vec<Scope> = user_ids
            .iter()
            .map(|id| Scope::User(*id))
            .chain(team_ids.iter().map(|id| Scope::Team(*id)))
            .collect();
        scopes.extend(self.inner.slots.by_scope.iter().map(|e| *e.key()));
        scopes.sort_unstable();
        scopes.dedup();
        for scope in scopes {
            differences.extend(self.check_live(scope).await?);
        }
        Ok(CheckReport {
            users: user_ids.len(),
            teams: team_ids.len(),
            differences,
        })
    }

    async fn check_live(&self, scope: Scope) -> Result<Option<String>> {
        let live = self.snapshot(scope).await?;
        let mut conn = self.conn().await?;
        let today = Utc::now().date_naive();
        let with_history = match live.aggregate.history {
            Some(_) => WithHistory::Yes,
            None => WithHistory::No,
        };
        let Some(row) = hydrate(&mut conn, scope, today, with_history).await? else {
            return Ok(None);
        };
        let now = Utc::now();
        let overdue = overdue(&mut conn, scope, now).await?;
        let mut problems = Vec::new();
        if live.version != row.version {
            problems.push(format!(
                "live version {} != row version {}",
                live.version, row.version
            ));
        }
        if live.aggregate.counts != row.aggregate.counts {
            problems.push(format!(
                "live counts {:?} != row {:?}",
                live.aggregate.counts, row.aggregate.counts
            ));
        }
        if live.aggregate.days != row.aggregate.days {
            problems.push("live activity differs from the rows".to_owned());
        }
        if live.aggregate.history != row.aggregate.history {
            problems.push("live history (trends) differs from the tasks' rows".to_owned());
        }
        if live.aggregate.members != row.aggregate.members {
            problems.push("live per-owner counts differ from the rows".to_owned());
        }
        if live.aggregate.overdue(now) != overdue {
            problems.push(format!(
                "live overdue {} != truth {overdue}",
                live.aggregate.overdue(now)
            ));
        }
        Ok((!problems.is_empty()).then(|| format!("{scope:?}: {}", problems.join("; "))))
    }
}
