//! Email notifications (API.md, "Notifications and webhooks"; docs/notifications.md, "Email")
//! against a real SMTP server (`tests/smtp/server.py`, aiosmtpd in a separate process), whose
//! every message is parsed by Python's own `email` package, not by our code.

mod delivery;
mod digest;
mod settings;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::common::{Api, TestApp, expect_json, poll_until};

fn scripts() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/smtp")
}

/// A running SMTP server: what it was sent is in its log, one JSON line a message.
pub(crate) struct SmtpServer {
    child: Child,
    /// The `--smtp-url` that reaches it (plain SMTP).
    pub url: String,
    log: PathBuf,
    dir: PathBuf,
}

impl SmtpServer {
    /// Starts a server accepting every message (`--refuse-first N` …: `args`).
    pub(crate) async fn start(args: &[&str]) -> anyhow::Result<Self> {
        let python = scripts().join(".venv/bin/python");
        anyhow::ensure!(
            python.exists(),
            "aiosmtpd is not installed: run scripts/setup"
        );
        let dir = taskpulse_testdb::target_dir()
            .join("smtp-servers")
            .join(uuid::Uuid::now_v7().simple().to_string());
        std::fs::create_dir_all(&dir)?;
        let log = dir.join("messages.jsonl");
        let mut child = Command::new(python)
            .arg(scripts().join("server.py"))
            .arg("--log")
            .arg(&log)
            .args(args)
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("cannot start the SMTP server")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .context("the SMTP server did not start")??
            .context("the SMTP server exited")?;
        let port = first
            .strip_prefix("listening ")
            .context("the SMTP server printed no port")?
            .trim()
            .to_owned();
        Ok(Self {
            child,
            url: format!("smtp://127.0.0.1:{port}?tls=none"),
            log,
            dir,
        })
    }

    /// Every message so far, refused ones included, in arrival order.
    pub(crate) fn messages(&self) -> anyhow::Result<Vec<Value>> {
        let text = match std::fs::read_to_string(&self.log) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(err) => return Err(err.into()),
        };
        text.lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| Ok(serde_json::from_str(line)?))
            .collect()
    }

    /// The messages accepted (250) for `to`, in arrival order.
    pub(crate) fn accepted_for(&self, to: &str) -> anyhow::Result<Vec<Value>> {
        Ok(self
            .messages()?
            .into_iter()
            .filter(|m| m["status"] == 250 && m["rcpt_tos"] == json!([to]))
            .collect())
    }

    /// Waits until `count` messages for `to` were accepted; answers them.
    pub(crate) async fn wait_for(&self, to: &str, count: usize) -> anyhow::Result<Vec<Value>> {
        poll_until(Duration::from_secs(30), || async {
            let accepted = self.accepted_for(to)?;
            Ok(if accepted.len() >= count {
                Ok(accepted)
            } else {
                Err(format!("{} of {count} mails for {to}", accepted.len()))
            })
        })
        .await
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A server that mails through `smtp`.
pub(crate) async fn mailing_app(smtp: &SmtpServer) -> anyhow::Result<TestApp> {
    TestApp::builder()
        .with_arg(&format!("--smtp-url={}", smtp.url))
        .with_arg("--smtp-from=taskpulse <noreply@taskpulse.test>")
        .spawn()
        .await
}

/// Sets the caller's settings (200); answers them.
pub(crate) async fn set_me(api: &Api, access: &str, body: Value) -> anyhow::Result<Value> {
    expect_json(api.patch_as("/api/v1/me", access, &body).await?, 200).await
}
