//! A task's reminders (docs/notifications.md, "Reminders"): two in-app outbox rows due at their
//! time — "due within a day" 24 hours before `due_at`, "overdue" at `due_at` — written, moved and
//! cancelled by the same statement as the change to the task. The outbox's workers fire them
//! when they fall due, like any row, so the schedule lives in the database: it survives
//! restarts, needs no other service, and every node shares it, each row worked once.

use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use super::Write;
use crate::model::{NotificationKind, Task, TaskStatus};
use crate::store::durable_outbox::Channel;

/// How long before `due_at` the first reminder comes.
pub(crate) const DUE_SOON: TimeDelta = TimeDelta::hours(24);

/// The reminders a task in this state is owed: none for a completed task or one without a due
/// time; "overdue" at `due_at`, and "due within a day" before it unless it is past already.
pub(crate) fn reminders(task: &Task, now: DateTime<Utc>) -> Vec<(NotificationKind, DateTime<Utc>)> {
    let Some(due) = task.due_at.filter(|_| task.status != TaskStatus::Completed) else {
        return Vec::new();
    };
    let mut owed = Vec::with_capacity(2);
    if due > now {
        owed.push((NotificationKind::TaskDueSoon, (due - DUE_SOON).max(now)));
    }
    owed.push((NotificationKind::TaskOverdue, due));
    owed
}

impl Write {
    /// Re-arms the task's reminders when the change moves them: from `old`'s (none for a new
    /// task) to `new`'s (none for a deleted one). Moving `due_at` cancels the old ones and arms
    /// new ones; completing cancels them; anything else leaves them alone.
    pub fn reminders(&mut self, old: Option<&Task>, new: Option<&Task>) -> &mut Self {
        let armed = |task: Option<&Task>| {
            task.filter(|t| t.status != TaskStatus::Completed)
                .and_then(|t| t.due_at)
        };
        if armed(old) == armed(new) {
            return self;
        }
        if let Some(old) = old.filter(|old| armed(Some(old)).is_some()) {
            let (name, condition) = self.open(false);
            self.sql
                .sql("DELETE FROM outbox WHERE channel = 'in_app' AND task_id = ")
                .bind(old.id.0)
                .sql(" AND kind IN ('task_due_soon', 'task_overdue')");
            self.and(condition);
            self.sql.sql(" RETURNING id");
            self.close(&name);
        }
        if let Some(new) = new {
            for (kind, at) in reminders(new, Utc::now()) {
                let (name, condition) = self.open(false);
                self.sql
                    .sql(
                        "INSERT INTO outbox (id, channel, kind, at, due_at, task_id, team_id, \
                         recipients, details) SELECT ",
                    )
                    .values([
                        Uuid::now_v7().into(),
                        Channel::InApp.as_str().into(),
                        kind.as_str().into(),
                        at.into(),
                        at.into(),
                        new.id.0.into(),
                        new.team_id.map(|t| t.0).into(),
                        vec![new.owner_id.0].into(),
                        serde_json::json!({ "title": new.title, "due_at": new.due_at })
                            .to_string()
                            .into(),
                    ])
                    .sql("::jsonb");
                self.where_(condition);
                self.sql.sql(" RETURNING id");
                self.close(&name);
            }
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Priority, TaskId, UserId};

    fn task(due_at: Option<DateTime<Utc>>, status: TaskStatus) -> Task {
        let now = Utc::now();
        Task {
            id: TaskId::new(),
            title: "t".to_owned(),
            description: String::new(),
            status,
            priority: Priority::Medium,
            due_at,
            owner_id: UserId::new(),
            team_id: None,
            version: 1,
            created_at: now,
            updated_at: now,
            started_at: None,
            completed_at: None,
        }
    }

    #[test]
    fn a_due_task_is_owed_both_a_completed_or_undue_one_none_a_late_one_only_overdue() {
        let now = Utc::now();
        let in_two_days = now + TimeDelta::days(2);
        let in_an_hour = now + TimeDelta::hours(1);
        let an_hour_ago = now - TimeDelta::hours(1);
        use NotificationKind::{TaskDueSoon, TaskOverdue};

        assert_eq!(
            reminders(&task(Some(in_two_days), TaskStatus::Pending), now),
            [
                (TaskDueSoon, in_two_days - DUE_SOON),
                (TaskOverdue, in_two_days)
            ]
        );
        assert_eq!(
            reminders(&task(Some(in_an_hour), TaskStatus::InProgress), now),
            [(TaskDueSoon, now), (TaskOverdue, in_an_hour)]
        );
        assert_eq!(
            reminders(&task(Some(an_hour_ago), TaskStatus::Pending), now),
            [(TaskOverdue, an_hour_ago)]
        );
        assert!(reminders(&task(Some(in_two_days), TaskStatus::Completed), now).is_empty());
        assert!(reminders(&task(None, TaskStatus::Pending), now).is_empty());
    }
}
