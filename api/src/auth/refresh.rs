//! Refresh tokens: 256 random bits, base64url on the wire, only their SHA-256 at rest (a
//! stolen database copy signs nobody in). Hashing needs no salt or slow function here: the
//! tokens are random, not guessable passwords.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A new refresh token: the text handed to the client and the hash that is stored.
#[derive(Clone)]
pub struct NewRefreshToken {
    /// What the client keeps and presents.
    pub token: String,
    /// What the database keeps.
    pub hash: [u8; 32],
}

impl std::fmt::Debug for NewRefreshToken {
    // The token is a credential: it stays out of every log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewRefreshToken(..)")
    }
}

/// 32 bytes from a CSPRNG seeded by the operating system, encoded as base64url.
pub fn generate_refresh_token() -> NewRefreshToken {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_refresh_token(&token);
    NewRefreshToken { token, hash }
}

/// The stored form of a presented token.
pub fn hash_refresh_token(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bit_base64url_and_hash_consistently() {
        let new = generate_refresh_token();

        assert_eq!(new.token.len(), 43);
        assert!(
            new.token
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_eq!(hash_refresh_token(&new.token), new.hash);
        assert_ne!(generate_refresh_token().token, new.token);
    }
}
