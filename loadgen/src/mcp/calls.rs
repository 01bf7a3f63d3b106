//! `taskpulse-loadgen --mcp-calls N --rate R`: one user, one MCP session, N `create_task` tool
//! calls sent open-loop at R/s, each timed from its send to its answer parsed; first the same
//! N creations over REST at the same rate from the same process and HTTP client, the baseline
//! that shows what MCP adds. `/metrics` read before and after the calls gives the server's own
//! mean time per tool call (`taskpulse_mcp_tool_call_seconds`), which splits what MCP adds
//! between the server and the transport plus this client.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::{Session, http_client};
use crate::client::Client;
use crate::report::Histogram;

/// Calls in flight at most: past it the sends wait (the report's send rate then falls short).
const MAX_IN_FLIGHT: usize = 1_000;
const TOOL_CALL_FAMILY: &str = "taskpulse_mcp_tool_call_seconds";

/// What one open-loop phase measured.
struct Phase {
    sent: u64,
    ok: u64,
    failed: u64,
    send_seconds: f64,
    latency: Histogram,
    first_error: Option<String>,
}

impl Phase {
    /// Sends per second: the first goes at once, so N sends span N - 1 intervals.
    fn send_rate(&self) -> f64 {
        self.sent.saturating_sub(1) as f64 / self.send_seconds.max(f64::EPSILON)
    }

    fn json(&self) -> Value {
        json!({
            "sent": self.sent, "ok": self.ok, "failed": self.failed,
            "sends_per_second": self.send_rate(),
            "ms": self.latency.summary_or_null(), "first_error": self.first_error,
        })
    }

    fn row(&self, name: &str) -> String {
        format!(
            "{name:<16} {:>6} {:>6} {:>6} {:>9.0} {:>9.3} {:>9.3} {:>9.3}\n",
            self.sent,
            self.ok,
            self.failed,
            self.send_rate(),
            self.latency.ms(0.5),
            self.latency.ms(0.99),
            self.latency.ms(1.0),
        )
    }
}

/// Registers the user, runs the REST baseline and the tool calls, prints the report.
pub async fn run(client: &Client, calls: usize, rate: u32, json_out: bool) -> anyhow::Result<()> {
    let base = client.base_url().to_owned();
    let token = client.register_one("mcp").await?;
    let http = http_client(MAX_IN_FLIGHT)?;
    eprintln!("loadgen: {calls} task creations over REST at {rate}/s (the baseline)…");
    let rest = {
        let (http, base, token) = (http.clone(), base.clone(), token.clone());
        open_loop(calls, rate, move |seq| {
            let request = (http.post(format!("{base}/api/v1/tasks")))
                .bearer_auth(&token)
                .json(&json!({ "title": format!("loadgen REST task {seq}") }))
                .send();
            async move {
                let response = request.await?;
                let status = response.status();
                response.bytes().await?;
                if status != 201 {
                    bail!("POST /api/v1/tasks answered {status}");
                }
                Ok(())
            }
        })
        .await
    };
    let session = Arc::new(Session::open(&http, &base, &token).await?);
    let before = server_tool_time(&http, &base).await?;
    eprintln!("loadgen: {calls} create_task tool calls at {rate}/s on one MCP session…");
    let mcp = {
        let session = Arc::clone(&session);
        open_loop(calls, rate, move |seq| {
            let session = Arc::clone(&session);
            async move {
                let title = format!("loadgen MCP task {seq}");
                session
                    .call_tool("create_task", json!({ "title": title }))
                    .await?;
                Ok(())
            }
        })
        .await
    };
    let after = server_tool_time(&http, &base).await?;
    session.close().await?;
    let server = after.map(|(sum, count)| {
        let (sum0, count0) = before.unwrap_or_default();
        let calls = count - count0;
        let mean_ms = if calls > 0.0 {
            (sum - sum0) / calls * 1000.0
        } else {
            0.0
        };
        // Counts are floats in the Prometheus text; these are whole calls.
        json!({ "calls": calls.round() as u64, "mean_ms": mean_ms })
    });
    if json_out {
        let report = json!({
            "mcp_calls": calls, "rate": rate, "rest": rest.json(), "mcp": mcp.json(),
            "server_tool_call": server,
        });
        println!("{report}");
    } else {
        print!(
            "create_task over loopback, {calls} at {rate}/s, open loop\n{:<16} {:>6} {:>6} {:>6} {:>9} {:>9} {:>9} {:>9}\n",
            "", "sent", "ok", "failed", "sent/s", "p50 ms", "p99 ms", "max ms"
        );
        print!("{}{}", rest.row("REST baseline"), mcp.row("MCP tool call"));
        match server {
            Some(server) => println!(
                "server's own time per tool call ({TOOL_CALL_FAMILY}): mean {:.3} ms over {} calls",
                server["mean_ms"].as_f64().unwrap_or_default(),
                server["calls"]
            ),
            None => println!("the server exports no {TOOL_CALL_FAMILY} (an older build?)"),
        }
        for (name, phase) in [("REST", &rest), ("MCP", &mcp)] {
            if let Some(error) = &phase.first_error {
                println!("{name}: first error: {error}");
            }
        }
    }
    Ok(())
}

/// Sends `count` operations at `rate` per second, each on a task of its own so that a slow
/// one does not hold the next back, and times each from its send to its end.
async fn open_loop<F, Fut>(count: usize, rate: u32, operation: F) -> Phase
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let in_flight = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let mut running = JoinSet::new();
    let started = Instant::now();
    let mut sent = 0;
    for seq in 0..count as u64 {
        ticker.tick().await;
        let Ok(permit) = Arc::clone(&in_flight).acquire_owned().await else {
            break;
        };
        sent += 1;
        let operation = operation(seq);
        running.spawn(async move {
            let sent = Instant::now();
            let outcome = operation.await;
            drop(permit);
            outcome.map(|()| sent.elapsed())
        });
    }
    let send_seconds = started.elapsed().as_secs_f64();
    let mut phase = Phase {
        sent,
        ok: 0,
        failed: 0,
        send_seconds,
        latency: Histogram::new(),
        first_error: None,
    };
    while let Some(joined) = running.join_next().await {
        match joined {
            Ok(Ok(latency)) => {
                phase.ok += 1;
                phase.latency.record(latency);
            }
            Ok(Err(err)) => {
                phase.failed += 1;
                phase.first_error.get_or_insert(format!("{err:#}"));
            }
            Err(err) => {
                phase.failed += 1;
                phase.first_error.get_or_insert(err.to_string());
            }
        }
    }
    phase
}

/// The sum (seconds) and count of the server's `create_task` tool call histogram, over both
/// outcomes; `None` when the server does not export the family.
async fn server_tool_time(
    http: &reqwest::Client,
    base: &str,
) -> anyhow::Result<Option<(f64, f64)>> {
    let response = http.get(format!("{base}/metrics")).send().await?;
    if response.status() != 200 {
        bail!("GET /metrics answered {}", response.status());
    }
    let text = response.text().await?;
    if !text.contains(&format!("# TYPE {TOOL_CALL_FAMILY} ")) {
        // Declared only once the first tool call is recorded: before it, zero.
        return Ok(None);
    }
    let total = |suffix: &str| -> f64 {
        let prefix = format!("{TOOL_CALL_FAMILY}_{suffix}{{tool=\"create_task\"");
        (text.lines())
            .filter(|line| line.starts_with(&prefix))
            .filter_map(|line| line.rsplit_once(' ')?.1.parse::<f64>().ok())
            .sum()
    };
    Ok(Some((total("sum"), total("count"))))
}
