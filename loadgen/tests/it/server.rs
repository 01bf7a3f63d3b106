//! Real servers for the load generator to load: `taskpulse serve`'s own [`Server`] in this
//! process (a test cannot name another package's binary), each on a runtime of its own as in a
//! process of its own, on a fresh database and a free port. Several on one database, with one
//! JWT secret, are the nodes of a cluster.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use taskpulse::config::{Cli, Command};
use taskpulse::serve::Server;
use taskpulse_testdb::{TestDb, target_dir};
use tokio::runtime::Runtime;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long a server may take to start serving.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a dropped node waits for its graceful shutdown before its tasks are cut.
const DROP_GRACE: Duration = Duration::from_secs(5);

/// One running server.
pub struct Node {
    /// Its base URL, `http://127.0.0.1:<port>`.
    pub url: String,
    /// The database it serves, shared with the other nodes of its cluster: dropped after the
    /// last of them.
    _db: Arc<TestDb>,
    data_dir: PathBuf,
    running: Option<(Runtime, oneshot::Sender<()>, JoinHandle<anyhow::Result<()>>)>,
}

impl Node {
    /// One server on a fresh database, started with the `serve` flags `flags`.
    pub async fn start(flags: &[&str]) -> anyhow::Result<Self> {
        let db = Arc::new(TestDb::migrated().await?);
        Self::on(db, flags).await
    }

    /// `nodes` servers on one fresh database sharing one JWT secret, so that a token from
    /// any node is good on all (README.md, "Running several nodes").
    pub async fn cluster(nodes: usize, flags: &[&str]) -> anyhow::Result<Vec<Self>> {
        let db = Arc::new(TestDb::migrated().await?);
        let random = || uuid::Uuid::now_v7().simple().to_string();
        let secret = format!("{}{}", random(), random());
        let mut flags = flags.to_vec();
        // Small pools: the nodes of several tests share one PostgreSQL.
        flags.extend(["--jwt-secret", &secret, "--db-pool-size", "6"]);
        let mut cluster = Vec::with_capacity(nodes);
        for _ in 0..nodes {
            cluster.push(Self::on(Arc::clone(&db), &flags).await?);
        }
        Ok(cluster)
    }

    /// A server on `db`, parsed from its flags as the binary parses them.
    async fn on(db: Arc<TestDb>, flags: &[&str]) -> anyhow::Result<Self> {
        let data_dir = target_dir()
            .join("taskpulse-test-data")
            .join(uuid::Uuid::now_v7().simple().to_string());
        let mut argv = vec!["taskpulse", "serve", "--listen", "127.0.0.1:0"];
        argv.extend(["--database-url", &db.url]);
        let data_dir_arg = data_dir.display().to_string();
        argv.extend(["--data-dir", &data_dir_arg]);
        argv.extend(flags);
        let Command::Serve(args) = Cli::try_parse_from(argv)?.command else {
            anyhow::bail!("not serve settings");
        };
        let args = args.with_valid_origins()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let (serving, listening) = oneshot::channel();
        let served = runtime.spawn(async move {
            // Bound here, so that its socket belongs to the server's runtime.
            let listener = tokio::net::TcpListener::bind(args.listen).await?;
            let server = Server::start(args, listener).await?;
            let _ = serving.send(server.address());
            server
                .run(async {
                    let _ = stopped.await;
                })
                .await
        });
        let address = match tokio::time::timeout(START_TIMEOUT, listening).await {
            Ok(Ok(address)) => address,
            Ok(Err(_)) => {
                // It ended before serving: its error says why.
                let ended = served.await;
                runtime.shutdown_background();
                return Err(match ended {
                    Ok(Err(err)) => err,
                    other => anyhow::anyhow!("the server ended before serving: {other:?}"),
                });
            }
            Err(_) => {
                runtime.shutdown_background();
                anyhow::bail!("the server did not start serving within {START_TIMEOUT:?}");
            }
        };
        Ok(Self {
            url: format!("http://{address}"),
            _db: db,
            data_dir,
            running: Some((runtime, stop, served)),
        })
    }
}

impl Node {
    /// Ends the server at once, as SIGKILL would end its process: its runtime is dropped with
    /// every task and socket on it, nothing is shut down gracefully.
    pub fn kill(mut self) {
        if let Some((runtime, _stop, _served)) = self.running.take() {
            runtime.shutdown_background();
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some((runtime, stop, served)) = self.running.take() {
            let _ = stop.send(());
            // Drop may run on the test's runtime, which must not block on another: the
            // shutdown is waited for on a thread of its own.
            let stopped = std::thread::spawn(move || {
                let _ = runtime.block_on(async { tokio::time::timeout(DROP_GRACE, served).await });
                runtime.shutdown_timeout(DROP_GRACE);
            });
            let _ = stopped.join();
        }
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}
