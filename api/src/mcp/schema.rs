//! The JSON Schemas of the MCP tools, generated from the very types REST reads and answers:
//! their poem-openapi descriptions (the ones `/openapi.json` publishes), turned from OpenAPI
//! 3.0's dialect into plain JSON Schema. One description per type, so a tool's arguments and
//! answers cannot drift from the REST route's.
//!
//! Two differences of dialect matter to a validating client: a reference points into the
//! document's `$defs` (not `#/components/schemas`), and a field that may be absent may also be
//! `null` (serde writes an absent optional as `null`; OpenAPI 3.0 says so with `nullable`, which
//! JSON Schema does not know).

use std::sync::Arc;

use poem_openapi::registry::{MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use rmcp::model::JsonObject;
use serde_json::{Map, Value, json};

const OPENAPI_REFS: &str = "#/components/schemas/";
const DEFS: &str = "#/$defs/";

/// An object schema in the making: named fields, each described by a REST type.
pub(crate) struct ObjectSchema {
    registry: Registry,
    properties: Map<String, Value>,
    required: Vec<String>,
    description: Option<String>,
}

impl ObjectSchema {
    /// An object with no fields yet.
    pub fn new() -> Self {
        Self {
            registry: Registry::new(),
            properties: Map::new(),
            required: Vec::new(),
            description: None,
        }
    }

    /// The fields of `T`, an object type (a REST request body or answer).
    pub fn of<T: Type>() -> Self {
        let mut schema = Self::new();
        T::register(&mut schema.registry);
        let own = match T::schema_ref() {
            MetaSchemaRef::Inline(inline) => serde_json::to_value(*inline).ok(),
            MetaSchemaRef::Reference(name) => (schema.registry.schemas.get(&name))
                .and_then(|meta| serde_json::to_value(meta).ok()),
        };
        if let Some(Value::Object(mut own)) = own {
            if let Some(Value::Object(properties)) = own.remove("properties") {
                schema.properties = properties;
            }
            if let Some(Value::Array(required)) = own.remove("required") {
                schema.required = (required.into_iter())
                    .filter_map(|name| name.as_str().map(str::to_owned))
                    .collect();
            }
            schema.description = own
                .remove("description")
                .and_then(|text| text.as_str().map(str::to_owned));
        }
        schema
    }

    /// Adds the field `name` of type `T` (required unless `T` is an `Option`).
    pub fn field<T: Type>(mut self, name: &str, description: &str) -> Self {
        T::register(&mut self.registry);
        let mut field = serde_json::to_value(T::schema_ref()).unwrap_or_else(|_| json!({}));
        if let Value::Object(field) = &mut field {
            field.insert("description".to_owned(), description.into());
        }
        self.properties.insert(name.to_owned(), field);
        if T::IS_REQUIRED {
            self.required.push(name.to_owned());
        }
        self
    }

    /// The JSON Schema document.
    pub fn build(self) -> Arc<JsonObject> {
        let mut root = Map::new();
        root.insert("type".to_owned(), "object".into());
        if let Some(description) = self.description {
            root.insert("description".to_owned(), description.into());
        }
        root.insert("properties".to_owned(), Value::Object(self.properties));
        root.insert(
            "required".to_owned(),
            Value::Array(self.required.into_iter().map(Value::from).collect()),
        );
        let defs = (self.registry.schemas.iter())
            .filter_map(|(name, meta)| Some((name.clone(), serde_json::to_value(meta).ok()?)))
            .collect::<Map<_, _>>();
        if !defs.is_empty() {
            root.insert("$defs".to_owned(), Value::Object(defs));
        }
        let mut root = Value::Object(root);
        to_json_schema(&mut root);
        match root {
            Value::Object(root) => Arc::new(root),
            _ => Arc::default(),
        }
    }
}

/// Rewrites one OpenAPI 3.0 schema (and everything in it) as JSON Schema, in place.
fn to_json_schema(value: &mut Value) {
    let nullable = match value {
        Value::Array(items) => {
            items.iter_mut().for_each(to_json_schema);
            false
        }
        Value::Object(schema) => {
            // Examples are for people reading the OpenAPI document; tools carry descriptions.
            schema.remove("example");
            if let Some(Value::String(target)) = schema.get_mut("$ref")
                && let Some(name) = target.strip_prefix(OPENAPI_REFS)
            {
                *target = format!("{DEFS}{name}");
            }
            schema.values_mut().for_each(to_json_schema);
            let required = match schema.get("required") {
                Some(Value::Array(names)) => names.clone(),
                _ => Vec::new(),
            };
            if let Some(Value::Object(properties)) = schema.get_mut("properties") {
                for (name, property) in properties.iter_mut() {
                    if !required.iter().any(|r| r.as_str() == Some(name.as_str())) {
                        allow_null(property);
                    }
                }
            }
            schema.remove("nullable") == Some(Value::Bool(true))
        }
        _ => false,
    };
    if nullable {
        allow_null(value);
    }
}

/// `schema`, or `null`.
fn allow_null(schema: &mut Value) {
    let already = matches!(schema.get("anyOf"), Some(Value::Array(options))
        if options.iter().any(|o| o.get("type") == Some(&Value::from("null"))));
    if already {
        return;
    }
    let description = (schema.as_object_mut()).and_then(|s| s.remove("description"));
    let inner = std::mem::take(schema);
    let mut nullable = Map::new();
    if let Some(description) = description {
        nullable.insert("description".to_owned(), description);
    }
    nullable.insert(
        "anyOf".to_owned(),
        Value::Array(vec![inner, json!({"type": "null"})]),
    );
    *schema = Value::Object(nullable);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::CreateTaskRequest;
    use taskpulse_live::shapes::tasks::TaskView;

    #[test]
    fn references_point_into_the_document_and_optional_fields_may_be_null() {
        let schema = Value::Object((*ObjectSchema::of::<TaskView>().build()).clone());
        let text = schema.to_string();
        assert!(!text.contains("#/components/"), "{text}");
        assert_eq!(schema["type"], "object");
        let due_at = &schema["properties"]["due_at"];
        assert_eq!(due_at["anyOf"][1]["type"], "null", "{due_at}");
    }

    #[test]
    fn a_request_body_keeps_its_required_fields_and_takes_more() {
        let schema = ObjectSchema::of::<CreateTaskRequest>()
            .field::<uuid::Uuid>("id", "the task")
            .build();
        let required = schema.get("required").cloned().unwrap_or_default();
        assert_eq!(required, json!(["title", "id"]));
        assert!(schema.contains_key("properties"));
    }
}
