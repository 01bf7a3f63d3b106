//! `GET /api/v1/tasks/export`: the engine's export (one snapshot, read a batch at a time)
//! encoded batch by batch into the response body as the client reads it, so the server holds
//! a few batches whatever the number of tasks.

use std::io;

use futures_util::{StreamExt, stream};
use poem::http::StatusCode;
use poem::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use poem::{Body, IntoResponse, Response};
use poem_openapi::ApiResponse;
use poem_openapi::registry::{MetaHeader, MetaMediaType, MetaResponse, MetaResponses, Registry};
use poem_openapi::types::Type;
use taskpulse_actors::{Engine, TaskQuery, UserId};
use taskpulse_live::shapes::transfer::{TransferFormat, csv_header, encode_csv, encode_ndjson};

use crate::error::ApiError;

/// An export: the file, streamed, with its media type and a `Content-Disposition` that saves it.
pub(super) struct ExportFile {
    format: TransferFormat,
    body: Body,
}

impl ExportFile {
    /// Starts the export of what `query` names as `actor` sees it; errors that refuse the
    /// request (an unknown team, say) come before anything is sent.
    pub async fn start(
        engine: &Engine,
        actor: UserId,
        query: TaskQuery,
        format: TransferFormat,
    ) -> Result<Self, ApiError> {
        let tasks = engine.export_tasks(actor, query).await?;
        let head = match format {
            TransferFormat::Csv => {
                csv_header().map_err(|err| ApiError::Internal(err.to_string()))?
            }
            TransferFormat::Ndjson => Vec::new(),
        };
        let rows = tasks.map(move |batch| match batch {
            Ok(batch) => match format {
                TransferFormat::Csv => encode_csv(&batch),
                TransferFormat::Ndjson => encode_ndjson(batch),
            },
            Err(err) => {
                // The answer has started: all the client sees is a body cut short.
                tracing::warn!(error = %err, "an export failed after its first bytes");
                Err(io::Error::other(err))
            }
        });
        let body = stream::once(async move { Ok(head) }).chain(rows);
        Ok(Self {
            format,
            body: Body::from_bytes_stream(body),
        })
    }
}

impl IntoResponse for ExportFile {
    fn into_response(self) -> Response {
        Response::builder()
            .status(StatusCode::OK)
            .header(CONTENT_TYPE, self.format.content_type())
            .header(
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", self.format.file_name()),
            )
            .body(self.body)
    }
}

impl ApiResponse for ExportFile {
    fn meta() -> MetaResponses {
        let file = |content_type| MetaMediaType {
            content_type,
            schema: String::schema_ref(),
        };
        MetaResponses {
            responses: vec![MetaResponse {
                description: "Every matching task, oldest first: CSV with a header row \
                              (`format=csv`, the default) or one JSON task a line \
                              (`format=ndjson`).",
                status: Some(200),
                status_range: None,
                content: vec![file("text/csv"), file("application/x-ndjson")],
                headers: vec![MetaHeader {
                    name: "Content-Disposition".to_owned(),
                    description: Some(
                        "`attachment; filename=\"tasks.csv\"` (or `tasks.ndjson`).".to_owned(),
                    ),
                    required: true,
                    deprecated: false,
                    schema: String::schema_ref(),
                }],
            }],
        }
    }

    fn register(_registry: &mut Registry) {}
}
