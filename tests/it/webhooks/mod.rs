//! Webhooks (API.md, "Notifications and webhooks"; docs/webhooks.md) against a real HTTP
//! receiver (`tests/webhooks/receiver.py`, a separate process), whose requests are verified by
//! the Standard Webhooks Python library (`tests/webhooks/verify.py`), not by our own code.

mod delivery;
mod failover;
mod routes;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::common::{Api, TestApp, expect_json, poll_until};

/// The flags a server needs to call a receiver on this machine.
pub(crate) const LOCAL_RECEIVERS: [&str; 2] = ["--webhooks-allow-http", "--webhooks-allow-private"];

/// A server that may call receivers on this machine.
pub(crate) async fn local_app() -> anyhow::Result<TestApp> {
    TestApp::builder()
        .with_arg(LOCAL_RECEIVERS[0])
        .with_arg(LOCAL_RECEIVERS[1])
        .spawn()
        .await
}

fn scripts() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/webhooks")
}

fn python() -> anyhow::Result<PathBuf> {
    let python = scripts().join(".venv/bin/python");
    anyhow::ensure!(
        python.exists(),
        "the Standard Webhooks library is not installed: run scripts/setup"
    );
    Ok(python)
}

/// A running receiver: what it was sent is in its log, one JSON line a request.
pub(crate) struct Receiver {
    child: Child,
    /// Where to POST.
    pub url: String,
    log: PathBuf,
    down: PathBuf,
    dir: PathBuf,
}

impl Receiver {
    /// Starts a receiver answering 204 (after `--delay-ms`, `--fail-first` …: `args`).
    pub(crate) async fn start(args: &[&str]) -> anyhow::Result<Self> {
        let dir = taskpulse_testdb::target_dir()
            .join("webhook-receivers")
            .join(uuid::Uuid::now_v7().simple().to_string());
        std::fs::create_dir_all(&dir)?;
        let log = dir.join("requests.jsonl");
        let down = dir.join("down");
        let mut child = Command::new(python()?)
            .arg(scripts().join("receiver.py"))
            .arg("--log")
            .arg(&log)
            .arg("--down-file")
            .arg(&down)
            .args(args)
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("cannot start the receiver")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .context("the receiver did not start")??
            .context("the receiver exited")?;
        let port = first
            .strip_prefix("listening ")
            .context("the receiver printed no port")?
            .trim()
            .to_owned();
        Ok(Self {
            child,
            url: format!("http://127.0.0.1:{port}/hook"),
            log,
            down,
            dir,
        })
    }

    /// Every request so far, in arrival order.
    pub(crate) fn requests(&self) -> anyhow::Result<Vec<Value>> {
        let text = match std::fs::read_to_string(&self.log) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(err) => return Err(err.into()),
        };
        // The receiver may be writing the last line: only whole lines count.
        let whole = text.rfind('\n').map_or("", |end| &text[..end]);
        whole
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| Ok(serde_json::from_str(line)?))
            .collect()
    }

    /// The bodies of the requests answered 2xx, in arrival order.
    pub(crate) fn delivered(&self) -> anyhow::Result<Vec<Value>> {
        let mut bodies = Vec::new();
        for request in self.requests()? {
            let status = request["status"].as_u64().unwrap_or_default();
            if (200..300).contains(&status) {
                let body = request["body"].as_str().context("no body")?;
                bodies.push(serde_json::from_str(body)?);
            }
        }
        Ok(bodies)
    }

    /// Waits until `count` requests were answered 2xx; answers their bodies.
    pub(crate) async fn wait_delivered(
        &self,
        count: usize,
        timeout: Duration,
    ) -> anyhow::Result<Vec<Value>> {
        poll_until(timeout, || async {
            let delivered = self.delivered()?;
            Ok(if delivered.len() >= count {
                Ok(delivered)
            } else {
                Err(format!("{} of {count} delivered", delivered.len()))
            })
        })
        .await
    }

    /// While down, it answers 503 to everything.
    pub(crate) fn set_down(&self, down: bool) -> anyhow::Result<()> {
        if down {
            std::fs::write(&self.down, b"down")?;
        } else if self.down.exists() {
            std::fs::remove_file(&self.down)?;
        }
        Ok(())
    }

    /// Checks every request's signature with the Standard Webhooks library; answers its
    /// summary `{requests, verified, failures}`.
    pub(crate) async fn verify(&self, secret: &str) -> anyhow::Result<Value> {
        verify_log(&self.log, secret).await
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn verify_log(log: &Path, secret: &str) -> anyhow::Result<Value> {
    let output = Command::new(python()?)
        .arg(scripts().join("verify.py"))
        .arg("--secret")
        .arg(secret)
        .arg("--log")
        .arg(log)
        .output()
        .await?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(stdout.trim()).with_context(|| {
        format!(
            "verify.py printed no JSON: {stdout} {}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// Creates a webhook as `access` (201); answers it, with its secret.
pub(crate) async fn create_webhook(
    api: &Api,
    access: &str,
    url: &str,
    events: &[&str],
    team: Option<&str>,
) -> anyhow::Result<Value> {
    let body = json!({ "url": url, "events": events, "team_id": team });
    expect_json(api.post_as("/api/v1/webhooks", access, &body).await?, 201).await
}

/// Every event.
pub(crate) const ALL_EVENTS: [&str; 8] = [
    "task.created",
    "task.updated",
    "task.completed",
    "task.deleted",
    "task.shared",
    "task.unshared",
    "team.member_added",
    "team.member_removed",
];

/// The `type`s of `bodies`, in order.
pub(crate) fn types(bodies: &[Value]) -> Vec<String> {
    bodies
        .iter()
        .map(|b| b["type"].as_str().unwrap_or_default().to_owned())
        .collect()
}
