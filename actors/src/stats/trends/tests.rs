//! Buckets against a plain oracle: each instant's local date as the zone database gives it,
//! and percentiles from a sorted list.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;

use super::*;
use crate::stats::history::{History, Milestones};

fn owner() -> crate::model::UserId {
    crate::model::UserId(uuid::Uuid::from_u128(7))
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid test value")
}

fn at(s: &str) -> i64 {
    DateTime::parse_from_rfc3339(s)
        .expect("a valid test value")
        .timestamp()
}

fn days(tz: Tz, from: NaiveDate, to: NaiveDate) -> TrendsWindow {
    TrendsWindow::new(tz, Interval::Day, Some(from), Some(to), to).expect("a valid test value")
}

#[test]
fn daylight_saving_days_last_23_and_25_hours_in_berlin() {
    let tz: Tz = "Europe/Berlin".parse().expect("a valid test value");
    let spring = days(tz, date(2026, 3, 29), date(2026, 3, 29)).spans()[0];
    let autumn = days(tz, date(2026, 10, 25), date(2026, 10, 25)).spans()[0];
    assert_eq!(spring.until - spring.from, 23 * 3600);
    assert_eq!(autumn.until - autumn.from, 25 * 3600);
    assert_eq!(spring.from, at("2026-03-28T23:00:00Z"));
    assert_eq!(autumn.until, at("2026-10-25T23:00:00Z"));
}

#[test]
fn quarter_hour_zones_and_lord_howes_half_hour_shift_are_exact() {
    let kathmandu: Tz = "Asia/Kathmandu".parse().expect("a valid test value");
    let chatham: Tz = "Pacific/Chatham".parse().expect("a valid test value");
    let lord_howe: Tz = "Australia/Lord_Howe".parse().expect("a valid test value");
    let day = |tz, d| days(tz, d, d).spans()[0];
    assert_eq!(
        day(kathmandu, date(2026, 6, 1)).from,
        at("2026-05-31T18:15:00Z")
    );
    // Chatham: +13:45 in (southern) summer, +12:45 in winter.
    assert_eq!(
        day(chatham, date(2026, 1, 10)).from,
        at("2026-01-09T10:15:00Z")
    );
    assert_eq!(
        day(chatham, date(2026, 7, 10)).from,
        at("2026-07-09T11:15:00Z")
    );
    // Lord Howe moves by half an hour: +11:00 until 5 April 2026 02:00, then +10:30.
    let change = day(lord_howe, date(2026, 4, 5));
    assert_eq!(change.from, at("2026-04-04T13:00:00Z"));
    assert_eq!(change.until - change.from, 24 * 3600 + 1800);
}

#[test]
fn weeks_are_iso_weeks_and_months_calendar_months() {
    let tz = Tz::UTC;
    let weeks = TrendsWindow::new(
        tz,
        Interval::Week,
        Some(date(2026, 12, 2)),
        Some(date(2027, 1, 1)),
        date(2027, 1, 1),
    )
    .expect("a valid test value");
    let spans = weeks.spans();
    assert_eq!(spans[0].start, date(2026, 11, 30));
    assert_eq!(spans[0].end, date(2026, 12, 6));
    assert_eq!(
        spans.last().expect("a valid test value").start,
        date(2026, 12, 28)
    );
    assert_eq!(spans.len(), 5);
    let months = TrendsWindow::new(
        tz,
        Interval::Month,
        Some(date(2026, 1, 31)),
        Some(date(2026, 3, 1)),
        date(2026, 3, 1),
    )
    .expect("a valid test value");
    let ends: Vec<NaiveDate> = months.spans().iter().map(|s| s.end).collect();
    assert_eq!(
        ends,
        vec![date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)]
    );
}

#[test]
fn windows_refuse_from_after_to_and_more_than_400_buckets() {
    let tz = Tz::UTC;
    let today = date(2026, 12, 6);
    assert_eq!(
        TrendsWindow::new(
            tz,
            Interval::Day,
            Some(date(2026, 12, 7)),
            Some(today),
            today
        ),
        Err(WindowError::FromAfterTo)
    );
    assert_eq!(
        TrendsWindow::new(
            tz,
            Interval::Day,
            Some(date(2025, 1, 1)),
            Some(today),
            today
        ),
        Err(WindowError::TooManyBuckets)
    );
    let most = TrendsWindow::new(
        tz,
        Interval::Day,
        Some(today - Days::new(399)),
        Some(today),
        today,
    );
    assert_eq!(most.map(|w| w.count), Ok(400));
    let default =
        TrendsWindow::new(tz, Interval::Week, None, None, today).expect("a valid test value");
    assert_eq!((default.count, default.first), (12, date(2026, 9, 14)));
}

#[test]
fn open_and_in_progress_at_a_buckets_end_follow_each_task() {
    let tz = Tz::UTC;
    let history = History::of([
        // Created day 1, started day 2, completed day 3.
        Milestones(
            at("2026-01-01T10:00:00Z"),
            Some(at("2026-01-02T10:00:00Z")),
            Some(at("2026-01-03T10:00:00Z")),
            owner(),
        ),
        // Created day 2, never started, still open.
        Milestones(at("2026-01-02T12:00:00Z"), None, None, owner()),
    ]);
    let buckets = history.trends(&days(tz, date(2026, 1, 1), date(2026, 1, 4)));
    let row = |b: &Bucket| {
        (
            b.created,
            b.started,
            b.completed,
            b.open_at_end,
            b.in_progress_at_end,
        )
    };
    let rows: Vec<_> = buckets.iter().map(row).collect();
    assert_eq!(
        rows,
        vec![
            (1, 0, 0, 1, 0),
            (1, 1, 0, 2, 1),
            (0, 0, 1, 1, 0),
            (0, 0, 0, 1, 0)
        ]
    );
    let lead = buckets[2].lead_time_hours.expect("a valid test value");
    assert_eq!((lead.count, lead.p50), (1, 48.0));
    assert_eq!(
        buckets[2].cycle_time_hours.expect("a valid test value").p95,
        24.0
    );
    assert!(buckets[1].lead_time_hours.is_none());
}

#[test]
fn percentiles_are_nearest_rank() {
    let mut values: Vec<i64> = (1..=20).map(|h| h * 3600).collect();
    let p = Percentiles::of(&mut values).expect("a valid test value");
    assert_eq!((p.count, p.p50, p.p85, p.p95), (20, 10.0, 17.0, 19.0));
    assert_eq!(
        Percentiles::of(&mut [7200])
            .expect("a valid test value")
            .p50,
        2.0
    );
}

const ZONES: [&str; 6] = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "Australia/Lord_Howe",
];

fn task() -> impl Strategy<Value = Milestones> {
    // Instants around both DST changes of each zone (north and south), durations up to 60 days.
    let base = Utc
        .with_ymd_and_hms(2025, 9, 10, 0, 0, 0)
        .single()
        .expect("a valid test value")
        .timestamp();
    (
        0i64..240 * 86_400,
        prop::option::of(0i64..30 * 86_400),
        prop::option::of(0i64..30 * 86_400),
    )
        .prop_map(move |(created, start, done)| {
            let created = base + created;
            let started = start.map(|s| created + s);
            let completed = done.map(|d| started.unwrap_or(created) + d);
            Milestones(created, started, completed, owner())
        })
}

proptest! {
    #[test]
    fn every_bucket_counts_what_the_local_calendar_says(
        tasks in prop::collection::vec(task(), 0..60),
        zone in 0usize..ZONES.len(),
        interval in 0usize..3,
    ) {
        let tz: Tz = ZONES[zone].parse().expect("a valid test value");
        let interval = Interval::ALL[interval];
        let window = TrendsWindow::new(tz, interval, Some(date(2025, 9, 20)), Some(date(2026, 4, 30)), date(2026, 12, 1)).expect("a valid test value");
        let buckets = History::of(tasks.iter().copied()).trends(&window);
        let local = |at: i64| Utc.timestamp_opt(at, 0).single().expect("a valid test value").with_timezone(&tz).date_naive();
        for bucket in &buckets {
            let inside = |at: Option<i64>| at.is_some_and(|at| (bucket.span.start..=bucket.span.end).contains(&local(at)));
            let after = |at: Option<i64>| at.is_none_or(|at| local(at) > bucket.span.end);
            let created = tasks.iter().filter(|t| inside(Some(t.0))).count() as i64;
            let started = tasks.iter().filter(|t| inside(t.1)).count() as i64;
            let mut leads: Vec<i64> = tasks.iter().filter(|t| inside(t.2)).map(|t| t.2.expect("a valid test value") - t.0).collect();
            let open = tasks.iter().filter(|t| !after(Some(t.0)) && after(t.2)).count() as i64;
            let in_progress = tasks.iter().filter(|t| !after(Some(t.0)) && after(t.2) && !after(t.1)).count() as i64;
            prop_assert_eq!((bucket.created, bucket.started, bucket.completed), (created, started, leads.len() as i64));
            prop_assert_eq!((bucket.open_at_end, bucket.in_progress_at_end), (open, in_progress));
            leads.sort_unstable();
            if let Some(lead) = bucket.lead_time_hours {
                let rank = |p: usize| leads[(p * leads.len()).div_ceil(100) - 1] as f64 / 3600.0;
                prop_assert_eq!((lead.p50, lead.p85, lead.p95), (rank(50), rank(85), rank(95)));
            }
        }
    }
}
