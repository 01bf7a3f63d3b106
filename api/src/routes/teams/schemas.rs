//! The request bodies of `/api/v1/teams` (the answers are `taskpulse_live::shapes::teams`).

use poem_openapi::Object;
use poem_openapi::types::Example;
use taskpulse_actors::{Error as EngineError, Role, UserRef};
use taskpulse_live::shapes::values::RoleView;
use uuid::Uuid;

use crate::routes::choice::{Choice, Choices};
use crate::routes::strict::StrictString;
use crate::routes::tasks::user_ref;

/// A team to create.
#[derive(Object)]
#[oai(example)]
pub struct CreateTeamRequest {
    /// 1..=100 characters, not blank.
    pub name: StrictString,
}

impl Example for CreateTeamRequest {
    fn example() -> Self {
        Self {
            name: "Platform".into(),
        }
    }
}

/// Whom to add (exactly one of `user_id` and `email`) and with which role.
#[derive(Object)]
#[oai(example)]
pub struct AddMemberRequest {
    /// The user's id.
    pub user_id: Option<Uuid>,
    /// Or the user's email, in any letter case.
    pub email: Option<StrictString>,
    /// Their role (only an owner grants `owner` or `admin`).
    pub role: Choice<RoleView>,
}

impl Example for AddMemberRequest {
    fn example() -> Self {
        Self {
            user_id: None,
            email: Some("grace@example.com".into()),
            role: Choice::new(RoleView::Member),
        }
    }
}

impl AddMemberRequest {
    /// The user and the role; both problems are reported at once.
    pub fn into_parts(self) -> Result<(UserRef, Role), EngineError> {
        let mut choices = Choices::default();
        let user = choices.record(user_ref(self.user_id, self.email));
        let role = choices.record(self.role.value("role"));
        choices.finish()?;
        match (user, role) {
            (Some(user), Some(role)) => Ok((user, role)),
            // `finish` has answered already when either is missing.
            _ => Err(EngineError::Validation(Vec::new())),
        }
    }
}

/// A member's new role.
#[derive(Debug, Object)]
#[oai(example)]
pub struct ChangeRoleRequest {
    /// The role (only an owner grants or takes `owner` or `admin`).
    pub role: Choice<RoleView>,
}

impl Example for ChangeRoleRequest {
    fn example() -> Self {
        Self {
            role: Choice::new(RoleView::Admin),
        }
    }
}
