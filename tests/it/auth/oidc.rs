//! An external identity provider (docs/identity.md): a small provider runs inside each test
//! (discovery and JWKS over plain http on 127.0.0.1, keys generated here), and its tokens are
//! accepted wherever ours are — for users created on first sight — while forged, expired,
//! misdirected and confused tokens are 401.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use poem::http::StatusCode;
use poem::listener::{Acceptor, TcpAcceptor};
use poem::web::Json;
use poem::{IntoResponse, Route, get};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::EncodePublicKey;
use rsa::rand_core::{OsRng, RngCore};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use crate::common::{PASSWORD, TestApp, assert_problem};
use crate::ws::{close_code, connect, receive, send};

/// The audience the server is configured with.
const AUDIENCE: &str = "taskpulse-test";

/// A signing key of the test provider.
struct TestKey {
    kid: String,
    alg: Algorithm,
    encoding: EncodingKey,
    /// The public half, as the provider publishes it.
    jwk: Value,
}

impl TestKey {
    fn new(kid: &str, alg: Algorithm, encoding: EncodingKey) -> anyhow::Result<Self> {
        let mut jwk = serde_json::to_value(Jwk::from_encoding_key(&encoding, alg)?)?;
        jwk["kid"] = json!(kid);
        jwk["use"] = json!("sig");
        Ok(Self {
            kid: kid.to_owned(),
            alg,
            encoding,
            jwk,
        })
    }

    fn rsa(kid: &str) -> anyhow::Result<(Self, rsa::RsaPublicKey)> {
        let private = rsa::RsaPrivateKey::new(&mut OsRng, 2048)?;
        let der = private.to_pkcs1_der()?;
        let key = Self::new(
            kid,
            Algorithm::RS256,
            EncodingKey::from_rsa_der(der.as_bytes()),
        )?;
        Ok((key, private.to_public_key()))
    }

    fn p256(kid: &str) -> anyhow::Result<Self> {
        use p256::pkcs8::EncodePrivateKey;
        let der = p256::SecretKey::random(&mut OsRng).to_pkcs8_der()?;
        Self::new(
            kid,
            Algorithm::ES256,
            EncodingKey::from_ec_der(der.as_bytes()),
        )
    }

    fn ed25519(kid: &str) -> anyhow::Result<Self> {
        // An Ed25519 private key is 32 random bytes; PKCS#8 (RFC 8410) wraps them in a fixed
        // 16-byte header.
        let mut der = hex_bytes("302e020100300506032b657004220420");
        let mut seed = [0u8; 32];
        OsRng.fill_bytes(&mut seed);
        der.extend_from_slice(&seed);
        Self::new(kid, Algorithm::EdDSA, EncodingKey::from_ed_der(&der))
    }

    fn sign(&self, claims: &Value) -> anyhow::Result<String> {
        let mut header = Header::new(self.alg);
        header.kid = Some(self.kid.clone());
        Ok(jsonwebtoken::encode(&header, claims, &self.encoding)?)
    }
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .filter_map(|at| u8::from_str_radix(&hex[at..at + 2], 16).ok())
        .collect()
}

/// The test's identity provider: discovery and a JWKS document whose keys the test changes,
/// counting how often the keys are fetched.
struct Provider {
    issuer: String,
    jwks: Arc<Mutex<Value>>,
    fetches: Arc<AtomicUsize>,
    /// While set, the keys are answered with 503.
    down: Arc<AtomicBool>,
    server: JoinHandle<()>,
}

impl Provider {
    async fn start(keys: &[&TestKey]) -> anyhow::Result<Self> {
        let acceptor =
            TcpAcceptor::from_tokio(tokio::net::TcpListener::bind("127.0.0.1:0").await?)?;
        let address = acceptor
            .local_addr()
            .first()
            .and_then(|addr| addr.as_socket_addr().copied())
            .ok_or_else(|| anyhow::anyhow!("the provider has no address"))?;
        let issuer = format!("http://{address}");
        let jwks = Arc::new(Mutex::new(json!({ "keys": [] })));
        let fetches = Arc::new(AtomicUsize::new(0));
        let down = Arc::new(AtomicBool::new(false));
        let discovery = json!({ "issuer": issuer, "jwks_uri": format!("{issuer}/keys") });
        let (served, counted, failing) =
            (Arc::clone(&jwks), Arc::clone(&fetches), Arc::clone(&down));
        let app = Route::new()
            .at(
                "/.well-known/openid-configuration",
                get(poem::endpoint::make_sync(move |_| Json(discovery.clone()))),
            )
            .at(
                "/keys",
                get(poem::endpoint::make_sync(move |_| {
                    counted.fetch_add(1, Ordering::SeqCst);
                    if failing.load(Ordering::SeqCst) {
                        return StatusCode::SERVICE_UNAVAILABLE.into_response();
                    }
                    Json(
                        served
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .clone(),
                    )
                    .into_response()
                })),
            );
        let server = tokio::spawn(async move {
            let _ = poem::Server::new_with_acceptor(acceptor).run(app).await;
        });
        let provider = Self {
            issuer,
            jwks,
            fetches,
            down,
            server,
        };
        provider.publish(keys);
        Ok(provider)
    }

    /// Publishes exactly these keys from now on.
    fn publish(&self, keys: &[&TestKey]) {
        let keys: Vec<Value> = keys.iter().map(|key| key.jwk.clone()).collect();
        *self.jwks.lock().unwrap_or_else(PoisonError::into_inner) = json!({ "keys": keys });
    }

    fn key_fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }

    /// Valid claims for `subject`, living ten minutes.
    fn claims(&self, subject: &str) -> Value {
        let now = chrono::Utc::now().timestamp();
        json!({
            "iss": self.issuer, "aud": AUDIENCE, "sub": subject,
            "iat": now, "nbf": now, "exp": now + 600,
            "email": format!("{subject}@idp.example.com"), "name": format!("User {subject}"),
        })
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A server that accepts the provider's tokens, with `configure`'s flags and settings.
async fn app_for(
    provider: &Provider,
    configure: impl FnOnce(crate::common::TestAppBuilder) -> crate::common::TestAppBuilder,
) -> anyhow::Result<TestApp> {
    let builder = TestApp::builder()
        .with_arg("--oidc-issuer")
        .with_arg(&provider.issuer)
        .with_arg("--oidc-audience")
        .with_arg(AUDIENCE);
    configure(builder).spawn().await
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

async fn count(app: &TestApp, sql: &str) -> anyhow::Result<i64> {
    // Here only: diesel's `RunQueryDsl` would shadow `load` and `first` everywhere.
    use diesel_async::RunQueryDsl;
    let mut conn = app.db.connect().await?;
    let rows: Vec<Count> = diesel::sql_query(sql).load(&mut conn).await?;
    Ok(rows.iter().map(|row| row.count).sum())
}

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
