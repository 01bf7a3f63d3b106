//! Small helpers over PostgreSQL connection URLs.

use crate::error::{Error, Result};

/// The same server, another database.
pub fn with_database(url: &str, database: &str) -> Result<String> {
    let mut parsed = parse(url)?;
    parsed.set_path(&format!("/{database}"));
    Ok(parsed.into())
}

/// The database a URL names.
pub fn database_name(url: &str) -> Result<String> {
    let parsed = parse(url)?;
    let name = parsed.path().trim_start_matches('/');
    if name.is_empty() {
        return Err(Error::NoDatabase(format!(
            "the database URL {} names no database",
            redact(url)
        )));
    }
    Ok(name.to_owned())
}

/// The URL with any password replaced, for messages and logs.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                // Setting a password only fails on URLs that cannot have one.
                let _ = parsed.set_password(Some("***"));
            }
            parsed.into()
        }
        Err(_) => "<unparsable URL>".to_owned(),
    }
}

fn parse(url: &str) -> Result<url::Url> {
    url::Url::parse(url).map_err(|err| {
        Error::NoDatabase(format!(
            "the database URL {} is malformed: {err}",
            redact(url)
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_database_keeps_the_socket_query() -> Result<()> {
        let url = with_database("postgres://postgres@localhost/postgres?host=/tmp/pg", "x")?;
        assert_eq!(url, "postgres://postgres@localhost/x?host=/tmp/pg");
        Ok(())
    }

    #[test]
    fn with_database_keeps_a_socket_url_hostless() -> Result<()> {
        let url = with_database("postgresql:///postgres?user=postgres&host=%2Ftmp%2Fpg", "x")?;
        assert_eq!(url, "postgresql:///x?user=postgres&host=%2Ftmp%2Fpg");
        assert_eq!(database_name(&url)?, "x");
        Ok(())
    }

    #[test]
    fn redact_hides_the_password() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
    }

    #[test]
    fn database_name_requires_a_path() {
        assert!(database_name("postgres://h:5432").is_err());
    }
}
