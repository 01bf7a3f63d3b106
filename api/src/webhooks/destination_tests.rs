//! Tests of `destination.rs`.
use anyhow::Context;

use super::*;

const STRICT: DestinationPolicy = DestinationPolicy {
    allow_http: false,
    allow_private: false,
};
const LENIENT: DestinationPolicy = DestinationPolicy {
    allow_http: true,
    allow_private: true,
};

/// The refusal of a URL that must be refused.
async fn refusal(url: &str, policy: DestinationPolicy) -> anyhow::Result<Refusal> {
    let url = Url::parse(url)?;
    resolve(&url, policy)
        .await
        .err()
        .with_context(|| format!("{url} was not refused"))
}

#[test]
fn every_address_class_is_recognised() -> anyhow::Result<()> {
    use AddressKind::*;
    let table: &[(&str, Option<AddressKind>)] = &[
        ("93.184.215.14", None),
        ("8.8.8.8", None),
        ("2606:4700::1111", None),
        ("0.0.0.0", Some(Unspecified)),
        ("0.1.2.3", Some(Unspecified)),
        ("::", Some(Unspecified)),
        ("169.254.169.254", Some(LinkLocal)),
        ("169.254.0.1", Some(LinkLocal)),
        ("fe80::1", Some(LinkLocal)),
        ("febf::1", Some(LinkLocal)),
        ("224.0.0.1", Some(Multicast)),
        ("239.255.255.250", Some(Multicast)),
        ("ff02::1", Some(Multicast)),
        ("255.255.255.255", Some(Broadcast)),
        ("127.0.0.1", Some(Loopback)),
        ("127.255.0.9", Some(Loopback)),
        ("::1", Some(Loopback)),
        ("10.0.0.5", Some(Private)),
        ("172.16.0.1", Some(Private)),
        ("172.31.255.255", Some(Private)),
        ("172.32.0.1", None),
        ("192.168.1.1", Some(Private)),
        ("100.64.0.1", Some(Private)),
        ("100.127.255.255", Some(Private)),
        ("100.128.0.1", None),
        ("100.63.255.255", None),
        ("fc00::1", Some(Private)),
        ("fd12:3456::1", Some(Private)),
        // IPv4 inside IPv6 is judged as the IPv4 address.
        ("::ffff:10.0.0.5", Some(Private)),
        ("::ffff:127.0.0.1", Some(Loopback)),
        ("::ffff:169.254.169.254", Some(LinkLocal)),
        ("::ffff:8.8.8.8", None),
        ("::10.0.0.5", Some(Private)),
        ("64:ff9b::169.254.169.254", Some(LinkLocal)),
        ("64:ff9b::8.8.8.8", None),
    ];
    for (address, expected) in table {
        assert_eq!(refused_kind(address.parse()?), *expected, "{address}");
    }
    Ok(())
}

#[test]
fn parse_accepts_https_and_http_only_when_allowed() -> anyhow::Result<()> {
    let url = parse("https://hooks.example.com/in?x=1", STRICT)?;

    assert_eq!(url.as_str(), "https://hooks.example.com/in?x=1");
    assert_eq!(
        parse("http://hooks.example.com/", STRICT),
        Err(Refusal::HttpsRequired)
    );
    assert!(parse("http://hooks.example.com/", LENIENT).is_ok());
    Ok(())
}

#[test]
fn parse_refuses_what_cannot_be_a_destination() {
    let long = format!("https://example.com/{}", "a".repeat(2048));
    let table: &[(&str, Refusal)] = &[
        ("ftp://example.com/", Refusal::HttpsRequired),
        ("file:///etc/passwd", Refusal::HttpsRequired),
        ("https://user:pw@example.com/", Refusal::Credentials),
        ("https://user@example.com/", Refusal::Credentials),
        ("https://example.com/#top", Refusal::Fragment),
        ("https://example.com/#", Refusal::Fragment),
        (&long, Refusal::TooLong { length: long.len() }),
    ];
    for (url, expected) in table {
        assert_eq!(parse(url, STRICT).as_ref(), Err(expected), "{url}");
    }
    assert_eq!(
        parse("gopher://example.com/", LENIENT),
        Err(Refusal::HttpRequired)
    );
    for url in ["/relative/path", "example.com/hook", "https://", ""] {
        let outcome = parse(url, LENIENT);
        assert!(
            matches!(outcome, Err(Refusal::Malformed { .. })),
            "{url}: {outcome:?}"
        );
    }
}

#[test]
fn refusals_read_as_sentences() -> anyhow::Result<()> {
    let resolved = Refusal::Address {
        host: "internal.example".to_owned(),
        address: "10.0.0.5".parse()?,
        kind: AddressKind::Private,
    };
    let literal = Refusal::Address {
        host: "[::1]".to_owned(),
        address: "::1".parse()?,
        kind: AddressKind::Loopback,
    };

    assert_eq!(
        resolved.to_string(),
        "the host internal.example resolves to 10.0.0.5, a private address"
    );
    assert_eq!(literal.to_string(), "the host ::1 is a loopback address");
    assert_eq!(Refusal::HttpsRequired.to_string(), "the URL must use https");
    Ok(())
}

#[tokio::test]
async fn localhost_is_refused_unless_private_addresses_are_allowed() -> anyhow::Result<()> {
    let url = "http://localhost:8080/hook";
    let public_only = DestinationPolicy {
        allow_http: true,
        allow_private: false,
    };

    let refused = refusal(url, public_only).await?;
    let allowed = resolve(&Url::parse(url)?, LENIENT).await?;

    assert!(
        matches!(
            refused,
            Refusal::Address {
                kind: AddressKind::Loopback,
                ..
            }
        ),
        "{refused}"
    );
    assert!(!allowed.addresses.is_empty());
    assert!(
        allowed
            .addresses
            .iter()
            .all(|address| address.ip().is_loopback() && address.port() == 8080),
        "{:?}",
        allowed.addresses
    );
    Ok(())
}

#[tokio::test]
async fn cloud_metadata_is_refused_even_with_private_addresses_allowed() -> anyhow::Result<()> {
    let refused = refusal("http://169.254.169.254/latest/meta-data/", LENIENT).await?;

    assert_eq!(
        refused,
        Refusal::Address {
            host: "169.254.169.254".to_owned(),
            address: "169.254.169.254".parse()?,
            kind: AddressKind::LinkLocal,
        }
    );
    assert_eq!(
        refused.to_string(),
        "the host 169.254.169.254 is a link-local address"
    );
    Ok(())
}

#[tokio::test]
async fn an_ip_literal_is_checked_without_dns() -> anyhow::Result<()> {
    let public = Url::parse("https://[2606:4700::1111]:8443/in")?;

    let destination = resolve(&public, STRICT).await?;
    let refused = refusal("https://10.1.2.3/in", STRICT).await?;

    assert_eq!(
        destination.addresses,
        vec![SocketAddr::new("2606:4700::1111".parse()?, 8443)]
    );
    assert!(
        matches!(
            refused,
            Refusal::Address {
                kind: AddressKind::Private,
                ..
            }
        ),
        "{refused}"
    );
    Ok(())
}

#[tokio::test]
async fn resolve_checks_the_syntax_again_under_the_current_policy() -> anyhow::Result<()> {
    let refused = refusal("http://93.184.215.14/", STRICT).await?;

    assert_eq!(refused, Refusal::HttpsRequired);
    Ok(())
}
