//! The `taskpulse` binary: parses the command line and runs the library's command.

mod allocator;

use std::process::ExitCode;

fn main() -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .on_thread_park(allocator::collect_on_park)
        .build();
    match runtime {
        Ok(runtime) => runtime.block_on(run()),
        Err(err) => {
            eprintln!("taskpulse: error: cannot start the runtime: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> ExitCode {
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
