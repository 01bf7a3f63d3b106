//! `/api/v1/webhooks`: a user's or a team's webhooks and their delivery logs. Whether a URL
//! may be called is checked here (`webhooks/destination.rs`), and again at every delivery; the
//! engine checks who may do what and stores them; the sender delivers (`webhooks/sender.rs`).

use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::Example;
use poem_openapi::{ApiResponse, Object, OpenApi};
use taskpulse_actors::{Error as EngineError, FieldError, NewWebhook, TeamId};
use taskpulse_live::shapes::webhooks::{CreatedWebhookView, WebhookDeliveryPage, WebhookPage};
use uuid::Uuid;

use crate::auth::BearerAuth;
use crate::routes::ApiTags;
use crate::routes::problem::{
    Failure, INSUFFICIENT_SCOPE, MALFORMED, NOT_JSON, TOO_LARGE, UNAUTHENTICATED, UNAVAILABLE,
    VALIDATION, problems,
};
use crate::routes::strict::StrictString;
use crate::state::AppState;
use crate::webhooks::{destination, signature};
use crate::wire::Wire;

/// Webhooks.
pub struct WebhooksApi {
    state: AppState,
}

impl WebhooksApi {
    /// The webhooks API over the shared state.
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

/// A webhook to create.
#[derive(Object)]
#[oai(example)]
pub struct CreateWebhookRequest {
    /// Where to POST events: an https URL (http only where the server allows it), whose host
    /// does not resolve to a private, loopback or link-local address.
    pub url: StrictString,
    /// The events to hear, at least one: `task.created`, `task.updated`, `task.completed`,
    /// `task.deleted`, `task.shared`, `task.unshared`, `team.member_added`,
    /// `team.member_removed`.
    pub events: Vec<StrictString>,
    /// A team's webhook (the team's admins and owners only) hears the team's events; absent or
    /// `null`: the caller's own, which hears what their `feed:user` shows.
    pub team_id: Option<Uuid>,
}

impl Example for CreateWebhookRequest {
    fn example() -> Self {
        Self {
            url: "https://hooks.example.com/taskpulse".into(),
            events: vec!["task.created".into(), "task.completed".into()],
            team_id: None,
        }
    }
}

#[derive(ApiResponse)]
enum CreatedWebhook {
    /// The webhook, with its signing secret shown this once.
    #[oai(status = 201)]
    Created(Wire<CreatedWebhookView>),
}

#[derive(ApiResponse)]
enum ManyWebhooks {
    /// A page of the webhooks the caller manages (their own and their teams'), newest first.
    #[oai(status = 200)]
    Ok(Wire<WebhookPage>),
}

#[derive(ApiResponse)]
enum ManyDeliveries {
    /// A page of the webhook's delivery attempts, newest first (kept for a week).
    #[oai(status = 200)]
    Ok(Wire<WebhookDeliveryPage>),
}

#[derive(ApiResponse)]
enum Deleted {
    /// Deleted, with its pending events: nothing more is sent.
    #[oai(status = 204)]
    NoContent,
}

problems!(
    /// The problems `create_webhook` documents.
    CreateProblems: [
        MALFORMED,
        UNAUTHENTICATED,
        (403, "`forbidden`: only a team's admins and owners manage its webhooks; or \
               `insufficient_scope`: a read-only token"),
        (404, "`not_found`: the caller is in no such team"),
        (422, "`validation_failed`: the URL is not an allowed https URL or resolves to a \
               private, loopback or link-local address; an event is unknown or listed twice; \
               or the user or team already has 20 webhooks"),
        TOO_LARGE,
        NOT_JSON,
        UNAVAILABLE,
    ]
);
problems!(
    /// The problems `list_webhooks` documents.
    ListProblems: [MALFORMED, UNAUTHENTICATED, VALIDATION, UNAVAILABLE]
);
problems!(
    /// The problems `delete_webhook` documents.
    DeleteProblems: [
        MALFORMED,
        UNAUTHENTICATED,
        INSUFFICIENT_SCOPE,
        (404, "`not_found`: the caller manages no such webhook"),
        UNAVAILABLE,
    ]
);
problems!(
    /// The problems `list_webhook_deliveries` documents.
    DeliveriesProblems: [
        MALFORMED,
        UNAUTHENTICATED,
        (404, "`not_found`: the caller manages no such webhook"),
        VALIDATION,
        UNAVAILABLE,
    ]
);

#[OpenApi(tag = "ApiTags::Webhooks")]
impl WebhooksApi {
    /// Create a webhook
    ///
    /// Events are POSTed as `{id, type, at, data}`, signed as Standard Webhooks sign
    /// (`webhook-id`, `webhook-timestamp`, `webhook-signature`) with the secret in this answer,
    /// shown only now. Delivery is at least once, in commit order, retried with growing delays
    /// for a day under the same `webhook-id` (docs/webhooks.md).
    #[oai(
        path = "/api/v1/webhooks",
        method = "post",
        operation_id = "createWebhook"
    )]
    async fn create_webhook(
        &self,
        auth: BearerAuth,
        body: Json<CreateWebhookRequest>,
    ) -> Result<CreatedWebhook, Failure<CreateProblems>> {
        let CreateWebhookRequest {
            url,
            events,
            team_id,
        } = body.0;
        let policy = self.state.webhooks.policy;
        let refused =
            |refusal: destination::Refusal| EngineError::Validation(vec![url_error(refusal)]);
        let url = destination::parse(&url, policy).map_err(refused)?;
        destination::resolve(&url, policy).await.map_err(refused)?;
        let secret = signature::new_secret();
        let new = NewWebhook {
            url: url.to_string(),
            events: events.into_iter().map(StrictString::into_inner).collect(),
            team_id: team_id.map(TeamId),
            secret: secret.clone(),
        };
        let hook = self.state.engine.create_webhook(auth.0, new).await?;
        Ok(CreatedWebhook::Created(Wire(CreatedWebhookView {
            fields: hook.into(),
            secret,
        })))
    }

    /// List webhooks
    ///
    /// The caller's own and those of the teams they are an admin or owner of, without their
    /// secrets. Newest first, keyset-paginated.
    #[oai(
        path = "/api/v1/webhooks",
        method = "get",
        operation_id = "listWebhooks"
    )]
    async fn list_webhooks(
        &self,
        auth: BearerAuth,
        /// Page size, 1..=200 (default 50).
        limit: Query<Option<i64>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
    ) -> Result<ManyWebhooks, Failure<ListProblems>> {
        let page = (self.state.engine)
            .webhooks(auth.0, limit.0, cursor.0.as_deref())
            .await?;
        Ok(ManyWebhooks::Ok(Wire(page.into())))
    }

    /// Delete a webhook
    ///
    /// Its pending events are dropped: nothing more is sent.
    #[oai(
        path = "/api/v1/webhooks/:id",
        method = "delete",
        operation_id = "deleteWebhook"
    )]
    async fn delete_webhook(
        &self,
        auth: BearerAuth,
        /// The webhook's id.
        id: Path<Uuid>,
    ) -> Result<Deleted, Failure<DeleteProblems>> {
        self.state.engine.delete_webhook(auth.0, id.0).await?;
        Ok(Deleted::NoContent)
    }

    /// List a webhook's deliveries
    ///
    /// Every attempt: delivered, failed (with when it is tried again) or abandoned. Newest
    /// first, keyset-paginated; kept for a week.
    #[oai(
        path = "/api/v1/webhooks/:id/deliveries",
        method = "get",
        operation_id = "listWebhookDeliveries"
    )]
    async fn list_webhook_deliveries(
        &self,
        auth: BearerAuth,
        /// The webhook's id.
        id: Path<Uuid>,
        /// Page size, 1..=200 (default 50).
        limit: Query<Option<i64>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
    ) -> Result<ManyDeliveries, Failure<DeliveriesProblems>> {
        let page = (self.state.engine)
            .webhook_deliveries(auth.0, id.0, limit.0, cursor.0.as_deref())
            .await?;
        Ok(ManyDeliveries::Ok(Wire(page.into())))
    }
}

fn url_error(refusal: destination::Refusal) -> FieldError {
    FieldError::new("url", refusal.to_string())
}
