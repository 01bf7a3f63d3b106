//! taskpulse's HTTP and WebSocket layer: the documented REST API, Swagger UI and the
//! OpenAPI document, all thin over the engine of `taskpulse-actors`.

mod access_log;
pub mod auth;
mod body_limit;
pub mod connections;
mod cors;
pub mod email;
mod error;
mod json_body;
mod mcp;
mod metrics;
mod page;
mod rate_limit;
mod routes;
mod state;
mod tls_client;
pub mod webhooks;
mod wire;
mod ws;

use poem::http::Method;
use poem::web::Redirect;
use poem::{Endpoint, EndpointExt, IntoResponse, PathPattern, Request, Response, Route};
use poem_openapi::OpenApiService;

pub use error::{ApiError, REQUEST_ID_HEADER};
pub use rate_limit::RateLimitSettings;
pub use state::{AppState, AuthConfig};

pub use body_limit::MAX_BODY_BYTES;
pub use mcp::McpSettings;

/// The whole HTTP surface: REST under `/api/v1`, `/openapi.json` and `/docs`, the MCP server
/// at `/mcp` (with its protected-resource metadata), with every
/// error shaped as problem+json, CORS for the allowed origins and one access-log line per
/// request.
pub fn app(state: AppState) -> impl poem::Endpoint + 'static {
    let api = OpenApiService::new(
        (
            routes::HealthApi::new(state.clone()),
            routes::AuthApi::new(state.clone()),
            routes::TasksApi::new(state.clone()),
            routes::TransferApi::new(state.clone()),
            routes::TeamsApi::new(state.clone()),
            routes::DashboardApi::new(state.clone()),
            routes::AuditApi::new(state.clone()),
            routes::LiveApi::new(state.clone()),
            routes::TokensApi::new(state.clone()),
            routes::NotificationsApi::new(state.clone()),
            routes::WebhooksApi::new(state.clone()),
        ),
        "taskpulse",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "Real-time task statistics: tasks, teams, sharing and live dashboards. \
         Errors are RFC 9457 problem details (application/problem+json). \
         Live updates: `GET /api/v1/ws` (tag Live).",
    )
    // Relative: the document describes whichever host serves it.
    .server("/")
    .license(poem_openapi::LicenseObject::new("MIT OR Apache-2.0"));
    let metrics = std::sync::Arc::new(metrics::Metrics::new(&api.spec()));
    let spec = api.spec_endpoint();
    let docs = api.swagger_ui();
    let origins = std::sync::Arc::new(cors::AllowedOrigins::new(
        &state.live.settings().allowed_origins,
    ));
    Route::new()
        .at("/openapi.json", spec)
        .nest("/docs", docs)
        .at("/metrics", poem::get(metrics::render))
        .at("/dashboard", poem::get(page::index))
        .at("/dashboard/:file", poem::get(page::asset))
        .at("/dashboard/client/:file", poem::get(page::client_module))
        .at(mcp::MCP_PATH, mcp::endpoint(&state))
        .at(mcp::METADATA_PATH, poem::get(mcp::protected_resource))
        .nest("/", api)
        .around(root_redirect)
        .around(rate_limit::limit)
        .around(metrics::track)
        .around(access_log::note_route)
        .data(metrics)
        // The bearer scheme's checker reads the token keys from here.
        .data(state)
        // Inside the size limit: it reads the body the limit has bounded.
        .around(json_body::reject_duplicate_keys)
        .around(body_limit::limit_body)
        .around(cors::preflight)
        .around(error::problem_middleware)
        // Boxed: each layer's type nests the ones inside, past the compiler's depth limit.
        .boxed()
        .around(move |next, req| {
            let origins = std::sync::Arc::clone(&origins);
            async move { cors::mark(&origins, next, req).await }
        })
        .around(access_log::log)
}

/// `GET /`, the page a person opens first, redirects to the dashboard. It is answered before
/// routing because a route at `/` would lose to the catch-all of the API nested there.
async fn root_redirect<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    if req.uri().path() != "/" || !matches!(*req.method(), Method::GET | Method::HEAD) {
        return next.call(req).await.map(IntoResponse::into_response);
    }
    let mut response = Redirect::see_other("/dashboard").into_response();
    // Labelled `/` in metrics and the access log, like a route.
    response.set_data(PathPattern("/".into()));
    Ok(response)
}
