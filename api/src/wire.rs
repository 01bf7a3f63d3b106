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
