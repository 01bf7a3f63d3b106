//! Accounts of the provider's users: created on first sight (once, however many requests
//! race), what becomes of their emails, deletion, local accounts switched off, and the
//! settings start-up refuses.

use super::*;

/// `GET /api/v1/me` with a provider token: 200 with a user created for it, audited.
async fn signs_in_with(key: TestKey) -> anyhow::Result<()> {
    let provider = Provider::start(&[&key]).await?;
    let app = app_for(&provider, |b| b).await?;
    let token = key.sign(&provider.claims("ada"))?;

    let response = app.get_as("/api/v1/me", &token).await?;

    assert_eq!(response.status(), 200);
    let me: Value = response.json().await?;
    assert_eq!(me["email"], "ada@idp.example.com");
    assert_eq!(me["display_name"], "User ada");
    let sql = "SELECT count(*) AS count FROM audit_log WHERE action = \
               'auth.external_account_created'";
    assert_eq!(count(&app, sql).await?, 1);
    use diesel_async::RunQueryDsl;
    let mut conn = app.db.connect().await?;
    #[derive(QueryableByName)]
    struct Created {
        #[diesel(sql_type = diesel::sql_types::Jsonb)]
        details: Value,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Uuid>)]
        actor_id: Option<uuid::Uuid>,
    }
    let created: Vec<Created> = diesel::sql_query(
        "SELECT details, actor_id FROM audit_log WHERE action = 'auth.external_account_created'",
    )
    .load(&mut conn)
    .await?;
    assert_eq!(created[0].details["issuer"], provider.issuer.as_str());
    assert_eq!(
        created[0].actor_id.map(|id| id.to_string()),
        me["id"].as_str().map(str::to_owned)
    );
    assert!(!created[0].details.to_string().contains(&token));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_rs256_token_signs_in_a_user_created_on_first_sight() -> anyhow::Result<()> {
    signs_in_with(TestKey::rsa("rsa-1")?.0).await
}

#[tokio::test(flavor = "multi_thread")]
async fn an_es256_token_signs_in_a_user_created_on_first_sight() -> anyhow::Result<()> {
    signs_in_with(TestKey::p256("ec-1")?).await
}

#[tokio::test(flavor = "multi_thread")]
async fn an_eddsa_token_signs_in_a_user_created_on_first_sight() -> anyhow::Result<()> {
    signs_in_with(TestKey::ed25519("ed-1")?).await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_subject_is_the_same_user_and_concurrent_first_requests_make_one()
-> anyhow::Result<()> {
    let key = TestKey::p256("ec-1")?;
    let provider = Provider::start(&[&key]).await?;
    // Without rate limits each request verifies its token once: with them, the limiter's
    // attempt and the bearer check's would hide a first attempt that failed.
    let app = app_for(&provider, |b| b.with_arg("--no-rate-limit")).await?;
    let token = key.sign(&provider.claims("ada"))?;

    let first = futures_util::future::join_all(
        (0..8).map(|_| async { app.get_as("/api/v1/me", &token).await }),
    )
    .await;
    let later_token = key.sign(&with(provider.claims("ada"), "jti", json!("another")))?;
    let later: Value = app.get_as("/api/v1/me", &later_token).await?.json().await?;

    let mut ids = Vec::new();
    for response in first {
        let response = response?;
        assert_eq!(response.status(), 200);
        ids.push(response.json::<Value>().await?["id"].clone());
    }
    assert!(ids.iter().all(|id| *id == later["id"]), "{ids:?} {later}");
    assert_eq!(count(&app, "SELECT count(*) AS count FROM users").await?, 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_email_a_local_account_has_is_not_joined_and_an_unverified_one_not_taken()
-> anyhow::Result<()> {
    let key = TestKey::ed25519("ed-1")?;
    let provider = Provider::start(&[&key]).await?;
    let app = app_for(&provider, |b| b).await?;
    let local = app.register("ada@example.com").await?;
    let taken = with(provider.claims("ada"), "email", json!("ADA@example.com"));
    let unverified = with(provider.claims("bob"), "email_verified", json!(false));

    let external: Value = app
        .get_as("/api/v1/me", &key.sign(&taken)?)
        .await?
        .json()
        .await?;
    let bob: Value = app
        .get_as("/api/v1/me", &key.sign(&unverified)?)
        .await?
        .json()
        .await?;
    let login = app
        .post_json(
            "/api/v1/auth/login",
            &json!({ "email": "ada@example.com", "password": PASSWORD }),
        )
        .await?;

    assert_ne!(external["id"], local.user_id.as_str());
    let stand_in = |user: &Value| {
        user["email"]
            .as_str()
            .is_some_and(|email| email.ends_with("@external.invalid"))
    };
    assert!(stand_in(&external), "{external}");
    assert!(stand_in(&bob), "{bob}");
    assert_eq!(login.status(), 200);
    let signed_in: Value = login.json().await?;
    assert_eq!(signed_in["user"]["id"], local.user_id.as_str());
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_provider_account_is_created_anew_by_the_next_token() -> anyhow::Result<()> {
    // docs/identity.md: the provider still vouches for the person; to keep them out, remove
    // them at the provider.
    let key = TestKey::ed25519("ed-1")?;
    let provider = Provider::start(&[&key]).await?;
    let app = app_for(&provider, |b| b).await?;
    let token = key.sign(&provider.claims("ada"))?;
    let before: Value = app.get_as("/api/v1/me", &token).await?.json().await?;

    let deleted = app.delete_as("/api/v1/me", &token).await?;
    let after = app.get_as("/api/v1/me", &token).await?;

    assert_eq!(deleted.status(), 204);
    assert_eq!(after.status(), 200);
    let after: Value = after.json().await?;
    assert_ne!(after["id"], before["id"]);
    assert_eq!(count(&app, "SELECT count(*) AS count FROM users").await?, 1);
    let sql = "SELECT count(*) AS count FROM external_identities";
    assert_eq!(count(&app, sql).await?, 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn with_local_accounts_off_register_login_and_refresh_are_403() -> anyhow::Result<()> {
    let key = TestKey::ed25519("ed-1")?;
    let provider = Provider::start(&[&key]).await?;
    let app = app_for(&provider, |b| {
        b.with_arg("--local-accounts").with_arg("false")
    })
    .await?;

    let register = app
        .post_json(
            "/api/v1/auth/register",
            &json!({ "email": "ada@example.com", "password": PASSWORD, "display_name": "Ada" }),
        )
        .await?;
    let login = app
        .post_json(
            "/api/v1/auth/login",
            &json!({ "email": "ada@example.com", "password": PASSWORD }),
        )
        .await?;
    let refresh = app
        .post_json(
            "/api/v1/auth/refresh",
            &json!({ "refresh_token": "x".repeat(43) }),
        )
        .await?;
    let provider_token = app
        .get_as("/api/v1/me", &key.sign(&provider.claims("ada"))?)
        .await?;

    for response in [register, login, refresh] {
        assert_problem(response, 403, "local_accounts_disabled").await?;
    }
    assert_eq!(provider_token.status(), 200);
    Ok(())
}

#[tokio::test]
async fn a_plain_http_provider_off_loopback_or_a_missing_audience_stops_start_up()
-> anyhow::Result<()> {
    let plain_http = TestApp::builder()
        .with_arg("--oidc-issuer")
        .with_arg("http://login.example.com")
        .with_arg("--oidc-audience")
        .with_arg(AUDIENCE)
        .spawn()
        .await;
    let no_audience = TestApp::builder()
        .with_arg("--oidc-issuer")
        .with_arg("https://login.example.com")
        .spawn()
        .await;
    let plain_jwks = TestApp::builder()
        .with_arg("--oidc-issuer")
        .with_arg("https://login.example.com")
        .with_arg("--jwks-url")
        .with_arg("http://10.1.2.3/keys")
        .with_arg("--oidc-audience")
        .with_arg(AUDIENCE)
        .spawn()
        .await;

    let message = |outcome: anyhow::Result<TestApp>| match outcome {
        Ok(_) => "started".to_owned(),
        Err(err) => format!("{err:#}"),
    };
    let plain_http = message(plain_http);
    assert!(
        plain_http.contains("--oidc-issuer must be an https URL"),
        "{plain_http}"
    );
    let no_audience = message(no_audience);
    assert!(
        no_audience.contains("needs --oidc-audience"),
        "{no_audience}"
    );
    let plain_jwks = message(plain_jwks);
    assert!(
        plain_jwks.contains("--jwks-url must be an https URL"),
        "{plain_jwks}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_configured_user_claim_names_the_user_and_claims_can_be_left_out() -> anyhow::Result<()> {
    let key = TestKey::ed25519("ed-1")?;
    let provider = Provider::start(&[&key]).await?;
    let app = app_for(&provider, |b| {
        b.with_arg("--oidc-user-claim")
            .with_arg("oid")
            .with_arg("--oidc-email-claim")
            .with_arg("")
    })
    .await?;
    let one = with(provider.claims("session-1"), "oid", json!("person-7"));
    let two = with(provider.claims("session-2"), "oid", json!("person-7"));
    let without_oid = provider.claims("person-8");

    let first: Value = app
        .get_as("/api/v1/me", &key.sign(&one)?)
        .await?
        .json()
        .await?;
    let second: Value = app
        .get_as("/api/v1/me", &key.sign(&two)?)
        .await?
        .json()
        .await?;
    let refused = app.get_as("/api/v1/me", &key.sign(&without_oid)?).await?;

    assert_eq!(first["id"], second["id"]);
    // The email claim is switched off: the token's `email` is not taken.
    assert!(
        first["email"]
            .as_str()
            .is_some_and(|email| email.ends_with("@external.invalid")),
        "{first}"
    );
    assert_eq!(first["display_name"], "User session-1");
    assert_problem(refused, 401, "unauthenticated").await?;
    Ok(())
}
