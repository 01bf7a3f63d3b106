//! Property tests over random edit histories: folding the deltas equals recounting (history
//! included), inverse deltas walk back exactly, deltas survive the change log's JSON.

use std::collections::HashMap;

use proptest::prelude::*;
use uuid::Uuid;

use super::super::*;
use super::{day, team, today, user};

#[derive(Debug, Clone)]
enum Op {
    Create {
        owner: u8,
        team: Option<u8>,
        status: u8,
        priority: u8,
        due: Option<i64>,
        day: i64,
    },
    Update {
        task: usize,
        status: Option<u8>,
        priority: Option<u8>,
        due: Option<Option<i64>>,
        day: i64,
    },
    Delete {
        task: usize,
    },
    Share {
        task: usize,
        with: u8,
    },
    Unshare {
        task: usize,
        with: u8,
    },
    /// Moves a task to another team (or out of its team).
    Move {
        task: usize,
        team: Option<u8>,
    },
    /// Tasks from another tool with their past, in one command.
    Import {
        owner: u8,
        team: Option<u8>,
        tasks: Vec<(u8, i64, i64, i64)>,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..4u8, proptest::option::of(0..2u8), 0..3u8, 0..4u8, proptest::option::of(0..40i64), 0..30i64)
            .prop_map(|(owner, team, status, priority, due, day)| Op::Create { owner, team, status, priority, due, day }),
        4 => (0..64usize, proptest::option::of(0..3u8), proptest::option::of(0..4u8),
              proptest::option::of(proptest::option::of(0..40i64)), 0..30i64)
            .prop_map(|(task, status, priority, due, day)| Op::Update { task, status, priority, due, day }),
        1 => (0..64usize).prop_map(|task| Op::Delete { task }),
        2 => (0..64usize, 0..4u8).prop_map(|(task, with)| Op::Share { task, with }),
        1 => (0..64usize, 0..4u8).prop_map(|(task, with)| Op::Unshare { task, with }),
        1 => (0..64usize, proptest::option::of(0..2u8)).prop_map(|(task, team)| Op::Move { task, team }),
        1 => (0..4u8, proptest::option::of(0..2u8),
              proptest::collection::vec((0..3u8, 0..30i64, 0..5i64, 0..5i64), 1..6))
            .prop_map(|(owner, team, tasks)| Op::Import { owner, team, tasks }),
    ]
}

/// Runs one operation on the task list and answers its deltas.
fn run(op: &Op, tasks: &mut Vec<TaskFacts>, next_id: &mut u8) -> Option<DeltaSet> {
    if let Op::Import {
        owner,
        team: team_n,
        tasks: imported,
    } = op
    {
        let mut set = DeltaSet::new();
        for (status, created, start, finish) in imported {
            *next_id = next_id.wrapping_add(1);
            let status = TaskStatus::ALL[usize::from(*status)];
            let created_at = day(*created) - chrono::Duration::days(40);
            let started_at = (status != TaskStatus::Pending && *start > 0)
                .then(|| created_at + chrono::Duration::hours(*start));
            let completed_at = (status == TaskStatus::Completed)
                .then(|| started_at.unwrap_or(created_at) + chrono::Duration::hours(*finish));
            let facts = TaskFacts {
                id: TaskId(Uuid::from_u128(u128::from(*next_id) + 9000)),
                owner: user(*owner),
                team: team_n.map(team),
                status,
                priority: Priority::Medium,
                due_at: None,
                created_at,
                started_at,
                completed_at,
                shared_with: Vec::new(),
            };
            tasks.push(facts.clone());
            for (scope, delta) in task_deltas(None, Some(&facts)) {
                merge_into(&mut set, scope, delta);
            }
        }
        return Some(set);
    }
    let (old, new) = run_one(op, tasks, next_id)?;
    Some(task_deltas(old.as_ref(), new.as_ref()))
}

/// Runs one single-task operation and answers (old, new) facts.
fn run_one(
    op: &Op,
    tasks: &mut Vec<TaskFacts>,
    next_id: &mut u8,
) -> Option<(Option<TaskFacts>, Option<TaskFacts>)> {
    let pick = |i: usize, tasks: &Vec<TaskFacts>| (!tasks.is_empty()).then(|| i % tasks.len());
    match op.clone() {
        Op::Create {
            owner,
            team: team_n,
            status,
            priority,
            due,
            day: d,
        } => {
            *next_id = next_id.wrapping_add(1);
            let status = TaskStatus::ALL[usize::from(status)];
            let facts = TaskFacts {
                id: TaskId(Uuid::from_u128(u128::from(*next_id) + 9000)),
                owner: user(owner),
                team: team_n.map(team),
                status,
                priority: Priority::ALL[usize::from(priority)],
                due_at: due.map(day),
                created_at: day(d),
                started_at: (status != TaskStatus::Pending).then(|| day(d)),
                completed_at: (status == TaskStatus::Completed).then(|| day(d)),
                shared_with: Vec::new(),
            };
            tasks.push(facts.clone());
            Some((None, Some(facts)))
        }
        Op::Update {
            task,
            status,
            priority,
            due,
            day: d,
        } => {
            let at = pick(task, tasks)?;
            let old = tasks[at].clone();
            let new = &mut tasks[at];
            if let Some(s) = status {
                let s = TaskStatus::ALL[usize::from(s)];
                // The engine's rules: started once and kept, completed_at cleared on reopening.
                if s != new.status {
                    new.completed_at = (s == TaskStatus::Completed).then(|| day(d.max(0)));
                }
                if s == TaskStatus::InProgress && new.started_at.is_none() {
                    new.started_at = Some(day(d.max(0)));
                }
                new.status = s;
            }
            if let Some(p) = priority {
                new.priority = Priority::ALL[usize::from(p)];
            }
            if let Some(due) = due {
                new.due_at = due.map(day);
            }
            Some((Some(old), Some(new.clone())))
        }
        Op::Delete { task } => {
            let at = pick(task, tasks)?;
            Some((Some(tasks.remove(at)), None))
        }
        Op::Share { task, with } => {
            let at = pick(task, tasks)?;
            let old = tasks[at].clone();
            let new = &mut tasks[at];
            if new.owner != user(with) && !new.shared_with.contains(&user(with)) {
                new.shared_with.push(user(with));
            }
            Some((Some(old), Some(new.clone())))
        }
        Op::Unshare { task, with } => {
            let at = pick(task, tasks)?;
            let old = tasks[at].clone();
            tasks[at].shared_with.retain(|u| *u != user(with));
            Some((Some(old), Some(tasks[at].clone())))
        }
        Op::Move { task, team: team_n } => {
            let at = pick(task, tasks)?;
            let old = tasks[at].clone();
            tasks[at].team = team_n.map(team);
            Some((Some(old), Some(tasks[at].clone())))
        }
        Op::Import { .. } => None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// For any sequence of changes, folding the deltas gives what recounting gives.
    #[test]
    fn folding_deltas_equals_recounting(ops in proptest::collection::vec(op(), 1..120)) {
        let mut tasks = Vec::new();
        let mut next_id = 0u8;
        let mut live: HashMap<Scope, Aggregate> = HashMap::new();
        for op in &ops {
            for (scope, delta) in run(op, &mut tasks, &mut next_id).unwrap_or_default() {
                live.entry(scope).or_insert_with(Aggregate::with_history).apply(&delta, today());
            }
        }
        let scopes = (0..4).map(|n| Scope::User(user(n))).chain((0..2).map(|n| Scope::Team(team(n))));
        for scope in scopes {
            let recounted = Aggregate::recount(scope, &tasks, today());
            let folded = live.remove(&scope).unwrap_or_else(Aggregate::with_history);
            prop_assert_eq!(folded, recounted, "scope {:?}", scope);
        }
    }

    /// Walking back with inverse deltas restores every earlier state exactly (resume from
    /// the change log rebuilds the states between a client's version and the current one).
    #[test]
    fn inverse_deltas_walk_back_exactly(ops in proptest::collection::vec(op(), 1..80)) {
        let mut tasks = Vec::new();
        let mut next_id = 0u8;
        let scope = Scope::User(user(0));
        let mut states = vec![Aggregate::with_history()];
        let mut deltas = Vec::new();
        for op in &ops {
            if let Some(delta) = run(op, &mut tasks, &mut next_id).and_then(|mut set| set.remove(&scope)) {
                let mut next = states.last().cloned().unwrap_or_default();
                next.apply(&delta, today());
                states.push(next);
                deltas.push(delta);
            }
        }
        let mut walked = states.last().cloned().unwrap_or_default();
        for (delta, before) in deltas.iter().rev().zip(states.iter().rev().skip(1)) {
            walked.apply(&delta.inverse(), today());
            prop_assert_eq!(&walked, before);
        }
    }

    /// A delta survives the change log's JSON unchanged.
    #[test]
    fn deltas_round_trip_through_json(ops in proptest::collection::vec(op(), 1..40)) {
        let mut tasks = Vec::new();
        let mut next_id = 0u8;
        for op in &ops {
            if let Some(set) = run(op, &mut tasks, &mut next_id) {
                for delta in set.into_values() {
                    let json = serde_json::to_value(&delta).map_err(|e| TestCaseError::fail(e.to_string()))?;
                    let back: Delta = serde_json::from_value(json).map_err(|e| TestCaseError::fail(e.to_string()))?;
                    prop_assert_eq!(back, delta);
                }
            }
        }
    }
}
