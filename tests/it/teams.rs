//! Teams end to end (API.md, "Teams"): create, list, read, membership management and delete.

use crate::common::{Registered, TestApp, assert_problem, expect_json, id_of};
use serde_json::json;

#[tokio::test]
async fn a_new_team_is_owned_by_its_creator() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;

    let team = expect_json(
        app.post_as("/api/v1/teams", &ada.access, &json!({"name": "Platform"}))
            .await?,
        201,
    )
    .await?;

    assert_eq!(team["name"], "Platform");
    assert_eq!(team["role"], "owner");
    assert!(team["id"].is_string() && team["created_at"].is_string());
    let detail = expect_json(
        app.get_as(&format!("/api/v1/teams/{}", id_of(&team)), &ada.access)
            .await?,
        200,
    )
    .await?;
    assert_eq!(detail["members"].as_array().map(Vec::len), Some(1));
    let me = &detail["members"][0];
    assert_eq!(me["user_id"], ada.user_id.as_str());
    assert_eq!(me["email"], "ada@example.com");
    assert_eq!(me["display_name"], "Test User");
    assert_eq!(me["role"], "owner");
    assert!(me["joined_at"].is_string());
    Ok(())
}

#[tokio::test]
async fn team_names_follow_the_rules() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;

    for name in [String::new(), "   ".to_owned(), "n".repeat(101)] {
        let response = app
            .post_as("/api/v1/teams", &ada.access, &json!({"name": name}))
            .await?;
        let problem = assert_problem(response, 422, "validation_failed").await?;
        assert_eq!(problem["errors"][0]["field"], "name");
    }
    let number = app
        .post_as("/api/v1/teams", &ada.access, &json!({"name": 7}))
        .await?;
    assert_problem(number, 400, "malformed_request").await?;
    let anonymous = app
        .post_json("/api/v1/teams", &json!({"name": "x"}))
        .await?;
    assert_problem(anonymous, 401, "unauthenticated").await?;
    Ok(())
}

#[tokio::test]
async fn the_team_list_pages_with_the_callers_role() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let bob = app.register("bob@example.com").await?;
    let mut expected = Vec::new();
    for n in 0..3 {
        expected.push(app.create_team(&ada.access, &format!("mine {n}")).await?);
    }
    let theirs = app.create_team(&bob.access, "theirs").await?;
    app.add_member(&bob.access, &theirs, &ada.user_id, "viewer")
        .await?;
    expected.push(theirs.clone());

    let mut seen = Vec::new();
    let mut path = "/api/v1/teams?limit=3".to_owned();
    loop {
        let page = expect_json(app.get_as(&path, &ada.access).await?, 200).await?;
        for team in page["items"].as_array().into_iter().flatten() {
            let want = if id_of(team) == theirs {
                "viewer"
            } else {
                "owner"
            };
            assert_eq!(team["role"], want);
            seen.push(id_of(team));
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/teams?limit=3&cursor={cursor}"),
            None => break,
        }
    }

    seen.sort();
    expected.sort();
    assert_eq!(seen, expected);
    let bad = app.get_as("/api/v1/teams?limit=0", &ada.access).await?;
    assert_problem(bad, 422, "validation_failed").await?;
    Ok(())
}

#[tokio::test]
async fn a_team_is_invisible_to_outsiders() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let out = app.register("out@example.com").await?;
    let team = app.create_team(&ada.access, "Platform").await?;
    let path = format!("/api/v1/teams/{team}");

    assert_problem(app.get_as(&path, &out.access).await?, 404, "not_found").await?;
    assert_problem(app.delete_as(&path, &out.access).await?, 404, "not_found").await?;
    let add = app
        .post_as(
            &format!("{path}/members"),
            &out.access,
            &json!({"user_id": out.user_id, "role": "member"}),
        )
        .await?;
    assert_problem(add, 404, "not_found").await?;
    let bad_id = app.get_as("/api/v1/teams/123", &ada.access).await?;
    assert_problem(bad_id, 400, "malformed_request").await?;
    Ok(())
}

/// A team owned by `owner` with an admin, a member and a viewer, and one more account.
struct Roster {
    app: TestApp,
    team: String,
    owner: Registered,
    admin: Registered,
    member: Registered,
    viewer: Registered,
    newcomer: Registered,
}

async fn roster() -> anyhow::Result<Roster> {
    let app = TestApp::spawn().await?;
    let owner = app.register("owner@example.com").await?;
    let admin = app.register("admin@example.com").await?;
    let member = app.register("member@example.com").await?;
    let viewer = app.register("viewer@example.com").await?;
    let newcomer = app.register("new@example.com").await?;
    let team = app.create_team(&owner.access, "Team").await?;
    app.add_member(&owner.access, &team, &admin.user_id, "admin")
        .await?;
    app.add_member(&owner.access, &team, &member.user_id, "member")
        .await?;
    app.add_member(&owner.access, &team, &viewer.user_id, "viewer")
        .await?;
    Ok(Roster {
        app,
        team,
        owner,
        admin,
        member,
        viewer,
        newcomer,
    })
}

impl Roster {
    fn members(&self) -> String {
        format!("/api/v1/teams/{}/members", self.team)
    }

    fn member(&self, who: &Registered) -> String {
        format!("/api/v1/teams/{}/members/{}", self.team, who.user_id)
    }
}

#[tokio::test]
async fn adding_members_follows_the_roles() -> anyhow::Result<()> {
    let r = roster().await?;
    let add = |role: &str| json!({"email": r.newcomer.email, "role": role});

    let cases: [(&Registered, &str, u16); 5] = [
        (&r.viewer, "viewer", 403),
        (&r.member, "viewer", 403),
        (&r.admin, "admin", 403),
        (&r.admin, "owner", 403),
        (&r.admin, "member", 201),
    ];
    for (who, role, want) in cases {
        let got = r.app.post_as(&r.members(), &who.access, &add(role)).await?;
        assert_eq!(got.status().as_u16(), want, "{} adds {role}", who.email);
    }
    let again = r
        .app
        .post_as(&r.members(), &r.owner.access, &add("viewer"))
        .await?;
    assert_problem(again, 409, "already_member").await?;
    let bad_role = r
        .app
        .post_as(
            &r.members(),
            &r.owner.access,
            &json!({"user_id": r.owner.user_id, "role": "boss"}),
        )
        .await?;
    assert_problem(bad_role, 422, "validation_failed").await?;
    let both = r
        .app
        .post_as(&r.members(), &r.owner.access, &json!({"role": "member"}))
        .await?;
    assert_problem(both, 422, "validation_failed").await?;
    Ok(())
}

#[tokio::test]
async fn an_added_member_answers_with_their_profile() -> anyhow::Result<()> {
    let r = roster().await?;

    let member = expect_json(
        r.app
            .post_as(
                &r.members(),
                &r.owner.access,
                &json!({"user_id": r.newcomer.user_id, "role": "admin"}),
            )
            .await?,
        201,
    )
    .await?;

    assert_eq!(member["user_id"], r.newcomer.user_id.as_str());
    assert_eq!(member["email"], r.newcomer.email.as_str());
    assert_eq!(member["role"], "admin");
    assert!(member["display_name"].is_string() && member["joined_at"].is_string());
    Ok(())
}

#[tokio::test]
async fn changing_roles_follows_the_roles_and_keeps_an_owner() -> anyhow::Result<()> {
    let r = roster().await?;
    let to = |role: &str| json!({"role": role});

    let promoted = r
        .app
        .patch_as(&r.member(&r.member), &r.admin.access, &to("admin"))
        .await?;
    assert_problem(promoted, 403, "forbidden").await?;
    let by_member = r
        .app
        .patch_as(&r.member(&r.viewer), &r.member.access, &to("member"))
        .await?;
    assert_problem(by_member, 403, "forbidden").await?;
    let changed = r
        .app
        .patch_as(&r.member(&r.viewer), &r.admin.access, &to("member"))
        .await?;
    assert_eq!(expect_json(changed, 200).await?["role"], "member");
    let last_owner = r
        .app
        .patch_as(&r.member(&r.owner), &r.owner.access, &to("admin"))
        .await?;
    assert_problem(last_owner, 409, "last_owner").await?;
    let not_member = r
        .app
        .patch_as(&r.member(&r.newcomer), &r.owner.access, &to("member"))
        .await?;
    assert_problem(not_member, 404, "not_found").await?;
    let bad = r
        .app
        .patch_as(&r.member(&r.viewer), &r.owner.access, &to("chief"))
        .await?;
    assert_problem(bad, 422, "validation_failed").await?;
    Ok(())
}

#[tokio::test]
async fn removing_members_follows_the_roles_and_keeps_an_owner() -> anyhow::Result<()> {
    let r = roster().await?;

    let by_member = r
        .app
        .delete_as(&r.member(&r.viewer), &r.member.access)
        .await?;
    assert_problem(by_member, 403, "forbidden").await?;
    let admin_leaves = r
        .app
        .delete_as(&r.member(&r.admin), &r.admin.access)
        .await?;
    assert_eq!(admin_leaves.status(), 204);
    let leaves = r
        .app
        .delete_as(&r.member(&r.member), &r.member.access)
        .await?;
    assert_eq!(leaves.status(), 204);
    let last_owner = r
        .app
        .delete_as(&r.member(&r.owner), &r.owner.access)
        .await?;
    assert_problem(last_owner, 409, "last_owner").await?;
    let removed = r
        .app
        .delete_as(&r.member(&r.viewer), &r.owner.access)
        .await?;
    assert_eq!(removed.status(), 204);
    let gone = r
        .app
        .get_as(&format!("/api/v1/teams/{}", r.team), &r.viewer.access)
        .await?;
    assert_problem(gone, 404, "not_found").await?;
    Ok(())
}

#[tokio::test]
async fn only_an_owner_deletes_a_team() -> anyhow::Result<()> {
    let r = roster().await?;
    let path = format!("/api/v1/teams/{}", r.team);

    for who in [&r.admin, &r.member, &r.viewer] {
        let response = r.app.delete_as(&path, &who.access).await?;
        assert_problem(response, 403, "forbidden").await?;
    }
    assert_eq!(r.app.delete_as(&path, &r.owner.access).await?.status(), 204);
    assert_problem(
        r.app.get_as(&path, &r.owner.access).await?,
        404,
        "not_found",
    )
    .await?;
    Ok(())
}
