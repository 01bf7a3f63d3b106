//! The two phases of the default run: writes at a fixed rate, each timed to its delta on the
//! writer's WebSocket session, then closed-loop statistics reads.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::LoadgenArgs;
use crate::client::{Client, LiveUser, WriteOutcome};
use crate::report::{Histogram, Report};

/// A write whose delta has not arrived by then counts as an error.
const DELTA_TIMEOUT: Duration = Duration::from_secs(10);

/// Open-loop writes: a tick every 1/rate seconds hands the write to a free user (one write in
/// flight per user, so each delta pairs with exactly one write). A tick with no free user is
/// counted as missed: the target rate was not reached. Writes sent during `--warmup` (before
/// the phase) are not reported.
pub async fn write(
    client: &Client,
    users: Vec<LiveUser>,
    args: &LoadgenArgs,
    report: &mut Report,
) -> anyhow::Result<()> {
    let (free_tx, mut free_rx) = mpsc::unbounded_channel::<LiveUser>();
    for user in users {
        let _ = free_tx.send(user);
    }
    // Each outcome says whether its write was sent in the measured phase.
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<(bool, WriteOutcome)>();
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(args.rate)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let measured_from = Instant::now() + args.warmup;
    let ends = measured_from + args.duration;
    let client = Arc::new(client.clone());
    let mut sent = 0u64;
    let record = |report: &mut Report, (measured, outcome): (bool, WriteOutcome)| {
        if measured {
            report.record(outcome);
        } else if let Some(error) = outcome.error {
            eprintln!("loadgen: a warm-up write failed: {error}");
        }
    };
    while Instant::now() < ends {
        ticker.tick().await;
        while let Ok(done) = done_rx.try_recv() {
            record(report, done);
        }
        let measured = Instant::now() >= measured_from;
        let Ok(user) = free_rx.try_recv() else {
            report.missed_ticks += u64::from(measured);
            continue;
        };
        sent += u64::from(measured);
        let (client, free, done) = (Arc::clone(&client), free_tx.clone(), done_tx.clone());
        tokio::spawn(async move {
            let (user, outcome) = client
                .write_and_await_delta(user, sent, DELTA_TIMEOUT)
                .await;
            let _ = done.send((measured, outcome));
            if let Some(user) = user {
                let _ = free.send(user);
            }
        });
    }
    report.write_seconds = measured_from.elapsed().as_secs_f64();
    report.writes_ended = Some(Instant::now());
    drop(done_tx);
    // Let the writes in flight finish (each is bounded by DELTA_TIMEOUT).
    let deadline = Instant::now() + DELTA_TIMEOUT + Duration::from_secs(2);
    while report.writes_finished() < sent && Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_millis(200), done_rx.recv()).await {
            Ok(Some(done)) => record(report, done),
            Ok(None) => break,
            Err(_) => {}
        }
    }
    report.writes_sent = sent;
    Ok(())
}

/// Closed-loop reads: each reader asks its node (reader r: node r mod N) for a random user's
/// statistics as fast as it can.
pub async fn read(
    client: &Client,
    tokens: Arc<Vec<String>>,
    args: &LoadgenArgs,
    report: &mut Report,
) {
    let started = Instant::now();
    let until = started + args.read_duration;
    let readers: Vec<_> = (0..args.readers)
        .map(|reader| {
            let (client, tokens) = (client.clone(), Arc::clone(&tokens));
            let node = reader as usize % client.node_count();
            tokio::spawn(async move {
                let mut latency = Histogram::new();
                let (mut ok, mut errors) = (0u64, 0u64);
                let mut n = reader as usize;
                while Instant::now() < until {
                    n = n.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    let token = &tokens[n % tokens.len()];
                    let sent = Instant::now();
                    if client.get_statistics(node, token).await {
                        ok += 1;
                        latency.record(sent.elapsed());
                    } else {
                        errors += 1;
                    }
                }
                (ok, errors, latency)
            })
        })
        .collect();
    for reader in readers {
        if let Ok((ok, errors, latency)) = reader.await {
            report.reads_ok += ok;
            report.read_errors += errors;
            report.read_latency.add(&latency);
        }
    }
    report.read_seconds = started.elapsed().as_secs_f64();
}
