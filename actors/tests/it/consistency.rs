//! Many concurrent writers, random mutations over users, teams and shares (concurrent edits of
//! one task included): afterwards every aggregate equals the truth, and every subscriber saw
//! versions that never skipped.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::{TestEngine, eventually};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use taskpulse_actors::{
    Engine, Error, NewTask, Permission, Priority, Role, Scope, SubscriptionEvent, TaskId,
    TaskPatch, TaskStatus, TeamId, UserId, UserRef,
};
use tokio::task::JoinHandle;

const WRITERS: u64 = 8;
const MUTATIONS_PER_WRITER: usize = 260;

struct World {
    users: Vec<UserId>,
    teams: Vec<TeamId>,
    tasks: Mutex<Vec<(TaskId, UserId)>>,
    hot: TaskId,
}

const STATUSES: [TaskStatus; 3] = [
    TaskStatus::Pending,
    TaskStatus::InProgress,
    TaskStatus::Completed,
];
const PRIORITIES: [Priority; 4] = [
    Priority::Low,
    Priority::Medium,
    Priority::High,
    Priority::Urgent,
];

/// One random mutation; answers whether the engine refused it for a rule (not a failure).
async fn mutate(engine: &Engine, world: &World, rng: &mut StdRng) -> Result<(), Error> {
    let user = world.users[rng.random_range(0..world.users.len())];
    let picked = {
        let tasks = world.tasks.lock().unwrap_or_else(|e| e.into_inner());
        (!tasks.is_empty()).then(|| tasks[rng.random_range(0..tasks.len())])
    };
    let patch = TaskPatch {
        status: rng
            .random_bool(0.6)
            .then(|| STATUSES[rng.random_range(0..3)]),
        priority: rng
            .random_bool(0.3)
            .then(|| PRIORITIES[rng.random_range(0..4)]),
        due_at: rng.random_bool(0.3).then(|| {
            rng.random_bool(0.8).then(|| {
                chrono::Utc::now() + chrono::Duration::minutes(rng.random_range(-600..600))
            })
        }),
        title: rng
            .random_bool(0.1)
            .then(|| format!("renamed {}", rng.random::<u16>())),
        ..Default::default()
    };
    match rng.random_range(0..100) {
        0..25 => {
            let team = rng
                .random_bool(0.4)
                .then(|| world.teams[rng.random_range(0..world.teams.len())]);
            let task = engine
                .create_task(
                    user,
                    NewTask {
                        title: format!("task {}", rng.random::<u32>()),
                        status: Some(STATUSES[rng.random_range(0..3)]),
                        priority: Some(PRIORITIES[rng.random_range(0..4)]),
                        due_at: rng.random_bool(0.5).then(|| {
                            chrono::Utc::now()
                                + chrono::Duration::minutes(rng.random_range(-600..600))
                        }),
                        team_id: team,
                        ..Default::default()
                    },
                )
                .await?;
            world
                .tasks
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((task.id, user));
        }
        25..40 => {
            // Everybody edits the same task at once, from every writer.
            let owner = world.users[0];
            engine.update_task(owner, world.hot, patch, None).await?;
        }
        40..70 => {
            if let Some((task, owner)) = picked {
                engine.update_task(owner, task, patch, None).await?;
            }
        }
        70..78 => {
            if let Some((task, owner)) = picked {
                engine.delete_task(owner, task).await?;
                world
                    .tasks
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .retain(|(t, _)| *t != task);
            }
        }
        78..92 => {
            if let Some((task, owner)) = picked {
                let with = world.users[rng.random_range(0..world.users.len())];
                let permission = if rng.random_bool(0.5) {
                    Permission::View
                } else {
                    Permission::Edit
                };
                engine
                    .share_task(owner, task, UserRef::Id(with), permission)
                    .await?;
            }
        }
        _ => {
            if let Some((task, owner)) = picked {
                let with = world.users[rng.random_range(0..world.users.len())];
                engine.unshare_task(owner, task, with).await?;
            }
        }
    }
    Ok(())
}

/// Refusals that concurrent random work legitimately meets.
fn is_expected_refusal(err: &Error) -> bool {
    matches!(
        err,
        Error::NotFound(_) | Error::Validation(_) | Error::Forbidden(_)
    )
}

async fn build_world(t: &TestEngine) -> anyhow::Result<Arc<World>> {
    let mut users = Vec::new();
    for n in 0..6 {
        users.push(t.user(&format!("u{n}")).await?);
    }
    let mut teams = Vec::new();
    for n in 0..2 {
        let team = t
            .engine
            .create_team(users[n], &format!("team {n}"))
            .await?
            .id;
        for user in users.iter().filter(|u| **u != users[n]) {
            t.engine
                .add_member(users[n], team, UserRef::Id(*user), Role::Member)
                .await?;
        }
        teams.push(team);
    }
    let hot = t
        .engine
        .create_task(
            users[0],
            NewTask {
                title: "hot".into(),
                team_id: Some(teams[0]),
                ..Default::default()
            },
        )
        .await?
        .id;
    Ok(Arc::new(World {
        users,
        teams,
        tasks: Mutex::new(Vec::new()),
        hot,
    }))
}

fn spawn_writers(
    engine: &Engine,
    world: &Arc<World>,
    seed: u64,
    mutations: usize,
) -> Vec<JoinHandle<anyhow::Result<usize>>> {
    (0..WRITERS)
        .map(|writer| {
            let (engine, world) = (engine.clone(), Arc::clone(world));
            tokio::spawn(async move {
                let mut rng = StdRng::seed_from_u64(seed * 100 + writer);
                let mut done = 0;
                for _ in 0..mutations {
                    match mutate(&engine, &world, &mut rng).await {
                        Ok(()) => done += 1,
                        Err(err) if is_expected_refusal(&err) => {}
                        Err(err) => anyhow::bail!("writer {writer}: {err:?}"),
                    }
                }
                Ok(done)
            })
        })
        .collect()
}

/// Records every version a subscriber sees; fails on a skipped or repeated delta.
fn watch(
    mut subscription: taskpulse_actors::Subscription,
) -> (JoinHandle<()>, Arc<Mutex<Result<i64, String>>>) {
    let seen = Arc::new(Mutex::new(Ok(-1)));
    let record = Arc::clone(&seen);
    let handle = tokio::spawn(async move {
        while let Some(event) = subscription.next().await {
            let mut seen = record.lock().unwrap_or_else(|e| e.into_inner());
            let Ok(last) = *seen else { return };
            *seen = match event {
                SubscriptionEvent::Snapshot(s) if s.version >= last => Ok(s.version),
                SubscriptionEvent::Delta { snapshot, .. } if snapshot.version == last + 1 => {
                    Ok(snapshot.version)
                }
                SubscriptionEvent::Snapshot(s) => {
                    Err(format!("snapshot went back from {last} to {}", s.version))
                }
                SubscriptionEvent::Delta { snapshot, .. } => {
                    Err(format!("delta {} after {last}", snapshot.version))
                }
                SubscriptionEvent::Resumed { version } if version == last => Ok(last),
                SubscriptionEvent::Resumed { version } => {
                    Err(format!("resumed at {version} after {last}"))
                }
                SubscriptionEvent::Revoked => Err("revoked".to_owned()),
            };
        }
    });
    (handle, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_random_mutations_keep_every_aggregate_exact() -> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    let world = build_world(&t).await?;
    let scopes: Vec<Scope> = world
        .users
        .iter()
        .map(|u| Scope::User(*u))
        .chain(world.teams.iter().map(|t| Scope::Team(*t)))
        .collect();
    let mut watchers = Vec::new();
    for scope in &scopes {
        let subscriber = match scope {
            Scope::User(u) => *u,
            Scope::Team(_) => world.users[0],
        };
        watchers.push((
            *scope,
            watch(t.engine.subscribe(subscriber, *scope, None).await?),
        ));
    }

    let mut applied = 0;
    for writer in spawn_writers(&t.engine, &world, 1, MUTATIONS_PER_WRITER) {
        applied += writer.await??;
    }

    assert!(applied >= 1000, "only {applied} mutations went through");
    t.assert_consistent().await?;
    for (scope, (handle, seen)) in watchers {
        let expected = t.engine.snapshot(scope).await?.version;
        let caught_up = eventually(Duration::from_secs(5), || {
            let seen = Arc::clone(&seen);
            async move { *seen.lock().unwrap_or_else(|e| e.into_inner()) == Ok(expected) }
        })
        .await;
        let outcome = seen.lock().unwrap_or_else(|e| e.into_inner()).clone();
        assert!(
            caught_up,
            "{scope:?}: subscriber at {outcome:?}, aggregate at {expected}"
        );
        handle.abort();
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_engine_dropped_mid_stream_leaves_nothing_for_the_next_to_miss() -> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    let world = build_world(&t).await?;
    let first = t.engine.clone();
    let writers = spawn_writers(&first, &world, 2, MUTATIONS_PER_WRITER);
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Kill the engine and its writers while transactions are in flight.
    for writer in &writers {
        writer.abort();
    }
    first.shutdown().await;
    drop(first);
    let second = Engine::start(&t.db.url, Default::default()).await?;
    for writer in spawn_writers(&second, &world, 3, 40) {
        writer.await??;
    }

    let report = second.check(Default::default()).await?;
    assert!(
        report.is_consistent(),
        "inconsistent:\n{}",
        report.differences.join("\n")
    );
    Ok(())
}
