//! Which provider tokens pass — on REST and the WebSocket — and which are 401; the key cache:
//! refetching for an unknown kid (at most once per interval), rotation, a provider that is down.

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_provider_token_authenticates_a_websocket_session() -> anyhow::Result<()> {
    let key = TestKey::ed25519("ed-1")?;
    let provider = Provider::start(&[&key]).await?;
    let app = app_for(&provider, |b| b).await?;
    let token = key.sign(&provider.claims("ada"))?;
    let forged = TestKey::ed25519("ed-1")?.sign(&provider.claims("ada"))?;

    let mut socket = connect(&app, Some(&token)).await?;
    send(&mut socket, json!({ "type": "subscribe", "topic": "user" })).await?;
    let snapshot = receive(&mut socket).await?;
    let mut by_message = connect(&app, None).await?;
    send(
        &mut by_message,
        json!({ "type": "auth", "access_token": token }),
    )
    .await?;
    send(&mut by_message, json!({ "type": "ping", "id": "p" })).await?;
    let pong = receive(&mut by_message).await?;
    let mut refused = connect(&app, Some(&forged)).await?;

    assert_eq!(snapshot["type"], "snapshot");
    assert_eq!(pong, json!({ "type": "pong", "id": "p" }));
    assert_eq!(close_code(&mut refused).await?, 4401);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_issuer_wrong_audience_and_expired_tokens_are_401() -> anyhow::Result<()> {
    let key = TestKey::p256("ec-1")?;
    let provider = Provider::start(&[&key]).await?;
    let app = app_for(&provider, |b| b).await?;
    let now = chrono::Utc::now().timestamp();
    let valid = provider.claims("ada");
    let cases = [
        (
            "wrong issuer",
            with(valid.clone(), "iss", json!("https://other.example.com")),
        ),
        ("no issuer", with(valid.clone(), "iss", Value::Null)),
        (
            "wrong audience",
            with(valid.clone(), "aud", json!("another-api")),
        ),
        (
            "audience list without ours",
            with(valid.clone(), "aud", json!(["a", "b"])),
        ),
        ("expired", with(valid.clone(), "exp", json!(now - 120))),
        ("no expiry", with(valid.clone(), "exp", Value::Null)),
        (
            "not yet valid",
            with(valid.clone(), "nbf", json!(now + 600)),
        ),
        ("no subject", with(valid.clone(), "sub", Value::Null)),
    ];

    for (case, claims) in cases {
        let response = app.get_as("/api/v1/me", &key.sign(&claims)?).await?;

        let problem = assert_problem(response, 401, "unauthenticated").await;
        assert!(problem.is_ok(), "{case}: {problem:?}");
    }
    // The control: the same key and claims as they should be pass (also with `aud` a list).
    let ok = with(valid, "aud", json!(["a", AUDIENCE]));
    assert_eq!(
        app.get_as("/api/v1/me", &key.sign(&ok)?).await?.status(),
        200
    );
    assert_eq!(count(&app, "SELECT count(*) AS count FROM users").await?, 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_kid_is_401_and_refetches_the_keys_at_most_once_per_interval()
-> anyhow::Result<()> {
    let key = TestKey::ed25519("ed-1")?;
    let provider = Provider::start(&[&key]).await?;
    let app = app_for(&provider, |b| b).await?;
    let known = key.sign(&provider.claims("ada"))?;
    assert_eq!(app.get_as("/api/v1/me", &known).await?.status(), 200);
    let before = provider.key_fetches();

    for n in 0..5 {
        let stranger = TestKey::ed25519(&format!("unknown-{n}"))?;
        let response = app
            .get_as("/api/v1/me", &stranger.sign(&provider.claims("eve"))?)
            .await?;
        assert_problem(response, 401, "unauthenticated").await?;
    }

    // The keys were fetched at start-up, within the 30 s interval: not once more.
    assert!(before >= 1);
    assert!(
        provider.key_fetches() - before <= 1,
        "{}",
        provider.key_fetches()
    );
    assert_eq!(count(&app, "SELECT count(*) AS count FROM users").await?, 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rotated_key_is_fetched_and_the_withdrawn_one_is_refused() -> anyhow::Result<()> {
    let old = TestKey::p256("2026-11")?;
    let new = TestKey::p256("2026-12")?;
    let provider = Provider::start(&[&old]).await?;
    let app = app_for(&provider, |b| {
        b.with_config(|args| args.identity.oidc_refetch_interval = Duration::ZERO)
    })
    .await?;
    let old_token = old.sign(&provider.claims("ada"))?;
    assert_eq!(app.get_as("/api/v1/me", &old_token).await?.status(), 200);

    provider.publish(&[&new]);
    let new_token = new.sign(&provider.claims("ada"))?;
    let with_new = app.get_as("/api/v1/me", &new_token).await?;
    let with_old = app.get_as("/api/v1/me", &old_token).await?;

    assert_eq!(with_new.status(), 200);
    assert_problem(with_old, 401, "unauthenticated").await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn algorithm_confusion_and_alg_none_are_401() -> anyhow::Result<()> {
    let (rsa_key, public) = TestKey::rsa("rsa-1")?;
    let ec_key = TestKey::p256("ec-1")?;
    let provider = Provider::start(&[&rsa_key, &ec_key]).await?;
    let app = app_for(&provider, |b| b).await?;
    let claims = provider.claims("mallory");
    let public_pem = public.to_public_key_pem(rsa::pkcs8::LineEnding::LF)?;
    let hs256_with = |secret: &[u8]| -> anyhow::Result<String> {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("rsa-1".to_owned());
        Ok(jsonwebtoken::encode(
            &header,
            &claims,
            &EncodingKey::from_secret(secret),
        )?)
    };
    let unsigned = |alg: &str, kid: &str| {
        let header = URL_SAFE_NO_PAD.encode(json!({ "alg": alg, "kid": kid }).to_string());
        let body = URL_SAFE_NO_PAD.encode(claims.to_string());
        format!("{header}.{body}.")
    };
    // An ES256 token that names the RSA key, and one signed by the EC key that says RS256.
    let mut es256_naming_rsa = Header::new(Algorithm::ES256);
    es256_naming_rsa.kid = Some("rsa-1".to_owned());
    let cases = [
        (
            "HS256 with the public key PEM",
            hs256_with(public_pem.as_bytes())?,
        ),
        (
            "HS256 with the JWK",
            hs256_with(rsa_key.jwk.to_string().as_bytes())?,
        ),
        ("alg none", unsigned("none", "rsa-1")),
        ("alg None", unsigned("None", "rsa-1")),
        ("alg RS256 without a signature", unsigned("RS256", "rsa-1")),
        (
            "ES256 naming the RSA key",
            jsonwebtoken::encode(&es256_naming_rsa, &claims, &ec_key.encoding)?,
        ),
    ];

    for (case, token) in cases {
        let response = app.get_as("/api/v1/me", &token).await?;

        let problem = assert_problem(response, 401, "unauthenticated").await;
        assert!(problem.is_ok(), "{case}: {problem:?}");
    }
    // The control: the keys themselves sign tokens that pass.
    assert_eq!(
        app.get_as("/api/v1/me", &rsa_key.sign(&claims)?)
            .await?
            .status(),
        200
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_provider_that_is_down_leaves_known_keys_working() -> anyhow::Result<()> {
    let key = TestKey::ed25519("ed-1")?;
    let provider = Provider::start(&[&key]).await?;
    let app = app_for(&provider, |b| {
        b.with_config(|args| args.identity.oidc_refetch_interval = Duration::ZERO)
    })
    .await?;
    assert_eq!(
        app.get_as("/api/v1/me", &key.sign(&provider.claims("ada"))?)
            .await?
            .status(),
        200
    );
    let stranger = TestKey::ed25519("ed-2")?;

    provider.down.store(true, Ordering::SeqCst);
    // The unknown kid first: its failed fetch must not cost the keys already held.
    let unknown = app
        .get_as("/api/v1/me", &stranger.sign(&provider.claims("eve"))?)
        .await?;
    let known = app
        .get_as("/api/v1/me", &key.sign(&provider.claims("bob"))?)
        .await?;

    assert_eq!(known.status(), 200);
    assert_problem(unknown, 401, "unauthenticated").await?;
    assert!(
        provider.key_fetches() >= 2,
        "the unknown kid was not fetched for"
    );
    Ok(())
}
