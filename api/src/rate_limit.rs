//! Rate limiting (GCRA, `governor`): `/api/v1/auth/*` per client IP, every other `/api/v1`
//! route and `/mcp` per authenticated user (the bearer token's user when it verifies, else the client
//! IP). Over the limit: 429 `rate_limited` with `Retry-After`. Health checks are never
//! limited, and the whole thing can be switched off (load tests).
//!
//! The client IP is the peer's address, unless the peer is a configured trusted proxy: then it
//! is the right-most `X-Forwarded-For` entry that is not itself a trusted proxy. Entries a
//! client wrote itself sit to the left of what trusted proxies appended, so they are never used
//! while a closer untrusted hop exists.

use std::net::{IpAddr, Ipv4Addr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use ipnet::IpNet;
use poem::http::header::AUTHORIZATION;
use poem::{Endpoint, IntoResponse, Request, Response};
use taskpulse_actors::UserId;

use crate::auth::{VerifiedBearer, verify_token};
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
    /// Reverse proxies whose `X-Forwarded-For` names the client (none by default).
    pub trusted_proxies: Vec<IpNet>,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            auth_per_minute: NonZeroU32::new(30).expect("30 is not zero"),
            per_second: NonZeroU32::new(50).expect("50 is not zero"),
            burst: NonZeroU32::new(100).expect("100 is not zero"),
            trusted_proxies: Vec::new(),
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
    trusted_proxies: Vec<IpNet>,
}

struct Limiters {
    auth: DefaultKeyedRateLimiter<IpAddr>,
    api: DefaultKeyedRateLimiter<Client>,
    clock: DefaultClock,
    checks: AtomicU64,
    /// Requests answered 429, by limit: `/api/v1/auth/*`, then the rest.
    refused: [AtomicU64; 2],
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
            refused: Default::default(),
        });
        Self {
            limiters,
            trusted_proxies: settings.trusted_proxies.clone(),
        }
    }

    /// Spends one request of `req`'s budget, or says how long until it may try again.
    async fn check(&self, state: &AppState, req: &mut Request) -> Result<(), ApiError> {
        let Some(limiters) = &self.limiters else {
            return Ok(());
        };
        let path = req.uri().path();
        let auth = path.starts_with("/api/v1/auth/");
        let outcome = if auth {
            limiters.auth.check_key(&self.client_ip(req))
        } else if (path.starts_with("/api/v1/")
            && !matches!(
                path,
                "/api/v1/health" | "/api/v1/health/live" | "/api/v1/health/ready"
            ))
            // MCP messages spend the same budget: a tool call is the same write as REST's.
            || path == crate::mcp::MCP_PATH
        {
            let client = match bearer_user(state, req).await {
                Some(verified) => {
                    let user = verified.subject.user;
                    req.extensions_mut().insert(verified);
                    Client::User(user)
                }
                None => Client::Ip(self.client_ip(req)),
            };
            limiters.api.check_key(&client)
        } else {
            return Ok(());
        };
        if limiters.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            limiters.auth.retain_recent();
            limiters.api.retain_recent();
        }
        outcome.map_err(|not_until| {
            limiters.refused[usize::from(!auth)].fetch_add(1, Ordering::Relaxed);
            ApiError::RateLimited {
                retry_after: not_until.wait_time_from(limiters.clock.now()),
            }
        })
    }

    /// Requests answered 429 since start, by limit (`auth`, `api`).
    pub fn refused(&self) -> [(&'static str, u64); 2] {
        let count = |at: usize| {
            (self.limiters.as_ref()).map_or(0, |l| l.refused[at].load(Ordering::Relaxed))
        };
        [("auth", count(0)), ("api", count(1))]
    }

    /// The client's IP address: the peer's, or what trusted proxies say it is.
    fn client_ip(&self, req: &Request) -> IpAddr {
        let peer = req
            .remote_addr()
            .as_socket_addr()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |addr| addr.ip());
        let forwarded_for = req
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok());
        client_ip(peer, forwarded_for, &self.trusted_proxies)
    }
}

/// Who sent a request that arrived from `peer` with these `X-Forwarded-For` header values.
fn client_ip<'a>(
    peer: IpAddr,
    forwarded_for: impl Iterator<Item = &'a str>,
    trusted_proxies: &[IpNet],
) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted_proxies.iter().any(|net| net.contains(&ip));
    let mut client = peer.to_canonical();
    if !is_trusted(client) {
        return client;
    }
    let hops = forwarded_for
        .flat_map(|value| value.split(','))
        .map(|entry| entry.trim().parse::<IpAddr>().ok())
        .collect::<Vec<_>>();
    for hop in hops.into_iter().rev() {
        // An entry that is not an address cannot be traced further: the hop that wrote it is
        // the client as far as anyone trusted knows.
        let Some(hop) = hop.map(|ip| ip.to_canonical()) else {
            break;
        };
        client = hop;
        if !is_trusted(hop) {
            break;
        }
    }
    client
}

/// The valid bearer access token the request carries, if any, with its user (ours, or the
/// identity provider's).
async fn bearer_user(state: &AppState, req: &Request) -> Option<VerifiedBearer> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let verified = verify_token(state, token).await.ok()?;
    Some(VerifiedBearer {
        token: token.to_owned(),
        subject: verified.subject,
        scopes: verified.scopes,
    })
}

/// Answers 429 `rate_limited` to a request over its budget; lets the others through.
pub async fn limit<E: Endpoint>(next: E, mut req: Request) -> poem::Result<Response> {
    if let Some(state) = req.data::<AppState>().cloned() {
        state.rate_limits.check(&state, &mut req).await?;
    }
    next.call(req).await.map(IntoResponse::into_response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(trusted: &[&str], peer: &str, header: Option<&str>) -> IpAddr {
        let trusted = trusted
            .iter()
            .map(|n| n.parse().expect("a network"))
            .collect::<Vec<IpNet>>();
        client_ip(
            peer.parse().expect("an address"),
            header.into_iter(),
            &trusted,
        )
    }

    #[test]
    fn forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy() {
        let ip = |s: &str| s.parse::<IpAddr>().expect("an address");
        assert_eq!(
            forwarded(&[], "10.0.0.9", Some("203.0.113.7")),
            ip("10.0.0.9")
        );
        assert_eq!(
            forwarded(&["10.0.0.0/8"], "192.0.2.1", Some("203.0.113.7")),
            ip("192.0.2.1")
        );
        assert_eq!(forwarded(&["10.0.0.0/8"], "10.0.0.9", None), ip("10.0.0.9"));
    }

    #[test]
    fn the_client_is_the_rightmost_untrusted_hop() {
        let ip = |s: &str| s.parse::<IpAddr>().expect("an address");
        // The client forged the first entry; the proxies appended the real one and their own.
        assert_eq!(
            forwarded(
                &["10.0.0.0/8"],
                "10.0.0.9",
                Some("198.51.100.1, 203.0.113.7, 10.0.0.2")
            ),
            ip("203.0.113.7")
        );
        assert_eq!(
            forwarded(
                &["10.0.0.0/8"],
                "::ffff:10.0.0.9",
                Some("garbage, 203.0.113.7")
            ),
            ip("203.0.113.7")
        );
        assert_eq!(
            forwarded(&["10.0.0.0/8"], "10.0.0.9", Some("203.0.113.7, garbage")),
            ip("10.0.0.9")
        );
    }

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
