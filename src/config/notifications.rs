//! `serve`'s flags for notifications: what webhooks may call, the SMTP server mails go through,
//! and how long a node holds what it claimed from the outbox.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

/// Webhooks, mail and the outbox's leases.
#[derive(Debug, Clone, Args)]
pub struct NotificationArgs {
    /// Let webhooks use plain http URLs (by default only https).
    #[arg(long, env = "TASKPULSE_WEBHOOKS_ALLOW_HTTP")]
    pub webhooks_allow_http: bool,
    /// Let webhooks call hosts that resolve to private or loopback addresses (link-local ones,
    /// cloud metadata among them, are refused always).
    #[arg(long, env = "TASKPULSE_WEBHOOKS_ALLOW_PRIVATE")]
    pub webhooks_allow_private: bool,
    /// An SMTP server to mail notifications through: `smtp://user:pass@host:587` (STARTTLS),
    /// `smtps://user:pass@host:465` (TLS), `smtp://127.0.0.1:2525?tls=none` (plain, for a local
    /// relay). Without it nothing is mailed. Never logged.
    #[arg(long, env = "TASKPULSE_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<SmtpUrl>,
    /// A file holding the SMTP password for the user named in `--smtp-url` (instead of a
    /// password in the URL).
    #[arg(long, env = "TASKPULSE_SMTP_PASSWORD_FILE", requires = "smtp_url")]
    pub smtp_password_file: Option<PathBuf>,
    /// Who the mails are from.
    #[arg(
        long,
        env = "TASKPULSE_SMTP_FROM",
        default_value = "taskpulse <noreply@localhost>"
    )]
    pub smtp_from: String,
    /// How long a node holds what it claimed from the outbox (a webhook, notifications to
    /// make): a node that dies holding them leaves them to another once this has passed.
    #[arg(long, env = "TASKPULSE_OUTBOX_LEASE", default_value = "30s", value_parser = parse_outbox_lease)]
    pub outbox_lease: Duration,
}

impl NotificationArgs {
    /// What webhooks may call.
    pub fn webhook_settings(&self) -> taskpulse_api::webhooks::WebhookSettings {
        taskpulse_api::webhooks::WebhookSettings {
            policy: taskpulse_api::webhooks::DestinationPolicy {
                allow_http: self.webhooks_allow_http,
                allow_private: self.webhooks_allow_private,
            },
        }
    }

    /// The outbox's workers.
    pub fn notification_config(&self) -> taskpulse_actors::NotificationConfig {
        taskpulse_actors::NotificationConfig {
            lease: self.outbox_lease,
            email: self.smtp_url.is_some(),
            ..taskpulse_actors::NotificationConfig::default()
        }
    }

    /// The mailer `--smtp-url` names (with the password from `--smtp-password-file`), if any.
    pub fn mailer(&self) -> anyhow::Result<Option<taskpulse_api::email::Mailer>> {
        let Some(url) = &self.smtp_url else {
            return Ok(None);
        };
        let password = match &self.smtp_password_file {
            Some(path) => Some(
                std::fs::read_to_string(path)
                    .map_err(|err| {
                        anyhow::anyhow!(
                            "cannot read --smtp-password-file {}: {err}",
                            path.display()
                        )
                    })?
                    .trim_end_matches(['\r', '\n'])
                    .to_owned(),
            ),
            None => None,
        };
        let mailer =
            taskpulse_api::email::Mailer::new(&url.0, password.as_deref(), &self.smtp_from)?;
        Ok(Some(mailer))
    }
}

/// `--smtp-url`: a secret (it may hold a password), so its `Debug` does not show it.
#[derive(Clone)]
pub struct SmtpUrl(pub String);

impl std::fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SmtpUrl(…)")
    }
}

impl std::str::FromStr for SmtpUrl {
    type Err = std::convert::Infallible;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Ok(Self(value.to_owned()))
    }
}

/// An outbox lease: long enough for a webhook request's 10 s and a margin.
fn parse_outbox_lease(value: &str) -> Result<Duration, String> {
    let lease = humantime::parse_duration(value).map_err(|err| err.to_string())?;
    if lease < Duration::from_secs(12) {
        return Err("must be at least 12s (a webhook request may take 10s)".to_owned());
    }
    Ok(lease)
}
