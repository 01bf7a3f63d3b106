//! `taskpulse-loadgen --hot-team N`: one aggregate as hot as it gets. One owner, one team, N
//! concurrent connections creating tasks in that team as fast as each gets answered (closed
//! loop), so every write bumps the same `user_stats` and `team_stats` rows and queues behind
//! their locks. Measures the sustained write rate and the answer latency.

use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::json;

use super::client::{Client, WriteOutcome};
use super::report::Report;

/// Runs the hot-team load for `duration` with `writers` connections and fills `report`.
pub async fn run(
    client: &Client,
    writers: usize,
    duration: Duration,
    tag: &str,
    webhook: Option<&url::Url>,
    report: &mut Report,
) -> anyhow::Result<()> {
    let token = client.register_one(tag).await?;
    let team = client
        .create_team(0, &token, &format!("loadgen hot team {tag}"))
        .await
        .context("creating the hot team")?;
    if let Some(url) = webhook {
        crate::ensure_loopback(url)?;
        client.create_webhook(0, &token, url, Some(&team)).await?;
    }
    let started = Instant::now();
    let until = started + duration;
    let tasks: Vec<_> = (0..writers)
        .map(|writer| {
            let (client, token, team) = (client.clone(), token.clone(), team.clone());
            let node = writer % client.node_count();
            tokio::spawn(async move {
                let mut outcomes = Vec::new();
                let mut seq = 0u64;
                while Instant::now() < until {
                    seq += 1;
                    let title = format!("hot {writer}/{seq}");
                    let sent = Instant::now();
                    let error = client
                        .create_task(node, &token, json!({ "title": title, "team_id": team }))
                        .await
                        .err()
                        .map(|err| err.to_string());
                    outcomes.push(WriteOutcome {
                        answered: error.is_none().then(|| sent.elapsed()),
                        error,
                        ..WriteOutcome::default()
                    });
                }
                outcomes
            })
        })
        .collect();
    for task in tasks {
        for outcome in task.await? {
            report.writes_sent += 1;
            report.record(outcome);
        }
    }
    report.write_seconds = started.elapsed().as_secs_f64();
    report.writes_ended = Some(Instant::now());
    Ok(())
}
