//! `TestApp`: the real `taskpulse` binary serving a fresh database on a free port, driven over
//! real HTTP.

#![allow(dead_code)] // Each test file uses a different part of this helper.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::{Context, bail};
use taskpulse_testdb::{TestDb, target_dir};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The server binary under test.
pub const BINARY: &str = env!("CARGO_BIN_EXE_taskpulse");

/// How a [`TestApp`] is started.
#[derive(Default, Clone)]
pub struct TestAppBuilder {
    env: Vec<(String, String)>,
    args: Vec<String>,
    database_port: Option<u16>,
    /// Where the server's log lines (stderr) go when captured; shared by its peers.
    logs: Option<Arc<Mutex<Vec<String>>>>,
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

    /// Captures the server's log lines (its stderr) for [`TestApp::logs`] instead of passing
    /// them through. Set `RUST_LOG` with [`Self::with_env`] to choose which lines.
    pub fn with_captured_logs(mut self) -> Self {
        self.logs = Some(Arc::default());
        self
    }

    /// Starts the server on a fresh database and waits until it listens.
    pub async fn spawn(self) -> anyhow::Result<TestApp> {
        let db = Arc::new(TestDb::migrated().await?);
        TestApp::start(self, db, "127.0.0.1:0").await
    }

    /// Starts `nodes` servers on one fresh database, sharing one JWT secret so that a token
    /// from any node is good on all (README.md, "Running several nodes").
    pub async fn spawn_cluster(self, nodes: usize) -> anyhow::Result<Vec<TestApp>> {
        anyhow::ensure!(nodes >= 1, "a cluster has at least one node");
        let random = || uuid::Uuid::now_v7().simple().to_string();
        let secret = format!("{}{}", random(), random());
        // Several nodes of several tests share one PostgreSQL (100 connections by default):
        // a small pool per node keeps them well under it.
        let first = self
            .with_arg("--jwt-secret")
            .with_arg(&secret)
            .with_arg("--db-pool-size")
            .with_arg("6")
            .spawn()
            .await?;
        let mut cluster = Vec::with_capacity(nodes);
        for _ in 1..nodes {
            cluster.push(first.spawn_peer().await?);
        }
        cluster.insert(0, first);
        Ok(cluster)
    }
}

/// A running server and its database.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// A client for it.
    pub http: reqwest::Client,
    /// The server's database, shared with its peers: dropped (and so deleted) only when the
    /// last node that uses it is dropped, after that node's process was killed.
    pub db: Arc<TestDb>,
    child: Child,
    data_dir: PathBuf,
    /// What it was started with, for [`TestApp::restart`] and [`TestApp::spawn_peer`].
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

    /// The log lines captured so far (empty unless started
    /// [`with_captured_logs`](TestAppBuilder::with_captured_logs)).
    pub fn logs(&self) -> Vec<String> {
        self.settings.logs.as_ref().map_or_else(Vec::new, |logs| {
            logs.lock().unwrap_or_else(PoisonError::into_inner).clone()
        })
    }

    /// The server's process id.
    pub fn pid(&self) -> anyhow::Result<u32> {
        self.child.id().context("the server already exited")
    }

    /// Starts the binary with `settings` on `db`, listening on `listen`, in a data directory of
    /// its own, and waits until it listens.
    async fn start(
        settings: TestAppBuilder,
        db: Arc<TestDb>,
        listen: &str,
    ) -> anyhow::Result<Self> {
        let data_dir = target_dir()
            .join("taskpulse-test-data")
            .join(uuid::Uuid::now_v7().simple().to_string());
        let (child, address) = launch(&settings, &db, &data_dir, listen).await?;
        Ok(TestApp {
            base_url: format!("http://{address}"),
            http: reqwest::Client::new(),
            child,
            data_dir,
            db,
            settings,
        })
    }

    /// Another node on this server's database, with the same settings, a data directory of its
    /// own and a port of its own. Tokens are good on both only when the settings carry the
    /// JWT secret: start the first node with [`TestAppBuilder::spawn_cluster`].
    pub async fn spawn_peer(&self) -> anyhow::Result<Self> {
        let settings = &self.settings;
        let shared = settings.args.iter().any(|a| a.starts_with("--jwt-secret"))
            || settings
                .env
                .iter()
                .any(|(k, _)| k == "TASKPULSE_JWT_SECRET");
        anyhow::ensure!(
            shared,
            "peers need a shared JWT secret: start the first node with spawn_cluster"
        );
        Self::start(self.settings.clone(), Arc::clone(&self.db), "127.0.0.1:0").await
    }

    /// Kills the server with SIGKILL (no graceful shutdown: in-flight requests and
    /// transactions are cut) and waits for it to be gone.
    pub async fn kill(&mut self) -> anyhow::Result<()> {
        self.child.kill().await.context("cannot kill the server")
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

/// Starts `taskpulse serve` with `settings` on `db` and `data_dir`, and waits until it listens;
/// answers the process and the address it listens on.
async fn launch(
    settings: &TestAppBuilder,
    db: &TestDb,
    data_dir: &std::path::Path,
    listen: &str,
) -> anyhow::Result<(Child, String)> {
    let database_url = match settings.database_port {
        Some(port) => through_port(&db.url, port)?,
        None => db.url.clone(),
    };
    let mut child = Command::new(BINARY)
        .arg("serve")
        .args(["--listen", listen, "--database-url", &database_url])
        .arg("--data-dir")
        .arg(data_dir)
        .args(&settings.args)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .envs(settings.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdout(Stdio::piped())
        .stderr(match settings.logs {
            Some(_) => Stdio::piped(),
            None => Stdio::inherit(),
        })
        .kill_on_drop(true)
        .spawn()
        .context("cannot start the server binary")?;
    if let (Some(logs), Some(stderr)) = (&settings.logs, child.stderr.take()) {
        let logs = Arc::clone(logs);
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                logs.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(line);
            }
        });
    }
    let address = read_address(&mut child).await?;
    Ok((child, address))
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
