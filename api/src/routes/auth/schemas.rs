//! The request bodies of `/api/v1/auth/*` and `/api/v1/me` (the answers are
//! `taskpulse_live::shapes::accounts`).

use poem_openapi::Object;
use poem_openapi::types::Example;
use taskpulse_actors::{Error as EngineError, SettingsPatch};
use taskpulse_live::shapes::accounts::AuthTokens;
use taskpulse_live::shapes::values::EmailChoiceView;

use crate::auth::Session;
use crate::routes::choice::{Choice, Choices};
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

/// Settings of the signed-in user to change; absent ones stay as they are.
#[derive(Object)]
#[oai(example)]
pub struct UpdateMeRequest {
    /// An IANA time zone name, such as `Europe/Berlin`: the daily digest comes at 08:00 there.
    pub time_zone: Option<StrictString>,
    /// How notifications are mailed: `off`, `instant` (one mail each) or `daily` (a digest).
    pub email_notifications: Option<Choice<EmailChoiceView>>,
}

impl Example for UpdateMeRequest {
    fn example() -> Self {
        Self {
            time_zone: Some("Europe/Berlin".into()),
            email_notifications: Some(Choice::new(EmailChoiceView::Daily)),
        }
    }
}

impl UpdateMeRequest {
    /// The engine's patch; a bad choice is a validation error (the engine checks the zone).
    pub fn into_patch(self) -> Result<SettingsPatch, EngineError> {
        let mut choices = Choices::default();
        let email_notifications = choices.optional("email_notifications", self.email_notifications);
        choices.finish()?;
        Ok(SettingsPatch {
            time_zone: self.time_zone.map(StrictString::into_inner),
            email_notifications,
        })
    }
}
