//! [`Api`], a running server as its clients see it, with REST helpers: accounts,
//! authenticated requests, common fixtures.

use std::time::Duration;

use anyhow::{Context, bail};

/// A running server as its clients see it: where it is and an HTTP client for it. Both
/// [`TestApp`](super::TestApp) and [`ProcessApp`](super::ProcessApp) dereference to one, so a
/// test body reads the same whichever runs the server.
#[derive(Debug, Clone)]
pub struct Api {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// A client for it.
    pub http: reqwest::Client,
}

/// The password [`Api::register`] gives every account.
pub const PASSWORD: &str = "correct horse battery staple";

/// An account made by [`Api::register`], with the token pair its registration answered.
#[derive(Debug, Clone)]
pub struct Registered {
    /// The user's id.
    pub user_id: String,
    /// The email it signs in with.
    pub email: String,
    /// An access token.
    pub access: String,
    /// A refresh token.
    pub refresh: String,
}

impl Api {
    /// An [`Api`] for the server at `address` (`host:port`).
    pub fn at(address: &str) -> Self {
        Self {
            base_url: format!("http://{address}"),
            http: reqwest::Client::new(),
        }
    }

    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// GET `path`.
    pub async fn get(&self, path: &str) -> anyhow::Result<reqwest::Response> {
        Ok(self.http.get(self.url(path)).send().await?)
    }

    /// POST `body` as JSON to `path`.
    pub async fn post_json(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> anyhow::Result<reqwest::Response> {
        Ok(self.http.post(self.url(path)).json(body).send().await?)
    }

    /// GET `path` with `Authorization: Bearer <access>`.
    pub async fn get_as(&self, path: &str, access: &str) -> anyhow::Result<reqwest::Response> {
        Ok(self
            .http
            .get(self.url(path))
            .bearer_auth(access)
            .send()
            .await?)
    }

    /// Registers `email` with [`PASSWORD`], asserting 201.
    pub async fn register(&self, email: &str) -> anyhow::Result<Registered> {
        register_at(&self.http, &self.base_url, email).await
    }
}

/// Registers `email` with [`PASSWORD`] at the server (or balancer) on `base_url`, asserting
/// 201.
pub async fn register_at(
    http: &reqwest::Client,
    base_url: &str,
    email: &str,
) -> anyhow::Result<Registered> {
    let body = serde_json::json!({
        "email": email, "password": PASSWORD, "display_name": "Test User"
    });
    let response = (http.post(format!("{base_url}/api/v1/auth/register")))
        .json(&body)
        .send()
        .await?;
    assert_eq!(response.status(), 201, "register {email}");
    let tokens: serde_json::Value = response.json().await?;
    let text = |value: &serde_json::Value| value.as_str().map(str::to_owned);
    Ok(Registered {
        user_id: text(&tokens["user"]["id"]).context("no user.id")?,
        email: email.to_owned(),
        access: text(&tokens["access_token"]).context("no access_token")?,
        refresh: text(&tokens["refresh_token"]).context("no refresh_token")?,
    })
}

/// Asserts `response` has `status` and answers its JSON body (`Null` when it has none).
pub async fn expect_json(
    response: reqwest::Response,
    status: u16,
) -> anyhow::Result<serde_json::Value> {
    let actual = response.status().as_u16();
    let text = response.text().await?;
    assert_eq!(actual, status, "status; body: {text}");
    if text.is_empty() {
        return Ok(serde_json::Value::Null);
    }
    Ok(serde_json::from_str(&text)?)
}

impl Api {
    /// Sends `method path` as `access`, with `body` as JSON when given.
    pub async fn send_as(
        &self,
        method: reqwest::Method,
        path: &str,
        access: &str,
        body: Option<&serde_json::Value>,
    ) -> anyhow::Result<reqwest::Response> {
        let mut request = self
            .http
            .request(method, self.url(path))
            .bearer_auth(access);
        if let Some(body) = body {
            request = request.json(body);
        }
        Ok(request.send().await?)
    }

    /// POST `body` to `path` as `access`.
    pub async fn post_as(
        &self,
        path: &str,
        access: &str,
        body: &serde_json::Value,
    ) -> anyhow::Result<reqwest::Response> {
        self.send_as(reqwest::Method::POST, path, access, Some(body))
            .await
    }

    /// PATCH `body` to `path` as `access`.
    pub async fn patch_as(
        &self,
        path: &str,
        access: &str,
        body: &serde_json::Value,
    ) -> anyhow::Result<reqwest::Response> {
        self.send_as(reqwest::Method::PATCH, path, access, Some(body))
            .await
    }

    /// DELETE `path` as `access`.
    pub async fn delete_as(&self, path: &str, access: &str) -> anyhow::Result<reqwest::Response> {
        self.send_as(reqwest::Method::DELETE, path, access, None)
            .await
    }

    /// Creates a task as `access` from `body`, asserting 201; answers the task.
    pub async fn create_task(
        &self,
        access: &str,
        body: serde_json::Value,
    ) -> anyhow::Result<serde_json::Value> {
        expect_json(self.post_as("/api/v1/tasks", access, &body).await?, 201).await
    }

    /// Creates a team named `name` as `access`, asserting 201; answers its id.
    pub async fn create_team(&self, access: &str, name: &str) -> anyhow::Result<String> {
        let body = serde_json::json!({ "name": name });
        let team = expect_json(self.post_as("/api/v1/teams", access, &body).await?, 201).await?;
        team["id"].as_str().map(str::to_owned).context("no team id")
    }

    /// Adds `user_id` to `team` with `role` as `access`, asserting 201.
    pub async fn add_member(
        &self,
        access: &str,
        team: &str,
        user_id: &str,
        role: &str,
    ) -> anyhow::Result<()> {
        let body = serde_json::json!({ "user_id": user_id, "role": role });
        let path = format!("/api/v1/teams/{team}/members");
        expect_json(self.post_as(&path, access, &body).await?, 201).await?;
        Ok(())
    }

    /// Shares `task` with `user_id` as `access`, asserting 201.
    pub async fn share(
        &self,
        access: &str,
        task: &str,
        user_id: &str,
        permission: &str,
    ) -> anyhow::Result<()> {
        let body = serde_json::json!({ "user_id": user_id, "permission": permission });
        let path = format!("/api/v1/tasks/{task}/shares");
        expect_json(self.post_as(&path, access, &body).await?, 201).await?;
        Ok(())
    }
}

/// The `id` of a JSON object, as text.
pub fn id_of(value: &serde_json::Value) -> String {
    value["id"].as_str().unwrap_or_default().to_owned()
}

/// `url` with its server replaced by `127.0.0.1:port` over TCP (a Unix-socket `host` dropped).
pub fn through_port(url: &str, port: u16) -> anyhow::Result<String> {
    let mut parsed = url::Url::parse(url)?;
    let query: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(key, _)| key != "host" && key != "port")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    parsed
        .set_host(Some("127.0.0.1"))
        .context("the database URL cannot have a host")?;
    parsed
        .set_port(Some(port))
        .map_err(|()| anyhow::anyhow!("the database URL cannot have a port"))?;
    parsed.set_query(None);
    if !query.is_empty() {
        parsed.query_pairs_mut().extend_pairs(query);
    }
    Ok(parsed.into())
}

/// Calls `check` until it answers `Some`, at most until `timeout`, and answers that value;
/// fails with the last state `check` described otherwise.
pub async fn poll_until<T, F, Fut>(timeout: Duration, mut check: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Result<T, String>>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let last = match check().await? {
            Ok(value) => return Ok(value),
            Err(last) => last,
        };
        if tokio::time::Instant::now() >= deadline {
            bail!("not reached within {timeout:?}; last: {last}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
