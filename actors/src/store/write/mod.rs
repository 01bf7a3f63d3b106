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

//!
//! This file holds the chain itself and running it; `task_steps.rs` the steps that lock a team
//! and change a task, its shares and the audit log; `reminder_steps.rs` the task's reminders;
//! `aggregate_steps.rs` the steps that apply a delta to an aggregate's rows.

mod aggregate_steps;
mod day_rows;
mod reminder_steps;
mod task_steps;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use diesel::sql_types::{Array, BigInt, Bool, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

pub(crate) use reminder_steps::reminders;

use super::aggregates::ChangeLog;
use super::sql::Sql;
use crate::error::{Entity, Error, Result};
use crate::model::Role;
use crate::published::Published;
use crate::stats::{Delta, Scope};

type WrittenRow = (
    Nullable<Text>,
    Bool,
    Array<diesel::sql_types::Uuid>,
    Nullable<Timestamptz>,
    Array<Nullable<BigInt>>,
    Array<Nullable<Timestamptz>>,
);

type WrittenValues = (
    Option<Role>,
    bool,
    Vec<Uuid>,
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
    /// Whether it put a notice in the outbox (the outbox's workers then have work).
    pub noticed: bool,
    /// The webhooks it put events in the outbox for.
    pub hooked: Vec<Uuid>,
}

/// A write being built; nothing reaches the database before [`Write::run`].
pub(crate) struct Write {
    sql: Sql<WrittenRow>,
    steps: usize,
    previous: Option<String>,
    /// The condition the head runs under, set by the steps that lock a team.
    head_condition: Option<String>,
    head: Option<String>,
    role: Option<String>,
    share: Option<String>,
    bumps: Vec<(Scope, String, Arc<Delta>)>,
    log: ChangeLog,
    /// A step puts a notice in the outbox.
    noticed: bool,
    /// The step that puts events for webhooks in the outbox.
    hooked: Option<String>,
}

impl Write {
    pub fn new(log: ChangeLog) -> Self {
        Self {
            sql: Sql::new(),
            steps: 0,
            previous: None,
            head_condition: None,
            head: None,
            role: None,
            share: None,
            bumps: Vec::new(),
            log,
            noticed: false,
            hooked: None,
        }
    }

    /// How many parameters the statement has so far.
    pub fn parameters(&self) -> usize {
        self.sql.parameters()
    }

    /// The aggregates the statement bumps, in lock order.
    pub fn scopes(&self) -> impl Iterator<Item = Scope> + '_ {
        self.bumps.iter().map(|(scope, _, _)| *scope)
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
            self.head_condition.clone()
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

    fn head(&mut self, name: &str) {
        self.close(name);
        self.head = Some(name.to_owned());
    }

    /// A head that updates or deletes the task row: `build` writes the statement up to its own
    /// `WHERE`, which the head's condition (if any) joins.
    fn conditional_head(&mut self, build: impl FnOnce(&mut Sql<WrittenRow>)) -> &mut Self {
        let (name, condition) = self.open(true);
        build(&mut self.sql);
        self.and(condition);
        self.sql.sql(" RETURNING id");
        self.head(&name);
        self
    }

    /// Runs the statement.
    pub async fn run(mut self, conn: &mut AsyncPgConnection) -> Result<Written> {
        if self.is_empty() {
            return Ok(Written {
                applied: true,
                role: None,
                share_created_at: None,
                published: Vec::new(),
                noticed: false,
                hooked: Vec::new(),
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
        let hooked = match &self.hooked {
            Some(step) => format!("ARRAY(SELECT webhook_id FROM {step})"),
            None => "ARRAY[]::uuid[]".to_owned(),
        };
        self.sql.generated(format!(
            " SELECT {}, {applied}, {hooked}, {}, ARRAY[{}]::bigint[], ARRAY[{}]::timestamptz[]",
            column(&self.role, "role", "NULL::text"),
            column(&self.share, "created_at", "NULL::timestamptz"),
            versions.join(", "),
            ats.join(", "),
        ));
        // Read to the end of the answer, not to its first row (`get_result` stops there): on its
        // own the statement commits when PostgreSQL has sent its row, at the end of the answer,
        // and only then has the commit reached the disk and a synchronous standby. Answering
        // after the first row acknowledged writes a crash of the server could still lose
        // (docs/operations.md, "Nothing acknowledged is lost").
        let mut rows: Vec<WrittenValues> = self.sql.get_results(conn).await?;
        let (role, applied, hooked, share_created_at, versions, ats) =
            rows.pop().ok_or(diesel::result::Error::NotFound)?;
        let mut published = Vec::with_capacity(self.bumps.len());
        if applied {
            for (((scope, _, delta), version), at) in self.bumps.into_iter().zip(versions).zip(ats)
            {
                // Every step after the head runs once the head wrote: a bump without its row
                // would be a broken invariant, not a state to publish.
                let (Some(version), Some(as_of)) = (version, at) else {
                    return Err(Error::NotFound(Entity::StatisticsRow));
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
            noticed: applied && self.noticed,
            hooked,
        })
    }
}
