//! NDJSON: one JSON object a line (`\n`, or `\r\n`), UTF-8. An export's line is a `Task` as
//! REST answers it; an import's line is an object with the task's fields (a string or `null`
//! each), fields it does not read (`id`, `owner_id`, `version`, anything else) read past.

use std::io;

use serde_json::{Map, Value};
use taskpulse_actors::{ImportLine, ImportedTask, Task};

use super::{Lines, field_of, without_bom};
use crate::shapes::tasks::TaskView;

/// One line per task, each ending with `\n`.
pub fn encode_ndjson(tasks: Vec<Task>) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(tasks.len() * 400);
    for task in tasks {
        serde_json::to_writer(&mut out, &TaskView::from(task))?;
        out.push(b'\n');
    }
    Ok(out)
}

/// The tasks of an NDJSON file, numbered by line (the first is 1); blank lines are skipped.
pub fn decode_ndjson(body: &[u8]) -> Vec<ImportLine> {
    let mut lines = Lines::new();
    for (index, raw) in without_bom(body).split(|byte| *byte == b'\n').enumerate() {
        if lines.full() {
            break;
        }
        let line = index as u64 + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let object = match serde_json::from_slice::<Map<String, Value>>(raw) {
            Ok(object) => object,
            Err(err) => {
                // serde_json counts lines within the one it was given: only the column helps.
                let text = err.to_string();
                let what = text
                    .rsplit_once(" at line ")
                    .map_or(text.as_str(), |(what, _)| what);
                let column = err.column();
                lines.error(
                    line,
                    "body",
                    format!("is not a JSON object: {what} at column {column}"),
                );
                continue;
            }
        };
        let mut task = ImportedTask {
            line,
            ..ImportedTask::default()
        };
        let mut readable = true;
        for (key, value) in object {
            let Some(field) = field_of(&mut task, &key) else {
                continue;
            };
            match value {
                Value::Null => {}
                Value::String(text) => *field = Some(text),
                _ => {
                    lines.error(line, &key, "must be a string or null");
                    readable = false;
                }
            }
        }
        if readable {
            lines.task(task);
        }
    }
    lines.lines
}
