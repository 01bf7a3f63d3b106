//! PostgreSQL connection URLs. What a URL means is what the driver reads in it:
//! tokio-postgres's own parser ([`parse`]) is the one reading, so that several hosts
//! (`postgres://db1:5432,db2:5432/taskpulse?target_session_attrs=read-write`, which no generic
//! URL parser takes: "invalid port number") mean here what they mean when connecting. Edits
//! (another database, the schema's `search_path`, a hidden password) are made on the text, part
//! by part, so that the rest of a URL stays as written.

use std::str::FromStr;

use tokio_postgres::config::Config;

use crate::error::{Error, Result};

/// Reads a database URL the way every connection made from it will, and refuses what would
/// fail or mislead later: anything tokio-postgres does not read (an unknown option, a
/// `target_session_attrs` other than `any`, `read-write` or `read-only`), no host at all, an
/// empty entry in the host list, and several hosts of which some name no port (libpq and
/// tokio-postgres would give those 5432, which is rarely what the writer of
/// `db1,db2:5433` meant). Start-up calls it first, so a bad URL is one line and exit 1.
pub fn parse(url: &str) -> Result<Config> {
    let parts = Parts::split(url)
        .filter(|parts| matches!(parts.scheme, "postgres" | "postgresql"))
        .ok_or_else(|| malformed(url, "it does not start with postgres:// or postgresql://"))?;
    let config = Config::from_str(url).map_err(|err| {
        let hint = if err.to_string().contains("target_session_attrs") {
            " (any, read-write or read-only)"
        } else {
            ""
        };
        malformed(url, &format!("{err}{hint}"))
    })?;
    let listed: Vec<&str> = match parts.hosts {
        "" => Vec::new(),
        hosts => hosts.split(',').collect(),
    };
    if listed.iter().any(|host| host.is_empty()) {
        return Err(malformed(url, "its host list has an empty entry"));
    }
    if listed.len() > 1 && !listed.iter().all(|host| names_port(host)) {
        return Err(malformed(
            url,
            "with several hosts, each names its port (host1:5432,host2:5432)",
        ));
    }
    if config.get_hosts().is_empty() {
        return Err(malformed(
            url,
            "it names no host (write host:port, or several as host1:port1,host2:port2)",
        ));
    }
    Ok(config)
}

/// Whether one entry of a host list (`db1:5432`, `[::1]:5432`) names its port.
fn names_port(host: &str) -> bool {
    match host.strip_prefix('[') {
        Some(bracketed) => bracketed
            .split_once(']')
            .is_some_and(|(_, rest)| rest.starts_with(':')),
        None => host.contains(':'),
    }
}

fn malformed(url: &str, why: &str) -> Error {
    Error::NoDatabase(format!(
        "the database URL {} is malformed: {why}",
        redact(url)
    ))
}

/// A URL cut into its parts, each as written (percent-encoding kept):
/// `scheme://[userinfo@]hosts[/database][?query]`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Parts<'a> {
    scheme: &'a str,
    userinfo: Option<&'a str>,
    /// One host, several separated by commas, or none (a Unix socket named in the query).
    hosts: &'a str,
    /// The path less its `/`; `None` when the URL has no path at all.
    database: Option<&'a str>,
    query: Option<&'a str>,
}

impl<'a> Parts<'a> {
    fn split(url: &'a str) -> Option<Self> {
        let (scheme, rest) = url.split_once("://")?;
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, rest) = rest.split_at(authority_end);
        // A user name or password holding `@` must be percent-encoded; the last `@` ends them.
        let (userinfo, hosts) = match authority.rsplit_once('@') {
            Some((userinfo, hosts)) => (Some(userinfo), hosts),
            None => (None, authority),
        };
        let (path, query) = match rest.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (rest, None),
        };
        Some(Self {
            scheme,
            userinfo,
            hosts,
            database: path.strip_prefix('/'),
            query,
        })
    }

    fn join(&self) -> String {
        let mut url = format!("{}://", self.scheme);
        if let Some(userinfo) = self.userinfo {
            url.push_str(userinfo);
            url.push('@');
        }
        url.push_str(self.hosts);
        if let Some(database) = self.database {
            url.push('/');
            url.push_str(database);
        }
        if let Some(query) = self.query {
            url.push('?');
            url.push_str(query);
        }
        url
    }

    /// The query's pairs, decoded the way HTML forms are (a `+` is a space: URLs written by
    /// hand put `-c+search_path%3Dx` in `options`).
    fn pairs(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(self.query.unwrap_or_default().as_bytes())
            .map(|(key, value)| (key.into_owned(), value.into_owned()))
            .collect()
    }
}

/// The URL's parts, or the error saying it is no URL.
fn split(url: &str) -> Result<Parts<'_>> {
    Parts::split(url).ok_or_else(|| malformed(url, "it is not a URL (scheme://host/database)"))
}

/// The query written back from pairs, percent-encoded by hand: form encoding writes a space as
/// `+`, which libpq and tokio-postgres read as a plus sign.
fn query_of(pairs: &[(String, String)]) -> String {
    let query: Vec<String> = pairs
        .iter()
        .map(|(key, value)| format!("{}={}", encode(key), encode(value)))
        .collect();
    query.join("&")
}

/// The same server (or servers), another database.
pub fn with_database(url: &str, database: &str) -> Result<String> {
    let mut parts = split(url)?;
    parts.database = Some(database);
    // A `dbname` parameter would win over the path.
    let query;
    if parts.pairs().iter().any(|(key, _)| key == "dbname") {
        let kept: Vec<_> = parts
            .pairs()
            .into_iter()
            .filter(|(key, _)| key != "dbname")
            .collect();
        query = query_of(&kept);
        parts.query = (!kept.is_empty()).then_some(query.as_str());
    }
    Ok(parts.join())
}

/// The database a URL names (its path, or its `dbname` parameter).
pub fn database_name(url: &str) -> Result<String> {
    let config = Config::from_str(url).map_err(|err| malformed(url, &err.to_string()))?;
    match config.get_dbname() {
        Some(name) if !name.is_empty() => Ok(name.to_owned()),
        _ => Err(Error::NoDatabase(format!(
            "the database URL {} names no database",
            redact(url)
        ))),
    }
}

/// The schema taskpulse keeps its tables in when a URL names none.
pub const DEFAULT_SCHEMA: &str = "taskpulse";

/// The URL with its connections' `search_path` set to `schema` (PostgreSQL's `options`
/// parameter, `-c search_path=<schema>`; other options are kept): every table, type and
/// function of taskpulse lives in that schema, and every connection made from the URL finds
/// them there, the engine's, the migrations' and anyone else's alike.
pub fn in_schema(url: &str, schema: &str) -> Result<String> {
    check_schema(schema)?;
    let mut parts = split(url)?;
    let mut options = Vec::new();
    let mut others = Vec::new();
    for (key, value) in parts.pairs() {
        if key == "options" {
            options.extend(without_search_path(&value));
        } else {
            others.push((key, value));
        }
    }
    options.push(format!("-c search_path={schema}"));
    others.push(("options".to_owned(), options.join(" ")));
    let query = query_of(&others);
    parts.query = Some(&query);
    Ok(parts.join())
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
    let found = split(url)?
        .pairs()
        .into_iter()
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

/// The URL with any password (in its user part or a `password` parameter) replaced, for
/// messages and logs.
pub fn redact(url: &str) -> String {
    let Some(mut parts) = Parts::split(url) else {
        return "<unparsable URL>".to_owned();
    };
    let userinfo;
    if let Some((user, _password)) = parts.userinfo.and_then(|info| info.split_once(':')) {
        userinfo = format!("{user}:***");
        parts.userinfo = Some(&userinfo);
    }
    let query;
    if let Some(raw) = parts.query {
        query = raw
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some(("password", _)) => "password=***",
                _ => pair,
            })
            .collect::<Vec<_>>()
            .join("&");
        parts.query = Some(&query);
    }
    parts.join()
}

#[cfg(test)]
mod tests;
