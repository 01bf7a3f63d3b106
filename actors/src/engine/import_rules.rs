//! The rules an imported task's values must keep (docs/export-import.md, "Validation"): those of
//! a created task, and those of a history — times in RFC 3339 with any offset, none before
//! 1970, none but `due_at` in the future, created ≤ started ≤ completed, and `completed_at` set
//! exactly when the status is `completed`.

use std::str::FromStr;

use chrono::{DateTime, Utc};

use super::import::{IMPORT_MAX_ERRORS, IMPORT_MAX_TASKS, ImportLine, ImportedTask};
use super::tasks::{check_title, stored_now, stored_time};
use super::validate::{Checks, DESCRIPTION_MAX};
use crate::error::{Error, FieldError};
use crate::model::{Priority, Task, TaskId, TaskStatus, TeamId, UserId};

/// What checking an import's lines found: its tasks, ready to write, when there is no error.
#[derive(Debug)]
pub(super) struct Checked {
    pub tasks: Vec<Task>,
    pub errors: Vec<FieldError>,
}

/// Checks every line (until [`IMPORT_MAX_ERRORS`] errors are found) and makes the tasks of a
/// file without errors, owned by `owner`, in `team`, created in file order.
pub(super) fn check_lines(lines: Vec<ImportLine>, owner: UserId, team: Option<TeamId>) -> Checked {
    let now = stored_now();
    let mut tasks = Vec::with_capacity(lines.len().min(IMPORT_MAX_TASKS));
    let mut errors = Vec::new();
    let mut count = 0;
    for line in lines {
        if errors.len() >= IMPORT_MAX_ERRORS {
            break;
        }
        let row = match line {
            Ok(row) => row,
            Err(unreadable) => {
                errors.push(unreadable);
                continue;
            }
        };
        count += 1;
        if count > IMPORT_MAX_TASKS {
            errors.push(FieldError::on_line(
                row.line,
                "body",
                format!("an import holds at most {IMPORT_MAX_TASKS} tasks"),
            ));
            break;
        }
        let mut found = LineErrors {
            line: row.line,
            errors: &mut errors,
            any: false,
        };
        let task = check_row(row, now, (owner, team), &mut found);
        if let Some(task) = task.filter(|_| errors.is_empty()) {
            tasks.push(task);
        }
    }
    errors.truncate(IMPORT_MAX_ERRORS);
    if count == 0 && errors.is_empty() {
        errors.push(FieldError::new("body", "the file holds no tasks"));
    }
    if !errors.is_empty() {
        tasks = Vec::new();
    }
    Checked { tasks, errors }
}

/// The errors of one line.
struct LineErrors<'a> {
    line: u64,
    errors: &'a mut Vec<FieldError>,
    any: bool,
}

impl LineErrors<'_> {
    fn push(&mut self, field: &str, message: impl Into<String>) {
        self.any = true;
        self.errors
            .push(FieldError::on_line(self.line, field, message));
    }
}

/// The task one row describes, owned by `owner` in `team`, or `None` with its errors recorded.
fn check_row(
    row: ImportedTask,
    now: DateTime<Utc>,
    (owner, team): (UserId, Option<TeamId>),
    found: &mut LineErrors<'_>,
) -> Option<Task> {
    let mut checks = Checks::default();
    match &row.title {
        Some(title) => check_title(&mut checks, title),
        None => found.push("title", "is required"),
    }
    if let Some(description) = &row.description {
        checks.length("description", description, 0, DESCRIPTION_MAX);
    }
    if let Err(Error::Validation(broken)) = checks.finish() {
        for error in broken {
            found.push(&error.field, error.message);
        }
    }
    let status = choice(row.status.as_deref(), "status", TaskStatus::Pending, found);
    let priority = choice(row.priority.as_deref(), "priority", Priority::Medium, found);
    let due_at = time(row.due_at.as_deref(), "due_at", None, found);
    let created_at = time(row.created_at.as_deref(), "created_at", Some(now), found);
    let started_at = time(row.started_at.as_deref(), "started_at", Some(now), found);
    let completed_at = time(
        row.completed_at.as_deref(),
        "completed_at",
        Some(now),
        found,
    );
    let (Some(status), Some(priority), Some(due_at), Some(created), Some(started), Some(completed)) = (
        status,
        priority,
        due_at,
        created_at,
        started_at,
        completed_at,
    ) else {
        return None;
    };
    let created_at = created.unwrap_or(now);
    if started.is_some_and(|started| started < created_at) {
        found.push("started_at", "must not be before created_at");
    }
    if let Some(completed) = completed {
        if started.is_some_and(|started| completed < started) {
            found.push("completed_at", "must not be before started_at");
        } else if completed < created_at {
            found.push("completed_at", "must not be before created_at");
        }
    }
    match (status == TaskStatus::Completed, completed.is_some()) {
        (true, false) => found.push("completed_at", "is required when status is completed"),
        (false, true) => found.push("completed_at", "must be empty unless status is completed"),
        _ => {}
    }
    if found.any {
        return None;
    }
    Some(Task {
        id: TaskId::new(),
        title: row.title.unwrap_or_default(),
        description: row.description.unwrap_or_default(),
        status,
        priority,
        due_at,
        owner_id: owner,
        team_id: team,
        version: 1,
        created_at,
        updated_at: now,
        started_at: started,
        completed_at: completed,
    })
}

/// A closed-set value, `default` when absent; `None` when it is not one of the set.
fn choice<T: FromStr<Err = String>>(
    text: Option<&str>,
    field: &str,
    default: T,
    found: &mut LineErrors<'_>,
) -> Option<T> {
    match text.map(str::parse) {
        None => Some(default),
        Some(Ok(value)) => Some(value),
        Some(Err(message)) => {
            found.push(field, message);
            None
        }
    }
}

/// A time (`Some(None)` when absent): RFC 3339 with any offset, kept in UTC at PostgreSQL's
/// precision, not before 1970 and, with `latest`, not after it. `None` when it breaks a rule.
fn time(
    text: Option<&str>,
    field: &str,
    latest: Option<DateTime<Utc>>,
    found: &mut LineErrors<'_>,
) -> Option<Option<DateTime<Utc>>> {
    let Some(text) = text else {
        return Some(None);
    };
    let Ok(parsed) = DateTime::parse_from_rfc3339(text) else {
        found.push(
            field,
            format!("{text:?} is not an RFC 3339 time such as 2026-03-01T09:30:00Z"),
        );
        return None;
    };
    let at = stored_time(parsed.with_timezone(&Utc));
    if at < DateTime::UNIX_EPOCH {
        found.push(field, "must not be before 1970-01-01T00:00:00Z");
        return None;
    }
    if latest.is_some_and(|latest| at > latest) {
        found.push(field, "must not be in the future");
        return None;
    }
    Some(Some(at))
}

#[cfg(test)]
mod tests;
