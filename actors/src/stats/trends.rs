//! Trends: a scope's history counted into the days, ISO weeks or months of a time zone.
//! A bucket is a span of UTC seconds from its first local midnight to the next bucket's, so
//! daylight-saving days of 23 or 25 hours, zones at +05:45 or +12:45 and half-hour DST shifts
//! are all exact: the zone database (chrono-tz) says where each midnight falls.

use chrono::{DateTime, Datelike, Days, LocalResult, Months, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::history::{History, Multiset};
use crate::model::UserId;

/// How long a bucket is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Interval {
    /// A calendar day.
    Day,
    /// An ISO week, Monday first.
    Week,
    /// A calendar month.
    Month,
}

impl Interval {
    /// Every interval, in API order.
    pub const ALL: [Interval; 3] = [Interval::Day, Interval::Week, Interval::Month];

    /// Its name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Interval::Day => "day",
            Interval::Week => "week",
            Interval::Month => "month",
        }
    }

    /// The interval named `name`.
    pub fn parse(name: &str) -> Option<Interval> {
        Interval::ALL.into_iter().find(|i| i.as_str() == name)
    }

    /// The first day of the interval that contains `day`.
    pub fn start_of(self, day: NaiveDate) -> NaiveDate {
        match self {
            Interval::Day => day,
            Interval::Week => day - Days::new(u64::from(day.weekday().num_days_from_monday())),
            Interval::Month => day.with_day(1).unwrap_or(day),
        }
    }

    /// The first day of the interval `n` after the one starting `start`.
    fn advance(self, start: NaiveDate, n: u32) -> NaiveDate {
        match self {
            Interval::Day => start + Days::new(u64::from(n)),
            Interval::Week => start + Days::new(7 * u64::from(n)),
            Interval::Month => start + Months::new(n),
        }
    }

    /// The first day of the interval `n` before the one starting `start`.
    fn retreat(self, start: NaiveDate, n: u32) -> NaiveDate {
        match self {
            Interval::Day => start - Days::new(u64::from(n)),
            Interval::Week => start - Days::new(7 * u64::from(n)),
            Interval::Month => start - Months::new(n),
        }
    }
}

/// The most buckets one read or subscription may ask for.
pub const MAX_BUCKETS: usize = 400;

/// How many intervals a window has when the reader names none.
pub const DEFAULT_BUCKETS: u32 = 12;

/// Which buckets a reader wants: `count` intervals of `tz` from the one starting `first`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrendsWindow {
    /// The zone whose calendar the buckets follow.
    pub tz: Tz,
    /// How long each bucket is.
    pub interval: Interval,
    /// The first bucket's first day.
    pub first: NaiveDate,
    /// How many buckets.
    pub count: usize,
}

/// Why a window cannot be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowError {
    /// `from` is after `to`.
    FromAfterTo,
    /// More than [`MAX_BUCKETS`] buckets.
    TooManyBuckets,
}

impl TrendsWindow {
    /// Every interval that meets [`from`, `to`] (dates in `tz`); without `to`, up to the
    /// interval containing `today`; without `from`, the [`DEFAULT_BUCKETS`] intervals ending
    /// with `to`'s.
    pub fn new(
        tz: Tz,
        interval: Interval,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        today: NaiveDate,
    ) -> Result<Self, WindowError> {
        let last = interval.start_of(to.unwrap_or(today));
        let first = match from {
            Some(from) => interval.start_of(from),
            None => interval.retreat(last, DEFAULT_BUCKETS - 1),
        };
        if from.is_some_and(|from| from > to.unwrap_or(today)) {
            return Err(WindowError::FromAfterTo);
        }
        let mut count = 1;
        let mut start = first;
        while start < last {
            if count >= MAX_BUCKETS {
                return Err(WindowError::TooManyBuckets);
            }
            start = interval.advance(start, 1);
            count += 1;
        }
        Ok(Self {
            tz,
            interval,
            first,
            count,
        })
    }

    /// The window from `first` on that reaches the interval containing `today` (a live
    /// subscription's: it grows as the clock enters the next interval).
    pub fn through_today(
        tz: Tz,
        interval: Interval,
        from: Option<NaiveDate>,
        now: DateTime<Utc>,
    ) -> Result<Self, WindowError> {
        let today = now.with_timezone(&tz).date_naive();
        Self::new(tz, interval, from, None, today)
    }

    /// The buckets' spans, oldest first.
    pub fn spans(&self) -> Vec<Span> {
        let mut start = self.first;
        let mut from = midnight(self.tz, start);
        (0..self.count)
            .map(|_| {
                let next = self.interval.advance(start, 1);
                let until = midnight(self.tz, next);
                let span = Span {
                    start,
                    end: next.pred_opt().unwrap_or(next),
                    from,
                    until,
                };
                (start, from) = (next, until);
                span
            })
            .collect()
    }
}

/// Today's date in `tz`.
pub fn today_in(tz: Tz, now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&tz).date_naive()
}

/// The first instant of `day` in `tz`, in Unix seconds: its midnight, or where a
/// daylight-saving gap that swallows midnight ends (the earlier one when midnight happens
/// twice).
pub fn midnight(tz: Tz, day: NaiveDate) -> i64 {
    let mut local = day.and_time(NaiveTime::MIN);
    // Gaps last hours at most (one day, once, in Samoa): look a little past the next midnight.
    for _ in 0..(4 * 25 + 1) {
        match tz.from_local_datetime(&local) {
            LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => return at.timestamp(),
            LocalResult::None => local += chrono::Duration::minutes(15),
        }
    }
    Utc.from_utc_datetime(&local).timestamp()
}

/// One bucket: its calendar days and its span of UTC seconds, `[from, until)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Its first day.
    pub start: NaiveDate,
    /// Its last day.
    pub end: NaiveDate,
    /// Its first second.
    pub from: i64,
    /// The first second after it.
    pub until: i64,
}

impl Span {
    /// Whether `at` falls inside.
    pub fn contains(&self, at: i64) -> bool {
        self.from <= at && at < self.until
    }
}

/// Nearest-rank percentiles of durations, in hours.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Percentiles {
    /// How many durations.
    pub count: i64,
    /// The median.
    pub p50: f64,
    /// The 85th percentile.
    pub p85: f64,
    /// The 95th percentile.
    pub p95: f64,
}

impl Percentiles {
    /// The percentiles of `seconds` (reordered in place); `None` when empty.
    pub fn of(seconds: &mut [i64]) -> Option<Percentiles> {
        let count = seconds.len();
        if count == 0 {
            return None;
        }
        let mut rank = |p: usize| {
            // Nearest rank: the smallest value with at least p % of the values at or below it.
            let index = (p * count).div_ceil(100).max(1) - 1;
            let (_, value, _) = seconds.select_nth_unstable(index);
            *value as f64 / 3600.0
        };
        Some(Percentiles {
            p50: rank(50),
            p85: rank(85),
            p95: rank(95),
            count: count as i64,
        })
    }
}

/// One bucket's numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct Bucket {
    /// The bucket's days and span.
    pub span: Span,
    /// Tasks created inside it.
    pub created: i64,
    /// Tasks started inside it.
    pub started: i64,
    /// Tasks completed inside it.
    pub completed: i64,
    /// Tasks created before its end and not completed before it.
    pub open_at_end: i64,
    /// Of those, the ones started before its end.
    pub in_progress_at_end: i64,
    /// Completion minus creation, over the tasks completed inside it.
    pub lead_time_hours: Option<Percentiles>,
    /// Completion minus start, over those of them that were started.
    pub cycle_time_hours: Option<Percentiles>,
    /// Tasks completed inside it by owner, most first (a team's throughput by member).
    pub completed_by: Vec<(UserId, i64)>,
}

impl History {
    /// The buckets of `window`, oldest first: each set counted once at every boundary, the
    /// window's completions walked once.
    pub fn trends(&self, window: &TrendsWindow) -> Vec<Bucket> {
        let spans = window.spans();
        let boundaries: Vec<i64> = (spans.first().map(|s| s.from).into_iter())
            .chain(spans.iter().map(|s| s.until))
            .collect();
        let before = |set: &Multiset<i64>| -> Vec<i64> {
            (boundaries.iter())
                .map(|at| set.count_while(|v| v < at) as i64)
                .collect()
        };
        let (created, started) = (before(&self.created), before(&self.started));
        let completed_started = before(&self.completed_started);
        let completed: Vec<i64> = (boundaries.iter())
            .map(|at| self.completed.count_while(|c| c.at < *at) as i64)
            .collect();

        let (first, last) = (boundaries[0], boundaries[boundaries.len() - 1]);
        let mut completions = self
            .completed
            .range(move |c| c.at < first, move |c| c.at < last)
            .peekable();
        let (mut leads, mut cycles) = (Vec::new(), Vec::new());
        let mut buckets = Vec::with_capacity(spans.len());
        for (i, span) in spans.into_iter().enumerate() {
            let mut completed_by: Vec<(UserId, i64)> = Vec::new();
            while let Some(done) = completions.next_if(|c| c.at < span.until) {
                leads.push(done.lead);
                cycles.extend(done.cycle);
                // Linear: a bucket's completers are one user, or a team's few members.
                match completed_by
                    .iter_mut()
                    .find(|(owner, _)| *owner == done.owner)
                {
                    Some((_, n)) => *n += 1,
                    None => completed_by.push((done.owner, 1)),
                }
            }
            completed_by.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            buckets.push(Bucket {
                span,
                created: created[i + 1] - created[i],
                started: started[i + 1] - started[i],
                completed: completed[i + 1] - completed[i],
                open_at_end: created[i + 1] - completed[i + 1],
                in_progress_at_end: started[i + 1] - completed_started[i + 1],
                lead_time_hours: Percentiles::of(&mut leads),
                cycle_time_hours: Percentiles::of(&mut cycles),
                completed_by,
            });
            leads.clear();
            cycles.clear();
        }
        buckets
    }
}

#[cfg(test)]
mod tests;
