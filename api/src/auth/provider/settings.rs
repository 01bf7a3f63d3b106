//! What an identity provider is configured with, and the checks it must pass at start-up.

use std::net::IpAddr;
use std::time::Duration;

use url::{Host, Url};

/// How an identity provider is configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderSettings {
    /// The issuer: a token's `iss` must equal it. Without [`Self::jwks_url`] the keys are
    /// found by discovery at `<issuer>/.well-known/openid-configuration`.
    pub issuer: String,
    /// Where the provider publishes its keys (a JWKS document), skipping discovery.
    pub jwks_url: Option<String>,
    /// A token's `aud` must contain it.
    pub audience: String,
    /// The claim that names the user (default `sub`).
    pub user_claim: String,
    /// The claim with the user's email, if any (default `email`).
    pub email_claim: Option<String>,
    /// The claim with the user's display name, if any (default `name`).
    pub name_claim: Option<String>,
    /// The keys are fetched again at most this often, however many tokens name an unknown
    /// key (default 30 s): forged kids cannot make us hammer the provider.
    pub refetch_interval: Duration,
    /// Keys older than this are fetched again on the next request (default 1 h), so a key the
    /// provider withdrew stops verifying even when no new key appears.
    pub keys_max_age: Duration,
}

impl ProviderSettings {
    /// Settings for `issuer` and `audience`, with the defaults for the rest.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            jwks_url: None,
            audience: audience.into(),
            user_claim: "sub".to_owned(),
            email_claim: Some("email".to_owned()),
            name_claim: Some("name".to_owned()),
            refetch_interval: Duration::from_secs(30),
            keys_max_age: Duration::from_secs(3600),
        }
    }

    /// The URL discovery reads, or the configured JWKS URL; both must be https (plain http
    /// only for a loopback address), and the audience and claims must be named.
    pub fn check(&self) -> Result<(), SettingsError> {
        if self.audience.trim().is_empty() {
            return Err(SettingsError(
                "--oidc-audience must not be empty".to_owned(),
            ));
        }
        if self.user_claim.trim().is_empty() {
            return Err(SettingsError(
                "--oidc-user-claim must not be empty".to_owned(),
            ));
        }
        // The mapping keeps issuers of up to 2048 characters, one line each.
        if self.issuer.is_empty()
            || self.issuer.chars().count() > 2048
            || self.issuer.contains(['\n', '\0'])
        {
            return Err(SettingsError(
                "--oidc-issuer must be a URL such as https://login.example.com".to_owned(),
            ));
        }
        match &self.jwks_url {
            Some(url) => {
                require_https_unless_loopback(&parse_url("--jwks-url", url)?, "--jwks-url")?;
            }
            None => {
                let issuer = parse_url("--oidc-issuer", &self.issuer)?;
                require_https_unless_loopback(&issuer, "--oidc-issuer")?;
            }
        }
        Ok(())
    }

    /// Where discovery reads the provider's configuration.
    pub(super) fn discovery_url(&self) -> String {
        format!(
            "{}/.well-known/openid-configuration",
            self.issuer.trim_end_matches('/')
        )
    }
}

/// Why the identity provider settings cannot be used: one line for the operator.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SettingsError(pub String);

fn parse_url(flag: &str, text: &str) -> Result<Url, SettingsError> {
    Url::parse(text).map_err(|err| SettingsError(format!("{flag} {text:?} is not a URL: {err}")))
}

/// Keys are fetched over https only: a plain-http fetch could be answered by anyone on the
/// path with keys of their own. Plain http is allowed for a loopback address (a provider on
/// the same machine, and the tests).
pub fn require_https_unless_loopback(url: &Url, what: &str) -> Result<(), SettingsError> {
    let loopback = match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(SettingsError(format!(
            "{what} must be an https URL (plain http only for a loopback address such as \
             127.0.0.1): {url}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_issuer(issuer: &str) -> ProviderSettings {
        ProviderSettings::new(issuer, "taskpulse")
    }

    #[test]
    fn https_is_required_except_on_loopback() {
        for good in [
            "https://login.example.com",
            "http://127.0.0.1:8081/realms/x",
            "http://[::1]:9000",
            "http://localhost:9000",
        ] {
            assert!(with_issuer(good).check().is_ok(), "{good}");
        }
        for bad in [
            "http://login.example.com",
            "http://10.0.0.1",
            "ftp://127.0.0.1",
            "not a url",
        ] {
            assert!(with_issuer(bad).check().is_err(), "{bad}");
        }
        let mut jwks = with_issuer("any issuer text");
        jwks.jwks_url = Some("http://keys.example.com/jwks.json".to_owned());
        assert!(jwks.check().is_err());
        jwks.jwks_url = Some("https://keys.example.com/jwks.json".to_owned());
        assert!(jwks.check().is_ok());
    }

    #[test]
    fn the_audience_is_required() {
        assert!(
            ProviderSettings::new("https://a.example", " ")
                .check()
                .is_err()
        );
    }
}
