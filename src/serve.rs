//! `taskpulse serve`: the HTTP server, with graceful shutdown on SIGINT/SIGTERM.

use std::fs;
use std::path::Path;

use anyhow::Context;
use poem::Server;
use poem::listener::TcpAcceptor;
use taskpulse_actors::{Engine, EngineConfig};
use taskpulse_api::auth::{AccessTokens, load_or_generate_secret, prepare_dummy_hash};
use taskpulse_api::{AppState, AuthConfig};

use crate::config::ServeArgs;
use crate::database;

/// Runs the server until a shutdown signal.
pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    // Every WebSocket session holds a socket.
    crate::limits::raise_open_file_limit(1 << 20);
    ensure_writable_dir(&args.database.data_dir)?;
    // Before anything is started: a bad secret is a configuration error to report at once.
    let auth = auth_config(&args)?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let database = database::prepare(&args.database, !args.no_migrate).await?;

    let engine_config = EngineConfig {
        cluster: args.cluster.cluster_config(),
        ..EngineConfig::default()
    };
    let node_id = engine_config.cluster.node_id.clone();
    let engine = Engine::start(database.pool.clone(), engine_config)
        .await
        .context("cannot start the engine")?;
    let state = AppState::new(
        engine.clone(),
        auth,
        args.ws_settings(),
        &args.rate_limits(),
    );
    let acceptor = TcpAcceptor::from_tokio(listener)?;
    let address = acceptor_address(&acceptor);
    // Tests and scripts read this line to learn the port; keep its shape.
    println!("taskpulse listening on http://{address}");
    tracing::info!(%address, node = %node_id, "listening");

    Server::new_with_acceptor(acceptor)
        .run_with_graceful_shutdown(
            taskpulse_api::app(state),
            shutdown_signal(),
            Some(args.shutdown_grace),
        )
        .await
        .context("the server stopped with an error")?;
    engine.shutdown().await;
    tracing::info!("stopped");
    // Dropping `database` stops an embedded cluster.
    drop(database);
    Ok(())
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
    Ok(AuthConfig {
        access_tokens,
        refresh_token_ttl: args.refresh_token_ttl,
    })
}

fn acceptor_address(acceptor: &TcpAcceptor) -> String {
    use poem::listener::Acceptor;
    acceptor
        .local_addr()
        .first()
        .map(|addr| addr.to_string().trim_start_matches("socket://").to_owned())
        .unwrap_or_default()
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

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(
            tokio::signal::unix::SignalKind::terminate(),
        ) {
            Ok(signal) => signal,
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen for SIGTERM; only SIGINT stops the server");
                let _ = interrupt.await;
                return;
            }
        };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
    tracing::info!("shutting down: finishing in-flight requests");
}
