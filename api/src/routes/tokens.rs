//! `/api/v1/tokens`: personal access tokens. The engine checks the rules and stores digests;
//! here the secret is generated and shown once. What a token may do once created is decided
//! by the bearer checker (`auth/scope.rs`), for every route alike.

use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::Example;
use poem_openapi::{ApiResponse, Object, OpenApi};
use taskpulse_actors::NewPersonalToken;
use taskpulse_live::shapes::tokens::{CreatedTokenView, PersonalTokenPage};
use uuid::Uuid;

use crate::auth::{BearerAuth, generate_personal_token};
use crate::routes::ApiTags;
use crate::routes::problem::{
    Failure, INSUFFICIENT_SCOPE, MALFORMED, NOT_JSON, TOO_LARGE, UNAUTHENTICATED, UNAVAILABLE,
    VALIDATION, problems,
};
use crate::routes::strict::StrictString;
use crate::state::AppState;
use crate::wire::Wire;

/// Personal access tokens.
pub struct TokensApi {
    state: AppState,
}

impl TokensApi {
    /// The tokens API over the shared state.
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

/// A token to create.
#[derive(Object)]
#[oai(example)]
pub struct CreateTokenRequest {
    /// 1..=100 characters, not blank: what the token is for.
    pub name: StrictString,
    /// `["read"]` or `["read", "write"]`.
    pub scopes: Vec<StrictString>,
    /// 1..=365; absent or `null`: the token works until it is revoked.
    pub expires_in_days: Option<i64>,
}

impl Example for CreateTokenRequest {
    fn example() -> Self {
        Self {
            name: "nightly report script".into(),
            scopes: vec!["read".into()],
            expires_in_days: Some(90),
        }
    }
}

#[derive(ApiResponse)]
enum CreatedToken {
    /// The token, with its secret shown this once.
    #[oai(status = 201)]
    Created(Wire<CreatedTokenView>),
}

#[derive(ApiResponse)]
enum ManyTokens {
    /// A page of the caller's tokens (revoked ones are gone; expired ones stay), newest first.
    #[oai(status = 200)]
    Ok(Wire<PersonalTokenPage>),
}

#[derive(ApiResponse)]
enum Revoked {
    /// Revoked: the token stops working at once on every node.
    #[oai(status = 204)]
    NoContent,
}

const NO_TOKEN_MINTS: (u16, &str) = (
    403,
    "`insufficient_scope`: a personal access token cannot create tokens (sign in instead)",
);

problems!(
    /// The problems `create_token` documents.
    CreateProblems: [
        MALFORMED,
        UNAUTHENTICATED,
        NO_TOKEN_MINTS,
        (422, "`validation_failed`: the name, the scopes or `expires_in_days` break a rule, or \
               the caller already holds 50 live tokens"),
        TOO_LARGE,
        NOT_JSON,
        UNAVAILABLE,
    ]
);
problems!(
    /// The problems `list_tokens` documents.
    ListProblems: [MALFORMED, UNAUTHENTICATED, VALIDATION, UNAVAILABLE]
);
problems!(
    /// The problems `revoke_token` documents.
    RevokeProblems: [
        MALFORMED,
        UNAUTHENTICATED,
        INSUFFICIENT_SCOPE,
        (404, "`not_found`: the caller has no such token (or it is revoked already)"),
        UNAVAILABLE,
    ]
);

#[OpenApi(tag = "ApiTags::Tokens")]
impl TokensApi {
    /// Create a personal access token
    ///
    /// For scripts, integrations and AI assistants: present it as `Authorization: Bearer
    /// <token>` wherever an access token is accepted (REST and the WebSocket). The token is in
    /// this answer only; the server keeps its digest. Personal access tokens themselves cannot
    /// create tokens.
    #[oai(path = "/api/v1/tokens", method = "post", operation_id = "createToken")]
    async fn create_token(
        &self,
        auth: BearerAuth,
        body: Json<CreateTokenRequest>,
    ) -> Result<CreatedToken, Failure<CreateProblems>> {
        let CreateTokenRequest {
            name,
            scopes,
            expires_in_days,
        } = body.0;
        let secret = generate_personal_token();
        let new = NewPersonalToken {
            name: name.into_inner(),
            scopes: scopes.into_iter().map(StrictString::into_inner).collect(),
            expires_in_days,
            digest: secret.digest,
        };
        let token = self.state.engine.create_personal_token(auth.0, new).await?;
        Ok(CreatedToken::Created(Wire(CreatedTokenView {
            fields: token.into(),
            token: secret.token,
        })))
    }

    /// List the caller's personal access tokens
    ///
    /// Without their secrets. Newest first, keyset-paginated.
    #[oai(path = "/api/v1/tokens", method = "get", operation_id = "listTokens")]
    async fn list_tokens(
        &self,
        auth: BearerAuth,
        /// Page size, 1..=200 (default 50).
        limit: Query<Option<i64>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
    ) -> Result<ManyTokens, Failure<ListProblems>> {
        let page = self
            .state
            .engine
            .personal_tokens(auth.0, limit.0, cursor.0.as_deref())
            .await?;
        Ok(ManyTokens::Ok(Wire(page.into())))
    }

    /// Revoke a personal access token
    ///
    /// It stops working at once, on every node; WebSocket sessions opened with it are closed
    /// with 4401.
    #[oai(
        path = "/api/v1/tokens/:id",
        method = "delete",
        operation_id = "revokeToken"
    )]
    async fn revoke_token(
        &self,
        auth: BearerAuth,
        /// The token's id.
        id: Path<Uuid>,
    ) -> Result<Revoked, Failure<RevokeProblems>> {
        self.state
            .engine
            .revoke_personal_token(auth.0, id.0)
            .await?;
        Ok(Revoked::NoContent)
    }
}
