//! Tests of `sender.rs`.
use std::net::SocketAddr;
use std::time::Instant;

use anyhow::Context;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use super::*;

/// How long a test waits for what should come at once.
const PATIENCE: Duration = Duration::from_secs(10);

/// One request as the test server read it.
#[derive(Debug)]
struct Received {
    request_line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Reads one HTTP/1.1 request with a Content-Length body (minimal HTTP, by hand); `None`
/// at the end of the stream.
async fn read_request(stream: &mut BufReader<TcpStream>) -> Option<Received> {
    let mut request_line = String::new();
    if stream.read_line(&mut request_line).await.ok()? == 0 {
        return None;
    }
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        stream.read_line(&mut line).await.ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let length = match headers.iter().find(|(name, _)| name == "content-length") {
        Some((_, value)) => value.parse().ok()?,
        None => 0,
    };
    let mut body = vec![0; length];
    stream.read_exact(&mut body).await.ok()?;
    Some(Received {
        request_line: request_line.trim_end().to_owned(),
        headers,
        body,
    })
}

/// A server on 127.0.0.1 that accepts ONE connection and answers each request on it with
/// `answer` (raw bytes; `None`: never answer); it returns what it read once the client
/// has gone.
async fn serve_one_connection(
    answer: impl Fn(&Received) -> Option<Vec<u8>> + Send + 'static,
) -> anyhow::Result<(SocketAddr, JoinHandle<anyhow::Result<Vec<Received>>>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await?;
        let mut stream = BufReader::new(stream);
        let mut received = Vec::new();
        while let Some(request) = read_request(&mut stream).await {
            let reply = answer(&request);
            received.push(request);
            let Some(bytes) = reply else {
                std::future::pending::<()>().await;
                break;
            };
            // The client may stop reading a huge answer: that is the point.
            if stream.get_mut().write_all(&bytes).await.is_err() {
                break;
            }
        }
        Ok::<_, anyhow::Error>(received)
    });
    Ok((address, server))
}

fn destination(address: SocketAddr, path: &str) -> anyhow::Result<Destination> {
    Ok(Destination {
        url: Url::parse(&format!("http://{address}{path}"))?,
        addresses: vec![address],
    })
}

fn no_content(_: &Received) -> Option<Vec<u8>> {
    Some(b"HTTP/1.1 204 No Content\r\n\r\n".to_vec())
}

async fn connect(destination: &Destination) -> anyhow::Result<Connection> {
    let sender = Sender::new().map_err(anyhow::Error::msg)?;
    Ok(sender.connect(destination, PATIENCE).await?)
}

#[tokio::test]
async fn several_posts_share_one_kept_alive_connection() -> anyhow::Result<()> {
    let (address, server) = serve_one_connection(no_content).await?;
    let destination = destination(address, "/hooks/in?team=7")?;
    let mut connection = connect(&destination).await?;

    let mut statuses = Vec::new();
    for n in 0..3 {
        let headers = [("webhook-id", format!("msg_{n}"))];
        let body = Bytes::from(format!(r#"{{"n":{n}}}"#));
        statuses.push(
            connection
                .post(&destination.url, &headers, body, PATIENCE)
                .await?,
        );
    }
    let ready = connection.is_ready();
    drop(connection);
    let received = server.await??;

    assert_eq!(statuses, [204, 204, 204]);
    assert!(ready);
    assert_eq!(received.len(), 3);
    let host = address.to_string();
    for (n, request) in received.iter().enumerate() {
        assert_eq!(request.request_line, "POST /hooks/in?team=7 HTTP/1.1");
        assert_eq!(request.header("host"), Some(host.as_str()));
        assert_eq!(request.header("content-type"), Some("application/json"));
        assert_eq!(request.header("user-agent"), Some("taskpulse-webhooks"));
        assert_eq!(
            request.header("webhook-id"),
            Some(format!("msg_{n}").as_str())
        );
        assert_eq!(request.body, format!(r#"{{"n":{n}}}"#).into_bytes());
    }
    Ok(())
}

#[tokio::test]
async fn a_receiver_that_never_answers_times_out() -> anyhow::Result<()> {
    let (address, _server) = serve_one_connection(|_| None).await?;
    let destination = destination(address, "/")?;
    let mut connection = connect(&destination).await?;
    let started = Instant::now();

    let outcome = connection
        .post(
            &destination.url,
            &[],
            Bytes::from_static(b"{}"),
            Duration::from_millis(200),
        )
        .await;

    assert!(matches!(outcome, Err(SendError::Timeout)), "{outcome:?}");
    assert!(started.elapsed() < PATIENCE);
    assert!(!connection.is_ready());
    Ok(())
}

#[tokio::test]
async fn a_huge_answer_gives_its_status_and_ends_the_connection() -> anyhow::Result<()> {
    const HUGE: usize = 10 << 20;
    let with_length = {
        let mut answer = format!("HTTP/1.1 200 OK\r\nContent-Length: {HUGE}\r\n\r\n").into_bytes();
        answer.resize(answer.len() + HUGE, b'x');
        answer
    };
    let chunked = {
        let mut answer = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        let chunk = vec![b'x'; 1 << 16];
        for _ in 0..HUGE / chunk.len() {
            answer.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            answer.extend_from_slice(&chunk);
            answer.extend_from_slice(b"\r\n");
        }
        answer.extend_from_slice(b"0\r\n\r\n");
        answer
    };
    let framings = [("with a length", with_length), ("chunked", chunked)];
    for (framing, answer) in framings {
        let (address, _server) = serve_one_connection(move |_| Some(answer.clone())).await?;
        let destination = destination(address, "/")?;
        let mut connection = connect(&destination).await?;

        let status = connection
            .post(&destination.url, &[], Bytes::from_static(b"{}"), PATIENCE)
            .await
            .with_context(|| framing.to_owned())?;

        assert_eq!(status, 200, "{framing}");
        assert!(!connection.is_ready(), "{framing}");
    }
    Ok(())
}

#[tokio::test]
async fn a_redirect_is_a_status_not_followed() -> anyhow::Result<()> {
    let (address, server) = serve_one_connection(|_| {
        Some(
            b"HTTP/1.1 307 Temporary Redirect\r\nLocation: http://169.254.169.254/\r\n\
              Content-Length: 0\r\n\r\n"
                .to_vec(),
        )
    })
    .await?;
    let destination = destination(address, "/")?;
    let mut connection = connect(&destination).await?;

    let status = connection
        .post(&destination.url, &[], Bytes::from_static(b"{}"), PATIENCE)
        .await?;
    drop(connection);

    assert_eq!(status, 307);
    assert_eq!(server.await??.len(), 1);
    Ok(())
}

#[tokio::test]
async fn connect_goes_on_to_the_next_address_when_one_refuses() -> anyhow::Result<()> {
    let closed = TcpListener::bind("127.0.0.1:0").await?.local_addr()?;
    let (address, _server) = serve_one_connection(no_content).await?;
    let mut destination = destination(address, "/")?;
    destination.addresses = vec![closed, address];

    let mut connection = connect(&destination).await?;
    let status = connection
        .post(&destination.url, &[], Bytes::from_static(b"{}"), PATIENCE)
        .await?;
    destination.addresses = vec![closed];
    let refused = connect(&destination).await.err();

    assert_eq!(status, 204);
    assert!(
        matches!(
            refused
                .as_ref()
                .and_then(|err| err.downcast_ref::<SendError>()),
            Some(SendError::Connect(_))
        ),
        "{refused:?}"
    );
    Ok(())
}
