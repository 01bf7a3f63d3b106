//! The `taskpulse` server and its tools as a library. The binary (`src/main.rs`) only parses
//! the command line, installs logging and calls [`run`]; the integration tests build the very
//! same server inside their own process with [`serve::Server`], so that they can set what no
//! flag sets and need no child process.

mod check;
pub mod config;
mod config_file;
mod database;
mod limits;
pub mod logging;
mod seed;
pub mod serve;

pub use config_file::parse;

use crate::config::Command;

/// Runs one subcommand to its end.
pub async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(args) => serve::run(args.with_valid_origins()?).await,
        Command::Migrate(args) => database::migrate_only(&args).await,
        Command::Seed(args) => seed::run(args).await,
        Command::Check(args) => check::run(args).await,
    }
}
