//! Where a webhook may be delivered: the guard against server-side request forgery.
//!
//! A URL is checked twice: [`parse`] when a webhook is created (syntax only), and [`resolve`]
//! before every delivery, which resolves the host and checks every address it resolves to. The
//! sender then connects to those checked addresses and never looks the name up again, so a DNS
//! answer that changes after the check cannot aim a delivery inside.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use url::{Host, Url};

/// The longest URL accepted, in bytes.
const MAX_URL_BYTES: usize = 2048;
/// How long resolving a host may take.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// What the server's configuration lets a webhook URL be.
#[derive(Debug, Clone, Copy, Default)]
pub struct DestinationPolicy {
    /// Plain http URLs are accepted (`--webhooks-allow-http`); otherwise https only.
    pub allow_http: bool,
    /// Private and loopback addresses are accepted (`--webhooks-allow-private`); link-local,
    /// unspecified, multicast and broadcast addresses never are.
    pub allow_private: bool,
}

/// A URL that passed every check, with the addresses its host resolved to (all allowed).
#[derive(Debug, Clone)]
pub(crate) struct Destination {
    /// The URL as parsed.
    pub url: Url,
    /// Every address the host resolved to, with the URL's port; none is refused.
    pub addresses: Vec<SocketAddr>,
}

/// Why a URL cannot be a webhook's destination; each reads as one sentence for a 422's detail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Refusal {
    /// Longer than [`MAX_URL_BYTES`].
    #[error("the URL is {length} bytes long; at most 2048 are allowed")]
    TooLong {
        /// Its length in bytes.
        length: usize,
    },
    /// Not an absolute URL at all.
    #[error("the URL is not a valid absolute URL ({reason})")]
    Malformed {
        /// What the URL parser said.
        reason: String,
    },
    /// Not https, where only https is allowed.
    #[error("the URL must use https")]
    HttpsRequired,
    /// Neither http nor https, where both are allowed.
    #[error("the URL must use http or https")]
    HttpRequired,
    /// No host to deliver to.
    #[error("the URL must name a host")]
    NoHost,
    /// A `user:password@` part.
    #[error("the URL must not contain a user name or password")]
    Credentials,
    /// A `#fragment`, which is never sent.
    #[error("the URL must not contain a fragment (#…)")]
    Fragment,
    /// The host, or one of the addresses it resolves to, is of a refused kind.
    #[error("{}", address_sentence(.host, .address, *.kind))]
    Address {
        /// The URL's host as written.
        host: String,
        /// The refused address.
        address: IpAddr,
        /// What kind of address it is.
        kind: AddressKind,
    },
    /// The name could not be resolved.
    #[error("the host {host} cannot be resolved ({reason})")]
    Unresolvable {
        /// The URL's host.
        host: String,
        /// What the resolver said.
        reason: String,
    },
    /// The name resolved to no address.
    #[error("the host {host} resolves to no address")]
    NoAddress {
        /// The URL's host.
        host: String,
    },
    /// Resolving took longer than [`RESOLVE_TIMEOUT`].
    #[error("the host {host} did not resolve within 5 seconds")]
    ResolveTimeout {
        /// The URL's host.
        host: String,
    },
}

/// The kinds of address a webhook may not be delivered to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AddressKind {
    /// 10/8, 172.16/12, 192.168/16, 100.64/10 (carrier-grade NAT), fc00::/7 (unique local).
    Private,
    /// 127/8, ::1.
    Loopback,
    /// 169.254/16, fe80::/10: where cloud metadata services answer. Always refused.
    LinkLocal,
    /// 0/8, ::. Always refused.
    Unspecified,
    /// 224/4, ff00::/8. Always refused.
    Multicast,
    /// 255.255.255.255. Always refused.
    Broadcast,
}

impl AddressKind {
    /// Its name with an article, as the middle of a sentence.
    fn described(self) -> &'static str {
        match self {
            Self::Private => "a private address",
            Self::Loopback => "a loopback address",
            Self::LinkLocal => "a link-local address",
            Self::Unspecified => "an unspecified address",
            Self::Multicast => "a multicast address",
            Self::Broadcast => "a broadcast address",
        }
    }

    /// Whether `--webhooks-allow-private` admits it.
    fn admitted_by(self, policy: DestinationPolicy) -> bool {
        matches!(self, Self::Private | Self::Loopback) && policy.allow_private
    }
}

fn address_sentence(host: &str, address: &IpAddr, kind: AddressKind) -> String {
    let kind = kind.described();
    if host.trim_matches(['[', ']']) == address.to_string() {
        format!("the host {address} is {kind}")
    } else {
        format!("the host {host} resolves to {address}, {kind}")
    }
}

/// Syntax only, no DNS: an absolute http(s) URL, at most 2048 bytes, with a host, no
/// user:password@, no fragment; http only when `policy.allow_http`.
pub(crate) fn parse(url: &str, policy: DestinationPolicy) -> Result<Url, Refusal> {
    if url.len() > MAX_URL_BYTES {
        return Err(Refusal::TooLong { length: url.len() });
    }
    let parsed = Url::parse(url).map_err(|err| Refusal::Malformed {
        reason: err.to_string(),
    })?;
    check_syntax(&parsed, policy)?;
    Ok(parsed)
}

/// Resolves the host (bounded by 5 s) and checks every address; an IP-literal host is checked
/// without DNS. The syntax is checked again too, so that a stored URL meets today's policy.
pub(crate) async fn resolve(url: &Url, policy: DestinationPolicy) -> Result<Destination, Refusal> {
    check_syntax(url, policy)?;
    let port = url.port_or_known_default().ok_or(Refusal::HttpsRequired)?;
    let addresses = match url.host() {
        None => return Err(Refusal::NoHost),
        Some(Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
        Some(Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
        Some(Host::Domain(name)) => look_up(name, port).await?,
    };
    let host = url.host_str().unwrap_or_default();
    if addresses.is_empty() {
        return Err(Refusal::NoAddress {
            host: host.to_owned(),
        });
    }
    for address in &addresses {
        if let Some(kind) = refused_kind(address.ip())
            && !kind.admitted_by(policy)
        {
            return Err(Refusal::Address {
                host: host.to_owned(),
                address: address.ip(),
                kind,
            });
        }
    }
    Ok(Destination {
        url: url.clone(),
        addresses,
    })
}

fn check_syntax(url: &Url, policy: DestinationPolicy) -> Result<(), Refusal> {
    match url.scheme() {
        "https" => {}
        "http" if policy.allow_http => {}
        _ if policy.allow_http => return Err(Refusal::HttpRequired),
        _ => return Err(Refusal::HttpsRequired),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Refusal::NoHost);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Refusal::Credentials);
    }
    if url.fragment().is_some() {
        return Err(Refusal::Fragment);
    }
    if url.as_str().len() > MAX_URL_BYTES {
        return Err(Refusal::TooLong {
            length: url.as_str().len(),
        });
    }
    Ok(())
}

/// The name's addresses, each once, in the resolver's order.
async fn look_up(name: &str, port: u16) -> Result<Vec<SocketAddr>, Refusal> {
    let found = tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((name, port)))
        .await
        .map_err(|_| Refusal::ResolveTimeout {
            host: name.to_owned(),
        })?
        .map_err(|err| Refusal::Unresolvable {
            host: name.to_owned(),
            reason: err.to_string(),
        })?;
    let mut addresses: Vec<SocketAddr> = Vec::new();
    for address in found {
        if !addresses.contains(&address) {
            addresses.push(address);
        }
    }
    Ok(addresses)
}

/// The kind of address `ip` is, when it is one a webhook may not always reach; `None` for
/// ordinary public addresses.
fn refused_kind(ip: IpAddr) -> Option<AddressKind> {
    match ip {
        IpAddr::V4(ip) => refused_v4(ip),
        IpAddr::V6(ip) => refused_v6(ip),
    }
}

fn refused_v4(ip: Ipv4Addr) -> Option<AddressKind> {
    let [first, second, ..] = ip.octets();
    if first == 0 {
        Some(AddressKind::Unspecified)
    } else if ip.is_link_local() {
        Some(AddressKind::LinkLocal)
    } else if ip.is_broadcast() {
        Some(AddressKind::Broadcast)
    } else if ip.is_multicast() {
        Some(AddressKind::Multicast)
    } else if ip.is_loopback() {
        Some(AddressKind::Loopback)
    } else if ip.is_private() || (first == 100 && (second & 0xc0) == 64) {
        // 100.64.0.0/10, carrier-grade NAT (`is_shared` is not stable yet).
        Some(AddressKind::Private)
    } else {
        None
    }
}

fn refused_v6(ip: Ipv6Addr) -> Option<AddressKind> {
    if ip.is_unspecified() {
        Some(AddressKind::Unspecified)
    } else if ip.is_loopback() {
        Some(AddressKind::Loopback)
    } else if let Some(v4) = embedded_v4(ip) {
        refused_v4(v4)
    } else if ip.is_unicast_link_local() {
        Some(AddressKind::LinkLocal)
    } else if ip.is_multicast() {
        Some(AddressKind::Multicast)
    } else if ip.is_unique_local() {
        Some(AddressKind::Private)
    } else {
        None
    }
}

/// The IPv4 address an IPv6 address stands for: IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible
/// (::a.b.c.d) and the NAT64 well-known prefix (64:ff9b::a.b.c.d), which a NAT64 gateway
/// forwards to that IPv4 address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let segments = ip.segments();
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [.., a, b, c, d] = ip.octets();
        return Some(Ipv4Addr::new(a, b, c, d));
    }
    ip.to_ipv4()
}

#[cfg(test)]
#[path = "destination_tests.rs"]
mod tests;
