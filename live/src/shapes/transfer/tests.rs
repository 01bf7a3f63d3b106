use chrono::{DateTime, Utc};
use taskpulse_actors::{Priority, Task, TaskId, TaskStatus, TeamId, UserId};

use super::*;

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap_or_default()
}

fn task(title: &str, description: &str) -> Task {
    Task {
        id: TaskId::new(),
        title: title.to_owned(),
        description: description.to_owned(),
        status: TaskStatus::Completed,
        priority: Priority::High,
        due_at: None,
        owner_id: UserId::new(),
        team_id: Some(TeamId::new()),
        version: 3,
        created_at: at("2024-05-01T08:00:00Z"),
        updated_at: at("2024-05-03T08:00:00Z"),
        started_at: Some(at("2024-05-02T08:00:00.5Z")),
        completed_at: Some(at("2024-05-03T08:00:00Z")),
    }
}

fn text(bytes: std::io::Result<Vec<u8>>) -> String {
    String::from_utf8(bytes.unwrap_or_default()).unwrap_or_default()
}

fn tasks_of(lines: Vec<ImportLine>) -> Vec<ImportedTask> {
    lines.into_iter().filter_map(Result::ok).collect()
}

#[test]
fn the_header_is_the_export_columns_and_rows_end_with_crlf() {
    assert_eq!(
        text(csv_header()),
        "id,title,description,status,priority,due_at,owner_id,team_id,created_at,started_at,\
         completed_at,version\r\n"
    );
    let exported = task("Plain", "");
    let row = text(encode_csv(std::slice::from_ref(&exported)));
    let team = exported
        .team_id
        .map(|t| t.0.to_string())
        .unwrap_or_default();
    assert_eq!(
        row,
        format!(
            "{},Plain,,completed,high,,{},{team},2024-05-01T08:00:00+00:00,\
             2024-05-02T08:00:00.500+00:00,2024-05-03T08:00:00+00:00,3\r\n",
            exported.id, exported.owner_id
        )
    );
}

#[test]
fn formula_cells_get_a_quote_mark_and_lose_it_on_import() {
    let titles = [
        "=1+1",
        "+SUM(A1)",
        "-2",
        "@cmd",
        "\tx",
        "\rx",
        "'kept",
        "'=as typed",
        "a=b",
    ];
    let exported: Vec<Task> = titles.iter().map(|t| task(t, "")).collect();

    let file = [text(csv_header()), text(encode_csv(&exported))].concat();

    assert!(
        file.contains("\r\n'=1+1,") || file.contains(",'=1+1,"),
        "{file}"
    );
    assert!(file.contains(",'+SUM(A1),") && file.contains(",'-2,") && file.contains(",'@cmd,"));
    assert!(
        file.contains(",''kept,") && file.contains(",a=b,"),
        "{file}"
    );
    let imported: Vec<Option<String>> = tasks_of(decode_csv(file.as_bytes()))
        .into_iter()
        .map(|t| t.title)
        .collect();
    let expected: Vec<Option<String>> = titles.iter().map(|t| Some((*t).to_owned())).collect();
    assert_eq!(imported, expected);
}

#[test]
fn commas_quotes_and_line_breaks_are_quoted_and_read_back() {
    let exported = [
        task("a, b", "say \"hi\""),
        task("two\nlines", "crlf\r\ninside"),
    ];

    let file = [text(csv_header()), text(encode_csv(&exported))].concat();

    assert!(file.contains(",\"a, b\",\"say \"\"hi\"\"\","), "{file}");
    let imported = tasks_of(decode_csv(file.as_bytes()));
    assert_eq!(imported[0].title.as_deref(), Some("a, b"));
    assert_eq!(imported[0].description.as_deref(), Some("say \"hi\""));
    assert_eq!(imported[1].title.as_deref(), Some("two\nlines"));
    assert_eq!(imported[1].description.as_deref(), Some("crlf\r\ninside"));
    // Numbered by the line each record starts on: the second starts on line 3.
    assert_eq!((imported[0].line, imported[1].line), (2, 3));
}

#[test]
fn an_exported_row_imports_with_every_value() {
    let exported = task("All of it", "");
    let file = [text(csv_header()), text(encode_csv(&[exported]))].concat();

    let imported = tasks_of(decode_csv(file.as_bytes()));

    assert_eq!(
        imported,
        [ImportedTask {
            line: 2,
            title: Some("All of it".to_owned()),
            description: None,
            status: Some("completed".to_owned()),
            priority: Some("high".to_owned()),
            due_at: None,
            created_at: Some("2024-05-01T08:00:00+00:00".to_owned()),
            started_at: Some("2024-05-02T08:00:00.500+00:00".to_owned()),
            completed_at: Some("2024-05-03T08:00:00+00:00".to_owned()),
        }]
    );
}

#[test]
fn a_header_may_name_a_subset_in_any_order_after_a_byte_order_mark() {
    let file = "\u{feff}priority,title\r\nlow,First\r\n,Second\r\n";

    let imported = tasks_of(decode_csv(file.as_bytes()));

    assert_eq!(imported.len(), 2);
    assert_eq!(imported[0].priority.as_deref(), Some("low"));
    assert_eq!(imported[1].priority, None);
    assert_eq!(imported[1].title.as_deref(), Some("Second"));
}

#[test]
fn a_bad_header_or_record_is_an_error_on_its_line() {
    let header_errors = decode_csv(b"title,colour,title\nx,red,y\n");
    let fields: Vec<(Option<u64>, String)> = header_errors
        .iter()
        .filter_map(|l| l.as_ref().err())
        .map(|e| (e.line, e.field.clone()))
        .collect();
    assert_eq!(
        fields,
        [
            (Some(1), "colour".to_owned()),
            (Some(1), "title".to_owned())
        ]
    );
    let unnamed = decode_csv(b"title,\nx,\n");
    assert!(
        matches!(&unnamed[..], [Err(e)] if e.field == "body" && e.message.contains("column 2")),
        "{unnamed:?}"
    );
    assert!(decode_csv(b"description\nx\n").iter().any(|l| {
        l.as_ref()
            .is_err_and(|e| e.field == "title" && e.line == Some(1))
    }));

    let lines = decode_csv(b"title,status\nok,pending\nshort\n\"x\",pending,extra\nfine,low\n");
    let errors: Vec<Option<u64>> = lines
        .iter()
        .filter_map(|l| l.as_ref().err())
        .map(|e| e.line)
        .collect();
    assert_eq!(errors, [Some(3), Some(4)]);
    assert_eq!(lines.iter().filter(|l| l.is_ok()).count(), 2);
}

#[test]
fn ndjson_lines_are_the_rest_task_shape_and_import_back() {
    let exported = task("=1+1", "two\nlines");
    let file = text(encode_ndjson(vec![exported.clone()]));

    assert!(file.ends_with('\n') && file.lines().count() == 1, "{file}");
    let json: serde_json::Value = serde_json::from_str(file.trim_end()).unwrap_or_default();
    assert_eq!(json["title"], "=1+1", "no quote mark in JSON");
    assert_eq!(json["version"], 3);
    assert_eq!(json["started_at"], "2024-05-02T08:00:00.500+00:00");
    assert_eq!(json["due_at"], serde_json::Value::Null);
    let imported = tasks_of(decode_ndjson(file.as_bytes()));
    assert_eq!(imported[0].title.as_deref(), Some("=1+1"));
    assert_eq!(imported[0].description.as_deref(), Some("two\nlines"));
    assert_eq!(imported[0].due_at, None);
}

#[test]
fn ndjson_errors_name_their_line_and_blank_lines_are_skipped() {
    let body =
        b"{\"title\":\"a\"}\r\n\n{\"title\": 5}\n[1]\n{not json\n{\"title\":\"b\",\"extra\":[1]}\n";

    let lines = decode_ndjson(body);

    let errors: Vec<(Option<u64>, &str)> = lines
        .iter()
        .filter_map(|l| l.as_ref().err())
        .map(|e| (e.line, e.field.as_str()))
        .collect();
    assert_eq!(
        errors,
        [(Some(3), "title"), (Some(4), "body"), (Some(5), "body")]
    );
    let titles: Vec<(u64, Option<String>)> = tasks_of(lines)
        .into_iter()
        .map(|t| (t.line, t.title))
        .collect();
    assert_eq!(
        titles,
        [(1, Some("a".to_owned())), (6, Some("b".to_owned()))]
    );
}

#[test]
fn media_types_name_the_formats() {
    assert_eq!(
        TransferFormat::of_media_type("text/csv; charset=utf-8"),
        Some(TransferFormat::Csv)
    );
    assert_eq!(
        TransferFormat::of_media_type("Application/X-NDJSON"),
        Some(TransferFormat::Ndjson)
    );
    assert_eq!(TransferFormat::of_media_type("application/json"), None);
}

#[test]
fn records_are_numbered_by_the_line_they_start_on_whatever_the_line_ends() {
    for (file, expected) in [
        ("title\nA\nB\n", vec![2, 3]),
        ("title\r\nA\r\nB\r\n", vec![2, 3]),
        ("title\r\n\r\nA\r\n\r\n\r\nB", vec![3, 6]),
        ("title\n\nA\n\"B\nstill B\"\nC\n", vec![3, 4, 6]),
        ("title\r\n\"A\r\n\r\nA\"\r\nB\r\n", vec![2, 5]),
    ] {
        let lines: Vec<u64> = tasks_of(decode_csv(file.as_bytes()))
            .iter()
            .map(|t| t.line)
            .collect();
        assert_eq!(lines, expected, "{file:?}");
    }
}
