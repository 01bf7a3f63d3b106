//! The live dashboard page in headless Chromium, driven by `tests/browser/dashboard.mjs`
//! (playwright-core): sign-in and sign-up, the cards, a live update within a second without a
//! reload, the activity feed, the cards' task lists, the team switcher and its members,
//! axe-core in light and dark mode and at phone width, the stale state while the server is
//! stopped, and disconnected → connected with the numbers still right once it is back; and,
//! with the browser in a time zone whose day is not UTC's (`tests/browser/history.mjs`), the
//! activity days and the live Trends view in that zone, Export and Import; the Tokens panel; the
//! notifications bell. Needs Node.js and Chromium (`scripts/setup` installs both); without them
//! these tests fail, they do not skip.
//! The page's screenshots land in `target/dashboard*.png`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use crate::common::{PASSWORD, TestApp, expect_json, id_of, npm_package};
use anyhow::{Context, bail, ensure};
use serde_json::{Value, json};
use taskpulse_testdb::target_dir;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{ChildStdout, Command};

/// The Chromium the driver launches (never one downloaded by playwright).
fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// `tests/browser`, with its `node_modules` installed when missing.
async fn driver_dir() -> anyhow::Result<PathBuf> {
    let browser = chromium();
    ensure!(
        browser.is_file(),
        "the browser test needs Chromium at {} (or CHROMIUM=<path>); run scripts/setup",
        browser.display()
    );
    npm_package(
        "tests/browser",
        &["playwright-core/package.json", "axe-core/axe.min.js"],
        "the browser tests",
    )
    .await
}

/// `node dashboard.mjs <base_url> <email> <password> <mode>`, its stdin and stdout piped.
fn driver(dir: &Path, app: &TestApp, email: &str, mode: &str) -> Command {
    let mut command = Command::new("node");
    command
        .arg(dir.join("dashboard.mjs"))
        .args([&app.base_url, email, PASSWORD, mode])
        .env("CHROMIUM", chromium())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    command
}

/// The next line the driver prints, within `timeout`.
async fn next_line(
    lines: &mut Lines<BufReader<ChildStdout>>,
    timeout: u64,
) -> anyhow::Result<String> {
    tokio::time::timeout(Duration::from_secs(timeout), lines.next_line())
        .await
        .context("the browser driver said nothing in time")??
        .context("the browser driver stopped early (its reason is in the output above)")
}

/// Parses `CARDS <json>`.
fn cards(line: &str) -> anyhow::Result<Value> {
    let Some(json) = line.strip_prefix("CARDS ") else {
        bail!("expected CARDS from the driver, got {line:?}");
    };
    Ok(serde_json::from_str(json)?)
}

#[tokio::test]
async fn the_dashboard_shows_live_numbers_and_reconnects_after_a_restart() -> anyhow::Result<()> {
    let dir = driver_dir().await?;
    let mut app = TestApp::spawn().await?;
    let ann = app.register("ann@example.com").await?;
    let bob = app.register("bob@example.com").await?;
    let past = "2020-01-01T00:00:00Z";
    for task in [
        json!({ "title": "write the plan" }),
        json!({ "title": "review it", "priority": "high" }),
        json!({ "title": "late", "priority": "low", "due_at": past }),
        json!({ "title": "build", "status": "in_progress", "priority": "urgent" }),
        json!({ "title": "ship", "status": "completed" }),
        json!({ "title": "tidy", "status": "completed", "priority": "low" }),
    ] {
        app.create_task(&ann.access, task).await?;
    }
    let shared_by_ann = app
        .create_task(&ann.access, json!({ "title": "for bob" }))
        .await?;
    app.share(&ann.access, &id_of(&shared_by_ann), &bob.user_id, "view")
        .await?;
    let shared_by_bob = app
        .create_task(&bob.access, json!({ "title": "for ann" }))
        .await?;
    app.share(&bob.access, &id_of(&shared_by_bob), &ann.user_id, "edit")
        .await?;
    let team = app.create_team(&ann.access, "Platform").await?;
    app.create_task(
        &ann.access,
        json!({ "title": "team work", "team_id": team }),
    )
    .await?;
    let screenshot = target_dir().join("dashboard.png");

    let mut driver = driver(&dir, &app, &ann.email, "restart")
        .env("DASHBOARD_SCREENSHOT", &screenshot)
        .spawn()
        .context("cannot start node")?;
    let mut stdin = driver.stdin.take().context("no stdin")?;
    let mut lines = BufReader::new(driver.stdout.take().context("no stdout")?).lines();
    let signed_in = cards(&next_line(&mut lines, 60).await?)?;
    let ready = next_line(&mut lines, 90).await?;
    ensure!(
        ready == "READY_TO_STOP",
        "expected READY_TO_STOP, got {ready:?}"
    );
    app.stop().await?;
    stdin.write_all(b"stopped\n").await?;
    stdin.flush().await?;
    let stale = next_line(&mut lines, 30).await?;
    ensure!(stale == "STALE", "expected STALE, got {stale:?}");
    app.start_again().await?;
    stdin.write_all(b"serving\n").await?;
    stdin.flush().await?;
    let reconnected = cards(&next_line(&mut lines, 60).await?)?;
    let last = next_line(&mut lines, 60).await?;
    let status = tokio::time::timeout(Duration::from_secs(30), driver.wait()).await??;

    // Personal and team tasks alike count in the user scope; one is overdue; one shared each way.
    let expected = json!({
        "total": 8, "pending": 5, "in_progress": 1, "completed": 2, "overdue": 1,
        "shared": 2, "shared_with_me": 1, "shared_by_me": 1,
    });
    assert_eq!(signed_in, expected, "cards after signing in");
    // Before the restart the driver created one pending task, and one it then completed.
    let mut after = expected.clone();
    after["total"] = json!(10);
    after["pending"] = json!(6);
    after["completed"] = json!(3);
    assert_eq!(reconnected, after, "cards after the restart");
    assert_eq!(last, "PASS");
    assert!(status.success(), "the driver exited with {status}");
    assert!(
        screenshot.is_file(),
        "no screenshot at {}",
        screenshot.display()
    );
    Ok(())
}

#[tokio::test]
async fn the_dashboard_stays_connected_while_short_lived_tokens_expire() -> anyhow::Result<()> {
    let dir = driver_dir().await?;
    let app = TestApp::builder()
        .with_arg("--access-token-ttl")
        // Long enough that a loaded CI machine still renews before expiry (refresh at 3/4).
        .with_arg("10s")
        .spawn()
        .await?;
    let ann = app.register("ann@example.com").await?;
    app.create_task(&ann.access, json!({ "title": "one" }))
        .await?;

    let mut driver = driver(&dir, &app, &ann.email, "token-refresh")
        .spawn()
        .context("cannot start node")?;
    let mut lines = BufReader::new(driver.stdout.take().context("no stdout")?).lines();
    let last = next_line(&mut lines, 90).await?;
    let status = tokio::time::timeout(Duration::from_secs(30), driver.wait()).await??;

    assert_eq!(last, "PASS");
    assert!(status.success(), "the driver exited with {status}");
    Ok(())
}

/// Parses `ZONE <tz> <its date> <UTC's date>`, the zone the driver runs the browser in.
fn zone(line: &str) -> anyhow::Result<(String, String, String)> {
    match line.split(' ').collect::<Vec<_>>()[..] {
        ["ZONE", tz, there, utc] => Ok((tz.to_owned(), there.to_owned(), utc.to_owned())),
        _ => bail!("expected ZONE from the driver, got {line:?}"),
    }
}

/// Runs the driver in `mode` to its end: the zone it ran the browser in, and its last line.
async fn run_history_driver(
    dir: &Path,
    app: &TestApp,
    email: &str,
    mode: &str,
) -> anyhow::Result<((String, String, String), String)> {
    let screenshot = target_dir().join(format!("dashboard-{mode}.png"));
    let mut driver = driver(dir, app, email, mode)
        .env("DASHBOARD_SCREENSHOT", &screenshot)
        .spawn()
        .context("cannot start node")?;
    let mut lines = BufReader::new(driver.stdout.take().context("no stdout")?).lines();
    let zone = zone(&next_line(&mut lines, 60).await?)?;
    let last = next_line(&mut lines, 120).await?;
    let status = tokio::time::timeout(Duration::from_secs(30), driver.wait()).await??;
    ensure!(status.success(), "the driver exited with {status}");
    Ok((zone, last))
}

#[tokio::test]
async fn the_dashboard_shows_activity_and_live_trends_in_the_browsers_time_zone()
-> anyhow::Result<()> {
    let dir = driver_dir().await?;
    let app = TestApp::spawn().await?;
    let ann = app.register("ann@example.com").await?;
    for task in [
        json!({ "title": "plan" }),
        json!({ "title": "build", "status": "in_progress" }),
        json!({ "title": "ship", "status": "completed" }),
    ] {
        app.create_task(&ann.access, task).await?;
    }
    let reviewed = app
        .create_task(&ann.access, json!({ "title": "review" }))
        .await?;
    let path = format!("/api/v1/tasks/{}", id_of(&reviewed));
    for status in ["in_progress", "completed"] {
        let patch = json!({ "status": status });
        expect_json(app.patch_as(&path, &ann.access, &patch).await?, 200).await?;
    }
    let team = app.create_team(&ann.access, "Platform").await?;
    for task in [
        json!({ "title": "team work", "team_id": team }),
        json!({ "title": "team shipped", "team_id": team, "status": "completed" }),
    ] {
        app.create_task(&ann.access, task).await?;
    }

    let ((tz, there, utc), last) = run_history_driver(&dir, &app, &ann.email, "trends").await?;

    // A page that counted UTC days would have shown another day than the browser's.
    assert_ne!(there, utc, "the browser ran in {tz}, on UTC's day");
    assert_eq!(last, "PASS");
    Ok(())
}

#[tokio::test]
async fn the_dashboard_exports_csv_and_imports_csv_or_ndjson_with_line_errors() -> anyhow::Result<()>
{
    let dir = driver_dir().await?;
    let app = TestApp::spawn().await?;
    let ann = app.register("ann@example.com").await?;
    for task in [
        json!({ "title": "plan", "description": "=SUM(A1:A2)" }),
        json!({ "title": "build", "status": "in_progress", "priority": "urgent" }),
        json!({ "title": "ship", "status": "completed" }),
    ] {
        app.create_task(&ann.access, task).await?;
    }

    let ((tz, there, utc), last) = run_history_driver(&dir, &app, &ann.email, "transfer").await?;
    let tasks = expect_json(
        app.get_as("/api/v1/tasks?scope=own&limit=100", &ann.access)
            .await?,
        200,
    )
    .await?;

    assert_ne!(there, utc, "the browser ran in {tz}, on UTC's day");
    assert_eq!(last, "PASS");
    let titles: Vec<&str> = tasks["items"]
        .as_array()
        .map(|items| items.iter().filter_map(|t| t["title"].as_str()).collect())
        .unwrap_or_default();
    // The two tasks of the CSV, and none of the refused NDJSON file.
    assert_eq!(titles.len(), 5, "{titles:?}");
    assert!(titles.contains(&"moved from elsewhere") && titles.contains(&"also moved"));
    assert!(!titles.contains(&"fine on its own"), "{titles:?}");
    Ok(())
}

#[tokio::test]
async fn the_dashboard_creates_shows_once_and_revokes_personal_access_tokens() -> anyhow::Result<()>
{
    let dir = driver_dir().await?;
    let app = TestApp::spawn().await?;
    let ann = app.register("ann@example.com").await?;

    let mut driver = driver(&dir, &app, &ann.email, "tokens")
        .spawn()
        .context("cannot start node")?;
    let mut lines = BufReader::new(driver.stdout.take().context("no stdout")?).lines();
    let last = next_line(&mut lines, 90).await?;
    let status = tokio::time::timeout(Duration::from_secs(30), driver.wait()).await??;

    assert_eq!(last, "PASS");
    assert!(status.success(), "the driver exited with {status}");
    let listed = expect_json(app.get_as("/api/v1/tokens", &ann.access).await?, 200).await?;
    assert_eq!(listed["items"], json!([]), "the page revoked its token");
    Ok(())
}

#[tokio::test]
async fn the_dashboards_bell_counts_notifications_live_and_marks_them_read() -> anyhow::Result<()> {
    let dir = driver_dir().await?;
    let app = TestApp::spawn().await?;
    let ann = app.register("ann@example.com").await?;

    let mut driver = driver(&dir, &app, &ann.email, "notifications")
        .spawn()
        .context("cannot start node")?;
    let mut lines = BufReader::new(driver.stdout.take().context("no stdout")?).lines();
    let last = next_line(&mut lines, 90).await?;
    let status = tokio::time::timeout(Duration::from_secs(30), driver.wait()).await??;

    assert_eq!(last, "PASS");
    assert!(status.success(), "the driver exited with {status}");
    let unread = expect_json(
        app.get_as("/api/v1/notifications?unread=true", &ann.access)
            .await?,
        200,
    )
    .await?;
    assert_eq!(unread["items"], json!([]), "the page marked them read");
    Ok(())
}
