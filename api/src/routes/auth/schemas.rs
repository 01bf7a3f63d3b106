//! The request bodies of `/api/v1/auth/*` and `/api/v1/me` (the answers are
//! `taskpulse_live::shapes::accounts`).

use poem_openapi::Object;
use poem_openapi::types::Example;
use taskpulse_live::shapes::accounts::AuthTokens;

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
