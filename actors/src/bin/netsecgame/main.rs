//! `netsecgame`: the game server and its tools.
//!
//! `netsecgame serve` (also the default when no command is given, so upstream command lines
//! work unchanged) runs a game; the other commands check files, run tournaments and
//! benchmarks. Errors are printed once, with their causes, and the exit code is 1.

mod analyze;
mod cli;
mod commands;
mod logging;

use clap::Parser;
use cli::{Cli, Command, ScenarioCommand};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => commands::serve(cli.serve),
        Some(Command::Serve(args)) => commands::serve(args),
        Some(Command::Validate { task_config }) => commands::validate(&task_config),
        Some(Command::Tournament(args)) => commands::tournament(args),
        Some(Command::Bench(args)) => commands::bench(args),
        Some(Command::Scenario { command: ScenarioCommand::Dump { name_or_path, no_firewall } }) => {
            commands::scenario_dump(&name_or_path, no_firewall)
        }
        Some(Command::Scenario { command: ScenarioCommand::Generate(args) }) => commands::scenario_generate(args),
        Some(Command::Health { addr, timeout }) => commands::health(&addr, timeout),
        Some(Command::Play(args)) => commands::play(args),
        Some(Command::Analyze(args)) => analyze::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
