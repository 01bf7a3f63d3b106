//! The request and response bodies of `/api/v1/auth/*` and `/api/v1/me`.

use chrono::{DateTime, Utc};
use poem_openapi::Object;
use poem_openapi::types::Example;
use taskpulse_actors::User;
use uuid::Uuid;

use crate::auth::Session;
use crate::routes::strict::StrictString;

const EXAMPLE_EMAIL: &str = "ada@example.com";
const EXAMPLE_PASSWORD: &str = "correct horse battery staple";
const EXAMPLE_REFRESH_TOKEN: &str = "q3Vb8yH0m1S0dW6x7P4nYcZr2eJkTfLgAoBiUuNvXwE";

/// A new account. No `Debug`: it holds a password.
#[derive(Object)]
#[oai(example)]
pub struct RegisterRequest {
    /// The sign-in email (at most 254 characters); unique whatever its letter case.
    pub email: StrictString,
    /// 8..=128 characters; stored only as an Argon2id hash.
    pub password: StrictString,
    /// The name shown to others, 1..=100 characters.
    pub display_name: StrictString,
}

impl Example for RegisterRequest {
    fn example() -> Self {
        Self {
            email: EXAMPLE_EMAIL.into(),
            password: EXAMPLE_PASSWORD.into(),
            display_name: "Ada Lovelace".into(),
        }
    }
}

/// Email and password. No `Debug`: it holds a password.
#[derive(Object)]
#[oai(example)]
pub struct LoginRequest {
    /// The sign-in email, in any letter case.
    pub email: StrictString,
    /// The password.
    pub password: StrictString,
}

impl Example for LoginRequest {
    fn example() -> Self {
        Self {
            email: EXAMPLE_EMAIL.into(),
            password: EXAMPLE_PASSWORD.into(),
        }
    }
}

/// A refresh token, to trade for a new pair or to revoke. No `Debug`: it is a credential.
#[derive(Object)]
#[oai(example)]
pub struct RefreshRequest {
    /// The refresh token from the last register, login or refresh answer.
    pub refresh_token: StrictString,
}

impl Example for RefreshRequest {
    fn example() -> Self {
        Self {
            refresh_token: EXAMPLE_REFRESH_TOKEN.into(),
        }
    }
}

/// A user account.
#[derive(Debug, Clone, Object)]
#[oai(example)]
pub struct UserView {
    /// The user's id.
    pub id: Uuid,
    /// The sign-in email, as the user spelled it.
    pub email: String,
    /// The name shown to others.
    pub display_name: String,
    /// When the account was made.
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

impl Example for UserView {
    fn example() -> Self {
        Self {
            id: Uuid::from_u128(0x0193_4f6e_8a10_7c3e_9b2d_5f41_a6c8_e012),
            email: EXAMPLE_EMAIL.to_owned(),
            display_name: "Ada Lovelace".to_owned(),
            created_at: DateTime::from_timestamp(1_763_798_400, 0).unwrap_or_default(),
        }
    }
}

/// A signed-in session: the user and a fresh token pair. No `Debug`: it holds credentials.
#[derive(Object)]
#[oai(example)]
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

impl From<Session> for AuthTokens {
    fn from(session: Session) -> Self {
        Self {
            user: session.user.into(),
            access_token: session.access.token,
            refresh_token: session.refresh_token,
            token_type: "Bearer".to_owned(),
            expires_in: session.access.expires_in,
        }
    }
}

impl Example for AuthTokens {
    fn example() -> Self {
        Self {
            user: UserView::example(),
            access_token: "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIwMTkzNGY2ZS04YTEwLTdjM2UtOWIyZC01ZjQxYTZjOGUwMTIiLCJ0eXAiOiJhY2Nlc3MifQ.c2lnbmF0dXJl".to_owned(),
            refresh_token: EXAMPLE_REFRESH_TOKEN.to_owned(),
            token_type: "Bearer".to_owned(),
            expires_in: 900,
        }
    }
}
