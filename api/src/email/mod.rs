//! Mailing notifications over SMTP (docs/notifications.md, "Email"): the transport a
//! `--smtp-url` names (`transport`), the mails' text and HTML (`message`), and this node's
//! sender of the engine's email outbox (`worker`).

mod message;
mod transport;
mod worker;

pub use transport::{Mailer, MailerError};
pub use worker::{MOST_CONNECTIONS, spawn_mailer};
