//! Accounts and sign-in answers: `/api/v1/auth/*` and `/api/v1/me`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use taskpulse_actors::{Account, User};
use uuid::Uuid;

use super::time::rfc3339;
use super::values::EmailChoiceView;

/// A user account.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(example))]
pub struct UserView {
    /// The user's id.
    pub id: Uuid,
    /// The sign-in email, as the user spelled it.
    pub email: String,
    /// The name shown to others.
    pub display_name: String,
    /// When the account was made.
    #[serde(serialize_with = "rfc3339")]
    pub created_at: DateTime<Utc>,
}

impl From<User> for UserView {
    fn from(user: User) -> Self {
        Self {
            id: user.id.0,
            email: user.email,
            display_name: user.display_name,
            created_at: user.created_at,
        }
    }
}

/// The signed-in user with their settings (`GET` and `PATCH /api/v1/me`).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(example))]
pub struct MeView {
    /// The user's id.
    pub id: Uuid,
    /// The sign-in email, as the user spelled it.
    pub email: String,
    /// The name shown to others.
    pub display_name: String,
    /// When the account was made.
    #[serde(serialize_with = "rfc3339")]
    pub created_at: DateTime<Utc>,
    /// The user's IANA time zone (`UTC` unless they chose one): the daily digest comes at
    /// 08:00 there.
    pub time_zone: String,
    /// How their notifications are mailed (`off` unless they chose otherwise; nothing is
    /// mailed on a server without SMTP).
    pub email_notifications: EmailChoiceView,
}

impl From<Account> for MeView {
    fn from(account: Account) -> Self {
        Self {
            id: account.user.id.0,
            email: account.user.email,
            display_name: account.user.display_name,
            created_at: account.user.created_at,
            time_zone: account.time_zone.name().to_owned(),
            email_notifications: account.email_notifications.into(),
        }
    }
}

/// A signed-in session: the user and a fresh token pair. No `Debug`: it holds credentials.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(example))]
pub struct AuthTokens {
    /// The signed-in user.
    pub user: UserView,
    /// A JWT to send as `Authorization: Bearer <access_token>`; short-lived.
    pub access_token: String,
    /// An opaque, single-use token for `POST /api/v1/auth/refresh`; long-lived. Each refresh
    /// answers a new one, and presenting a used one again revokes the whole session.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

#[cfg(feature = "openapi")]
mod examples {
    use poem_openapi::types::Example;

    use super::*;
    use crate::shapes::examples::{EMAIL, USER_ID, time};

    impl Example for UserView {
        fn example() -> Self {
            Self {
                id: USER_ID,
                email: EMAIL.to_owned(),
                display_name: "Ada Lovelace".to_owned(),
                created_at: time(0),
            }
        }
    }

    impl Example for MeView {
        fn example() -> Self {
            Self {
                id: USER_ID,
                email: EMAIL.to_owned(),
                display_name: "Ada Lovelace".to_owned(),
                created_at: time(0),
                time_zone: "Europe/London".to_owned(),
                email_notifications: EmailChoiceView::Daily,
            }
        }
    }

    impl Example for AuthTokens {
        fn example() -> Self {
            Self {
                user: UserView::example(),
                access_token: "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIwMTkzNGY2ZS04YTEwLTdjM2UtOWIyZC01ZjQxYTZjOGUwMTIiLCJ0eXAiOiJhY2Nlc3MifQ.c2lnbmF0dXJl".to_owned(),
                refresh_token: "q3Vb8yH0m1S0dW6x7P4nYcZr2eJkTfLgAoBiUuNvXwE".to_owned(),
                token_type: "Bearer".to_owned(),
                expires_in: 900,
            }
        }
    }
}
