//! CSV (RFC 4180): CRLF between records, a field quoted only when it holds a comma, a quote or
//! a line break; UTF-8; the header first. An empty cell is a null.

use std::borrow::Cow;
use std::io;

use csv::{ByteRecord, QuoteStyle, ReaderBuilder, Terminator, WriterBuilder};
use taskpulse_actors::{ImportLine, ImportedTask, Task};

use super::{
    CSV_COLUMNS, IGNORED_FIELDS, Lines, escape_cell, field_of, unescape_cell, without_bom,
};

/// A CSV writer as every file taskpulse writes is written.
pub(crate) fn writer() -> csv::Writer<Vec<u8>> {
    WriterBuilder::new()
        .terminator(Terminator::CRLF)
        .quote_style(QuoteStyle::Necessary)
        .from_writer(Vec::new())
}

/// The bytes written.
pub(crate) fn finish(writer: csv::Writer<Vec<u8>>) -> io::Result<Vec<u8>> {
    writer.into_inner().map_err(|err| err.into_error())
}

/// The header record.
pub fn csv_header() -> io::Result<Vec<u8>> {
    let mut writer = writer();
    writer.write_record(CSV_COLUMNS)?;
    finish(writer)
}

/// The records of `tasks`, in the columns of [`CSV_COLUMNS`].
pub fn encode_csv(tasks: &[Task]) -> io::Result<Vec<u8>> {
    let mut writer = writer();
    for task in tasks {
        writer.write_record(
            cells(task)
                .iter()
                .map(|cell| escape_cell(cell).into_owned()),
        )?;
    }
    finish(writer)
}

fn cells(task: &Task) -> [Cow<'_, str>; 12] {
    let time = |at: Option<chrono::DateTime<chrono::Utc>>| -> Cow<'_, str> {
        at.map_or(Cow::Borrowed(""), |at| at.to_rfc3339().into())
    };
    [
        task.id.0.to_string().into(),
        task.title.as_str().into(),
        task.description.as_str().into(),
        task.status.as_str().into(),
        task.priority.as_str().into(),
        time(task.due_at),
        task.owner_id.0.to_string().into(),
        task.team_id
            .map_or(Cow::Borrowed(""), |team| team.0.to_string().into()),
        time(Some(task.created_at)),
        time(task.started_at),
        time(task.completed_at),
        task.version.to_string().into(),
    ]
}

/// The tasks of a CSV file whose header names its columns (any order, any subset of the
/// export's that includes `title`; `updated_at` is read past too). Lines are numbered as an
/// editor numbers them: the header is line 1, and a record spanning several lines (a quoted
/// line break) is numbered by its first.
pub fn decode_csv(body: &[u8]) -> Vec<ImportLine> {
    let mut lines = Lines::new();
    let mut reader = ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(without_bom(body));
    let mut record = ByteRecord::new();
    // Reading from memory cannot fail, and a flexible reader takes records of any length.
    if !reader.read_byte_record(&mut record).unwrap_or(false) {
        return lines.lines;
    }
    let Some(columns) = header(&record, &mut lines) else {
        return lines.lines;
    };
    let input = without_bom(body);
    while !lines.full() && reader.read_byte_record(&mut record).unwrap_or(false) {
        let line = record.position().map_or(0, |at| line_of(input, at));
        if record.len() != columns.len() {
            lines.error(
                line,
                "body",
                format!(
                    "the record has {} cells; the header names {}",
                    record.len(),
                    columns.len()
                ),
            );
            continue;
        }
        let mut task = ImportedTask {
            line,
            ..ImportedTask::default()
        };
        let mut readable = true;
        for (column, cell) in columns.iter().zip(record.iter()) {
            let Some(column) = column else { continue };
            let Ok(text) = std::str::from_utf8(cell) else {
                lines.error(line, column, "is not UTF-8 text");
                readable = false;
                continue;
            };
            if let Some(field) = field_of(&mut task, column)
                && !text.is_empty()
            {
                *field = Some(unescape_cell(text).to_owned());
            }
        }
        if readable {
            lines.task(task);
        }
    }
    lines.lines
}

/// The line a record starts on. The reader places a record's start before the `\n` that ends a
/// `\r\n` before it (it ends the previous record at the `\r`): such a start is on the next line.
fn line_of(input: &[u8], at: &csv::Position) -> u64 {
    let mut line = at.line();
    let mut byte = usize::try_from(at.byte()).unwrap_or(usize::MAX);
    while let Some(&end @ (b'\r' | b'\n')) = input.get(byte) {
        line += u64::from(end == b'\n');
        byte += 1;
    }
    line
}

/// The column each cell of a record is (`None`: read past), or `None` with the header's errors
/// recorded.
fn header(record: &ByteRecord, lines: &mut Lines) -> Option<Vec<Option<&'static str>>> {
    let mut columns = Vec::with_capacity(record.len());
    let mut broken = false;
    let mut seen = Vec::new();
    for (index, cell) in record.iter().enumerate() {
        let name = String::from_utf8_lossy(cell);
        let name = name.trim();
        let known = CSV_COLUMNS
            .iter()
            .chain(["updated_at"].iter())
            .find(|c| **c == name);
        match known {
            None if name.is_empty() => {
                let column = index + 1;
                lines.error(
                    1,
                    "body",
                    format!("column {column} of the header has no name"),
                );
                broken = true;
            }
            None => {
                lines.error(
                    1,
                    name,
                    format!(
                        "is not a column of a task export ({})",
                        CSV_COLUMNS.join(",")
                    ),
                );
                broken = true;
            }
            Some(column) if seen.contains(column) => {
                lines.error(1, column, "is named twice in the header");
                broken = true;
            }
            Some(column) => {
                seen.push(*column);
                columns.push((!IGNORED_FIELDS.contains(column)).then_some(*column));
            }
        }
    }
    if !seen.contains(&"title") {
        lines.error(1, "title", "the header names no title column");
        broken = true;
    }
    (!broken).then_some(columns)
}
