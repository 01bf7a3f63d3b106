//! Reading the audit log: a user's own actions, or a team's entries for its admins and owners.

use super::Engine;
use super::tasks::{Page, checked_limit, parse_cursor};
use crate::error::{Entity, Error, Result};
use crate::model::{TeamId, UserId};
use crate::store::AuditRecord;
use crate::store::audit::{AuditOf, audit_page};
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
        let of = match team {
            Some(team) => {
                let role = teams::role_of(&mut conn, team, actor)
                    .await?
                    .ok_or(Error::NotFound(Entity::Team))?;
                if !role.can_manage() {
                    return Err(Error::Forbidden(
                        "only a team admin or owner may read the team's audit log".to_owned(),
                    ));
                }
                AuditOf::Team(team)
            }
            None => AuditOf::Actor(actor),
        };
        let mut items = audit_page(&mut conn, of, before, limit + 1).await?;
        let next_cursor = if items.len() as i64 > limit {
            items.truncate(limit as usize);
            items.last().map(|e| e.id.simple().to_string())
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }
}
