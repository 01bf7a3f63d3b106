//! A TCP proxy in front of PostgreSQL that a test can cut and restore.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use std::time::Duration;

use anyhow::Context;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::common::poll_until;

/// Where the proxy forwards to: the test server's TCP address or its Unix socket.
#[derive(Debug, Clone)]
pub enum Upstream {
    Tcp(String),
    Unix(std::path::PathBuf),
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

impl Upstream {
    /// The server a PostgreSQL URL names.
    pub fn of(url: &str) -> anyhow::Result<Self> {
        let parsed = url::Url::parse(url)?;
        let port = parsed.port().unwrap_or(5432);
        let socket_dir = parsed
            .query_pairs()
            .find(|(key, value)| key == "host" && value.starts_with('/'))
            .map(|(_, value)| value.into_owned());
        Ok(match socket_dir {
            Some(dir) => {
                Upstream::Unix(std::path::Path::new(&dir).join(format!(".s.PGSQL.{port}")))
            }
            None => Upstream::Tcp(format!(
                "{}:{port}",
                parsed.host_str().context("the database URL has no host")?
            )),
        })
    }

    async fn connect(&self) -> std::io::Result<Box<dyn Stream>> {
        Ok(match self {
            Upstream::Tcp(address) => Box::new(TcpStream::connect(address).await?),
            Upstream::Unix(path) => Box::new(tokio::net::UnixStream::connect(path).await?),
        })
    }
}

/// A TCP proxy in front of PostgreSQL. [`Proxy::cut`] drops every live connection and
/// black-holes new ones (accepted, never answered) until [`Proxy::restore`].
pub struct Proxy {
    pub port: u16,
    cut: watch::Sender<bool>,
    live: Arc<AtomicUsize>,
    accept: JoinHandle<()>,
}

/// Counts a forwarded connection while it lives.
struct LiveGuard(Arc<AtomicUsize>);

impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Proxy {
    pub async fn start(upstream: Upstream) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let (cut, _) = watch::channel(false);
        let live = Arc::new(AtomicUsize::new(0));
        let accept = tokio::spawn(accept_loop(
            listener,
            upstream,
            cut.clone(),
            Arc::clone(&live),
        ));
        Ok(Self {
            port,
            cut,
            live,
            accept,
        })
    }

    /// Drops every live connection (waiting until they are gone) and black-holes new ones.
    pub async fn cut(&self) -> anyhow::Result<()> {
        self.cut.send_replace(true);
        poll_until(Duration::from_secs(5), || async {
            match self.live.load(Ordering::Acquire) {
                0 => Ok(Ok(())),
                n => Ok(Err(format!("{n} connections still forwarded"))),
            }
        })
        .await
    }

    /// Forwards new connections again (black-holed ones are closed).
    pub fn restore(&self) {
        self.cut.send_replace(false);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn accept_loop(
    listener: TcpListener,
    upstream: Upstream,
    cut: watch::Sender<bool>,
    live: Arc<AtomicUsize>,
) {
    while let Ok((mut client, _)) = listener.accept().await {
        let mut cut = cut.subscribe();
        if *cut.borrow_and_update() {
            // Black hole: hold the socket without a word until the database "returns".
            tokio::spawn(async move {
                let _ = cut.wait_for(|cut| !*cut).await;
                drop(client);
            });
            continue;
        }
        live.fetch_add(1, Ordering::AcqRel);
        let guard = LiveGuard(Arc::clone(&live));
        let upstream = upstream.clone();
        tokio::spawn(async move {
            let _guard = guard;
            let Ok(mut server) = upstream.connect().await else {
                return;
            };
            tokio::select! {
                biased;
                // Both ends are dropped: the server sees its connection break.
                _ = cut.wait_for(|cut| *cut) => {}
                _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
            }
        });
    }
}
