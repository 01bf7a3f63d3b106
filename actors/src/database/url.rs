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

/// The schema taskpulse keeps its tables in when a URL names none.
pub const DEFAULT_SCHEMA: &str = "taskpulse";

/// The URL with its connections' `search_path` set to `schema` (PostgreSQL's `options`
/// parameter, `-c search_path=<schema>`; other options are kept): every table, type and
/// function of taskpulse lives in that schema, and every connection made from the URL finds
/// them there, the engine's, the migrations' and anyone else's alike.
pub fn in_schema(url: &str, schema: &str) -> Result<String> {
    check_schema(schema)?;
    let mut parsed = parse(url)?;
    let mut options = Vec::new();
    let mut others = Vec::new();
    for (key, value) in parsed.query_pairs() {
        if key == "options" {
            options.extend(without_search_path(&value));
        } else {
            others.push((key.into_owned(), value.into_owned()));
        }
    }
    options.push(format!("-c search_path={schema}"));
    others.push(("options".to_owned(), options.join(" ")));
    // Percent-encoded by hand: form encoding writes a space as `+`, which libpq and
    // tokio-postgres read as a plus sign.
    let query: Vec<String> = others
        .iter()
        .map(|(key, value)| format!("{}={}", encode(key), encode(value)))
        .collect();
    parsed.set_query(Some(&query.join("&")));
    Ok(parsed.into())
}

/// `%XX` for every byte but ASCII letters, digits and `-._~`.
fn encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// The URL in the schema it names, or in [`DEFAULT_SCHEMA`] when it names none; its
/// `options` written the way PostgreSQL's clients read them (a form-encoded `+` for a space
/// would reach the server as a plus sign).
pub fn with_default_schema(url: &str) -> Result<String> {
    let schema = schema_of(url)?;
    in_schema(url, schema.as_deref().unwrap_or(DEFAULT_SCHEMA))
}

/// The schema a URL's `options` set as `search_path`, if any.
pub fn schema_of(url: &str) -> Result<Option<String>> {
    let parsed = parse(url)?;
    let found = parsed
        .query_pairs()
        .filter(|(key, _)| key == "options")
        .flat_map(|(_, value)| {
            let words: Vec<String> = value.split_whitespace().map(str::to_owned).collect();
            let mut found = Vec::new();
            for (i, word) in words.iter().enumerate() {
                let setting = match word.strip_prefix("-c") {
                    Some("") => words.get(i + 1).map(String::as_str),
                    Some(inline) => Some(inline),
                    None => None,
                };
                if let Some(path) = setting.and_then(|s| s.strip_prefix("search_path=")) {
                    found.push(path.to_owned());
                }
            }
            found
        })
        .last();
    Ok(found)
}

/// `options` less any `-c search_path=…`, word by word.
fn without_search_path(options: &str) -> Vec<String> {
    let words: Vec<&str> = options.split_whitespace().collect();
    let mut kept = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let word = words[i];
        if word == "-c"
            && words
                .get(i + 1)
                .is_some_and(|w| w.starts_with("search_path="))
        {
            i += 2;
            continue;
        }
        if !word.starts_with("-csearch_path=") {
            kept.push(word.to_owned());
        }
        i += 1;
    }
    kept
}

/// A schema name taskpulse accepts: a plain lower-case identifier, so that it never needs
/// quoting in a `search_path` or in SQL.
fn check_schema(schema: &str) -> Result<()> {
    let mut chars = schema.chars();
    let plain = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && schema.len() <= 63
        && !schema.starts_with("pg_");
    if plain {
        Ok(())
    } else {
        Err(Error::NoDatabase(format!(
            "the schema name {schema:?} must be a lower-case identifier (letters, digits, '_'; \
             at most 63; not starting with pg_)"
        )))
    }
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
    fn in_schema_sets_the_search_path_and_keeps_other_options() -> Result<()> {
        let url = "postgres://u@h/db?sslmode=disable&options=-c%20statement_timeout%3D5s%20-c%20search_path%3Dold";
        let moved = in_schema(url, "tp")?;
        assert_eq!(schema_of(&moved)?.as_deref(), Some("tp"));
        assert!(moved.contains("sslmode=disable"), "{moved}");
        assert!(moved.contains("statement_timeout"), "{moved}");
        assert!(!moved.contains("old"), "{moved}");
        assert!(
            moved.ends_with("options=-c%20statement_timeout%3D5s%20-c%20search_path%3Dtp"),
            "{moved}"
        );
        assert_eq!(schema_of("postgres://u@h/db")?, None);
        assert_eq!(
            schema_of(&with_default_schema("postgres://u@h/db")?)?.as_deref(),
            Some(DEFAULT_SCHEMA)
        );
        assert_eq!(
            with_default_schema("postgres://u@h/db?options=-c+search_path%3Dtp")?,
            "postgres://u@h/db?options=-c%20search_path%3Dtp"
        );
        assert!(in_schema(url, "Robert'); DROP").is_err());
        assert!(in_schema(url, "pg_catalog").is_err());
        Ok(())
    }

    #[test]
    fn database_name_requires_a_path() {
        assert!(database_name("postgres://h:5432").is_err());
    }
}
