//! `GET /.well-known/oauth-protected-resource` (RFC 9728): what an MCP client reads after a 401
//! to learn where tokens for `/mcp` come from — the configured identity provider.

use poem::http::header::HOST;
use poem::web::Json;
use poem::{IntoResponse, Request, Response, handler};
use serde_json::{Map, Value, json};

use super::MCP_PATH;
use crate::state::AppState;

/// Where the metadata document is served.
pub(crate) const METADATA_PATH: &str = "/.well-known/oauth-protected-resource";

/// The server's base URL: the configured public one, or this request's host over http.
fn base_url(state: &AppState, req: &Request) -> String {
    if let Some(public) = &state.mcp.settings().public_url {
        return public.trim_end_matches('/').to_owned();
    }
    let host = (req.headers().get(HOST))
        .and_then(|host| host.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// The address of the metadata document, for `WWW-Authenticate`.
pub(crate) fn metadata_url(state: &AppState, req: &Request) -> String {
    format!("{}{METADATA_PATH}", base_url(state, req))
}

/// The protected-resource metadata of `/mcp`.
#[handler]
pub(crate) fn protected_resource(req: &Request) -> Response {
    let Some(state) = req.data::<AppState>() else {
        return poem::http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let mut document = Map::new();
    document.insert(
        "resource".to_owned(),
        format!("{}{MCP_PATH}", base_url(state, req)).into(),
    );
    if let Some(provider) = &state.identity_provider {
        document.insert(
            "authorization_servers".to_owned(),
            json!([provider.issuer()]),
        );
    }
    document.insert("bearer_methods_supported".to_owned(), json!(["header"]));
    document.insert("resource_name".to_owned(), "taskpulse".into());
    Json(Value::Object(document)).into_response()
}
