//! Encoding the WebSocket messages: a full `snapshot` (statistics, breakdown, 30 days of
//! activity, a team's per-member counts) and a `delta`, as each session does per change.
//! Baseline: these run once per subscriber per change, so they bound fan-out throughput.
//! Run: `cargo bench --bench ws_encoding`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use taskpulse_actors::{
    Aggregate, Counts, DayCounts, MemberCounts, Scope, Snapshot, TaskId, TeamId, Tz, UserId,
};
use taskpulse_live::protocol::messages::ServerMessage;

fn team_snapshot() -> Snapshot {
    let now = Utc::now();
    let today = now.date_naive();
    let days = (0..30)
        .map(|back| {
            (
                today - chrono::Duration::days(back),
                DayCounts {
                    created: back + 3,
                    completed: back,
                },
            )
        })
        .rev()
        .collect();
    let members: BTreeMap<UserId, MemberCounts> = (0..12)
        .map(|n| {
            (
                UserId::new(),
                MemberCounts {
                    total: 40 + n,
                    completed: 20 + n,
                },
            )
        })
        .collect();
    let open_due = (0..200)
        .map(|n| (now + chrono::Duration::hours(n - 100), TaskId::new()))
        .collect();
    Snapshot {
        scope: Scope::Team(TeamId::new()),
        version: 1234,
        as_of: now,
        aggregate: Aggregate {
            counts: Counts {
                pending: 120,
                in_progress: 80,
                completed: 300,
                low: 100,
                medium: 200,
                high: 150,
                urgent: 50,
                ..Counts::default()
            },
            open_due: Arc::new(open_due),
            days: Arc::new(days),
            members: Arc::new(members),
            history: None,
        },
    }
}

fn encoding(c: &mut Criterion) {
    let snapshot = team_snapshot();
    let now = Utc::now();
    let before = snapshot.statistics(now);
    let mut after_snapshot = snapshot.clone();
    after_snapshot.version += 1;
    after_snapshot.aggregate.counts.pending -= 1;
    after_snapshot.aggregate.counts.completed += 1;
    let after = after_snapshot.statistics(now);

    c.bench_function("ws_snapshot_message", |b| {
        b.iter(|| {
            ServerMessage::snapshot("team:x", &snapshot, Tz::UTC, now)
                .map_or(0, |(message, _)| message.to_text().len())
        })
    });
    c.bench_function("ws_delta_message", |b| {
        b.iter(|| {
            ServerMessage::delta("team:x", &before, &after)
                .to_text()
                .len()
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = encoding
}
criterion_main!(benches);
