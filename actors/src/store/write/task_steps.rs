//! The steps that lock a team and change a task, its shares and the audit log.

use uuid::Uuid;

use super::Write;
use crate::model::{Permission, Role, Task, TaskId, TeamId, UserId};
use crate::notice::Notice;
use crate::store::audit::AuditEntry;
use crate::store::durable_outbox::Channel;
use crate::store::webhooks::push_events;
use crate::webhook_notice::WebhookNotice;

impl Write {
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
        self.head_condition = Some(format!("EXISTS (SELECT 1 FROM {name})"));
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
        self.head_condition = Some(format!(
            "EXISTS (SELECT 1 FROM {name} WHERE role IN ({}))",
            roles.join(", ")
        ));
        self.role = Some(name);
        self
    }

    /// Inserts a new task (the head).
    pub fn insert_task(&mut self, task: &Task) -> &mut Self {
        let (name, condition) = self.open(true);
        self.sql
            .sql(
                "INSERT INTO tasks (id, title, description, status, priority, due_at, owner_id, \
                 team_id, version, created_at, updated_at, started_at, completed_at) SELECT ",
            )
            .values([
                task.id.0.into(),
                task.title.clone().into(),
                task.description.clone().into(),
                task.status.as_str().into(),
                task.priority.as_str().into(),
                task.due_at.into(),
                task.owner_id.0.into(),
                task.team_id.map(|t| t.0).into(),
                task.version.into(),
                task.created_at.into(),
                task.updated_at.into(),
                task.started_at.into(),
                task.completed_at.into(),
            ]);
        self.where_(condition);
        self.sql.sql(" RETURNING id");
        self.head(&name);
        self
    }

    /// Writes `new` over the task, if it is still at version `read` (the head).
    pub fn update_task(&mut self, new: &Task, read: i64) -> &mut Self {
        self.conditional_head(|sql| {
            sql.sql("UPDATE tasks SET title = ")
                .bind(new.title.clone())
                .sql(", description = ")
                .bind(new.description.clone())
                .sql(", status = ")
                .bind(new.status.as_str())
                .sql(", priority = ")
                .bind(new.priority.as_str())
                .sql(", due_at = ")
                .bind(new.due_at)
                .sql(", started_at = ")
                .bind(new.started_at)
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
        })
    }

    /// Deletes the task, if it is still at `version` with the shares read at `shares_version`
    /// (the head). Its shares go with it (foreign-key cascade).
    pub fn delete_task(&mut self, id: TaskId, version: i64, shares_version: i64) -> &mut Self {
        self.conditional_head(|sql| {
            sql.sql("DELETE FROM tasks WHERE id = ")
                .bind(id.0)
                .sql(" AND version = ")
                .bind(version)
                .sql(" AND shares_version = ")
                .bind(shares_version);
        })
    }

    /// Marks the task's shares as changed, if they are still those read at `shares_version`
    /// (the head of a share or unshare). It locks the task row, and a concurrent write that read
    /// the old shares then fails its own check instead of counting the wrong sharees.
    pub fn touch_shares(&mut self, id: TaskId, shares_version: i64) -> &mut Self {
        self.conditional_head(|sql| {
            sql.sql("UPDATE tasks SET shares_version = shares_version + 1 WHERE id = ")
                .bind(id.0)
                .sql(" AND shares_version = ")
                .bind(shares_version);
        })
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
            .values([task.0.into(), user.0.into(), permission.as_str().into()]);
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

    /// Writes the audit entry, the notice of the change to the outbox when it notifies
    /// anyone, and its events for the webhooks that hear it.
    pub fn audit(&mut self, entry: AuditEntry) -> &mut Self {
        let id = Uuid::now_v7();
        let notice = Notice::of(&entry);
        let webhooks = WebhookNotice::of(id, &entry);
        let (name, condition) = self.open(false);
        self.sql
            .sql(
                "INSERT INTO audit_log (id, actor_id, action, target_type, target_id, team_id, \
                 audience, details) SELECT ",
            )
            .values([
                id.into(),
                entry.actor_id.map(|id| id.0).into(),
                entry.action.as_str().into(),
                entry.target_type.into(),
                entry.target_id.into(),
                entry.team_id.map(|id| id.0).into(),
                entry.feed_users().into(),
                entry.details.to_string().into(),
            ])
            .sql("::jsonb");
        self.where_(condition);
        self.sql.sql(" RETURNING id");
        self.close(&name);
        if let Some(notice) = notice {
            self.notice(&notice);
        }
        if let Some(webhooks) = webhooks {
            self.webhook_events(&webhooks);
        }
        self
    }

    /// Puts the change's events in the outbox, one row per webhook that hears it (none, and
    /// no cost beyond an index probe, when no webhook does).
    fn webhook_events(&mut self, notice: &WebhookNotice) -> &mut Self {
        let (name, condition) = self.open(false);
        push_events(&mut self.sql, notice);
        self.and(condition);
        self.sql.sql(" RETURNING webhook_id");
        self.close(&name);
        self.hooked = Some(name);
        self
    }

    /// Puts the notice in the outbox: one row, however many users it reaches (the worker
    /// makes their notifications: `notify/`).
    fn notice(&mut self, notice: &Notice) -> &mut Self {
        let (name, condition) = self.open(false);
        self.sql
            .sql(
                "INSERT INTO outbox (id, channel, kind, actor_id, task_id, team_id, recipients, \
                 details) SELECT ",
            )
            .values([
                Uuid::now_v7().into(),
                Channel::InApp.as_str().into(),
                notice.kind.as_str().into(),
                notice.actor.0.into(),
                notice.task.map(|t| t.0).into(),
                notice.team.map(|t| t.0).into(),
                notice
                    .recipients
                    .iter()
                    .map(|u| u.0)
                    .collect::<Vec<_>>()
                    .into(),
                notice.details.to_string().into(),
            ])
            .sql("::jsonb");
        self.where_(condition);
        self.sql.sql(" RETURNING id");
        self.close(&name);
        self.noticed = true;
        self
    }
}
