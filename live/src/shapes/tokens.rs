//! Personal access tokens: `POST /api/v1/tokens` (with the token, once) and
//! `GET /api/v1/tokens` (without).

use chrono::{DateTime, Utc};
use serde::Serialize;
use taskpulse_actors::{Page, PersonalToken};
use uuid::Uuid;

use super::time::{rfc3339, rfc3339_or_null};

/// A personal access token, as its owner sees it (never its secret).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(rename = "PersonalToken", example))]
pub struct PersonalTokenView {
    /// The token's id (UUIDv7); `DELETE /api/v1/tokens/{id}` revokes it.
    pub id: Uuid,
    /// Its owner's name for it.
    pub name: String,
    /// `["read"]` or `["read", "write"]`: a `read` token is refused (403
    /// `insufficient_scope`) by every route that writes.
    pub scopes: Vec<String>,
    /// When it was created.
    #[serde(serialize_with = "rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When it stops working by itself; `null`: only when revoked.
    #[serde(serialize_with = "rfc3339_or_null")]
    #[cfg_attr(feature = "openapi", oai(nullable))]
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was last used (to within a minute); `null`: never.
    #[serde(serialize_with = "rfc3339_or_null")]
    #[cfg_attr(feature = "openapi", oai(nullable))]
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<PersonalToken> for PersonalTokenView {
    fn from(token: PersonalToken) -> Self {
        Self {
            id: token.id,
            name: token.name,
            scopes: token
                .scopes
                .as_strs()
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            created_at: token.created_at,
            expires_at: token.expires_at,
            last_used_at: token.last_used_at,
        }
    }
}

/// A token just created: its fields and, this once, the token itself.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(rename = "CreatedPersonalToken", example))]
pub struct CreatedTokenView {
    /// The token's fields, as the listing shows them.
    #[serde(flatten)]
    #[cfg_attr(feature = "openapi", oai(flatten))]
    pub fields: PersonalTokenView,
    /// The token (`tp_pat_…`): present it as `Authorization: Bearer <token>`. Shown only
    /// now; the server keeps only its digest.
    pub token: String,
}

/// One page of the caller's tokens, newest first.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(rename = "PersonalTokenPage", example))]
pub struct PersonalTokenPage {
    /// The tokens.
    pub items: Vec<PersonalTokenView>,
    /// Pass as `cursor` for the next page; `null` on the last one.
    #[cfg_attr(feature = "openapi", oai(nullable))]
    pub next_cursor: Option<String>,
}

impl From<Page<PersonalToken>> for PersonalTokenPage {
    fn from(page: Page<PersonalToken>) -> Self {
        Self {
            items: page.items.into_iter().map(Into::into).collect(),
            next_cursor: page.next_cursor,
        }
    }
}

#[cfg(feature = "openapi")]
mod examples {
    use poem_openapi::types::Example;

    use super::*;
    use crate::shapes::examples::time;

    impl Example for PersonalTokenView {
        fn example() -> Self {
            Self {
                id: Uuid::from_u128(0x0193_4f74_0000_7000_8000_0000_0000_0007),
                name: "nightly report script".to_owned(),
                scopes: vec!["read".to_owned()],
                created_at: time(0),
                expires_at: Some(time(90 * 86_400)),
                last_used_at: None,
            }
        }
    }

    impl Example for CreatedTokenView {
        fn example() -> Self {
            Self {
                fields: PersonalTokenView::example(),
                token: "tp_pat_3q2-7wQbJ0m1r9yX8nT4vK6sL2pD5fH7jA0cE1gI3kM".to_owned(),
            }
        }
    }

    impl Example for PersonalTokenPage {
        fn example() -> Self {
            Self {
                items: vec![PersonalTokenView::example()],
                next_cursor: None,
            }
        }
    }
}
