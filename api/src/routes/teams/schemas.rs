//! The request and response bodies of `/api/v1/teams`.

use chrono::{DateTime, Utc};
use poem_openapi::Object;
use poem_openapi::types::Example;
use taskpulse_actors::{
    Error as EngineError, Member, Page, Role, TeamDetail, TeamMembership, UserRef,
};
use uuid::Uuid;

use crate::routes::choice::{Choice, Choices};
use crate::routes::strict::StrictString;
use crate::routes::tasks::{EXAMPLE_OTHER_USER_ID, EXAMPLE_USER_ID, example_time, user_ref};
use crate::routes::values::RoleView;

const EXAMPLE_TEAM_ID: Uuid = Uuid::from_u128(0x0193_4f71_5e6f_7a80_9b1c_2d3e_4f50_6172);

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

/// A team, with the caller's role in it.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Team", example)]
pub struct TeamView {
    /// The team's id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// The caller's role in it.
    pub role: RoleView,
    /// When the team was made.
    pub created_at: DateTime<Utc>,
}

impl From<TeamMembership> for TeamView {
    fn from(team: TeamMembership) -> Self {
        Self {
            id: team.id.0,
            name: team.name,
            role: team.role.into(),
            created_at: team.created_at,
        }
    }
}

impl Example for TeamView {
    fn example() -> Self {
        Self {
            id: EXAMPLE_TEAM_ID,
            name: "Platform".to_owned(),
            role: RoleView::Owner,
            created_at: example_time(0),
        }
    }
}

/// One page of the caller's teams.
#[derive(Debug, Object)]
#[oai(example)]
pub struct TeamPage {
    /// The teams.
    pub items: Vec<TeamView>,
    /// Pass as `cursor` for the next page; `null` on the last one.
    #[oai(nullable)]
    pub next_cursor: Option<String>,
}

impl From<Page<TeamMembership>> for TeamPage {
    fn from(page: Page<TeamMembership>) -> Self {
        Self {
            items: page.items.into_iter().map(Into::into).collect(),
            next_cursor: page.next_cursor,
        }
    }
}

impl Example for TeamPage {
    fn example() -> Self {
        Self {
            items: vec![TeamView::example()],
            next_cursor: None,
        }
    }
}

/// One member of a team.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Member", example)]
pub struct MemberView {
    /// The member.
    pub user_id: Uuid,
    /// Their email.
    pub email: String,
    /// Their display name.
    pub display_name: String,
    /// Their role.
    pub role: RoleView,
    /// When they joined.
    pub joined_at: DateTime<Utc>,
}

impl From<Member> for MemberView {
    fn from(member: Member) -> Self {
        Self {
            user_id: member.user_id.0,
            email: member.email,
            display_name: member.display_name,
            role: member.role.into(),
            joined_at: member.joined_at,
        }
    }
}

impl Example for MemberView {
    fn example() -> Self {
        Self {
            user_id: EXAMPLE_OTHER_USER_ID,
            email: "grace@example.com".to_owned(),
            display_name: "Grace Hopper".to_owned(),
            role: RoleView::Member,
            joined_at: example_time(120),
        }
    }
}

/// A team with everyone in it.
#[derive(Debug, Object)]
#[oai(example)]
pub struct TeamDetailView {
    /// The team's id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// The caller's role in it.
    pub role: RoleView,
    /// When the team was made.
    pub created_at: DateTime<Utc>,
    /// Everyone in it.
    pub members: Vec<MemberView>,
}

impl From<TeamDetail> for TeamDetailView {
    fn from(detail: TeamDetail) -> Self {
        Self {
            id: detail.team.id.0,
            name: detail.team.name,
            role: detail.team.role.into(),
            created_at: detail.team.created_at,
            members: detail.members.into_iter().map(Into::into).collect(),
        }
    }
}

impl Example for TeamDetailView {
    fn example() -> Self {
        let owner = MemberView {
            user_id: EXAMPLE_USER_ID,
            email: "ada@example.com".to_owned(),
            display_name: "Ada Lovelace".to_owned(),
            role: RoleView::Owner,
            joined_at: example_time(0),
        };
        Self {
            id: EXAMPLE_TEAM_ID,
            name: "Platform".to_owned(),
            role: RoleView::Owner,
            created_at: example_time(0),
            members: vec![owner, MemberView::example()],
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
