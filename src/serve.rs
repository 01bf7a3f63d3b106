//! `taskpulse serve`: the HTTP server, with graceful shutdown on SIGINT/SIGTERM (or, in
//! tests, on whatever future they choose).

use std::fs;
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use poem::listener::TcpAcceptor;
use taskpulse_actors::database::EmbeddedCluster;
use taskpulse_actors::{Engine, EngineConfig};
use taskpulse_api::auth::{
    AccessTokens, IdentityProvider, load_or_generate_secret, prepare_dummy_hash,
};
use taskpulse_api::connections::{ConnectionLimits, LimitedAcceptor, NoDelay};
use taskpulse_api::{AppState, AuthConfig};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::config::ServeArgs;
use crate::database::{self, Database};

/// Runs the server on `--listen` until SIGINT or SIGTERM.
pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let server = Server::start(args, listener).await?;
    let signal = shutdown_signal();
    // Tests and scripts read this line to learn the port; keep its shape.
    println!("taskpulse listening on http://{}", server.address());
    server.run(signal).await
}

/// A server that is ready to serve: its database prepared, its engine running, its listener
/// bound. The binary runs one per process; the integration tests run several in theirs.
pub struct Server {
    address: SocketAddr,
    acceptor: LimitedAcceptor<NoDelay>,
    idle_timeout: Duration,
    state: AppState,
    engine: Engine,
    node_id: String,
    grace: Duration,
    database: Database,
    watcher: Option<JoinHandle<()>>,
    webhook_sender: JoinHandle<()>,
    mailer: Option<JoinHandle<()>>,
}

impl Server {
    /// Prepares everything `taskpulse serve` serves with `args` (origins already validated),
    /// on `listener`. Connections wait in the listener's backlog until [`Server::run`].
    pub async fn start(args: ServeArgs, listener: TcpListener) -> anyhow::Result<Self> {
        // Every WebSocket session holds a socket: the soft open-file limit goes up to the hard one.
        if let Err(err) = crate::limits::raise_open_file_limit(1 << 20) {
            tracing::warn!(%err, "cannot raise the open-file limit");
        }
        ensure_writable_dir(&args.database.data_dir)?;
        // Before the database and the engine: a bad secret is a configuration error to report
        // at once.
        let auth = auth_config(&args)?;
        let limits = connection_limits(&args)?;
        // A bad --smtp-url is a configuration error too (the message never repeats it).
        let mailer = args.notifications.mailer()?;
        let address = listener
            .local_addr()
            .context("the listener has no address")?;
        let database = database::prepare(&args.database, !args.no_migrate).await?;
        // An embedded cluster whose postmaster dies is started again, as a server would be.
        let watcher = (database.located.embedded.as_ref()).map(EmbeddedCluster::keep_alive);

        let engine_config = EngineConfig {
            cluster: args.cluster.cluster_config(),
            pool: args.database.pool_options(),
            // No access token outlives its session: remember an ending as long as one lives
            // (with the clock skew verification tolerates).
            session_memory: args.access_token_ttl + Duration::from_secs(60),
            notifications: args.notifications.notification_config(),
            ..EngineConfig::default()
        };
        let node_id = engine_config.cluster.node_id.clone();
        let engine = Engine::start(database.url(), engine_config)
            .await
            .context("cannot start the engine")?;
        let provider = auth.identity_provider.clone();
        let acceptor = LimitedAcceptor::new(NoDelay(TcpAcceptor::from_tokio(listener)?), limits);
        let state = AppState::new(
            engine.clone(),
            auth,
            args.ws_settings(),
            &args.rate_limits(),
            acceptor.gauge(),
            args.mcp_settings(),
            args.notifications.webhook_settings(),
        );
        let webhook_sender = taskpulse_api::webhooks::spawn_sender(
            &engine,
            args.notifications.webhook_settings().policy,
        );
        let mailer = mailer.map(|mailer| taskpulse_api::email::spawn_mailer(&engine, mailer));
        if let Some(provider) = provider {
            // The keys now, so the first request need not wait for them (a provider that is
            // down is no reason not to start: its keys are fetched again when needed).
            tokio::spawn(async move { provider.prefetch().await });
        }
        Ok(Self {
            address,
            acceptor,
            idle_timeout: args.idle_timeout,
            state,
            engine,
            node_id,
            grace: args.shutdown_grace,
            database,
            watcher,
            webhook_sender,
            mailer,
        })
    }

    /// The address it listens on (with the port the system chose for port 0).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Serves until `shutdown` resolves, then shuts down gracefully: WebSocket sessions are
    /// closed with 1001, in-flight requests finish within `--shutdown-grace`, the engine stops.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) -> anyhow::Result<()> {
        let Self {
            address,
            acceptor,
            idle_timeout,
            state,
            engine,
            node_id,
            grace,
            database,
            watcher,
            webhook_sender,
            mailer,
        } = self;
        let max_connections = state.connections.ceiling();
        tracing::info!(%address, node = %node_id, max_connections, "listening");
        let (grace_ends, grace_end) = oneshot::channel();
        let server = poem::Server::new_with_acceptor(acceptor)
            .idle_timeout(idle_timeout)
            .run_with_graceful_shutdown(
                taskpulse_api::app(state.clone()),
                going_away(state, grace, shutdown, grace_ends),
                Some(grace),
            );
        // The grace period counts from the signal, the WebSocket goodbyes included.
        let grace_over = async {
            match grace_end.await {
                Ok(deadline) => tokio::time::sleep_until(deadline).await,
                Err(_) => std::future::pending().await,
            }
        };
        tokio::select! {
            stopped = server => stopped.context("the server stopped with an error")?,
            () = grace_over => {
                tracing::warn!("the grace period ended with requests in flight; they are cut");
            }
        }
        webhook_sender.abort();
        if let Some(mailer) = mailer {
            mailer.abort();
        }
        engine.shutdown().await;
        tracing::info!("stopped");
        if let Some(watcher) = watcher {
            watcher.abort();
        }
        // Dropping `database` stops an embedded cluster.
        drop(database);
        Ok(())
    }
}

/// How many connections the server holds and how long they may dawdle.
fn connection_limits(args: &ServeArgs) -> anyhow::Result<ConnectionLimits> {
    if args.idle_timeout <= args.ws_ping_every {
        anyhow::bail!(
            "--idle-timeout must be longer than --ws-ping-every, or idle WebSocket sessions \
             would be cut between pings"
        );
    }
    if args.head_timeout.is_zero() {
        anyhow::bail!("--head-timeout must be longer than zero");
    }
    // The server's own connections: its database pool, the cluster's listener, webhooks, mail.
    let outgoing = u64::from(args.database.db_pool_size)
        + 1
        + (taskpulse_api::webhooks::MOST_CONNECTIONS + taskpulse_api::email::MOST_CONNECTIONS)
            as u64;
    let capacity = crate::limits::connection_capacity(outgoing);
    let total = args.max_connections.map_or(capacity, |max| max as usize);
    if total > capacity {
        tracing::warn!(
            total,
            capacity,
            "--max-connections is above what the open-file limit leaves room for"
        );
    }
    Ok(ConnectionLimits {
        per_ip: args.max_connections_per_ip as usize,
        total,
        head_timeout: args.head_timeout,
    })
}

/// The token keys and lifetimes. The secret itself is never logged.
fn auth_config(args: &ServeArgs) -> anyhow::Result<AuthConfig> {
    let secret = load_or_generate_secret(args.jwt_secret.as_deref(), &args.database.data_dir)
        .context("cannot set up the JWT secret")?;
    let access_tokens = AccessTokens::new(&secret, args.access_token_ttl)
        .context("cannot set up the JWT secret")?;
    if args.access_token_ttl.is_zero() || args.refresh_token_ttl.is_zero() {
        anyhow::bail!("--access-token-ttl and --refresh-token-ttl must be longer than zero");
    }
    // Unknown-email sign-ins verify against a dummy hash; make it now, not on the first one.
    prepare_dummy_hash();
    let identity_provider = match args.identity.provider_settings()? {
        Some(settings) => Some(Arc::new(
            IdentityProvider::new(settings).context("cannot set up the identity provider")?,
        )),
        None => None,
    };
    Ok(AuthConfig {
        access_tokens,
        refresh_token_ttl: args.refresh_token_ttl,
        identity_provider,
        local_accounts: args.identity.local_accounts,
    })
}

/// The data directory must exist and be writable before anything is started in it.
fn ensure_writable_dir(dir: &Path) -> anyhow::Result<()> {
    let problem = || format!("the data directory {} is not writable", dir.display());
    fs::create_dir_all(dir).with_context(problem)?;
    let probe = dir.join(".write-test");
    fs::write(&probe, b"").with_context(problem)?;
    fs::remove_file(&probe).with_context(problem)?;
    Ok(())
}

/// Resolves when poem should stop listening: after `signal`, readiness turns 503 and every
/// WebSocket session closes with 1001 while the listener still serves; once they are all
/// closed, or the grace period is over, poem's own graceful shutdown finishes the requests in
/// flight. Sends the end of the grace period on `grace_ends`.
async fn going_away(
    state: AppState,
    grace: Duration,
    signal: impl Future<Output = ()>,
    grace_ends: oneshot::Sender<Instant>,
) {
    signal.await;
    let deadline = Instant::now() + grace;
    let _ = grace_ends.send(deadline);
    state.shutdown.begin();
    state.live.shut_down();
    let open = state.live.open_sockets();
    if open > 0 {
        tracing::info!(open, "closing the WebSocket sessions");
    }
    if tokio::time::timeout_at(deadline, state.live.all_closed())
        .await
        .is_err()
    {
        tracing::warn!(
            open = state.live.open_sockets(),
            "WebSocket sessions did not answer their close within the grace period"
        );
    }
}

/// SIGINT or SIGTERM, with both handlers installed now, before the caller says it listens: a
/// signal sent right after that line must stop the server gracefully, not by the default
/// action.
fn shutdown_signal() -> impl Future<Output = ()> {
    #[cfg(unix)]
    let handlers = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        )
    };
    async move {
        #[cfg(unix)]
        match handlers {
            (Ok(mut interrupt), Ok(mut terminate)) => {
                tokio::select! {
                    _ = interrupt.recv() => {}
                    _ = terminate.recv() => {}
                }
            }
            (interrupt, terminate) => {
                let err = interrupt.err().or(terminate.err());
                tracing::warn!(error = ?err, "cannot install the signal handlers; only Ctrl-C stops the server");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down: finishing in-flight requests");
    }
}
