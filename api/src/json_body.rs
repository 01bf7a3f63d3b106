//! A JSON request body that gives one key twice is refused with 400 `malformed_request`:
//! serde keeps the last value without a word, so `{"title":"a","title":"b"}` would be stored as
//! "b" while the client may have meant "a".

use std::collections::HashSet;
use std::fmt;

use poem::http::header::CONTENT_TYPE;
use poem::{Body, Endpoint, Request};
use serde::de::{Deserialize, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};

use crate::error::ApiError;

/// The middleware function, for `EndpointExt::around`; runs inside the body size limit, so the
/// body it reads is at most 64 KiB.
pub async fn reject_duplicate_keys<E: Endpoint>(
    next: E,
    mut req: Request,
) -> poem::Result<E::Output> {
    if !is_json(&req) {
        return next.call(req).await;
    }
    let body = req.take_body().into_bytes().await?;
    if let Some(duplicate) = duplicate_key(&body) {
        return Err(ApiError::Malformed(duplicate).into());
    }
    req.set_body(Body::from_bytes(body));
    next.call(req).await
}

fn is_json(req: &Request) -> bool {
    req.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|media| media.trim().to_ascii_lowercase())
        .is_some_and(|media| media == "application/json" || media.ends_with("+json"))
}

/// Where `body` first gives a key twice in one object, if it does. A body that is not JSON at
/// all is left to the handler, which answers it as it does today.
pub fn duplicate_key(body: &[u8]) -> Option<String> {
    match serde_json::from_slice::<Checked>(body) {
        Err(err) if err.classify() == serde_json::error::Category::Data => Some(err.to_string()),
        _ => None,
    }
}

/// Any JSON value, walked to find a key given twice in one object.
struct Checked;

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(CheckedVisitor)
    }
}

struct CheckedVisitor;

impl<'de> Visitor<'de> for CheckedVisitor {
    type Value = Checked;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_str<E>(self, _: &str) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_unit<E>(self) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Checked, A::Error> {
        while seq.next_element::<Checked>()?.is_some() {}
        Ok(Checked)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Checked, A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(A::Error::custom(format_args!(
                    "the key {key:?} is given more than once"
                )));
            }
            map.next_value::<Checked>()?;
        }
        Ok(Checked)
    }
}

#[cfg(test)]
mod tests {
    use super::duplicate_key;

    #[test]
    fn a_key_given_twice_in_any_object_is_found() {
        assert!(
            duplicate_key(br#"{"title":"a","title":"b"}"#).is_some_and(|d| d.contains("title"))
        );
        assert!(
            duplicate_key(br#"{"a":[{"x":1},{"y":2,"y":3}]}"#).is_some_and(|d| d.contains("\"y\""))
        );
        assert!(duplicate_key(br#"{"o":{"k":1,"k":1}}"#).is_some());
    }

    #[test]
    fn distinct_keys_and_non_json_pass() {
        assert_eq!(
            duplicate_key(br#"{"title":"a","o":{"title":"b"},"l":[{"t":1},{"t":2}]}"#),
            None
        );
        assert_eq!(
            duplicate_key(b"[1, 2.5, -3, true, null, \"s\", 1e400]"),
            None
        );
        assert_eq!(duplicate_key(b"{not json"), None);
        assert_eq!(duplicate_key(b""), None);
    }
}
