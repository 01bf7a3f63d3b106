//! An admitted connection's IO: it holds the connection's place, closes it when its first
//! request head is overdue, and writes problem documents in place of hyper's bare errors.

use std::io::{self, ErrorKind};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

use super::Permit;
use super::bare_errors::problem_for_bare_error;

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
    pub(super) fn new(io: Io, permit: Permit, head_timeout: Duration) -> Self {
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
}
