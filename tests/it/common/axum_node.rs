//! The live protocol's second adapter, the `examples/axum-live` package, beside a [`TestApp`]:
//! the example's own library, with an engine of its own on the server's
//! database, the server's live settings and the server's tokens, as an axum service next to
//! taskpulse nodes would run it.

use std::net::SocketAddr;

use anyhow::Context;
use taskpulse_actors::{Engine, EngineConfig, PoolOptions};
use taskpulse_axum_live::NodeTokens;
use taskpulse_live::LiveHub;
use tokio::task::JoinHandle;

use super::TestApp;

/// The axum example serving the live protocol on a port of its own.
pub struct AxumNode {
    /// Where it listens.
    pub address: SocketAddr,
    engine: Engine,
    served: JoinHandle<()>,
}

impl AxumNode {
    /// Starts the example beside `app`, which must have been given `--jwt-secret`.
    pub async fn beside(app: &TestApp) -> anyhow::Result<Self> {
        let args = app.serve_args()?;
        let secret = args
            .jwt_secret
            .clone()
            .context("the example checks the server's tokens: give the server --jwt-secret")?;
        let config = EngineConfig {
            pool: PoolOptions {
                max_size: 4,
                ..PoolOptions::default()
            },
            ..EngineConfig::default()
        };
        let engine = Engine::start(&app.db.url, config).await?;
        let tokens = NodeTokens::new(secret.as_bytes());
        let hub = LiveHub::new(engine.clone(), args.ws_settings(), tokens);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let served = tokio::spawn(async move {
            let _ = taskpulse_axum_live::serve(listener, hub).await;
        });
        Ok(Self {
            address,
            engine,
            served,
        })
    }
}

impl Drop for AxumNode {
    /// Stops the service, then its engine (on the test's runtime, while it lasts).
    fn drop(&mut self) {
        self.served.abort();
        let engine = self.engine.clone();
        tokio::spawn(async move { engine.shutdown().await });
    }
}
