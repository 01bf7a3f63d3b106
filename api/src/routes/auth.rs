//! `/api/v1/auth/*` and `/api/v1/me`: accounts and sessions.

mod schemas;

use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};
use taskpulse_actors::{AccountFields, Error as EngineError};

use crate::auth::{self, BearerAuth, Credentials};
use crate::error::ApiError;
use crate::routes::ApiTags;
use crate::routes::problem::{Failure, INSUFFICIENT_SCOPE, NOT_JSON, ProblemDocs, TOO_LARGE};
use crate::state::AppState;
use crate::wire::Wire;
use schemas::{LoginRequest, RefreshRequest, RegisterRequest, UpdateMeRequest};
use taskpulse_live::shapes::accounts::{AuthTokens, MeView};

/// Accounts and sessions.
pub struct AuthApi {
    state: AppState,
}

impl AuthApi {
    /// The authentication API over the shared state.
    pub fn new(state: AppState) -> Self {
        Self { state }
    }

    /// Refuses the email and password flows when they are switched off.
    fn local_accounts(&self) -> Result<(), ApiError> {
        if self.state.local_accounts {
            Ok(())
        } else {
            Err(ApiError::LocalAccountsDisabled)
        }
    }
}

#[derive(ApiResponse)]
enum RegisterResponse {
    /// The account exists and is signed in.
    #[oai(status = 201)]
    Created(Wire<AuthTokens>),
}

#[derive(ApiResponse)]
enum SessionResponse {
    /// Signed in: a new token pair.
    #[oai(status = 200)]
    Ok(Wire<AuthTokens>),
}

#[derive(ApiResponse)]
enum LogoutResponse {
    /// Signed out: every refresh token of the session is revoked.
    #[oai(status = 204)]
    LoggedOut,
}

#[derive(ApiResponse)]
enum DeleteMeResponse {
    /// The account is gone, with its tasks, shares, memberships and sessions.
    #[oai(status = 204)]
    Deleted,
}

#[derive(ApiResponse)]
enum MeResponse {
    /// The signed-in user, with their settings.
    #[oai(status = 200)]
    Ok(Wire<MeView>),
}

const MALFORMED: (u16, &str) = (
    400,
    "`malformed_request`: the body is not JSON of the documented shape",
);
const UNAVAILABLE: (u16, &str) = (503, "`database_unavailable`: try again shortly");
const LOCAL_ACCOUNTS_DISABLED: (u16, &str) = (
    403,
    "`local_accounts_disabled`: this server signs people in through its identity provider \
     only (`--local-accounts false`)",
);

/// The problems `register` documents.
struct RegisterProblems;
impl ProblemDocs for RegisterProblems {
    const ANSWERS: &'static [(u16, &'static str)] = &[
        MALFORMED,
        (
            409,
            "`email_taken`: an account with this email (in any letter case) exists",
        ),
        (
            422,
            "`validation_failed`: `errors` lists each field that breaks a rule",
        ),
        LOCAL_ACCOUNTS_DISABLED,
        TOO_LARGE,
        NOT_JSON,
        UNAVAILABLE,
    ];
}

/// The problems `login` documents.
struct LoginProblems;
impl ProblemDocs for LoginProblems {
    const ANSWERS: &'static [(u16, &'static str)] = &[
        MALFORMED,
        (
            401,
            "`invalid_credentials`: the email or the password is wrong (the answer does not say which)",
        ),
        LOCAL_ACCOUNTS_DISABLED,
        TOO_LARGE,
        NOT_JSON,
        UNAVAILABLE,
    ];
}

/// The problems `refresh` documents.
struct RefreshProblems;
impl ProblemDocs for RefreshProblems {
    const ANSWERS: &'static [(u16, &'static str)] = &[
        MALFORMED,
        (
            401,
            "`refresh_token_reused`: the token was already used, so its whole session is now revoked; \
               `invalid_refresh_token`: the token is unknown, expired or revoked. Sign in again.",
        ),
        LOCAL_ACCOUNTS_DISABLED,
        TOO_LARGE,
        NOT_JSON,
        UNAVAILABLE,
    ];
}

/// The problems `logout` documents.
struct LogoutProblems;
impl ProblemDocs for LogoutProblems {
    const ANSWERS: &'static [(u16, &'static str)] = &[MALFORMED, TOO_LARGE, NOT_JSON, UNAVAILABLE];
}

/// The problems `me` documents.
struct MeProblems;
impl ProblemDocs for MeProblems {
    const ANSWERS: &'static [(u16, &'static str)] = &[
        (401, "`unauthenticated`: no valid bearer access token"),
        UNAVAILABLE,
    ];
}

/// The problems `updateMe` documents.
struct UpdateMeProblems;
impl ProblemDocs for UpdateMeProblems {
    const ANSWERS: &'static [(u16, &'static str)] = &[
        MALFORMED,
        (401, "`unauthenticated`: no valid bearer access token"),
        INSUFFICIENT_SCOPE,
        (
            422,
            "`validation_failed`: `errors` names `time_zone` (not an IANA time zone) or \
             `email_notifications` (not `off`, `instant` or `daily`)",
        ),
        TOO_LARGE,
        NOT_JSON,
        UNAVAILABLE,
    ];
}

/// The problems `deleteMe` documents.
struct DeleteMeProblems;
impl ProblemDocs for DeleteMeProblems {
    const ANSWERS: &'static [(u16, &'static str)] = &[
        (401, "`unauthenticated`: no valid bearer access token"),
        INSUFFICIENT_SCOPE,
        (
            409,
            "`last_owner`: the account is the last owner of a team; hand the team over or \
             delete it first",
        ),
        UNAVAILABLE,
    ];
}

#[OpenApi(tag = "ApiTags::Auth")]
impl AuthApi {
    /// Create an account
    ///
    /// Creates the account and signs it in. Emails are unique whatever their letter case.
    #[oai(
        path = "/api/v1/auth/register",
        method = "post",
        operation_id = "register"
    )]
    async fn register(
        &self,
        body: Json<RegisterRequest>,
    ) -> Result<RegisterResponse, Failure<RegisterProblems>> {
        self.local_accounts()?;
        let Json(request) = body;
        let account =
            AccountFields::parse(&request.email, &request.password, &request.display_name)?;
        let session = auth::register(&self.state, account).await?;
        Ok(RegisterResponse::Created(Wire(session.into())))
    }

    /// Sign in
    ///
    /// Starts a new session: an access token and a refresh token.
    #[oai(path = "/api/v1/auth/login", method = "post", operation_id = "login")]
    async fn login(
        &self,
        body: Json<LoginRequest>,
    ) -> Result<SessionResponse, Failure<LoginProblems>> {
        self.local_accounts()?;
        let Json(request) = body;
        let credentials = Credentials {
            email: request.email.into_inner(),
            password: request.password.into_inner(),
        };
        let session = auth::login(&self.state, credentials).await?;
        Ok(SessionResponse::Ok(Wire(session.into())))
    }

    /// Renew a session
    ///
    /// Trades a refresh token for a new pair. Each refresh token works once: presenting a used
    /// one again revokes every token of its session.
    #[oai(
        path = "/api/v1/auth/refresh",
        method = "post",
        operation_id = "refreshTokens"
    )]
    async fn refresh(
        &self,
        body: Json<RefreshRequest>,
    ) -> Result<SessionResponse, Failure<RefreshProblems>> {
        self.local_accounts()?;
        let session = auth::refresh(&self.state, &body.refresh_token).await?;
        Ok(SessionResponse::Ok(Wire(session.into())))
    }

    /// Sign out
    ///
    /// Revokes every refresh token of the session the given one belongs to. Access tokens
    /// already issued stay valid until they expire (minutes). An unknown token is not an
    /// error: the answer is 204 either way.
    #[oai(path = "/api/v1/auth/logout", method = "post", operation_id = "logout")]
    async fn logout(
        &self,
        body: Json<RefreshRequest>,
    ) -> Result<LogoutResponse, Failure<LogoutProblems>> {
        auth::logout(&self.state, &body.refresh_token).await?;
        Ok(LogoutResponse::LoggedOut)
    }

    /// Delete the signed-in account
    ///
    /// Deletes the account with its tasks, its shares (both ways) and its team memberships;
    /// statistics that counted its tasks move at once. Every access token of the account
    /// stops working at once and its WebSocket sessions close with 4401, on every node.
    #[oai(path = "/api/v1/me", method = "delete", operation_id = "deleteMe")]
    async fn delete_me(
        &self,
        auth: BearerAuth,
    ) -> Result<DeleteMeResponse, Failure<DeleteMeProblems>> {
        // Deleted meanwhile, by another request with the same account: the token is no good.
        self.state
            .engine
            .delete_account(auth.0)
            .await
            .map_err(account_gone_is_unauthenticated)?;
        Ok(DeleteMeResponse::Deleted)
    }

    /// The signed-in user
    #[oai(path = "/api/v1/me", method = "get", operation_id = "getMe")]
    async fn me(&self, auth: BearerAuth) -> Result<MeResponse, Failure<MeProblems>> {
        let account =
            (self.state.engine.account(auth.0).await).map_err(account_gone_is_unauthenticated)?;
        Ok(MeResponse::Ok(Wire(account.into())))
    }

    /// Change the signed-in user's settings
    ///
    /// `time_zone` (an IANA name) and `email_notifications`: `off`, `instant` (a mail per
    /// notification) or `daily` (one digest at 08:00 in `time_zone`, when there is anything
    /// new). Absent fields stay as they are. Mails are sent only by a server with SMTP
    /// configured (`--smtp-url`).
    #[oai(path = "/api/v1/me", method = "patch", operation_id = "updateMe")]
    async fn update_me(
        &self,
        auth: BearerAuth,
        body: Json<UpdateMeRequest>,
    ) -> Result<MeResponse, Failure<UpdateMeProblems>> {
        let patch = body.0.into_patch().map_err(ApiError::from)?;
        let account = (self.state.engine.update_settings(auth.0, patch).await)
            .map_err(account_gone_is_unauthenticated)?;
        Ok(MeResponse::Ok(Wire(account.into())))
    }
}

/// A valid token whose account no longer exists is not a missing resource: it is 401.
fn account_gone_is_unauthenticated(err: EngineError) -> ApiError {
    match err {
        EngineError::NotFound(_) => {
            ApiError::Unauthenticated("the account no longer exists".to_owned())
        }
        err => ApiError::from(err),
    }
}
