//! Account fields as parsed values. An [`Email`], [`DisplayName`] or [`Password`] that exists
//! keeps its rules, so nothing after the parse checks them again; [`AccountFields::parse`]
//! reports every broken rule of a registration at once.

use crate::error::Result;
#[cfg(feature = "local-accounts")]
use crate::error::{Error, FieldError};

/// The longest email (RFC 5321's path limit less the brackets).
const MAX_EMAIL_CHARS: usize = 254;
#[cfg(feature = "local-accounts")]
const PASSWORD_CHARS: std::ops::RangeInclusive<usize> = 8..=128;
const DISPLAY_NAME_CHARS: std::ops::RangeInclusive<usize> = 1..=100;

/// A sign-in email, as the user spelled it (unique whatever its letter case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Deliberately simple (one `@`, a dotted domain, no spaces): the only real check of an
    /// address is mail reaching it.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        if text.chars().count() > MAX_EMAIL_CHARS {
            return Err("must be at most 254 characters");
        }
        let looks_right = match text.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && local.len() <= 64
                    && !domain.contains('@')
                    && domain.contains('.')
                    && domain.split('.').all(|label| {
                        !label.is_empty() && !label.starts_with('-') && !label.ends_with('-')
                    })
                    && !text.chars().any(|c| c.is_whitespace() || c.is_control())
            }
            None => false,
        };
        if looks_right {
            Ok(Self(text.to_owned()))
        } else {
            Err("must be an email address such as ada@example.com")
        }
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The name shown to others: 1..=100 characters, not blank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    /// Checks the rules; `Err` says which one is broken.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        if text.contains('\0') {
            Err("must not contain NUL (U+0000) characters")
        } else if !DISPLAY_NAME_CHARS.contains(&text.chars().count()) {
            Err("must be 1..=100 characters")
        } else if text.trim().is_empty() {
            Err("must not be blank")
        } else {
            Ok(Self(text.to_owned()))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(feature = "local-accounts")]
/// A password that meets the rules (8..=128 characters). The engine never stores it: the
/// caller hashes it and hands over the hash. No `Debug` or `Display`: it stays out of logs.
#[derive(Clone)]
pub struct Password(String);

#[cfg(feature = "local-accounts")]
impl Password {
    /// Checks the rules; `Err` says which one is broken.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        if PASSWORD_CHARS.contains(&text.chars().count()) {
            Ok(Self(text.to_owned()))
        } else {
            Err("must be 8..=128 characters")
        }
    }

    /// The password in clear, for hashing.
    pub fn into_clear_text(self) -> String {
        self.0
    }
}

#[cfg(feature = "local-accounts")]
/// The fields of a new account, each parsed.
#[derive(Clone)]
pub struct AccountFields {
    /// The sign-in email.
    pub email: Email,
    /// The password, to be hashed by the caller.
    pub password: Password,
    /// The name shown to others.
    pub display_name: DisplayName,
}

#[cfg(feature = "local-accounts")]
impl AccountFields {
    /// Parses all three; `Err` is one [`Error::Validation`] naming every broken field.
    pub fn parse(email: &str, password: &str, display_name: &str) -> Result<Self> {
        let mut errors = Vec::new();
        let mut field = |name: &str, parsed: Result<(), &'static str>| {
            if let Err(message) = parsed {
                errors.push(FieldError::new(name, message));
            }
        };
        let email = Email::parse(email);
        field("email", email.as_ref().map(drop).map_err(|m| *m));
        let password = Password::parse(password);
        field("password", password.as_ref().map(drop).map_err(|m| *m));
        let display_name = DisplayName::parse(display_name);
        field(
            "display_name",
            display_name.as_ref().map(drop).map_err(|m| *m),
        );
        match (email, password, display_name) {
            (Ok(email), Ok(password), Ok(display_name)) => Ok(Self {
                email,
                password,
                display_name,
            }),
            _ => Err(Error::Validation(errors)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plausible_emails_pass_and_others_do_not() {
        for good in ["ada@example.com", "A.B+tag@sub.example.co.uk", "x@y.io"] {
            assert!(Email::parse(good).is_ok(), "{good}");
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
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse(&long).is_err());
    }

    #[cfg(feature = "local-accounts")]
    #[test]
    fn every_broken_rule_is_reported() {
        let outcome = AccountFields::parse("nope", "short", "");

        let Err(Error::Validation(errors)) = outcome else {
            panic!("expected a validation error");
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["email", "password", "display_name"]);
    }

    #[cfg(feature = "local-accounts")]
    #[test]
    fn lengths_count_characters_not_bytes() {
        let parse = AccountFields::parse;
        assert!(parse("ada@example.com", &"é".repeat(8), "Ada").is_ok());
        assert!(parse("ada@example.com", &"é".repeat(129), "Ada").is_err());
        assert!(parse("ada@example.com", "12345678", &"é".repeat(100)).is_ok());
        assert!(parse("ada@example.com", "12345678", "   ").is_err());
        assert!(parse("ada@example.com", "12345678", "A\0a").is_err());
    }
}
