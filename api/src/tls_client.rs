//! The TLS client of the server's own outgoing requests (an identity provider's keys, webhook
//! deliveries): rustls on ring, certificates checked against the system's roots. Kept apart
//! from reqwest, whose clients stay TLS-free (Cargo.toml says why).

use std::sync::Arc;

use rustls_platform_verifier::BuilderVerifierExt;
use tokio_rustls::TlsConnector;

/// A connector with the system's roots.
pub(crate) fn connector() -> Result<TlsConnector, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|builder| builder.with_platform_verifier())
        .map_err(|err| format!("cannot set up TLS: {err}"))?
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}
