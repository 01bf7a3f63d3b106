//! `taskpulse-loadgen --fanout N`: one team followed by N sessions over the nodes.
//!
//! One owner, one team, N sessions (session `s` on node `s mod nodes`, of member `s mod
//! members`, 16 sessions a member) subscribed to `team:<id>`. The owner creates team tasks
//! through node 0 at `--rate`, one at a time (a write waits for the previous answer, so write
//! `k` makes version `v0 + k`: nobody else writes to the team). Each write is timed from the
//! moment its request is sent to the moment the last of the N sessions holds its version.

mod report;
mod session;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::{StreamExt, stream};
use serde_json::json;
use tokio::sync::watch;

use crate::client::{Client, connect};
use crate::cpu::CpuPhase;
use crate::report::Histogram;
pub use report::FanoutReport;

/// Sessions per member: the server's default `--ws-max-sessions-per-user` is per node, and
/// 16 over the nodes stays under it everywhere.
const SESSIONS_PER_MEMBER: usize = 16;
/// Sessions opening at once, and members being added at once.
const OPEN_CONCURRENCY: usize = 64;
/// How long the sessions get to receive the last write's delta.
const SETTLE_DEADLINE: Duration = Duration::from_secs(10);
/// The node the writes go through.
const WRITE_NODE: usize = 0;

/// What a fan-out run does.
pub struct FanoutSettings {
    pub subscribers: usize,
    pub rate: u32,
    pub duration: Duration,
    /// The nodes' process ids, for the CPU each used (may be empty).
    pub node_pids: Vec<u32>,
}

/// Runs one fan-out and reports it.
pub async fn run(
    client: &Client,
    settings: &FanoutSettings,
    tag: &str,
) -> anyhow::Result<FanoutReport> {
    let nodes: Vec<usize> = (0..client.node_count()).collect();
    let members = settings.subscribers.div_ceil(SESSIONS_PER_MEMBER);
    eprintln!("loadgen: fan-out: one team, {members} members…");
    let owner = client
        .register_accounts(1, &format!("{tag}-owner"), &[WRITE_NODE])
        .await?;
    let owner = owner.into_iter().next().context("no owner")?;
    let team = client
        .create_team(WRITE_NODE, &owner.token, &format!("fan-out {tag}"))
        .await?;
    let accounts = client.register_accounts(members, tag, &nodes).await?;
    let added: Vec<anyhow::Result<()>> = stream::iter(&accounts)
        .map(|member| client.add_member(WRITE_NODE, &owner.token, &team, member, "viewer"))
        .buffer_unordered(OPEN_CONCURRENCY)
        .collect()
        .await;
    added.into_iter().collect::<anyhow::Result<Vec<()>>>()?;

    eprintln!(
        "loadgen: fan-out: opening {} sessions on {} nodes…",
        settings.subscribers,
        nodes.len()
    );
    let topic = format!("team:{team}");
    let opened: Vec<anyhow::Result<_>> = stream::iter(0..settings.subscribers)
        .map(|s| {
            let url = client.ws_url(s % nodes.len(), &accounts[s % members].token);
            let topic = topic.clone();
            async move {
                let mut socket = connect(&url).await?;
                let version = session::subscribe(&mut socket, &topic).await?;
                anyhow::Ok((socket, version))
            }
        })
        .buffer_unordered(OPEN_CONCURRENCY)
        .collect()
        .await;
    let opened = opened.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    let start = client
        .aggregate_version(WRITE_NODE, &owner.token, Some(&team))
        .await?;
    if let Some((_, version)) = opened.iter().find(|(_, version)| *version != start) {
        bail!("a session's snapshot is at version {version}, the team at {start}");
    }
    let (stop, stopped) = watch::channel(false);
    let held: Vec<Arc<AtomicI64>> = (0..opened.len())
        .map(|_| Arc::new(AtomicI64::new(start)))
        .collect();
    let followers: Vec<_> = (opened.into_iter().zip(&held))
        .map(|((socket, version), held)| {
            let follow = session::follow(socket, version, Arc::clone(held), stopped.clone());
            tokio::spawn(follow)
        })
        .collect();

    eprintln!(
        "loadgen: fan-out: writing {}/s to the team through node {WRITE_NODE} for {}…",
        settings.rate,
        humantime::format_duration(settings.duration)
    );
    let cpu = CpuPhase::start(&settings.node_pids);
    let writes = write_sequentially(client, &owner.token, &team, settings).await;
    let cpu = cpu.json();
    let last = start + writes.sent.len() as i64;
    let until = Instant::now() + SETTLE_DEADLINE;
    while held.iter().any(|v| v.load(Ordering::Relaxed) < last) && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop.send(true);
    let mut records = Vec::with_capacity(followers.len());
    for follower in followers {
        records.push(follower.await.context("a subscriber")?);
    }
    Ok(FanoutReport::new(
        client.urls(),
        members,
        start,
        writes,
        &records,
        cpu,
    ))
}

/// The owner's writes.
pub struct Writes {
    /// When each successful write was sent: write `k` (from 0) made version `start + k + 1`.
    pub sent: Vec<Instant>,
    /// Request sent → 201.
    pub answered: Histogram,
    pub failed: u64,
    pub first_error: Option<String>,
    pub seconds: f64,
}

/// Team task creations at `rate`, each after the previous one's answer. A failed write stops
/// them: whether it committed is unknown, and the versions that follow could not be matched
/// to their writes.
async fn write_sequentially(
    client: &Client,
    token: &str,
    team: &str,
    settings: &FanoutSettings,
) -> Writes {
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(settings.rate)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut writes = Writes {
        sent: Vec::new(),
        answered: Histogram::new(),
        failed: 0,
        first_error: None,
        seconds: 0.0,
    };
    let started = Instant::now();
    while started.elapsed() < settings.duration {
        ticker.tick().await;
        let title = format!("fan-out write {}", writes.sent.len());
        let sent = Instant::now();
        let body = json!({ "title": title, "team_id": team });
        match client.create_task(WRITE_NODE, token, body).await {
            Ok(()) => {
                writes.answered.record(sent.elapsed());
                writes.sent.push(sent);
            }
            Err(err) => {
                writes.failed += 1;
                writes.first_error = Some(format!("{err:#}"));
                break;
            }
        }
    }
    writes.seconds = started.elapsed().as_secs_f64();
    writes
}
