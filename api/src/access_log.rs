//! The access log: one INFO line per request on target [`TARGET`] with the method, the route
//! template (`/api/v1/tasks/{id}`, never the concrete path or its query string, which may
//! carry a WebSocket `access_token`), the status, the duration, the request id and, when the
//! request was authenticated, the user id. Tokens and passwords never reach it.
//!
//! [`log`] is the outermost layer, so it sees the final status and the `X-Request-Id` the
//! problem middleware sets. What only inner layers know travels back to it in an
//! [`AccessNote`] in the request's extensions: [`note_route`] records the route (error answers
//! lose it once the problem middleware rebuilds them) and the bearer checker records the user.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use poem::{Endpoint, IntoResponse, PathPattern, Request, Response};
use taskpulse_actors::UserId;

use crate::error::REQUEST_ID_HEADER;
use crate::metrics::Metrics;

/// The `tracing` target of access-log lines (`RUST_LOG=taskpulse::access=info`).
pub const TARGET: &str = "taskpulse::access";

/// What inner layers learn about a request for its access-log line.
#[derive(Debug, Default)]
struct AccessNote {
    /// The documented route template, when a route matched.
    route: OnceLock<String>,
    /// The authenticated user, when a bearer token was verified.
    user: OnceLock<UserId>,
}

/// Records that this request runs as `user` (called by the bearer checker).
pub(crate) fn note_user(req: &Request, user: UserId) {
    if let Some(note) = req.extensions().get::<Arc<AccessNote>>() {
        // A second verification in the same request names the same user.
        let _ = note.user.set(user);
    }
}

/// The outermost layer: writes the line once the answer is complete.
pub async fn log<E: Endpoint>(next: E, mut req: Request) -> poem::Result<Response> {
    let note = Arc::new(AccessNote::default());
    req.extensions_mut().insert(Arc::clone(&note));
    let method = req.method().clone();
    let started = Instant::now();
    let result = next.call(req).await.map(IntoResponse::into_response);
    // Microseconds rounded to three decimals of a millisecond: enough, and short.
    let duration_ms = (started.elapsed().as_secs_f64() * 1e6).round() / 1e3;
    let (status, request_id) = match &result {
        Ok(response) => (
            response.status(),
            response
                .headers()
                .get(REQUEST_ID_HEADER)
                .and_then(|v| v.to_str().ok()),
        ),
        Err(err) => (err.status(), None),
    };
    tracing::info!(
        target: TARGET,
        method = %method,
        route = note.route.get().map_or("unmatched", String::as_str),
        status = status.as_u16(),
        duration_ms,
        request_id = request_id.unwrap_or("-"),
        user_id = note.user.get().map(tracing::field::display),
        "request"
    );
    result
}

/// An inner layer, beside the metrics: records the documented template of the route that
/// answered, as the metrics label it.
pub async fn note_route<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    let note = req.extensions().get::<Arc<AccessNote>>().cloned();
    let metrics = req.data::<Arc<Metrics>>().cloned();
    let result = next.call(req).await.map(IntoResponse::into_response);
    let pattern = match &result {
        Ok(response) => response.data::<PathPattern>(),
        Err(err) => err.data::<PathPattern>(),
    };
    if let (Some(note), Some(metrics), Some(pattern)) = (note, metrics, pattern)
        && !pattern.0.is_empty()
    {
        let _ = note.route.set(metrics.template(&pattern.0).to_owned());
    }
    result
}
