//! Nagle's algorithm off on every accepted connection. A WebSocket session writes small frames
//! in quick succession (a delta per change); with Nagle on, a frame written while the previous
//! one waits for its acknowledgement is held until the client's delayed ACK comes, up to 40 ms
//! on Linux — the cross-node tail of BENCHMARKS.md, "Cross-node latency". Every frame and
//! response here is written whole, so nothing is gained by coalescing.

use std::io;

use poem::http::uri::Scheme;
use poem::listener::{Acceptor, TcpAcceptor};
use poem::web::{LocalAddr, RemoteAddr};
use tokio::net::TcpStream;

/// poem's TCP acceptor, with `TCP_NODELAY` on each connection it accepts.
pub struct NoDelay(pub TcpAcceptor);

impl Acceptor for NoDelay {
    type Io = TcpStream;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.0.local_addr()
    }

    async fn accept(&mut self) -> io::Result<(TcpStream, LocalAddr, RemoteAddr, Scheme)> {
        let accepted = self.0.accept().await?;
        if let Err(err) = accepted.0.set_nodelay(true) {
            // The connection still works, only with Nagle's delays.
            tracing::debug!(error = %err, "cannot turn Nagle's algorithm off");
        }
        Ok(accepted)
    }
}
