//! `GET /api/v1/ws`: the WebSocket upgrade, in the OpenAPI document so that clients find it.
//! OpenAPI cannot describe messages over a socket: the operation's description carries the
//! protocol (in full: docs/websocket.md), and `crate::ws` serves it.

use poem::Request;
use poem::web::websocket::{BoxWebSocketUpgraded, WebSocket};
use poem_openapi::OpenApi;
use poem_openapi::param::Query;

use crate::routes::ApiTags;
use crate::routes::problem::{Failure, UNAVAILABLE, problems};
use crate::state::AppState;

/// The live updates.
pub struct LiveApi {
    state: AppState,
}

impl LiveApi {
    /// The live API over the shared state.
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

problems!(
    /// The problems `open_websocket` documents.
    LiveProblems: [
        (400, "`malformed_request`: not a WebSocket upgrade request"),
        (403, "`forbidden`: the request's `Origin` is not allowed (`--allowed-origins`)"),
        UNAVAILABLE,
    ]
);

#[OpenApi(tag = "ApiTags::Live")]
impl LiveApi {
    /// Live updates (WebSocket)
    ///
    /// Upgrades to a WebSocket that pushes the statistics and the audit feed as they change.
    /// Authenticate with `?access_token=<jwt>` here, or send
    /// `{"type":"auth","access_token":"<jwt>"}` as the first message within 5 s; otherwise the
    /// session closes with 4401 (also when the token expires or its sign-in session ends). One
    /// JSON object per text frame, both ways.
    ///
    /// **Client → server:** `{"type":"subscribe","topic":…}` (with `since_version` to resume
    /// an aggregate or trends topic — answered, after the replay, by `subscribed` with the
    /// version reached — `since` to resume a feed topic, `tz` for the zone of activity and
    /// trends, `interval` and `from` for trends), `{"type":"unsubscribe","topic":…}`,
    /// `{"type":"ping","id":…}` (answered by `pong` with the same `id`), and
    /// `{"type":"auth","access_token":…}` again to renew the token in band (answered by
    /// `{"type":"authenticated","expires_at":…}`).
    ///
    /// | topic | who may read it | messages |
    /// |---|---|---|
    /// | `user` | the caller | `snapshot` (`version`, `stats`, `breakdown`, `activity`), then `delta`s (`version`, `changes`, `stats`) with versions growing by exactly one |
    /// | `team:<team_id>` | members, any role | the same, for the team |
    /// | `trends:user`, `trends:team:<team_id>` | as above | `snapshot` (`version`, `trends` as `GET /api/v1/dashboard/trends` answers), then `delta`s (`version`, `buckets`: the buckets each change moved, whole) |
    /// | `feed:user` | the caller | `subscribed`, then one `feed` per audit entry: the caller's own actions and changes to tasks it owns or that are shared with it |
    /// | `feed:team:<team_id>` | members, any role | `subscribed`, then one `feed` per audit entry of the team |
    /// | `notifications` | the caller | `subscribed`, then one `notification` (`notification`: as `GET /api/v1/notifications` shows it) per notification made for the caller; `since` (a notification's `id`) replays those after it |
    ///
    /// A `feed` message is `{"type":"feed","topic":…,"entry":{…}}`, the entry exactly as
    /// `GET /api/v1/audit-logs` shows it (`id`, `at`, `actor_id`, `action`, `target_type`,
    /// `target_id`, `team_id`, `details`). Entries come as they commit, in commit order, the
    /// same on every node; `since` (the `id` of the last entry seen) first replays the entries
    /// after it, on any node. Losing access to a team ends its topics with
    /// `{"type":"unsubscribed","topic":…,"reason":"membership_revoked"}`.
    ///
    /// Errors are `{"type":"error","code":…,"message":…,"topic":…}`, the session staying open:
    /// `forbidden`, `invalid_topic`, `invalid_since`, `too_many_topics`, `not_subscribed`,
    /// `unavailable`, `malformed_message`, `unsupported_frame`, `validation_failed`,
    /// `user_mismatch`, `invalid_token`.
    #[oai(path = "/api/v1/ws", method = "get", operation_id = "openWebSocket")]
    async fn open_websocket(
        &self,
        req: &Request,
        ws: WebSocket,
        /// An access token (or authenticate with the first message instead, which keeps the
        /// token out of URLs). Never logged.
        access_token: Query<Option<String>>,
    ) -> Result<BoxWebSocketUpgraded, Failure<LiveProblems>> {
        Ok(crate::ws::open(req, ws, &self.state, access_token.0)?)
    }
}
