//! Teams and their members: `/api/v1/teams`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use taskpulse_actors::{Member, Page, TeamDetail, TeamMembership};
use uuid::Uuid;

use super::time::rfc3339;
use super::values::RoleView;

/// A team, with the caller's role in it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(rename = "Team", example))]
pub struct TeamView {
    /// The team's id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// The caller's role in it.
    pub role: RoleView,
    /// When the team was made.
    #[serde(serialize_with = "rfc3339")]
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

/// One page of the caller's teams.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(example))]
pub struct TeamPage {
    /// The teams.
    pub items: Vec<TeamView>,
    /// Pass as `cursor` for the next page; `null` on the last one.
    #[cfg_attr(feature = "openapi", oai(nullable))]
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

/// One member of a team.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(rename = "Member", example))]
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
    #[serde(serialize_with = "rfc3339")]
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

/// A team with everyone in it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(example))]
pub struct TeamDetailView {
    /// The team's id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// The caller's role in it.
    pub role: RoleView,
    /// When the team was made.
    #[serde(serialize_with = "rfc3339")]
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

#[cfg(feature = "openapi")]
mod examples {
    use poem_openapi::types::Example;

    use super::*;
    use crate::shapes::examples::{OTHER_USER_ID, TEAM_ID, USER_ID, time};

    impl Example for TeamView {
        fn example() -> Self {
            Self {
                id: TEAM_ID,
                name: "Platform".to_owned(),
                role: RoleView::Owner,
                created_at: time(0),
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

    impl Example for MemberView {
        fn example() -> Self {
            Self {
                user_id: OTHER_USER_ID,
                email: "grace@example.com".to_owned(),
                display_name: "Grace Hopper".to_owned(),
                role: RoleView::Member,
                joined_at: time(120),
            }
        }
    }

    impl Example for TeamDetailView {
        fn example() -> Self {
            let owner = MemberView {
                user_id: USER_ID,
                email: "ada@example.com".to_owned(),
                display_name: "Ada Lovelace".to_owned(),
                role: RoleView::Owner,
                joined_at: time(0),
            };
            Self {
                id: TEAM_ID,
                name: "Platform".to_owned(),
                role: RoleView::Owner,
                created_at: time(0),
                members: vec![owner, MemberView::example()],
            }
        }
    }
}
