//! Reading the audit log: a user's own actions, or a team's entries for its admins and owners.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::Engine;
use super::tasks::{Page, checked_limit, parse_cursor};
use crate::error::{Error, Result};
use crate::model::{TeamId, UserId};
use crate::store::AuditRecord;
use crate::store::schema::audit_log;
use crate::store::teams;

impl Engine {
    /// A page of audit entries, newest first: without `team`, the caller's own actions; with
    /// it, that team's entries, for its admins and owners only (`NotFound` for non-members,
    /// `Forbidden` for members and viewers).
    pub async fn audit_log(
        &self,
        actor: UserId,
        team: Option<TeamId>,
        limit: Option<i64>,
        cursor: Option<&str>,
    ) -> Result<Page<AuditRecord>> {
        let limit = checked_limit(limit)?;
        let before = parse_cursor(cursor)?;
        let mut conn = self.conn().await?;
        let mut q = audit_log::table.into_boxed();
        q = match team {
            Some(team) => {
                let role = teams::role_of(&mut conn, team, actor)
                    .await?
                    .ok_or(Error::NotFound("team"))?;
                if !role.can_manage() {
                    return Err(Error::Forbidden(
                        "only a team admin or owner may read the team's audit log".to_owned(),
                    ));
                }
                q.filter(audit_log::team_id.eq(team.0))
            }
            None => q.filter(audit_log::actor_id.eq(actor.0)),
        };
        if let Some(before) = before {
            q = q.filter(audit_log::id.lt(before));
        }
        let mut items: Vec<AuditRecord> = q
            .select(AuditRecord::as_select())
            .order(audit_log::id.desc())
            .limit(limit + 1)
            .load(&mut conn)
            .await?;
        let next_cursor = if items.len() as i64 > limit {
            items.truncate(limit as usize);
            items.last().map(|e| e.id.simple().to_string())
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }
}
