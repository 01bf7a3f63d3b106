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

use std::collections::HashMap;
use std::io::{self, ErrorKind};
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use poem::Addr;
use poem::http::StatusCode;
use poem::http::uri::Scheme;
use poem::listener::Acceptor;
use poem::web::{LocalAddr, RemoteAddr};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::time::{Instant, Sleep};

use crate::error::Problem;

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
    let problem = Problem::new(StatusCode::SERVICE_UNAVAILABLE, "too_many_connections", why);
    let body = serde_json::to_string(&problem).unwrap_or_default();
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

/// An admitted connection: holds its place, and fails its reads once the first request head
/// is overdue (which closes it).
pub struct Limited<Io> {
    io: Io,
    _permit: Permit,
    head: Option<HeadDeadline>,
    /// A problem document being written in place of a bare error answer, and how many bytes
    /// of the caller's write it stands for.
    rewritten: Vec<u8>,
    stands_for: usize,
}

/// Until the first `\r\n\r\n`: when it is due, and the last bytes read (an end of head may
/// straddle two reads).
struct HeadDeadline {
    due: Pin<Box<Sleep>>,
    tail: [u8; 3],
}

impl<Io> Limited<Io> {
    fn new(io: Io, permit: Permit, head_timeout: Duration) -> Self {
        Self {
            io,
            _permit: permit,
            head: Some(HeadDeadline {
                due: Box::pin(tokio::time::sleep_until(Instant::now() + head_timeout)),
                tail: [0; 3],
            }),
            rewritten: Vec::new(),
            stands_for: 0,
        }
    }
}

impl HeadDeadline {
    /// Whether `read` completes the head.
    fn completed_by(&mut self, read: &[u8]) -> bool {
        let mut window = Vec::with_capacity(3 + read.len());
        window.extend_from_slice(&self.tail);
        window.extend_from_slice(read);
        if window.windows(4).any(|w| w == b"\r\n\r\n") {
            return true;
        }
        // The window always holds the 3 bytes of the previous tail.
        self.tail.copy_from_slice(&window[window.len() - 3..]);
        false
    }
}

impl<Io: AsyncRead + Unpin> AsyncRead for Limited<Io> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(head) = &mut this.head
            && head.due.as_mut().poll(cx).is_ready()
        {
            return Poll::Ready(Err(io::Error::new(
                ErrorKind::TimedOut,
                "no complete request head within the head timeout",
            )));
        }
        let filled_before = buf.filled().len();
        let polled = Pin::new(&mut this.io).poll_read(cx, buf);
        if let (Poll::Ready(Ok(())), Some(head)) = (&polled, &mut this.head)
            && head.completed_by(&buf.filled()[filled_before..])
        {
            this.head = None;
        }
        polled
    }
}

impl<Io: AsyncWrite + Unpin> AsyncWrite for Limited<Io> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.rewritten.is_empty()
            && let Some(problem) = problem_for_bare_error(data)
        {
            this.rewritten = problem;
            this.stands_for = data.len();
        }
        if this.rewritten.is_empty() {
            return Pin::new(&mut this.io).poll_write(cx, data);
        }
        while !this.rewritten.is_empty() {
            match Pin::new(&mut this.io).poll_write(cx, &this.rewritten) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => drop(this.rewritten.drain(..n)),
                Poll::Ready(Err(err)) => return Poll::Ready(Err(err)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(std::mem::take(&mut this.stands_for)))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    // No vectored writes: hyper then hands each answer's head over in one piece, which is
    // what finding a bare error answer needs (and its answers are small).
    fn is_write_vectored(&self) -> bool {
        false
    }
}

/// A problem document for an answer hyper made itself: a status of 400 or above with an empty
/// body (`content-length: 0`), and nothing else in the write. The application never sends
/// such an answer: every error it makes has a problem body.
fn problem_for_bare_error(data: &[u8]) -> Option<Vec<u8>> {
    // Cheap tests first: this sees every write of every connection.
    if !(data.starts_with(b"HTTP/1.1 4") || data.starts_with(b"HTTP/1.1 5"))
        || !data.ends_with(b"\r\n\r\n")
    {
        return None;
    }
    let head = std::str::from_utf8(&data[..data.len() - 4]).ok()?;
    if head.contains("\r\n\r\n") {
        return None; // a body follows the head
    }
    let status = StatusCode::from_bytes(head.get(9..12)?.as_bytes()).ok()?;
    let empty = head
        .lines()
        .any(|line| line.eq_ignore_ascii_case("content-length: 0"));
    if !empty {
        return None;
    }
    let (code, detail) = match status {
        StatusCode::URI_TOO_LONG => ("uri_too_long", "the request URI is too long"),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => (
            "headers_too_large",
            "the request's headers are too large or too many",
        ),
        StatusCode::REQUEST_TIMEOUT => ("request_timeout", "the request took too long to arrive"),
        StatusCode::HTTP_VERSION_NOT_SUPPORTED => (
            "http_version_not_supported",
            "this HTTP version is not supported",
        ),
        s if s.is_server_error() => ("internal_error", "the request could not be handled"),
        _ => ("malformed_request", "the request is not valid HTTP"),
    };
    let body = serde_json::to_string(&Problem::new(status, code, detail)).ok()?;
    Some(
        format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/problem+json\r\n\
             connection: close\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deadline() -> HeadDeadline {
        HeadDeadline {
            due: Box::pin(tokio::time::sleep(Duration::from_secs(60))),
            tail: [0; 3],
        }
    }

    #[tokio::test]
    async fn the_end_of_a_head_is_found_across_reads() {
        let mut head = deadline();
        assert!(!head.completed_by(b"GET / HTTP/1.1\r\nHost: x\r"));
        assert!(!head.completed_by(b"\n"));
        assert!(head.completed_by(b"\r\n"));

        let mut whole = deadline();
        assert!(whole.completed_by(b"GET / HTTP/1.1\r\n\r\n"));
        let mut split = deadline();
        for byte in b"GET / HTTP/1.1\r\n\r" {
            assert!(!split.completed_by(&[*byte]));
        }
        assert!(split.completed_by(b"\n"));
    }

    #[test]
    fn bare_error_answers_become_problem_documents_and_nothing_else_does() {
        let bare = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\
                     date: Tue, 01 Dec 2026 04:00:00 GMT\r\n\r\n";
        let rewritten = problem_for_bare_error(bare).map(String::from_utf8);
        let Some(Ok(rewritten)) = rewritten else {
            panic!("not rewritten");
        };
        assert!(rewritten.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
        assert!(rewritten.contains("content-type: application/problem+json"));
        assert!(
            rewritten.contains("\"code\":\"headers_too_large\""),
            "{rewritten}"
        );

        for untouched in [
            &b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"[..],
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 20\r\n\r\n{\"code\":\"not_found\"}",
            b"HTTP/1.1 204 No Content\r\n\r\n",
            b"\x81\x05hello",
        ] {
            assert!(problem_for_bare_error(untouched).is_none());
        }
    }

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
}
