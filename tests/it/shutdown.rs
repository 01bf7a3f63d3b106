//! Graceful shutdown with real clients: on SIGTERM every WebSocket session is closed with 1001
//! (Going Away) and a reason, never dropped; while the sessions say goodbye the server turns
//! traffic away (readiness 503, new sessions 503) yet stays alive; then it exits 0.

use std::time::Duration;

use crate::common::{ProcessApp, expect_json, poll_until};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// An authenticated session subscribed to the user's topic, its snapshot read.
async fn subscribed_session(app: &ProcessApp, access: &str) -> anyhow::Result<Socket> {
    let base = app.base_url.replace("http://", "ws://");
    let (mut socket, _) = connect_async(format!("{base}/api/v1/ws?access_token={access}")).await?;
    let subscribe = json!({ "type": "subscribe", "topic": "user" });
    socket
        .send(Message::Text(subscribe.to_string().into()))
        .await?;
    loop {
        match tokio::time::timeout(Duration::from_secs(10), socket.next()).await? {
            Some(Ok(Message::Text(text))) => {
                let message: Value = serde_json::from_str(&text)?;
                anyhow::ensure!(message["type"] == "snapshot", "{message}");
                return Ok(socket);
            }
            Some(Ok(_)) => {}
            other => anyhow::bail!("no snapshot: {other:?}"),
        }
    }
}

/// Reads until the close frame and answers its code and reason, then reads on until the
/// socket ends, which sends the client's answer to the close.
async fn close_frame(mut socket: Socket) -> anyhow::Result<(u16, String)> {
    let close = loop {
        match tokio::time::timeout(Duration::from_secs(30), socket.next()).await? {
            Some(Ok(Message::Close(Some(frame)))) => {
                break (u16::from(frame.code), frame.reason.to_string());
            }
            Some(Ok(Message::Close(None))) => anyhow::bail!("closed without a code"),
            Some(Ok(_)) => {}
            Some(Err(err)) => anyhow::bail!("the socket broke without a close frame: {err}"),
            None => anyhow::bail!("the socket ended without a close frame"),
        }
    };
    while let Ok(Some(Ok(_))) = tokio::time::timeout(Duration::from_secs(30), socket.next()).await {
    }
    Ok(close)
}

/// Sends SIGTERM without waiting for the process to exit.
async fn send_sigterm(app: &ProcessApp) -> anyhow::Result<()> {
    let pid = app.pid()?.to_string();
    let sent = tokio::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await?;
    anyhow::ensure!(sent.success(), "kill -TERM {pid} failed");
    Ok(())
}

#[tokio::test]
async fn sigterm_closes_every_websocket_session_with_1001_and_exits_0() -> anyhow::Result<()> {
    let mut app = ProcessApp::spawn().await?;
    let ann = app.register("ann@example.com").await?;
    let bob = app.register("bob@example.com").await?;
    let sessions = [
        subscribed_session(&app, &ann.access).await?,
        subscribed_session(&app, &bob.access).await?,
    ];
    // The clients read (and so answer the close) while the server shuts down.
    let readers: Vec<_> = sessions
        .into_iter()
        .map(|socket| tokio::spawn(close_frame(socket)))
        .collect();

    let status = app.terminate().await?;

    for reader in readers {
        let (code, reason) = reader.await??;
        assert_eq!(code, 1001, "close code (reason {reason:?})");
        assert_eq!(reason, "server shutting down");
    }
    assert!(status.success(), "exit status {status:?}");
    Ok(())
}

#[tokio::test]
async fn while_sessions_say_goodbye_the_server_is_alive_but_not_ready() -> anyhow::Result<()> {
    // A long grace period, and a client that does not read: the server waits for its answer
    // to the close, so it stays in this phase until the test lets it go.
    let mut app = ProcessApp::builder()
        .with_arg("--shutdown-grace")
        .with_arg("120s")
        .spawn()
        .await?;
    let ann = app.register("ann@example.com").await?;
    let session = subscribed_session(&app, &ann.access).await?;
    expect_json(app.get("/api/v1/health/ready").await?, 200).await?;

    send_sigterm(&app).await?;
    let not_ready = poll_until(Duration::from_secs(20), || async {
        let response = app.get("/api/v1/health/ready").await?;
        Ok(match response.status().as_u16() {
            503 => Ok(response.json::<Value>().await?),
            other => Err(format!("ready answered {other}")),
        })
    })
    .await?;
    let live = app.get("/api/v1/health/live").await?.status();
    let base = app.base_url.replace("http://", "ws://");
    let refused = connect_async(format!("{base}/api/v1/ws?access_token={}", ann.access)).await;
    let (code, _) = close_frame(session).await?;
    // Already signalled: the server ignores this second SIGTERM, and this waits for the exit.
    let status = app.terminate().await?;

    assert_eq!(not_ready["status"], "not_ready", "{not_ready}");
    assert_eq!(
        not_ready["not_ready"][0]["component"], "server",
        "{not_ready}"
    );
    assert_eq!(live, 200);
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 503)
        }
        other => panic!("a new session was not refused with 503: {other:?}"),
    }
    assert_eq!(code, 1001);
    assert!(status.success(), "exit status {status:?}");
    Ok(())
}
