//! The steps that apply a delta to an aggregate's rows: its statistics row (version bumped by
//! one), its change-log row, its day rows and, for a team, its member rows.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;
use uuid::Uuid;

use super::Write;
use super::day_rows::DAYS_PER_STEP;
use crate::error::{Error, Result};
use crate::model::{TeamId, UserId};
use crate::stats::{DayCounts, Delta, DeltaSet, MemberCounts, Scope};
use crate::store::aggregates::ChangeLog;

impl Write {
    /// Applies every delta to its rows, in `DeltaSet` (= lock) order.
    pub fn deltas(&mut self, set: DeltaSet) -> Result<&mut Self> {
        for (scope, delta) in set {
            self.delta(scope, delta)?;
        }
        Ok(self)
    }

    /// One scope's delta: its statistics row (version bumped by one), its change-log row, its
    /// day rows and (teams) its member rows.
    pub fn delta(&mut self, scope: Scope, delta: Delta) -> Result<&mut Self> {
        let (table, key, kind, id, counters) = match scope {
            Scope::User(user) => ("user_stats", "user_id", "user", user.0, 9),
            Scope::Team(team) => ("team_stats", "team_id", "team", team.0, 7),
        };
        let counts = &delta.counts.fields()[..counters];
        let (stats, condition) = self.open(false);
        self.sql
            .generated(format!("INSERT INTO {table} ({key}, version"));
        for (counter, _) in counts {
            self.sql.generated(format!(", {counter}"));
        }
        self.sql.sql(", updated_at) SELECT ").bind(id).sql(", 1");
        for (_, value) in counts {
            self.sql.sql(", GREATEST(").bind(*value).sql(", 0)");
        }
        self.sql.sql(", now()");
        self.where_(condition);
        self.sql
            .generated(format!(" ON CONFLICT ({key}) DO UPDATE SET "));
        for (counter, value) in counts {
            self.sql
                .generated(format!("{counter} = {table}.{counter} + "))
                .bind(*value)
                .sql(", ");
        }
        self.sql.generated(format!(
            "version = {table}.version + 1, updated_at = now() RETURNING version, updated_at AS at"
        ));
        self.close(&stats);
        let mut bumped = stats;
        if self.log == ChangeLog::Append {
            let encoded = serde_json::to_string(&delta).map_err(|err| {
                Error::DatabaseUnavailable(format!("a change could not be encoded: {err}"))
            })?;
            let (logged, _) = self.open(false);
            self.sql
                .generated(format!(
                    "INSERT INTO aggregate_changes (scope_kind, scope_id, version, delta, \
                     committed_at) SELECT '{kind}', "
                ))
                .bind(id)
                .sql(", version, ")
                .bind(encoded)
                .generated(format!(
                    "::jsonb, at FROM {bumped} RETURNING version, committed_at AS at"
                ));
            self.close(&logged);
            bumped = logged;
        }
        self.days(scope, id, &delta.days);
        if let Scope::Team(team) = scope {
            self.members(team, &delta.members);
        }
        self.bumps.push((scope, bumped, Arc::new(delta)));
        Ok(self)
    }

    fn days(&mut self, scope: Scope, id: Uuid, days: &BTreeMap<NaiveDate, DayCounts>) {
        let (table, key) = match scope {
            Scope::User(_) => ("user_activity", "user_id"),
            Scope::Team(_) => ("team_activity", "team_id"),
        };
        if days.len() > DAYS_PER_STEP {
            return self.days_at_once(table, key, id, days);
        }
        for (day, c) in days {
            let (name, condition) = self.open(false);
            self.sql
                .generated(format!(
                    "INSERT INTO {table} ({key}, day, created, completed) SELECT "
                ))
                .bind(id)
                .sql(", ")
                .bind(*day)
                .sql(", GREATEST(")
                .bind(c.created)
                .sql(", 0), GREATEST(")
                .bind(c.completed)
                .sql(", 0)");
            self.where_(condition);
            self.sql
                .generated(format!(
                    " ON CONFLICT ({key}, day) DO UPDATE SET created = {table}.created + "
                ))
                .bind(c.created)
                .generated(format!(", completed = {table}.completed + "))
                .bind(c.completed)
                .sql(" RETURNING day");
            self.close(&name);
        }
    }

    fn members(&mut self, team: TeamId, members: &BTreeMap<UserId, MemberCounts>) {
        for (user, c) in members {
            let (name, condition) = self.open(false);
            self.sql
                .sql("INSERT INTO team_member_stats (team_id, user_id, total, completed) SELECT ")
                .bind(team.0)
                .sql(", ")
                .bind(user.0)
                .sql(", GREATEST(")
                .bind(c.total)
                .sql(", 0), LEAST(GREATEST(")
                .bind(c.completed)
                .sql(", 0), GREATEST(")
                .bind(c.total)
                .sql(", 0))");
            self.where_(condition);
            self.sql
                .sql(
                    " ON CONFLICT (team_id, user_id) DO UPDATE SET \
                     total = team_member_stats.total + ",
                )
                .bind(c.total)
                .sql(", completed = team_member_stats.completed + ")
                .bind(c.completed)
                .sql(" RETURNING user_id");
            self.close(&name);
        }
    }
}
