//! Tasks as files: the export's CSV (RFC 4180) and NDJSON encodings, and the import's decoding
//! of both into lines the engine checks (`Engine::import_tasks`). The encodings are the REST
//! shapes' own: an NDJSON line is exactly a `Task` as REST answers it, and a CSV row holds the
//! same values in the same spelling (times RFC 3339 in UTC).
//!
//! A CSV cell that a spreadsheet would run as a formula (one starting with `=`, `+`, `-`, `@`,
//! a tab or a carriage return) is written with a leading `'` (OWASP, "CSV Injection"); so is one
//! that starts with `'` itself, so that importing the file gives back exactly what was exported.
//! Importing removes one leading `'` before any of those characters.

pub(crate) mod csv_file;
mod ndjson_file;

use serde::{Deserialize, Serialize};
use taskpulse_actors::{FieldError, ImportLine, ImportedTask};

pub use csv_file::{csv_header, decode_csv, encode_csv};
pub use ndjson_file::{decode_ndjson, encode_ndjson};

/// The columns of a CSV export, in order (its header).
pub const CSV_COLUMNS: [&str; 12] = [
    "id",
    "title",
    "description",
    "status",
    "priority",
    "due_at",
    "owner_id",
    "team_id",
    "created_at",
    "started_at",
    "completed_at",
    "version",
];

/// Columns and fields an import reads past: what the server assigns itself.
const IGNORED_FIELDS: [&str; 5] = ["id", "owner_id", "team_id", "version", "updated_at"];

/// The file format of an export or an import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(
    feature = "openapi",
    oai(rename = "TransferFormat", rename_all = "snake_case")
)]
pub enum TransferFormat {
    /// RFC 4180 CSV, UTF-8, with a header row.
    Csv,
    /// One JSON task a line.
    Ndjson,
}

impl TransferFormat {
    /// The media type of a file in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            TransferFormat::Csv => "text/csv; charset=utf-8",
            TransferFormat::Ndjson => "application/x-ndjson",
        }
    }

    /// The format a request body's media type names (parameters such as `charset` aside).
    pub fn of_media_type(content_type: &str) -> Option<Self> {
        let media = content_type.split(';').next().unwrap_or_default().trim();
        if media.eq_ignore_ascii_case("text/csv") {
            Some(TransferFormat::Csv)
        } else if media.eq_ignore_ascii_case("application/x-ndjson") {
            Some(TransferFormat::Ndjson)
        } else {
            None
        }
    }

    /// The name an export is saved under.
    pub fn file_name(self) -> &'static str {
        match self {
            TransferFormat::Csv => "tasks.csv",
            TransferFormat::Ndjson => "tasks.ndjson",
        }
    }

    /// The lines of an import file in this format.
    pub fn decode(self, body: &[u8]) -> Vec<ImportLine> {
        match self {
            TransferFormat::Csv => decode_csv(body),
            TransferFormat::Ndjson => decode_ndjson(body),
        }
    }
}

/// What an import did: every task of the file is stored.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(example))]
pub struct ImportSummary {
    /// How many tasks were imported.
    pub imported: u64,
}

#[cfg(feature = "openapi")]
impl poem_openapi::types::Example for ImportSummary {
    fn example() -> Self {
        Self { imported: 250 }
    }
}

/// The fields of a task an import reads, by name; anything else is `None`.
fn field_of<'t>(task: &'t mut ImportedTask, name: &str) -> Option<&'t mut Option<String>> {
    Some(match name {
        "title" => &mut task.title,
        "description" => &mut task.description,
        "status" => &mut task.status,
        "priority" => &mut task.priority,
        "due_at" => &mut task.due_at,
        "created_at" => &mut task.created_at,
        "started_at" => &mut task.started_at,
        "completed_at" => &mut task.completed_at,
        _ => return None,
    })
}

/// Whether a cell starting with `first` needs a `'` before it in a CSV file.
fn needs_quote_mark(first: Option<char>) -> bool {
    matches!(first, Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\''))
}

/// A cell as a CSV export writes it: a `'` before a formula character or a `'`.
fn escape_cell(text: &str) -> std::borrow::Cow<'_, str> {
    if needs_quote_mark(text.chars().next()) {
        format!("'{text}").into()
    } else {
        text.into()
    }
}

/// A cell as an import reads it: one `'` before a formula character or a `'` removed.
fn unescape_cell(text: &str) -> &str {
    match text.strip_prefix('\'') {
        Some(rest) if needs_quote_mark(rest.chars().next()) => rest,
        _ => text,
    }
}

/// Keeps decoding while the engine could still use more: it takes at most one task over the
/// limit (to name its line) and lists at most so many errors.
struct Lines {
    lines: Vec<ImportLine>,
    tasks: usize,
    errors: usize,
}

impl Lines {
    fn new() -> Self {
        Self {
            lines: Vec::new(),
            tasks: 0,
            errors: 0,
        }
    }

    fn task(&mut self, task: ImportedTask) {
        self.tasks += 1;
        self.lines.push(Ok(task));
    }

    fn error(&mut self, line: u64, field: &str, message: impl Into<String>) {
        self.errors += 1;
        self.lines
            .push(Err(FieldError::on_line(line, field, message)));
    }

    fn full(&self) -> bool {
        self.tasks > taskpulse_actors::IMPORT_MAX_TASKS
            || self.errors >= taskpulse_actors::IMPORT_MAX_ERRORS
    }
}

/// The body without a UTF-8 byte order mark (spreadsheets write one).
fn without_bom(body: &[u8]) -> &[u8] {
    body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body)
}

#[cfg(test)]
mod tests;
