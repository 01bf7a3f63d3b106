//! POSTs deliveries over one connection to a checked address: plain hyper (HTTP/1.1) with
//! rustls on ring, the stack of the identity provider's key fetcher (`auth/provider/fetch.rs`).
//!
//! The connection goes to an address [`super::destination::resolve`] has checked, never to a
//! fresh DNS answer, and TLS is given the URL's host name, so the certificate is still checked
//! against the name the webhook was registered with.

use std::net::SocketAddr;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::body::{Body, Bytes};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{CONTENT_TYPE, HOST, HeaderName, HeaderValue, USER_AGENT};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio_rustls::TlsConnector;
use url::{Position, Url};

use super::destination::Destination;

/// The most of an answer's body that is read (and thrown away); past it the connection ends.
const MAX_ANSWER_BYTES: u64 = 64 * 1024;
/// What the requests say they are.
const USER_AGENT_VALUE: &str = "taskpulse-webhooks";

/// Why a delivery got no status code.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SendError {
    /// No TCP connection to any of the destination's addresses.
    #[error("cannot connect: {0}")]
    Connect(String),
    /// The TLS handshake failed (a certificate that does not fit the name, among others).
    #[error("TLS handshake failed: {0}")]
    Tls(String),
    /// No answer within the time allowed.
    #[error("no answer in time")]
    Timeout,
    /// The HTTP exchange failed: a closed connection, a malformed answer, a bad header value.
    #[error("HTTP exchange failed: {0}")]
    Http(String),
}

/// Opens connections to webhook destinations; certificates are checked against the system's
/// roots.
pub(crate) struct Sender {
    tls: TlsConnector,
}

impl Sender {
    pub(crate) fn new() -> Result<Self, String> {
        Ok(Self {
            tls: crate::tls_client::connector()?,
        })
    }

    /// One connection: TCP to the destination's first reachable address (never a fresh DNS
    /// lookup — so a DNS answer that changes after the check cannot aim it inside), TLS with
    /// the URL's host name for https. Bounded by `timeout`.
    pub(crate) async fn connect(
        &self,
        destination: &Destination,
        timeout: Duration,
    ) -> Result<Connection, SendError> {
        tokio::time::timeout(timeout, self.connect_within(destination))
            .await
            .map_err(|_| SendError::Timeout)?
    }

    async fn connect_within(&self, destination: &Destination) -> Result<Connection, SendError> {
        let tcp = connect_tcp(destination).await?;
        let _ = tcp.set_nodelay(true);
        let peer = tcp
            .peer_addr()
            .map_err(|err| SendError::Connect(err.to_string()))?;
        match destination.url.scheme() {
            "https" => {
                let host = destination
                    .url
                    .host_str()
                    .ok_or_else(|| SendError::Tls("the URL has no host".to_owned()))?;
                let name = ServerName::try_from(host.trim_matches(['[', ']']).to_owned())
                    .map_err(|err| SendError::Tls(err.to_string()))?;
                let tls = self
                    .tls
                    .connect(name, tcp)
                    .await
                    .map_err(|err| SendError::Tls(err.to_string()))?;
                Connection::over(tls, peer).await
            }
            "http" => Connection::over(tcp, peer).await,
            other => Err(SendError::Connect(format!("unsupported scheme {other}"))),
        }
    }
}

/// A TCP connection to the first address that accepts one, in the resolver's order.
async fn connect_tcp(destination: &Destination) -> Result<TcpStream, SendError> {
    let mut failures = Vec::new();
    for address in &destination.addresses {
        match TcpStream::connect(address).await {
            Ok(stream) => return Ok(stream),
            Err(err) => failures.push(format!("{address}: {err}")),
        }
    }
    if failures.is_empty() {
        return Err(SendError::Connect("no address to connect to".to_owned()));
    }
    Err(SendError::Connect(failures.join("; ")))
}

/// One HTTP/1.1 connection to a destination, kept alive between deliveries.
pub(crate) struct Connection {
    requests: SendRequest<Full<Bytes>>,
    /// The task driving the connection's I/O; aborted when the connection is dropped.
    driver: JoinHandle<()>,
    /// Set once an exchange failed, timed out or left an answer unread: never used again.
    spent: bool,
    /// The address it is connected to.
    peer: SocketAddr,
}

impl Connection {
    async fn over<S>(stream: S, peer: SocketAddr) -> Result<Self, SendError>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let (requests, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|err| SendError::Http(err.to_string()))?;
        let driver = tokio::spawn(async move {
            // Its errors reach the request that is waiting on it.
            let _ = connection.await;
        });
        Ok(Self {
            requests,
            driver,
            spent: false,
            peer,
        })
    }

    /// POSTs `body` as application/json to the URL's path and query with the given headers
    /// (plus Host, Content-Type, User-Agent "taskpulse-webhooks"); answers the status code.
    /// The answer's body is read and discarded up to 64 KiB; a larger body ends the
    /// connection (so a receiver that answers hugely costs nothing). The whole exchange is
    /// bounded by `timeout`: no answer in time → [`SendError::Timeout`]. Redirects are not
    /// followed (a 3xx is just a status).
    pub(crate) async fn post(
        &mut self,
        url: &Url,
        headers: &[(&'static str, String)],
        body: Bytes,
        timeout: Duration,
    ) -> Result<u16, SendError> {
        if self.spent {
            return Err(SendError::Http("the connection was given up".to_owned()));
        }
        let request = build_request(url, headers, body)?;
        let exchange = tokio::time::timeout(timeout, self.exchange(request)).await;
        let answer = match exchange {
            Ok(Ok((status, whole_answer_read))) => {
                if !whole_answer_read {
                    self.give_up();
                }
                return Ok(status);
            }
            Ok(Err(err)) => err,
            Err(_) => SendError::Timeout,
        };
        self.give_up();
        Err(answer)
    }

    /// Whether it can carry another request (keep-alive, not closed, no error).
    pub(crate) fn is_ready(&self) -> bool {
        !self.spent && !self.driver.is_finished() && !self.requests.is_closed()
    }

    /// Whether it may carry a delivery to `destination`: ready, and connected to one of the
    /// addresses the destination was just checked and found to have.
    pub(crate) fn serves(&self, destination: &Destination) -> bool {
        self.is_ready() && destination.addresses.contains(&self.peer)
    }

    /// The status, and whether the whole answer was read (so the connection can go on).
    async fn exchange(&mut self, request: Request<Full<Bytes>>) -> Result<(u16, bool), SendError> {
        self.requests
            .ready()
            .await
            .map_err(|err| SendError::Http(err.to_string()))?;
        let response = self
            .requests
            .send_request(request)
            .await
            .map_err(|err| SendError::Http(err.to_string()))?;
        let status = response.status().as_u16();
        let mut answer = response.into_body();
        if answer.size_hint().lower() > MAX_ANSWER_BYTES {
            return Ok((status, false));
        }
        let mut read: u64 = 0;
        while let Some(frame) = answer.frame().await {
            let Ok(frame) = frame else {
                // The status came; what follows it does not change the delivery's outcome.
                return Ok((status, false));
            };
            if let Some(data) = frame.data_ref() {
                read += data.len() as u64;
                if read > MAX_ANSWER_BYTES {
                    return Ok((status, false));
                }
            }
        }
        Ok((status, true))
    }

    fn give_up(&mut self) {
        self.spent = true;
        self.driver.abort();
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

fn build_request(
    url: &Url,
    headers: &[(&'static str, String)],
    body: Bytes,
) -> Result<Request<Full<Bytes>>, SendError> {
    let mut request = Request::post(&url[Position::BeforePath..Position::AfterQuery])
        .header(HOST, &url[Position::BeforeHost..Position::AfterPort])
        .header(CONTENT_TYPE, "application/json")
        .header(USER_AGENT, USER_AGENT_VALUE)
        .body(Full::new(body))
        .map_err(|err| SendError::Http(err.to_string()))?;
    for (name, value) in headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|err| SendError::Http(format!("header name {name}: {err}")))?;
        let value = HeaderValue::from_str(value)
            .map_err(|err| SendError::Http(format!("header {name}: {err}")))?;
        request.headers_mut().insert(name, value);
    }
    Ok(request)
}

#[cfg(test)]
mod tests {
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
            let mut answer =
                format!("HTTP/1.1 200 OK\r\nContent-Length: {HUGE}\r\n\r\n").into_bytes();
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
}
