//! The database URL's reading and edits, several hosts included.

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

const TWO_HOSTS: &str =
    "postgres://tp:secret@db1:5433,db2:5434/taskpulse?target_session_attrs=read-write";

#[test]
fn several_hosts_are_read_as_the_driver_reads_them() -> Result<()> {
    use tokio_postgres::config::{Host, TargetSessionAttrs};
    let config = parse(TWO_HOSTS)?;
    assert_eq!(
        config.get_hosts(),
        [Host::Tcp("db1".to_owned()), Host::Tcp("db2".to_owned())]
    );
    assert_eq!(config.get_ports(), [5433, 5434]);
    assert_eq!(
        config.get_target_session_attrs(),
        TargetSessionAttrs::ReadWrite
    );
    assert_eq!(database_name(TWO_HOSTS)?, "taskpulse");
    Ok(())
}

#[test]
fn edits_keep_every_host() -> Result<()> {
    let moved = with_default_schema(&with_database(TWO_HOSTS, "other")?)?;
    assert_eq!(
        moved,
        "postgres://tp:secret@db1:5433,db2:5434/other\
         ?target_session_attrs=read-write&options=-c%20search_path%3Dtaskpulse"
    );
    assert_eq!(schema_of(&moved)?.as_deref(), Some(DEFAULT_SCHEMA));
    parse(&moved)?;
    assert_eq!(
        with_database("postgres://u@h:1/?dbname=a&sslmode=disable", "b")?,
        "postgres://u@h:1/b?sslmode=disable"
    );
    Ok(())
}

#[test]
fn redact_hides_the_password_of_several_hosts_and_in_the_query() {
    assert_eq!(
        redact(TWO_HOSTS),
        "postgres://tp:***@db1:5433,db2:5434/taskpulse?target_session_attrs=read-write"
    );
    assert_eq!(
        redact("postgres://u@h/db?password=secret&sslmode=disable"),
        "postgres://u@h/db?password=***&sslmode=disable"
    );
    assert_eq!(redact("no url"), "<unparsable URL>");
}

#[test]
fn one_host_without_a_port_and_a_socket_are_fine() -> Result<()> {
    assert_eq!(parse("postgres://u@db/taskpulse")?.get_ports(), [5432]);
    parse("postgresql:///x?user=postgres&host=%2Ftmp%2Fpg")?;
    parse("postgres://[::1]:5433,[::2]:5434/x")?;
    Ok(())
}

#[test]
fn bad_urls_are_refused_with_a_reason() {
    for (url, reason) in [
        (
            "postgres://db1:5433,db2:5434/x?target_session_attrs=primary",
            "target_session_attrs",
        ),
        ("postgres://db1,db2:5434/x", "each names its port"),
        ("postgres://db1:5433,db2/x", "each names its port"),
        ("postgres://,/x", "empty entry"),
        ("postgres://db1:5433,,db2:5434/x", "empty entry"),
        ("postgres:///x", "names no host"),
        ("postgres://u@/x", "names no host"),
        ("mysql://db:3306/x", "postgres://"),
        ("postgres://u:pw@db:5432/x?colour=blue", "colour"),
    ] {
        match parse(url) {
            Err(Error::NoDatabase(message)) => {
                assert!(message.contains(reason), "{url}: {message}");
                assert!(!message.contains("pw@"), "{message}");
            }
            other => panic!("{url}: {other:?}"),
        }
    }
}

#[test]
fn database_name_requires_a_path() {
    assert!(database_name("postgres://h:5432").is_err());
}
