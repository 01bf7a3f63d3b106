//! The answers of the liveness and readiness probes (their bodies are
//! `taskpulse_live::shapes::health`).

use poem_openapi::ApiResponse;
use taskpulse_live::shapes::health::{Liveness, NotReady, Readiness, ReadinessStatus};

use crate::wire::Wire;

#[derive(ApiResponse)]
pub enum LivenessResponse {
    /// The process serves requests.
    #[oai(status = 200)]
    Alive(Wire<Liveness>),
}

#[derive(ApiResponse)]
pub enum ReadinessResponse {
    /// Ready: the database and the engine answer, and the server is not shutting down.
    #[oai(status = 200)]
    Ready(Wire<Readiness>),
    /// Not ready: `not_ready` says what (the database, the engine, or the server shutting down).
    #[oai(status = 503)]
    NotReady(Wire<Readiness>),
}

impl ReadinessResponse {
    /// The 503 answer for these reasons.
    pub fn not_ready(not_ready: Vec<NotReady>) -> Self {
        Self::NotReady(Wire(Readiness {
            status: ReadinessStatus::NotReady,
            not_ready,
        }))
    }
}
