//! Many day rows of one aggregate in two steps: what an import's delta carries (a history over
//! years touches thousands of days), and what a team's or an account's deletion takes back out.
//! One step a day, as `aggregate_steps.rs` writes a command's one or two days, would chain
//! thousands of CTEs, each naming the one before it, and PostgreSQL runs out of stack past about
//! 3 000 of them.
//!
//! The rows travel as one JSON parameter unpacked by `jsonb_to_recordset`:
//!
//! - the days whose change only counts up are upserted: a missing row is inserted, an existing
//!   one (committed by anyone, even after this statement began) has the change added. For them
//!   the row an insert would make is the change itself, so `EXCLUDED` carries it exactly;
//! - the days whose change counts something down are updated. Their rows exist: a task is taken
//!   out of the day it was counted on, whose row was written when it was counted and is never
//!   deleted. (A step a day would insert a missing row clamped at zero: the same count.)
//!
//! The two sets of days are disjoint, so no row is changed twice in the statement.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use uuid::Uuid;

use super::Write;
use crate::stats::DayCounts;

/// Above this many day rows, a delta's days are written in two steps rather than one a day.
pub(super) const DAYS_PER_STEP: usize = 16;

impl Write {
    /// Every day of `days` into `table` (keyed by `key` = `id`), in at most two steps.
    pub(super) fn days_at_once(
        &mut self,
        table: &str,
        key: &str,
        id: Uuid,
        days: &BTreeMap<NaiveDate, DayCounts>,
    ) {
        let counts_up = |c: &DayCounts| c.created >= 0 && c.completed >= 0;
        let up = rows(days.iter().filter(|(_, c)| counts_up(c)));
        let down = rows(days.iter().filter(|(_, c)| !counts_up(c)));
        if let Some(up) = up {
            let (name, condition) = self.open(false);
            self.sql
                .generated(format!(
                    "INSERT INTO {table} ({key}, day, created, completed) SELECT "
                ))
                .bind(id)
                .sql(", r.day, r.created, r.completed FROM jsonb_to_recordset(")
                .bind(up)
                .sql(RECORDS);
            self.where_(condition);
            self.sql.generated(format!(
                " ON CONFLICT ({key}, day) DO UPDATE SET \
                 created = {table}.created + EXCLUDED.created, \
                 completed = {table}.completed + EXCLUDED.completed RETURNING day"
            ));
            self.close(&name);
        }
        if let Some(down) = down {
            let (name, condition) = self.open(false);
            self.sql
                .generated(format!(
                    "UPDATE {table} SET created = {table}.created + r.created, \
                     completed = {table}.completed + r.completed FROM jsonb_to_recordset("
                ))
                .bind(down)
                .sql(RECORDS)
                .generated(format!(" WHERE {table}.{key} = "))
                .bind(id)
                .generated(format!(" AND {table}.day = r.day"));
            self.and(condition);
            self.sql.generated(format!(" RETURNING {table}.day"));
            self.close(&name);
        }
    }
}

/// How the JSON parameter is read: `FROM jsonb_to_recordset($n` then this.
const RECORDS: &str = "::jsonb) AS r(day date, created bigint, completed bigint)";

/// The days as a JSON array of `{day, created, completed}`; `None` when there are none.
fn rows<'d>(days: impl Iterator<Item = (&'d NaiveDate, &'d DayCounts)>) -> Option<String> {
    let rows: Vec<serde_json::Value> = days
        .map(|(day, c)| {
            serde_json::json!({ "day": day, "created": c.created, "completed": c.completed })
        })
        .collect();
    (!rows.is_empty()).then(|| serde_json::Value::Array(rows).to_string())
}
