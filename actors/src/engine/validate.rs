//! Input rules (docs/architecture.md, "Rules and limits"), checked before anything reaches
//! the database.

use crate::error::{Error, FieldError, Result};

/// Collects field errors; `finish` turns them into one `Validation` error.
#[derive(Debug, Default)]
pub(crate) struct Checks(Vec<FieldError>);

impl Checks {
    /// `value` must have between `min` and `max` characters.
    pub fn length(&mut self, field: &str, value: &str, min: usize, max: usize) {
        // PostgreSQL text cannot hold NUL; say so instead of failing in the database.
        if value.contains('\0') {
            self.0.push(FieldError::new(
                field,
                "must not contain NUL (U+0000) characters",
            ));
            return;
        }
        let n = value.chars().count();
        if n < min || n > max {
            let rule = if min == 0 {
                format!("must be at most {max} characters")
            } else {
                format!("must be {min}..={max} characters")
            };
            self.0.push(FieldError::new(field, rule));
        }
    }

    /// `value` must not be blank (only white space).
    pub fn not_blank(&mut self, field: &str, value: &str) {
        if !value.is_empty() && value.trim().is_empty() {
            self.0.push(FieldError::new(field, "must not be blank"));
        }
    }

    pub fn finish(self) -> Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(self.0))
        }
    }
}

pub(crate) const TITLE: (usize, usize) = (1, 200);
pub(crate) const DESCRIPTION_MAX: usize = 10_000;
pub(crate) const TEAM_NAME: (usize, usize) = (1, 100);
/// Page sizes (docs/architecture.md, "Rules and limits").
pub(crate) const LIMIT: (i64, i64) = (1, 200);
