//! The load around a storm: task creations at a fixed rate through the nodes that stay up, and
//! health requests to those nodes while the orphaned sessions come back.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::client::Client;
use crate::report::Histogram;

/// Pause between one health request's answer and the next, per node.
const HEALTH_INTERVAL: Duration = Duration::from_millis(10);

/// One writer: its token and the team its tasks go into.
#[derive(Clone)]
pub struct Writer {
    pub token: String,
    pub team: String,
}

/// What the writes measured.
pub struct Writes {
    pub sent: u64,
    pub failed: u64,
    pub first_error: Option<String>,
    /// Request sent → 201.
    pub answered: Histogram,
    pub seconds: f64,
}

/// Creates team tasks at `rate` per second for `duration`, open loop (a slow answer does not
/// delay the next write): write `i` by writer `i mod W`, through node `nodes[i mod N]`.
pub async fn write_at_rate(
    client: &Client,
    writers: Arc<Vec<Writer>>,
    nodes: Vec<usize>,
    rate: u32,
    duration: Duration,
) -> Writes {
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut in_flight = JoinSet::new();
    let started = Instant::now();
    let mut sent = 0usize;
    while started.elapsed() < duration {
        ticker.tick().await;
        let writer = writers[sent % writers.len()].clone();
        let node = nodes[sent % nodes.len()];
        let client = client.clone();
        let title = format!("storm write {sent}");
        in_flight.spawn(async move {
            let began = Instant::now();
            let body = json!({ "title": title, "team_id": writer.team });
            let result = client.create_task(node, &writer.token, body).await;
            result
                .map(|()| began.elapsed())
                .map_err(|err| format!("{err:#}"))
        });
        sent += 1;
    }
    let seconds = started.elapsed().as_secs_f64();
    let mut writes = Writes {
        sent: sent as u64,
        failed: 0,
        first_error: None,
        answered: Histogram::new(),
        seconds,
    };
    while let Some(joined) = in_flight.join_next().await {
        match joined {
            Ok(Ok(latency)) => writes.answered.record(latency),
            Ok(Err(error)) => {
                writes.failed += 1;
                writes.first_error.get_or_insert(error);
            }
            Err(panicked) => {
                writes.failed += 1;
                writes.first_error.get_or_insert(panicked.to_string());
            }
        }
    }
    writes
}

/// Health latency of the polled nodes.
pub struct Health {
    pub latency: Histogram,
    pub failed: u64,
    pub first_error: Option<String>,
}

/// Polls `GET /api/v1/health` on each of `nodes`, one request at a time per node, until
/// `stop` turns true.
pub async fn poll_health(client: &Client, nodes: &[usize], stop: watch::Receiver<bool>) -> Health {
    let pollers: Vec<_> = nodes
        .iter()
        .map(|&node| {
            let (client, mut stop) = (client.clone(), stop.clone());
            tokio::spawn(async move {
                let mut health = Health {
                    latency: Histogram::new(),
                    failed: 0,
                    first_error: None,
                };
                while !*stop.borrow() {
                    match client.health(node).await {
                        Ok(latency) => health.latency.record(latency),
                        Err(err) => {
                            health.failed += 1;
                            health.first_error.get_or_insert(format!("{err:#}"));
                        }
                    }
                    tokio::select! {
                        () = tokio::time::sleep(HEALTH_INTERVAL) => {}
                        _ = stop.changed() => {}
                    }
                }
                health
            })
        })
        .collect();
    let mut all = Health {
        latency: Histogram::new(),
        failed: 0,
        first_error: None,
    };
    for poller in pollers {
        if let Ok(health) = poller.await {
            all.latency.add(&health.latency);
            all.failed += health.failed;
            all.first_error = all.first_error.or(health.first_error);
        }
    }
    all
}
