//! `serve`'s flags for an external identity provider.

use std::time::Duration;

use clap::Args;
use taskpulse_api::auth::ProviderSettings;

/// An external identity provider (OpenID Connect) whose tokens are accepted wherever ours
/// are (docs/identity.md).
#[derive(Debug, Clone, Args)]
pub struct IdentityArgs {
    /// The identity provider's issuer URL: a provider token's `iss` must equal it, and its
    /// keys are found by discovery (`<issuer>/.well-known/openid-configuration`) unless
    /// `--jwks-url` is given. https (plain http only on a loopback address).
    #[arg(long, env = "TASKPULSE_OIDC_ISSUER")]
    pub oidc_issuer: Option<String>,
    /// Where the provider publishes its keys (JWKS), instead of discovery; needs
    /// `--oidc-issuer`. https (plain http only on a loopback address).
    #[arg(long, env = "TASKPULSE_JWKS_URL")]
    pub jwks_url: Option<String>,
    /// The audience a provider token's `aud` must contain; required with `--oidc-issuer`.
    #[arg(long, env = "TASKPULSE_OIDC_AUDIENCE")]
    pub oidc_audience: Option<String>,
    /// The provider token claim that names the user.
    #[arg(long, env = "TASKPULSE_OIDC_USER_CLAIM", default_value = "sub")]
    pub oidc_user_claim: String,
    /// The claim with the user's email, taken when an account is created (empty: none).
    #[arg(long, env = "TASKPULSE_OIDC_EMAIL_CLAIM", default_value = "email")]
    pub oidc_email_claim: String,
    /// The claim with the user's display name, taken when an account is created (empty:
    /// none).
    #[arg(long, env = "TASKPULSE_OIDC_NAME_CLAIM", default_value = "name")]
    pub oidc_name_claim: String,
    /// Whether people may register and sign in with email and password here (`false`: the
    /// identity provider signs everyone in; register, login and refresh answer 403).
    #[arg(long, env = "TASKPULSE_LOCAL_ACCOUNTS", default_value_t = true, action = clap::ArgAction::Set)]
    pub local_accounts: bool,
    /// The provider's keys are fetched again at most this often when tokens name an unknown
    /// key. No flag (docs/identity.md gives 30 s); tests shorten it.
    #[arg(skip = Duration::from_secs(30))]
    pub oidc_refetch_interval: Duration,
}

impl IdentityArgs {
    /// The identity provider's settings, when one is configured; an incomplete or unsafe
    /// configuration is an error that names the flag.
    pub fn provider_settings(&self) -> anyhow::Result<Option<ProviderSettings>> {
        let Some(issuer) = &self.oidc_issuer else {
            if self.jwks_url.is_some() || self.oidc_audience.is_some() {
                anyhow::bail!(
                    "--jwks-url and --oidc-audience need --oidc-issuer: a provider token's \
                     `iss` must equal it"
                );
            }
            if !self.local_accounts {
                anyhow::bail!(
                    "--local-accounts false needs an identity provider (--oidc-issuer and \
                     --oidc-audience), or nobody could sign in"
                );
            }
            return Ok(None);
        };
        let Some(audience) = &self.oidc_audience else {
            anyhow::bail!(
                "--oidc-issuer needs --oidc-audience: the audience a provider token must be \
                 issued for"
            );
        };
        let optional = |claim: &str| (!claim.trim().is_empty()).then(|| claim.to_owned());
        let settings = ProviderSettings {
            jwks_url: self.jwks_url.clone(),
            user_claim: self.oidc_user_claim.clone(),
            email_claim: optional(&self.oidc_email_claim),
            name_claim: optional(&self.oidc_name_claim),
            refetch_interval: self.oidc_refetch_interval,
            ..ProviderSettings::new(issuer.clone(), audience.clone())
        };
        settings.check()?;
        Ok(Some(settings))
    }
}
