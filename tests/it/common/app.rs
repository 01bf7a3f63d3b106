//! `TestApp`: the real server — engine and API wired by `taskpulse serve`'s own
//! [`Server`] — inside the test process, on a runtime of its own, serving a fresh database on
//! a free port and driven over real HTTP and WebSocket. Any setting can be changed, including
//! those that have no flag.

use std::net::SocketAddr;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use taskpulse::config::{Cli, Command, LogFormat, ServeArgs};
use taskpulse::serve::Server;
use taskpulse_testdb::{TestDb, target_dir};
use tokio::runtime::Runtime;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::Api;
use super::server_logs::{Logs, log_dispatch, server_runtime};

/// How long a server may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a dropped [`TestApp`] waits for its graceful shutdown before its tasks are cut.
const DROP_GRACE: Duration = Duration::from_secs(5);

/// A change to the serve settings, applied after the flags are parsed.
type Configure = Arc<dyn Fn(&mut ServeArgs) + Send + Sync>;

/// How a [`TestApp`] is started.
#[derive(Clone)]
pub struct TestAppBuilder {
    args: Vec<String>,
    configure: Vec<Configure>,
    log_filter: String,
    /// Where the server's log lines go when captured; shared by its peers.
    logs: Option<Logs>,
}

impl Default for TestAppBuilder {
    fn default() -> Self {
        Self {
            args: Vec::new(),
            configure: Vec::new(),
            // What the server processes of the tests always ran with: warnings and errors.
            log_filter: "warn".to_owned(),
            logs: None,
        }
    }
}

impl TestAppBuilder {
    /// Adds a `serve` flag (or a global one such as `--log-format`), parsed as the binary
    /// parses it.
    pub fn with_arg(mut self, arg: &str) -> Self {
        self.args.push(arg.to_owned());
        self
    }

    /// Changes the settings after the flags are parsed: the way to set what has no flag.
    pub fn with_config(
        mut self,
        configure: impl Fn(&mut ServeArgs) + Send + Sync + 'static,
    ) -> Self {
        self.configure.push(Arc::new(configure));
        self
    }

    /// Gives a WebSocket session this long to authenticate by message (the README: 5 s).
    pub fn with_ws_auth_timeout(self, timeout: Duration) -> Self {
        self.with_config(move |args| args.ws_auth_timeout = timeout)
    }

    /// Filters the server's log lines as `RUST_LOG` would (default `warn`).
    pub fn with_log_filter(mut self, filter: &str) -> Self {
        filter.clone_into(&mut self.log_filter);
        self
    }

    /// Captures the server's log lines for [`TestApp::logs`] instead of writing them to
    /// stderr. Choose which with [`Self::with_log_filter`].
    pub fn with_captured_logs(mut self) -> Self {
        self.logs = Some(Logs::default());
        self
    }

    /// Starts the server on a fresh database and waits until it serves.
    pub async fn spawn(self) -> anyhow::Result<TestApp> {
        let db = Arc::new(TestDb::migrated().await?);
        TestApp::start(self, db, "127.0.0.1:0").await
    }

    /// Starts `nodes` servers on one fresh database, each with an engine of its own (a real
    /// node of a cluster), sharing one JWT secret so that a token from any node is good on all
    /// (README.md, "Running several nodes").
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

    /// The serve settings and log format, as `taskpulse serve` would parse them from the
    /// flags, then changed by [`Self::with_config`].
    fn serve_config(
        &self,
        database_url: &str,
        data_dir: &Path,
        listen: &str,
    ) -> anyhow::Result<(ServeArgs, LogFormat)> {
        let mut argv = vec![
            "taskpulse".to_owned(),
            "serve".to_owned(),
            "--listen".to_owned(),
            listen.to_owned(),
            "--database-url".to_owned(),
            database_url.to_owned(),
            "--data-dir".to_owned(),
            data_dir.display().to_string(),
        ];
        argv.extend(self.args.iter().cloned());
        let cli = Cli::try_parse_from(argv)?;
        let Command::Serve(args) = cli.command else {
            anyhow::bail!("not serve settings");
        };
        let mut args = args.with_valid_origins()?;
        for configure in &self.configure {
            configure(&mut args);
        }
        Ok((args, cli.log_format))
    }
}

/// A running server, in this process, and its database.
pub struct TestApp {
    api: Api,
    /// The server's database, shared with its peers: dropped (and so deleted) only when the
    /// last node that uses it is dropped, after that node was stopped.
    pub db: Arc<TestDb>,
    address: SocketAddr,
    data_dir: PathBuf,
    /// What it was started with, for [`TestApp::restart`] and [`TestApp::spawn_peer`].
    settings: TestAppBuilder,
    /// `None` once stopped or killed.
    running: Option<Running>,
}

/// A server running on a runtime of its own, as in a process of its own: its tasks, threads
/// and log lines are its own, and it can be stopped gracefully or cut all at once.
struct Running {
    runtime: Runtime,
    stop: oneshot::Sender<()>,
    served: JoinHandle<anyhow::Result<()>>,
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

    /// The log lines captured so far (empty unless started
    /// [`with_captured_logs`](TestAppBuilder::with_captured_logs)).
    pub fn logs(&self) -> Vec<String> {
        self.settings
            .logs
            .as_ref()
            .map_or_else(Vec::new, Logs::lines)
    }

    async fn start(
        settings: TestAppBuilder,
        db: Arc<TestDb>,
        listen: &str,
    ) -> anyhow::Result<Self> {
        let data_dir = target_dir()
            .join("taskpulse-test-data")
            .join(uuid::Uuid::now_v7().simple().to_string());
        let (running, address) = launch(&settings, &db, &data_dir, listen).await?;
        Ok(Self {
            api: Api::at(&address.to_string()),
            db,
            address,
            data_dir,
            settings,
            running: Some(running),
        })
    }

    /// The settings the server runs with, as parsed from its flags and then changed.
    pub fn serve_args(&self) -> anyhow::Result<ServeArgs> {
        let address = self.address.to_string();
        let (args, _) = self
            .settings
            .serve_config(&self.db.url, &self.data_dir, &address)?;
        Ok(args)
    }

    /// Another node on this server's database, with the same settings, a data directory of its
    /// own, a port of its own and an engine of its own. Tokens are good on both only when the
    /// settings carry the JWT secret: start the first node with
    /// [`TestAppBuilder::spawn_cluster`].
    pub async fn spawn_peer(&self) -> anyhow::Result<Self> {
        let shared = (self.settings.args.iter()).any(|a| a.starts_with("--jwt-secret"));
        anyhow::ensure!(
            shared,
            "peers need a shared JWT secret: start the first node with spawn_cluster"
        );
        Self::start(self.settings.clone(), Arc::clone(&self.db), "127.0.0.1:0").await
    }

    /// Stops the server the way SIGTERM does (sessions closed with 1001, in-flight requests
    /// finished within the grace period, the engine stopped) and answers how its run ended.
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        let Running {
            runtime,
            stop,
            served,
        } = self.running.take().context("the server is not running")?;
        let _ = stop.send(());
        let outcome = served.await;
        tokio::task::spawn_blocking(move || runtime.shutdown_timeout(DROP_GRACE)).await?;
        outcome.context("the server panicked")?
    }

    /// Cuts the server at once, as SIGKILL would: every task of its runtime is dropped, so
    /// in-flight requests, sessions and transactions end where they are, and its sockets
    /// close.
    pub async fn kill(&mut self) -> anyhow::Result<()> {
        let running = self.running.take().context("the server is not running")?;
        tokio::task::spawn_blocking(move || running.runtime.shutdown_timeout(DROP_GRACE)).await?;
        Ok(())
    }

    /// Restarts the server: a graceful stop, then the same settings again on the same
    /// address, database and data directory (so the tokens it signed stay valid).
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.stop().await?;
        self.start_again().await
    }

    /// Starts the server again after it was stopped or killed, with the same settings on the
    /// same address, database and data directory, and waits until it serves.
    pub async fn start_again(&mut self) -> anyhow::Result<()> {
        anyhow::ensure!(self.running.is_none(), "the server is still running");
        let address = self.address.to_string();
        let (running, again) = launch(&self.settings, &self.db, &self.data_dir, &address)
            .await
            .context("cannot start the server again")?;
        self.running = Some(running);
        anyhow::ensure!(
            again == self.address,
            "started again on {again}, not {address}"
        );
        Ok(())
    }
}

impl Deref for TestApp {
    type Target = Api;

    fn deref(&self) -> &Api {
        &self.api
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(Running {
            runtime,
            stop,
            served,
        }) = self.running.take()
        {
            let _ = stop.send(());
            // Drop may run on the test's runtime, which must not block on another: the
            // shutdown is waited for on a thread of its own.
            let stopped = std::thread::spawn(move || {
                // The timer is made inside: it needs the runtime's clock.
                let _ = runtime.block_on(async { tokio::time::timeout(DROP_GRACE, served).await });
                runtime.shutdown_timeout(DROP_GRACE);
            });
            let _ = stopped.join();
        }
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// Builds the server's runtime and starts `settings`' server on `db` and `data_dir`, listening
/// on `listen`; answers it once it serves, with the address it listens on.
async fn launch(
    settings: &TestAppBuilder,
    db: &TestDb,
    data_dir: &Path,
    listen: &str,
) -> anyhow::Result<(Running, SocketAddr)> {
    let (args, format) = settings.serve_config(&db.url, data_dir, listen)?;
    let dispatch = log_dispatch(&settings.log_filter, settings.logs.as_ref(), format)?;
    let runtime = server_runtime(dispatch)?;
    let (stop, stopped) = oneshot::channel::<()>();
    let (serving, listening) = oneshot::channel();
    let served = runtime.spawn(async move {
        // Bound here, so that its socket belongs to the server's runtime.
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let server = Server::start(args, listener).await?;
        let _ = serving.send(server.address());
        server
            .run(async {
                // A dropped sender (the app dropped) stops the server as well.
                let _ = stopped.await;
            })
            .await
    });
    let address = match tokio::time::timeout(START_TIMEOUT, listening).await {
        Ok(Ok(address)) => address,
        Ok(Err(_)) => {
            // It ended before serving: its error says why. (A runtime must not be dropped
            // on another's thread; it is shut down first.)
            let ended = served.await;
            runtime.shutdown_background();
            return Err(match ended {
                Ok(Err(err)) => err,
                Ok(Ok(())) => anyhow::anyhow!("the server ended before serving"),
                Err(panicked) => anyhow::anyhow!("the server panicked while starting: {panicked}"),
            });
        }
        Err(_) => {
            runtime.shutdown_background();
            anyhow::bail!("the server did not start serving within {START_TIMEOUT:?}");
        }
    };
    Ok((
        Running {
            runtime,
            stop,
            served,
        },
        address,
    ))
}
