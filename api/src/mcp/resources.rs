//! The MCP resources: the caller's dashboard (`taskpulse://dashboard/user`) and each of their
//! teams' (`taskpulse://dashboard/team/{team_id}`), read from the live aggregates and followed
//! through the engine's subscriptions, so a change committed on any node is announced with
//! `notifications/resources/updated`.

use chrono::Utc;
use rmcp::model::{
    ErrorCode, ErrorData, ListResourceTemplatesResult, ListResourcesResult, ReadResourceResult,
    Resource, ResourceContents, ResourceTemplate, ResourceUpdatedNotificationParam,
};
use rmcp::service::{Peer, RoleServer};
use serde::Serialize;
use taskpulse_actors::{Scope, SubscriptionEvent, TeamId, UserId};
use taskpulse_live::shapes::dashboard::{BreakdownView, StatisticsView};
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::error::{ApiError, problem_document};
use crate::state::AppState;

/// The caller's own dashboard.
pub(crate) const USER_DASHBOARD: &str = "taskpulse://dashboard/user";
/// A team's dashboard, by team id.
const TEAM_DASHBOARD: &str = "taskpulse://dashboard/team/";
const TEAM_TEMPLATE: &str = "taskpulse://dashboard/team/{team_id}";
const JSON: &str = "application/json";
/// Teams listed as resources at most (more are still readable through the template).
const LISTED_TEAMS: i64 = 200;

/// What a dashboard resource holds: the statistics and the breakdown of one version of the
/// aggregate, each exactly as REST's dashboard routes answer it.
#[derive(Serialize)]
struct DashboardDocument {
    /// The aggregate's version both parts are of.
    version: i64,
    statistics: StatisticsView,
    breakdown: BreakdownView,
}

/// The scope a resource URI names, for `user`.
fn scope_of(uri: &str, user: UserId) -> Result<Scope, ErrorData> {
    if uri == USER_DASHBOARD {
        return Ok(Scope::User(user));
    }
    uri.strip_prefix(TEAM_DASHBOARD)
        .and_then(|id| Uuid::parse_str(id).ok())
        .map(|id| Scope::Team(TeamId(id)))
        .ok_or_else(|| {
            ErrorData::resource_not_found(
                format!("no resource {uri}: resources/list and resources/templates/list name them"),
                None,
            )
        })
}

/// A failure of the engine as a JSON-RPC error carrying REST's problem document.
pub(crate) fn as_error(err: &ApiError) -> ErrorData {
    let problem = problem_document(err);
    let code = match problem.status {
        404 => ErrorCode::RESOURCE_NOT_FOUND,
        500.. => ErrorCode::INTERNAL_ERROR,
        _ => ErrorCode::INVALID_PARAMS,
    };
    let message = problem.detail.clone();
    ErrorData::new(code, message, serde_json::to_value(problem).ok())
}

/// The caller's dashboard and their teams' (the first 200).
pub(crate) async fn list(state: &AppState, user: UserId) -> Result<ListResourcesResult, ErrorData> {
    let teams = state
        .engine
        .list_teams(user, Some(LISTED_TEAMS), None)
        .await
        .map_err(|err| as_error(&err.into()))?;
    let mut resources = vec![
        Resource::new(USER_DASHBOARD, "my-dashboard")
            .with_title("My dashboard")
            .with_description(
                "Live statistics and breakdown of the caller's tasks (with the sharing \
                 counters); subscribe to hear of every change.",
            )
            .with_mime_type(JSON),
    ];
    resources.extend(teams.items.into_iter().map(|team| {
        Resource::new(
            format!("{TEAM_DASHBOARD}{}", team.id.0),
            format!("team-{}", team.id.0),
        )
        .with_title(format!("Team dashboard: {}", team.name))
        .with_description(
            "Live statistics and breakdown (by status, priority and member) of the team's tasks.",
        )
        .with_mime_type(JSON)
    }));
    Ok(ListResourcesResult::with_all_items(resources))
}

/// The team dashboard template.
pub(crate) fn templates() -> ListResourceTemplatesResult {
    ListResourceTemplatesResult::with_all_items(vec![
        ResourceTemplate::new(TEAM_TEMPLATE, "team-dashboard")
            .with_title("Team dashboard")
            .with_description(
                "Live statistics and breakdown of a team's tasks; `team_id` is a team the \
                 caller belongs to (list_teams names them).",
            )
            .with_mime_type(JSON),
    ])
}

/// Reads one dashboard: statistics and breakdown of the same version.
pub(crate) async fn read(
    state: &AppState,
    user: UserId,
    uri: &str,
) -> Result<ReadResourceResult, ErrorData> {
    let scope = scope_of(uri, user)?;
    let engine = &state.engine;
    let failed = |err: taskpulse_actors::Error| as_error(&err.into());
    engine.authorize_read(user, scope).await.map_err(failed)?;
    // One snapshot for both parts, so they agree on the version.
    let snapshot = engine.snapshot(scope).await.map_err(failed)?;
    let document = DashboardDocument {
        version: snapshot.version,
        statistics: StatisticsView::from(&snapshot.statistics(Utc::now())),
        breakdown: BreakdownView::from(&snapshot.breakdown()),
    };
    let text = serde_json::to_string(&document)
        .map_err(|err| as_error(&ApiError::Internal(err.to_string())))?;
    let contents = ResourceContents::TextResourceContents {
        uri: uri.to_owned(),
        mime_type: Some(JSON.to_owned()),
        text,
        meta: None,
    };
    Ok(ReadResourceResult::new(vec![contents]))
}

/// Follows the resource `uri` for `user`: every change of its aggregate, committed on any
/// node, sends `notifications/resources/updated` to `peer`. Losing the right to read it (say,
/// leaving the team) sends one last notification (a read then answers `not_found`) and ends
/// the subscription.
pub(crate) async fn follow(
    state: &AppState,
    user: UserId,
    uri: String,
    peer: Peer<RoleServer>,
) -> Result<JoinHandle<()>, ErrorData> {
    let scope = scope_of(&uri, user)?;
    let mut subscription =
        (state.engine.subscribe(user, scope, None).await).map_err(|err| as_error(&err.into()))?;
    Ok(tokio::spawn(async move {
        let mut first = true;
        while let Some(event) = subscription.next().await {
            let revoked = matches!(event, SubscriptionEvent::Revoked);
            match event {
                // What the subscriber already read.
                SubscriptionEvent::Snapshot(_) if std::mem::take(&mut first) => continue,
                SubscriptionEvent::Resumed { .. } => continue,
                _ => {}
            }
            let updated = ResourceUpdatedNotificationParam::new(uri.clone());
            if peer.notify_resource_updated(updated).await.is_err() || revoked {
                break;
            }
        }
    }))
}
