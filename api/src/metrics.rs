//! `GET /metrics`: Prometheus text. Request counts and latency histograms by route template
//! and status, recorded by [`track`]; database pool usage and live aggregate actors, read at
//! scrape time. The recorder is attached to every request as data (no global recorder).

use std::sync::Arc;
use std::time::Instant;

use metrics::{Key, Label, Level, Metadata, Recorder};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use poem::PathPattern;
use poem::web::Data;
use poem::{Endpoint, IntoResponse, Request, Response, handler};

use crate::state::AppState;

const META: Metadata<'static> = Metadata::new(module_path!(), Level::INFO, Some(module_path!()));
/// Latency buckets in seconds: 1 ms to 10 s.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
const REQUESTS: &str = "taskpulse_http_requests_total";
const LATENCY: &str = "taskpulse_http_request_duration_seconds";

/// The server's metrics: a Prometheus recorder and the handle that renders it.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
}

impl Default for Metrics {
    fn default() -> Self {
        let builder = PrometheusBuilder::new();
        let recorder = match builder.set_buckets(BUCKETS) {
            Ok(builder) => builder.build_recorder(),
            // Only an empty bucket list fails; a summary then stands in for the histogram.
            Err(_) => PrometheusBuilder::new().build_recorder(),
        };
        let handle = recorder.handle();
        Self { recorder, handle }
    }
}

impl Metrics {
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

    fn gauge(&self, name: &'static str, value: f64) {
        self.recorder
            .register_gauge(&Key::from_name(name), &META)
            .set(value);
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
        let route = route.map_or("unmatched", |p| &p.0);
        metrics.request(
            &method,
            route,
            status.as_u16(),
            started.elapsed().as_secs_f64(),
        );
    }
    result
}

/// The Prometheus text of every metric, with the gauges read now.
#[handler]
pub fn render(state: Data<&AppState>, metrics: Data<&Arc<Metrics>>) -> Response {
    let pool = state.pool.state();
    metrics.gauge("taskpulse_db_pool_connections", f64::from(pool.connections));
    metrics.gauge(
        "taskpulse_db_pool_idle_connections",
        f64::from(pool.idle_connections),
    );
    metrics.gauge(
        "taskpulse_live_aggregates",
        state.engine.live_aggregates() as f64,
    );
    Response::builder()
        .content_type("text/plain; version=0.0.4")
        .body(metrics.handle.render())
}
