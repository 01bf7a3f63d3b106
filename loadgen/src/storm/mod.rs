//! `taskpulse-loadgen --storm N`: a node dies under load and its clients come back.
//!
//! N sessions over the nodes (session `s` of user `u = s mod users`, 16 sessions a user, all on
//! node `u mod nodes`), each following its user's scope and its team's (teams of four users).
//! Team tasks are created at `--rate` through every node but the one to kill. After
//! `--kill-after`, that node (`--kill-node`) is killed: with `--kill-pid`, the load generator
//! sends it SIGKILL; without, it asks on stderr for the node to be stopped and waits until the
//! node stops answering. Its sessions come back on the other nodes after a jittered exponential
//! backoff, resuming every topic with `since_version`. When the writes end, every session's
//! versions are compared with the aggregates' true versions (`GET /api/v1/dashboard/statistics`).

mod load;
mod population;
mod report;
mod session;
mod tally;
mod verify;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::sync::watch;

use crate::client::Client;
use crate::cpu::CpuPhase;
use load::Writer;
use population::Population;
pub use report::StormReport;
use session::{Cell, Counts, Plan};
use tally::Tally;

/// How long the sessions may take to subscribe before the load starts, per thousand.
const OPEN_DEADLINE_PER_THOUSAND: Duration = Duration::from_secs(30);
/// How long the orphans have to come back before the run says they did not.
const BACK_DEADLINE: Duration = Duration::from_secs(30);
/// How long a stopped node may take to stop answering (no `--kill-pid`).
const STOP_DEADLINE: Duration = Duration::from_secs(120);
/// How often the run looks at its sessions while it waits for them (the sessions date their
/// own comings back: this only decides when the wait ends).
const LOOK_INTERVAL: Duration = Duration::from_millis(20);

/// What a storm run does.
pub struct StormSettings {
    /// Sessions, spread over the nodes.
    pub sessions: usize,
    /// The node to kill (index into the URLs).
    pub kill_node: usize,
    /// Its process id, to SIGKILL it; without, someone else stops it.
    pub kill_pid: Option<u32>,
    /// Time from the first write to the kill.
    pub kill_after: Duration,
    /// Length of the write phase.
    pub duration: Duration,
    /// Writes per second.
    pub rate: u32,
    /// The nodes' process ids, for the CPU each used (may be empty).
    pub node_pids: Vec<u32>,
}

/// Runs one storm and reports it.
pub async fn run(
    client: &Client,
    settings: &StormSettings,
    tag: &str,
) -> anyhow::Result<StormReport> {
    let nodes = client.node_count();
    if nodes < 2 {
        bail!("--storm needs at least two --url values: one node dies, the others take over");
    }
    if settings.kill_node >= nodes {
        bail!(
            "--kill-node {} names no node (0..{nodes})",
            settings.kill_node
        );
    }
    if settings.kill_after >= settings.duration {
        bail!("--kill-after must be shorter than --duration: the kill happens under writes");
    }
    let survivors: Vec<usize> = (0..nodes).filter(|&n| n != settings.kill_node).collect();

    eprintln!(
        "loadgen: storm: registering the users of {} sessions…",
        settings.sessions
    );
    let population = Population::register(client, settings.sessions, tag, &survivors).await?;
    eprintln!(
        "loadgen: storm: {} users in {} teams; opening {} sessions on {nodes} nodes…",
        population.accounts.len(),
        population.teams.len(),
        settings.sessions
    );
    let (stop_sessions, stopped) = watch::channel(false);
    let tally = Arc::new(Tally::new());
    let mut cells = Vec::with_capacity(settings.sessions);
    let mut sessions = Vec::with_capacity(settings.sessions);
    for s in 0..settings.sessions {
        let user = population.user_of_session(s);
        let plan = Plan {
            index: s,
            token: population.accounts[user].token.clone(),
            topics: population.topics_of_user(user),
            node: population.node_of_user(user, nodes),
        };
        let cell = Arc::new(Cell::new(plan.node, plan.topics.len()));
        cells.push(Arc::clone(&cell));
        let (client, tally, stopped) = (client.clone(), Arc::clone(&tally), stopped.clone());
        sessions.push(tokio::spawn(session::follow(
            client, plan, cell, tally, stopped,
        )));
    }
    let open_deadline = OPEN_DEADLINE_PER_THOUSAND * (settings.sessions.div_ceil(1000) as u32);
    let live = wait_for(&cells, open_deadline, |view| view.live).await;
    if live < settings.sessions {
        bail!("only {live} of {} sessions subscribed", settings.sessions);
    }

    eprintln!(
        "loadgen: storm: writing {}/s through nodes {survivors:?}; killing node {} after {}…",
        settings.rate,
        settings.kill_node,
        humantime::format_duration(settings.kill_after)
    );
    let writers: Arc<Vec<Writer>> = Arc::new(
        (0..population.accounts.len())
            .map(|u| Writer {
                token: population.accounts[u].token.clone(),
                team: population.teams[population.team_of_user(u)].clone(),
            })
            .collect(),
    );
    let cpu = CpuPhase::start(&settings.node_pids);
    let writes = tokio::spawn({
        let (client, survivors) = (client.clone(), survivors.clone());
        let (rate, duration) = (settings.rate, settings.duration);
        async move { load::write_at_rate(&client, writers, survivors, rate, duration).await }
    });
    tokio::time::sleep(settings.kill_after).await;

    let orphans: Vec<Arc<Cell>> = (cells.iter())
        .filter(|cell| cell.view().node == settings.kill_node)
        .cloned()
        .collect();
    let (stop_health, health_stopped) = watch::channel(false);
    let health = tokio::spawn({
        let (client, survivors) = (client.clone(), survivors.clone());
        async move { load::poll_health(&client, &survivors, health_stopped).await }
    });
    let killed_at = kill(client, settings, &orphans).await?;
    let kill_node = settings.kill_node;
    let back = wait_for(&orphans, BACK_DEADLINE, |view| {
        view.live && view.node != kill_node
    })
    .await;
    let last_back = (back == orphans.len())
        .then(|| orphans.iter().filter_map(|cell| cell.view().back_at).max())
        .flatten()
        .map(|at| at.saturating_duration_since(killed_at));
    eprintln!(
        "loadgen: storm: {back} of {} orphaned sessions back; writing on…",
        orphans.len()
    );

    let writes = writes.await.context("the writer")?;
    let cpu = cpu.json();
    let _ = stop_health.send(true);
    let health = health.await.context("the health poller")?;
    let verified = verify::versions(client, &population, &cells, survivors[0]).await?;
    let _ = stop_sessions.send(true);
    let mut counts = Counts::default();
    for session in sessions {
        let one = session.await.context("a session")?;
        counts.gaps += one.gaps;
        counts.snapshots_mid_run += one.snapshots_mid_run;
        counts.subscribed_mismatches += one.subscribed_mismatches;
        counts.drops += one.drops;
        counts.failed_connects += one.failed_connects;
        counts.errors += one.errors;
        counts.subscribe_retries += one.subscribe_retries;
        counts.first_error = counts.first_error.or(one.first_error);
    }
    Ok(StormReport {
        nodes: client.urls(),
        killed_node: settings.kill_node,
        sessions: settings.sessions,
        users: population.accounts.len(),
        teams: population.teams.len(),
        orphans: orphans.len(),
        back,
        last_back,
        resumes: tally.take(),
        counts,
        writes,
        health,
        verified,
        cpu,
    })
}

/// Kills the node and answers when it died: SIGKILL with `--kill-pid`; otherwise asks for it
/// on stderr and waits until it stops answering (the first of its sessions to notice, if one
/// noticed earlier, dates the death).
async fn kill(
    client: &Client,
    settings: &StormSettings,
    orphans: &[Arc<Cell>],
) -> anyhow::Result<Instant> {
    let node = settings.kill_node;
    if let Some(pid) = settings.kill_pid {
        let at = Instant::now();
        // kill(1) rather than a signal binding: one process, once, and no extra dependency.
        let status = tokio::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .await
            .context("running kill(1)")?;
        if !status.success() {
            bail!("kill -KILL {pid} failed ({status}): is --kill-pid node {node}'s process?");
        }
        eprintln!("loadgen: storm: SIGKILL sent to node {node} (pid {pid})");
        return Ok(at);
    }
    eprintln!("loadgen: storm: stop node {node} now");
    let deadline = Instant::now() + STOP_DEADLINE;
    while client.is_alive(node).await {
        if Instant::now() > deadline {
            bail!("node {node} was not stopped within {STOP_DEADLINE:?}");
        }
        tokio::time::sleep(LOOK_INTERVAL).await;
    }
    let noticed = Instant::now();
    let first_drop = orphans
        .iter()
        .filter_map(|cell| cell.view().dropped_at)
        .min();
    Ok(first_drop.map_or(noticed, |dropped| dropped.min(noticed)))
}

/// Waits until `done` holds for every cell or `deadline` passes; answers for how many it held.
async fn wait_for(
    cells: &[Arc<Cell>],
    deadline: Duration,
    done: impl Fn(&session::View) -> bool,
) -> usize {
    let until = Instant::now() + deadline;
    loop {
        let count = cells.iter().filter(|cell| cell.holds(&done)).count();
        if count == cells.len() || Instant::now() > until {
            return count;
        }
        tokio::time::sleep(LOOK_INTERVAL).await;
    }
}
