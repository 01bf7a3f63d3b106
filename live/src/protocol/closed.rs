//! Why WebSocket sessions ended, counted for `/metrics`
//! (`taskpulse_ws_sessions_closed_total{reason}`): operators tell a client bug (many
//! `unauthenticated`), slow or vanished networks (`silent`, `error`) and deploys (`shutdown`)
//! apart.

use std::sync::atomic::{AtomicU64, Ordering};

use super::CloseCode;

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CloseReason {
    /// The client closed it or went away.
    Client,
    /// No valid token in time, a bad one, or it expired (4401).
    Unauthenticated,
    /// The client stopped answering pings (1001).
    Silent,
    /// A message above the limit (1009).
    TooBig,
    /// Too many sessions for one user (1008).
    Policy,
    /// The server shut down (1001).
    Shutdown,
    /// The connection failed.
    Error,
}

impl CloseReason {
    const ALL: [CloseReason; 7] = [
        Self::Client,
        Self::Unauthenticated,
        Self::Silent,
        Self::TooBig,
        Self::Policy,
        Self::Shutdown,
        Self::Error,
    ];

    /// The reason a close frame sent by the session (not by shutdown) stands for.
    pub fn of_code(code: CloseCode) -> Self {
        match code {
            CloseCode::Unauthenticated => Self::Unauthenticated,
            CloseCode::GoingAway => Self::Silent,
            CloseCode::TooBig => Self::TooBig,
            CloseCode::Policy => Self::Policy,
            CloseCode::TryAgain => Self::Error,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Client => "client",
            Self::Unauthenticated => "unauthenticated",
            Self::Silent => "silent",
            Self::TooBig => "too_big",
            Self::Policy => "policy",
            Self::Shutdown => "shutdown",
            Self::Error => "error",
        }
    }
}

/// Sessions ended since start, by reason.
#[derive(Debug, Default)]
pub(super) struct ClosedSessions {
    counts: [AtomicU64; CloseReason::ALL.len()],
}

impl ClosedSessions {
    pub fn count(&self, reason: CloseReason) {
        if let Some(at) = CloseReason::ALL.iter().position(|r| *r == reason) {
            self.counts[at].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// (reason label, sessions), every reason included.
    pub fn read(&self) -> Vec<(&'static str, u64)> {
        (CloseReason::ALL.iter().zip(&self.counts))
            .map(|(reason, count)| (reason.label(), count.load(Ordering::Relaxed)))
            .collect()
    }
}
