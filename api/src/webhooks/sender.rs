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
#[path = "sender_tests.rs"]
mod tests;
