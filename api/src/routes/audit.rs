//! `GET /api/v1/audit-logs`: the caller's own actions, or a team's
//! entries for its admins and owners.

use poem_openapi::param::Query;
use poem_openapi::{ApiResponse, OpenApi};
use taskpulse_actors::TeamId;
use taskpulse_live::shapes::audit::AuditPage;
use uuid::Uuid;

use crate::auth::BearerAuth;
use crate::routes::ApiTags;
use crate::routes::problem::{
    Failure, MALFORMED, UNAUTHENTICATED, UNAVAILABLE, VALIDATION, problems,
};
use crate::state::AppState;
use crate::wire::Wire;

/// The audit log.
pub struct AuditApi {
    state: AppState,
}

impl AuditApi {
    /// The audit API over the shared state.
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

#[derive(ApiResponse)]
enum AuditAnswer {
    /// A page of entries, newest first.
    #[oai(status = 200)]
    Ok(Wire<AuditPage>),
}

problems!(
    /// The problems `audit_log` documents.
    AuditProblems: [
        MALFORMED,
        UNAUTHENTICATED,
        (403, "`forbidden`: only a team admin or owner may read the team's entries"),
        (404, "`not_found`: `team_id` names a team the caller is not a member of"),
        VALIDATION,
        UNAVAILABLE,
    ]
);

#[OpenApi(tag = "ApiTags::Audit")]
impl AuditApi {
    /// Audit log
    ///
    /// Without `team_id`, the caller's own actions; with it, every entry of that team (its
    /// admins and owners only). Newest first, keyset-paginated.
    #[oai(
        path = "/api/v1/audit-logs",
        method = "get",
        operation_id = "listAuditLogs"
    )]
    async fn audit_log(
        &self,
        auth: BearerAuth,
        /// A team the caller administers; absent for the caller's own actions.
        team_id: Query<Option<Uuid>>,
        /// Page size, 1..=200 (default 50).
        limit: Query<Option<i64>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
    ) -> Result<AuditAnswer, Failure<AuditProblems>> {
        let page = self
            .state
            .engine
            .audit_log(auth.0, team_id.0.map(TeamId), limit.0, cursor.0.as_deref())
            .await?;
        Ok(AuditAnswer::Ok(Wire(page.into())))
    }
}
