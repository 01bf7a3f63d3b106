#![doc = include_str!("../README.md")]

pub mod protocol;
pub mod shapes;

pub use protocol::{
    ANSWER_BUCKETS, AnswerTimes, AuthError, Authenticate, CloseCode, ErrorCode, Identity, Incoming,
    LiveHub, LiveSettings, MAX_MESSAGE_BYTES, Outgoing, UnsubscribeReason, origin_allowed,
};
