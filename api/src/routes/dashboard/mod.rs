//! `/api/v1/dashboard/*` (docs/architecture.md, "The live side"): read from the live
//! aggregates, never stale.

use chrono::NaiveDate;
use poem_openapi::param::Query;
use poem_openapi::{ApiResponse, OpenApi};
use taskpulse_actors::{
    Error as EngineError, FieldError, Interval, Scope, TeamId, TrendsQuery, Tz, UserId,
    parse_interval, parse_tz,
};
use taskpulse_live::shapes::dashboard::{
    ActivityView, BreakdownView, SharedOverviewView, StatisticsView,
};
use taskpulse_live::shapes::trends::TrendsView;
use uuid::Uuid;

use crate::auth::BearerAuth;
use crate::error::ApiError;
use crate::routes::ApiTags;
use crate::routes::problem::{
    Failure, MALFORMED, UNAUTHENTICATED, UNAVAILABLE, VALIDATION, problems,
};
use crate::state::AppState;
use crate::wire::{JsonOrCsv, Wire};

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

/// The zone a request names (UTC when it names none).
fn zone(tz: Option<&str>) -> Result<Tz, EngineError> {
    tz.map_or(Ok(Tz::UTC), parse_tz)
}

/// A `YYYY-MM-DD` query parameter.
fn date(field: &str, value: Option<&str>) -> Result<Option<NaiveDate>, EngineError> {
    value
        .map(|day| {
            NaiveDate::parse_from_str(day, "%Y-%m-%d").map_err(|_| {
                EngineError::Validation(vec![FieldError::new(field, "must be a date, YYYY-MM-DD")])
            })
        })
        .transpose()
}

/// The trends a request asks for, from the texts REST's query and MCP's `get_trends` give:
/// the zone (UTC), the interval (week) and the first and last days.
pub(crate) fn trends_query(
    tz: Option<&str>,
    interval: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<TrendsQuery, EngineError> {
    Ok(TrendsQuery {
        tz: zone(tz)?,
        interval: match interval {
            None => Interval::Week,
            Some(name) => parse_interval(name)?,
        },
        from: date("from", from)?,
        to: date("to", to)?,
    })
}

/// The scope a request names: a team, or the caller's own.
pub(crate) fn scope(caller: UserId, team_id: Option<Uuid>) -> Scope {
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
        /// The IANA time zone whose calendar days count (default `UTC`).
        tz: Query<Option<String>>,
    ) -> Result<ActivityAnswer, Failure<ActivityProblems>> {
        // Out of `u32` is out of range too: the engine refuses 0 with the range's message.
        let days = u32::try_from(days.0.unwrap_or(DEFAULT_DAYS)).unwrap_or(0);
        let tz = zone(tz.0.as_deref())?;
        let activity = self
            .state
            .engine
            .activity(auth.0, scope(auth.0, team_id.0), days, tz)
            .await?;
        Ok(ActivityAnswer::Ok(Wire(ActivityView::from(&activity))))
    }

    /// Trends
    ///
    /// Tasks created, started and completed per day, ISO week or month of the caller's time
    /// zone, how many were open and in progress at each bucket's end, and lead and cycle time
    /// percentiles in hours: one bucket for every interval that meets `from`..=`to` (at most
    /// 400; default: the 12 intervals ending with the current one). Live like the statistics:
    /// the same `version`, exact after every write. `format=csv` answers the buckets as CSV.
    #[oai(
        path = "/api/v1/dashboard/trends",
        method = "get",
        operation_id = "getDashboardTrends"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn trends(
        &self,
        auth: BearerAuth,
        /// A team the caller belongs to; absent for the caller's own tasks.
        team_id: Query<Option<Uuid>>,
        /// The IANA time zone whose calendar the buckets follow (default `UTC`).
        tz: Query<Option<String>>,
        /// `day`, `week` (ISO, Monday first) or `month` (default `week`).
        interval: Query<Option<String>>,
        /// The first day wanted, `YYYY-MM-DD` in `tz`: its interval is the first bucket.
        from: Query<Option<String>>,
        /// The last day wanted, `YYYY-MM-DD` in `tz` (default: today there).
        to: Query<Option<String>>,
        /// `json` (default) or `csv`.
        format: Query<Option<String>>,
    ) -> Result<JsonOrCsv<TrendsView>, Failure<ActivityProblems>> {
        let query = trends_query(
            tz.0.as_deref(),
            interval.0.as_deref(),
            from.0.as_deref(),
            to.0.as_deref(),
        )?;
        let csv = match format.0.as_deref() {
            None | Some("json") => false,
            Some("csv") => true,
            Some(_) => {
                let error = FieldError::new("format", "must be json or csv");
                return Err(EngineError::Validation(vec![error]).into());
            }
        };
        let trends = self
            .state
            .engine
            .trends(auth.0, scope(auth.0, team_id.0), query)
            .await?;
        let view = TrendsView::from(&trends);
        Ok(match csv {
            true => JsonOrCsv::Csv {
                body: (view.to_csv()).map_err(|err| ApiError::Internal(err.to_string()))?,
                filename: "trends.csv",
            },
            false => JsonOrCsv::Json(view),
        })
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
