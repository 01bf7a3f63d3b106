//! `TestApp`: the real `taskpulse` binary serving a fresh database on a free port, driven over
//! real HTTP.

#![allow(dead_code)] // Each test file uses a different part of this helper.

use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use taskpulse_testdb::{TestDb, target_dir};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The server binary under test.
pub const BINARY: &str = env!("CARGO_BIN_EXE_taskpulse");

/// How a [`TestApp`] is started.
#[derive(Default)]
pub struct TestAppBuilder {
    env: Vec<(String, String)>,
    args: Vec<String>,
    database_port: Option<u16>,
}

impl TestAppBuilder {
    /// Sets an environment variable for the server.
    pub fn with_env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Adds a `serve` flag.
    pub fn with_arg(mut self, arg: &str) -> Self {
        self.args.push(arg.to_owned());
        self
    }

    /// Makes the server reach its database through `127.0.0.1:port` (a proxy in front of the
    /// test's PostgreSQL) instead of the database's own address.
    pub fn with_database_port(mut self, port: u16) -> Self {
        self.database_port = Some(port);
        self
    }

    /// Starts the server on a fresh database and waits until it listens.
    pub async fn spawn(self) -> anyhow::Result<TestApp> {
        let db = TestDb::migrated().await?;
        let database_url = match self.database_port {
            Some(port) => through_port(&db.url, port)?,
            None => db.url.clone(),
        };
        let data_dir = target_dir()
            .join("taskpulse-test-data")
            .join(uuid::Uuid::now_v7().simple().to_string());
        let mut command = Command::new(BINARY);
        command
            .arg("serve")
            .args(["--listen", "127.0.0.1:0", "--database-url", &database_url])
            .arg("--data-dir")
            .arg(&data_dir)
            .args(&self.args)
            .env_remove("DATABASE_URL")
            .env("RUST_LOG", "warn")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        let mut child = command.spawn().context("cannot start the server binary")?;
        let address = read_address(&mut child).await?;
        Ok(TestApp {
            base_url: format!("http://{address}"),
            http: reqwest::Client::new(),
            child,
            data_dir,
            db,
            settings: self,
        })
    }
}

/// A running server and its database.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// A client for it.
    pub http: reqwest::Client,
    /// The server's database.
    pub db: TestDb,
    child: Child,
    data_dir: std::path::PathBuf,
    /// What it was started with, for [`TestApp::restart`].
    settings: TestAppBuilder,
}

impl TestApp {
    /// A builder for a server with non-default settings.
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder::default()
    }

    /// A server with default settings.
    pub async fn spawn() -> anyhow::Result<Self> {
        Self::builder().spawn().await
    }

    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// GET `path`.
    pub async fn get(&self, path: &str) -> anyhow::Result<reqwest::Response> {
        Ok(self.http.get(self.url(path)).send().await?)
    }

    /// The server's process id.
    pub fn pid(&self) -> anyhow::Result<u32> {
        self.child.id().context("the server already exited")
    }

    /// Sends SIGTERM and waits (at most 30 s) for the server to exit.
    pub async fn terminate(&mut self) -> anyhow::Result<std::process::ExitStatus> {
        let pid = self.child.id().context("the server already exited")?;
        let sent = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .await?;
        anyhow::ensure!(sent.success(), "kill -TERM {pid} failed");
        Ok(tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await??)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// Reads the server's stdout until it says where it listens.
async fn read_address(child: &mut Child) -> anyhow::Result<String> {
    let stdout = child.stdout.take().context("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let found = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await? {
            if let Some(address) = line.strip_prefix("taskpulse listening on http://") {
                return anyhow::Ok(Some(address.trim().to_owned()));
            }
        }
        anyhow::Ok(None)
    })
    .await
    .context("the server did not start listening within 30 s")??;
    match found {
        Some(address) => {
            // Keep draining stdout so the server never blocks on a full pipe.
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            Ok(address)
        }
        None => bail!(
            "the server exited before listening: {:?}",
            child.wait().await?
        ),
    }
}

/// Asserts a response is problem+json with this status and code, and returns its body.
pub async fn assert_problem(
    response: reqwest::Response,
    status: u16,
    code: &str,
) -> anyhow::Result<serde_json::Value> {
    assert_eq!(response.status().as_u16(), status, "status");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("application/problem+json"),
        "content type {content_type:?}"
    );
    let body: serde_json::Value = response.json().await?;
    assert_eq!(body["code"], code, "problem body: {body}");
    assert_eq!(body["status"], status, "problem body: {body}");
    assert!(body["type"].is_string() && body["title"].is_string() && body["detail"].is_string());
    Ok(body)
}

mod api;

pub use api::*;
