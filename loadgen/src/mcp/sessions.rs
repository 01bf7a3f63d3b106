//! `taskpulse-loadgen --mcp-sessions N --server-pid PID`: the server's resident memory per MCP
//! session, and proof that every session is live. N sessions spread over users (16 each by
//! default, the server's default `--mcp-max-sessions-per-user`, or over `--users`), each
//! initialized, subscribed to `taskpulse://dashboard/user` and holding its `GET /mcp` stream
//! open; the server's RSS is read before (the users registered), after the first half and
//! after all. Then one REST write per user must reach every one of its sessions as
//! `notifications/resources/updated`, timed from the write sent. Every session is deleted at
//! the end.
//!
//! Each session holds two connections at most (its stream, and a POST when one is in flight;
//! idle POST connections are pooled, at most [`OPEN_CONCURRENCY`]): 1 000 sessions stay well
//! under the server's default `--max-connections-per-ip` (4 096) from one source address.

use std::ops::Range;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::{StreamExt, stream};
use serde_json::json;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::{DASHBOARD, EventStream, Session, http_client};
use crate::client::Client;
use crate::idle::{rss_kib, users_for};
use crate::report::Histogram;

const OPEN_CONCURRENCY: usize = 64;
/// How long the server is left alone before its RSS is read.
const SETTLE: Duration = Duration::from_secs(2);
/// How long after the last write the notifications may take.
const NOTIFY_TIMEOUT: Duration = Duration::from_secs(30);
/// REST writes in flight at once.
const WRITE_CONCURRENCY: usize = 8;

/// One open session: whose it is and its `GET` stream.
struct Live {
    session: Session,
    user: usize,
    events: EventStream,
}

/// Registers the users, opens and measures the sessions, proves them live, closes them.
pub async fn run(
    client: &Client,
    sessions: usize,
    users: Option<usize>,
    server_pid: u32,
    hold: Duration,
    json_out: bool,
) -> anyhow::Result<()> {
    let users = users_for(sessions, users);
    eprintln!("loadgen: registering {users} users for {sessions} MCP sessions…");
    let tokens = client.register_many(users, "mcp").await?;
    let http = http_client(OPEN_CONCURRENCY)?;
    let base = client.base_url();
    // Two halves, as `--idle-sessions` does: the second half's growth leaves out what the
    // registrations' password hashing left resident, and the subscriptions' first
    // hydration of each user's aggregate.
    let half = sessions / 2;
    tokio::time::sleep(SETTLE).await;
    let before = rss_kib(server_pid)?;
    let mut live = open_all(&http, base, 0..half, &tokens).await?;
    let half_open = rss_kib(server_pid)?;
    live.extend(open_all(&http, base, half..sessions, &tokens).await?);
    let after = rss_kib(server_pid)?;
    let per_session = after.saturating_sub(before) as f64 / sessions as f64;
    let second_half = after.saturating_sub(half_open) as f64 / (sessions - half).max(1) as f64;

    let (arrived, mut arrivals) = mpsc::unbounded_channel::<(usize, Instant)>();
    let mut listeners = JoinSet::new();
    let mut open = Vec::with_capacity(sessions);
    for (
        n,
        Live {
            session,
            user,
            mut events,
        },
    ) in live.into_iter().enumerate()
    {
        let arrived = arrived.clone();
        listeners.spawn(async move {
            while let Ok(Some(message)) = events.next_message().await {
                if message["method"] == "notifications/resources/updated"
                    && message["params"]["uri"] == DASHBOARD
                {
                    let _ = arrived.send((n, Instant::now()));
                }
            }
        });
        open.push((session, user));
    }
    drop(arrived);
    eprintln!("loadgen: one REST write per user, to be heard on all {sessions} sessions…");
    let written: Vec<anyhow::Result<Instant>> = stream::iter(tokens.iter().enumerate())
        .map(|(user, token)| async move {
            let sent = Instant::now();
            let title = format!("loadgen MCP notification {user}");
            client
                .create_task(0, token, json!({ "title": title }))
                .await?;
            Ok(sent)
        })
        .buffered(WRITE_CONCURRENCY)
        .collect()
        .await;
    let written = written.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    let mut heard: Vec<Option<Instant>> = vec![None; sessions];
    let mut notified = 0;
    let deadline = tokio::time::Instant::now() + NOTIFY_TIMEOUT;
    while notified < sessions {
        match tokio::time::timeout_at(deadline, arrivals.recv()).await {
            Ok(Some((n, at))) if heard[n].is_none() => {
                heard[n] = Some(at);
                notified += 1;
            }
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => break,
        }
    }
    let mut latency = Histogram::new();
    for (at, (_, user)) in heard.iter().zip(&open) {
        if let Some(at) = at {
            latency.record(at.saturating_duration_since(written[*user]));
        }
    }
    let held = match hold.is_zero() {
        true => None,
        false => {
            eprintln!(
                "loadgen: holding the sessions, quiet, for {}…",
                humantime::format_duration(hold)
            );
            tokio::time::sleep(hold).await;
            Some(rss_kib(server_pid)?)
        }
    };
    let per_session_held = held.map(|held| held.saturating_sub(before) as f64 / sessions as f64);
    listeners.abort_all();
    let closed: Vec<anyhow::Result<()>> = stream::iter(&open)
        .map(|(session, _)| session.close())
        .buffer_unordered(OPEN_CONCURRENCY)
        .collect()
        .await;
    let close_failures = closed.iter().filter(|closed| closed.is_err()).count();

    if json_out {
        let report = json!({
            "mcp_sessions": sessions, "users": users, "server_rss_kib_before": before,
            "server_rss_kib_after": after, "kib_per_session": per_session,
            "second_half_kib_per_session": second_half, "notified": notified,
            "expected": sessions, "write_to_notification_ms": latency.summary_or_null(),
            "close_failures": close_failures, "server_rss_kib_held": held,
            "kib_per_session_held": per_session_held,
        });
        println!("{report}");
    } else {
        println!(
            "{sessions} MCP sessions of {users} users, each subscribed to {DASHBOARD} with its GET stream open: server RSS {before} KiB → {after} KiB ({per_session:.1} KiB per session; the second half {second_half:.1})"
        );
        println!(
            "one write per user: {notified} of {sessions} sessions notified, write → notifications/resources/updated p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms; {close_failures} sessions not closed cleanly",
            latency.ms(0.5),
            latency.ms(0.99),
            latency.ms(1.0)
        );
        if let (Some(held), Some(per)) = (held, per_session_held) {
            println!(
                "after {} held quiet: server RSS {held} KiB ({per:.1} KiB per session)",
                humantime::format_duration(hold)
            );
        }
    }
    if notified < sessions {
        bail!("{} sessions were not notified", sessions - notified);
    }
    Ok(())
}

/// Opens sessions `range` (session `n` is user `n mod users`'s), each subscribed and
/// listening, then lets the server settle.
async fn open_all(
    http: &reqwest::Client,
    base: &str,
    range: Range<usize>,
    tokens: &[String],
) -> anyhow::Result<Vec<Live>> {
    let opened: Vec<anyhow::Result<Live>> = stream::iter(range)
        .map(|n| async move {
            let user = n % tokens.len();
            let session = Session::open(http, base, &tokens[user]).await?;
            session
                .request("resources/subscribe", json!({ "uri": DASHBOARD }))
                .await?;
            let events = session.listen().await?;
            anyhow::Ok(Live {
                session,
                user,
                events,
            })
        })
        .map(|opening| async move { opening.await.context("opening an MCP session") })
        .buffer_unordered(OPEN_CONCURRENCY)
        .collect()
        .await;
    let live = opened.into_iter().collect::<anyhow::Result<_>>()?;
    tokio::time::sleep(SETTLE).await;
    Ok(live)
}
