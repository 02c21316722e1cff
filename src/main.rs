//! The `nbhoist` binary: parse arguments, run the library, map the outcome to an exit code.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use nbhoist::apply::apply;
use nbhoist::cli::{Cli, Command, ExtractArgs, Format, ScanArgs};
use nbhoist::extract::{ExtractRequest, plan_extract};
use nbhoist::report;
use nbhoist::scan::{Status, scan_paths};

/// Exit code when some input could not be handled.
const EXIT_ERROR: u8 = 2;

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Scan(args) => scan(args),
        Command::Extract(args) => extract(args),
    }
}

fn scan(args: ScanArgs) -> ExitCode {
    let reports = scan_paths(&args.paths);
    print(&match args.format {
        Format::Text => report::scan_text(&reports),
        Format::Json => report::scan_json(&reports),
    });
    if reports.iter().any(|r| r.status == Status::Error) {
        ExitCode::from(EXIT_ERROR)
    } else {
        ExitCode::SUCCESS
    }
}

fn extract(args: ExtractArgs) -> ExitCode {
    let request = ExtractRequest {
        paths: args.paths,
        package: args.package,
        package_dir: args.package_dir,
        autoreload: !args.no_autoreload,
        force: args.force,
    };
    let plan = match plan_extract(&request) {
        Ok(plan) => plan,
        Err(error) => {
            eprintln!("nbhoist: {error}");
            return ExitCode::from(EXIT_ERROR);
        }
    };
    print(&report::extract_text(&plan));
    if let Err(error) = apply(&plan.changes) {
        eprintln!("nbhoist: {error}; no file was changed");
        return ExitCode::from(EXIT_ERROR);
    }
    print(&report::written_line(&plan.changes));
    if plan.has_errors() {
        ExitCode::from(EXIT_ERROR)
    } else {
        ExitCode::SUCCESS
    }
}

fn print(text: &str) {
    // A closed pipe (`nbhoist scan ... | head`) is not an error worth reporting.
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}
