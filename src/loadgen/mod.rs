//! `taskpulse loadgen`: the whole path a user feels, measured against a running server on this
//! machine. It registers users, opens one WebSocket session per user subscribed to its own
//! scope, drives task creation through REST at a fixed rate, and times each write from the
//! moment its request is sent to the moment the matching delta arrives on the user's socket.
//! A second phase measures `GET /api/v1/dashboard/statistics` throughput.
//!
//! Given several `--url`s (the nodes of a cluster on one database), user `i` registers and
//! writes through node `i mod N` and holds its session on node `(i + 1) mod N`: writes go
//! round-robin over the nodes and, with two or more nodes, every delta crosses from one
//! server to another. The report keeps same-node and cross-node latency apart, and the read
//! phase spreads its readers over all nodes.
//!
//! Run the servers with `--no-rate-limit` (documented configuration): the load is far above
//! the default per-user limits on purpose.

mod client;
mod cpu;
mod flood;
mod hot;
mod idle;
mod report;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use tokio::sync::mpsc;

use client::{Client, LiveUser};
use cpu::CpuSample;
use report::{Histogram, Report};

/// `loadgen`'s settings.
#[derive(Debug, Clone, Args)]
pub struct LoadgenArgs {
    /// The server, on this machine only (loopback). Give it several times, or
    /// comma-separated, for the nodes of one cluster (one database, one JWT secret; at most
    /// 64): user i registers and writes through node i mod N and holds its WebSocket session
    /// on node (i + 1) mod N, so with two or more nodes every delta is measured cross-node.
    #[arg(
        long = "url",
        value_name = "URL",
        env = "TASKPULSE_LOADGEN_URL",
        value_delimiter = ',',
        default_value = "http://127.0.0.1:8080"
    )]
    pub urls: Vec<String>,
    /// Users to register, each with one WebSocket session.
    #[arg(long, env = "TASKPULSE_LOADGEN_USERS", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=50_000))]
    pub users: u32,
    /// Writes per second (task creations) during the first phase.
    #[arg(long, env = "TASKPULSE_LOADGEN_RATE", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub rate: u32,
    /// How long the write phase lasts (e.g. `15s`; at most 10 minutes).
    #[arg(long, env = "TASKPULSE_LOADGEN_DURATION", default_value = "15s", value_parser = humantime::parse_duration)]
    pub duration: Duration,
    /// How long the statistics-read phase lasts (`0s` skips it).
    #[arg(long, env = "TASKPULSE_LOADGEN_READ_DURATION", default_value = "5s", value_parser = humantime::parse_duration)]
    pub read_duration: Duration,
    /// Concurrent readers in the read phase, spread over the nodes.
    #[arg(long, env = "TASKPULSE_LOADGEN_READERS", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub readers: u32,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Instead of the load: open this many idle subscribed sessions and report the server's
    /// memory per session (needs `--server-pid` and exactly one `--url`).
    #[arg(long, requires = "server_pid", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub idle_sessions: Option<u32>,
    /// Instead of the load: floods the server with this many silent connections, then as many
    /// half-sent request heads, then as many unauthenticated WebSocket sessions; reports the
    /// health latency while they are held and the server's memory before, during and after
    /// (needs `--server-pid` and exactly one `--url`).
    #[arg(long, requires = "server_pid", conflicts_with = "idle_sessions", value_parser = clap::value_parser!(u32).range(1..=200_000))]
    pub flood: Option<u32>,
    /// Instead of the load: this many connections create tasks in one team as its owner, each
    /// as fast as it is answered, for `--duration` — every write bumps the same two aggregate
    /// rows. Reports the sustained write rate and the write latency.
    #[arg(long, conflicts_with = "idle_sessions", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub hot_team: Option<u32>,
    /// The server's process id (same machine): with `--idle-sessions`, to read its resident
    /// memory; otherwise the report adds the CPU per write of the server and of PostgreSQL.
    #[arg(long)]
    pub server_pid: Option<u32>,
}

const MAX_DURATION: Duration = Duration::from_secs(600);
/// The most `--url`s one run may name.
const MAX_NODES: usize = 64;
/// A write whose delta has not arrived by then counts as an error.
const DELTA_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs the load and prints the report.
pub async fn run(args: LoadgenArgs) -> anyhow::Result<()> {
    if args.duration > MAX_DURATION || args.read_duration > MAX_DURATION {
        bail!(
            "each phase lasts at most {}",
            humantime::format_duration(MAX_DURATION)
        );
    }
    if args.urls.len() > MAX_NODES {
        bail!("at most {MAX_NODES} --url values, not {}", args.urls.len());
    }
    let client = Client::new(&args.urls)?;
    crate::limits::raise_open_file_limit(u64::from(args.users) * 2 + u64::from(args.readers) + 256);
    if let (Some(sessions), Some(pid)) = (args.idle_sessions, args.server_pid) {
        if client.node_count() != 1 {
            bail!("--idle-sessions measures one server: give exactly one --url");
        }
        crate::limits::raise_open_file_limit(u64::from(sessions) * 2 + 256);
        return idle::measure(&client, sessions as usize, pid, args.json).await;
    }
    if let (Some(connections), Some(pid)) = (args.flood, args.server_pid) {
        if client.node_count() != 1 {
            bail!("--flood measures one server: give exactly one --url");
        }
        crate::limits::raise_open_file_limit(u64::from(connections) * 2 + 256);
        return flood::measure(&client, connections as usize, pid, args.json).await;
    }
    let run_tag = uuid::Uuid::now_v7().simple().to_string()[24..].to_owned();
    if let Some(writers) = args.hot_team {
        eprintln!(
            "loadgen: {writers} connections creating tasks in one team for {}…",
            humantime::format_duration(args.duration)
        );
        let mut report = Report::new(client.urls());
        let cpu = args.server_pid.map(CpuSample::take);
        hot::run(
            &client,
            writers as usize,
            args.duration,
            &run_tag,
            &mut report,
        )
        .await?;
        report.cpu_per_write = cpu.map(|c| c.per_write(report.writes_sent));
        print_report(&report, args.json);
        return Ok(());
    }

    eprintln!(
        "loadgen: registering {} users and opening their sessions on {} node(s)…",
        args.users,
        client.node_count()
    );
    let users = client.open_users(args.users as usize, &run_tag).await?;
    let tokens: Arc<Vec<String>> = Arc::new(users.iter().map(|u| u.token.clone()).collect());
    let mut report = Report::new(client.urls());

    eprintln!(
        "loadgen: writing at {}/s for {}…",
        args.rate,
        humantime::format_duration(args.duration)
    );
    let cpu = args.server_pid.map(CpuSample::take);
    write_phase(&client, users, &args, &mut report).await?;
    report.cpu_per_write = cpu.map(|c| c.per_write(report.writes_sent));
    if !args.read_duration.is_zero() {
        eprintln!(
            "loadgen: reading statistics with {} readers for {}…",
            args.readers,
            humantime::format_duration(args.read_duration)
        );
        read_phase(&client, tokens, &args, &mut report).await;
    }
    print_report(&report, args.json);
    Ok(())
}

fn print_report(report: &Report, json: bool) {
    if json {
        println!("{}", report.json());
    } else {
        print!("{}", report.table());
    }
}

/// Open-loop writes: a tick every 1/rate seconds hands the write to a free user (one write in
/// flight per user, so each delta pairs with exactly one write). A tick with no free user is
/// counted as missed: the target rate was not reached.
async fn write_phase(
    client: &Client,
    users: Vec<LiveUser>,
    args: &LoadgenArgs,
    report: &mut Report,
) -> anyhow::Result<()> {
    let (free_tx, mut free_rx) = mpsc::unbounded_channel::<LiveUser>();
    for user in users {
        let _ = free_tx.send(user);
    }
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<client::WriteOutcome>();
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(args.rate)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    let client = Arc::new(client.clone());
    let mut sent = 0u64;
    while started.elapsed() < args.duration {
        ticker.tick().await;
        while let Ok(outcome) = done_rx.try_recv() {
            report.record(outcome);
        }
        let Ok(user) = free_rx.try_recv() else {
            report.missed_ticks += 1;
            continue;
        };
        sent += 1;
        let (client, free, done) = (Arc::clone(&client), free_tx.clone(), done_tx.clone());
        tokio::spawn(async move {
            let (user, outcome) = client
                .write_and_await_delta(user, sent, DELTA_TIMEOUT)
                .await;
            let _ = done.send(outcome);
            if let Some(user) = user {
                let _ = free.send(user);
            }
        });
    }
    report.write_seconds = started.elapsed().as_secs_f64();
    drop(done_tx);
    // Let the writes in flight finish (each is bounded by DELTA_TIMEOUT).
    let deadline = Instant::now() + DELTA_TIMEOUT + Duration::from_secs(2);
    while report.writes_finished() < sent && Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_millis(200), done_rx.recv()).await {
            Ok(Some(outcome)) => report.record(outcome),
            Ok(None) => break,
            Err(_) => {}
        }
    }
    report.writes_sent = sent;
    Ok(())
}

/// Closed-loop reads: each reader asks its node (reader r: node r mod N) for a random user's
/// statistics as fast as it can.
async fn read_phase(
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

/// Refuses anything but this machine.
pub(crate) fn ensure_loopback(url: &url::Url) -> anyhow::Result<()> {
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name == "localhost",
        None => false,
    };
    if !loopback {
        bail!("loadgen only targets this machine (127.0.0.0/8, ::1 or localhost), not {url}");
    }
    Ok(())
}

/// `Context` for errors that carry a user's index.
pub(crate) fn for_user<T>(result: anyhow::Result<T>, user: usize) -> anyhow::Result<T> {
    result.with_context(|| format!("user {user}"))
}
