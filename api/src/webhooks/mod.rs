//! Webhooks over HTTP (docs/webhooks.md): which URLs may be called (`destination`), signing
//! as Standard Webhooks sign (`signature`), one connection pinned to a checked address
//! (`sender`), and this node's sender of the engine's outbox (`worker`).

pub(crate) mod destination;
pub(crate) mod sender;
pub(crate) mod signature;
mod worker;

pub use destination::DestinationPolicy;
pub use worker::{MOST_CONNECTIONS, spawn_sender};

/// What the webhook routes and the sender are allowed.
#[derive(Debug, Clone, Copy, Default)]
pub struct WebhookSettings {
    /// Which URLs webhooks may be given and called.
    pub policy: DestinationPolicy,
}
