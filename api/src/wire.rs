//! JSON answers written by serde. Every answer's body is a shape of `taskpulse_live::shapes`
//! and goes out through [`Wire`], so REST writes exactly what the WebSocket (and next MCP and
//! webhooks) write with the same types; the OpenAPI document describes those types through
//! their poem-openapi derive. Request bodies are still read by poem-openapi's `Json`, whose
//! parsing checks them against the same schemas.

use poem::{IntoResponse, Response};
use poem_openapi::ApiResponse;
use poem_openapi::payload::Payload;
use poem_openapi::registry::{MetaMediaType, MetaResponse, MetaResponses, MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use serde::Serialize;

/// A JSON answer: a shape, written by serde, documented by its schema.
#[derive(Debug, Clone)]
pub struct Wire<T>(pub T);

impl<T: Type> Payload for Wire<T> {
    const CONTENT_TYPE: &'static str = "application/json; charset=utf-8";

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Serialize + Send> IntoResponse for Wire<T> {
    fn into_response(self) -> Response {
        poem::web::Json(self.0).into_response()
    }
}

impl<T: Type + Serialize + Send> ApiResponse for Wire<T> {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "",
                status: Some(200),
                status_range: None,
                content: vec![MetaMediaType {
                    content_type: Self::CONTENT_TYPE,
                    schema: Self::schema_ref(),
                }],
                headers: vec![],
            }],
        }
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

/// An answer the caller may ask as JSON (the shape) or as CSV (`format=csv`): both content
/// types are documented under 200.
#[derive(Debug, Clone)]
pub enum JsonOrCsv<T> {
    /// The shape, written by serde.
    Json(T),
    /// The same numbers as CSV, offered as a download named `filename`.
    Csv {
        /// The CSV file.
        body: Vec<u8>,
        /// The attachment's file name.
        filename: &'static str,
    },
}

/// The CSV content type.
pub const CSV_CONTENT_TYPE: &str = "text/csv; charset=utf-8";

impl<T: Serialize + Send> IntoResponse for JsonOrCsv<T> {
    fn into_response(self) -> Response {
        match self {
            Self::Json(value) => Wire(value).into_response(),
            Self::Csv { body, filename } => Response::builder()
                .content_type(CSV_CONTENT_TYPE)
                .header(
                    poem::http::header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{filename}\""),
                )
                .body(body),
        }
    }
}

impl<T: Type + Serialize + Send> ApiResponse for JsonOrCsv<T> {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "JSON, or CSV when the request asks `format=csv`",
                status: Some(200),
                status_range: None,
                content: vec![
                    MetaMediaType {
                        content_type: Wire::<T>::CONTENT_TYPE,
                        schema: T::schema_ref(),
                    },
                    MetaMediaType {
                        content_type: CSV_CONTENT_TYPE,
                        schema: String::schema_ref(),
                    },
                ],
                headers: vec![],
            }],
        }
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}
