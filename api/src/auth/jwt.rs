//! Access tokens: short-lived HS256 JWTs. Verification pins everything it can — the algorithm,
//! issuer, audience, token type, `exp` and `nbf` — so that no other token, and no token signed
//! any other way, passes as an access token.

use std::fmt;
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use taskpulse_actors::UserId;
use uuid::Uuid;

/// The `iss` of every access token.
pub const ISSUER: &str = "taskpulse";
/// The `aud` of every access token.
pub const AUDIENCE: &str = "taskpulse-api";
/// The `typ` claim of an access token.
pub const ACCESS_TOKEN_TYPE: &str = "access";
/// The shortest accepted HS256 secret, in bytes (RFC 7518 §3.2: at least the hash size).
pub const MIN_SECRET_BYTES: usize = 32;
/// Clock skew tolerated on `exp` and `nbf`, in seconds.
const LEEWAY_SECONDS: u64 = 10;

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The user's id.
    pub sub: Uuid,
    /// Always [`ISSUER`].
    pub iss: String,
    /// Always [`AUDIENCE`].
    pub aud: String,
    /// Always [`ACCESS_TOKEN_TYPE`].
    pub typ: String,
    /// Issued at (seconds since the epoch).
    pub iat: u64,
    /// Not valid before (seconds since the epoch).
    pub nbf: u64,
    /// Expires at (seconds since the epoch).
    pub exp: u64,
    /// This token's unique id.
    pub jti: Uuid,
    /// The sign-in session it was issued in (tokens from before sessions were named have
    /// none): when the session ends, so does the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<Uuid>,
}

/// Whom a valid access token speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subject {
    /// The user.
    pub user: UserId,
    /// The sign-in session the token was issued in.
    pub session: Option<Uuid>,
}

/// A freshly issued access token.
#[derive(Debug, Clone)]
pub struct AccessToken {
    /// The compact JWT.
    pub token: String,
    /// Its lifetime in seconds.
    pub expires_in: u64,
}

/// Why the secret cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("the JWT secret must be at least {MIN_SECRET_BYTES} bytes long (it has {0})")]
pub struct WeakSecret(pub usize);

/// Issues and verifies access tokens with one HS256 secret.
#[derive(Clone)]
pub struct AccessTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl fmt::Debug for AccessTokens {
    // The keys stay out of every log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessTokens")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl AccessTokens {
    /// Tokens signed with `secret` (at least [`MIN_SECRET_BYTES`]) that live for `ttl`.
    pub fn new(secret: &[u8], ttl: Duration) -> Result<Self, WeakSecret> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(WeakSecret(secret.len()));
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        Ok(Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl,
        })
    }

    /// The lifetime of the tokens this issues.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// A new access token for `user` in the sign-in session `session`.
    pub fn issue(
        &self,
        user: UserId,
        session: Uuid,
    ) -> Result<AccessToken, jsonwebtoken::errors::Error> {
        let now = jsonwebtoken::get_current_timestamp();
        let expires_in = self.ttl.as_secs().max(1);
        let claims = AccessClaims {
            sub: user.0,
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            typ: ACCESS_TOKEN_TYPE.to_owned(),
            iat: now,
            nbf: now,
            exp: now + expires_in,
            jti: Uuid::now_v7(),
            sid: Some(session),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        Ok(AccessToken { token, expires_in })
    }

    /// Whom an access token speaks for, when the token is valid in every respect (whether
    /// its session or account still exists is the engine's to say).
    pub fn verify(&self, token: &str) -> Option<Subject> {
        self.verify_claims(token).map(|claims| Subject {
            user: UserId(claims.sub),
            session: claims.sid,
        })
    }

    /// The claims of an access token that is valid in every respect (sessions that outlive a
    /// request need its expiry too).
    pub fn verify_claims(&self, token: &str) -> Option<AccessClaims> {
        let data =
            jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation).ok()?;
        (data.claims.typ == ACCESS_TOKEN_TYPE).then_some(data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> Result<AccessTokens, WeakSecret> {
        AccessTokens::new(&[7u8; 32], Duration::from_secs(900))
    }

    #[test]
    fn an_issued_token_verifies_to_its_user() -> anyhow::Result<()> {
        let tokens = tokens()?;
        let user = UserId::new();

        let session = Uuid::now_v7();

        let issued = tokens.issue(user, session)?;

        let subject = Subject {
            user,
            session: Some(session),
        };
        assert_eq!(tokens.verify(&issued.token), Some(subject));
        assert_eq!(issued.expires_in, 900);
        Ok(())
    }

    #[test]
    fn a_token_from_another_secret_does_not_verify() -> anyhow::Result<()> {
        let other = AccessTokens::new(&[8u8; 32], Duration::from_secs(900))?;

        let issued = other.issue(UserId::new(), Uuid::now_v7())?;

        assert_eq!(tokens()?.verify(&issued.token), None);
        Ok(())
    }

    #[test]
    fn a_short_secret_is_refused() {
        assert!(AccessTokens::new(&[1u8; 31], Duration::from_secs(60)).is_err());
    }
}
