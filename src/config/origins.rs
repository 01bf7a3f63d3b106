//! `--allowed-origins`: the browser origins WebSocket upgrades are accepted from, checked once
//! at start-up and kept as browsers write them in `Origin`.

/// The `--allowed-origins` entries as browsers write them in `Origin` (scheme and host in
/// lower case, no default port), blanks dropped; an error names the first entry that is
/// neither `*` nor an http(s) origin.
pub fn validate_origins(values: &[String]) -> anyhow::Result<Vec<String>> {
    values
        .iter()
        .map(|value| value.trim())
        .filter(|value| !value.is_empty())
        .map(|value| {
            if value == "*" {
                return Ok(value.to_owned());
            }
            parse_origin(value).ok_or_else(|| {
                anyhow::anyhow!(
                    "--allowed-origins: `{value}` is not an origin; write `*` or \
                     scheme://host[:port] with http or https and no path, such as \
                     https://app.example.com"
                )
            })
        })
        .collect()
}

/// An origin: http or https, a host, maybe a port, and nothing else (a browser's `Origin`
/// never has a path, not even `/`, so a configured one would never match).
fn parse_origin(value: &str) -> Option<String> {
    let url = url::Url::parse(value).ok()?;
    let plain = matches!(url.scheme(), "http" | "https")
        && url.host().is_some()
        && !value.contains('*')
        && url.username().is_empty()
        && url.password().is_none()
        && url.path() == "/"
        && !value.ends_with('/')
        && url.query().is_none()
        && url.fragment().is_none();
    plain.then(|| url.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origins(values: &[&str]) -> anyhow::Result<Vec<String>> {
        validate_origins(&values.iter().map(|v| (*v).to_owned()).collect::<Vec<_>>())
    }

    #[test]
    fn origins_are_kept_as_browsers_send_them() -> anyhow::Result<()> {
        assert_eq!(
            origins(&["https://App.Example.com", " http://localhost:3000", "*", ""])?,
            ["https://app.example.com", "http://localhost:3000", "*"]
        );
        assert_eq!(origins(&["https://a.example:443"])?, ["https://a.example"]);
        Ok(())
    }

    #[test]
    fn anything_but_an_http_origin_is_refused() {
        for bad in [
            "not a url",
            "app.example.com",
            "ftp://app.example.com",
            "https://app.example.com/",
            "https://app.example.com/path",
            "https://app.example.com?q=1",
            "https://user@app.example.com",
            "https://*.example.com",
        ] {
            assert!(origins(&[bad]).is_err(), "{bad} was accepted");
        }
    }
}
