//! The health answers: `GET /api/v1/health`, `/health/live` and `/health/ready`.

use serde::Serialize;

/// The overall or per-service condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(feature = "openapi", oai(rename_all = "snake_case"))]
pub enum HealthStatus {
    /// Everything works.
    Healthy,
    /// Usable with reduced function (for example: reads work, writes do not).
    Degraded,
    /// Not usable.
    Down,
}

/// One dependency's condition.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct ServiceHealth {
    /// `database`, `engine`, `cluster` (this node's link to the others on its database) or
    /// `websocket` (the sessions and connections it holds, and the most it can).
    pub name: String,
    /// Its condition.
    pub status: HealthStatus,
    /// How long the check took, in milliseconds.
    pub latency_ms: f64,
    /// Why it is not healthy, or what it holds (`cluster`, `websocket`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", oai(skip_serializing_if_is_none))]
    pub detail: Option<String>,
}

/// The service's condition.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(example))]
pub struct Health {
    /// The worst condition that still describes the service as a whole.
    pub status: HealthStatus,
    /// The server's version.
    pub version: String,
    /// Seconds since the server started.
    pub uptime_seconds: u64,
    /// Each dependency's condition.
    pub services: Vec<ServiceHealth>,
}

/// The only thing a live process says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(feature = "openapi", oai(rename_all = "snake_case"))]
pub enum LivenessStatus {
    /// The process serves requests.
    #[default]
    Alive,
}

/// The process answers.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(example))]
pub struct Liveness {
    /// Always `alive`: an answer at all is the signal.
    pub status: LivenessStatus,
}

/// Whether the node should receive traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(feature = "openapi", oai(rename_all = "snake_case"))]
pub enum ReadinessStatus {
    /// Send traffic here.
    Ready,
    /// Send traffic elsewhere until this answers `ready` again.
    NotReady,
}

/// What readiness depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(feature = "openapi", oai(rename_all = "snake_case"))]
pub enum ReadinessComponent {
    /// The database: a real round trip (`SELECT 1`).
    Database,
    /// The engine: its supervisor answers a ping.
    Engine,
    /// The server itself: not ready once it begins to shut down.
    Server,
}

/// One reason the node is not ready.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct NotReady {
    /// What is not ready.
    pub component: ReadinessComponent,
    /// Why, in a sentence for the operator.
    pub detail: String,
}

/// Whether the node should receive traffic, and if not, why.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(example))]
pub struct Readiness {
    /// `ready` when the database and the engine are usable and the server is not shutting down.
    pub status: ReadinessStatus,
    /// What is not ready; empty when ready.
    pub not_ready: Vec<NotReady>,
}

#[cfg(feature = "openapi")]
mod examples {
    use poem_openapi::types::Example;

    use super::*;

    impl Example for Health {
        fn example() -> Self {
            let service = |name: &str, latency_ms, detail: Option<&str>| ServiceHealth {
                name: name.to_owned(),
                status: HealthStatus::Healthy,
                latency_ms,
                detail: detail.map(str::to_owned),
            };
            Health {
                status: HealthStatus::Healthy,
                version: env!("CARGO_PKG_VERSION").to_owned(),
                uptime_seconds: 3600,
                services: vec![
                    service("database", 0.4, None),
                    service("engine", 0.0, None),
                    service(
                        "cluster",
                        0.0,
                        Some(
                            "node 3f9a1c0d2e4b listening; last change from another node arrived \
                             1.8 ms after its commit",
                        ),
                    ),
                    service(
                        "websocket",
                        0.0,
                        Some("1204 sessions; 1311 of at most 64512 connections open"),
                    ),
                ],
            }
        }
    }

    impl Example for Liveness {
        fn example() -> Self {
            Self::default()
        }
    }

    impl Example for Readiness {
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
}
