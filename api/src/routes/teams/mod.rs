//! `/api/v1/teams` (docs/architecture.md, "Rules and limits"): thin over the engine, which
//! validates and authorises every call itself.

mod schemas;

use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};
use taskpulse_actors::{Role, TeamId, UserId};
use taskpulse_live::shapes::teams::{MemberView, TeamDetailView, TeamPage, TeamView};
use uuid::Uuid;

use crate::auth::BearerAuth;
use crate::routes::ApiTags;
use crate::routes::problem::{
    Failure, INSUFFICIENT_SCOPE, MALFORMED, NOT_JSON, TOO_LARGE, UNAUTHENTICATED, UNAVAILABLE,
    VALIDATION, problems, read_scope_refused,
};
use crate::state::AppState;
use crate::wire::Wire;
use schemas::{AddMemberRequest, ChangeRoleRequest, CreateTeamRequest};

/// Teams and their members.
pub struct TeamsApi {
    state: AppState,
}

impl TeamsApi {
    /// The teams API over the shared state.
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

#[derive(ApiResponse)]
enum CreatedTeam {
    /// The team; the caller is its owner.
    #[oai(status = 201)]
    Created(Wire<TeamView>),
}

#[derive(ApiResponse)]
enum ManyTeams {
    /// A page of the caller's teams, with the caller's role in each.
    #[oai(status = 200)]
    Ok(Wire<TeamPage>),
}

#[derive(ApiResponse)]
enum OneTeam {
    /// The team and its members.
    #[oai(status = 200)]
    Ok(Wire<TeamDetailView>),
}

#[derive(ApiResponse)]
enum AddedMember {
    /// The new member.
    #[oai(status = 201)]
    Created(Wire<MemberView>),
}

#[derive(ApiResponse)]
enum ChangedMember {
    /// The member with their new role.
    #[oai(status = 200)]
    Ok(Wire<MemberView>),
}

#[derive(ApiResponse)]
enum Deleted {
    /// Done; there is nothing to answer.
    #[oai(status = 204)]
    NoContent,
}

const TEAM_NOT_FOUND: (u16, &str) = (
    404,
    "`not_found`: the team does not exist or the caller is not a member",
);
const MANAGE_FORBIDDEN: (u16, &str) = (
    403,
    concat!(
        "`forbidden`: only an admin or owner manages members, and only an owner grants, \
         changes or removes `owner` and `admin`; ",
        read_scope_refused!()
    ),
);

problems!(
    /// The problems `create_team` documents.
    CreateProblems: [
        MALFORMED,
        UNAUTHENTICATED,
        INSUFFICIENT_SCOPE,
        VALIDATION,
        TOO_LARGE,
        NOT_JSON,
        UNAVAILABLE,
    ]
);
problems!(
    /// The problems `list_teams` documents.
    ListProblems: [MALFORMED, UNAUTHENTICATED, VALIDATION, UNAVAILABLE]
);
problems!(
    /// The problems `get_team` documents.
    ReadProblems: [MALFORMED, UNAUTHENTICATED, TEAM_NOT_FOUND, UNAVAILABLE]
);
problems!(
    /// The problems `add_member` documents.
    AddProblems: [
        MALFORMED,
        UNAUTHENTICATED,
        MANAGE_FORBIDDEN,
        (404, "`not_found`: the team is not visible to the caller, or the user does not exist"),
        (409, "`already_member`: the user is already in the team"),
        VALIDATION,
        TOO_LARGE,
        NOT_JSON,
        UNAVAILABLE,
    ]
);
problems!(
    /// The problems `change_role` documents.
    ChangeProblems: [
        MALFORMED,
        UNAUTHENTICATED,
        MANAGE_FORBIDDEN,
        (404, "`not_found`: the team is not visible to the caller, or the user is not a member"),
        (409, "`last_owner`: the team's last owner cannot be demoted"),
        VALIDATION,
        TOO_LARGE,
        NOT_JSON,
        UNAVAILABLE,
    ]
);
problems!(
    /// The problems `remove_member` documents.
    RemoveProblems: [
        MALFORMED,
        UNAUTHENTICATED,
        MANAGE_FORBIDDEN,
        (404, "`not_found`: the team is not visible to the caller, or the user is not a member"),
        (409, "`last_owner`: the team's last owner cannot leave"),
        UNAVAILABLE,
    ]
);
problems!(
    /// The problems `delete_team` documents.
    DeleteProblems: [
        MALFORMED,
        UNAUTHENTICATED,
        (403, concat!("`forbidden`: only an owner may delete the team; ", read_scope_refused!())),
        TEAM_NOT_FOUND,
        UNAVAILABLE,
    ]
);

#[OpenApi(tag = "ApiTags::Teams")]
impl TeamsApi {
    /// Create a team
    ///
    /// The caller becomes its owner.
    #[oai(path = "/api/v1/teams", method = "post", operation_id = "createTeam")]
    async fn create_team(
        &self,
        auth: BearerAuth,
        body: Json<CreateTeamRequest>,
    ) -> Result<CreatedTeam, Failure<CreateProblems>> {
        let team = self.state.engine.create_team(auth.0, &body.name).await?;
        Ok(CreatedTeam::Created(Wire(team.into())))
    }

    /// List the caller's teams
    #[oai(path = "/api/v1/teams", method = "get", operation_id = "listTeams")]
    async fn list_teams(
        &self,
        auth: BearerAuth,
        /// Page size, 1..=200 (default 50).
        limit: Query<Option<i64>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
    ) -> Result<ManyTeams, Failure<ListProblems>> {
        let page = self
            .state
            .engine
            .list_teams(auth.0, limit.0, cursor.0.as_deref())
            .await?;
        Ok(ManyTeams::Ok(Wire(page.into())))
    }

    /// Get a team and its members
    ///
    /// Members only: to anyone else the team does not exist.
    #[oai(path = "/api/v1/teams/:id", method = "get", operation_id = "getTeam")]
    async fn get_team(
        &self,
        auth: BearerAuth,
        /// The team's id.
        id: Path<Uuid>,
    ) -> Result<OneTeam, Failure<ReadProblems>> {
        let detail = self.state.engine.get_team(auth.0, TeamId(id.0)).await?;
        Ok(OneTeam::Ok(Wire(detail.into())))
    }

    /// Delete a team
    ///
    /// Owner only; the team's tasks go with it.
    #[oai(
        path = "/api/v1/teams/:id",
        method = "delete",
        operation_id = "deleteTeam"
    )]
    async fn delete_team(
        &self,
        auth: BearerAuth,
        /// The team's id.
        id: Path<Uuid>,
    ) -> Result<Deleted, Failure<DeleteProblems>> {
        self.state.engine.delete_team(auth.0, TeamId(id.0)).await?;
        Ok(Deleted::NoContent)
    }

    /// Add a member
    ///
    /// Admin or owner; only an owner grants `owner` or `admin`. Names the user by `user_id`
    /// or by `email` (exactly one).
    #[oai(
        path = "/api/v1/teams/:id/members",
        method = "post",
        operation_id = "addMember"
    )]
    async fn add_member(
        &self,
        auth: BearerAuth,
        /// The team's id.
        id: Path<Uuid>,
        body: Json<AddMemberRequest>,
    ) -> Result<AddedMember, Failure<AddProblems>> {
        let (user, role) = body.0.into_parts()?;
        let member = self
            .state
            .engine
            .add_member(auth.0, TeamId(id.0), user, role)
            .await?;
        Ok(AddedMember::Created(Wire(member.into())))
    }

    /// Change a member's role
    ///
    /// Same rules as adding; the last owner cannot be demoted.
    #[oai(
        path = "/api/v1/teams/:id/members/:user_id",
        method = "patch",
        operation_id = "changeMemberRole"
    )]
    async fn change_role(
        &self,
        auth: BearerAuth,
        /// The team's id.
        id: Path<Uuid>,
        /// The member's user id.
        user_id: Path<Uuid>,
        body: Json<ChangeRoleRequest>,
    ) -> Result<ChangedMember, Failure<ChangeProblems>> {
        let role: Role = body
            .0
            .role
            .value("role")
            .map_err(|e| taskpulse_actors::Error::Validation(vec![e]))?;
        let member = self
            .state
            .engine
            .change_role(auth.0, TeamId(id.0), UserId(user_id.0), role)
            .await?;
        Ok(ChangedMember::Ok(Wire(member.into())))
    }

    /// Remove a member
    ///
    /// An admin or owner removes others (only an owner removes an admin or owner); any
    /// member may leave. The last owner cannot leave.
    #[oai(
        path = "/api/v1/teams/:id/members/:user_id",
        method = "delete",
        operation_id = "removeMember"
    )]
    async fn remove_member(
        &self,
        auth: BearerAuth,
        /// The team's id.
        id: Path<Uuid>,
        /// The member's user id.
        user_id: Path<Uuid>,
    ) -> Result<Deleted, Failure<RemoveProblems>> {
        self.state
            .engine
            .remove_member(auth.0, TeamId(id.0), UserId(user_id.0))
            .await?;
        Ok(Deleted::NoContent)
    }
}
