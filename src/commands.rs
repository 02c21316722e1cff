//! The two commands, from parsed arguments to printed reports and an exit status: read what
//! exists, run the pipeline, render it, and (for a real `extract`) apply it.

use std::io::{IsTerminal, Write as _};

use anyhow::Context;

use crate::apply::{apply, lock_package, remove_stale_temporaries_of};
use crate::batch::{Found, find_notebooks};
use crate::change::{Change, Preview, Write};
use crate::cli::{Command, ExtractArgs, Format, ScanArgs};
use crate::decide::check_package_name;
use crate::extract::{self, ExtractPlan, ExtractRequest};
use crate::report;
use crate::scan::{Status, scan_paths};
use crate::settings::Settings;
use crate::terminal::{ColorChoice, no_color_requested, use_color};

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// Everything went well (exit code 0).
    Success,
    /// `--check` found something to change (exit code 1).
    Changes,
    /// Some input could not be handled (exit code 2).
    Failure,
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(status: ExitStatus) -> std::process::ExitCode {
        std::process::ExitCode::from(match status {
            ExitStatus::Success => 0,
            ExitStatus::Changes => 1,
            ExitStatus::Failure => 2,
        })
    }
}

/// What `extract` does with its plan, chosen once from the command line (as ruff's
/// `FormatMode::from_cli` does).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Write the changes.
    Write,
    /// Write nothing; exit with 1 when something would change. `diffs`: print them too.
    Check {
        /// `--diff` was given too.
        diffs: bool,
    },
    /// Write nothing; print the changes as unified diffs.
    Diff,
}

impl Mode {
    /// The mode `extract`'s flags ask for.
    pub(crate) fn from_cli(args: &ExtractArgs) -> Mode {
        match (args.check, args.diff) {
            (true, diffs) => Mode::Check { diffs },
            (false, true) => Mode::Diff,
            (false, false) => Mode::Write,
        }
    }
}

/// Runs one command; errors that end the whole run are reported on stderr.
pub(crate) fn run(command: Command) -> ExitStatus {
    let outcome = match command {
        Command::Scan(args) => scan(args),
        Command::Extract(args) => extract(args),
        Command::Init(args) => crate::init::run(&args),
    };
    outcome.unwrap_or_else(|error| {
        eprintln!("nbhoist: {error:#}");
        ExitStatus::Failure
    })
}

/// Finds the notebooks, reporting paths that cannot be walked on stderr, and saying so when
/// there are none.
fn notebooks(settings: &Settings) -> Found {
    let found = find_notebooks(&settings.walk, &settings.cwd);
    for error in &found.errors {
        eprintln!("nbhoist: {error}");
    }
    if found.notebooks.is_empty() && found.errors.is_empty() {
        let paths: Vec<String> = settings
            .walk
            .paths
            .iter()
            .map(|path| path.display().to_string())
            .collect();
        eprintln!("nbhoist: no notebooks found in {}", paths.join(", "));
    }
    found
}

fn scan(args: ScanArgs) -> anyhow::Result<ExitStatus> {
    let settings = Settings::resolve(&args.inputs)?;
    let found = notebooks(&settings);
    let json = args.format == Format::Json;
    let scanned = scan_paths(&found.notebooks, args.inputs.jobs, !json, args.duplicates);
    let reports = scanned.reports;
    // One group per run: the run's notebooks share one project's root, and so one package.
    let duplicates = args
        .duplicates
        .then(|| crate::duplicates::find(scanned.samples));
    match args.format {
        Format::Text => {
            let color = color(args.color);
            print(&report::scan_text(&reports, color));
            if let Some(duplicates) = &duplicates {
                print(&report::duplicates_text(duplicates, color));
            }
        }
        Format::Json => {
            print(&report::scan_json(&reports, duplicates.as_ref()));
            eprint!("{}", report::Totals::of(&reports).line() + "\n");
            if let Some(duplicates) = &duplicates {
                eprint!("{}", report::duplicates_line(duplicates) + "\n");
            }
        }
    }
    let failed = reports.iter().any(|r| r.status == Status::Error);
    Ok(if failed || !found.errors.is_empty() {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

fn extract(args: ExtractArgs) -> anyhow::Result<ExitStatus> {
    let settings = Settings::resolve(&args.inputs)?;
    let package = settings.package(&args)?;
    // Once for the run, not once per notebook.
    check_package_name(&package.name).with_context(|| match (&args.package, &settings.config) {
        (None, Some(config)) => format!("{}: `package`", config.path.display()),
        _ => "--package".to_owned(),
    })?;
    let found = notebooks(&settings);
    let mode = Mode::from_cli(&args);
    if found.notebooks.is_empty() && matches!(mode, Mode::Check { .. }) {
        // A check that looked at nothing must not pass.
        return Ok(ExitStatus::Failure);
    }
    let json = args.format == Format::Json;
    let in_root = found
        .notebooks
        .iter()
        .map(|path| settings.in_root(path))
        .collect();
    let request = ExtractRequest {
        in_root,
        root: settings.display(&settings.root),
        installable: crate::config::declares_project(&settings.root),
        notebooks: found.notebooks,
        package: package.name,
        package_configured: package.configured,
        package_dir: settings.display(&package.dir),
        autoreload: package.autoreload,
        force: args.force,
        diffs: json,
        jobs: args.inputs.jobs,
        progress: !json,
    };
    let color = color(args.color);
    let failed_to_find = !found.errors.is_empty();
    let (changes, errors, unresolved) = match mode {
        Mode::Write => {
            // Held from reading the package to the last write: runs on one package take turns.
            let _lock = lock_package(&request.package_dir, !args.no_wait)?;
            remove_stale_temporaries_of(&request.notebooks, &request.package_dir);
            let plan = extract::run::<Write>(&request)?;
            render(&plan, json, false, color);
            let applied = apply(&plan.changes).context("no file was changed")?;
            if !json {
                print(&report::written_line(&applied.written));
            }
            for skipped in &applied.skipped {
                eprintln!("nbhoist: {skipped}");
            }
            let (changes, errors, unresolved) = finish(&plan, json, false);
            (changes, errors || !applied.skipped.is_empty(), unresolved)
        }
        Mode::Check { diffs } => {
            let plan = extract::run::<Preview>(&request)?;
            render(&plan, json, diffs, color);
            finish(&plan, json, true)
        }
        Mode::Diff => {
            let plan = extract::run::<Preview>(&request)?;
            render(&plan, json, true, color);
            finish(&plan, json, true)
        }
    };
    Ok(if errors || failed_to_find {
        ExitStatus::Failure
    } else if (matches!(mode, Mode::Check { .. }) && changes) || unresolved {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    })
}

/// Prints the plan: JSON, or the text report and, when asked, the diffs.
fn render<C: Change>(plan: &ExtractPlan<C>, json: bool, diffs: bool, color: bool) {
    if json {
        print(&report::extract_json(plan));
    } else {
        let errors = report::extract_errors(plan, color && std::io::stderr().is_terminal());
        let _ = std::io::stderr().lock().write_all(errors.as_bytes());
        print(&report::extract_text(plan, color));
        if diffs {
            print(&report::extract_diffs(plan, color));
        }
    }
}

/// Prints the totals; returns whether anything changes, whether a notebook failed, and
/// whether something is left for a person to resolve.
fn finish<C: Change>(plan: &ExtractPlan<C>, json: bool, dry_run: bool) -> (bool, bool, bool) {
    let totals = report::extract_totals(plan, dry_run);
    if json {
        eprint!("{totals}");
    } else {
        print(&totals);
    }
    (
        !plan.changes.is_empty(),
        plan.has_errors(),
        plan.unresolved(),
    )
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
