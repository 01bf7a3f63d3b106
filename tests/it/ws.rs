//! `GET /api/v1/ws` with a real WebSocket client: authentication, snapshot then consecutive
//! deltas, resume, forbidden topics, revocation, errors, limits and origins. Every case runs
//! against both adapters of the live protocol: taskpulse's own server (poem) and the axum
//! example beside it (`examples/axum_live.rs`), as `<case>::poem` and `<case>::axum`.

use std::ops::Deref;
use std::time::Duration;

use crate::common::{AxumNode, Registered, TestApp, TestAppBuilder};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

pub(crate) type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

pub(crate) async fn connect(app: &TestApp, token: Option<&str>) -> anyhow::Result<Socket> {
    connect_to(&app.base_url, token).await
}

/// Opens a session on the server at `base` (`http://host:port`).
pub(crate) async fn connect_to(base: &str, token: Option<&str>) -> anyhow::Result<Socket> {
    let base = base.replace("http://", "ws://");
    let url = match token {
        Some(token) => format!("{base}/api/v1/ws?access_token={token}"),
        None => format!("{base}/api/v1/ws"),
    };
    Ok(connect_async(url).await?.0)
}

pub(crate) async fn send(socket: &mut Socket, message: Value) -> anyhow::Result<()> {
    Ok(socket
        .send(Message::Text(message.to_string().into()))
        .await?)
}

/// The next JSON message (pings are answered by the client library and skipped).
pub(crate) async fn receive(socket: &mut Socket) -> anyhow::Result<Value> {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await?
            .ok_or_else(|| anyhow::anyhow!("the socket closed"))??;
        match frame {
            Message::Text(text) => return Ok(serde_json::from_str(&text)?),
            Message::Close(close) => anyhow::bail!("closed: {close:?}"),
            _ => {}
        }
    }
}

/// Waits for the close frame and answers its code.
pub(crate) async fn close_code(socket: &mut Socket) -> anyhow::Result<u16> {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), socket.next()).await? {
            Some(Ok(Message::Close(Some(frame)))) => return Ok(frame.code.into()),
            Some(Ok(Message::Close(None))) | None => anyhow::bail!("closed without a code"),
            Some(Ok(_)) => {}
            Some(Err(err)) => anyhow::bail!("socket error: {err}"),
        }
    }
}

/// Which adapter of the live protocol a case's sessions connect to.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Adapter {
    /// taskpulse's own server.
    Poem,
    /// `examples/axum_live.rs`, with an engine of its own on the server's database.
    Axum,
}

/// A test server for REST, and where the case's sessions connect.
pub(crate) struct Live {
    // Dropped first: the example's engine stops before the server drops the database.
    axum: Option<AxumNode>,
    app: TestApp,
}

impl Live {
    pub(crate) async fn spawn(adapter: Adapter) -> anyhow::Result<Self> {
        Self::start(adapter, TestApp::builder()).await
    }

    /// The server with `settings` (and a JWT secret of its own, which the axum example needs
    /// to check its tokens), and the adapter.
    pub(crate) async fn start(adapter: Adapter, settings: TestAppBuilder) -> anyhow::Result<Self> {
        let secret = format!(
            "{}{}",
            uuid::Uuid::now_v7().simple(),
            uuid::Uuid::now_v7().simple()
        );
        let app = (settings.with_arg("--jwt-secret").with_arg(&secret))
            .spawn()
            .await?;
        let axum = match adapter {
            Adapter::Poem => None,
            Adapter::Axum => Some(AxumNode::beside(&app).await?),
        };
        Ok(Self { axum, app })
    }

    /// `http://host:port` of the adapter.
    pub(crate) fn live_url(&self) -> String {
        match &self.axum {
            None => self.app.base_url.clone(),
            Some(axum) => format!("http://{}", axum.address),
        }
    }

    pub(crate) async fn connect(&self, token: Option<&str>) -> anyhow::Result<Socket> {
        connect_to(&self.live_url(), token).await
    }
}

impl Deref for Live {
    type Target = TestApp;

    fn deref(&self) -> &TestApp {
        &self.app
    }
}

/// Runs each case, an `async fn(Adapter)` of the calling module, against both adapters, as
/// `<case>::poem` and `<case>::axum`.
macro_rules! on_both_adapters {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            #[tokio::test]
            async fn poem() -> anyhow::Result<()> {
                super::$case($crate::ws::Adapter::Poem).await
            }

            #[tokio::test]
            async fn axum() -> anyhow::Result<()> {
                super::$case($crate::ws::Adapter::Axum).await
            }
        }
    )*};
}
pub(crate) use on_both_adapters;

on_both_adapters!(
    subscribe_sends_a_snapshot_then_a_delta_per_change,
    auth_by_first_message_works_and_a_bad_token_closes_with_4401,
    without_auth_the_session_closes_after_the_auth_timeout,
    resume_replays_missed_deltas,
    a_foreign_topic_is_forbidden_and_a_removed_member_is_unsubscribed,
    a_non_json_frame_gets_an_error_and_the_session_stays_usable,
    a_message_over_64_kib_closes_with_1009,
    a_foreign_origin_is_refused_with_403,
    a_client_that_stops_reading_never_delays_another,
    the_server_pings_and_closes_a_session_that_stays_silent,
    sessions_and_topics_over_their_limits_are_refused,
    unsubscribe_and_the_protocols_other_errors_answer_as_documented,
);

async fn subscribed(app: &Live, user: &Registered, topic: &str) -> anyhow::Result<(Socket, Value)> {
    let mut socket = app.connect(Some(&user.access)).await?;
    send(&mut socket, json!({ "type": "subscribe", "topic": topic })).await?;
    let snapshot = receive(&mut socket).await?;
    Ok((socket, snapshot))
}

async fn subscribe_sends_a_snapshot_then_a_delta_per_change(
    adapter: Adapter,
) -> anyhow::Result<()> {
    let app = Live::spawn(adapter).await?;
    let ann = app.register("ann@example.com").await?;
    let (mut socket, snapshot) = subscribed(&app, &ann, "user").await?;

    app.create_task(&ann.access, json!({ "title": "one" }))
        .await?;
    let first = receive(&mut socket).await?;
    app.create_task(
        &ann.access,
        json!({ "title": "two", "status": "completed" }),
    )
    .await?;
    let second = receive(&mut socket).await?;

    assert_eq!(snapshot["type"], "snapshot");
    assert_eq!(snapshot["topic"], "user");
    assert_eq!(snapshot["version"], 0);
    assert_eq!(snapshot["stats"]["total"], 0);
    assert!(
        snapshot["breakdown"]["by_status"].is_object() && snapshot["activity"]["days"].is_array()
    );
    assert_eq!(first["type"], "delta");
    assert_eq!(first["version"], 1);
    assert_eq!(first["changes"], json!({ "total": 1, "pending": 1 }));
    assert_eq!(first["stats"]["pending"], 1);
    assert_eq!(second["version"], 2);
    assert_eq!(second["changes"], json!({ "total": 1, "completed": 1 }));
    Ok(())
}

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

async fn resume_replays_missed_deltas(adapter: Adapter) -> anyhow::Result<()> {
    let app = Live::spawn(adapter).await?;
    let ann = app.register("ann@example.com").await?;
    let (socket, _) = subscribed(&app, &ann, "user").await?;
    drop(socket);
    for title in ["a", "b", "c"] {
        app.create_task(&ann.access, json!({ "title": title }))
            .await?;
    }

    let mut socket = app.connect(Some(&ann.access)).await?;
    send(
        &mut socket,
        json!({ "type": "subscribe", "topic": "user", "since_version": 1 }),
    )
    .await?;
    let replayed = [receive(&mut socket).await?, receive(&mut socket).await?];
    let mut stale = app.connect(Some(&ann.access)).await?;
    send(
        &mut stale,
        json!({ "type": "subscribe", "topic": "user", "since_version": -5 }),
    )
    .await?;
    let fallback = receive(&mut stale).await?;

    assert_eq!(
        (
            replayed[0]["type"].as_str(),
            replayed[0]["version"].as_i64()
        ),
        (Some("delta"), Some(2))
    );
    assert_eq!(
        (
            replayed[1]["type"].as_str(),
            replayed[1]["version"].as_i64()
        ),
        (Some("delta"), Some(3))
    );
    assert_eq!(
        (fallback["type"].as_str(), fallback["version"].as_i64()),
        (Some("snapshot"), Some(3))
    );
    // What each replayed delta changed is measured from the version before it, not from zero.
    for delta in &replayed {
        assert_eq!(
            delta["changes"],
            json!({ "total": 1, "pending": 1 }),
            "{delta}"
        );
    }
    Ok(())
}

async fn a_foreign_topic_is_forbidden_and_a_removed_member_is_unsubscribed(
    adapter: Adapter,
) -> anyhow::Result<()> {
    let app = Live::spawn(adapter).await?;
    let owner = app.register("owner@example.com").await?;
    let member = app.register("member@example.com").await?;
    let team = app.create_team(&owner.access, "Team").await?;
    let topic = format!("team:{team}");
    app.add_member(&owner.access, &team, &member.user_id, "member")
        .await?;

    let (mut socket, snapshot) = subscribed(&app, &member, &topic).await?;
    let outsider = app.register("outsider@example.com").await?;
    let (_outsider_socket, refused) = subscribed(&app, &outsider, &topic).await?;
    let removed = app
        .delete_as(
            &format!("/api/v1/teams/{team}/members/{}", member.user_id),
            &owner.access,
        )
        .await?;
    let revoked = receive(&mut socket).await?;

    assert_eq!(snapshot["type"], "snapshot");
    assert_eq!(snapshot["breakdown"]["by_member"], json!([]));
    assert_eq!(
        refused,
        json!({ "type": "error", "code": "forbidden", "message": refused["message"], "topic": topic })
    );
    assert_eq!(removed.status(), 204);
    assert_eq!(
        revoked,
        json!({ "type": "unsubscribed", "topic": topic, "reason": "membership_revoked" })
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

async fn unsubscribe_and_the_protocols_other_errors_answer_as_documented(
    adapter: Adapter,
) -> anyhow::Result<()> {
    let app = Live::spawn(adapter).await?;
    let ann = app.register("ann@example.com").await?;
    let (mut socket, _) = subscribed(&app, &ann, "user").await?;

    send(
        &mut socket,
        json!({ "type": "unsubscribe", "topic": "user" }),
    )
    .await?;
    let unsubscribed = receive(&mut socket).await?;
    app.create_task(&ann.access, json!({ "title": "unseen" }))
        .await?;
    send(
        &mut socket,
        json!({ "type": "unsubscribe", "topic": "user" }),
    )
    .await?;
    let not_subscribed = receive(&mut socket).await?;
    send(
        &mut socket,
        json!({ "type": "subscribe", "topic": "teams" }),
    )
    .await?;
    let invalid_topic = receive(&mut socket).await?;
    send(
        &mut socket,
        json!({ "type": "auth", "access_token": ann.access }),
    )
    .await?;
    let already = receive(&mut socket).await?;
    send(&mut socket, json!({ "type": "ping", "id": "last" })).await?;
    // Nothing of the unsubscribed topic came in between: the pong is next.
    let pong = receive(&mut socket).await?;

    assert_eq!(
        unsubscribed,
        json!({ "type": "unsubscribed", "topic": "user", "reason": "requested" })
    );
    let code = |m: &Value| (m["type"].clone(), m["code"].clone(), m["topic"].clone());
    assert_eq!(
        code(&not_subscribed),
        (json!("error"), json!("not_subscribed"), json!("user"))
    );
    assert_eq!(
        code(&invalid_topic),
        (json!("error"), json!("invalid_topic"), json!("teams"))
    );
    assert_eq!(
        code(&already),
        (json!("error"), json!("already_authenticated"), Value::Null)
    );
    assert_eq!(pong, json!({ "type": "pong", "id": "last" }));
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

async fn a_client_that_stops_reading_never_delays_another(adapter: Adapter) -> anyhow::Result<()> {
    let app = Live::spawn(adapter).await?;
    let ann = app.register("ann@example.com").await?;
    let (_stalled, _) = subscribed(&app, &ann, "user").await?;
    let (mut reader, _) = subscribed(&app, &ann, "user").await?;

    let mut versions = Vec::new();
    for n in 0..60 {
        app.create_task(
            &ann.access,
            json!({ "title": format!("t{n}"), "description": "x".repeat(2000) }),
        )
        .await?;
        versions.push(receive(&mut reader).await?["version"].as_i64());
    }

    assert_eq!(versions, (1..=60).map(Some).collect::<Vec<_>>());
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
