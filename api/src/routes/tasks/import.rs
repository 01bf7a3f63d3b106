//! `POST /api/v1/tasks/import`: the request body is a file, CSV or NDJSON by its media type, of
//! up to 50 MiB (`body_limit.rs`); it is decoded into lines (`taskpulse_live`'s transfer shapes)
//! off the async workers, and the engine checks and writes them all or none.

use poem::{Request, RequestBody};
use poem_openapi::registry::{MetaMediaType, MetaRequest, Registry};
use poem_openapi::types::Type;
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions};
use taskpulse_actors::ImportLine;
use taskpulse_live::shapes::transfer::TransferFormat;

use crate::body_limit::MAX_IMPORT_BYTES;
use crate::error::ApiError;

/// An import's file as the request carries it.
pub(super) struct ImportFile {
    format: TransferFormat,
    bytes: Vec<u8>,
}

impl ImportFile {
    /// The file's lines, decoded on a blocking thread (20 MiB of CSV is some work).
    pub async fn lines(self) -> Result<Vec<ImportLine>, ApiError> {
        let Self { format, bytes } = self;
        tokio::task::spawn_blocking(move || format.decode(&bytes))
            .await
            .map_err(|err| ApiError::Internal(format!("decoding an import failed: {err}")))
    }
}

impl<'a> ApiExtractor<'a> for ImportFile {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];

    type ParamType = ();
    type ParamRawType = ();

    fn register(_registry: &mut Registry) {}

    fn request_meta() -> Option<MetaRequest> {
        let file = |content_type| MetaMediaType {
            content_type,
            schema: String::schema_ref(),
        };
        Some(MetaRequest {
            description: Some(
                "The tasks, as a CSV file with a header row naming its columns (those of an \
                 export, `title` required; `id`, `owner_id`, `team_id`, `version` and \
                 `updated_at` are read past; an empty cell is null) or as NDJSON (one JSON \
                 object a line with the fields of a task). At most 50 MiB and 100 000 tasks.",
            ),
            content: vec![file("text/csv"), file("application/x-ndjson")],
            required: true,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        let Some(format) = request
            .content_type()
            .and_then(TransferFormat::of_media_type)
        else {
            return Err(ApiError::UnsupportedMediaType(
                "an import's body must be text/csv or application/x-ndjson".to_owned(),
            )
            .into());
        };
        let bytes = body.take()?.into_bytes_limit(MAX_IMPORT_BYTES).await?;
        Ok(Self {
            format,
            bytes: bytes.into(),
        })
    }
}
