//! The `nbhoist` binary: parse arguments, run the library, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;
use nbhoist::cli::Cli;

fn main() -> ExitCode {
    nbhoist::run(Cli::parse()).into()
}
