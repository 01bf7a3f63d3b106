//! An external identity provider (docs/identity.md): a small provider runs inside each test
//! (discovery and JWKS over plain http on 127.0.0.1, keys generated here), and its tokens are
//! accepted wherever ours are — for users created on first sight — while forged, expired,
//! misdirected and confused tokens are 401. Here the test provider and its keys; the tests are
//! in `oidc/`.

// Users created on first sight, their emails, deletion, local accounts switched off, start-up.
mod accounts;
// Which tokens pass and which do not; the keys' cache, rotation and a provider that is down.
mod tokens;

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
