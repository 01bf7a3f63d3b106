//! Rate limiting (GCRA, `governor`): `/api/v1/auth/*` per client IP, every other `/api/v1`
//! route per authenticated user (the bearer token's user when it verifies, else the client
//! IP). Over the limit: 429 `rate_limited` with `Retry-After`. Health checks are never
//! limited, and the whole thing can be switched off (load tests).

use std::net::{IpAddr, Ipv4Addr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use poem::http::header::AUTHORIZATION;
use poem::{Endpoint, IntoResponse, Request, Response};
use taskpulse_actors::UserId;

use crate::error::ApiError;
use crate::state::AppState;

/// How fast clients may call the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitSettings {
    /// Off: nothing is limited.
    pub enabled: bool,
    /// Requests to `/api/v1/auth/*` per minute and client IP (also the burst).
    pub auth_per_minute: NonZeroU32,
    /// Sustained requests per second and user on the other `/api/v1` routes.
    pub per_second: NonZeroU32,
    /// Requests a user may make at once before the per-second rate applies.
    pub burst: NonZeroU32,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            auth_per_minute: NonZeroU32::new(30).expect("30 is not zero"),
            per_second: NonZeroU32::new(50).expect("50 is not zero"),
            burst: NonZeroU32::new(100).expect("100 is not zero"),
        }
    }
}

/// Whose budget a request spends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Client {
    User(UserId),
    Ip(IpAddr),
}

/// Every this many checks, keys whose budget is full again are forgotten (bounded memory).
const SWEEP_EVERY: u64 = 4096;

/// The limiters of one server.
pub struct RateLimits {
    limiters: Option<Limiters>,
}

struct Limiters {
    auth: DefaultKeyedRateLimiter<IpAddr>,
    api: DefaultKeyedRateLimiter<Client>,
    clock: DefaultClock,
    checks: AtomicU64,
}

impl RateLimits {
    /// Limiters for `settings` (none when they are switched off).
    pub fn new(settings: &RateLimitSettings) -> Self {
        let limiters = settings.enabled.then(|| Limiters {
            auth: RateLimiter::keyed(Quota::per_minute(settings.auth_per_minute)),
            api: RateLimiter::keyed(
                Quota::per_second(settings.per_second).allow_burst(settings.burst),
            ),
            clock: DefaultClock::default(),
            checks: AtomicU64::new(0),
        });
        Self { limiters }
    }

    /// Spends one request of `req`'s budget, or says how long until it may try again.
    fn check(&self, state: &AppState, req: &Request) -> Result<(), ApiError> {
        let Some(limiters) = &self.limiters else {
            return Ok(());
        };
        let path = req.uri().path();
        let outcome = if path.starts_with("/api/v1/auth/") {
            limiters.auth.check_key(&client_ip(req))
        } else if path.starts_with("/api/v1/") && path != "/api/v1/health" {
            let client = bearer_user(state, req).map_or(Client::Ip(client_ip(req)), Client::User);
            limiters.api.check_key(&client)
        } else {
            return Ok(());
        };
        if limiters.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            limiters.auth.retain_recent();
            limiters.api.retain_recent();
        }
        outcome.map_err(|not_until| ApiError::RateLimited {
            retry_after: not_until.wait_time_from(limiters.clock.now()),
        })
    }
}

/// The peer's IP address (a forwarding proxy's own headers are not trusted).
fn client_ip(req: &Request) -> IpAddr {
    req.remote_addr()
        .as_socket_addr()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |addr| addr.ip())
}

/// The user of a valid bearer access token, if the request carries one.
fn bearer_user(state: &AppState, req: &Request) -> Option<UserId> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| state.access_tokens.verify(token.trim()))
        .flatten()
}

/// Answers 429 `rate_limited` to a request over its budget; lets the others through.
pub async fn limit<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    if let Some(state) = req.data::<AppState>() {
        state.rate_limits.check(state, &req)?;
    }
    next.call(req).await.map(IntoResponse::into_response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn switched_off_limits_nothing() {
        let limits = RateLimits::new(&RateLimitSettings {
            enabled: false,
            ..RateLimitSettings::default()
        });
        assert!(limits.limiters.is_none());
    }

    #[test]
    fn the_auth_budget_is_per_minute_and_tells_when_to_come_back() {
        let limits = RateLimits::new(&RateLimitSettings {
            auth_per_minute: NonZeroU32::MIN.saturating_add(1),
            ..RateLimitSettings::default()
        });
        let Some(limiters) = &limits.limiters else {
            panic!("enabled limits have limiters");
        };
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        assert!(limiters.auth.check_key(&ip).is_ok());
        assert!(limiters.auth.check_key(&ip).is_ok());
        let wait = limiters
            .auth
            .check_key(&ip)
            .map_err(|n| n.wait_time_from(limiters.clock.now()));
        assert!(
            matches!(wait, Err(d) if d.as_secs() >= 25 && d.as_secs() <= 30),
            "{wait:?}"
        );
        let other = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
        assert!(limiters.auth.check_key(&other).is_ok());
    }
}
