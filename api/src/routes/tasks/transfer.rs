//! `GET /api/v1/tasks/export` and `POST /api/v1/tasks/import` (docs/export-import.md): the
//! tasks as files, both ways; the files themselves are `export.rs` and `import.rs`.

use poem_openapi::param::Query;
use poem_openapi::{ApiResponse, OpenApi};
use taskpulse_actors::TaskQuery;
use taskpulse_live::shapes::transfer::{ImportSummary, TransferFormat};
use taskpulse_live::shapes::values::{PriorityView, StatusView, TaskScopeView};
use uuid::Uuid;

use super::export::ExportFile;
use super::import::ImportFile;
use crate::auth::BearerAuth;
use crate::routes::ApiTags;
use crate::routes::choice::{Choice, Choices};
use crate::routes::problem::{
    Failure, MALFORMED, UNAUTHENTICATED, UNAVAILABLE, problems, read_scope_refused,
};
use crate::state::AppState;
use crate::wire::Wire;

/// Tasks as files: export and import.
pub struct TransferApi {
    state: AppState,
}

impl TransferApi {
    /// The export and import API over the shared state.
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

#[derive(ApiResponse)]
enum Imported {
    /// Every task of the file is stored; the aggregates moved by one version each.
    #[oai(status = 201)]
    Created(Wire<ImportSummary>),
}

problems!(
    /// The problems `export_tasks` documents.
    ExportProblems: [
        MALFORMED,
        UNAUTHENTICATED,
        (404, "`not_found`: `team_id` names a team the caller is not a member of"),
        (422, "`validation_failed`: `errors` names each parameter that breaks a rule \
               (`scope`, `status`, `priority`, `format`)"),
        (503, "`database_unavailable` or `engine_unavailable` (also while as many exports \
               run as this node serves at once): try again shortly"),
    ]
);
problems!(
    /// The problems `import_tasks` documents.
    ImportProblems: [
        (400, "`malformed_request`: `team_id` is not a UUID"),
        UNAUTHENTICATED,
        (403, concat!("`forbidden`: viewers cannot import team tasks; ", read_scope_refused!())),
        (404, "`not_found`: the team does not exist or the caller is not a member"),
        (413, "`payload_too_large`: the file is above 50 MiB"),
        (415, "`unsupported_media_type`: the body is not `text/csv` or `application/x-ndjson`"),
        (422, "`validation_failed`: nothing was imported; `errors` lists (at most 100, in \
               line order) each `line` and `field` that breaks a rule, or the file holds no \
               task or more than 100 000"),
        UNAVAILABLE,
    ]
);

#[OpenApi(tag = "ApiTags::Tasks")]
impl TransferApi {
    /// Export tasks
    ///
    /// Every task `GET /api/v1/tasks` would list with the same `scope`, `team_id`, `status`
    /// and `priority`, without paging, oldest first, as a file to save: CSV (RFC 4180, UTF-8,
    /// header `id,title,description,status,priority,due_at,owner_id,team_id,created_at,started_at,completed_at,version`;
    /// a cell starting with `=`, `+`, `-`, `@`, a tab, a carriage return or `'` is written
    /// with a leading `'`, so that no spreadsheet runs it as a formula) or NDJSON (one task a
    /// line, as `GET /api/v1/tasks/{id}` answers it). The file is one consistent snapshot: a
    /// change committed meanwhile is in it entirely or not at all. It is streamed: a failure
    /// after the first bytes cuts the body short instead of ending it cleanly.
    #[oai(
        path = "/api/v1/tasks/export",
        method = "get",
        operation_id = "exportTasks"
    )]
    async fn export_tasks(
        &self,
        auth: BearerAuth,
        /// `own`, `shared`, `team` or `all` (the default).
        scope: Query<Option<Choice<TaskScopeView>>>,
        /// Only this team's tasks.
        team_id: Query<Option<Uuid>>,
        /// Only tasks with this status.
        status: Query<Option<Choice<StatusView>>>,
        /// Only tasks with this priority.
        priority: Query<Option<Choice<PriorityView>>>,
        /// `csv` (the default) or `ndjson`.
        format: Query<Option<Choice<TransferFormat>>>,
    ) -> Result<ExportFile, Failure<ExportProblems>> {
        let mut choices = Choices::default();
        let scope = choices.optional("scope", scope.0);
        let status = choices.optional("status", status.0);
        let priority = choices.optional("priority", priority.0);
        let format = choices.optional("format", format.0);
        choices.finish()?;
        let query = TaskQuery {
            scope: scope.unwrap_or_default(),
            team_id: team_id.0.map(Into::into),
            status,
            priority,
            limit: None,
            cursor: None,
        };
        let format = format.unwrap_or(TransferFormat::Csv);
        Ok(ExportFile::start(&self.state.engine, auth.0, query, format).await?)
    }

    /// Import tasks
    ///
    /// Moves tasks from a file into taskpulse with their history, all or nothing: every line
    /// is checked first, by the rules of `POST /api/v1/tasks` and these: times are RFC 3339
    /// with any offset, none before 1970; `created_at` (the import's time when empty),
    /// `started_at` and `completed_at` are not in the future and follow each other; and
    /// `completed_at` is given exactly when `status` is `completed`. Any broken rule answers
    /// 422 with up to 100 errors, each naming its `line` (a CSV header is line 1), and stores
    /// nothing. Otherwise the caller owns every task (in the team `team_id` names: role
    /// `member` or above), one audit entry (`task.import`) records the import and each
    /// aggregate concerned moves by one version.
    #[oai(
        path = "/api/v1/tasks/import",
        method = "post",
        operation_id = "importTasks"
    )]
    async fn import_tasks(
        &self,
        auth: BearerAuth,
        /// Import into this team (role `member` or above).
        team_id: Query<Option<Uuid>>,
        file: ImportFile,
    ) -> Result<Imported, Failure<ImportProblems>> {
        let lines = file.lines().await?;
        let imported = (self.state.engine)
            .import_tasks(auth.0, team_id.0.map(Into::into), lines)
            .await?;
        Ok(Imported::Created(Wire(ImportSummary {
            imported: imported as u64,
        })))
    }
}
