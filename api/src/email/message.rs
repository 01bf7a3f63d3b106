//! A mail's subject, plain text and HTML (multipart/alternative), from what the engine
//! claimed: one notification (its text is the subject, e.g. `Ann completed “Ship v2”`) or a
//! digest (`Your taskpulse digest: 3 notifications`). Everything a user wrote (task titles,
//! names) is escaped in the HTML part. Its `Message-ID` is the same on every attempt.

use chrono::{DateTime, Utc};
use lettre::Message;
use lettre::message::{Mailbox, MultiPart};
use taskpulse_actors::{Mail, MailContent, Tz};

/// The mail for `mail`, from `from`.
pub(super) fn compose(from: &Mailbox, mail: &Mail) -> Result<Message, lettre::error::Error> {
    let to = Mailbox::new(
        Some(mail.to_name.clone()),
        mail.to_email
            .parse()
            .map_err(|_| lettre::error::Error::EmailMissingAt)?,
    );
    let (subject, text, html) = body(mail);
    let message_id = format!("<{}@{}>", mail.key(), from.email.domain());
    Message::builder()
        .message_id(Some(message_id))
        .from(from.clone())
        .to(to)
        .subject(subject)
        .multipart(MultiPart::alternative_plain_html(text, html))
}

/// The subject, the plain text and the HTML.
pub(super) fn body(mail: &Mail) -> (String, String, String) {
    let footer_text = "You get this mail because of your taskpulse email notification setting \
                       (PATCH /api/v1/me to change it).";
    match &mail.content {
        MailContent::Notification { text, at, .. } => {
            let when = local(*at, mail.time_zone);
            let plain = format!("{text}\n\n{when}\n\n--\n{footer_text}\n");
            let html = page(&format!(
                "<p><strong>{}</strong></p>\n<p>{}</p>",
                escape(text),
                escape(&when)
            ));
            (text.clone(), plain, html)
        }
        MailContent::Digest { lines, total, .. } => {
            let noun = if *total == 1 {
                "notification"
            } else {
                "notifications"
            };
            let subject = format!("Your taskpulse digest: {total} {noun}");
            let mut plain = format!("{subject}\n\n");
            let mut items = String::new();
            for (at, text) in lines {
                let when = local(*at, mail.time_zone);
                plain.push_str(&format!("- {when}: {text}\n"));
                items.push_str(&format!("<li>{}: {}</li>\n", escape(&when), escape(text)));
            }
            let more = *total - lines.len() as i64;
            if more > 0 {
                plain.push_str(&format!("… and {more} more in the app.\n"));
                items.push_str(&format!("<li>… and {more} more in the app.</li>\n"));
            }
            plain.push_str(&format!("\n--\n{footer_text}\n"));
            let html = page(&format!(
                "<p><strong>{}</strong></p>\n<ul>\n{items}</ul>",
                escape(&subject)
            ));
            (subject, plain, html)
        }
    }
}

fn page(content: &str) -> String {
    format!(
        "<!doctype html>\n<html><body>\n{content}\n<p style=\"color:#666;font-size:small\">You \
         get this mail because of your taskpulse email notification setting.</p>\n</body></html>\n"
    )
}

/// `at` in `zone`, as a reader there would write it.
fn local(at: DateTime<Utc>, zone: Tz) -> String {
    at.with_timezone(&zone)
        .format("%Y-%m-%d %H:%M %Z")
        .to_string()
}

/// Text made safe for HTML content and attribute values.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape(r#"<b>"Tom" & 'Jerry'</b>"#),
            "&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;"
        );
    }
}
