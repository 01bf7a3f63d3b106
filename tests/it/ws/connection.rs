//! The connection: authentication (on the upgrade or by first message, its deadline), the
//! session and topic limits, frames that are not protocol messages, the message size limit,
//! origins, and pings to silent clients.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::io::AsyncReadExt;
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::{Adapter, Live, close_code, on_both_adapters, receive, send, subscribed};
use crate::common::TestApp;

on_both_adapters!(
    auth_by_first_message_works_and_a_bad_token_closes_with_4401,
    without_auth_the_session_closes_after_the_auth_timeout,
    sessions_and_topics_over_their_limits_are_refused,
    a_non_json_frame_gets_an_error_and_the_session_stays_usable,
    a_message_over_64_kib_closes_with_1009,
    a_foreign_origin_is_refused_with_403,
    the_server_pings_and_closes_a_session_that_stays_silent,
);

async fn auth_by_first_message_works_and_a_bad_token_closes_with_4401(
    adapter: Adapter,
) -> anyhow::Result<()> {
    let app = Live::spawn(adapter).await?;
    let ann = app.register("ann@example.com").await?;

    let mut by_message = app.connect(None).await?;
    send(
        &mut by_message,
        json!({ "type": "auth", "access_token": ann.access }),
    )
    .await?;
    send(&mut by_message, json!({ "type": "ping", "id": "p1" })).await?;
    let pong = receive(&mut by_message).await?;
    let mut bad = app.connect(Some("not-a-jwt")).await?;
    let bad_code = close_code(&mut bad).await?;
    let mut unauthenticated = app.connect(None).await?;
    send(&mut unauthenticated, json!({ "type": "ping", "id": 1 })).await?;
    let unauthenticated_code = close_code(&mut unauthenticated).await?;

    assert_eq!(pong, json!({ "type": "pong", "id": "p1" }));
    assert_eq!(bad_code, 4401);
    assert_eq!(unauthenticated_code, 4401);
    Ok(())
}

async fn without_auth_the_session_closes_after_the_auth_timeout(
    adapter: Adapter,
) -> anyhow::Result<()> {
    // The README's 5 s is checked where it is set (`config.rs`); here, what happens when it ends.
    let timeout = Duration::from_millis(300);
    let settings = TestApp::builder().with_ws_auth_timeout(timeout);
    let app = Live::start(adapter, settings).await?;

    let opened = tokio::time::Instant::now();
    let mut silent = app.connect(None).await?;
    let code = close_code(&mut silent).await?;

    assert_eq!(code, 4401);
    assert!(
        opened.elapsed() >= timeout,
        "closed after {:?}",
        opened.elapsed()
    );
    Ok(())
}

async fn sessions_and_topics_over_their_limits_are_refused(adapter: Adapter) -> anyhow::Result<()> {
    let settings = TestApp::builder()
        .with_arg("--ws-max-sessions-per-user")
        .with_arg("2")
        .with_arg("--ws-max-topics")
        .with_arg("2");
    let app = Live::start(adapter, settings).await?;
    let ann = app.register("ann@example.com").await?;
    let bob = app.register("bob@example.com").await?;
    let team = app.create_team(&ann.access, "Team").await?;
    let other = app.create_team(&ann.access, "Other").await?;

    let (mut first, _) = subscribed(&app, &ann, "user").await?;
    send(
        &mut first,
        json!({ "type": "subscribe", "topic": format!("team:{team}") }),
    )
    .await?;
    let second_topic = receive(&mut first).await?;
    // Subscribing again to a topic it holds takes no new place.
    send(&mut first, json!({ "type": "subscribe", "topic": "user" })).await?;
    let again = receive(&mut first).await?;
    let third_topic = format!("team:{other}");
    send(
        &mut first,
        json!({ "type": "subscribe", "topic": third_topic }),
    )
    .await?;
    let refused_topic = receive(&mut first).await?;
    let (_second, _) = subscribed(&app, &ann, "user").await?;
    let mut third = app.connect(Some(&ann.access)).await?;
    let third_code = close_code(&mut third).await?;
    // The limit is per user: another user's sessions are not counted.
    let (_bobs, bobs_snapshot) = subscribed(&app, &bob, "user").await?;

    assert_eq!(second_topic["type"], "snapshot");
    assert_eq!(again["type"], "snapshot");
    assert_eq!(
        (
            refused_topic["type"].as_str(),
            refused_topic["code"].as_str()
        ),
        (Some("error"), Some("too_many_topics"))
    );
    assert_eq!(refused_topic["topic"], third_topic);
    assert_eq!(third_code, 1008);
    assert_eq!(bobs_snapshot["type"], "snapshot");
    Ok(())
}

async fn a_non_json_frame_gets_an_error_and_the_session_stays_usable(
    adapter: Adapter,
) -> anyhow::Result<()> {
    let app = Live::spawn(adapter).await?;
    let ann = app.register("ann@example.com").await?;
    let mut socket = app.connect(Some(&ann.access)).await?;

    socket
        .send(Message::Text("this is not json".into()))
        .await?;
    let error = receive(&mut socket).await?;
    socket.send(Message::Binary(vec![1, 2, 3].into())).await?;
    let binary_error = receive(&mut socket).await?;
    send(&mut socket, json!({ "type": "ping", "id": 7 })).await?;
    let pong = receive(&mut socket).await?;

    assert_eq!(
        (error["type"].as_str(), error["code"].as_str()),
        (Some("error"), Some("malformed_message"))
    );
    assert_eq!(binary_error["code"], "unsupported_frame");
    assert_eq!(pong, json!({ "type": "pong", "id": 7 }));
    Ok(())
}

async fn a_message_over_64_kib_closes_with_1009(adapter: Adapter) -> anyhow::Result<()> {
    let app = Live::spawn(adapter).await?;
    let ann = app.register("ann@example.com").await?;
    let mut socket = app.connect(Some(&ann.access)).await?;

    let huge = json!({ "type": "ping", "id": "x".repeat(70 * 1024) });
    send(&mut socket, huge).await?;

    assert_eq!(close_code(&mut socket).await?, 1009);
    Ok(())
}

async fn a_foreign_origin_is_refused_with_403(adapter: Adapter) -> anyhow::Result<()> {
    let app = Live::spawn(adapter).await?;
    let ann = app.register("ann@example.com").await?;
    let base = app.live_url().replace("http://", "ws://");
    let mut request =
        format!("{base}/api/v1/ws?access_token={}", ann.access).into_client_request()?;
    request
        .headers_mut()
        .insert("origin", "https://evil.example".parse()?);
    let mut own = format!("{base}/api/v1/ws?access_token={}", ann.access).into_client_request()?;
    own.headers_mut().insert("origin", app.live_url().parse()?);

    let refused = connect_async(request).await;
    let accepted = connect_async(own).await;

    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 403)
        }
        other => anyhow::bail!("expected 403, got {other:?}"),
    }
    assert!(accepted.is_ok());
    Ok(())
}

async fn the_server_pings_and_closes_a_session_that_stays_silent(
    adapter: Adapter,
) -> anyhow::Result<()> {
    let settings = TestApp::builder()
        .with_arg("--ws-ping-every")
        .with_arg("50ms")
        .with_arg("--ws-silence-limit")
        .with_arg("500ms");
    let app = Live::start(adapter, settings).await?;
    let ann = app.register("ann@example.com").await?;
    let mut lively = app.connect(Some(&ann.access)).await?;
    let mut silent = raw_upgrade(&app, &ann.access).await?;

    // The lively client reads (and so answers every ping) for twice the silence limit.
    let mut pings = 0;
    let until = tokio::time::Instant::now() + Duration::from_secs(1);
    while let Ok(frame) = tokio::time::timeout_at(until, lively.next()).await {
        match frame {
            Some(Ok(Message::Ping(_))) => pings += 1,
            Some(Ok(Message::Close(close))) => {
                anyhow::bail!("the lively session was closed: {close:?}")
            }
            Some(Ok(_)) => {}
            other => anyhow::bail!("the lively session ended: {other:?}"),
        }
    }
    send(&mut lively, json!({ "type": "ping", "id": "still-there" })).await?;
    let pong = receive(&mut lively).await?;
    // The silent one never read, so it never answered a ping: by now the server closed it.
    let mut received = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), silent.read_to_end(&mut received)).await??;
    let close_1001 = received
        .windows(4)
        .any(|w| w[0] == 0x88 && w[2..] == [0x03, 0xE9]);

    assert!(pings >= 5, "only {pings} pings in one second");
    assert_eq!(pong["id"], "still-there");
    assert!(
        close_1001,
        "no close frame with code 1001 in {} bytes",
        received.len()
    );
    Ok(())
}

/// A WebSocket upgrade done by hand on a plain TCP socket, so that nothing answers pings.
async fn raw_upgrade(app: &Live, token: &str) -> anyhow::Result<tokio::net::TcpStream> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let url = app.live_url();
    let address = url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await?;
    let request = format!(
        "GET /api/v1/ws?access_token={token} HTTP/1.1\r\nHost: {address}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).await?;
    anyhow::ensure!(
        head.starts_with(b"HTTP/1.1 101"),
        "no upgrade: {:?}",
        String::from_utf8_lossy(&head)
    );
    Ok(stream)
}
