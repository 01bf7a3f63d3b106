//! `ProcessApp`: the real `taskpulse` binary as a child process, serving a fresh database on a
//! free port, driven over real HTTP. Only for tests whose subject is the process itself
//! (start-up, signals, the other subcommands, a database cut under a running server, memory,
//! SIGKILL behind a balancer); everything else uses the in-process [`TestApp`](super::TestApp).

use std::ops::Deref;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use taskpulse_testdb::{TestDb, target_dir};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::{Api, through_port};

/// The server binary under test.
pub const BINARY: &str = env!("CARGO_BIN_EXE_taskpulse");

/// How a [`ProcessApp`] is started.
#[derive(Default, Clone)]
pub struct ProcessAppBuilder {
    env: Vec<(String, String)>,
    args: Vec<String>,
    database_port: Option<u16>,
    open_file_limit: Option<u64>,
}

impl ProcessAppBuilder {
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

    /// Starts the server with this soft open-file limit (its hard limit stays the test's).
    pub fn with_open_file_limit(mut self, soft: u64) -> Self {
        self.open_file_limit = Some(soft);
        self
    }

    /// Starts the server on a fresh database and waits until it listens.
    pub async fn spawn(self) -> anyhow::Result<ProcessApp> {
        let db = Arc::new(TestDb::migrated().await?);
        ProcessApp::start(self, db, "127.0.0.1:0").await
    }

    /// Starts `nodes` servers on one fresh database, sharing one JWT secret so that a token
    /// from any node is good on all (README.md, "Running several nodes").
    pub async fn spawn_cluster(self, nodes: usize) -> anyhow::Result<Vec<ProcessApp>> {
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

/// A running server process and its database.
pub struct ProcessApp {
    /// Where it serves.
    api: Api,
    /// The server's database, shared with its peers: dropped (and so deleted) only when the
    /// last node that uses it is dropped, after that node's process was killed.
    pub db: Arc<TestDb>,
    child: Child,
    data_dir: PathBuf,
    /// What it was started with, for [`ProcessApp::spawn_peer`].
    settings: ProcessAppBuilder,
}

impl ProcessApp {
    /// A builder for a server with non-default settings.
    pub fn builder() -> ProcessAppBuilder {
        ProcessAppBuilder::default()
    }

    /// A server with default settings.
    pub async fn spawn() -> anyhow::Result<Self> {
        Self::builder().spawn().await
    }

    /// The server's process id.
    pub fn pid(&self) -> anyhow::Result<u32> {
        self.child.id().context("the server already exited")
    }

    /// Starts the binary with `settings` on `db`, listening on `listen`, in a data directory of
    /// its own, and waits until it listens.
    async fn start(
        settings: ProcessAppBuilder,
        db: Arc<TestDb>,
        listen: &str,
    ) -> anyhow::Result<Self> {
        let data_dir = target_dir()
            .join("taskpulse-test-data")
            .join(uuid::Uuid::now_v7().simple().to_string());
        let (child, address) = launch(&settings, &db, &data_dir, listen).await?;
        Ok(ProcessApp {
            api: Api::at(&address),
            child,
            data_dir,
            db,
            settings,
        })
    }

    /// Another node on this server's database, with the same settings, a data directory of its
    /// own and a port of its own. Tokens are good on both only when the settings carry the
    /// JWT secret: start the first node with [`ProcessAppBuilder::spawn_cluster`].
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

impl Deref for ProcessApp {
    type Target = Api;

    fn deref(&self) -> &Api {
        &self.api
    }
}

impl Drop for ProcessApp {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// Starts `taskpulse serve` with `settings` on `db` and `data_dir`, and waits until it listens;
/// answers the process and the address it listens on.
async fn launch(
    settings: &ProcessAppBuilder,
    db: &TestDb,
    data_dir: &std::path::Path,
    listen: &str,
) -> anyhow::Result<(Child, String)> {
    let database_url = match settings.database_port {
        Some(port) => through_port(&db.url, port)?,
        None => db.url.clone(),
    };
    let mut command = match settings.open_file_limit {
        // util-linux's `prlimit` execs the server with the lower soft limit.
        Some(soft) => {
            let mut command = Command::new("prlimit");
            command
                .arg(format!("--nofile={soft}:"))
                .arg("--")
                .arg(BINARY);
            command
        }
        None => Command::new(BINARY),
    };
    let mut child = command
        .arg("serve")
        .args(["--listen", listen, "--database-url", &database_url])
        .arg("--data-dir")
        .arg(data_dir)
        .args(&settings.args)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .envs(settings.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .context("cannot start the server binary")?;
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

/// Starts the server binary on `db` with `data_dir` and extra `serve` flags, and answers the
/// process and its base URL. Unlike [`ProcessApp`], the caller owns the data directory, so it can
/// start a second server in it (restart tests); it must kill the process and remove the
/// directory itself.
pub async fn start_server(
    db: &TestDb,
    data_dir: &std::path::Path,
    args: &[&str],
) -> anyhow::Result<(Child, String)> {
    start_server_on(&db.url, data_dir, args).await
}

/// [`start_server`] on any database URL (several hosts, for the failover test).
pub async fn start_server_on(
    database_url: &str,
    data_dir: &std::path::Path,
    args: &[&str],
) -> anyhow::Result<(Child, String)> {
    let mut child = Command::new(BINARY)
        .arg("serve")
        .args(["--listen", "127.0.0.1:0", "--database-url", database_url])
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("TASKPULSE_JWT_SECRET")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .context("cannot start the server binary")?;
    let address = read_address(&mut child).await?;
    Ok((child, format!("http://{address}")))
}
