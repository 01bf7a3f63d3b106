//! `GET /metrics`: Prometheus text. Request counts and latency histograms by route template
//! and status, recorded by [`track`]; MCP tool call times by tool and outcome, recorded by the
//! MCP handler; database pool usage, live WebSocket sessions, live aggregate actors, deltas
//! applied and the delta delivery latency histogram, read at scrape time. The recorder is
//! attached to every request as data (no global recorder).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use metrics::{Key, Label, Level, Metadata, Recorder};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use poem::PathPattern;
use poem::web::Data;
use poem::{Endpoint, IntoResponse, Request, Response, handler};

use crate::state::AppState;

mod families;
use families::{Kind, render_engine, render_family, render_pool, render_subscribe_answers};

const META: Metadata<'static> = Metadata::new(module_path!(), Level::INFO, Some(module_path!()));
/// Latency buckets in seconds: 1 ms to 10 s.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
const REQUESTS: &str = "taskpulse_http_requests_total";
const LATENCY: &str = "taskpulse_http_request_duration_seconds";
const POOL: &str = "taskpulse_db_pool_connections";
const POOL_IDLE: &str = "taskpulse_db_pool_idle_connections";
const AGGREGATES: &str = "taskpulse_live_aggregates";
const SESSIONS: &str = "taskpulse_ws_live_sessions";
const TOOL_CALLS: &str = "taskpulse_mcp_tool_call_seconds";

/// The server's metrics: a Prometheus recorder and the handle that renders it.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    /// Resident memory, CPU time, open file descriptors… of this process, read at scrape time.
    process: metrics_process::Collector,
    /// poem-openapi routes `/api/v1/tasks/{id}` as `/api/v1/tasks/:param0`; labels show the
    /// documented template instead.
    templates: HashMap<String, String>,
}

impl Metrics {
    /// Metrics for the routes of `openapi_document` (the served OpenAPI JSON).
    pub fn new(openapi_document: &str) -> Self {
        let builder = PrometheusBuilder::new();
        let recorder = match builder.set_buckets(BUCKETS) {
            Ok(builder) => builder.build_recorder(),
            // Only an empty bucket list fails; a summary then stands in for the histogram.
            Err(_) => PrometheusBuilder::new().build_recorder(),
        };
        let handle = recorder.handle();
        describe(&recorder);
        let process = metrics_process::Collector::default();
        metrics::with_local_recorder(&recorder, || process.describe());
        Self {
            recorder,
            handle,
            process,
            templates: route_templates(openapi_document),
        }
    }

    /// The documented template of a router pattern (the pattern itself when undocumented).
    pub(crate) fn template<'a>(&'a self, pattern: &'a str) -> &'a str {
        self.templates.get(pattern).map_or(pattern, String::as_str)
    }

    fn request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let labels = vec![
            Label::new("method", method.to_owned()),
            Label::new("route", route.to_owned()),
            Label::new("status", status.to_string()),
        ];
        self.recorder
            .register_counter(&Key::from_parts(REQUESTS, labels.clone()), &META)
            .increment(1);
        self.recorder
            .register_histogram(&Key::from_parts(LATENCY, labels), &META)
            .record(seconds);
    }

    /// One MCP tool call: `tool` is a catalogue name (unknown tools are refused before they
    /// run, so the label set stays bounded), `failed` its result's `isError`.
    pub(crate) fn mcp_tool_call(&self, tool: &str, failed: bool, seconds: f64) {
        let outcome = if failed { "error" } else { "ok" };
        let labels = vec![
            Label::new("tool", tool.to_owned()),
            Label::new("outcome", outcome),
        ];
        self.recorder
            .register_histogram(&Key::from_parts(TOOL_CALLS, labels), &META)
            .record(seconds);
    }

    fn gauge(&self, name: &'static str, value: f64) {
        self.recorder
            .register_gauge(&Key::from_name(name), &META)
            .set(value);
    }
}

/// HELP texts: Prometheus tools (`promtool check metrics`) and dashboards expect one per
/// family.
fn describe(recorder: &PrometheusRecorder) {
    recorder.describe_counter(
        REQUESTS.into(),
        None,
        "HTTP requests answered, by method, route template and status.".into(),
    );
    recorder.describe_histogram(
        LATENCY.into(),
        Some(metrics::Unit::Seconds),
        "HTTP request latency, by method, route template and status.".into(),
    );
    recorder.describe_histogram(
        TOOL_CALLS.into(),
        Some(metrics::Unit::Seconds),
        "MCP tool call time inside the server: the arguments parsed, the command run and the \
         result built, not the JSON-RPC transport nor the session's queue; by tool and outcome \
         (ok, or error: a result with isError)."
            .into(),
    );
    let gauges = [
        (POOL, "Database connections open in the pool."),
        (POOL_IDLE, "Database connections idle in the pool."),
        (AGGREGATES, "Aggregate actors live on this node."),
        (SESSIONS, "WebSocket sessions open on this node."),
    ];
    for (name, help) in gauges {
        recorder.describe_gauge(name.into(), None, help.into());
    }
}

/// Records every request's count and latency under its route template (`/api/v1/tasks/:id`,
/// never the concrete path) and final status; unmatched paths share one label.
pub async fn track<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    let metrics = req.data::<Arc<Metrics>>().cloned();
    let method = req.method().as_str().to_owned();
    let started = Instant::now();
    let result = next.call(req).await.map(IntoResponse::into_response);
    let (route, status) = match &result {
        Ok(response) => (response.data::<PathPattern>(), response.status()),
        Err(err) => (err.data::<PathPattern>(), err.status()),
    };
    if let Some(metrics) = metrics {
        // A path no route matched carries an empty pattern (or none).
        let route = route
            .filter(|p| !p.0.is_empty())
            .map_or("unmatched", |p| metrics.template(&p.0));
        metrics.request(
            &method,
            route,
            status.as_u16(),
            started.elapsed().as_secs_f64(),
        );
    }
    result
}

/// Maps each router pattern of the documented paths to its OpenAPI template:
/// `/api/v1/tasks/:param0/shares/:param1` → `/api/v1/tasks/{id}/shares/{user_id}`.
fn route_templates(openapi_document: &str) -> HashMap<String, String> {
    let document: serde_json::Value = serde_json::from_str(openapi_document).unwrap_or_default();
    let Some(paths) = document["paths"].as_object() else {
        return HashMap::new();
    };
    paths
        .keys()
        .map(|template| {
            let mut params = 0..;
            let pattern = template
                .split('/')
                .map(|segment| match segment.strip_prefix('{') {
                    Some(_) => format!(":param{}", params.next().unwrap_or_default()),
                    None => segment.to_owned(),
                })
                .collect::<Vec<_>>()
                .join("/");
            (pattern, template.clone())
        })
        .collect()
}

/// The Prometheus text of every metric, with the gauges read now.
#[handler]
pub fn render(state: Data<&AppState>, metrics: Data<&Arc<Metrics>>) -> Response {
    let pool = state.engine.pool_figures();
    metrics.gauge(POOL, f64::from(pool.connections));
    metrics.gauge(POOL_IDLE, f64::from(pool.idle_connections));
    metrics.gauge(AGGREGATES, state.engine.live_aggregates() as f64);
    metrics.gauge(SESSIONS, state.live.live_sessions() as f64);
    metrics::with_local_recorder(&metrics.recorder, || metrics.process.collect());
    let mut text = metrics.handle.render();
    render_engine(&mut text, &state.engine.metrics());
    render_subscribe_answers(&mut text, &state.live.subscribe_answers());
    let closed: Vec<_> = (state.live.closed_sessions().into_iter())
        .map(|(reason, n)| (format!("reason=\"{reason}\""), n))
        .collect();
    render_family(
        &mut text,
        Kind::Counter,
        "taskpulse_ws_sessions_closed_total",
        "WebSocket sessions ended since start, by why (client, unauthenticated, silent, \
         too_big, policy, shutdown, error).",
        closed,
    );
    let limited: Vec<_> = (state.rate_limits.refused().into_iter())
        .map(|(limit, n)| (format!("limit=\"{limit}\""), n))
        .collect();
    render_family(
        &mut text,
        Kind::Counter,
        "taskpulse_rate_limited_total",
        "Requests answered 429 rate_limited since start, by limit (auth: /api/v1/auth/* per \
         client IP; api: the rest per user).",
        limited,
    );
    render_pool(
        &mut text,
        [
            pool.gets_waited,
            pool.gets_timed_out,
            pool.connections_closed_broken,
        ],
        pool.wait_time,
    );
    let version = format!("version=\"{}\"", env!("CARGO_PKG_VERSION"));
    render_family(
        &mut text,
        Kind::Gauge,
        "taskpulse_build_info",
        "The running build: always 1, its version as a label.",
        [(version, 1)],
    );
    Response::builder()
        .content_type("text/plain; version=0.0.4")
        .body(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn router_patterns_map_to_documented_templates() {
        let templates = route_templates(
            r#"{"paths": {"/api/v1/tasks": {}, "/api/v1/tasks/{id}/shares/{user_id}": {}}}"#,
        );
        assert_eq!(
            templates["/api/v1/tasks/:param0/shares/:param1"],
            "/api/v1/tasks/{id}/shares/{user_id}"
        );
        assert_eq!(templates["/api/v1/tasks"], "/api/v1/tasks");
    }
}
