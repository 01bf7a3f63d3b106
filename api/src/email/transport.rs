//! The SMTP transport a `--smtp-url` names, through lettre's own URL support:
//!
//! - `smtp://user:pass@host:587`: STARTTLS, required (lettre's `?tls=required`, the default
//!   here — lettre alone would send in the clear);
//! - `smtps://host:465`: TLS from the first byte;
//! - `smtp://host:2525?tls=none`: no TLS at all, for a relay on the same machine or network;
//!   `?tls=opportunistic` as lettre has it;
//! - a path names the host to introduce ourselves as (`EHLO`): `smtp://host:587/tasks.example.com`
//!   (without one, the address literal `[127.0.0.1]`).
//!
//! TLS is rustls on ring with the platform's roots. The password comes from the URL or from a
//! file (`--smtp-password-file`, with the URL's user name). Neither the URL nor the password
//! is ever logged, and no error here repeats them.

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, Tokio1Executor};

/// One SMTP command's answer must come within this (a mail's lease is longer).
const ANSWER_WITHIN: Duration = Duration::from_secs(10);

/// Why mail cannot be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MailerError {
    /// `--smtp-url` is not a URL lettre takes.
    #[error("--smtp-url is not an smtp:// or smtps:// URL with a host ({0})")]
    Url(String),
    /// A password file without a user name in the URL.
    #[error("--smtp-password-file needs a user name in --smtp-url (smtp://user@host)")]
    NoUser,
    /// `--smtp-from` is not a mailbox.
    #[error("--smtp-from is not a mailbox such as `taskpulse <noreply@example.com>` ({0})")]
    From(String),
}

/// What mails are sent through and from. No `Debug`: it holds credentials.
#[derive(Clone)]
pub struct Mailer {
    pub(super) transport: AsyncSmtpTransport<Tokio1Executor>,
    pub(super) from: Mailbox,
}

impl Mailer {
    /// The transport `url` names, with `password` (from a file) for the URL's user, sending
    /// as `from`.
    pub fn new(url: &str, password: Option<&str>, from: &str) -> Result<Self, MailerError> {
        let from = from
            .parse::<Mailbox>()
            .map_err(|err| MailerError::From(err.to_string()))?;
        let (url, user) = lettre_url(url)?;
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(&url)
            .map_err(|err| MailerError::Url(without_source(&err)))?
            .timeout(Some(ANSWER_WITHIN));
        if let Some(password) = password {
            let user = user.ok_or(MailerError::NoUser)?;
            builder = builder.credentials(Credentials::new(user, password.to_owned()));
        }
        Ok(Self {
            transport: builder.build(),
            from,
        })
    }
}

/// `url` as lettre reads it (STARTTLS required unless it says otherwise, `tls=none` dropped),
/// and its decoded user name.
fn lettre_url(url: &str) -> Result<(String, Option<String>), MailerError> {
    let mut parsed = url::Url::parse(url).map_err(|err| MailerError::Url(err.to_string()))?;
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(MailerError::Url("no host".to_owned()));
    }
    let user = (!parsed.username().is_empty()).then(|| percent_decode(parsed.username()));
    if parsed.scheme() == "smtp" {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let tls = pairs
            .iter()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.as_str());
        let kept: Vec<&(String, String)> = pairs.iter().filter(|(k, _)| k != "tls").collect();
        let tls = match tls {
            None => Some("required"),
            Some("none") => None,
            Some(other @ ("required" | "opportunistic")) => Some(other),
            Some(other) => {
                return Err(MailerError::Url(format!(
                    "tls={other}: use required, opportunistic or none"
                )));
            }
        };
        parsed.set_query(None);
        if !kept.is_empty() || tls.is_some() {
            let mut query = parsed.query_pairs_mut();
            for (k, v) in kept {
                query.append_pair(k, v);
            }
            if let Some(tls) = tls {
                query.append_pair("tls", tls);
            }
        }
    }
    Ok((parsed.into(), user))
}

fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("u={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// What to say of lettre's refusal, without anything it may quote from the URL.
fn without_source(_: &lettre::transport::smtp::Error) -> String {
    "the scheme must be smtp or smtps".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lettre(url: &str) -> String {
        lettre_url(url)
            .map(|(url, _)| url)
            .unwrap_or_else(|err| err.to_string())
    }

    #[test]
    fn smtp_means_starttls_unless_the_url_says_none() {
        assert_eq!(
            lettre("smtp://mail.example.com:587"),
            "smtp://mail.example.com:587?tls=required"
        );
        assert_eq!(
            lettre("smtp://127.0.0.1:2525?tls=none"),
            "smtp://127.0.0.1:2525"
        );
        assert_eq!(
            lettre("smtp://h:25?tls=opportunistic"),
            "smtp://h:25?tls=opportunistic"
        );
        assert_eq!(
            lettre("smtps://mail.example.com"),
            "smtps://mail.example.com"
        );
        assert!(lettre("smtp://h?tls=maybe").contains("tls=maybe"));
    }

    #[test]
    fn the_user_name_is_decoded_and_the_password_file_needs_one() {
        let (_, user) = lettre_url("smtp://ann%40example.com@h:587").unwrap_or_default();
        assert_eq!(user.as_deref(), Some("ann@example.com"));
        assert!(matches!(
            Mailer::new("smtp://h:587", Some("secret"), "a <a@example.com>"),
            Err(MailerError::NoUser)
        ));
    }

    #[test]
    fn errors_never_repeat_the_url_or_the_password() {
        for url in [
            "ftp://user:hunter2@h",
            "smtp://user:hunter2@",
            "not a url hunter2",
        ] {
            let Err(err) = Mailer::new(url, None, "a <a@example.com>") else {
                panic!("{url} was taken");
            };
            assert!(!err.to_string().contains("hunter2"), "{err}");
        }
    }
}
