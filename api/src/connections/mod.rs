//! Connection limits, below HTTP: no client can hold the server's sockets. Each connection
//! must deliver its first request head within the head timeout (a silent or half-sent head is
//! closed), one client IP may hold only so many connections at once and the whole server only
//! so many (kept below the file-descriptor limit, so accepting never fails); the excess is
//! answered `503 too_many_connections` and closed at once. Idle keep-alive connections are
//! poem's idle timeout's business (`poem::Server::idle_timeout`).
//!
//! Requests hyper refuses itself (a URI or a head too long, too many headers, a malformed
//! request line) never reach the application, and hyper answers them with an empty body: the
//! connection turns those answers into problem documents on their way out.

mod bare_errors;
mod limited;
mod no_delay;

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use poem::Addr;
use poem::http::StatusCode;
use poem::http::uri::Scheme;
use poem::listener::Acceptor;
use poem::web::{LocalAddr, RemoteAddr};
use tokio::io::{AsyncWrite, AsyncWriteExt};

pub use limited::Limited;
pub use no_delay::NoDelay;

use crate::error::Problem;
use taskpulse_live::shapes::problem::ProblemCode;

/// How many connections the server holds and how long a request head may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Connections one client IP may hold at once.
    pub per_ip: usize,
    /// Connections the server holds at once.
    pub total: usize,
    /// How long a new connection may take to deliver its first request head.
    pub head_timeout: Duration,
}

/// Wraps an acceptor with [`ConnectionLimits`].
pub struct LimitedAcceptor<A> {
    inner: A,
    limits: ConnectionLimits,
    open: Arc<OpenConnections>,
}

impl<A> LimitedAcceptor<A> {
    /// `inner`, limited.
    pub fn new(inner: A, limits: ConnectionLimits) -> Self {
        Self {
            inner,
            limits,
            open: Arc::default(),
        }
    }

    /// How full this acceptor is, for the health report.
    pub fn gauge(&self) -> ConnectionGauge {
        ConnectionGauge {
            open: Arc::clone(&self.open),
            ceiling: self.limits.total,
        }
    }
}

/// The connections a [`LimitedAcceptor`] holds now and the most it admits: what a node can
/// still take (every WebSocket session holds one).
#[derive(Clone)]
pub struct ConnectionGauge {
    open: Arc<OpenConnections>,
    ceiling: usize,
}

impl ConnectionGauge {
    /// Connections open now: WebSocket sessions, keep-alive HTTP connections and any not yet
    /// past their first request.
    pub fn open(&self) -> usize {
        (self.open.0.lock())
            .unwrap_or_else(PoisonError::into_inner)
            .total
    }

    /// The most connections held at once (`--max-connections`, by default what the open-file
    /// limit leaves room for); any more are answered 503.
    pub fn ceiling(&self) -> usize {
        self.ceiling
    }
}

impl<A: Acceptor> Acceptor for LimitedAcceptor<A> {
    type Io = Limited<A::Io>;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.inner.local_addr()
    }

    async fn accept(&mut self) -> io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        loop {
            let (io, local, remote, scheme) = match self.inner.accept().await {
                Ok(accepted) => accepted,
                // Out of descriptors despite the cap (other files, another process): wait for
                // some to be freed rather than spin on a listener that stays readable.
                Err(err) if is_resource_exhaustion(&err) => {
                    tracing::warn!(error = %err, "cannot accept a connection; waiting");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
                Err(err) => return Err(err),
            };
            let ip = match &remote.0 {
                Addr::SocketAddr(addr) => Some(addr.ip()),
                _ => None,
            };
            match self.open.admit(ip, &self.limits) {
                Ok(permit) => {
                    let io = Limited::new(io, permit, self.limits.head_timeout);
                    return Ok((io, local, remote, scheme));
                }
                Err(why) => {
                    tracing::debug!(?ip, why, "connection refused");
                    tokio::spawn(refuse(io, why));
                }
            }
        }
    }
}

fn is_resource_exhaustion(err: &io::Error) -> bool {
    // EMFILE and ENFILE (too many open files, per process and per system), ENOBUFS, ENOMEM.
    matches!(err.raw_os_error(), Some(23 | 24 | 105 | 12))
}

/// Answers a connection over a limit with a problem document and closes it.
async fn refuse<Io: AsyncWrite + Unpin>(mut io: Io, why: &'static str) {
    let problem = Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        ProblemCode::TooManyConnections,
        why,
    );
    let body = problem.into_body();
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\n\
         retry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let answer = async {
        io.write_all(response.as_bytes()).await?;
        io.shutdown().await
    };
    // A client that does not even read its refusal gets no more of our time.
    let _ = tokio::time::timeout(Duration::from_secs(1), answer).await;
}

/// The connections open now, in total and per client IP.
#[derive(Default)]
struct OpenConnections(Mutex<Counts>);

#[derive(Default)]
struct Counts {
    total: usize,
    per_ip: HashMap<IpAddr, usize>,
}

impl OpenConnections {
    fn admit(
        self: &Arc<Self>,
        ip: Option<IpAddr>,
        limits: &ConnectionLimits,
    ) -> Result<Permit, &'static str> {
        let mut counts = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if counts.total >= limits.total {
            return Err("the server holds as many connections as it may; try again shortly");
        }
        if let Some(ip) = ip {
            let held = counts.per_ip.entry(ip).or_default();
            if *held >= limits.per_ip {
                return Err("this client holds as many connections as it may; close some first");
            }
            *held += 1;
        }
        counts.total += 1;
        Ok(Permit {
            open: Arc::clone(self),
            ip,
        })
    }
}

/// One admitted connection; dropping it frees its place.
pub struct Permit {
    open: Arc<OpenConnections>,
    ip: Option<IpAddr>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut counts = (self.open.0.lock()).unwrap_or_else(PoisonError::into_inner);
        counts.total = counts.total.saturating_sub(1);
        if let Some(ip) = self.ip
            && let Some(held) = counts.per_ip.get_mut(&ip)
        {
            *held -= 1;
            if *held == 0 {
                counts.per_ip.remove(&ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_counted_per_ip_and_in_total_and_freed_on_drop() {
        let open = Arc::new(OpenConnections::default());
        let limits = ConnectionLimits {
            per_ip: 2,
            total: 3,
            head_timeout: Duration::from_secs(1),
        };
        let (a, b): (IpAddr, IpAddr) = ([127, 0, 0, 1].into(), [127, 0, 0, 2].into());
        let first = open.admit(Some(a), &limits);
        let second = open.admit(Some(a), &limits);
        assert!(first.is_ok() && second.is_ok());
        assert!(open.admit(Some(a), &limits).is_err(), "per IP");
        let third = open.admit(Some(b), &limits);
        assert!(third.is_ok());
        assert!(open.admit(Some(b), &limits).is_err(), "in total");
        drop(first);
        assert!(open.admit(Some(a), &limits).is_ok(), "freed");
    }

    #[test]
    fn the_gauge_reads_the_connections_open_and_the_ceiling() {
        let limits = ConnectionLimits {
            per_ip: 8,
            total: 5,
            head_timeout: Duration::from_secs(1),
        };
        let acceptor = LimitedAcceptor::new((), limits.clone());
        let gauge = acceptor.gauge();
        let ip: IpAddr = [127, 0, 0, 1].into();

        let first = acceptor.open.admit(Some(ip), &limits);
        let second = acceptor.open.admit(None, &limits);
        let both = gauge.open();
        drop(first);

        assert!(second.is_ok());
        assert_eq!(both, 2);
        assert_eq!(gauge.open(), 1);
        assert_eq!(gauge.ceiling(), 5);
    }
}
