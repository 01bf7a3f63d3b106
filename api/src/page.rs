//! `GET /dashboard`: the live dashboard page. Plain HTML, CSS and JavaScript modules,
//! embedded in the binary, with no build step and no third-party code: the page signs in over
//! REST and follows `/api/v1/ws` from the same origin.

use poem::error::NotFoundError;
use poem::http::header;
use poem::web::Path;
use poem::{Response, handler};

/// The page itself.
const PAGE: &str = include_str!("../static/dashboard.html");

/// The files the page loads from `/dashboard/<name>`: name, content type, text.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "dashboard.css",
        "text/css; charset=utf-8",
        include_str!("../static/dashboard.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/app.js"),
    ),
    (
        "session.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/session.js"),
    ),
    (
        "live.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/live.js"),
    ),
    (
        "view.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/view.js"),
    ),
    (
        "chart.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/chart.js"),
    ),
];

/// Only the page's own files; the WebSocket and REST calls go to this same origin.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// `GET /dashboard`.
#[handler]
pub fn index() -> Response {
    file("text/html; charset=utf-8", PAGE)
}

/// `GET /dashboard/<name>`: a file of the page; 404 (problem+json) for any other name.
#[handler]
pub fn asset(Path(name): Path<String>) -> poem::Result<Response> {
    ASSETS
        .iter()
        .find(|(file_name, _, _)| *file_name == name)
        .map(|(_, content_type, text)| file(content_type, text))
        .ok_or_else(|| NotFoundError.into())
}

fn file(content_type: &str, text: &'static str) -> Response {
    Response::builder()
        .content_type(content_type)
        // Small files, embedded per build: revalidate so an upgrade is seen at once.
        .header(header::CACHE_CONTROL, "no-cache")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .header(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY)
        .header(header::REFERRER_POLICY, "no-referrer")
        .body(text)
}
