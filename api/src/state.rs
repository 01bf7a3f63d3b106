//! What every handler shares.

use std::sync::Arc;
use std::time::{Duration, Instant};

use taskpulse_actors::Engine;
use taskpulse_live::{LiveHub, LiveSettings};
use tokio::sync::watch;

use crate::auth::{AccessTokens, IdentityProvider};
use crate::connections::ConnectionGauge;
use crate::mcp::{McpSessions, McpSettings};
use crate::rate_limit::{RateLimitSettings, RateLimits};
use crate::webhooks::WebhookSettings;
use crate::ws::SessionTokens;

/// The shared state of the API: cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The parts of [`AppState`].
pub struct Inner {
    /// The engine: every task, team and dashboard operation goes through it.
    pub engine: Engine,
    /// When the server started, for `uptime_seconds`.
    pub started_at: Instant,
    /// Issues and verifies access tokens.
    pub access_tokens: AccessTokens,
    /// How long a refresh token lives.
    pub refresh_token_ttl: Duration,
    /// The external identity provider whose tokens are accepted too, if any.
    pub identity_provider: Option<Arc<IdentityProvider>>,
    /// Whether accounts may register and sign in with email and password here.
    pub local_accounts: bool,
    /// The live protocol's sessions and their settings (`GET /api/v1/ws`).
    pub live: LiveHub,
    /// How fast each client may call the API.
    pub rate_limits: RateLimits,
    /// The connections this node holds and the most it may: the session ceiling in health.
    pub connections: ConnectionGauge,
    /// Set once the server begins to shut down.
    pub shutdown: ShutdownSignal,
    /// The MCP sessions (`/mcp`) and whom each belongs to.
    pub(crate) mcp: Arc<McpSessions>,
    /// Which URLs webhooks may be given.
    pub webhooks: WebhookSettings,
}

/// Set once, when the server begins to shut down: from then on readiness answers 503 (so a
/// load balancer stops sending), while the listener still serves until the WebSocket
/// sessions, closed with 1001 by [`LiveHub::shut_down`], are gone.
#[derive(Debug)]
pub struct ShutdownSignal(watch::Sender<bool>);

impl Default for ShutdownSignal {
    fn default() -> Self {
        Self(watch::Sender::new(false))
    }
}

impl ShutdownSignal {
    /// Begins the shutdown; calling it again changes nothing.
    pub fn begin(&self) {
        self.0
            .send_if_modified(|begun| !std::mem::replace(begun, true));
    }

    /// Whether the shutdown has begun.
    pub fn has_begun(&self) -> bool {
        *self.0.borrow()
    }

    /// Waits until the shutdown begins (at once when it already has).
    pub async fn begun(&self) {
        let mut begun = self.0.subscribe();
        // The sender lives as long as `self`, so this cannot fail while we wait.
        let _ = begun.wait_for(|begun| *begun).await;
    }
}

/// How sessions are signed and how long their tokens live.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// Issues and verifies access tokens (holds the secret and the access-token lifetime).
    pub access_tokens: AccessTokens,
    /// How long a refresh token lives.
    pub refresh_token_ttl: Duration,
    /// An external identity provider whose tokens are accepted wherever ours are.
    pub identity_provider: Option<Arc<IdentityProvider>>,
    /// Whether register, login and refresh work (off: only the provider signs people in).
    pub local_accounts: bool,
}

impl AppState {
    /// State over an engine, an authentication configuration, the WebSocket settings, the
    /// rate limits, the listener's connection gauge, the MCP and the webhook settings, started
    /// now.
    pub fn new(
        engine: Engine,
        auth: AuthConfig,
        live: LiveSettings,
        rate_limits: &RateLimitSettings,
        connections: ConnectionGauge,
        mcp: McpSettings,
        webhooks: WebhookSettings,
    ) -> Self {
        let session_tokens = SessionTokens {
            access_tokens: auth.access_tokens.clone(),
            identity_provider: auth.identity_provider.clone(),
            engine: engine.clone(),
        };
        Self(Arc::new(Inner {
            live: LiveHub::new(engine.clone(), live, session_tokens),
            engine,
            started_at: Instant::now(),
            access_tokens: auth.access_tokens,
            refresh_token_ttl: auth.refresh_token_ttl,
            identity_provider: auth.identity_provider,
            local_accounts: auth.local_accounts,
            rate_limits: RateLimits::new(rate_limits),
            connections,
            shutdown: ShutdownSignal::default(),
            mcp: McpSessions::new(mcp, crate::mcp::session_manager()),
            webhooks,
        }))
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}
