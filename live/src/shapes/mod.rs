//! Every JSON shape taskpulse sends, written once: the REST answers, the objects inside the
//! WebSocket messages (a snapshot's `stats` is exactly `GET /api/v1/dashboard/statistics`), and
//! next the MCP results and webhook bodies. serde writes them everywhere — the REST layer too —
//! so no two encoders can drift; with the `openapi` feature, poem-openapi describes the same
//! types in the OpenAPI document (their `///` lines become its text).
//!
//! Each shape is built from the engine's value with `From`, as the registry backend keeps its
//! `Encodable*` views apart from its models.

pub mod accounts;
pub mod audit;
pub mod dashboard;
#[cfg(feature = "openapi")]
pub mod examples;
pub mod health;
pub mod notifications;
pub mod problem;
pub mod tasks;
pub mod teams;
pub(crate) mod time;
pub mod tokens;
pub mod transfer;
pub mod trends;
pub mod values;
pub mod webhooks;
