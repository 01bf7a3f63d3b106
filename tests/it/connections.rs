//! Connection limits: silent connections and half-sent request heads are closed after the head
//! timeout, idle keep-alive connections after the idle timeout, and connections over the
//! per-client or total cap are answered 503 `too_many_connections` — while normal requests
//! go on being served.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::common::TestApp;

fn address(app: &TestApp) -> anyhow::Result<SocketAddr> {
    Ok(app.base_url.trim_start_matches("http://").parse()?)
}

/// Reads until the server closes the connection (or `limit` passes); answers what it sent.
async fn read_to_close(stream: &mut TcpStream, limit: Duration) -> anyhow::Result<String> {
    let mut received = Vec::new();
    let read = tokio::time::timeout(limit, async {
        let mut chunk = [0u8; 4096];
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => received.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await;
    anyhow::ensure!(read.is_ok(), "still open after {limit:?}");
    Ok(String::from_utf8_lossy(&received).into_owned())
}

/// A connection from `source` (another loopback address is another client).
async fn connect_from(source: [u8; 4], to: SocketAddr) -> anyhow::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((source, 0)))?;
    Ok(socket.connect(to).await?)
}

async fn health_is_served(app: &TestApp) -> anyhow::Result<()> {
    let response = app.get("/api/v1/health/live").await?;
    anyhow::ensure!(response.status() == 200, "health: {}", response.status());
    Ok(())
}

/// A whole request head, keep-alive.
const HEALTH: &[u8] = b"GET /api/v1/health/live HTTP/1.1\r\nHost: x\r\n\r\n";

/// One `GET /api/v1/health/live` answer read off `stream`, whole (head and body), leaving the
/// connection open; answers its status line.
async fn read_answer(stream: &mut TcpStream) -> anyhow::Result<String> {
    let mut received = Vec::new();
    let mut chunk = [0u8; 1024];
    let deadline = Duration::from_secs(5);
    loop {
        if let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&received[..end]).into_owned();
            let length: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().to_owned())
                })
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            if received.len() >= end + 4 + length {
                return Ok(head.lines().next().unwrap_or_default().to_owned());
            }
        }
        let n = tokio::time::timeout(deadline, stream.read(&mut chunk)).await??;
        anyhow::ensure!(
            n > 0,
            "closed before the whole answer: {:?}",
            String::from_utf8_lossy(&received)
        );
        received.extend_from_slice(&chunk[..n]);
    }
}

/// How long after `since` the server closed `stream` (reading what it sends meanwhile).
async fn closed_after(stream: &mut TcpStream, since: Instant) -> anyhow::Result<Duration> {
    read_to_close(stream, Duration::from_secs(10)).await?;
    Ok(since.elapsed())
}

#[tokio::test]
async fn silent_connections_and_half_sent_heads_are_closed_after_the_head_timeout()
-> anyhow::Result<()> {
    let head_timeout = Duration::from_secs(2);
    let app = TestApp::builder()
        .with_arg("--head-timeout")
        .with_arg("2s")
        .spawn()
        .await?;
    let to = address(&app)?;
    // Each taken before connecting: the server's clock for the connection starts after it.
    let first_silent = Instant::now();
    let mut silent = Vec::new();
    for _ in 0..200 {
        silent.push(TcpStream::connect(to).await?);
    }
    let first_half_sent = Instant::now();
    let mut half_sent = Vec::new();
    for _ in 0..100 {
        let mut stream = TcpStream::connect(to).await?;
        stream.write_all(&HEALTH[..20]).await?;
        half_sent.push(stream);
    }
    // Two more stay quiet, or half-sent, for a while, then finish their heads in time.
    let slow = Instant::now();
    let mut quiet_a_while = TcpStream::connect(to).await?;
    let mut half_a_while = TcpStream::connect(to).await?;
    half_a_while.write_all(&HEALTH[..20]).await?;
    tokio::time::sleep(head_timeout / 4).await;
    quiet_a_while.write_all(HEALTH).await?;
    half_a_while.write_all(&HEALTH[20..]).await?;
    let finished_in = slow.elapsed();

    assert!(
        finished_in < head_timeout,
        "the test itself took {finished_in:?}"
    );
    assert_eq!(read_answer(&mut quiet_a_while).await?, "HTTP/1.1 200 OK");
    assert_eq!(read_answer(&mut half_a_while).await?, "HTTP/1.1 200 OK");
    // Served meanwhile, on connections of their own.
    health_is_served(&app).await?;
    // The first of each kind, due first, closes once the timeout has passed and not before.
    let (silent_closed, half_closed) = tokio::join!(
        closed_after(&mut silent[0], first_silent),
        closed_after(&mut half_sent[0], first_half_sent)
    );
    for closed in [silent_closed?, half_closed?] {
        assert!(closed >= head_timeout, "closed {closed:?} after connecting");
    }
    for stream in silent.iter_mut().chain(half_sent.iter_mut()) {
        read_to_close(stream, Duration::from_secs(5)).await?;
    }
    health_is_served(&app).await?;
    // A head that does arrive in time is answered as usual.
    let mut prompt = TcpStream::connect(to).await?;
    prompt
        .write_all(b"GET /api/v1/health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await?;
    let answer = read_to_close(&mut prompt, Duration::from_secs(5)).await?;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    Ok(())
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() -> anyhow::Result<()> {
    let idle_timeout = Duration::from_secs(2);
    let app = TestApp::builder()
        .with_arg("--idle-timeout")
        .with_arg("2s")
        .with_arg("--ws-ping-every")
        .with_arg("200ms")
        .spawn()
        .await?;
    let mut stream = TcpStream::connect(address(&app)?).await?;
    stream.write_all(HEALTH).await?;
    assert_eq!(read_answer(&mut stream).await?, "HTTP/1.1 200 OK");

    // Kept alive for the next request, well within the timeout.
    tokio::time::sleep(idle_timeout / 4).await;
    // Taken before the request: the server's idle clock restarts after this.
    let asked = Instant::now();
    stream.write_all(HEALTH).await?;
    assert_eq!(read_answer(&mut stream).await?, "HTTP/1.1 200 OK");
    // Then closed once idle for the timeout, and not before.
    read_to_close(&mut stream, Duration::from_secs(10)).await?;
    let closed_after = asked.elapsed();
    assert!(
        closed_after >= idle_timeout,
        "closed {closed_after:?} after the last request, before the idle timeout"
    );
    Ok(())
}

#[tokio::test]
async fn connections_over_the_per_client_cap_are_answered_503_and_others_are_served()
-> anyhow::Result<()> {
    let app = TestApp::builder()
        .with_arg("--max-connections-per-ip")
        .with_arg("5")
        .spawn()
        .await?;
    let to = address(&app)?;
    let mut held = Vec::new();
    for _ in 0..5 {
        held.push(connect_from([127, 0, 0, 2], to).await?);
    }

    let mut over = connect_from([127, 0, 0, 2], to).await?;
    let answer = read_to_close(&mut over, Duration::from_secs(5)).await?;

    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(
        answer.contains("content-type: application/problem+json"),
        "{answer}"
    );
    let body: Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap_or_default())?;
    assert_eq!(body["code"], "too_many_connections");
    assert_eq!(body["status"], 503);
    // Another client is served, and the capped one again once it lets go.
    health_is_served(&app).await?;
    drop(held);
    // Served again once the server has seen those connections close.
    crate::common::poll_until(Duration::from_secs(5), || async {
        let mut again = connect_from([127, 0, 0, 2], to).await?;
        again
            .write_all(b"GET /api/v1/health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await?;
        let answer = read_to_close(&mut again, Duration::from_secs(5)).await?;
        Ok(if answer.starts_with("HTTP/1.1 200") {
            Ok(())
        } else {
            Err(answer)
        })
    })
    .await
}

#[tokio::test]
async fn connections_over_the_total_cap_are_answered_503() -> anyhow::Result<()> {
    let app = TestApp::builder()
        .with_arg("--max-connections")
        .with_arg("4")
        .spawn()
        .await?;
    let to = address(&app)?;
    let mut held = Vec::new();
    for source in 2..6 {
        held.push(connect_from([127, 0, 0, source], to).await?);
    }

    let mut over = connect_from([127, 0, 0, 9], to).await?;
    let answer = read_to_close(&mut over, Duration::from_secs(5)).await?;

    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("too_many_connections"), "{answer}");
    drop(held);
    let served = crate::common::poll_until(Duration::from_secs(5), || async {
        let status = app.get("/api/v1/health/live").await?.status();
        Ok(if status == 200 {
            Ok(())
        } else {
            Err(format!("status {status}"))
        })
    })
    .await;
    assert!(served.is_ok(), "{served:?}");
    Ok(())
}

/// Sends `request` on a connection of its own and answers the whole answer.
async fn raw_exchange(app: &TestApp, request: &[u8]) -> anyhow::Result<String> {
    let mut stream = TcpStream::connect(address(app)?).await?;
    // A server that answers before reading everything may close on the rest: that is fine.
    let _ = stream.write_all(request).await;
    read_to_close(&mut stream, Duration::from_secs(5)).await
}

#[tokio::test]
async fn answers_the_http_layer_makes_itself_are_problem_documents() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let long_uri = format!(
        "GET /api/v1/health/live?{} HTTP/1.1\r\nHost: x\r\n\r\n",
        "a".repeat(100 * 1024)
    );
    let huge_header = format!(
        "GET /api/v1/health/live HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(1024 * 1024)
    );
    let many_headers = format!(
        "GET /api/v1/health/live HTTP/1.1\r\nHost: x\r\n{}\r\n",
        (0..5000)
            .map(|n| format!("X-H{n}: v\r\n"))
            .collect::<String>()
    );
    let cases = [
        (long_uri, 414, "uri_too_long"),
        (huge_header, 431, "headers_too_large"),
        (many_headers, 431, "headers_too_large"),
        (
            "NOT HTTP AT ALL\r\n\r\n".to_owned(),
            400,
            "malformed_request",
        ),
    ];

    for (request, status, code) in cases {
        let answer = raw_exchange(&app, request.as_bytes()).await?;

        let (head, body) = answer.split_once("\r\n\r\n").unwrap_or_default();
        assert!(head.starts_with(&format!("HTTP/1.1 {status}")), "{head}");
        assert!(
            head.lines()
                .any(|l| l.eq_ignore_ascii_case("content-type: application/problem+json")),
            "{head}"
        );
        let problem: Value = serde_json::from_str(body)?;
        assert_eq!(
            (problem["status"].as_u64(), problem["code"].as_str()),
            (Some(status), Some(code))
        );
        assert!(
            problem["type"].is_string()
                && problem["title"].is_string()
                && problem["detail"].is_string()
        );
    }
    health_is_served(&app).await
}
