//! The `taskpulse` binary: parses the command line and wires the crates together.

mod allocator;
mod check;
mod config;
mod config_file;
mod database;
mod limits;
mod loadgen;
mod logging;
mod seed;
mod serve;

use std::process::ExitCode;

use crate::config::Command;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = match config_file::parse() {
        Ok(cli) => cli,
        Err(err) => {
            eprintln!("taskpulse: error: {err:#}");
            return ExitCode::FAILURE;
        }
    };
    logging::init(cli.log_format);
    let outcome = match cli.command {
        Command::Serve(mut args) => match config::validate_origins(&args.allowed_origins) {
            Ok(origins) => {
                args.allowed_origins = origins;
                serve::run(*args).await
            }
            Err(err) => Err(err),
        },
        Command::Migrate(args) => database::migrate_only(&args).await,
        Command::Seed(args) => seed::run(args).await,
        Command::Check(args) => check::run(args).await,
        Command::Loadgen(args) => loadgen::run(args).await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // One line a person can act on; the causes are in it already.
            eprintln!("taskpulse: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
