//! Trends: `GET /api/v1/dashboard/trends` (JSON and CSV), and the `trends:` topics'
//! `snapshot` (the whole object) and `delta` (the changed buckets, each whole).

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use taskpulse_actors::{Bucket, Interval, Percentiles, Scope, Trends};
use uuid::Uuid;

use super::time::rfc3339;
use super::transfer::csv_file::{finish, writer};
use super::values::ScopeKind;

/// How long a bucket is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(
    feature = "openapi",
    oai(rename = "TrendsInterval", rename_all = "snake_case")
)]
pub enum IntervalView {
    /// A calendar day in the zone.
    Day,
    /// An ISO week (Monday to Sunday) in the zone.
    Week,
    /// A calendar month in the zone.
    Month,
}

impl From<Interval> for IntervalView {
    fn from(interval: Interval) -> Self {
        match interval {
            Interval::Day => Self::Day,
            Interval::Week => Self::Week,
            Interval::Month => Self::Month,
        }
    }
}

/// Percentiles of durations in hours (nearest rank).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(rename = "DurationPercentiles"))]
pub struct PercentilesView {
    /// How many tasks.
    pub count: i64,
    /// The median, in hours.
    pub p50: f64,
    /// The 85th percentile, in hours.
    pub p85: f64,
    /// The 95th percentile, in hours.
    pub p95: f64,
}

impl From<Percentiles> for PercentilesView {
    fn from(p: Percentiles) -> Self {
        Self {
            count: p.count,
            p50: p.p50,
            p85: p.p85,
            p95: p.p95,
        }
    }
}

/// Percentiles of a bucket's durations, or null when it has none. A type of its own only for
/// the OpenAPI document: there a null object is `{"type": "object", "nullable": true, "allOf":
/// [DurationPercentiles]}` (OpenAPI 3.0 gives `nullable` meaning only beside a `type`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Durations(pub Option<PercentilesView>);

#[cfg(feature = "openapi")]
mod durations_schema {
    use std::borrow::Cow;

    use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
    use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type};
    use serde_json::Value;

    use super::{Durations, PercentilesView};

    impl Type for Durations {
        const IS_REQUIRED: bool = true;
        type RawValueType = Self;
        type RawElementValueType = Self;

        fn name() -> Cow<'static, str> {
            "DurationPercentiles_or_null".into()
        }

        fn schema_ref() -> MetaSchemaRef {
            MetaSchemaRef::Inline(Box::new(MetaSchema {
                nullable: true,
                all_of: vec![PercentilesView::schema_ref()],
                ..MetaSchema::new("object")
            }))
        }

        fn register(registry: &mut Registry) {
            PercentilesView::register(registry);
        }

        fn as_raw_value(&self) -> Option<&Self> {
            Some(self)
        }

        fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
            Box::new(self.as_raw_value().into_iter())
        }
    }

    impl ToJSON for Durations {
        fn to_json(&self) -> Option<Value> {
            Some(self.0.to_json().unwrap_or(Value::Null))
        }
    }

    impl ParseFromJSON for Durations {
        fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
            Option::<PercentilesView>::parse_from_json(value)
                .map(Durations)
                .map_err(ParseError::propagate)
        }
    }
}

/// One bucket of trends.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(rename = "TrendsBucket"))]
pub struct BucketView {
    /// The bucket's first calendar day in the zone, `YYYY-MM-DD`.
    pub start: NaiveDate,
    /// Its last calendar day in the zone.
    pub end: NaiveDate,
    /// Tasks created inside it.
    pub created: i64,
    /// Tasks that first entered `in_progress` inside it.
    pub started: i64,
    /// Tasks completed inside it (that still are).
    pub completed: i64,
    /// Tasks created before its end and not completed before it.
    pub open_at_end: i64,
    /// Of those, the ones started before its end.
    pub in_progress_at_end: i64,
    /// `completed_at − created_at` over the tasks completed inside it; null when none was.
    pub lead_time_hours: Durations,
    /// `completed_at − started_at` over those of them that were started; null when none was.
    pub cycle_time_hours: Durations,
    /// Team scopes: the tasks completed inside it by owner, most first (owners with none left
    /// out).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", oai(skip_serializing_if_is_none))]
    pub by_member: Option<Vec<MemberThroughputView>>,
}

/// One owner's completions in a bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(rename = "MemberThroughput"))]
pub struct MemberThroughputView {
    /// The owner.
    pub user_id: Uuid,
    /// Their tasks completed inside the bucket.
    pub completed: i64,
}

impl BucketView {
    /// The view of `b`; `by_member` for team scopes.
    fn of(b: &Bucket, scope: Scope) -> Self {
        let by_member = matches!(scope, Scope::Team(_)).then(|| {
            (b.completed_by.iter())
                .map(|(user, completed)| MemberThroughputView {
                    user_id: user.0,
                    completed: *completed,
                })
                .collect()
        });
        Self {
            start: b.span.start,
            end: b.span.end,
            created: b.created,
            started: b.started,
            completed: b.completed,
            open_at_end: b.open_at_end,
            in_progress_at_end: b.in_progress_at_end,
            lead_time_hours: Durations(b.lead_time_hours.map(Into::into)),
            cycle_time_hours: Durations(b.cycle_time_hours.map(Into::into)),
            by_member,
        }
    }
}

/// A scope's trends: one bucket per interval, oldest first.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(rename = "Trends", example))]
pub struct TrendsView {
    /// `user` or `team`.
    pub scope: ScopeKind,
    /// The user's or the team's id.
    pub scope_id: Uuid,
    /// The aggregate's version (the same as the statistics').
    pub version: i64,
    /// When the aggregate last changed.
    #[serde(serialize_with = "rfc3339")]
    pub as_of: DateTime<Utc>,
    /// The IANA time zone whose calendar the buckets follow.
    pub tz: String,
    /// `day`, `week` (ISO, Monday first) or `month`.
    pub interval: IntervalView,
    /// Oldest first, one per interval, zeros included.
    pub buckets: Vec<BucketView>,
}

impl From<&Trends> for TrendsView {
    fn from(t: &Trends) -> Self {
        let (scope, scope_id) = ScopeKind::of(t.scope);
        Self {
            scope,
            scope_id,
            version: t.version,
            as_of: t.as_of,
            tz: t.tz.name().to_owned(),
            interval: t.interval.into(),
            buckets: (t.buckets.iter())
                .map(|bucket| BucketView::of(bucket, t.scope))
                .collect(),
        }
    }
}

/// The columns of [`TrendsView::to_csv`].
pub const TRENDS_CSV_COLUMNS: [&str; 15] = [
    "start",
    "end",
    "created",
    "started",
    "completed",
    "open_at_end",
    "in_progress_at_end",
    "lead_time_count",
    "lead_time_p50_hours",
    "lead_time_p85_hours",
    "lead_time_p95_hours",
    "cycle_time_count",
    "cycle_time_p50_hours",
    "cycle_time_p85_hours",
    "cycle_time_p95_hours",
];

impl TrendsView {
    /// The buckets as CSV, one row a bucket, written as task files are
    /// ([`super::transfer`]). A bucket without durations has a count of 0 and empty
    /// percentile cells. Every cell is a date or a number: none needs formula escaping.
    pub fn to_csv(&self) -> std::io::Result<Vec<u8>> {
        let mut writer = writer();
        writer.write_record(TRENDS_CSV_COLUMNS)?;
        for b in &self.buckets {
            let mut row = vec![
                b.start.to_string(),
                b.end.to_string(),
                b.created.to_string(),
                b.started.to_string(),
                b.completed.to_string(),
                b.open_at_end.to_string(),
                b.in_progress_at_end.to_string(),
            ];
            for durations in [b.lead_time_hours, b.cycle_time_hours] {
                match durations.0 {
                    Some(p) => row.extend([
                        p.count.to_string(),
                        p.p50.to_string(),
                        p.p85.to_string(),
                        p.p95.to_string(),
                    ]),
                    None => row.extend(["0", "", "", ""].map(str::to_owned)),
                }
            }
            writer.write_record(&row)?;
        }
        finish(writer)
    }
}

#[cfg(feature = "openapi")]
mod examples {
    use poem_openapi::types::Example;

    use super::*;
    use crate::shapes::examples::{USER_ID, time};

    impl Example for TrendsView {
        fn example() -> Self {
            let week = |n: i64, created, completed| BucketView {
                // Weeks start on Mondays: the examples' day 2 is one.
                start: time((2 + n * 7) * 86_400).date_naive(),
                end: time((2 + n * 7 + 6) * 86_400).date_naive(),
                created,
                started: completed,
                completed,
                open_at_end: 4 + created - completed,
                in_progress_at_end: 2,
                lead_time_hours: Durations((completed > 0).then_some(PercentilesView {
                    count: completed,
                    p50: 26.5,
                    p85: 70.0,
                    p95: 96.25,
                })),
                cycle_time_hours: Durations((completed > 0).then_some(PercentilesView {
                    count: completed,
                    p50: 5.5,
                    p85: 20.0,
                    p95: 30.75,
                })),
                by_member: None,
            };
            Self {
                scope: ScopeKind::User,
                scope_id: USER_ID,
                version: 42,
                as_of: time(14 * 86_400),
                tz: "Europe/Berlin".to_owned(),
                interval: IntervalView::Week,
                buckets: vec![week(0, 5, 3), week(1, 2, 0)],
            }
        }
    }
}
