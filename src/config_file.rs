//! `--config taskpulse.toml`: settings from a file, below flags and environment variables.
//! The file's values become the flags' defaults, so clap's own precedence does the rest: a flag
//! beats its `TASKPULSE_*` variable, which beats the file, which beats the built-in default.
//! Keys are the flags' long names (`db-pool-size = 8`, or `db_pool_size`); a key that names no
//! flag is an error, so a typo never goes unnoticed.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Arg, ArgMatches, Command, CommandFactory, FromArgMatches};

use crate::config::Cli;

/// The flag naming the file, and its environment variable.
const FLAG: &str = "--config";
const ENV: &str = "TASKPULSE_CONFIG";

/// The command line, with a config file's settings as defaults when one is named.
pub fn parse() -> anyhow::Result<Cli> {
    let args: Vec<OsString> = std::env::args_os().collect();
    let mut command = Cli::command();
    if let Some(path) = config_path(&args) {
        let settings = read(&path)?;
        command = with_defaults(command, &settings)
            .with_context(|| format!("in the config file {}", path.display()))?;
    }
    let matches: ArgMatches = command.get_matches_from(args);
    Ok(Cli::from_arg_matches(&matches)?)
}

/// `--config FILE` or `--config=FILE` on the command line, else `TASKPULSE_CONFIG`.
fn config_path(args: &[OsString]) -> Option<PathBuf> {
    let mut args = args.iter().skip(1);
    while let Some(arg) = args.next() {
        let arg = arg.to_string_lossy();
        if arg == FLAG {
            return args.next().map(PathBuf::from);
        }
        if let Some(path) = arg.strip_prefix("--config=") {
            return Some(PathBuf::from(path));
        }
    }
    std::env::var_os(ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The file's settings as (flag name, value as it would be typed) pairs.
fn read(path: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the config file {}", path.display()))?;
    parse_settings(&text).with_context(|| format!("in the config file {}", path.display()))
}

fn parse_settings(text: &str) -> anyhow::Result<Vec<(String, String)>> {
    let table: toml::Table = text.parse()?;
    table
        .into_iter()
        .map(|(key, value)| {
            let value = match value {
                toml::Value::String(s) => s,
                toml::Value::Integer(n) => n.to_string(),
                toml::Value::Float(n) => n.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                toml::Value::Array(items) => items
                    .into_iter()
                    .map(|item| match item {
                        toml::Value::String(s) => Ok(s),
                        toml::Value::Integer(n) => Ok(n.to_string()),
                        toml::Value::Float(n) => Ok(n.to_string()),
                        _ => bail!("`{key}`: a list holds strings or numbers"),
                    })
                    .collect::<anyhow::Result<Vec<_>>>()?
                    .join(","),
                _ => bail!("`{key}`: expected a string, number, boolean or list"),
            };
            Ok((key.replace('_', "-"), value))
        })
        .collect()
}

/// Sets each setting as the default of every flag with that long name, in the top command
/// and every subcommand (`database-url` belongs to several).
fn with_defaults(mut command: Command, settings: &[(String, String)]) -> anyhow::Result<Command> {
    for (key, _) in settings {
        if key == "config" || !names_a_flag(&command, key) {
            bail!("`{key}` is not a setting (see `taskpulse <command> --help` for the flags)");
        }
    }
    command = set_defaults(command, settings);
    Ok(command)
}

fn names_a_flag(command: &Command, key: &str) -> bool {
    command
        .get_arguments()
        .any(|arg| arg.get_long() == Some(key))
        || command.get_subcommands().any(|sub| names_a_flag(sub, key))
}

fn set_defaults(command: Command, settings: &[(String, String)]) -> Command {
    let subcommands: Vec<String> = command
        .get_subcommands()
        .map(|sub| sub.get_name().to_owned())
        .collect();
    let mut command = command.mut_args(|arg: Arg| {
        match settings
            .iter()
            .find(|(key, _)| arg.get_long() == Some(key.as_str()))
        {
            Some((_, value)) => arg.default_value(value.clone()),
            None => arg,
        }
    });
    for name in subcommands {
        command = command.mut_subcommand(name, |sub| set_defaults(sub, settings));
    }
    command
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_with(file: &str, args: &[&str]) -> anyhow::Result<Cli> {
        let settings = parse_settings(file)?;
        let command = with_defaults(Cli::command(), &settings)?;
        let matches = command.try_get_matches_from(args)?;
        Ok(Cli::from_arg_matches(&matches)?)
    }

    fn serve(cli: Cli) -> Box<crate::config::ServeArgs> {
        match cli.command {
            crate::config::Command::Serve(args) => args,
            other => panic!("not serve: {other:?}"),
        }
    }

    #[test]
    fn the_file_sets_what_flags_leave_out_and_flags_win() -> anyhow::Result<()> {
        let file = "listen = \"127.0.0.1:9000\"\ndb_pool_size = 7\nno-rate-limit = true\n\
                    allowed-origins = [\"https://a.example\", \"https://b.example\"]\n";
        let from_file = serve(parse_with(file, &["taskpulse", "serve"])?);
        let flag_wins = serve(parse_with(
            file,
            &["taskpulse", "serve", "--listen", "127.0.0.1:9001"],
        )?);

        assert_eq!(from_file.listen.to_string(), "127.0.0.1:9000");
        assert_eq!(from_file.database.db_pool_size, 7);
        assert!(from_file.no_rate_limit);
        assert_eq!(from_file.allowed_origins.len(), 2);
        assert_eq!(flag_wins.listen.to_string(), "127.0.0.1:9001");
        Ok(())
    }

    #[test]
    fn the_example_file_names_only_settings_and_parses() -> anyhow::Result<()> {
        let example = include_str!("../deploy/taskpulse.toml");

        let cli = serve(parse_with(example, &["taskpulse", "serve"])?);

        assert_eq!(cli.listen.to_string(), "127.0.0.1:8080");
        Ok(())
    }

    #[test]
    fn an_unknown_key_is_an_error() {
        let error = parse_with("lissten = \"127.0.0.1:9000\"", &["taskpulse", "serve"]);

        assert!(
            error
                .as_ref()
                .is_err_and(|e| e.to_string().contains("`lissten` is not a setting")),
            "{:?}",
            error.map(|_| ())
        );
    }

    #[test]
    fn a_bad_value_is_reported_like_a_bad_flag() {
        let error = parse_with("db-pool-size = \"many\"", &["taskpulse", "serve"]);

        assert!(error.is_err());
    }

    #[test]
    fn the_path_comes_from_the_flag_in_either_form() {
        let args = |list: &[&str]| list.iter().map(OsString::from).collect::<Vec<_>>();

        assert_eq!(
            config_path(&args(&["taskpulse", "serve", "--config", "a.toml"])),
            Some(PathBuf::from("a.toml"))
        );
        assert_eq!(
            config_path(&args(&["taskpulse", "--config=b.toml", "serve"])),
            Some(PathBuf::from("b.toml"))
        );
    }
}
