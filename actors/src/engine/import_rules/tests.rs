use chrono::{Duration, Utc};

use super::*;

fn row(line: u64, title: &str) -> ImportedTask {
    ImportedTask {
        line,
        title: Some(title.to_owned()),
        ..ImportedTask::default()
    }
}

fn check(rows: Vec<ImportedTask>) -> Checked {
    check_lines(rows.into_iter().map(Ok).collect(), UserId::new(), None)
}

/// `(line, field)` of each error.
fn places(checked: &Checked) -> Vec<(Option<u64>, &str)> {
    (checked.errors.iter())
        .map(|e| (e.line, e.field.as_str()))
        .collect()
}

#[test]
fn a_bare_title_is_a_pending_medium_task_created_now() {
    let before = Utc::now();
    let checked = check(vec![row(2, "Ship it")]);

    assert!(checked.errors.is_empty(), "{:?}", checked.errors);
    let task = &checked.tasks[0];
    assert_eq!(task.title, "Ship it");
    assert_eq!(task.description, "");
    assert_eq!(task.status, TaskStatus::Pending);
    assert_eq!(task.priority, Priority::Medium);
    assert_eq!(task.version, 1);
    assert!(task.created_at >= before - Duration::milliseconds(1));
    assert_eq!(task.created_at, task.updated_at);
}

#[test]
fn times_take_any_offset_and_are_kept_in_utc() {
    let checked = check(vec![ImportedTask {
        status: Some("completed".to_owned()),
        created_at: Some("2024-03-01T09:00:00+05:45".to_owned()),
        started_at: Some("2024-03-01T04:00:00Z".to_owned()),
        completed_at: Some("2024-03-02T10:00:00.123456-02:00".to_owned()),
        ..row(2, "Done")
    }]);

    assert!(checked.errors.is_empty(), "{:?}", checked.errors);
    let task = &checked.tasks[0];
    assert_eq!(task.created_at.to_rfc3339(), "2024-03-01T03:15:00+00:00");
    assert_eq!(
        task.completed_at.map(|t| t.to_rfc3339()).as_deref(),
        Some("2024-03-02T12:00:00.123456+00:00")
    );
}

#[test]
fn every_broken_rule_is_named_with_its_line() {
    let future = (Utc::now() + Duration::days(1)).to_rfc3339();
    let checked = check(vec![
        row(2, "Good"),
        ImportedTask {
            title: None,
            status: Some("done".to_owned()),
            priority: Some("whenever".to_owned()),
            ..row(3, "")
        },
        ImportedTask {
            created_at: Some(future),
            due_at: Some("next week".to_owned()),
            ..row(4, "Ahead of time")
        },
        ImportedTask {
            created_at: Some("1969-12-31T23:59:59Z".to_owned()),
            description: Some("x".repeat(10_001)),
            ..row(7, "Before the epoch")
        },
    ]);

    assert_eq!(
        places(&checked),
        [
            (Some(3), "title"),
            (Some(3), "status"),
            (Some(3), "priority"),
            (Some(4), "due_at"),
            (Some(4), "created_at"),
            (Some(7), "description"),
            (Some(7), "created_at"),
        ]
    );
    assert!(checked.tasks.is_empty(), "a refused import makes no tasks");
}

#[test]
fn the_times_of_a_history_must_follow_each_other() {
    let at = |day: u32| Some(format!("2024-05-{day:02}T12:00:00Z"));
    let completed = |line, created, started: Option<u32>, completed| ImportedTask {
        status: Some("completed".to_owned()),
        created_at: at(created),
        started_at: started.and_then(at),
        completed_at: at(completed),
        ..row(line, "t")
    };
    let checked = check(vec![
        completed(2, 10, Some(9), 11),
        completed(3, 10, Some(12), 11),
        completed(4, 10, None, 9),
        completed(5, 10, None, 10),
    ]);

    assert_eq!(
        places(&checked),
        [
            (Some(2), "started_at"),
            (Some(3), "completed_at"),
            (Some(4), "completed_at"),
        ]
    );
}

#[test]
fn completed_at_is_there_exactly_when_the_task_is_completed() {
    let checked = check(vec![
        ImportedTask {
            status: Some("completed".to_owned()),
            created_at: Some("2024-05-01T00:00:00Z".to_owned()),
            ..row(2, "Done without a date")
        },
        ImportedTask {
            status: Some("in_progress".to_owned()),
            created_at: Some("2024-05-01T00:00:00Z".to_owned()),
            completed_at: Some("2024-05-02T00:00:00Z".to_owned()),
            ..row(3, "Open with a completion")
        },
        ImportedTask {
            status: Some("in_progress".to_owned()),
            ..row(4, "Started, time unknown")
        },
    ]);

    assert_eq!(
        places(&checked),
        [(Some(2), "completed_at"), (Some(3), "completed_at")]
    );
}

#[test]
fn an_empty_file_is_refused() {
    let checked = check(Vec::new());

    assert_eq!(places(&checked), [(None, "body")]);
}

#[test]
fn unreadable_lines_are_reported_in_line_order_among_the_others() {
    let lines = vec![
        Ok(row(2, "")),
        Err(FieldError::on_line(3, "line", "expected 12 cells, found 2")),
        Ok(row(4, "fine")),
    ];

    let checked = check_lines(lines, UserId::new(), None);

    assert_eq!(places(&checked), [(Some(2), "title"), (Some(3), "line")]);
}

#[test]
fn at_most_a_hundred_errors_are_listed() {
    let rows = (2..500).map(|line| row(line, "")).collect();

    let checked = check(rows);

    assert_eq!(checked.errors.len(), IMPORT_MAX_ERRORS);
    assert_eq!(checked.errors[99].line, Some(101));
}

#[test]
fn more_tasks_than_the_limit_are_refused_at_the_first_one_too_many() {
    let rows = (0..=IMPORT_MAX_TASKS as u64)
        .map(|i| row(i + 2, "t"))
        .collect();

    let checked = check(rows);

    assert_eq!(
        places(&checked),
        [(Some(IMPORT_MAX_TASKS as u64 + 2), "body")]
    );
}

#[test]
fn tasks_get_their_owner_and_team_and_ids_in_file_order() {
    let (owner, team) = (UserId::new(), Some(TeamId::new()));
    let lines = (2..6).map(|line| Ok(row(line, "t"))).collect();

    let checked = check_lines(lines, owner, team);

    assert!(
        checked
            .tasks
            .iter()
            .all(|t| t.owner_id == owner && t.team_id == team)
    );
    let ids: Vec<_> = checked.tasks.iter().map(|t| t.id).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);
}
