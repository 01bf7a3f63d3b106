//! Importing tasks from a file, with their history: every line checked first (the rules of
//! `create_task`, and those of times in the past, `import_rules.rs`), then all of them written
//! in one transaction whose aggregates move once per scope, or nothing at all.

use serde_json::json;

use super::Engine;
use super::import_rules::{Checked, check_lines};
use super::transaction::Committed;
use crate::audit_action::AuditAction;
use crate::error::{Entity, Error, FieldError, Result};
use crate::model::{Task, TeamId, UserId};
use crate::stats::{DeltaSet, merge_into, task_deltas};
use crate::store::import::{arm_reminders, insert_tasks, lock_team_for};
use crate::store::tasks::facts;
use crate::store::{AuditEntry, write_audit};

/// The most tasks one import may hold.
pub const IMPORT_MAX_TASKS: usize = 100_000;

/// The most errors a refused import lists (the first ones, in line order).
pub const IMPORT_MAX_ERRORS: usize = 100;

/// How many tasks' deltas are merged with each other before they join the import's.
const MERGED_TOGETHER: usize = 256;

/// One task of an import file, as the file spells it: the engine checks every value. `None` is
/// an empty cell or a missing (or `null`) field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportedTask {
    /// The line the task starts on (a CSV file's header is line 1).
    pub line: u64,
    /// Required: 1..=200 characters, not blank.
    pub title: Option<String>,
    /// At most 10 000 characters; empty when absent.
    pub description: Option<String>,
    /// `pending` (when absent), `in_progress` or `completed`.
    pub status: Option<String>,
    /// `low`, `medium` (when absent), `high` or `urgent`.
    pub priority: Option<String>,
    /// RFC 3339, any offset.
    pub due_at: Option<String>,
    /// RFC 3339, any offset, not in the future; the time of the import when absent.
    pub created_at: Option<String>,
    /// RFC 3339, not before `created_at`, not in the future.
    pub started_at: Option<String>,
    /// RFC 3339, not before `started_at` nor `created_at`, not in the future; present exactly
    /// when the status is `completed`.
    pub completed_at: Option<String>,
}

/// One line of an import file: a task, or why the line could not be read at all (a CSV record
/// with the wrong number of cells, a line that is not a JSON object, …).
pub type ImportLine = std::result::Result<ImportedTask, FieldError>;

impl Engine {
    /// Imports `lines` as tasks owned by `actor` (in `team`, when given: role `member` or above),
    /// all or nothing. Every line is checked before anything is written; any error answers
    /// `Validation` with the first [`IMPORT_MAX_ERRORS`] errors, each naming its line, and
    /// writes nothing. Otherwise one transaction inserts the tasks, writes one audit entry
    /// (`task.import`, with the count) and moves each aggregate concerned (the owner's, the
    /// team's) by one version whatever the number of tasks. Answers how many were imported.
    pub async fn import_tasks(
        &self,
        actor: UserId,
        team: Option<TeamId>,
        lines: Vec<ImportLine>,
    ) -> Result<usize> {
        // A hundred thousand lines are some work: off the async workers.
        let (tasks, deltas) = tokio::task::spawn_blocking(move || prepare(lines, actor, team))
            .await
            .map_err(|err| {
                Error::EngineUnavailable(format!("an import's check failed: {err}"))
            })??;
        let count = tasks.len();
        let audit = AuditEntry {
            actor_id: Some(actor),
            action: AuditAction::TaskImport,
            target_type: "task",
            target_id: None,
            team_id: team,
            details: json!({ "count": count }),
            audience: vec![actor],
        };
        // A transaction passes no write gate (`write_gates.rs`): its statistics rows are
        // locked only by its last statement, until the commit right after it.
        self.transaction(async |conn| {
            if let Some(team) = team {
                match lock_team_for(conn, team, actor).await? {
                    None => return Err(Error::NotFound(Entity::Team)),
                    Some(role) if !role.can_write() => {
                        return Err(Error::Forbidden(
                            "viewers cannot import team tasks".to_owned(),
                        ));
                    }
                    Some(_) => {}
                }
            }
            insert_tasks(conn, &tasks).await?;
            arm_reminders(conn, &tasks).await?;
            write_audit(conn, audit).await?;
            let published = self.apply_deltas(conn, deltas).await?;
            Ok(Committed {
                answer: count,
                published,
            })
        })
        .await
    }
}

/// The tasks of `lines` and what they add to each aggregate, every task's deltas merged into
/// one per scope; or every error found.
fn prepare(
    lines: Vec<ImportLine>,
    actor: UserId,
    team: Option<TeamId>,
) -> Result<(Vec<Task>, DeltaSet)> {
    let Checked { tasks, errors } = check_lines(lines, actor, team);
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    // Merged a group at a time: each merge into a delta walks all of its days, and the whole
    // import's delta may hold thousands.
    let mut deltas = DeltaSet::new();
    for group in tasks.chunks(MERGED_TOGETHER) {
        let mut merged = DeltaSet::new();
        for task in group {
            for (scope, delta) in task_deltas(None, Some(&facts(task, Vec::new()))) {
                merge_into(&mut merged, scope, delta);
            }
        }
        for (scope, delta) in merged {
            merge_into(&mut deltas, scope, delta);
        }
    }
    Ok((tasks, deltas))
}
