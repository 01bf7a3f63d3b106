//! `GET /api/v1/health`: is the service usable, and what is it waiting on; `/health/live` and
//! `/health/ready`: the two questions an orchestrator or a load balancer asks.

mod probes;

use std::time::{Duration, Instant};

use poem_openapi::{ApiResponse, OpenApi};
use taskpulse_live::shapes::health::{
    Health, HealthStatus, Liveness, NotReady, Readiness, ReadinessComponent, ReadinessStatus,
    ServiceHealth,
};

use crate::routes::ApiTags;
use crate::state::AppState;
use crate::wire::Wire;
use probes::{LivenessResponse, ReadinessResponse};

/// Health checks.
pub struct HealthApi {
    state: AppState,
}

impl HealthApi {
    /// The health API over the shared state.
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

#[derive(ApiResponse)]
enum HealthResponse {
    /// The service is healthy or degraded.
    #[oai(status = 200)]
    Up(Wire<Health>),
    /// The service is down.
    #[oai(status = 503)]
    Down(Wire<Health>),
}

const DATABASE_CHECK_TIMEOUT: Duration = Duration::from_secs(2);
/// Above this share of its connection ceiling a node is `degraded`: it still serves, but a
/// balancer should send new sessions elsewhere.
const CROWDED_PERCENT: usize = 90;

#[OpenApi(tag = "ApiTags::Health")]
impl HealthApi {
    /// Service health
    ///
    /// Checks the database with a real round trip and reports the engine's condition, this
    /// node's link to the other nodes on the same database (`cluster`: listening or not, and
    /// how long after its commit the last change from another node arrived) and how many
    /// WebSocket sessions and connections it holds against the most it can (`websocket`:
    /// `degraded` above 90 % of that ceiling). Needs no authentication. Answers 503 when the
    /// service is down.
    #[oai(path = "/api/v1/health", method = "get", operation_id = "getHealth")]
    async fn health(&self) -> HealthResponse {
        let database = self.check_database().await;
        let engine = self.check_engine().await;
        let cluster = self.check_cluster();
        let websocket = self.check_websocket();
        // Only the engine takes the service down: without the database reads still work.
        let engine_down = engine.status == HealthStatus::Down;
        let services = vec![database, engine, cluster, websocket];
        let status = if engine_down {
            HealthStatus::Down
        } else if services.iter().all(|s| s.status == HealthStatus::Healthy) {
            HealthStatus::Healthy
        } else {
            HealthStatus::Degraded
        };
        let health = Health {
            status,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            uptime_seconds: self.state.started_at.elapsed().as_secs(),
            services,
        };
        match status {
            HealthStatus::Down => HealthResponse::Down(Wire(health)),
            _ => HealthResponse::Up(Wire(health)),
        }
    }

    /// Liveness probe
    ///
    /// Answers 200 while the process serves requests, whatever its dependencies do (also
    /// while it shuts down): restart the process only when this stops answering. Needs no
    /// authentication and touches neither the database nor the engine.
    #[oai(
        path = "/api/v1/health/live",
        method = "get",
        operation_id = "getLiveness"
    )]
    async fn live(&self) -> LivenessResponse {
        LivenessResponse::Alive(Wire(Liveness::default()))
    }

    /// Readiness probe
    ///
    /// Answers 200 when this node should receive traffic: the database answered a real
    /// round trip and the engine answered its ping. Answers 503, saying what is not ready,
    /// when either does not, and from the moment the server begins to shut down (so that a
    /// load balancer stops sending before the listener closes). Needs no authentication.
    #[oai(
        path = "/api/v1/health/ready",
        method = "get",
        operation_id = "getReadiness"
    )]
    async fn ready(&self) -> ReadinessResponse {
        if self.state.shutdown.has_begun() {
            // No checks: the answer cannot change any more, and they would only hold a
            // database connection that in-flight requests may still need.
            return ReadinessResponse::not_ready(vec![NotReady {
                component: ReadinessComponent::Server,
                detail: "the server is shutting down".to_owned(),
            }]);
        }
        let (database, engine) = tokio::join!(self.check_database(), self.check_engine());
        let not_ready: Vec<NotReady> = [
            (ReadinessComponent::Database, database),
            (ReadinessComponent::Engine, engine),
        ]
        .into_iter()
        .filter(|(_, check)| check.status == HealthStatus::Down)
        .map(|(component, check)| NotReady {
            component,
            detail: check.detail.unwrap_or_else(|| "not usable".to_owned()),
        })
        .collect();
        if not_ready.is_empty() {
            ReadinessResponse::Ready(Wire(Readiness {
                status: ReadinessStatus::Ready,
                not_ready,
            }))
        } else {
            ReadinessResponse::not_ready(not_ready)
        }
    }
}

impl HealthApi {
    /// The node's session ceiling: its live sessions, its open connections (each session
    /// holds one) and the most it holds; `degraded` when nearly full.
    fn check_websocket(&self) -> ServiceHealth {
        let sessions = self.state.live.live_sessions();
        let open = self.state.connections.open();
        let ceiling = self.state.connections.ceiling();
        let crowded = open.saturating_mul(100) > ceiling.saturating_mul(CROWDED_PERCENT);
        let status = if crowded {
            HealthStatus::Degraded
        } else {
            HealthStatus::Healthy
        };
        ServiceHealth {
            name: "websocket".to_owned(),
            status,
            latency_ms: 0.0,
            detail: Some(format!(
                "{sessions} sessions; {open} of at most {ceiling} connections open"
            )),
        }
    }

    /// Not listening is `degraded`: this node still serves, and its periodic check still
    /// catches up with the others, only later.
    fn check_cluster(&self) -> ServiceHealth {
        let link = self.state.engine.cluster_link();
        let (status, detail) = if !link.enabled {
            (
                HealthStatus::Healthy,
                format!(
                    "node {}: single node, the cluster machinery is off",
                    link.node_id
                ),
            )
        } else if link.listening {
            let heard = link.last_lag.map_or_else(
                || "no change from another node yet".to_owned(),
                |lag| {
                    format!(
                        "last change from another node arrived {:.1} ms after its commit",
                        lag.as_secs_f64() * 1000.0
                    )
                },
            );
            (
                HealthStatus::Healthy,
                format!("node {} listening; {heard}", link.node_id),
            )
        } else {
            (
                HealthStatus::Degraded,
                format!(
                    "node {} is not listening to the other nodes (reconnecting); \
                     the periodic check keeps it in step",
                    link.node_id
                ),
            )
        };
        ServiceHealth {
            name: "cluster".to_owned(),
            status,
            latency_ms: 0.0,
            detail: Some(detail),
        }
    }

    async fn check_engine(&self) -> ServiceHealth {
        let started = Instant::now();
        let outcome = self.state.engine.ping().await;
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        let (status, detail) = match outcome {
            Ok(live) => (
                HealthStatus::Healthy,
                Some(format!("{live} live aggregates")),
            ),
            Err(err) => {
                tracing::warn!(error = %err, "health: the engine did not answer");
                (
                    HealthStatus::Down,
                    Some("the engine does not answer".to_owned()),
                )
            }
        };
        ServiceHealth {
            name: "engine".to_owned(),
            status,
            latency_ms,
            detail,
        }
    }

    async fn check_database(&self) -> ServiceHealth {
        let started = Instant::now();
        let outcome = self
            .state
            .engine
            .ping_database(DATABASE_CHECK_TIMEOUT)
            .await;
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        let (status, detail) = match outcome {
            Ok(()) => (HealthStatus::Healthy, None),
            Err(err) => {
                tracing::warn!(error = %err, "health: database check failed");
                (
                    HealthStatus::Down,
                    Some("the database cannot be reached or did not answer within 2 s".to_owned()),
                )
            }
        };
        ServiceHealth {
            name: "database".to_owned(),
            status,
            latency_ms,
            detail,
        }
    }
}
