//! History reads: trends, and activity in the reader's time zone, computed from the scope's
//! live history (loaded on first use, kept by every delta, let go when nobody follows it).

use std::sync::Arc;

use chrono::{DateTime, Days, NaiveDate, Utc};
use chrono_tz::Tz;
use ractor::rpc::CallResult;

use super::Engine;
use super::reads::{ACTIVITY_MAX_DAYS, Activity, ActivityDay};
use crate::aggregate::AggregateMsg;
use crate::error::{Error, FieldError, Result};
use crate::model::UserId;
use crate::published::Snapshot;
use crate::stats::Scope;
use crate::stats::trends::{Bucket, Interval, TrendsWindow, WindowError, today_in};
use crate::subscription::Subscription;

/// The time zone named `name` (IANA), or a validation error on the field `tz`.
pub fn parse_tz(name: &str) -> Result<Tz> {
    name.parse::<Tz>().map_err(|_| {
        Error::Validation(vec![FieldError::new(
            "tz",
            format!("unknown time zone {name:?}: an IANA name such as Europe/Berlin"),
        )])
    })
}

/// The interval named `name`, or a validation error on the field `interval`.
pub fn parse_interval(name: &str) -> Result<Interval> {
    Interval::parse(name).ok_or_else(|| {
        Error::Validation(vec![FieldError::new(
            "interval",
            "must be day, week or month",
        )])
    })
}

/// Which trends a reader asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrendsQuery {
    /// The zone whose calendar the buckets follow.
    pub tz: Tz,
    /// Days, ISO weeks or months.
    pub interval: Interval,
    /// The first day wanted (in `tz`); default: 12 intervals back.
    pub from: Option<NaiveDate>,
    /// The last day wanted (in `tz`); default: today.
    pub to: Option<NaiveDate>,
}

impl TrendsQuery {
    /// The buckets it names, as of `now`.
    pub fn window(&self, now: DateTime<Utc>) -> Result<TrendsWindow> {
        let today = today_in(self.tz, now);
        TrendsWindow::new(self.tz, self.interval, self.from, self.to, today).map_err(window_error)
    }
}

/// A window's refusal as the field that caused it.
pub fn window_error(err: WindowError) -> Error {
    let error = match err {
        WindowError::FromAfterTo => FieldError::new("from", "must not be after to"),
        WindowError::TooManyBuckets => FieldError::new(
            "from",
            format!(
                "the range spans more than {} buckets: narrow it or use a longer interval",
                crate::stats::trends::MAX_BUCKETS
            ),
        ),
    };
    Error::Validation(vec![error])
}

/// A scope's trends: buckets of one interval in one zone.
#[derive(Debug, Clone, PartialEq)]
pub struct Trends {
    /// Whose.
    pub scope: Scope,
    /// The aggregate's version.
    pub version: i64,
    /// When it last changed.
    pub as_of: DateTime<Utc>,
    /// The zone.
    pub tz: Tz,
    /// The interval.
    pub interval: Interval,
    /// Oldest first.
    pub buckets: Vec<Bucket>,
}

impl Snapshot {
    /// The trends of `window`; `None` when this snapshot does not hold the history.
    pub fn trends(&self, window: &TrendsWindow) -> Option<Trends> {
        let history = self.aggregate.history.as_ref()?;
        Some(Trends {
            scope: self.scope,
            version: self.version,
            as_of: self.as_of,
            tz: window.tz,
            interval: window.interval,
            buckets: history.trends(window),
        })
    }

    /// Activity over the `days` days of `tz` ending today there. UTC days come from the
    /// recent days every aggregate keeps; other zones' from the history (`None` when this
    /// snapshot does not hold it).
    pub fn activity_in(&self, tz: Tz, now: DateTime<Utc>, days: u32) -> Option<Activity> {
        if tz == Tz::UTC {
            return Some(self.activity(now.date_naive(), days));
        }
        let history = self.aggregate.history.as_ref()?;
        let today = today_in(tz, now);
        let first = today - Days::new(u64::from(days.max(1) - 1));
        let window = TrendsWindow::new(tz, Interval::Day, Some(first), Some(today), today).ok()?;
        Some(Activity {
            scope: self.scope,
            version: self.version,
            as_of: self.as_of,
            days: (history.trends(&window).iter())
                .map(|bucket| ActivityDay {
                    date: bucket.span.start,
                    created: bucket.created,
                    completed: bucket.completed,
                })
                .collect(),
        })
    }
}

impl Engine {
    /// The trends of a scope the caller may read.
    pub async fn trends(&self, actor: UserId, scope: Scope, query: TrendsQuery) -> Result<Trends> {
        let window = query.window(Utc::now())?;
        self.authorize_read(actor, scope).await?;
        let snapshot = self.snapshot_with_history(scope).await?;
        snapshot.trends(&window).ok_or_else(history_lost)
    }

    /// The last `days` (1..=90) days of activity of a scope the caller may read, in `tz`.
    pub async fn activity(
        &self,
        actor: UserId,
        scope: Scope,
        days: u32,
        tz: Tz,
    ) -> Result<Activity> {
        if !(1..=ACTIVITY_MAX_DAYS).contains(&days) {
            return Err(Error::Validation(vec![FieldError::new(
                "days",
                "must be 1..=90",
            )]));
        }
        self.authorize_read(actor, scope).await?;
        let snapshot = match tz == Tz::UTC {
            true => self.snapshot(scope).await?,
            false => self.snapshot_with_history(scope).await?,
        };
        (snapshot.activity_in(tz, Utc::now(), days)).ok_or_else(history_lost)
    }

    /// Subscribes to a scope the caller may read, its history included (trends, or activity
    /// in a zone other than UTC): the aggregate keeps the history while this lasts.
    pub async fn subscribe_with_history(
        &self,
        actor: UserId,
        scope: Scope,
        since_version: Option<i64>,
    ) -> Result<Subscription> {
        let allowed_at = self.subscription_allowed_at(actor, scope).await?;
        self.attach(actor, scope, since_version, true, allowed_at)
            .await
    }

    /// The current snapshot with its history, loading it when the aggregate does not hold it.
    pub async fn snapshot_with_history(&self, scope: Scope) -> Result<Arc<Snapshot>> {
        let slots = &self.inner.slots;
        if let Some(slot) = slots.slot(&scope) {
            slot.touch(slots.now_ms());
            if let Some(snapshot) = slot.current().filter(|s| s.aggregate.history.is_some()) {
                slot.touch_history(slots.now_ms());
                return Ok(snapshot);
            }
        }
        let timeout = self.inner.config.call_timeout;
        for _ in 0..3 {
            let actor = self.warm(scope).await?;
            if let Ok(CallResult::Success(snapshot)) =
                actor.call(AggregateMsg::FollowHistory, Some(timeout)).await
            {
                return Ok(snapshot);
            }
        }
        Err(Error::EngineUnavailable(format!(
            "the aggregate {scope:?} did not load its history"
        )))
    }
}

fn history_lost() -> Error {
    Error::EngineUnavailable("the aggregate let its history go while it was read".to_owned())
}
