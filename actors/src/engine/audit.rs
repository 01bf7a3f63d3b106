//! Reading the audit log: a user's own actions, or a team's entries for its admins and owners.

use super::Engine;
use super::paging::{Page, PageRequest};
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
        let request = PageRequest::parse(limit, cursor)?;
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
        let rows = audit_page(&mut conn, of, request.cursor, request.rows()).await?;
        Ok(request.page(rows, |entry| entry.id))
    }
}
