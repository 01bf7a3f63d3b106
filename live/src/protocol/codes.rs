//! The protocol's closed sets of codes (docs/websocket.md): what an `error` message says, why a
//! topic ended, and the close codes. Each is written in one place, its `as_str` or
//! `as_u16`; serde writes the same string.

use serde::{Serialize, Serializer};

/// The `code` of an `error` message: something the client asked for failed, the session stays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// The caller may not read the topic.
    Forbidden,
    /// Not a topic name (`user`, `team:<id>`, `feed:user`, `feed:team:<id>`).
    InvalidTopic,
    /// The session holds the most topics allowed.
    TooManyTopics,
    /// `unsubscribe` from a topic the session does not follow.
    NotSubscribed,
    /// A renewing `auth` with another user's token (the session keeps its own).
    UserMismatch,
    /// A renewing `auth` with an invalid or expired token (the session keeps its own).
    InvalidToken,
    /// Not a message of the protocol (bad JSON, an unknown type or field).
    MalformedMessage,
    /// A frame that is not text.
    UnsupportedFrame,
    /// `since` is not an entry id.
    InvalidSince,
    /// A well-formed value that breaks a rule (`tz`, `interval`, `from`).
    ValidationFailed,
    /// The engine or the database cannot answer now; try again.
    Unavailable,
}

impl ErrorCode {
    /// Every code, for documentation and its test.
    pub const ALL: [Self; 11] = [
        Self::Forbidden,
        Self::InvalidTopic,
        Self::TooManyTopics,
        Self::NotSubscribed,
        Self::UserMismatch,
        Self::InvalidToken,
        Self::MalformedMessage,
        Self::UnsupportedFrame,
        Self::InvalidSince,
        Self::ValidationFailed,
        Self::Unavailable,
    ];

    /// The code as the protocol writes it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Forbidden => "forbidden",
            Self::InvalidTopic => "invalid_topic",
            Self::TooManyTopics => "too_many_topics",
            Self::NotSubscribed => "not_subscribed",
            Self::UserMismatch => "user_mismatch",
            Self::InvalidToken => "invalid_token",
            Self::MalformedMessage => "malformed_message",
            Self::UnsupportedFrame => "unsupported_frame",
            Self::InvalidSince => "invalid_since",
            Self::ValidationFailed => "validation_failed",
            Self::Unavailable => "unavailable",
        }
    }
}

/// Why an `unsubscribed` message ended a topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnsubscribeReason {
    /// The client sent `unsubscribe`.
    Requested,
    /// The user left the team (or it was deleted) while subscribed.
    MembershipRevoked,
}

impl UnsubscribeReason {
    /// The reason as the protocol writes it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::MembershipRevoked => "membership_revoked",
        }
    }
}

/// The close codes a session ends with (docs/websocket.md, "Close codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseCode {
    /// The token is missing, invalid or expired, or its session or account ended.
    Unauthenticated,
    /// A message above [`super::MAX_MESSAGE_BYTES`].
    TooBig,
    /// The peer went silent, or the server shuts down.
    GoingAway,
    /// Policy violation (too many sessions for one user).
    Policy,
    /// Try again later (IANA-registered): the session cannot be set up right now.
    TryAgain,
}

impl CloseCode {
    /// Every code, for documentation and its test.
    pub const ALL: [Self; 5] = [
        Self::Unauthenticated,
        Self::TooBig,
        Self::GoingAway,
        Self::Policy,
        Self::TryAgain,
    ];

    /// The code in the close frame.
    pub const fn as_u16(self) -> u16 {
        match self {
            Self::Unauthenticated => 4401,
            Self::TooBig => 1009,
            Self::GoingAway => 1001,
            Self::Policy => 1008,
            Self::TryAgain => 1013,
        }
    }
}

macro_rules! serialize_as_str {
    ($($code:ty),+) => {$(
        impl Serialize for $code {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
    )+};
}

serialize_as_str!(ErrorCode, UnsubscribeReason);
