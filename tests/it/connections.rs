//! Connection limits: silent connections and half-sent request heads are closed after the head
//! timeout, idle keep-alive connections after the idle timeout, and connections over the
//! per-client or total cap are answered 503 `too_many_connections` — while normal requests
//! go on being served.

use std::net::SocketAddr;
use std::time::Duration;

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

#[tokio::test]
async fn silent_connections_and_half_sent_heads_are_closed_after_the_head_timeout()
-> anyhow::Result<()> {
    let app = TestApp::builder()
        .with_arg("--head-timeout")
        .with_arg("500ms")
        .spawn()
        .await?;
    let to = address(&app)?;
    let mut silent = Vec::new();
    for _ in 0..200 {
        silent.push(TcpStream::connect(to).await?);
    }
    let mut half_sent = Vec::new();
    for _ in 0..100 {
        let mut stream = TcpStream::connect(to).await?;
        stream
            .write_all(b"GET /api/v1/health/live HTTP/1.1\r\nHost: x\r\n")
            .await?;
        half_sent.push(stream);
    }

    // Served meanwhile, on connections of their own.
    health_is_served(&app).await?;
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
    let app = TestApp::builder()
        .with_arg("--idle-timeout")
        .with_arg("1s")
        .with_arg("--ws-ping-every")
        .with_arg("200ms")
        .spawn()
        .await?;
    let mut stream = TcpStream::connect(address(&app)?).await?;
    stream
        .write_all(b"GET /api/v1/health/live HTTP/1.1\r\nHost: x\r\n\r\n")
        .await?;
    let mut first = [0u8; 12];
    stream.read_exact(&mut first).await?;
    assert_eq!(&first, b"HTTP/1.1 200");

    // Kept alive for the next request, then closed once idle for the timeout.
    read_to_close(&mut stream, Duration::from_secs(5)).await?;
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
