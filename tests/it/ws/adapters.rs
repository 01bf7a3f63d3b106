//! The two adapters of the live protocol the WebSocket cases run against.

use std::ops::Deref;

use super::{Socket, connect_to};
use crate::common::{AxumNode, TestApp, TestAppBuilder};

/// Which adapter of the live protocol a case's sessions connect to.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Adapter {
    /// taskpulse's own server.
    Poem,
    /// `examples/axum-live`, with an engine of its own on the server's database.
    Axum,
}

/// A test server for REST, and where the case's sessions connect.
pub(crate) struct Live {
    // Dropped first: the example's engine stops before the server drops the database.
    axum: Option<AxumNode>,
    app: TestApp,
}

impl Live {
    pub(crate) async fn spawn(adapter: Adapter) -> anyhow::Result<Self> {
        Self::start(adapter, TestApp::builder()).await
    }

    /// The server with `settings`, and the adapter. Started as a cluster of one: with the JWT
    /// secret on its flags, which the axum example needs to check the server's tokens.
    pub(crate) async fn start(adapter: Adapter, settings: TestAppBuilder) -> anyhow::Result<Self> {
        let app = (settings.spawn_cluster(1).await?.pop())
            .ok_or_else(|| anyhow::anyhow!("a cluster of one has one node"))?;
        let axum = match adapter {
            Adapter::Poem => None,
            Adapter::Axum => Some(AxumNode::beside(&app).await?),
        };
        Ok(Self { axum, app })
    }

    /// `http://host:port` of the adapter.
    pub(crate) fn live_url(&self) -> String {
        match &self.axum {
            None => self.app.base_url.clone(),
            Some(axum) => format!("http://{}", axum.address),
        }
    }

    pub(crate) async fn connect(&self, token: Option<&str>) -> anyhow::Result<Socket> {
        connect_to(&self.live_url(), token).await
    }
}

impl Deref for Live {
    type Target = TestApp;

    fn deref(&self) -> &TestApp {
        &self.app
    }
}

/// Runs each case, an `async fn(Adapter)` of the calling module, against both adapters, as
/// `<case>::poem` and `<case>::axum`.
macro_rules! on_both_adapters {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            #[tokio::test]
            async fn poem() -> anyhow::Result<()> {
                super::$case($crate::ws::Adapter::Poem).await
            }

            #[tokio::test]
            async fn axum() -> anyhow::Result<()> {
                super::$case($crate::ws::Adapter::Axum).await
            }
        }
    )*};
}
pub(crate) use on_both_adapters;
