//! The `nbhoist` binary: parse arguments, run the library, map the outcome to an exit code.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use nbhoist::apply::apply;
use nbhoist::batch::{Found, common_root, find_notebooks};
use nbhoist::cli::{Cli, Command, ExtractArgs, Format, Inputs, ScanArgs};
use nbhoist::diff::{ColorChoice, no_color_requested, use_color};
use nbhoist::extract::{ExtractRequest, plan_extract};
use nbhoist::report;
use nbhoist::scan::{Status, scan_paths};

/// Exit code when `--check` finds something to change.
const EXIT_CHANGES: u8 = 1;
/// Exit code when some input could not be handled.
const EXIT_ERROR: u8 = 2;

fn main() -> ExitCode {
    let outcome = match Cli::parse().command {
        Command::Scan(args) => Ok(scan(args)),
        Command::Extract(args) => extract(args),
    };
    outcome.unwrap_or_else(|error| {
        eprintln!("nbhoist: {error:#}");
        ExitCode::from(EXIT_ERROR)
    })
}

/// Finds the notebooks, reporting paths that cannot be walked on stderr.
fn notebooks(inputs: &Inputs) -> Found {
    let found = find_notebooks(&inputs.paths, &inputs.exclude);
    for error in &found.errors {
        eprintln!("nbhoist: {error}");
    }
    found
}

fn scan(args: ScanArgs) -> ExitCode {
    let found = notebooks(&args.inputs);
    let json = args.format == Format::Json;
    let reports = scan_paths(&found.notebooks, args.inputs.jobs, !json);
    match args.format {
        Format::Text => print(&report::scan_text(&reports, color(args.color))),
        Format::Json => {
            print(&report::scan_json(&reports));
            eprint!("{}", report::Totals::of(&reports).line() + "\n");
        }
    }
    let failed = reports.iter().any(|r| r.status == Status::Error);
    if failed || !found.errors.is_empty() {
        ExitCode::from(EXIT_ERROR)
    } else {
        ExitCode::SUCCESS
    }
}

fn extract(args: ExtractArgs) -> anyhow::Result<ExitCode> {
    let found = notebooks(&args.inputs);
    let json = args.format == Format::Json;
    let dry_run = args.diff || args.check;
    let request = ExtractRequest {
        root: common_root(&args.inputs.paths),
        notebooks: found.notebooks,
        package: args.package,
        package_dir: args.package_dir,
        autoreload: !args.no_autoreload,
        force: args.force,
        diffs: args.diff || json,
        dry_run,
        jobs: args.inputs.jobs,
        progress: !json,
    };
    let plan = plan_extract(&request)?;
    let color = color(args.color);
    if json {
        print(&report::extract_json(&plan));
    } else {
        print(&report::extract_text(&plan, color));
        if args.diff {
            print(&report::extract_diffs(&plan, color));
        }
    }
    if !dry_run {
        apply(&plan.changes).context("no file was changed")?;
        if !json {
            print(&report::written_line(&plan.changes));
        }
    }
    let totals = report::extract_totals(&plan, dry_run);
    if json {
        eprint!("{totals}")
    } else {
        print(&totals)
    }

    Ok(if plan.has_errors() || !found.errors.is_empty() {
        ExitCode::from(EXIT_ERROR)
    } else if args.check && !plan.changes.is_empty() {
        ExitCode::from(EXIT_CHANGES)
    } else {
        ExitCode::SUCCESS
    })
}

/// Whether to colour what goes to stdout.
fn color(choice: ColorChoice) -> bool {
    use_color(
        choice,
        std::io::stdout().is_terminal(),
        no_color_requested(std::env::var_os("NO_COLOR").as_deref()),
    )
}

fn print(text: &str) {
    // A closed pipe (`nbhoist scan ... | head`) is not an error worth reporting.
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}
