#![doc = include_str!("../README.md")]

pub mod protocol;
pub mod shapes;

pub use protocol::{
    AuthError, Authenticate, CloseCode, Identity, Incoming, LiveHub, LiveSettings,
    MAX_MESSAGE_BYTES, Outgoing, origin_allowed,
};
