//! `GET /dashboard`: the live dashboard page. Plain HTML, CSS and JavaScript modules,
//! embedded in the binary, with no build step and no third-party code: the page signs in over
//! REST and follows `/api/v1/ws` from the same origin, with the JavaScript client package
//! (`clients/js`), served as it is published so that one implementation serves both.

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
        CSS,
        include_str!("../static/dashboard.css"),
    ),
    ("app.js", JS, include_str!("../static/app.js")),
    ("view.js", JS, include_str!("../static/view.js")),
    ("feed-view.js", JS, include_str!("../static/feed-view.js")),
    ("task-list.js", JS, include_str!("../static/task-list.js")),
    ("chart.js", JS, include_str!("../static/chart.js")),
    (
        "trends-view.js",
        JS,
        include_str!("../static/trends-view.js"),
    ),
    (
        "transfer-view.js",
        JS,
        include_str!("../static/transfer-view.js"),
    ),
    (
        "tokens-view.js",
        JS,
        include_str!("../static/tokens-view.js"),
    ),
    (
        "notifications-view.js",
        JS,
        include_str!("../static/notifications-view.js"),
    ),
];

/// The modules of `@taskpulse/client` (`clients/js/src`), at `/dashboard/client/<name>`.
const CLIENT_MODULES: &[(&str, &str, &str)] = &[
    (
        "index.js",
        JS,
        include_str!("../../clients/js/src/index.js"),
    ),
    ("rest.js", JS, include_str!("../../clients/js/src/rest.js")),
    ("live.js", JS, include_str!("../../clients/js/src/live.js")),
    (
        "topics.js",
        JS,
        include_str!("../../clients/js/src/topics.js"),
    ),
    (
        "tokens.js",
        JS,
        include_str!("../../clients/js/src/tokens.js"),
    ),
    (
        "problem.js",
        JS,
        include_str!("../../clients/js/src/problem.js"),
    ),
];

const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

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
    serve(ASSETS, &name)
}

/// `GET /dashboard/client/<name>`: a module of the client package; 404 for any other name.
#[handler]
pub fn client_module(Path(name): Path<String>) -> poem::Result<Response> {
    serve(CLIENT_MODULES, &name)
}

fn serve(files: &[(&str, &str, &'static str)], name: &str) -> poem::Result<Response> {
    files
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
