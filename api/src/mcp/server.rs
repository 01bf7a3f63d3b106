//! The MCP server of one session: the SDK's handler trait over the tools and resources. The
//! SDK makes one per session; whom each request speaks for comes with the request (the HTTP
//! layer verified its bearer token and checked the session is that user's).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use rmcp::ErrorData;
use rmcp::ServerHandler;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, Implementation, ListResourceTemplatesResult,
    ListResourcesResult, ListToolsResult, PaginatedRequestParams, ProtocolVersion,
    ReadResourceRequestParams, ReadResourceResponse, ServerCapabilities, ServerConfig,
    SubscribeRequestParams, UnsubscribeRequestParams,
};
use rmcp::service::{RequestContext, RoleServer};
use tokio::task::JoinHandle;

use super::{resources, tools};
use crate::auth::Caller;
use crate::metrics::Metrics;
use crate::state::AppState;

const INSTRUCTIONS: &str = "taskpulse manages tasks and follows live statistics. Use the tools \
    to create, list, read, change, delete and share tasks, list teams, and read statistics and \
    trends; failures are results with isError whose structured content is a problem document \
    (its `code` says what to fix). Read taskpulse://dashboard/user (or a team's, \
    taskpulse://dashboard/team/{team_id}) and subscribe to it to hear of every change.";

/// One session's server.
pub(crate) struct TaskpulseMcp {
    state: AppState,
    /// The session's resource subscriptions, by URI; they end with the session.
    following: Mutex<HashMap<String, JoinHandle<()>>>,
}

impl TaskpulseMcp {
    pub fn new(state: AppState) -> Self {
        Self {
            state,
            following: Mutex::default(),
        }
    }

    fn following(&self) -> std::sync::MutexGuard<'_, HashMap<String, JoinHandle<()>>> {
        self.following
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for TaskpulseMcp {
    fn drop(&mut self) {
        for (_, task) in self.following().drain() {
            task.abort();
        }
    }
}

/// The caller the HTTP layer verified for this request.
fn caller(context: &RequestContext<RoleServer>) -> Result<Caller, ErrorData> {
    context
        .extensions
        .get::<poem::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Caller>())
        .copied()
        .ok_or_else(|| ErrorData::internal_error("the request carries no verified caller", None))
}

/// The server's metrics, which poem's `.data` put in the request's extensions (the SDK hands
/// the handler the HTTP request's parts, as it does for the caller).
fn metrics(context: &RequestContext<RoleServer>) -> Option<&Arc<Metrics>> {
    (context.extensions.get::<poem::http::request::Parts>())
        .and_then(|parts| parts.extensions.get::<Arc<Metrics>>())
}

impl ServerHandler for TaskpulseMcp {
    fn get_info(&self) -> ServerConfig {
        let capabilities = ServerCapabilities::builder()
            .enable_tools()
            .enable_resources()
            .enable_resources_subscribe()
            .build();
        ServerConfig::new(capabilities)
            .with_server_info(Implementation::new("taskpulse", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }

    /// The revisions with sessions and `resources/subscribe` (up to 2025-11-25): the contract
    /// binds sessions to users and feeds subscriptions, which the stateless revisions after
    /// it dropped.
    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        Cow::Borrowed(ProtocolVersion::known_up_to(&ProtocolVersion::V_2025_11_25))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(tools::catalogue().to_vec()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        if !tools::is_tool(&request.name) {
            return Err(ErrorData::invalid_params(
                format!("there is no tool `{}`: tools/list names them", request.name),
                None,
            ));
        }
        let caller = caller(&context)?;
        let started = Instant::now();
        let result = tools::call(&self.state, caller, &request.name, request.arguments).await;
        if let Some(metrics) = metrics(&context) {
            let failed = result.is_error == Some(true);
            metrics.mcp_tool_call(&request.name, failed, started.elapsed().as_secs_f64());
        }
        Ok(result.into())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        resources::list(&self.state, caller(&context)?.subject.user).await
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        Ok(resources::templates())
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let user = caller(&context)?.subject.user;
        Ok(resources::read(&self.state, user, &request.uri)
            .await?
            .into())
    }

    async fn subscribe(
        &self,
        request: SubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        let user = caller(&context)?.subject.user;
        let most = self.state.live.settings().max_topics_per_session;
        let full = {
            let following = self.following();
            following.len() >= most && !following.contains_key(&request.uri)
        };
        if full {
            return Err(ErrorData::invalid_request(
                format!("a session follows at most {most} resources: unsubscribe from one first"),
                None,
            ));
        }
        let task = resources::follow(&self.state, user, request.uri.clone(), context.peer).await?;
        if let Some(previous) = self.following().insert(request.uri, task) {
            previous.abort();
        }
        Ok(())
    }

    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        if let Some(task) = self.following().remove(&request.uri) {
            task.abort();
        }
        Ok(())
    }
}
