//! The `taskpulse` binary: parses the command line and runs the library's command.

mod allocator;

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = match taskpulse::parse() {
        Ok(cli) => cli,
        Err(err) => {
            eprintln!("taskpulse: error: {err:#}");
            return ExitCode::FAILURE;
        }
    };
    taskpulse::logging::init(cli.log_format);
    match taskpulse::run(cli.command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // One line a person can act on; the causes are in it already.
            eprintln!("taskpulse: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
