//! The liveness and readiness probes (API.md, "Operations"): no authentication, 200 on a
//! healthy server, never rate limited. Readiness during a database outage is in
//! `tests/outage.rs`, during shutdown in `tests/shutdown.rs`. And the session ceiling in
//! `GET /api/v1/health`: the `websocket` service, `degraded` when the node is nearly full.

use std::time::Duration;

use crate::common::{Api, ProcessApp, TestApp, expect_json, poll_until};
use crate::ws::{Socket, connect, receive, send};
use anyhow::Context;
use serde_json::{Value, json};

#[tokio::test]
async fn live_answers_200_without_a_token() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;

    let live = expect_json(app.get("/api/v1/health/live").await?, 200).await?;

    assert_eq!(live, json!({ "status": "alive" }));
    Ok(())
}

#[tokio::test]
async fn ready_answers_200_on_a_healthy_server() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;

    let ready = expect_json(app.get("/api/v1/health/ready").await?, 200).await?;

    assert_eq!(ready, json!({ "status": "ready", "not_ready": [] }));
    Ok(())
}

#[tokio::test]
async fn the_probes_are_never_rate_limited() -> anyhow::Result<()> {
    // One request, then one a second: twenty in a row cannot all pass unless exempt (they
    // would have to take nineteen seconds).
    let app = TestApp::builder()
        .with_arg("--rate-limit-per-second")
        .with_arg("1")
        .with_arg("--rate-limit-burst")
        .with_arg("1")
        .spawn()
        .await?;

    let mut statuses = Vec::new();
    for path in [
        "/api/v1/health/live",
        "/api/v1/health/ready",
        "/api/v1/tasks",
    ] {
        for _ in 0..20 {
            statuses.push((path, app.get(path).await?.status().as_u16()));
        }
    }

    let limited = |wanted: &str| {
        statuses
            .iter()
            .filter(|(path, status)| *path == wanted && *status == 429)
            .count()
    };
    assert_eq!(limited("/api/v1/health/live"), 0, "{statuses:?}");
    assert_eq!(limited("/api/v1/health/ready"), 0, "{statuses:?}");
    assert!(
        limited("/api/v1/tasks") > 0,
        "the limit is on: {statuses:?}"
    );
    Ok(())
}

/// `websocket`'s status and its detail's numbers: sessions, connections open, the ceiling.
async fn websocket_service(app: &Api) -> anyhow::Result<(Value, Value, [u64; 3])> {
    let health = expect_json(app.get("/api/v1/health").await?, 200).await?;
    let service = (health["services"].as_array())
        .and_then(|services| services.iter().find(|s| s["name"] == "websocket"))
        .cloned()
        .with_context(|| format!("no websocket service: {health}"))?;
    let detail = service["detail"].as_str().unwrap_or_default();
    // "<n> sessions; <n> of at most <n> connections open"
    let numbers: Vec<u64> = (detail.split(' '))
        .filter_map(|word| word.trim_end_matches(';').parse().ok())
        .collect();
    let numbers = <[u64; 3]>::try_from(numbers)
        .map_err(|_| anyhow::anyhow!("not three numbers in {detail:?}"))?;
    Ok((health["status"].clone(), service, numbers))
}

/// `count` authenticated sessions of one user (a pong answered proves each).
async fn sessions(app: &TestApp, count: usize) -> anyhow::Result<Vec<Socket>> {
    let user = app.register("held@example.com").await?;
    let mut sockets = Vec::new();
    for n in 0..count {
        let mut socket = connect(app, Some(&user.access)).await?;
        send(&mut socket, json!({ "type": "ping", "id": n })).await?;
        assert_eq!(receive(&mut socket).await?["type"], "pong");
        sockets.push(socket);
    }
    Ok(sockets)
}

#[tokio::test]
async fn health_reports_the_sessions_held_and_the_connection_ceiling() -> anyhow::Result<()> {
    let app = TestApp::builder()
        .with_arg("--max-connections")
        .with_arg("100")
        .spawn()
        .await?;
    let held = sessions(&app, 3).await?;

    let (status, service, [sessions, open, ceiling]) = websocket_service(&app).await?;

    assert_eq!(status, "healthy", "{service}");
    assert_eq!(service["status"], "healthy", "{service}");
    assert_eq!(sessions, 3, "{service}");
    // The three sessions and this request's connection (and any other the client keeps).
    assert!((4..=10).contains(&open), "{service}");
    assert_eq!(ceiling, 100, "{service}");
    drop(held);
    Ok(())
}

/// The open-file limit is the ceiling on sessions: the server raises its soft limit to the hard
/// one, and keeps under it only what it opens itself.
#[tokio::test]
async fn the_server_raises_its_open_file_limit_and_leaves_the_rest_to_sessions()
-> anyhow::Result<()> {
    let (_, hard) = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)?;
    let app = ProcessApp::builder()
        .with_open_file_limit(1024.min(hard))
        .with_arg("--db-pool-size")
        .with_arg("4")
        .spawn()
        .await?;

    let limits = std::fs::read_to_string(format!("/proc/{}/limits", app.pid()?))?;
    let soft: u64 = (limits.lines())
        .find_map(|line| line.strip_prefix("Max open files"))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .with_context(|| format!("no open-file limit in {limits}"))?;
    assert_eq!(
        soft, hard,
        "the soft limit is raised to the hard one: {limits}"
    );
    let (_, service, [_, _, ceiling]) = websocket_service(&app).await?;
    // Its pool, the cluster's listener, webhooks and mail at their most, and 128 descriptors
    // of its own (src/limits.rs).
    let own = 4
        + 1
        + (taskpulse_api::webhooks::MOST_CONNECTIONS + taskpulse_api::email::MOST_CONNECTIONS)
            as u64
        + 128;
    assert_eq!(ceiling, hard.saturating_sub(own).max(64), "{service}");
    Ok(())
}

#[tokio::test]
async fn health_is_degraded_above_nine_tenths_of_the_ceiling_and_healthy_again_below()
-> anyhow::Result<()> {
    // 18 sessions and the request asking: 19 of 20 connections, above 90 %.
    let app = TestApp::builder()
        .with_arg("--max-connections")
        .with_arg("20")
        .with_arg("--ws-max-sessions-per-user")
        .with_arg("32")
        .spawn()
        .await?;
    let held = sessions(&app, 18).await?;

    let (crowded, service, [sessions, open, _]) = websocket_service(&app).await?;
    drop(held);
    let calm = poll_until(Duration::from_secs(10), || async {
        let (status, service, [sessions, ..]) = websocket_service(&app).await?;
        Ok(if sessions == 0 {
            Ok((status, service))
        } else {
            Err(service.to_string())
        })
    })
    .await?;

    assert_eq!(crowded, "degraded", "{service}");
    assert_eq!(service["status"], "degraded", "{service}");
    assert_eq!(sessions, 18, "{service}");
    assert!(open >= 19, "{service}");
    assert_eq!(calm.0, "healthy", "{}", calm.1);
    assert_eq!(calm.1["status"], "healthy", "{}", calm.1);
    Ok(())
}
