//! The engine's commands, reads and permission rules over a real database.

mod common;

use chrono::{Duration, Utc};
use common::TestEngine;
use taskpulse_actors::{
    Error, NewTask, Permission, Priority, Role, Scope, TaskPatch, TaskQuery, TaskScope, TaskStatus,
    UserRef,
};

fn new_task(title: &str) -> NewTask {
    NewTask {
        title: title.to_owned(),
        ..NewTask::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_write_is_visible_in_the_statistics_as_soon_as_it_returns() -> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    let ann = t.user("ann").await?;
    let before = t.engine.statistics(ann, Scope::User(ann)).await?;

    t.engine.create_task(ann, new_task("write tests")).await?;
    let after = t.engine.statistics(ann, Scope::User(ann)).await?;

    assert_eq!((before.total, before.version), (0, 0));
    assert_eq!((after.total, after.pending, after.version), (1, 1, 1));
    t.assert_consistent().await
}

#[tokio::test(flavor = "multi_thread")]
async fn versions_grow_by_one_per_visible_change_and_not_for_a_title_edit() -> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    let ann = t.user("ann").await?;
    let task = t.engine.create_task(ann, new_task("a")).await?;

    t.engine
        .update_task(
            ann,
            task.id,
            TaskPatch {
                title: Some("b".into()),
                ..Default::default()
            },
            None,
        )
        .await?;
    let after_title = t.engine.statistics(ann, Scope::User(ann)).await?;
    let done = t
        .engine
        .update_task(
            ann,
            task.id,
            TaskPatch {
                status: Some(TaskStatus::Completed),
                ..Default::default()
            },
            None,
        )
        .await?;
    let after_status = t.engine.statistics(ann, Scope::User(ann)).await?;

    assert_eq!(after_title.version, 1);
    assert_eq!(after_status.version, 2);
    assert_eq!(
        (after_status.completed, after_status.completion_rate),
        (1, 1.0)
    );
    assert_eq!(done.version, 3, "the task itself moves with every change");
    assert!(done.completed_at.is_some());
    t.assert_consistent().await
}

#[tokio::test(flavor = "multi_thread")]
async fn overdue_counts_open_tasks_due_in_the_past() -> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    let ann = t.user("ann").await?;
    let late = NewTask {
        due_at: Some(Utc::now() - Duration::hours(1)),
        ..new_task("late")
    };
    let later = NewTask {
        due_at: Some(Utc::now() + Duration::hours(1)),
        ..new_task("later")
    };
    let done_late = NewTask {
        due_at: Some(Utc::now() - Duration::hours(1)),
        status: Some(TaskStatus::Completed),
        ..new_task("done")
    };

    for task in [late, later, done_late] {
        t.engine.create_task(ann, task).await?;
    }
    let stats = t.engine.statistics(ann, Scope::User(ann)).await?;

    assert_eq!((stats.total, stats.overdue), (3, 1));
    t.assert_consistent().await
}

#[tokio::test(flavor = "multi_thread")]
async fn stale_if_match_is_a_version_mismatch() -> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    let ann = t.user("ann").await?;
    let task = t.engine.create_task(ann, new_task("a")).await?;
    t.engine
        .update_task(
            ann,
            task.id,
            TaskPatch {
                priority: Some(Priority::High),
                ..Default::default()
            },
            Some(1),
        )
        .await?;

    let stale = t
        .engine
        .update_task(
            ann,
            task.id,
            TaskPatch {
                priority: Some(Priority::Low),
                ..Default::default()
            },
            Some(1),
        )
        .await;

    assert!(
        matches!(stale, Err(Error::VersionMismatch { current: 2 })),
        "{stale:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_input_is_a_validation_error_naming_the_field() -> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    let ann = t.user("ann").await?;

    let empty = t.engine.create_task(ann, new_task("")).await;
    let long = t.engine.create_task(ann, new_task(&"x".repeat(201))).await;
    let days = t.engine.activity(ann, Scope::User(ann), 91).await;

    assert!(
        matches!(&empty, Err(Error::Validation(e)) if e[0].field == "title"),
        "{empty:?}"
    );
    assert!(
        matches!(&long, Err(Error::Validation(e)) if e[0].field == "title"),
        "{long:?}"
    );
    assert!(
        matches!(&days, Err(Error::Validation(e)) if e[0].field == "days"),
        "{days:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn sharing_rules_and_counters() -> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    let (ann, bob, eve) = (
        t.user("ann").await?,
        t.user("bob").await?,
        t.user("eve").await?,
    );
    let task = t.engine.create_task(ann, new_task("shared")).await?;

    let hidden = t.engine.get_task(bob, task.id).await;
    t.engine
        .share_task(ann, task.id, UserRef::Id(bob), Permission::View)
        .await?;
    let seen = t.engine.get_task(bob, task.id).await;
    let view_only_edit = t
        .engine
        .update_task(
            bob,
            task.id,
            TaskPatch {
                title: Some("x".into()),
                ..Default::default()
            },
            None,
        )
        .await;
    let not_owner_share = t
        .engine
        .share_task(bob, task.id, UserRef::Id(eve), Permission::View)
        .await;
    t.engine
        .share_task(ann, task.id, UserRef::Id(bob), Permission::Edit)
        .await?;
    let edited = t
        .engine
        .update_task(
            bob,
            task.id,
            TaskPatch {
                title: Some("by bob".into()),
                ..Default::default()
            },
            None,
        )
        .await;
    let ann_stats = t.engine.statistics(ann, Scope::User(ann)).await?;
    let bob_stats = t.engine.statistics(bob, Scope::User(bob)).await?;
    let overview = t.engine.shared_overview(bob).await?;
    let others_dashboard = t.engine.statistics(bob, Scope::User(ann)).await;

    assert!(matches!(hidden, Err(Error::NotFound("task"))));
    assert!(seen.is_ok());
    assert!(matches!(view_only_edit, Err(Error::Forbidden(_))));
    assert!(matches!(not_owner_share, Err(Error::Forbidden(_))));
    assert!(edited.is_ok());
    assert_eq!(
        (ann_stats.shared_by_me, bob_stats.shared_with_me),
        (Some(1), Some(1))
    );
    assert_eq!(
        bob_stats.total, 0,
        "a shared task counts for its owner only"
    );
    assert_eq!(overview.shared_with_me.len(), 1);
    assert_eq!(overview.shared_with_me[0].permission, Permission::Edit);
    assert!(matches!(others_dashboard, Err(Error::Forbidden(_))));

    t.engine.unshare_task(ann, task.id, bob).await?;
    let bob_after = t.engine.statistics(bob, Scope::User(bob)).await?;
    assert_eq!(bob_after.shared_with_me, Some(0));
    t.assert_consistent().await
}

#[tokio::test(flavor = "multi_thread")]
async fn team_roles_govern_tasks_and_members() -> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    let (owner, admin, member, viewer, outsider) = (
        t.user("o").await?,
        t.user("a").await?,
        t.user("m").await?,
        t.user("v").await?,
        t.user("x").await?,
    );
    let team = t.engine.create_team(owner, "Platform").await?.id;
    t.engine
        .add_member(owner, team, UserRef::Id(admin), Role::Admin)
        .await?;
    t.engine
        .add_member(admin, team, UserRef::Id(member), Role::Member)
        .await?;
    t.engine
        .add_member(admin, team, UserRef::Id(viewer), Role::Viewer)
        .await?;

    let admin_grants_admin = t
        .engine
        .add_member(admin, team, UserRef::Id(outsider), Role::Admin)
        .await;
    let by_viewer = t
        .engine
        .create_task(
            viewer,
            NewTask {
                team_id: Some(team),
                ..new_task("v")
            },
        )
        .await;
    let by_outsider = t
        .engine
        .create_task(
            outsider,
            NewTask {
                team_id: Some(team),
                ..new_task("x")
            },
        )
        .await;
    let task = t
        .engine
        .create_task(
            member,
            NewTask {
                team_id: Some(team),
                ..new_task("m")
            },
        )
        .await?;
    let viewer_sees = t.engine.get_task(viewer, task.id).await;
    let viewer_edits = t
        .engine
        .update_task(
            viewer,
            task.id,
            TaskPatch {
                status: Some(TaskStatus::InProgress),
                ..Default::default()
            },
            None,
        )
        .await;
    let owner_edits = t
        .engine
        .update_task(
            owner,
            task.id,
            TaskPatch {
                status: Some(TaskStatus::Completed),
                ..Default::default()
            },
            None,
        )
        .await;
    let last_owner_leaves = t.engine.remove_member(owner, team, owner).await;
    let outsider_reads = t.engine.statistics(outsider, Scope::Team(team)).await;
    let breakdown = t.engine.breakdown(viewer, Scope::Team(team)).await?;
    let team_list = t
        .engine
        .list_tasks(
            viewer,
            TaskQuery {
                scope: TaskScope::Team,
                ..Default::default()
            },
        )
        .await?;

    assert!(matches!(admin_grants_admin, Err(Error::Forbidden(_))));
    assert!(matches!(by_viewer, Err(Error::Forbidden(_))));
    assert!(matches!(by_outsider, Err(Error::NotFound("team"))));
    assert!(viewer_sees.is_ok());
    assert!(matches!(viewer_edits, Err(Error::Forbidden(_))));
    assert!(owner_edits.is_ok(), "{owner_edits:?}");
    assert!(matches!(
        last_owner_leaves,
        Err(Error::Conflict {
            code: "last_owner",
            ..
        })
    ));
    assert!(matches!(outsider_reads, Err(Error::NotFound("team"))));
    let by_member = breakdown.by_member.unwrap_or_default();
    assert_eq!(by_member.len(), 1);
    assert_eq!(
        (
            by_member[0].user_id,
            by_member[0].total,
            by_member[0].completed
        ),
        (member, 1, 1)
    );
    assert_eq!(team_list.items.len(), 1);
    t.assert_consistent().await
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_a_team_removes_its_tasks_from_their_owners_aggregates() -> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    let (owner, member, reader) = (t.user("o").await?, t.user("m").await?, t.user("r").await?);
    let team = t.engine.create_team(owner, "Doomed").await?.id;
    t.engine
        .add_member(owner, team, UserRef::Id(member), Role::Member)
        .await?;
    let task = t
        .engine
        .create_task(
            member,
            NewTask {
                team_id: Some(team),
                ..new_task("t")
            },
        )
        .await?;
    t.engine.create_task(member, new_task("personal")).await?;
    t.engine
        .share_task(member, task.id, UserRef::Id(reader), Permission::View)
        .await?;
    let member_forbidden = t.engine.delete_team(member, team).await;

    t.engine.delete_team(owner, team).await?;
    let member_stats = t.engine.statistics(member, Scope::User(member)).await?;
    let reader_stats = t.engine.statistics(reader, Scope::User(reader)).await?;

    assert!(matches!(member_forbidden, Err(Error::Forbidden(_))));
    assert_eq!(
        (member_stats.total, member_stats.shared_by_me),
        (1, Some(0))
    );
    assert_eq!(reader_stats.shared_with_me, Some(0));
    assert!(matches!(
        t.engine.get_team(owner, team).await,
        Err(Error::NotFound("team"))
    ));
    t.assert_consistent().await
}

#[tokio::test(flavor = "multi_thread")]
async fn listing_pages_with_a_keyset_cursor() -> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    let ann = t.user("ann").await?;
    for n in 0..5 {
        t.engine
            .create_task(ann, new_task(&format!("t{n}")))
            .await?;
    }

    let first = t
        .engine
        .list_tasks(
            ann,
            TaskQuery {
                limit: Some(2),
                ..Default::default()
            },
        )
        .await?;
    let second = t
        .engine
        .list_tasks(
            ann,
            TaskQuery {
                limit: Some(2),
                cursor: first.next_cursor.clone(),
                ..Default::default()
            },
        )
        .await?;
    let third = t
        .engine
        .list_tasks(
            ann,
            TaskQuery {
                limit: Some(2),
                cursor: second.next_cursor.clone(),
                ..Default::default()
            },
        )
        .await?;
    let bad = t
        .engine
        .list_tasks(
            ann,
            TaskQuery {
                limit: Some(0),
                ..Default::default()
            },
        )
        .await;

    let titles: Vec<String> = [&first, &second, &third]
        .iter()
        .flat_map(|p| p.items.iter().map(|t| t.title.clone()))
        .collect();
    assert_eq!(titles, ["t4", "t3", "t2", "t1", "t0"]);
    assert!(third.next_cursor.is_none());
    assert!(matches!(bad, Err(Error::Validation(_))));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn activity_is_zero_filled_and_counts_today() -> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    let ann = t.user("ann").await?;
    t.engine
        .create_task(
            ann,
            NewTask {
                status: Some(TaskStatus::Completed),
                ..new_task("done")
            },
        )
        .await?;

    let activity = t.engine.activity(ann, Scope::User(ann), 7).await?;

    assert_eq!(activity.days.len(), 7);
    let today = &activity.days[6];
    assert_eq!(
        (today.date, today.created, today.completed),
        (Utc::now().date_naive(), 1, 1)
    );
    assert!(
        activity.days[..6]
            .iter()
            .all(|d| d.created == 0 && d.completed == 0)
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_applied_deltas_and_deliveries() -> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    let ann = t.user("ann").await?;
    t.engine.statistics(ann, Scope::User(ann)).await?;

    t.engine.create_task(ann, new_task("counted")).await?;
    let metrics = t.engine.metrics();

    assert_eq!(metrics.live_aggregates, 1);
    assert_eq!(metrics.deltas_applied, 1, "{metrics:?}");
    assert_eq!(metrics.deliveries, 1);
    assert_eq!(metrics.delivery_buckets.iter().sum::<u64>(), 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_nul_character_is_a_validation_error_not_a_database_failure() -> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    let ann = t.user("ann").await?;

    let task = t
        .engine
        .create_task(
            ann,
            NewTask {
                description: Some("a\0b".into()),
                ..new_task("t")
            },
        )
        .await;
    let team = t.engine.create_team(ann, "x\0").await;

    assert!(
        matches!(&task, Err(Error::Validation(e)) if e[0].field == "description"),
        "{task:?}"
    );
    assert!(
        matches!(&team, Err(Error::Validation(e)) if e[0].field == "name"),
        "{team:?}"
    );
    Ok(())
}
