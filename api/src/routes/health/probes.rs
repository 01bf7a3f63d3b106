//! The bodies of the liveness and readiness probes.

use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object};

/// The only thing a live process says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Enum)]
#[oai(rename_all = "snake_case")]
pub enum LivenessStatus {
    /// The process serves requests.
    #[default]
    Alive,
}

/// The process answers.
#[derive(Debug, Default, Object)]
#[oai(example)]
pub struct Liveness {
    /// Always `alive`: an answer at all is the signal.
    pub status: LivenessStatus,
}

impl poem_openapi::types::Example for Liveness {
    fn example() -> Self {
        Self::default()
    }
}

#[derive(ApiResponse)]
pub enum LivenessResponse {
    /// The process serves requests.
    #[oai(status = 200)]
    Alive(Json<Liveness>),
}

/// Whether the node should receive traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum ReadinessStatus {
    /// Send traffic here.
    Ready,
    /// Send traffic elsewhere until this answers `ready` again.
    NotReady,
}

/// What readiness depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum ReadinessComponent {
    /// The database: a real round trip (`SELECT 1`).
    Database,
    /// The engine: its supervisor answers a ping.
    Engine,
    /// The server itself: not ready once it begins to shut down.
    Server,
}

/// One reason the node is not ready.
#[derive(Debug, Object)]
pub struct NotReady {
    /// What is not ready.
    pub component: ReadinessComponent,
    /// Why, in a sentence for the operator.
    pub detail: String,
}

/// Whether the node should receive traffic, and if not, why.
#[derive(Debug, Object)]
#[oai(example)]
pub struct Readiness {
    /// `ready` when the database and the engine are usable and the server is not shutting down.
    pub status: ReadinessStatus,
    /// What is not ready; empty when ready.
    pub not_ready: Vec<NotReady>,
}

impl poem_openapi::types::Example for Readiness {
    fn example() -> Self {
        Readiness {
            status: ReadinessStatus::NotReady,
            not_ready: vec![NotReady {
                component: ReadinessComponent::Database,
                detail: "the database cannot be reached".to_owned(),
            }],
        }
    }
}

impl Readiness {
    /// The 503 answer for these reasons.
    pub fn not_ready(not_ready: Vec<NotReady>) -> ReadinessResponse {
        ReadinessResponse::NotReady(Json(Readiness {
            status: ReadinessStatus::NotReady,
            not_ready,
        }))
    }
}

#[derive(ApiResponse)]
pub enum ReadinessResponse {
    /// Ready: the database and the engine answer, and the server is not shutting down.
    #[oai(status = 200)]
    Ready(Json<Readiness>),
    /// Not ready: `not_ready` says what (the database, the engine, or the server shutting down).
    #[oai(status = 503)]
    NotReady(Json<Readiness>),
}
