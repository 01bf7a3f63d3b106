//! A command's whole write as one statement: one round trip, atomic on its own (no `BEGIN` and
//! `COMMIT` around it), every lock held only from the moment the statement takes it until it
//! commits.
//!
//! The statement is a chain of data-modifying CTEs. PostgreSQL runs the sub-statements of a
//! `WITH` in an unspecified order, so every step names the one before it
//! (`(SELECT count(*) FROM <previous>) >= 0`, a one-time filter that runs the previous step to
//! completion first): the rows are locked in the order the steps were added, which is the
//! engine's fixed lock order (team row, task row, statistics rows in `DeltaSet` order, each
//! followed by its day and member rows), so concurrent writes never deadlock.
//!
//! The first step that changes a task is the *head*; it may be conditional (the task is still at
//! the version that was read, the caller's role allows it). Every later step runs only when the
//! head wrote, and then always, whatever an earlier step found: either the whole change commits
//! or none of it.
//!
//! Every statistics, day and member row is upserted (`ON CONFLICT DO UPDATE`), so no step finds
//! its row missing. PostgreSQL checks an upsert's CHECK constraints on the row it would insert
//! even when it ends up updating, so the insert candidate holds the change clamped at zero: a
//! row that does not exist yet can only be counting up.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::sql_types::{Array, BigInt, Bool, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::aggregates::{ChangeLog, Published};
use super::audit::AuditEntry;
use super::sql::Sql;
use super::tasks::parse_stored;
use crate::error::{Error, Result};
use crate::model::{Permission, Role, Task, TaskId, TeamId, UserId};
use crate::stats::{DayCounts, Delta, DeltaSet, MemberCounts, Scope};

type WrittenRow = (
    Nullable<Text>,
    Bool,
    Nullable<Timestamptz>,
    Array<Nullable<BigInt>>,
    Array<Nullable<Timestamptz>>,
);

type WrittenValues = (
    Option<String>,
    bool,
    Option<DateTime<Utc>>,
    Vec<Option<i64>>,
    Vec<Option<DateTime<Utc>>>,
);

/// What a write did.
#[derive(Debug)]
pub(crate) struct Written {
    /// Whether it happened (its head's condition held).
    pub applied: bool,
    /// The caller's role in the team, when the write checked it.
    pub role: Option<Role>,
    /// When the share the write made was first made.
    pub share_created_at: Option<DateTime<Utc>>,
    /// The deltas as committed, to publish.
    pub published: Vec<Published>,
}

/// A write being built; nothing reaches the database before [`Write::run`].
pub(crate) struct Write {
    sql: Sql<WrittenRow>,
    steps: usize,
    previous: Option<String>,
    /// The condition the head runs under, set by the steps that lock a team.
    gate: Option<String>,
    head: Option<String>,
    role: Option<String>,
    share: Option<String>,
    bumps: Vec<(Scope, String, Arc<Delta>)>,
    log: ChangeLog,
}

impl Write {
    pub fn new(log: ChangeLog) -> Self {
        Self {
            sql: Sql::new(),
            steps: 0,
            previous: None,
            gate: None,
            head: None,
            role: None,
            share: None,
            bumps: Vec::new(),
            log,
        }
    }

    /// How many parameters the statement has so far.
    pub fn parameters(&self) -> usize {
        self.sql.parameters()
    }

    /// Whether the statement would do anything.
    pub fn is_empty(&self) -> bool {
        self.steps == 0
    }

    /// Starts a step; answers its name and the condition it runs under.
    fn open(&mut self, head: bool) -> (String, Option<String>) {
        let name = format!("s{}", self.steps);
        let prefix = if self.steps == 0 { "WITH " } else { ", " };
        self.sql.generated(format!("{prefix}{name} AS ("));
        self.steps += 1;
        let condition = if head {
            self.gate.clone()
        } else {
            let ran_before = self
                .previous
                .as_ref()
                .filter(|previous| self.head.as_ref() != Some(*previous))
                .map(|previous| format!("(SELECT count(*) FROM {previous}) >= 0"));
            let head_wrote = self
                .head
                .as_ref()
                .map(|head| format!("EXISTS (SELECT 1 FROM {head})"));
            match (head_wrote, ran_before) {
                (Some(wrote), Some(ran)) => Some(format!("{wrote} AND {ran}")),
                (wrote, ran) => wrote.or(ran),
            }
        };
        (name, condition)
    }

    fn close(&mut self, name: &str) {
        self.sql.sql(")");
        self.previous = Some(name.to_owned());
    }

    /// ` WHERE <condition>` (for `INSERT … SELECT`), or nothing.
    fn where_(&mut self, condition: Option<String>) {
        if let Some(condition) = condition {
            self.sql.generated(format!(" WHERE {condition}"));
        }
    }

    /// ` AND <condition>` (after a `WHERE` of the step's own), or nothing.
    fn and(&mut self, condition: Option<String>) {
        if let Some(condition) = condition {
            self.sql.generated(format!(" AND {condition}"));
        }
    }

    /// Takes the team row's key-share lock first, before any row it protects: a team's deletion
    /// locks it for update and then its tasks, so a write that took a task or statistics row
    /// first and the team row last (a foreign-key check does, at the end of the statement) could
    /// deadlock with it. The write applies only while the team exists.
    pub fn lock_team(&mut self, team: TeamId) -> &mut Self {
        let (name, _) = self.open(false);
        self.sql
            .sql("SELECT id FROM teams WHERE id = ")
            .bind(team.0)
            .sql(" FOR KEY SHARE");
        self.close(&name);
        self.gate = Some(format!("EXISTS (SELECT 1 FROM {name})"));
        self
    }

    /// [`Write::lock_team`], and the write applies only if `user`'s role there is one of
    /// `allowed` (the member row is locked too, so a removal cannot slip in between). The role
    /// comes back in [`Written::role`].
    pub fn lock_team_for(&mut self, team: TeamId, user: UserId, allowed: &[Role]) -> &mut Self {
        self.lock_team(team);
        let team_locked = self.previous.clone().unwrap_or_default();
        let (name, _) = self.open(false);
        self.sql
            .sql("SELECT role FROM team_members WHERE team_id = ")
            .bind(team.0)
            .sql(" AND user_id = ")
            .bind(user.0)
            .generated(format!(
                " AND EXISTS (SELECT 1 FROM {team_locked}) FOR KEY SHARE"
            ));
        self.close(&name);
        let roles: Vec<String> = allowed
            .iter()
            .map(|r| format!("'{}'", r.as_str()))
            .collect();
        self.gate = Some(format!(
            "EXISTS (SELECT 1 FROM {name} WHERE role IN ({}))",
            roles.join(", ")
        ));
        self.role = Some(name);
        self
    }

    fn head(&mut self, name: &str) {
        self.close(name);
        self.head = Some(name.to_owned());
    }

    /// Inserts a new task (the head).
    pub fn insert_task(&mut self, task: &Task) -> &mut Self {
        let (name, condition) = self.open(true);
        self.sql
            .sql(
                "INSERT INTO tasks (id, title, description, status, priority, due_at, owner_id, \
                 team_id, version, created_at, updated_at, completed_at) SELECT ",
            )
            .bind(task.id.0)
            .sql(", ")
            .bind(task.title.clone())
            .sql(", ")
            .bind(task.description.clone())
            .sql(", ")
            .bind(task.status.as_str())
            .sql(", ")
            .bind(task.priority.as_str())
            .sql(", ")
            .bind(task.due_at)
            .sql(", ")
            .bind(task.owner_id.0)
            .sql(", ")
            .bind(task.team_id.map(|t| t.0))
            .sql(", ")
            .bind(task.version)
            .sql(", ")
            .bind(task.created_at)
            .sql(", ")
            .bind(task.updated_at)
            .sql(", ")
            .bind(task.completed_at);
        self.where_(condition);
        self.sql.sql(" RETURNING id");
        self.head(&name);
        self
    }

    /// Writes `new` over the task, if it is still at version `read` (the head).
    pub fn update_task(&mut self, new: &Task, read: i64) -> &mut Self {
        let (name, condition) = self.open(true);
        self.sql
            .sql("UPDATE tasks SET title = ")
            .bind(new.title.clone())
            .sql(", description = ")
            .bind(new.description.clone())
            .sql(", status = ")
            .bind(new.status.as_str())
            .sql(", priority = ")
            .bind(new.priority.as_str())
            .sql(", due_at = ")
            .bind(new.due_at)
            .sql(", completed_at = ")
            .bind(new.completed_at)
            .sql(", version = ")
            .bind(new.version)
            .sql(", updated_at = ")
            .bind(new.updated_at)
            .sql(" WHERE id = ")
            .bind(new.id.0)
            .sql(" AND version = ")
            .bind(read);
        self.and(condition);
        self.sql.sql(" RETURNING id");
        self.head(&name);
        self
    }

    /// Deletes the task, if it is still at `version` with the shares read at `shares_version`
    /// (the head). Its shares go with it (foreign-key cascade).
    pub fn delete_task(&mut self, id: TaskId, version: i64, shares_version: i64) -> &mut Self {
        let (name, condition) = self.open(true);
        self.sql
            .sql("DELETE FROM tasks WHERE id = ")
            .bind(id.0)
            .sql(" AND version = ")
            .bind(version)
            .sql(" AND shares_version = ")
            .bind(shares_version);
        self.and(condition);
        self.sql.sql(" RETURNING id");
        self.head(&name);
        self
    }

    /// Marks the task's shares as changed, if they are still those read at `shares_version`
    /// (the head of a share or unshare). It locks the task row, and a concurrent write that read
    /// the old shares then fails its own check instead of counting the wrong sharees.
    pub fn touch_shares(&mut self, id: TaskId, shares_version: i64) -> &mut Self {
        let (name, condition) = self.open(true);
        self.sql
            .sql("UPDATE tasks SET shares_version = shares_version + 1 WHERE id = ")
            .bind(id.0)
            .sql(" AND shares_version = ")
            .bind(shares_version);
        self.and(condition);
        self.sql.sql(" RETURNING id");
        self.head(&name);
        self
    }

    /// Creates the share or changes its permission; when it was first made comes back in
    /// [`Written::share_created_at`].
    pub fn upsert_share(
        &mut self,
        task: TaskId,
        user: UserId,
        permission: Permission,
    ) -> &mut Self {
        let (name, condition) = self.open(false);
        self.sql
            .sql("INSERT INTO task_shares (task_id, user_id, permission) SELECT ")
            .bind(task.0)
            .sql(", ")
            .bind(user.0)
            .sql(", ")
            .bind(permission.as_str());
        self.where_(condition);
        self.sql.sql(
            " ON CONFLICT (task_id, user_id) DO UPDATE SET permission = EXCLUDED.permission \
             RETURNING created_at",
        );
        self.close(&name);
        self.share = Some(name);
        self
    }

    /// Removes a share.
    pub fn delete_share(&mut self, task: TaskId, user: UserId) -> &mut Self {
        let (name, condition) = self.open(false);
        self.sql
            .sql("DELETE FROM task_shares WHERE task_id = ")
            .bind(task.0)
            .sql(" AND user_id = ")
            .bind(user.0);
        self.and(condition);
        self.sql.sql(" RETURNING task_id");
        self.close(&name);
        self
    }

    /// Writes the audit entry.
    pub fn audit(&mut self, entry: AuditEntry) -> &mut Self {
        let (name, condition) = self.open(false);
        self.sql
            .sql(
                "INSERT INTO audit_log (id, actor_id, action, target_type, target_id, team_id, \
                 details) SELECT ",
            )
            .bind(Uuid::now_v7())
            .sql(", ")
            .bind(entry.actor_id.map(|id| id.0))
            .sql(", ")
            .bind(entry.action)
            .sql(", ")
            .bind(entry.target_type)
            .sql(", ")
            .bind(entry.target_id)
            .sql(", ")
            .bind(entry.team_id.map(|id| id.0))
            .sql(", ")
            .bind(entry.details.to_string())
            .sql("::jsonb");
        self.where_(condition);
        self.sql.sql(" RETURNING id");
        self.close(&name);
        self
    }

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
                Error::Unavailable(format!("a change could not be encoded: {err}"))
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

    /// Runs the statement.
    pub async fn run(mut self, conn: &mut AsyncPgConnection) -> Result<Written> {
        if self.is_empty() {
            return Ok(Written {
                applied: true,
                role: None,
                share_created_at: None,
                published: Vec::new(),
            });
        }
        let column = |cte: &Option<String>, column: &str, null: &str| match cte {
            Some(cte) => format!("(SELECT {column} FROM {cte})"),
            None => null.to_owned(),
        };
        let applied = match &self.head {
            Some(head) => format!("EXISTS (SELECT 1 FROM {head})"),
            None => "TRUE".to_owned(),
        };
        let versions: Vec<String> = (self.bumps.iter())
            .map(|(_, cte, _)| format!("(SELECT version FROM {cte})"))
            .collect();
        let ats: Vec<String> = (self.bumps.iter())
            .map(|(_, cte, _)| format!("(SELECT at FROM {cte})"))
            .collect();
        self.sql.generated(format!(
            " SELECT {}, {applied}, {}, ARRAY[{}]::bigint[], ARRAY[{}]::timestamptz[]",
            column(&self.role, "role", "NULL::text"),
            column(&self.share, "created_at", "NULL::timestamptz"),
            versions.join(", "),
            ats.join(", "),
        ));
        let (role, applied, share_created_at, versions, ats): WrittenValues =
            self.sql.get_result(conn).await?;
        let role = role.as_deref().map(parse_stored).transpose()?;
        let mut published = Vec::with_capacity(self.bumps.len());
        if applied {
            for (((scope, _, delta), version), at) in self.bumps.into_iter().zip(versions).zip(ats)
            {
                // Every step after the head runs once the head wrote: a bump without its row
                // would be a broken invariant, not a state to publish.
                let (Some(version), Some(as_of)) = (version, at) else {
                    return Err(Error::NotFound("statistics row"));
                };
                published.push(Published {
                    scope,
                    version,
                    as_of,
                    delta,
                });
            }
        }
        Ok(Written {
            applied,
            role,
            share_created_at,
            published,
        })
    }
}
