//! The authorization matrix of API.md "Tasks": owner, team admin, member and viewer,
//! outsider, view share and edit share × read, update, delete and share.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Registered, TestApp, id_of};

/// Everyone of the matrix, and a team owned by `owner` with the others in their roles.
struct Cast {
    app: TestApp,
    owner: Registered,
    admin: Registered,
    member: Registered,
    viewer: Registered,
    outsider: Registered,
    view_share: Registered,
    edit_share: Registered,
    team: String,
}

async fn cast() -> anyhow::Result<Cast> {
    let app = TestApp::spawn().await?;
    let owner = app.register("owner@example.com").await?;
    let admin = app.register("admin@example.com").await?;
    let member = app.register("member@example.com").await?;
    let viewer = app.register("viewer@example.com").await?;
    let outsider = app.register("outsider@example.com").await?;
    let view_share = app.register("view@example.com").await?;
    let edit_share = app.register("edit@example.com").await?;
    let team = app.create_team(&owner.access, "Team").await?;
    for (who, role) in [(&admin, "admin"), (&member, "member"), (&viewer, "viewer")] {
        app.add_member(&owner.access, &team, &who.user_id, role)
            .await?;
    }
    Ok(Cast {
        app,
        owner,
        admin,
        member,
        viewer,
        outsider,
        view_share,
        edit_share,
        team,
    })
}

impl Cast {
    /// A fresh task of the owner: a team task, or a personal one shared view/edit.
    async fn task(&self, team_task: bool) -> anyhow::Result<String> {
        let body = if team_task {
            json!({"title": "t", "team_id": self.team})
        } else {
            json!({"title": "t"})
        };
        let task = id_of(&self.app.create_task(&self.owner.access, body).await?);
        if !team_task {
            self.app
                .share(&self.owner.access, &task, &self.view_share.user_id, "view")
                .await?;
            self.app
                .share(&self.owner.access, &task, &self.edit_share.user_id, "edit")
                .await?;
        }
        Ok(task)
    }

    /// The status `who` gets for `action` on a fresh task.
    async fn status(&self, who: &Registered, action: &str, team_task: bool) -> anyhow::Result<u16> {
        let task = self.task(team_task).await?;
        let path = format!("/api/v1/tasks/{task}");
        let (method, path, body): (Method, String, Option<Value>) = match action {
            "read" => (Method::GET, path, None),
            "update" => (Method::PATCH, path, Some(json!({"status": "in_progress"}))),
            "delete" => (Method::DELETE, path, None),
            "share" => (
                Method::POST,
                format!("{path}/shares"),
                Some(json!({"user_id": self.outsider.user_id, "permission": "view"})),
            ),
            other => anyhow::bail!("no action {other}"),
        };
        let response = self
            .app
            .send_as(method, &path, &who.access, body.as_ref())
            .await?;
        Ok(response.status().as_u16())
    }
}

const ACTIONS: [&str; 4] = ["read", "update", "delete", "share"];

#[tokio::test]
async fn a_team_task_follows_the_team_roles() -> anyhow::Result<()> {
    let cast = cast().await?;
    // read, update, delete, share
    let expected: [(&Registered, &str, [u16; 4]); 5] = [
        (&cast.owner, "owner", [200, 200, 204, 201]),
        (&cast.admin, "admin", [200, 200, 204, 403]),
        (&cast.member, "member", [200, 200, 403, 403]),
        (&cast.viewer, "viewer", [200, 403, 403, 403]),
        (&cast.outsider, "outsider", [404, 404, 404, 404]),
    ];

    let mut mismatches = Vec::new();
    for (who, name, statuses) in expected {
        for (action, want) in ACTIONS.iter().zip(statuses) {
            let got = cast.status(who, action, true).await?;
            if got != want {
                mismatches.push(format!("{name} {action}: got {got}, want {want}"));
            }
        }
    }
    assert!(mismatches.is_empty(), "{mismatches:#?}");
    Ok(())
}

#[tokio::test]
async fn a_shared_personal_task_follows_the_shares() -> anyhow::Result<()> {
    let cast = cast().await?;
    let expected: [(&Registered, &str, [u16; 4]); 5] = [
        (&cast.owner, "owner", [200, 200, 204, 201]),
        (&cast.edit_share, "edit share", [200, 200, 403, 403]),
        (&cast.view_share, "view share", [200, 403, 403, 403]),
        (&cast.admin, "team admin", [404, 404, 404, 404]),
        (&cast.outsider, "outsider", [404, 404, 404, 404]),
    ];

    let mut mismatches = Vec::new();
    for (who, name, statuses) in expected {
        for (action, want) in ACTIONS.iter().zip(statuses) {
            let got = cast.status(who, action, false).await?;
            if got != want {
                mismatches.push(format!("{name} {action}: got {got}, want {want}"));
            }
        }
    }
    assert!(mismatches.is_empty(), "{mismatches:#?}");
    Ok(())
}

#[tokio::test]
async fn shares_are_listed_to_those_who_see_the_task_only() -> anyhow::Result<()> {
    let cast = cast().await?;
    let task = cast.task(false).await?;
    let path = format!("/api/v1/tasks/{task}/shares");

    for who in [&cast.owner, &cast.view_share, &cast.edit_share] {
        assert_eq!(cast.app.get_as(&path, &who.access).await?.status(), 200);
    }
    assert_eq!(
        cast.app
            .get_as(&path, &cast.outsider.access)
            .await?
            .status(),
        404
    );
    let unshare = format!("{path}/{}", cast.view_share.user_id);
    assert_eq!(
        cast.app
            .delete_as(&unshare, &cast.edit_share.access)
            .await?
            .status(),
        403
    );
    assert_eq!(
        cast.app
            .delete_as(&unshare, &cast.outsider.access)
            .await?
            .status(),
        404
    );
    Ok(())
}
