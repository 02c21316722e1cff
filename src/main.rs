//! The `nbhoist` binary: parse arguments, run the library, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;
use nbhoist::cli::Cli;

// Many small, short-lived allocations: mimalloc is faster at them than the system allocator
// (docs/benchmark.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    nbhoist::run(Cli::parse()).into()
}
