//! `GET /api/v1/audit-logs`: the caller's own actions, or a team's
//! entries for its admins and owners.

use chrono::{DateTime, Utc};
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::types::Example;
use poem_openapi::{ApiResponse, Object, OpenApi};
use taskpulse_actors::{AuditRecord, Page, TeamId};
use uuid::Uuid;

use crate::auth::BearerAuth;
use crate::routes::ApiTags;
use crate::routes::problem::{
    Failure, MALFORMED, UNAUTHENTICATED, UNAVAILABLE, VALIDATION, problems,
};
use crate::routes::tasks::{EXAMPLE_USER_ID, example_time};
use crate::state::AppState;

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

/// One audit entry: who did what to which thing, and when.
#[derive(Debug, Object)]
#[oai(rename = "AuditEntry", example)]
pub struct AuditEntryView {
    /// The entry's id (UUIDv7: sorts by time).
    pub id: Uuid,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Who did it; `null` when nobody known did (a failed login for an unknown email).
    #[oai(nullable)]
    pub actor_id: Option<Uuid>,
    /// What was done, e.g. `task.create`, `team.member_add`, `auth.login`.
    pub action: String,
    /// The kind of thing it was done to: `task`, `team`, `user`, …
    pub target_type: String,
    /// The thing's id, when it has one.
    #[oai(nullable)]
    pub target_id: Option<Uuid>,
    /// The team it happened in, if any.
    #[oai(nullable)]
    pub team_id: Option<Uuid>,
    /// Anything else worth keeping about it (never secrets).
    pub details: serde_json::Value,
}

impl From<AuditRecord> for AuditEntryView {
    fn from(record: AuditRecord) -> Self {
        Self {
            id: record.id,
            at: record.at,
            actor_id: record.actor_id,
            action: record.action,
            target_type: record.target_type,
            target_id: record.target_id,
            team_id: record.team_id,
            details: record.details,
        }
    }
}

impl Example for AuditEntryView {
    fn example() -> Self {
        Self {
            id: Uuid::from_u128(0x0193_4f73_0000_7000_8000_0000_0000_0042),
            at: example_time(60),
            actor_id: Some(EXAMPLE_USER_ID),
            action: "task.create".to_owned(),
            target_type: "task".to_owned(),
            target_id: Some(Uuid::from_u128(0x0193_4f70_1c2a_7d4e_8f10_2b3c_4d5e_6f70)),
            team_id: None,
            details: serde_json::json!({ "title": "Write the quarterly report" }),
        }
    }
}

/// One page of audit entries, newest first.
#[derive(Debug, Object)]
#[oai(example)]
pub struct AuditPage {
    /// The entries.
    pub items: Vec<AuditEntryView>,
    /// Pass as `cursor` for the next page; `null` on the last one.
    #[oai(nullable)]
    pub next_cursor: Option<String>,
}

impl From<Page<AuditRecord>> for AuditPage {
    fn from(page: Page<AuditRecord>) -> Self {
        Self {
            items: page.items.into_iter().map(Into::into).collect(),
            next_cursor: page.next_cursor,
        }
    }
}

impl Example for AuditPage {
    fn example() -> Self {
        Self {
            items: vec![AuditEntryView::example()],
            next_cursor: None,
        }
    }
}

#[derive(ApiResponse)]
enum AuditAnswer {
    /// A page of entries, newest first.
    #[oai(status = 200)]
    Ok(Json<AuditPage>),
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
        Ok(AuditAnswer::Ok(Json(page.into())))
    }
}
