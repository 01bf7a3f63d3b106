//! CORS for every route, from the origin list that also guards WebSocket upgrades
//! (`--allowed-origins`; empty: the server's own origin; `*`: any).
//!
//! poem's `Cors` cannot express "the server's own origin" (its origin check never sees the
//! `Host` header) and answers a refused simple request with 403, where browsers only need the
//! allow headers left out; so it is two small layers of ours:
//! - [`mark`], outside the problem middleware, decides once per request whether its `Origin`
//!   is allowed and, if so, marks the final answer, error answers included (a browser app must
//!   be able to read a 401 or 422 problem too);
//! - [`preflight`], inside it, answers preflights: 204 with the methods and headers the API
//!   accepts, or, for a refused origin, an ordinary 403 problem without allow headers.
//!
//! Credentials are never allowed (no `Access-Control-Allow-Credentials`): taskpulse uses no
//! cookies, access tokens travel in the `Authorization` header, which a cross-origin app sets
//! itself. Allowing credentials would only let a page ride on cookies or TLS client
//! certificates a browser attaches by itself, and forbids answering `*`.

use poem::http::header::{self, HeaderValue};
use poem::http::{Method, StatusCode};
use poem::{Endpoint, IntoResponse, Request, Response};
use taskpulse_actors::Error as EngineError;
use taskpulse_live::origin_allowed;

use crate::error::ApiError;

/// Methods the REST API uses.
const ALLOW_METHODS: &str = "GET, POST, PATCH, DELETE";
/// Request headers a client app may set: the bearer token, JSON bodies, optimistic
/// concurrency and its own request id.
const ALLOW_HEADERS: &str = "Authorization, Content-Type, If-Match, X-Request-Id";
/// Answer headers a client app may read besides the CORS-safelisted ones. The API sets no
/// `Location`; `ETag` is listed so a later conditional answer needs no CORS change.
const EXPOSE_HEADERS: &str = "X-Request-Id, Retry-After, ETag";
/// How long a browser may reuse a preflight answer, in seconds.
const MAX_AGE_SECS: &str = "600";

/// The origins allowed to call the API from a browser.
#[derive(Debug, Clone)]
pub struct AllowedOrigins {
    listed: Vec<String>,
}

impl AllowedOrigins {
    /// The list of `--allowed-origins` (already validated at start-up).
    pub fn new(listed: &[String]) -> Self {
        Self {
            listed: listed.to_vec(),
        }
    }

    fn any(&self) -> bool {
        self.listed.iter().any(|o| o == "*")
    }

    /// Whether a request with this `Origin`, sent to `host` (its `Host` header), is allowed.
    pub fn allows(&self, origin: &str, host: Option<&str>) -> bool {
        origin_allowed(&self.listed, origin, host)
    }
}

/// Present in a request's extensions when its `Origin` is allowed.
#[derive(Debug, Clone, Copy)]
struct Granted;

/// The outer layer: marks answers to allowed origins with `Access-Control-Allow-Origin` and
/// the exposed headers; answers to other origins get neither, and the browser keeps them from
/// the page.
pub async fn mark<E: Endpoint>(
    origins: &AllowedOrigins,
    next: E,
    mut req: Request,
) -> poem::Result<Response> {
    let origin = req.headers().get(header::ORIGIN).cloned();
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok());
    let granted = origin
        .as_ref()
        .and_then(|o| o.to_str().ok())
        .is_some_and(|o| origins.allows(o, host));
    if granted {
        req.extensions_mut().insert(Granted);
    }
    let mut response = next.call(req).await?.into_response();
    let headers = response.headers_mut();
    if !origins.any() {
        // The answer depends on the Origin: shared caches must keep one per origin.
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
    }
    if let Some(origin) = origin.filter(|_| granted) {
        let allow = if origins.any() {
            HeaderValue::from_static("*")
        } else {
            origin
        };
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSE_HEADERS),
        );
    }
    Ok(response)
}

/// The inner layer: answers preflight requests (`OPTIONS` with `Origin` and
/// `Access-Control-Request-Method`) before routing, so every path has one.
pub async fn preflight<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    let headers = req.headers();
    let is_preflight = req.method() == Method::OPTIONS
        && headers.contains_key(header::ORIGIN)
        && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if !is_preflight {
        return next.call(req).await.map(IntoResponse::into_response);
    }
    if req.extensions().get::<Granted>().is_none() {
        return Err(ApiError::Engine(EngineError::Forbidden(
            "this origin may not call the API (see --allowed-origins)".to_owned(),
        ))
        .into());
    }
    Ok(Response::builder()
        .status(StatusCode::NO_CONTENT)
        .header(header::ACCESS_CONTROL_ALLOW_METHODS, ALLOW_METHODS)
        .header(header::ACCESS_CONTROL_ALLOW_HEADERS, ALLOW_HEADERS)
        .header(header::ACCESS_CONTROL_MAX_AGE, MAX_AGE_SECS)
        .header(
            header::VARY,
            "Access-Control-Request-Method, Access-Control-Request-Headers",
        )
        .finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_list_allows_only_the_servers_own_origin() {
        let origins = AllowedOrigins::new(&[]);
        assert!(origins.allows("http://127.0.0.1:8080", Some("127.0.0.1:8080")));
        assert!(!origins.allows("http://evil.example", Some("127.0.0.1:8080")));
        assert!(!origins.allows("http://127.0.0.1:8080", None));
    }

    #[test]
    fn listed_origins_match_exactly_and_star_matches_any() {
        let origins = AllowedOrigins::new(&["https://app.example.com".to_owned()]);
        assert!(origins.allows("https://APP.example.com", None));
        assert!(!origins.allows("https://app.example.com:8443", None));
        assert!(AllowedOrigins::new(&["*".to_owned()]).allows("http://anything", None));
    }
}
