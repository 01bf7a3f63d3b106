//! An external identity provider (OpenID Connect): its tokens are accepted wherever ours are.
//! A token verifies when it is signed with RS256, ES256 or EdDSA by one of the provider's
//! published keys whose type matches that algorithm, has not expired, names the configured
//! issuer and includes the configured audience. Anything else — `alg: none`, HS256 with a
//! public key as its secret, a key of another type, a kid the provider does not publish — is
//! refused. docs/identity.md tells the whole story.

mod fetch;
mod keys;
mod settings;

use std::fmt;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde_json::{Map, Value};
use taskpulse_actors::{DisplayName, Email, ExternalIdentity};

use keys::ProviderKeys;
pub use settings::{ProviderSettings, SettingsError};

/// Clock skew tolerated on `exp` and `nbf`, in seconds.
const LEEWAY_SECONDS: u64 = 30;
/// The longest subject kept (the mapping's limit).
const MAX_SUBJECT_CHARS: usize = 1024;

/// The provider's token algorithms: asymmetric only, so a published key can only verify.
const ALGORITHMS: [Algorithm; 3] = [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA];

/// A provider token that verified.
#[derive(Debug, Clone)]
pub struct ProviderClaims {
    /// Whom it names.
    pub identity: ExternalIdentity,
    /// When it expires (seconds since the epoch).
    pub expires_at: u64,
}

/// Why a token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// The token names a key the provider does not publish (as far as we know).
    UnknownKey,
    /// The token is malformed, forged, expired, or not for us.
    Invalid,
}

/// One identity provider: its settings and its keys.
pub struct IdentityProvider {
    settings: ProviderSettings,
    keys: ProviderKeys,
    /// A validation per algorithm in [`ALGORITHMS`], each pinned to that one algorithm.
    validations: Vec<(Algorithm, Validation)>,
}

impl fmt::Debug for IdentityProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityProvider")
            .field("issuer", &self.settings.issuer)
            .finish_non_exhaustive()
    }
}

impl IdentityProvider {
    /// A provider with these (already checked) settings; it fetches no key until asked.
    pub fn new(settings: ProviderSettings) -> Result<Self, SettingsError> {
        settings.check()?;
        let keys = ProviderKeys::new(&settings)?;
        let validations = ALGORITHMS
            .iter()
            .map(|&alg| {
                let mut validation = Validation::new(alg);
                validation.algorithms = vec![alg];
                validation.leeway = LEEWAY_SECONDS;
                validation.validate_exp = true;
                validation.validate_nbf = true;
                validation.validate_aud = true;
                validation.set_issuer(&[&settings.issuer]);
                validation.set_audience(&[&settings.audience]);
                validation.set_required_spec_claims(&["exp", "iss", "aud"]);
                (alg, validation)
            })
            .collect();
        Ok(Self {
            settings,
            keys,
            validations,
        })
    }

    /// The issuer whose tokens this accepts.
    pub fn issuer(&self) -> &str {
        &self.settings.issuer
    }

    /// Fetches the provider's keys now (at start-up, so the first request need not), unless
    /// they were fetched within the refetch interval.
    pub async fn prefetch(&self) {
        self.keys.refresh().await;
    }

    /// Verifies a token against the provider's keys, fetching them again when the token
    /// names a key not seen yet (at most once per refetch interval) or when they are old.
    pub async fn verify(&self, token: &str) -> Result<ProviderClaims, Rejection> {
        if self.keys.are_stale() {
            self.keys.refresh_unless_running().await;
        }
        match self.verify_with_known_keys(token) {
            Err(Rejection::UnknownKey) => {
                self.keys.refresh().await;
                self.verify_with_known_keys(token)
            }
            verified => verified,
        }
    }

    /// Verifies a token against the keys held now, without fetching.
    pub fn verify_with_known_keys(&self, token: &str) -> Result<ProviderClaims, Rejection> {
        // `alg: none` and unknown algorithms do not even parse as a header.
        let header = jsonwebtoken::decode_header(token).map_err(|_| Rejection::Invalid)?;
        let Some((_, validation)) = self.validations.iter().find(|(alg, _)| *alg == header.alg)
        else {
            return Err(Rejection::Invalid);
        };
        let candidates = self.keys.matching(header.alg, header.kid.as_deref());
        if candidates.is_empty() {
            return Err(Rejection::UnknownKey);
        }
        for key in candidates {
            match jsonwebtoken::decode::<Map<String, Value>>(token, &key.key, validation) {
                Ok(data) => return self.claims(&data.claims).ok_or(Rejection::Invalid),
                // Without a kid several keys may fit: try the next.
                Err(err) if matches!(err.kind(), ErrorKind::InvalidSignature) => continue,
                Err(_) => return Err(Rejection::Invalid),
            }
        }
        Err(Rejection::Invalid)
    }

    /// The identity the verified claims name: the configured subject claim (a non-empty
    /// string, or a number), with the email and name claims when they are usable.
    fn claims(&self, claims: &Map<String, Value>) -> Option<ProviderClaims> {
        let subject = match claims.get(&self.settings.user_claim)? {
            Value::String(text) => text.clone(),
            Value::Number(number) => number.to_string(),
            _ => return None,
        };
        // PostgreSQL text holds no NUL.
        if subject.is_empty()
            || subject.contains('\0')
            || subject.chars().count() > MAX_SUBJECT_CHARS
        {
            return None;
        }
        let text = |claim: &Option<String>| {
            claim
                .as_ref()
                .and_then(|name| claims.get(name))
                .and_then(Value::as_str)
        };
        // An address the provider says it has not verified is not one to give the account.
        let unverified = claims.get("email_verified") == Some(&Value::Bool(false));
        let email = text(&self.settings.email_claim)
            .filter(|_| !unverified)
            .and_then(|email| Email::parse(email).ok());
        let display_name =
            text(&self.settings.name_claim).and_then(|name| DisplayName::parse(name).ok());
        let expires_at = claims.get("exp").and_then(|exp| {
            exp.as_u64()
                .or_else(|| exp.as_f64().map(|secs| secs as u64))
        })?;
        Some(ProviderClaims {
            identity: ExternalIdentity {
                issuer: self.settings.issuer.clone(),
                subject,
                email,
                display_name,
            },
            expires_at,
        })
    }
}
