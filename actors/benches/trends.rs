//! Trends from a scope's history: the computation `GET /api/v1/dashboard/trends` runs, and
//! what keeping the history costs a write (a change to a history that a published snapshot
//! still shares). A scope of 100 000 tasks created over the last year, 80 % started, 70 %
//! completed. Target (issue #25): trends of 52 ISO weeks in Europe/Berlin well within the
//! 20 ms the HTTP answer may take at p95.
//! Run: `cargo bench -p taskpulse-actors --bench trends`.

use std::sync::Arc;

use chrono::{Days, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use taskpulse_actors::{History, Interval, MilestoneChange, Milestones, TrendsWindow, Tz, UserId};

const TASKS: usize = 100_000;

/// A repeatable spread of tasks (splitmix64: no random-number crate for one bench).
fn history(tasks: usize) -> Vec<Milestones> {
    let mut state = 25u64;
    let mut next = move |below: i64| {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) % below as u64) as i64
    };
    let now = Utc::now().timestamp();
    let year = 365 * 86_400;
    // A team of twelve.
    let members: Vec<UserId> = (0..12).map(|_| UserId::new()).collect();
    (0..tasks)
        .map(|_| {
            let owner = members[next(12) as usize];
            let created = now - next(year);
            let started = (next(10) < 8).then(|| created + next(7 * 86_400));
            let completed = (started.is_some() && next(8) < 7)
                .then(|| started.unwrap_or(created) + 60 + next(30 * 86_400))
                .filter(|done| *done < now);
            Milestones(created, started, completed, owner)
        })
        .collect()
}

fn trends(c: &mut Criterion) {
    let tasks = history(TASKS);
    let history = History::of(tasks.iter().copied());
    let berlin: Tz = "Europe/Berlin".parse().unwrap_or(Tz::UTC);
    let today = Utc::now().with_timezone(&berlin).date_naive();
    let weeks = TrendsWindow::new(
        berlin,
        Interval::Week,
        Some(today - Days::new(7 * 51)),
        None,
        today,
    )
    .unwrap_or_else(|_| unreachable!("52 weeks fit"));
    let days = TrendsWindow::new(
        berlin,
        Interval::Day,
        Some(today - Days::new(364)),
        None,
        today,
    )
    .unwrap_or_else(|_| unreachable!("365 days fit"));
    println!(
        "history of {TASKS} tasks: {} KiB",
        history.heap_bytes() / 1024
    );

    c.bench_function("trends_100k_tasks_52_weeks_berlin", |b| {
        b.iter(|| history.trends(&weeks).len())
    });
    c.bench_function("trends_100k_tasks_365_days_berlin", |b| {
        b.iter(|| history.trends(&days).len())
    });
    // A write while the previous snapshot still shares the history: copy on write.
    let shared = Arc::new(history);
    let now = Utc::now().timestamp();
    let change = MilestoneChange(
        Some(Milestones(now - 100, Some(now - 50), None, UserId::new())),
        Some(Milestones(
            now - 100,
            Some(now - 50),
            Some(now),
            UserId::new(),
        )),
    );
    let mut base = Arc::clone(&shared);
    Arc::make_mut(&mut base).apply(&MilestoneChange(None, change.0));
    c.bench_function("history_100k_apply_one_change_copy_on_write", |b| {
        b.iter(|| {
            let mut next = Arc::clone(&base);
            Arc::make_mut(&mut next).apply(&change);
            next.tasks()
        })
    });
}

criterion_group!(benches, trends);
criterion_main!(benches);
