//! `taskpulse-loadgen`: the whole path a user feels, measured against a running server on this
//! machine. It registers users, opens one WebSocket session per user subscribed to its own
//! scope, drives task creation through REST at a fixed rate, and times each write from the
//! moment its request is sent to the moment the matching delta arrives on the user's socket.
//! A second phase measures `GET /api/v1/dashboard/statistics` throughput. Other modes, one flag
//! each, measure other things (`--idle-sessions`, `--flood`, `--hot-team`, `--storm`,
//! `--fanout`, `--mcp-calls`, `--mcp-sessions`).
//!
//! Given several `--url`s (the nodes of a cluster on one database), user `i` registers and
//! writes through node `i mod N` and holds its session on node `(i + 1) mod N`: writes go
//! round-robin over the nodes and, with two or more nodes, every delta crosses from one
//! server to another. The report keeps same-node and cross-node latency apart, and the read
//! phase spreads its readers over all nodes.
//!
//! Run the servers with `--no-rate-limit` (documented configuration): the load is far above
//! the default per-user limits on purpose.
//!
//! A package of its own, so that the server binary carries no HTTP client, WebSocket client or
//! histogram (BENCHMARKS.md says how to build and run it).

mod client;
mod cpu;
mod fanout;
mod flood;
mod hot;
mod idle;
// The server's own file (it needs only nix): one copy of the open-file-limit code.
#[allow(dead_code, reason = "connection_capacity is for the server")]
#[path = "../../src/limits.rs"]
mod limits;
mod mcp;
mod phases;
mod report;
mod storm;
mod webhook_sink;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;

use client::Client;
use cpu::CpuSample;
use report::Report;
use webhook_sink::WebhookSink;

// The server's allocator here too: the load generator shares the machine's cores with the
// server, and the figures in BENCHMARKS.md were measured with it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Loads running taskpulse servers on this machine and measures write-to-WebSocket latency,
/// statistics reads, a hot team, idle sessions, floods of connections or the MCP server.
#[derive(Debug, Clone, Parser)]
#[command(version, about)]
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
    /// Users to register, each with one WebSocket session (default 100). With
    /// `--idle-sessions` or `--mcp-sessions`: the users the sessions are spread over (default:
    /// one for every 16 sessions, the server's default per-user session limit).
    #[arg(long, env = "TASKPULSE_LOADGEN_USERS", value_parser = clap::value_parser!(u32).range(1..=50_000))]
    pub users: Option<u32>,
    /// Writes per second (task creations) during the first phase; with `--mcp-calls`, tool
    /// calls per second (and REST creations in its baseline).
    #[arg(long, env = "TASKPULSE_LOADGEN_RATE", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub rate: u32,
    /// How long the write phase lasts (e.g. `15s`; at most 10 minutes).
    #[arg(long, env = "TASKPULSE_LOADGEN_DURATION", default_value = "15s", value_parser = humantime::parse_duration)]
    pub duration: Duration,
    /// Writes at the same rate for this long before the write phase, left out of the report:
    /// the nodes' first statements (each connection plans them once) and cold caches are not
    /// what a running system does. Default writes only.
    #[arg(long, env = "TASKPULSE_LOADGEN_WARMUP", default_value = "0s", value_parser = humantime::parse_duration)]
    pub warmup: Duration,
    /// How long the statistics-read phase lasts (`0s` skips it).
    #[arg(long, env = "TASKPULSE_LOADGEN_READ_DURATION", default_value = "5s", value_parser = humantime::parse_duration)]
    pub read_duration: Duration,
    /// Concurrent readers in the read phase, spread over the nodes.
    #[arg(long, env = "TASKPULSE_LOADGEN_READERS", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub readers: u32,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Instead of the load: open this many idle subscribed sessions, spread over users (see
    /// `--users`), and report the server's memory per session (needs `--server-pid` and
    /// exactly one `--url`).
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
    /// Instead of the load: a storm. This many WebSocket sessions spread over the nodes (at
    /// least two `--url`s), each following its user's scope and its team's, while team tasks
    /// are created at `--rate` through every node but `--kill-node`; after `--kill-after` that
    /// node is killed (SIGKILL to `--kill-pid`, or, without it, the run asks on stderr for it
    /// to be stopped and waits). Reports the orphans' comeback: resumes by replay and by
    /// snapshot, gaps, resume latency, time until the last is back, failed writes, the other
    /// nodes' health latency, and every session's versions against the true ones.
    #[arg(long, conflicts_with_all = ["idle_sessions", "flood", "hot_team"], value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub storm: Option<u32>,
    /// With `--storm`: the node to kill, by its position among the `--url`s (default: the last).
    #[arg(long, requires = "storm")]
    pub kill_node: Option<usize>,
    /// With `--storm`: the process id of `--kill-node`'s server, to send it SIGKILL.
    #[arg(long, requires = "storm")]
    pub kill_pid: Option<u32>,
    /// With `--storm`: time from the first write to the kill (shorter than `--duration`).
    #[arg(long, requires = "storm", default_value = "5s", value_parser = humantime::parse_duration)]
    pub kill_after: Duration,
    /// Instead of the load: one team followed by this many sessions over the nodes, its owner
    /// creating team tasks through the first node at `--rate` (one at a time) for `--duration`.
    /// Reports write request sent → the last subscriber holding that version.
    #[arg(long, conflicts_with_all = ["idle_sessions", "flood", "hot_team", "storm"], value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub fanout: Option<u32>,
    /// With `--storm` or `--fanout`: the nodes' process ids, in `--url` order, so that the
    /// report says how much CPU each node used over the measured phase (beside the load
    /// generator's own and PostgreSQL's).
    #[arg(long, value_delimiter = ',')]
    pub node_pids: Vec<u32>,
    /// With the write load or `--hot-team`: every user (with `--hot-team`, the team) first gets
    /// a webhook on `task.created` to this URL, on this machine (the server must allow it:
    /// `--webhooks-allow-http --webhooks-allow-private`), so that every creation is delivered.
    #[arg(long, conflicts_with_all = ["idle_sessions", "flood", "storm", "fanout"])]
    pub webhook_url: Option<url::Url>,
    /// With the write load or `--hot-team`: as `--webhook-url`, to a receiver of the load
    /// generator's own that answers 204 at once (a receiver that costs the shared cores
    /// little). The report says how many came, how many while writing, how long after the
    /// writes the last came, and whether each `--hot-team` writer's came in order; it waits up
    /// to a minute for them all.
    #[arg(long, conflicts_with_all = ["webhook_url", "idle_sessions", "flood", "storm", "fanout"])]
    pub webhook_sink: bool,
    /// Instead of the load: one user creates this many tasks through the MCP server's
    /// `create_task` tool on one session, sent open-loop at `--rate` per second (each timed
    /// from its send to its answer parsed), after the same creations over REST at the same
    /// rate as the baseline. Reports sent, ok, failed and p50/p99/max of both, and the
    /// server's own mean time per tool call from its `/metrics` (first URL only; run the
    /// server with `--no-rate-limit`).
    #[arg(long, conflicts_with_all = ["idle_sessions", "flood", "hot_team", "storm", "fanout", "webhook_url", "webhook_sink"], value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub mcp_calls: Option<u32>,
    /// Instead of the load: open this many MCP sessions spread over users (see `--users`;
    /// default one for every 16 sessions, the server's default
    /// `--mcp-max-sessions-per-user`), each subscribed to `taskpulse://dashboard/user` with
    /// its `GET /mcp` stream open, and report the server's memory per session; then one REST
    /// write per user must notify every session (`notifications/resources/updated`: count and
    /// latency). Needs `--server-pid` and exactly one `--url`.
    #[arg(long, requires = "server_pid", conflicts_with_all = ["idle_sessions", "flood", "hot_team", "storm", "fanout", "mcp_calls", "webhook_url", "webhook_sink"], value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub mcp_sessions: Option<u32>,
    /// With `--mcp-sessions`: after the write, hold the sessions this long, quiet, and read
    /// the server's memory again (the SDK keeps each request's answers for a late resume for
    /// a minute: `70s` reads it without them). `0s` skips it.
    #[arg(long, requires = "mcp_sessions", default_value = "0s", value_parser = humantime::parse_duration)]
    pub mcp_hold: Duration,
    /// The server's process id (same machine): with `--idle-sessions` or `--mcp-sessions`, to
    /// read its resident memory; otherwise the report adds the CPU per write of the server and of PostgreSQL.
    #[arg(long)]
    pub server_pid: Option<u32>,
}

const MAX_DURATION: Duration = Duration::from_secs(600);
/// Users registered for the load when `--users` is not given.
const DEFAULT_USERS: u32 = 100;
/// The most `--url`s one run may name.
const MAX_NODES: usize = 64;

#[tokio::main]
async fn main() -> ExitCode {
    match run(LoadgenArgs::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // One line a person can act on; the causes are in it already.
            eprintln!("taskpulse-loadgen: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the load and prints the report.
async fn run(args: LoadgenArgs) -> anyhow::Result<()> {
    if args.duration > MAX_DURATION
        || args.read_duration > MAX_DURATION
        || args.warmup > MAX_DURATION
    {
        bail!(
            "each phase lasts at most {}",
            humantime::format_duration(MAX_DURATION)
        );
    }
    if args.urls.len() > MAX_NODES {
        bail!("at most {MAX_NODES} --url values, not {}", args.urls.len());
    }
    let client = Client::new(&args.urls)?;
    if let (Some(sessions), Some(pid)) = (args.idle_sessions, args.server_pid) {
        if client.node_count() != 1 {
            bail!("--idle-sessions measures one server: give exactly one --url");
        }
        raise_open_file_limit(u64::from(sessions) * 2 + 256);
        let users = args.users.map(|users| users as usize);
        return idle::measure(&client, sessions as usize, users, pid, args.json).await;
    }
    if let Some(calls) = args.mcp_calls {
        // Calls in flight each hold a connection when the server falls behind.
        raise_open_file_limit(2048);
        return mcp::calls(&client, calls as usize, args.rate, args.json).await;
    }
    if let (Some(sessions), Some(pid)) = (args.mcp_sessions, args.server_pid) {
        if client.node_count() != 1 {
            bail!("--mcp-sessions measures one server: give exactly one --url");
        }
        raise_open_file_limit(u64::from(sessions) * 2 + 256);
        let users = args.users.map(|users| users as usize);
        let hold = args.mcp_hold.min(MAX_DURATION);
        return mcp::sessions(&client, sessions as usize, users, pid, hold, args.json).await;
    }
    let users = args.users.unwrap_or(DEFAULT_USERS);
    raise_open_file_limit(u64::from(users) * 2 + u64::from(args.readers) + 256);
    if let (Some(connections), Some(pid)) = (args.flood, args.server_pid) {
        if client.node_count() != 1 {
            bail!("--flood measures one server: give exactly one --url");
        }
        raise_open_file_limit(u64::from(connections) * 2 + 256);
        return flood::measure(&client, connections as usize, pid, args.json).await;
    }
    let run_tag = uuid::Uuid::now_v7().simple().to_string()[24..].to_owned();
    if let Some(sessions) = args.storm {
        raise_open_file_limit(u64::from(sessions) * 2 + 1024);
        let settings = storm::StormSettings {
            sessions: sessions as usize,
            kill_node: args.kill_node.unwrap_or(client.node_count() - 1),
            kill_pid: args.kill_pid,
            kill_after: args.kill_after,
            duration: args.duration,
            rate: args.rate,
            node_pids: args.node_pids.clone(),
        };
        let report = storm::run(&client, &settings, &run_tag).await?;
        if args.json {
            println!("{}", report.json());
        } else {
            print!("{}", report.table());
        }
        return Ok(());
    }
    if let Some(subscribers) = args.fanout {
        raise_open_file_limit(u64::from(subscribers) * 2 + 1024);
        let settings = fanout::FanoutSettings {
            subscribers: subscribers as usize,
            rate: args.rate,
            duration: args.duration,
            node_pids: args.node_pids.clone(),
        };
        let report = fanout::run(&client, &settings, &run_tag).await?;
        if args.json {
            println!("{}", report.json());
        } else {
            print!("{}", report.table());
        }
        return Ok(());
    }
    if let Some(writers) = args.hot_team {
        eprintln!(
            "loadgen: {writers} connections creating tasks in one team for {}…",
            humantime::format_duration(args.duration)
        );
        let mut report = Report::new(client.urls());
        let sink = start_sink(&args).await?;
        let webhook_url = sink
            .as_ref()
            .map(WebhookSink::url)
            .or(args.webhook_url.as_ref());
        let cpu = args.server_pid.map(CpuSample::take);
        hot::run(
            &client,
            writers as usize,
            args.duration,
            &run_tag,
            webhook_url,
            &mut report,
        )
        .await?;
        report.cpu_per_write = cpu.map(|c| c.per_write(report.writes_sent));
        report.webhooks = sink_report(sink.as_ref(), &report).await;
        print_report(&report, args.json);
        return Ok(());
    }

    eprintln!(
        "loadgen: registering {users} users and opening their sessions on {} node(s)…",
        client.node_count()
    );
    let users = client.open_users(users as usize, &run_tag).await?;
    let tokens: Arc<Vec<String>> = Arc::new(users.iter().map(|u| u.token.clone()).collect());
    let sink = start_sink(&args).await?;
    if let Some(url) = sink
        .as_ref()
        .map(WebhookSink::url)
        .or(args.webhook_url.as_ref())
    {
        ensure_loopback(url)?;
        for (i, token) in tokens.iter().enumerate() {
            (client.create_webhook(i % client.node_count(), token, url, None)).await?;
        }
    }
    let mut report = Report::new(client.urls());

    eprintln!(
        "loadgen: writing at {}/s for {}…",
        args.rate,
        humantime::format_duration(args.duration)
    );
    let cpu = args.server_pid.map(CpuSample::take);
    phases::write(&client, users, &args, &mut report).await?;
    report.cpu_per_write = cpu.map(|c| c.per_write(report.writes_sent));
    report.webhooks = sink_report(sink.as_ref(), &report).await;
    if !args.read_duration.is_zero() {
        eprintln!(
            "loadgen: reading statistics with {} readers for {}…",
            args.readers,
            humantime::format_duration(args.read_duration)
        );
        phases::read(&client, tokens, &args, &mut report).await;
    }
    print_report(&report, args.json);
    Ok(())
}

/// The load generator's own webhook receiver, with `--webhook-sink`.
async fn start_sink(args: &LoadgenArgs) -> anyhow::Result<Option<WebhookSink>> {
    match args.webhook_sink {
        true => Ok(Some(WebhookSink::start().await?)),
        false => Ok(None),
    }
}

/// What the receiver got, once every successful write's event came (or a minute passed).
async fn sink_report(sink: Option<&WebhookSink>, report: &Report) -> Option<serde_json::Value> {
    let sink = sink?;
    let ended = report.writes_ended.unwrap_or_else(std::time::Instant::now);
    let started = ended - Duration::from_secs_f64(report.write_seconds);
    let expected = report.writes_sent.saturating_sub(report.write_errors);
    Some(
        sink.report(started, ended, expected, Duration::from_secs(60))
            .await,
    )
}

/// Raises the soft open-file limit towards `wanted`; a failure is said, not fatal (the run
/// fails later, and clearly, only if it needs that many).
fn raise_open_file_limit(wanted: u64) {
    if let Err(err) = limits::raise_open_file_limit(wanted) {
        eprintln!("loadgen: cannot raise the open-file limit towards {wanted}: {err}");
    }
}

fn print_report(report: &Report, json: bool) {
    if json {
        println!("{}", report.json());
    } else {
        print!("{}", report.table());
    }
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
