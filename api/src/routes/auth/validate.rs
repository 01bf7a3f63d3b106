//! The rules of API.md "Validation" for account fields; each broken rule is one field error,
//! and all of them are reported at once.

use taskpulse_actors::{Error as EngineError, FieldError};

/// The longest email (RFC 5321's path limit less the brackets).
const MAX_EMAIL_CHARS: usize = 254;
const PASSWORD_CHARS: std::ops::RangeInclusive<usize> = 8..=128;
const DISPLAY_NAME_CHARS: std::ops::RangeInclusive<usize> = 1..=100;

/// Checks a registration; `Err` lists every field that breaks a rule.
pub fn check_registration(
    email: &str,
    password: &str,
    display_name: &str,
) -> Result<(), EngineError> {
    let mut errors = Vec::new();
    if let Some(message) = email_problem(email) {
        errors.push(FieldError::new("email", message));
    }
    if !PASSWORD_CHARS.contains(&password.chars().count()) {
        errors.push(FieldError::new("password", "must be 8..=128 characters"));
    }
    if display_name.contains('\0') {
        errors.push(FieldError::new(
            "display_name",
            "must not contain NUL (U+0000) characters",
        ));
    } else if !DISPLAY_NAME_CHARS.contains(&display_name.chars().count()) {
        errors.push(FieldError::new(
            "display_name",
            "must be 1..=100 characters",
        ));
    } else if display_name.trim().is_empty() {
        errors.push(FieldError::new("display_name", "must not be blank"));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(EngineError::Validation(errors))
    }
}

/// What is wrong with an email, if anything. Deliberately simple (one `@`, a dotted domain,
/// no spaces): the only real check of an address is mail reaching it.
fn email_problem(email: &str) -> Option<&'static str> {
    if email.chars().count() > MAX_EMAIL_CHARS {
        return Some("must be at most 254 characters");
    }
    let looks_right = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && local.len() <= 64
                && !domain.contains('@')
                && domain.contains('.')
                && domain.split('.').all(|label| {
                    !label.is_empty() && !label.starts_with('-') && !label.ends_with('-')
                })
                && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    };
    (!looks_right).then_some("must be an email address such as ada@example.com")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plausible_emails_pass_and_others_do_not() {
        for good in ["ada@example.com", "A.B+tag@sub.example.co.uk", "x@y.io"] {
            assert_eq!(email_problem(good), None, "{good}");
        }
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "ada@@example.com",
            "a b@example.com",
            "ada@example..com",
            "ada@-example.com",
        ] {
            assert!(email_problem(bad).is_some(), "{bad}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(email_problem(&long).is_some());
    }

    #[test]
    fn every_broken_rule_is_reported() {
        let outcome = check_registration("nope", "short", "");

        let Err(EngineError::Validation(errors)) = outcome else {
            panic!("expected a validation error, got {outcome:?}");
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["email", "password", "display_name"]);
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        assert!(check_registration("ada@example.com", &"é".repeat(8), "Ada").is_ok());
        assert!(check_registration("ada@example.com", &"é".repeat(129), "Ada").is_err());
        assert!(check_registration("ada@example.com", "12345678", &"é".repeat(100)).is_ok());
        assert!(check_registration("ada@example.com", "12345678", "   ").is_err());
    }
}
