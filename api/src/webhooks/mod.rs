//! Webhook delivery's parts: where a webhook may point, the connection that carries its
//! deliveries, and their Standard Webhooks signature.

pub(crate) mod destination;
pub(crate) mod sender;
pub(crate) mod signature;
