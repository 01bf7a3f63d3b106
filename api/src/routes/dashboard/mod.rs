//! `/api/v1/dashboard/*` (docs/architecture.md, "The live side"): read from the live
//! aggregates, never stale.

use poem_openapi::param::Query;
use poem_openapi::{ApiResponse, OpenApi};
use taskpulse_actors::{Scope, TeamId, UserId};
use taskpulse_live::shapes::dashboard::{
    ActivityView, BreakdownView, SharedOverviewView, StatisticsView,
};
use uuid::Uuid;

use crate::auth::BearerAuth;
use crate::routes::ApiTags;
use crate::routes::problem::{
    Failure, MALFORMED, UNAUTHENTICATED, UNAVAILABLE, VALIDATION, problems,
};
use crate::state::AppState;
use crate::wire::Wire;

/// The default number of days of activity.
const DEFAULT_DAYS: i64 = 7;

/// Live statistics.
pub struct DashboardApi {
    state: AppState,
}

impl DashboardApi {
    /// The dashboard API over the shared state.
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

#[derive(ApiResponse)]
enum StatisticsAnswer {
    /// The scope's statistics.
    #[oai(status = 200)]
    Ok(Wire<StatisticsView>),
}

#[derive(ApiResponse)]
enum BreakdownAnswer {
    /// The scope's breakdown.
    #[oai(status = 200)]
    Ok(Wire<BreakdownView>),
}

#[derive(ApiResponse)]
enum ActivityAnswer {
    /// The scope's activity.
    #[oai(status = 200)]
    Ok(Wire<ActivityView>),
}

#[derive(ApiResponse)]
enum SharedAnswer {
    /// The caller's sharing lists.
    #[oai(status = 200)]
    Ok(Wire<SharedOverviewView>),
}

const TEAM_NOT_FOUND: (u16, &str) = (
    404,
    "`not_found`: `team_id` names a team the caller is not a member of",
);

problems!(
    /// The problems of the scope reads.
    ScopeProblems: [MALFORMED, UNAUTHENTICATED, TEAM_NOT_FOUND, UNAVAILABLE]
);
problems!(
    /// The problems of `activity`.
    ActivityProblems: [MALFORMED, UNAUTHENTICATED, TEAM_NOT_FOUND, VALIDATION, UNAVAILABLE]
);
problems!(
    /// The problems of `shared`.
    SharedProblems: [UNAUTHENTICATED, UNAVAILABLE]
);

/// The scope a request names: a team, or the caller's own.
fn scope(caller: UserId, team_id: Option<Uuid>) -> Scope {
    match team_id {
        Some(team) => Scope::Team(TeamId(team)),
        None => Scope::User(caller),
    }
}

#[OpenApi(tag = "ApiTags::Dashboard")]
impl DashboardApi {
    /// Statistics
    ///
    /// Counts by status, overdue tasks and the completion rate of the caller's tasks (with
    /// the sharing counters), or of a team's tasks with `team_id`. A write is answered only
    /// once this reflects it.
    #[oai(
        path = "/api/v1/dashboard/statistics",
        method = "get",
        operation_id = "getDashboardStatistics"
    )]
    async fn statistics(
        &self,
        auth: BearerAuth,
        /// A team the caller belongs to; absent for the caller's own tasks.
        team_id: Query<Option<Uuid>>,
    ) -> Result<StatisticsAnswer, Failure<ScopeProblems>> {
        let stats = self
            .state
            .engine
            .statistics(auth.0, scope(auth.0, team_id.0))
            .await?;
        Ok(StatisticsAnswer::Ok(Wire(StatisticsView::from(&stats))))
    }

    /// Breakdown
    ///
    /// Tasks by status and by priority; a team scope adds tasks by owner.
    #[oai(
        path = "/api/v1/dashboard/breakdown",
        method = "get",
        operation_id = "getDashboardBreakdown"
    )]
    async fn breakdown(
        &self,
        auth: BearerAuth,
        /// A team the caller belongs to; absent for the caller's own tasks.
        team_id: Query<Option<Uuid>>,
    ) -> Result<BreakdownAnswer, Failure<ScopeProblems>> {
        let breakdown = self
            .state
            .engine
            .breakdown(auth.0, scope(auth.0, team_id.0))
            .await?;
        Ok(BreakdownAnswer::Ok(Wire(BreakdownView::from(&breakdown))))
    }

    /// Activity
    ///
    /// Tasks created and completed per UTC day over the last `days` days, oldest first, one
    /// entry per day (zeros included).
    #[oai(
        path = "/api/v1/dashboard/activity",
        method = "get",
        operation_id = "getDashboardActivity"
    )]
    async fn activity(
        &self,
        auth: BearerAuth,
        /// A team the caller belongs to; absent for the caller's own tasks.
        team_id: Query<Option<Uuid>>,
        /// How many days, 1..=90 (default 7).
        days: Query<Option<i64>>,
    ) -> Result<ActivityAnswer, Failure<ActivityProblems>> {
        // Out of `u32` is out of range too: the engine refuses 0 with the range's message.
        let days = u32::try_from(days.0.unwrap_or(DEFAULT_DAYS)).unwrap_or(0);
        let activity = self
            .state
            .engine
            .activity(auth.0, scope(auth.0, team_id.0), days)
            .await?;
        Ok(ActivityAnswer::Ok(Wire(ActivityView::from(&activity))))
    }

    /// Shared tasks
    ///
    /// The tasks others shared with the caller, and the caller's tasks shared with others.
    #[oai(
        path = "/api/v1/dashboard/shared",
        method = "get",
        operation_id = "getDashboardShared"
    )]
    async fn shared(&self, auth: BearerAuth) -> Result<SharedAnswer, Failure<SharedProblems>> {
        let overview = self.state.engine.shared_overview(auth.0).await?;
        Ok(SharedAnswer::Ok(Wire(overview.into())))
    }
}
