//! The MCP tools: each is a REST operation with the same arguments, rules and answer. Arguments
//! are read by the REST request types' own parsers (poem-openapi's), the engine commands are
//! the ones the REST handlers call, and the answers are the same `taskpulse_live` shapes;
//! failures are `isError` results whose structured content is the problem document REST
//! would have answered.

use std::sync::{Arc, OnceLock};

use poem_openapi::types::ParseFromJSON;
use rmcp::model::{CallToolResult, JsonObject, Tool, ToolAnnotations};
use serde::Serialize;
use serde_json::{Value, json};
use taskpulse_actors::{Scope, TaskId, TaskQuery, UserId};
use taskpulse_live::shapes::dashboard::StatisticsView;
use taskpulse_live::shapes::tasks::{ShareView, TaskPage, TaskView};
use taskpulse_live::shapes::teams::TeamPage;
use taskpulse_live::shapes::trends::TrendsView;
use taskpulse_live::shapes::values::{PriorityView, StatusView, TaskScopeView};
use uuid::Uuid;

use super::schema::ObjectSchema;
use crate::auth::{Caller, check_write};
use crate::error::{ApiError, problem_document};
use crate::routes::choice::{Choice, Choices};
use crate::routes::{CreateTaskRequest, ShareRequest, UpdateTaskRequest, trends_query};
use crate::state::AppState;

/// The tools, as `tools/list` describes them.
pub(crate) fn catalogue() -> &'static [Tool] {
    static TOOLS: OnceLock<Vec<Tool>> = OnceLock::new();
    TOOLS.get_or_init(describe)
}

/// Whether the tool `name` writes (a `read` personal access token may not call it).
fn writes(name: &str) -> bool {
    matches!(
        name,
        "create_task" | "update_task" | "delete_task" | "share_task"
    )
}

const ID: &str = "The task's id (a UUID, as `list_tasks` and `create_task` give it).";
const TEAM: &str = "A team the caller belongs to (its id, from `list_teams`); absent for the \
                    caller's own tasks.";
const LIMIT: &str = "Page size, 1..=200 (default 50).";
const CURSOR: &str = "The `next_cursor` of the previous page, to read the next one.";

fn tool(
    name: &'static str,
    description: &'static str,
    input: ObjectSchema,
    output: Arc<JsonObject>,
) -> Tool {
    let annotations = ToolAnnotations::new()
        .read_only(!writes(name))
        .destructive(name == "delete_task");
    Tool::new(name, description, input.build())
        .with_raw_output_schema(output)
        .with_annotations(annotations)
}

fn describe() -> Vec<Tool> {
    let output = |schema: ObjectSchema| schema.build();
    vec![
        tool(
            "create_task",
            "Create a task for the caller (or, with `team_id`, a team task: needs role member or \
             above). Only `title` is required; a new task is `pending` and `medium` unless told \
             otherwise. Answers the task as stored, with its `id` and `version`.",
            ObjectSchema::of::<CreateTaskRequest>(),
            output(ObjectSchema::of::<TaskView>()),
        ),
        tool(
            "list_tasks",
            "List the tasks the caller may see, newest first, one page at a time: filter by \
             `scope` (own, shared, team, all), `team_id`, `status` and `priority`; pass \
             `next_cursor` back as `cursor` for the next page.",
            ObjectSchema::new()
                .field::<Option<Choice<TaskScopeView>>>(
                    "scope",
                    "`own`, `shared`, `team` or `all` (the default).",
                )
                .field::<Option<Uuid>>("team_id", "Only this team's tasks.")
                .field::<Option<Choice<StatusView>>>("status", "Only tasks with this status.")
                .field::<Option<Choice<PriorityView>>>("priority", "Only tasks with this priority.")
                .field::<Option<i64>>("limit", LIMIT)
                .field::<Option<String>>("cursor", CURSOR),
            output(ObjectSchema::of::<TaskPage>()),
        ),
        tool(
            "get_task",
            "Get one task by id: its title, description, status, priority, due date, owner, \
             team and version.",
            ObjectSchema::new().field::<Uuid>("id", ID),
            output(ObjectSchema::of::<TaskView>()),
        ),
        tool(
            "update_task",
            "Change a task: give its `id` and only the fields to change (`due_at: null` \
             removes the due date; `status: completed` completes it). With `expected_version` \
             the change applies only while the task is still at that version. The owner, \
             `edit` shares and team members (role member or above) may change it.",
            ObjectSchema::of::<UpdateTaskRequest>()
                .field::<Uuid>("id", ID)
                .field::<Option<i64>>(
                    "expected_version",
                    "The task's `version` the change expects; refused with `version_mismatch` \
                     when it has changed since.",
                ),
            output(ObjectSchema::of::<TaskView>()),
        ),
        tool(
            "delete_task",
            "Delete a task for good. Its owner may, and for a team task a team admin or owner.",
            ObjectSchema::new().field::<Uuid>("id", ID),
            Arc::new(deleted_schema()),
        ),
        tool(
            "share_task",
            "Share one of the caller's tasks with another user, named by `user_id` or by \
             `email` (exactly one), with `view` or `edit` permission; sharing again changes the \
             permission.",
            ObjectSchema::of::<ShareRequest>().field::<Uuid>("task_id", ID),
            output(ObjectSchema::of::<ShareView>()),
        ),
        tool(
            "list_teams",
            "List the teams the caller belongs to, with the caller's role in each, one page \
             at a time.",
            ObjectSchema::new()
                .field::<Option<i64>>("limit", LIMIT)
                .field::<Option<String>>("cursor", CURSOR),
            output(ObjectSchema::of::<TeamPage>()),
        ),
        tool(
            "get_statistics",
            "Live statistics of the caller's tasks, or of a team's with `team_id`: counts by \
             status, overdue tasks and the completion rate. Never stale: a write is reflected \
             before it is answered.",
            ObjectSchema::new().field::<Option<Uuid>>("team_id", TEAM),
            output(ObjectSchema::of::<StatisticsView>()),
        ),
        tool(
            "get_trends",
            "Trends of the caller's tasks (or a team's): tasks created, started and completed \
             per day, ISO week or month of a time zone, open and in-progress counts at each \
             bucket's end, and lead and cycle time percentiles in hours.",
            ObjectSchema::new()
                .field::<Option<Uuid>>("team_id", TEAM)
                .field::<Option<String>>(
                    "tz",
                    "The IANA time zone whose calendar the buckets follow (default `UTC`).",
                )
                .field::<Option<String>>(
                    "interval",
                    "`day`, `week` (ISO, Monday first) or `month` (default `week`).",
                )
                .field::<Option<String>>(
                    "from",
                    "The first day wanted, `YYYY-MM-DD` in `tz` (default: 12 intervals back).",
                )
                .field::<Option<String>>(
                    "to",
                    "The last day wanted, `YYYY-MM-DD` in `tz` (default: today there).",
                ),
            output(ObjectSchema::of::<TrendsView>()),
        ),
    ]
}

/// `delete_task`'s answer: REST answers 204 with no body, a tool result carries what happened.
fn deleted_schema() -> JsonObject {
    let schema = json!({
        "type": "object",
        "properties": {
            "id": {"type": "string", "format": "uuid", "description": "The deleted task."},
            "deleted": {"type": "boolean", "description": "Always true."},
        },
        "required": ["id", "deleted"],
    });
    match schema {
        Value::Object(schema) => schema,
        _ => JsonObject::new(),
    }
}

/// Whether `name` is one of the tools.
pub(crate) fn is_tool(name: &str) -> bool {
    catalogue().iter().any(|tool| tool.name == name)
}

/// Calls the tool `name` (one of the catalogue's) as `caller`.
pub(crate) async fn call(
    state: &AppState,
    caller: Caller,
    name: &str,
    arguments: Option<JsonObject>,
) -> CallToolResult {
    let outcome = match writes(name) {
        true => check_write(caller.scopes),
        false => Ok(()),
    };
    let outcome = match outcome {
        Ok(()) => {
            run(
                state,
                caller,
                name,
                Arguments(arguments.unwrap_or_default()),
            )
            .await
        }
        Err(err) => Err(err),
    };
    match outcome {
        Ok(answer) => CallToolResult::structured(answer),
        Err(err) => {
            if let ApiError::Internal(_) | ApiError::Engine(_) = &err {
                let problem = problem_document(&err);
                if problem.status >= 500 {
                    tracing::error!(tool = name, error = %err, "MCP tool call failed");
                }
            }
            let problem = serde_json::to_value(problem_document(&err)).unwrap_or_default();
            CallToolResult::structured_error(problem)
        }
    }
}

async fn run(
    state: &AppState,
    caller: Caller,
    name: &str,
    mut args: Arguments,
) -> Result<Value, ApiError> {
    let user = caller.subject.user;
    let engine = &state.engine;
    match name {
        "create_task" => {
            let new = args.body::<CreateTaskRequest>()?.into_new_task()?;
            answer(TaskView::from(engine.create_task(user, new).await?))
        }
        "list_tasks" => {
            let mut choices = Choices::default();
            let scope = choices.optional(
                "scope",
                args.take::<Option<Choice<TaskScopeView>>>("scope")?,
            );
            let team_id = args.take::<Option<Uuid>>("team_id")?;
            let status =
                choices.optional("status", args.take::<Option<Choice<StatusView>>>("status")?);
            let priority = choices.optional(
                "priority",
                args.take::<Option<Choice<PriorityView>>>("priority")?,
            );
            let limit = args.take::<Option<i64>>("limit")?;
            let cursor = args.take::<Option<String>>("cursor")?;
            args.finish()?;
            choices.finish()?;
            let query = TaskQuery {
                scope: scope.unwrap_or_default(),
                team_id: team_id.map(Into::into),
                status,
                priority,
                limit,
                cursor,
            };
            answer(TaskPage::from(engine.list_tasks(user, query).await?))
        }
        "get_task" => {
            let id = args.take::<Uuid>("id")?;
            args.finish()?;
            answer(TaskView::from(engine.get_task(user, TaskId(id)).await?))
        }
        "update_task" => {
            let id = args.take::<Uuid>("id")?;
            let expected = args.take::<Option<i64>>("expected_version")?;
            let patch = args.body::<UpdateTaskRequest>()?.into_patch()?;
            let task = engine
                .update_task(user, TaskId(id), patch, expected)
                .await?;
            answer(TaskView::from(task))
        }
        "delete_task" => {
            let id = args.take::<Uuid>("id")?;
            args.finish()?;
            engine.delete_task(user, TaskId(id)).await?;
            Ok(json!({"id": id, "deleted": true}))
        }
        "share_task" => {
            let id = args.take::<Uuid>("task_id")?;
            let (with, permission) = args.body::<ShareRequest>()?.into_parts()?;
            let share = engine
                .share_task(user, TaskId(id), with, permission)
                .await?;
            answer(ShareView::from(share))
        }
        "list_teams" => {
            let limit = args.take::<Option<i64>>("limit")?;
            let cursor = args.take::<Option<String>>("cursor")?;
            args.finish()?;
            let page = engine.list_teams(user, limit, cursor.as_deref()).await?;
            answer(TeamPage::from(page))
        }
        "get_statistics" => {
            let scope = scope(user, args.take::<Option<Uuid>>("team_id")?);
            args.finish()?;
            answer(StatisticsView::from(&engine.statistics(user, scope).await?))
        }
        "get_trends" => {
            let scope = scope(user, args.take::<Option<Uuid>>("team_id")?);
            let tz = args.take::<Option<String>>("tz")?;
            let interval = args.take::<Option<String>>("interval")?;
            let from = args.take::<Option<String>>("from")?;
            let to = args.take::<Option<String>>("to")?;
            args.finish()?;
            let query = trends_query(
                tz.as_deref(),
                interval.as_deref(),
                from.as_deref(),
                to.as_deref(),
            )?;
            answer(TrendsView::from(&engine.trends(user, scope, query).await?))
        }
        other => Err(ApiError::Malformed(format!("there is no tool `{other}`"))),
    }
}

/// The scope a tool's `team_id` names: that team, or the caller's own tasks.
fn scope(user: UserId, team_id: Option<Uuid>) -> Scope {
    crate::routes::dashboard_scope(user, team_id)
}

fn answer(view: impl Serialize) -> Result<Value, ApiError> {
    serde_json::to_value(view).map_err(|err| ApiError::Internal(err.to_string()))
}

/// A tool call's arguments, read field by field with the REST types' parsers.
struct Arguments(JsonObject);

impl Arguments {
    /// The field `name`, parsed as REST parses that parameter.
    fn take<T: ParseFromJSON>(&mut self, name: &str) -> Result<T, ApiError> {
        T::parse_from_json(self.0.remove(name)).map_err(|err| {
            ApiError::Malformed(format!("argument `{name}`: {}", err.into_message()))
        })
    }

    /// The remaining fields, parsed as REST parses the request body `T`.
    fn body<T: ParseFromJSON>(self) -> Result<T, ApiError> {
        T::parse_from_json(Some(Value::Object(self.0)))
            .map_err(|err| ApiError::Malformed(format!("arguments: {}", err.into_message())))
    }

    /// Refuses arguments the tool does not take (a misspelt filter must not be ignored).
    fn finish(self) -> Result<(), ApiError> {
        match self.0.keys().next() {
            None => Ok(()),
            Some(name) => Err(ApiError::Malformed(format!(
                "unknown argument `{name}`: the tool's input schema lists those it takes"
            ))),
        }
    }
}
