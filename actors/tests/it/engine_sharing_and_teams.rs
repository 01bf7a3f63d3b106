//! Sharing and team rules over a real database: who may do what, and what the aggregates show.

use crate::common::TestEngine;
use taskpulse_actors::{
    ConflictCode, Entity, Error, NewTask, Permission, Role, Scope, TaskPatch, TaskQuery, TaskScope,
    TaskStatus, UserRef,
};

fn new_task(title: &str) -> NewTask {
    NewTask {
        title: title.to_owned(),
        ..NewTask::default()
    }
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

    assert!(matches!(hidden, Err(Error::NotFound(Entity::Task))));
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
    assert!(matches!(by_outsider, Err(Error::NotFound(Entity::Team))));
    assert!(viewer_sees.is_ok());
    assert!(matches!(viewer_edits, Err(Error::Forbidden(_))));
    assert!(owner_edits.is_ok(), "{owner_edits:?}");
    assert!(matches!(
        last_owner_leaves,
        Err(Error::Conflict {
            code: ConflictCode::LastOwner,
            ..
        })
    ));
    assert!(matches!(outsider_reads, Err(Error::NotFound(Entity::Team))));
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
        Err(Error::NotFound(Entity::Team))
    ));
    t.assert_consistent().await
}
