//! The provider's keys: fetched (by discovery, or from the configured JWKS URL), kept by kid,
//! and fetched again when a token names a kid not seen — at most once per refetch interval,
//! however many such tokens arrive — or when they are old. A provider that is down leaves the
//! keys as they were: tokens signed with a known key go on verifying.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Instant;

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::Mutex;
use url::Url;

use super::fetch::Fetcher;
use super::settings::{ProviderSettings, SettingsError, require_https_unless_loopback};

/// A key the provider publishes, usable with exactly one algorithm.
pub(super) struct ProviderKey {
    kid: Option<String>,
    alg: Algorithm,
    /// The key itself.
    pub(super) key: DecodingKey,
}

#[derive(Default)]
struct KeySet {
    keys: Vec<Arc<ProviderKey>>,
    fetched_at: Option<Instant>,
}

/// What the fetching side remembers.
#[derive(Default)]
struct Fetching {
    /// When the keys were last asked for (whatever came of it).
    last_attempt: Option<Instant>,
    /// The JWKS URL, once configured or discovered.
    jwks_url: Option<Url>,
}

/// The provider's keys and how to fetch them.
pub struct ProviderKeys {
    settings: ProviderSettings,
    fetcher: Fetcher,
    held: RwLock<KeySet>,
    fetching: Mutex<Fetching>,
}

impl ProviderKeys {
    /// No keys yet; they are fetched when first needed.
    pub fn new(settings: &ProviderSettings) -> Result<Self, SettingsError> {
        let fetcher = Fetcher::new().map_err(SettingsError)?;
        let jwks_url = match &settings.jwks_url {
            Some(url) => {
                Some(Url::parse(url).map_err(|err| SettingsError(format!("--jwks-url: {err}")))?)
            }
            None => None,
        };
        Ok(Self {
            settings: settings.clone(),
            fetcher,
            held: RwLock::new(KeySet::default()),
            fetching: Mutex::new(Fetching {
                last_attempt: None,
                jwks_url,
            }),
        })
    }

    /// The keys that may have signed a token with this header: those for its algorithm, and
    /// with its kid when it names one.
    pub(super) fn matching(&self, alg: Algorithm, kid: Option<&str>) -> Vec<Arc<ProviderKey>> {
        let held = self.held.read().unwrap_or_else(PoisonError::into_inner);
        held.keys
            .iter()
            .filter(|key| key.alg == alg && (kid.is_none() || key.kid.as_deref() == kid))
            .cloned()
            .collect()
    }

    /// Whether the keys were never fetched, or were fetched longer ago than their maximum age.
    pub(super) fn are_stale(&self) -> bool {
        let held = self.held.read().unwrap_or_else(PoisonError::into_inner);
        held.fetched_at
            .is_none_or(|at| at.elapsed() >= self.settings.keys_max_age)
    }

    /// Fetches the keys again, unless that was tried within the refetch interval. Callers
    /// that arrive while a fetch runs wait for it, and do not fetch again.
    pub(super) async fn refresh(&self) {
        let fetching = self.fetching.lock().await;
        self.refresh_locked(fetching).await;
    }

    /// As [`Self::refresh`], but when a fetch is already running, returns at once: for keys
    /// that are merely old, whose holders need not wait for a slow provider.
    pub(super) async fn refresh_unless_running(&self) {
        if let Ok(fetching) = self.fetching.try_lock() {
            self.refresh_locked(fetching).await;
        }
    }

    async fn refresh_locked(&self, mut fetching: tokio::sync::MutexGuard<'_, Fetching>) {
        if fetching
            .last_attempt
            .is_some_and(|at| at.elapsed() < self.settings.refetch_interval)
        {
            return;
        }
        fetching.last_attempt = Some(Instant::now());
        match self.fetch(&mut fetching).await {
            Ok(keys) if keys.is_empty() => tracing::warn!(
                issuer = %self.settings.issuer,
                "the identity provider publishes no RS256, ES256 or EdDSA signing key; \
                 keeping the keys held"
            ),
            Ok(keys) => {
                let count = keys.len();
                let mut held = self.held.write().unwrap_or_else(PoisonError::into_inner);
                *held = KeySet {
                    keys,
                    fetched_at: Some(Instant::now()),
                };
                tracing::debug!(count, "fetched the identity provider's keys");
            }
            Err(err) => tracing::warn!(
                issuer = %self.settings.issuer,
                error = %err,
                "cannot fetch the identity provider's keys; keeping the keys held"
            ),
        }
    }

    async fn fetch(&self, fetching: &mut Fetching) -> Result<Vec<Arc<ProviderKey>>, String> {
        let jwks_url = match &fetching.jwks_url {
            Some(url) => url.clone(),
            None => {
                let url = self.discover().await?;
                fetching.jwks_url = Some(url.clone());
                url
            }
        };
        let document: Value = self.get_json(jwks_url.as_str()).await?;
        let keys = document
            .get("keys")
            .and_then(Value::as_array)
            .ok_or("the JWKS document has no `keys` array")?;
        // One key the library cannot read does not spoil the others.
        Ok(keys
            .iter()
            .filter_map(|key| serde_json::from_value::<Jwk>(key.clone()).ok())
            .filter_map(|jwk| usable_key(&jwk))
            .map(Arc::new)
            .collect())
    }

    /// The JWKS URL from the provider's discovery document, which must name our issuer.
    async fn discover(&self) -> Result<Url, String> {
        #[derive(Deserialize)]
        struct Discovery {
            issuer: String,
            jwks_uri: String,
        }
        let discovery: Discovery = self.get_json(&self.settings.discovery_url()).await?;
        if discovery.issuer != self.settings.issuer {
            return Err(format!(
                "the discovery document names the issuer {:?}, not {:?}",
                discovery.issuer, self.settings.issuer
            ));
        }
        let url = Url::parse(&discovery.jwks_uri)
            .map_err(|err| format!("the discovery document's jwks_uri: {err}"))?;
        require_https_unless_loopback(&url, "the discovered jwks_uri").map_err(|e| e.0)?;
        Ok(url)
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, String> {
        let parsed = Url::parse(url).map_err(|err| format!("{url}: {err}"))?;
        let body = self.fetcher.get(&parsed).await?;
        serde_json::from_slice(&body).map_err(|err| format!("GET {url}: {err}"))
    }
}

/// The key a JWK describes, when it is a signing key of a type we accept: RSA (2048 bits or
/// more) for RS256, EC P-256 for ES256, OKP Ed25519 for EdDSA. Symmetric (`oct`) keys are never taken, and a
/// key whose own `alg` names another algorithm is skipped.
fn usable_key(jwk: &Jwk) -> Option<ProviderKey> {
    if matches!(
        jwk.common.public_key_use,
        Some(PublicKeyUse::Encryption | PublicKeyUse::Other(_))
    ) {
        return None;
    }
    let alg = match &jwk.algorithm {
        // RSA below 2048 bits is refused: 2048 bits are 342 base64url characters, less one
        // for rounding once leading zeros ('A') are dropped.
        AlgorithmParameters::RSA(rsa) if rsa.n.trim_start_matches('A').len() >= 341 => {
            Algorithm::RS256
        }
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
            Algorithm::ES256
        }
        AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => {
            Algorithm::EdDSA
        }
        _ => return None,
    };
    if jwk
        .common
        .key_algorithm
        .is_some_and(|declared| declared != KeyAlgorithm::from(alg))
    {
        return None;
    }
    let key = DecodingKey::from_jwk(jwk).ok()?;
    Some(ProviderKey {
        kid: jwk.common.key_id.clone(),
        alg,
        key,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn jwk(value: serde_json::Value) -> Jwk {
        serde_json::from_value(value).expect("a JWK")
    }

    fn rsa(extra: serde_json::Value) -> Jwk {
        let mut key = json!({ "kty": "RSA", "kid": "r", "n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw", "e": "AQAB" });
        if let (Some(key), Some(extra)) = (key.as_object_mut(), extra.as_object()) {
            key.extend(extra.clone());
        }
        jwk(key)
    }

    #[test]
    fn an_rsa_signing_key_is_for_rs256_only() {
        let key = usable_key(&rsa(json!({}))).map(|key| (key.kid, key.alg));
        assert_eq!(key, Some((Some("r".to_owned()), Algorithm::RS256)));
        assert!(usable_key(&rsa(json!({ "alg": "RS256", "use": "sig" }))).is_some());
    }

    #[test]
    fn keys_declared_for_another_use_or_algorithm_are_skipped() {
        assert!(usable_key(&rsa(json!({ "use": "enc" }))).is_none());
        assert!(usable_key(&rsa(json!({ "alg": "RS512" }))).is_none());
        assert!(usable_key(&rsa(json!({ "alg": "HS256" }))).is_none());
    }

    #[test]
    fn rsa_keys_below_2048_bits_are_skipped() {
        let short = rsa(
            json!({ "n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4" }),
        );
        assert!(usable_key(&short).is_none());
    }

    #[test]
    fn symmetric_keys_are_never_taken() {
        let oct =
            jwk(json!({ "kty": "oct", "kid": "h", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0" }));
        assert!(usable_key(&oct).is_none());
        let declared = jwk(json!({ "kty": "oct", "alg": "HS256", "k": "c2VjcmV0" }));
        assert!(usable_key(&declared).is_none());
    }
}
