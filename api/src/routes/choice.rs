//! A closed-set value (an enum) of a request, parsed so that a well-formed but unknown value is
//! a rule broken (422 `validation_failed`, naming the field) rather than a syntax error (400).
//! poem-openapi would refuse `"status": "done"` while parsing, before the handler could say
//! which rule it broke; [`Choice`] keeps the text and lets the handler say it.

use std::borrow::Cow;

use poem_openapi::registry::{MetaSchemaRef, Registry};
use poem_openapi::types::{
    ParseError, ParseFromJSON, ParseFromParameter, ParseResult, ToJSON, Type,
};
use serde_json::Value;
use taskpulse_actors::FieldError;

/// One of the values of `E`, or the text that was not one of them. Any JSON type but a
/// string is still a syntax error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice<E>(Result<E, String>);

impl<E: Type> Choice<E> {
    /// A valid value.
    pub fn new(value: E) -> Self {
        Self(Ok(value))
    }

    /// The value, or a field error for `field` listing what it may be.
    pub fn value<T: From<E>>(self, field: &str) -> Result<T, FieldError> {
        self.0.map(T::from).map_err(|text| {
            FieldError::new(
                field,
                format!("{text:?} is not one of {}", allowed::<E>().join(", ")),
            )
        })
    }
}

/// The values `E`'s schema lists.
fn allowed<E: Type>() -> Vec<String> {
    let mut registry = Registry::new();
    E::register(&mut registry);
    let schema = match E::schema_ref() {
        MetaSchemaRef::Inline(schema) => Some(*schema),
        MetaSchemaRef::Reference(name) => registry.schemas.get(&name).cloned(),
    };
    schema
        .map(|s| {
            s.enum_items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

impl<E: Type> Type for Choice<E> {
    const IS_REQUIRED: bool = true;
    type RawValueType = E::RawValueType;
    type RawElementValueType = E::RawElementValueType;

    fn name() -> Cow<'static, str> {
        E::name()
    }

    fn schema_ref() -> MetaSchemaRef {
        E::schema_ref()
    }

    fn register(registry: &mut Registry) {
        E::register(registry);
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        self.0.as_ref().ok().and_then(E::as_raw_value)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        match &self.0 {
            Ok(value) => value.raw_element_iter(),
            Err(_) => Box::new(std::iter::empty()),
        }
    }
}

impl<E: Type + ParseFromJSON> ParseFromJSON for Choice<E> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            Some(Value::String(text)) => Ok(Self(
                E::parse_from_json(Some(Value::String(text.clone()))).map_err(|_| text),
            )),
            other => Err(ParseError::expected_type(other.unwrap_or_default())),
        }
    }
}

impl<E: Type + ParseFromParameter> ParseFromParameter for Choice<E> {
    fn parse_from_parameter(text: &str) -> ParseResult<Self> {
        Ok(Self(
            E::parse_from_parameter(text).map_err(|_| text.to_owned()),
        ))
    }
}

impl<E: Type + ToJSON> ToJSON for Choice<E> {
    fn to_json(&self) -> Option<Value> {
        match &self.0 {
            Ok(value) => value.to_json(),
            Err(text) => Some(Value::String(text.clone())),
        }
    }
}

/// Collects the field errors of a request's choices, so that all are answered at once.
#[derive(Debug, Default)]
pub struct Choices(Vec<FieldError>);

impl Choices {
    /// The value of an optional choice; a bad one is recorded and read as absent.
    pub fn optional<E: Type, T: From<E>>(
        &mut self,
        field: &str,
        choice: Option<Choice<E>>,
    ) -> Option<T> {
        choice.and_then(|c| self.record(c.value(field)))
    }

    /// Records a field error (or passes a value through).
    pub fn record<T>(&mut self, outcome: Result<T, FieldError>) -> Option<T> {
        outcome.map_err(|e| self.0.push(e)).ok()
    }

    /// `Err(Validation)` when any choice was bad.
    pub fn finish(self) -> Result<(), taskpulse_actors::Error> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(taskpulse_actors::Error::Validation(self.0))
        }
    }
}
