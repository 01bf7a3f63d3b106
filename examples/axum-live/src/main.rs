//! `taskpulse-axum-live`: the live protocol served by axum, as a node beside the taskpulse
//! servers of one database (the library beside this file is the whole adapter).

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use taskpulse_actors::{Engine, EngineConfig};
use taskpulse_axum_live::{NodeTokens, serve};
use taskpulse_live::{LiveHub, LiveSettings};

/// Serves taskpulse's live protocol from axum, as a node beside the taskpulse servers of one
/// database.
#[derive(Debug, Parser)]
struct Args {
    /// The taskpulse database (migrated by a taskpulse node or `taskpulse migrate`).
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:8090")]
    listen: SocketAddr,
    /// The secret the taskpulse nodes sign access tokens with.
    #[arg(long, env = "TASKPULSE_JWT_SECRET")]
    jwt_secret: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let engine = Engine::start(&args.database_url, EngineConfig::default()).await?;
    let tokens = NodeTokens::new(args.jwt_secret.as_bytes());
    let hub = LiveHub::new(engine.clone(), LiveSettings::default(), tokens);
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    println!(
        "serving the live protocol on ws://{}/api/v1/ws",
        args.listen
    );
    let served = serve(listener, hub.clone());
    tokio::select! {
        served = served => served?,
        _ = tokio::signal::ctrl_c() => {
            // Sessions close with 1001 and a reason; clients resume on another node.
            hub.shut_down();
            let _ = tokio::time::timeout(Duration::from_secs(10), hub.all_closed()).await;
        }
    }
    engine.shutdown().await;
    Ok(())
}
