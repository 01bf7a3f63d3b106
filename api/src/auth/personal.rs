//! Personal access tokens on the wire: `tp_pat_` and 256 random bits in base64url. Only the
//! SHA-256 of the whole text is stored (high-entropy secrets need no salt or slow hash); the
//! prefix lets a token be told from a JWT without trying to verify it, and lets secret
//! scanners recognise a leaked one.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// What every personal access token starts with.
pub const PERSONAL_TOKEN_PREFIX: &str = "tp_pat_";

/// A new token: the text shown to its creator once, and the digest that is stored.
pub struct NewPersonalSecret {
    /// What the client keeps and presents.
    pub token: String,
    /// What the database keeps.
    pub digest: [u8; 32],
}

/// 32 bytes from the operating system's CSPRNG, behind the prefix.
pub fn generate_personal_token() -> NewPersonalSecret {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = format!("{PERSONAL_TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let digest = personal_token_digest(&token);
    NewPersonalSecret { token, digest }
}

/// The stored form of a presented token.
pub fn personal_token_digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_the_prefix_and_256_random_bits() {
        let new = generate_personal_token();

        let secret = new
            .token
            .strip_prefix(PERSONAL_TOKEN_PREFIX)
            .unwrap_or_default();
        assert_eq!(secret.len(), 43);
        assert_eq!(personal_token_digest(&new.token), new.digest);
        assert_ne!(generate_personal_token().token, new.token);
    }
}
