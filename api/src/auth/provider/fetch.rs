//! One GET of a small JSON document over https (or plain http to a loopback address), on
//! hyper with rustls over ring. Its own client rather than reqwest's: the key fetches are rare
//! and small, and reqwest with TLS in the build would want a process-wide crypto provider for
//! every client of the process, tests and load generator included.

use std::time::Duration;

use http_body_util::{BodyExt, Empty, Limited};
use hyper::Request;
use hyper::body::Bytes;
use hyper::header::{ACCEPT, HOST};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use url::{Host, Position, Url};

/// How long one fetch may take, connection included.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest document read.
const MAX_DOCUMENT_BYTES: usize = 1 << 20;

/// Fetches documents; certificates are checked against the system's roots.
pub(super) struct Fetcher {
    tls: TlsConnector,
}

impl Fetcher {
    pub(super) fn new() -> Result<Self, String> {
        Ok(Self {
            tls: crate::tls_client::connector()?,
        })
    }

    /// The body of a 2xx answer to `GET url` (redirects are not followed: the provider's
    /// URLs are taken as configured, so https never turns into http).
    pub(super) async fn get(&self, url: &Url) -> Result<Bytes, String> {
        tokio::time::timeout(FETCH_TIMEOUT, self.get_within(url))
            .await
            .map_err(|_| format!("GET {url}: no answer within {FETCH_TIMEOUT:?}"))?
            .map_err(|err| format!("GET {url}: {err}"))
    }

    async fn get_within(&self, url: &Url) -> Result<Bytes, String> {
        let host = match url.host() {
            Some(Host::Domain(name)) => name.to_owned(),
            Some(Host::Ipv4(ip)) => ip.to_string(),
            Some(Host::Ipv6(ip)) => ip.to_string(),
            None => return Err("the URL has no host".to_owned()),
        };
        let port = url.port_or_known_default().ok_or("the URL has no port")?;
        let request = Request::get(&url[Position::BeforePath..Position::AfterQuery])
            .header(HOST, &url[Position::BeforeHost..Position::AfterPort])
            .header(ACCEPT, "application/json")
            .body(Empty::<Bytes>::new())
            .map_err(|err| err.to_string())?;
        let tcp = TcpStream::connect((host.as_str(), port))
            .await
            .map_err(|err| err.to_string())?;
        match url.scheme() {
            "https" => {
                let name = ServerName::try_from(host).map_err(|err| err.to_string())?;
                let tls = self
                    .tls
                    .connect(name, tcp)
                    .await
                    .map_err(|err| err.to_string())?;
                send(tls, request).await
            }
            "http" => send(tcp, request).await,
            other => Err(format!("unsupported scheme {other}")),
        }
    }
}

async fn send<S>(stream: S, request: Request<Empty<Bytes>>) -> Result<Bytes, String>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|err| err.to_string())?;
    let driver = tokio::spawn(connection);
    let answer = async {
        let response = sender
            .send_request(request)
            .await
            .map_err(|err| err.to_string())?;
        if !response.status().is_success() {
            return Err(format!("answered {}", response.status()));
        }
        Limited::new(response.into_body(), MAX_DOCUMENT_BYTES)
            .collect()
            .await
            .map(|body| body.to_bytes())
            .map_err(|err| format!("reading the body: {err} (at most 1 MiB is read)"))
    }
    .await;
    driver.abort();
    answer
}
