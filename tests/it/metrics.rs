//! `GET /metrics`: Prometheus text with request counts and latency histograms by route
//! template and status, pool usage and live aggregates.

use crate::common::{TestApp, expect_json};
use serde_json::json;

#[tokio::test]
async fn requests_are_counted_by_route_template_and_status() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let task = app
        .create_task(&ada.access, json!({"title": "Write"}))
        .await?;
    let path = format!("/api/v1/tasks/{}", task["id"].as_str().unwrap_or_default());
    expect_json(app.get_as(&path, &ada.access).await?, 200).await?;
    app.get("/api/v1/tasks").await?;
    app.get("/no/such/page").await?;

    let response = app.get("/metrics").await?;

    assert_eq!(response.status(), 200);
    let text = response.text().await?;
    let has = |needle: &str| text.lines().any(|l| l.contains(needle));
    let requests = |method: &str, route: &str, status: u16| {
        let labels = format!(r#"{{method="{method}",route="{route}",status="{status}"}}"#);
        sample(&text, &format!("taskpulse_http_requests_total{labels}"))
    };
    assert_eq!(
        requests("GET", "/api/v1/tasks/{id}", 200),
        Some(1.0),
        "{text}"
    );
    assert_eq!(requests("GET", "/api/v1/tasks", 401), Some(1.0), "{text}");
    // Paths no route matches share one label, never the raw path nor an empty one.
    assert_eq!(requests("GET", "unmatched", 404), Some(1.0), "{text}");
    assert!(!text.contains(r#"route="""#), "{text}");
    assert!(!text.contains("/no/such/page"), "{text}");
    assert_eq!(
        requests("POST", "/api/v1/auth/register", 201),
        Some(1.0),
        "{text}"
    );
    assert!(
        has("taskpulse_http_request_duration_seconds_bucket{"),
        "{text}"
    );
    assert!(
        !text.contains(task["id"].as_str().unwrap_or("-")),
        "no concrete ids"
    );
    assert!(has("taskpulse_db_pool_connections "), "{text}");
    assert!(has("taskpulse_live_aggregates "), "{text}");
    Ok(())
}

/// The value of an unlabelled sample in Prometheus text, if present.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
}

#[tokio::test]
async fn live_websocket_sessions_and_engine_deltas_are_exported() -> anyhow::Result<()> {
    use futures_util::{SinkExt, StreamExt};
    use std::time::Duration;
    use tokio_tungstenite::tungstenite::Message;

    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let url = format!(
        "{}/api/v1/ws?access_token={}",
        app.base_url.replace("http://", "ws://"),
        ada.access
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(&url).await?;
    let subscribe = json!({ "type": "subscribe", "topic": "user" }).to_string();
    socket.send(Message::Text(subscribe.into())).await?;
    // The snapshot: the session is live and the aggregate warm.
    tokio::time::timeout(Duration::from_secs(5), socket.next()).await?;
    app.create_task(&ada.access, json!({"title": "Counted"}))
        .await?;

    let metric = |name: &'static str| {
        let app = &app;
        async move {
            let text = app.get("/metrics").await?.text().await?;
            anyhow::Ok(sample(&text, name))
        }
    };
    let live = crate::common::poll_until(Duration::from_secs(5), || async {
        Ok(match metric("taskpulse_ws_live_sessions").await? {
            Some(n) if n > 0.0 => Ok(n),
            other => Err(format!("{other:?}")),
        })
    })
    .await?;
    assert_eq!(live, 1.0);
    // The aggregate counts its delta just after acknowledging it: poll, don't race.
    let counted = crate::common::poll_until(Duration::from_secs(5), || async {
        let applied = metric("taskpulse_deltas_applied_total").await?;
        let delivered = metric("taskpulse_delta_delivery_seconds_count").await?;
        Ok(match (applied, delivered) {
            (Some(a), Some(d)) if a > 0.0 && d > 0.0 => Ok((a, d)),
            other => Err(format!("applied, delivered: {other:?}")),
        })
    })
    .await?;
    assert_eq!(counted, (1.0, 1.0), "one task: one delta, delivered once");

    // A second session resumes from the first snapshot's version: one delta, then
    // `subscribed`, timed as such beside the first session's snapshot.
    let (mut resumed, _) = tokio_tungstenite::connect_async(url).await?;
    let resume = json!({ "type": "subscribe", "topic": "user", "since_version": 0 });
    resumed
        .send(Message::Text(resume.to_string().into()))
        .await?;
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), resumed.next()).await?;
        let Some(Ok(Message::Text(text))) = frame else {
            anyhow::bail!("the resumed session ended: {frame:?}");
        };
        if serde_json::from_str::<serde_json::Value>(&text)?["type"] == "subscribed" {
            break;
        }
    }
    let answers = crate::common::poll_until(Duration::from_secs(5), || async {
        let count = "taskpulse_ws_subscribe_answer_seconds_count";
        let snapshots = metric_owned(&app, format!("{count}{{answer=\"snapshot\"}}")).await?;
        let subscribed = metric_owned(&app, format!("{count}{{answer=\"subscribed\"}}")).await?;
        Ok(match (snapshots, subscribed) {
            (Some(s), Some(r)) if r > 0.0 => Ok((s, r)),
            other => Err(format!("snapshot, subscribed: {other:?}")),
        })
    })
    .await?;
    assert_eq!(answers, (1.0, 1.0), "one snapshot, one resume answered");
    resumed.close(None).await?;
    drop(resumed);

    socket.close(None).await?;
    drop(socket);
    crate::common::poll_until(Duration::from_secs(5), || async {
        Ok(match metric("taskpulse_ws_live_sessions").await? {
            Some(0.0) => Ok(()),
            other => Err(format!("{other:?}")),
        })
    })
    .await?;
    // The session the client closed is counted under its reason.
    let closed = crate::common::poll_until(Duration::from_secs(5), || async {
        Ok(
            match metric(r#"taskpulse_ws_sessions_closed_total{reason="client"}"#).await? {
                Some(n) if n > 0.0 => Ok(n),
                other => Err(format!("{other:?}")),
            },
        )
    })
    .await?;
    assert_eq!(closed, 2.0, "both sessions closed");
    Ok(())
}

#[tokio::test]
async fn the_pool_opens_every_connection_ahead_by_default() -> anyhow::Result<()> {
    use std::time::Duration;

    let app = (TestApp::builder().with_arg("--db-pool-size").with_arg("3"))
        .spawn()
        .await?;
    // Nothing asked for three connections at once: they were opened ahead, in the background
    // (start-up alone uses one or two).
    let open = crate::common::poll_until(Duration::from_secs(10), || async {
        let open = metric_owned(&app, "taskpulse_db_pool_connections".to_owned()).await?;
        Ok(match open {
            Some(n) if n >= 3.0 => Ok(n),
            other => Err(format!("{other:?}")),
        })
    })
    .await?;
    assert_eq!(open, 3.0, "--db-pool-min-idle defaults to the pool size");
    Ok(())
}

/// The value of a sample of `app`'s metrics, if present.
async fn metric_owned(app: &TestApp, name: String) -> anyhow::Result<Option<f64>> {
    let text = app.get("/metrics").await?.text().await?;
    Ok(sample(&text, &name))
}

/// Whether Prometheus's own linter accepts the served text, and what it says of it (nothing
/// when all is well).
pub(crate) async fn promtool_findings(text: String) -> anyhow::Result<(bool, String)> {
    use tokio::io::AsyncWriteExt;
    let mut promtool = tokio::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|err| anyhow::anyhow!("promtool is needed (scripts/setup installs it): {err}"))?;
    let mut stdin = promtool
        .stdin
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stdin"))?;
    stdin.write_all(text.as_bytes()).await?;
    drop(stdin);
    let output = promtool.wait_with_output().await?;
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok((output.status.success(), said))
}

#[tokio::test]
async fn the_metrics_pass_promtool_and_include_what_operators_look_for() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    app.create_task(&ada.access, json!({"title": "Count me"}))
        .await?;

    let text = app.get("/metrics").await?.text().await?;
    let (accepted, findings) = promtool_findings(text.clone()).await?;

    assert!(accepted, "promtool check metrics failed: {findings}");
    assert_eq!(findings.trim(), "", "promtool check metrics");
    // What operators look for besides requests: the process, the build, the pool's waits.
    for family in [
        "process_resident_memory_bytes",
        "process_cpu_seconds_total",
        "process_open_fds",
        "taskpulse_build_info",
        "taskpulse_db_pool_gets_waited_total",
        "taskpulse_db_pool_gets_timed_out_total",
        "taskpulse_db_pool_wait_seconds_total",
        "taskpulse_cluster_lag_seconds",
        "taskpulse_change_log_bytes",
        "taskpulse_ws_subscribe_answer_seconds",
    ] {
        assert!(
            text.contains(&format!("# TYPE {family} ")),
            "{family} missing:\n{text}"
        );
    }
    Ok(())
}

/// Every query expression in a Grafana dashboard, wherever it sits.
fn dashboard_expressions(value: &serde_json::Value, found: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner.as_str()) {
                    ("expr" | "query", Some(expr)) => found.push(expr.to_owned()),
                    _ => dashboard_expressions(inner, found),
                }
            }
        }
        serde_json::Value::Array(items) => {
            items.iter().for_each(|i| dashboard_expressions(i, found));
        }
        _ => {}
    }
}

/// The metric families an expression names (`…_bucket` and the like belong to their
/// histogram's family).
fn families(expr: &str) -> Vec<String> {
    expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|word| word.starts_with("taskpulse_") || word.starts_with("process_"))
        .map(|word| {
            ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| word.strip_suffix(suffix))
                .unwrap_or(word)
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn the_grafana_dashboard_names_only_exported_metrics() -> anyhow::Result<()> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/grafana/taskpulse.json");
    let dashboard: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    let mut expressions = Vec::new();
    dashboard_expressions(&dashboard, &mut expressions);
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    app.create_task(&ada.access, json!({"title": "Count me"}))
        .await?;

    let text = app.get("/metrics").await?.text().await?;

    let named: Vec<String> = expressions.iter().flat_map(|e| families(e)).collect();
    assert!(
        named.len() >= 10,
        "the dashboard names too few metrics: {named:?}"
    );
    let missing: Vec<&String> = named
        .iter()
        .filter(|family| !text.contains(&format!("# TYPE {family} ")))
        .collect();
    assert!(missing.is_empty(), "not exported: {missing:?}");
    Ok(())
}
