//! The one origin rule, for WebSocket upgrades and (in taskpulse's server) CORS alike.

/// With no list, the server's own origin (same host and port as the request was sent to, its `Host`
/// header); else a listed origin, or any with `*`.
pub fn origin_allowed(listed: &[String], origin: &str, host: Option<&str>) -> bool {
    if listed.is_empty() {
        let authority = origin.split_once("://").map_or(origin, |(_, rest)| rest);
        return host.is_some_and(|host| host.eq_ignore_ascii_case(authority));
    }
    listed
        .iter()
        .any(|allowed| allowed == "*" || allowed.eq_ignore_ascii_case(origin))
}
