//! Times as every shape writes them: RFC 3339 with `+00:00` and as many sub-second digits as
//! the time has (`DateTime::to_rfc3339`), which is what the OpenAPI document and the clients
//! have always been given; serde's own chrono format would write `Z`.

use chrono::{DateTime, Utc};
use serde::Serializer;

pub(crate) fn rfc3339<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&at.to_rfc3339())
}

pub(crate) fn rfc3339_or_null<S: Serializer>(
    at: &Option<DateTime<Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => rfc3339(at, serializer),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[derive(serde::Serialize)]
    struct At {
        #[serde(serialize_with = "rfc3339")]
        at: DateTime<Utc>,
        #[serde(serialize_with = "rfc3339_or_null")]
        maybe: Option<DateTime<Utc>>,
    }

    #[test]
    fn times_carry_an_offset_and_only_the_digits_they_have() {
        let whole = Utc.timestamp_opt(1_764_590_400, 0).single();
        let fine = Utc.timestamp_opt(1_764_590_400, 123_456_000).single();
        let (Some(whole), Some(fine)) = (whole, fine) else {
            panic!("valid times")
        };
        let json = serde_json::to_value(At {
            at: whole,
            maybe: Some(fine),
        });
        assert_eq!(
            json.ok(),
            Some(serde_json::json!({
                "at": "2025-12-01T12:00:00+00:00",
                "maybe": "2025-12-01T12:00:00.123456+00:00",
            }))
        );
        let none = serde_json::to_value(At {
            at: whole,
            maybe: None,
        });
        assert_eq!(
            none.ok().and_then(|v| v.get("maybe").cloned()),
            Some(serde_json::Value::Null)
        );
    }
}
