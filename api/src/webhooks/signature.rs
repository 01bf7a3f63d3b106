//! Standard Webhooks signatures (<https://www.standardwebhooks.com/>), made by the
//! specification's own Rust library: `webhook-signature` is `v1,` and the base64 HMAC-SHA256,
//! keyed with the secret's bytes, of `<webhook-id>.<webhook-timestamp>.<body>`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use standardwebhooks::Webhook;

/// What a secret starts with, before the base64 of its bytes.
const SECRET_PREFIX: &str = "whsec_";

/// A new secret: "whsec_" + base64 of 32 random bytes.
pub(crate) fn new_secret() -> String {
    let key: [u8; 32] = rand::random();
    format!("{SECRET_PREFIX}{}", STANDARD.encode(key))
}

/// The three headers for one delivery: webhook-id, webhook-timestamp (unix seconds),
/// webhook-signature ("v1,<base64 HMAC-SHA256 of id.timestamp.body>").
/// Fails on a secret that is not base64 and on a body that is not UTF-8 (the library signs
/// text; a JSON body always is).
pub(crate) fn headers(
    secret: &str,
    message_id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<[(&'static str, String); 3], String> {
    let signature = Webhook::new(secret)
        .and_then(|webhook| webhook.sign(message_id, timestamp, body))
        .map_err(|err| format!("cannot sign the delivery: {err}"))?;
    Ok([
        ("webhook-id", message_id.to_owned()),
        ("webhook-timestamp", timestamp.to_string()),
        ("webhook-signature", signature),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A delivery body as taskpulse sends one (with a character outside ASCII).
    const BODY: &[u8] = r#"{"id":"0193a5f0-7c1e-7000-8000-000000000001","type":"task.completed","at":"2026-12-07T07:00:00Z","data":{"title":"Ship ü"}}"#.as_bytes();
    const MESSAGE_ID: &str = "0193a5f0-7c1e-7000-8000-000000000001";

    fn http_headers(headers: &[(&'static str, String); 3]) -> anyhow::Result<hyper::HeaderMap> {
        let mut map = hyper::HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, value.parse()?);
        }
        Ok(map)
    }

    #[test]
    fn a_signed_delivery_verifies_with_the_standard_library() -> anyhow::Result<()> {
        let secret = new_secret();
        let now = chrono::Utc::now().timestamp();

        let headers = headers(&secret, MESSAGE_ID, now, BODY).map_err(anyhow::Error::msg)?;
        let verifier = Webhook::new(&secret)?;

        verifier.verify(BODY, &http_headers(&headers)?)?;
        assert!(verifier.verify(b"{}", &http_headers(&headers)?).is_err());
        assert!(
            Webhook::new(&new_secret())?
                .verify(BODY, &http_headers(&headers)?)
                .is_err()
        );
        Ok(())
    }

    #[test]
    fn the_signature_matches_a_known_vector() -> anyhow::Result<()> {
        // The key is the bytes 0, 1, …, 31; the expected signature was made with the official
        // Python library (standardwebhooks 1.3.0) and agrees with a plain hmac-sha256 there.
        let secret = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

        let headers =
            headers(secret, MESSAGE_ID, 1_796_626_800, BODY).map_err(anyhow::Error::msg)?;

        assert_eq!(
            headers,
            [
                ("webhook-id", MESSAGE_ID.to_owned()),
                ("webhook-timestamp", "1796626800".to_owned()),
                (
                    "webhook-signature",
                    "v1,gzxj43OESN+onHtMuZOHyqTA9foHQDiZcCu1FsbD1Hc=".to_owned()
                ),
            ]
        );
        Ok(())
    }

    #[test]
    fn a_new_secret_is_32_random_bytes_in_base64() -> anyhow::Result<()> {
        let secret = new_secret();
        let other = new_secret();

        let key = secret
            .strip_prefix(SECRET_PREFIX)
            .ok_or_else(|| anyhow::anyhow!("{secret} lacks whsec_"))?;
        assert_eq!(STANDARD.decode(key)?.len(), 32);
        assert_ne!(secret, other);
        Ok(())
    }

    #[test]
    fn a_secret_that_is_not_base64_is_an_error() {
        assert!(headers("whsec_not base64!", MESSAGE_ID, 0, BODY).is_err());
    }
}
