//! Command-line arguments: what the user typed, validated by clap and nothing more.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::terminal::ColorChoice;

/// Hoist the reusable code out of Jupyter notebooks into a Python package.
#[derive(Debug, Parser)]
#[command(name = "nbhoist", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Report, for every top-level function and class, whether it can be hoisted and why not.
    Scan(ScanArgs),
    /// Move every hoistable function and class into a package, and rewrite the notebook to
    /// import them.
    Extract(ExtractArgs),
}

/// Which notebooks, and how to go through them.
#[derive(Debug, clap::Args)]
pub struct Inputs {
    /// Notebooks, or folders to search for notebooks (`.gitignore` is respected).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Leave out files and folders matching this glob (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Number of threads [default: all cores].
    #[arg(long, short, value_name = "N")]
    pub jobs: Option<usize>,
}

/// Arguments of `nbhoist scan`.
#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// The notebooks.
    #[command(flatten)]
    pub inputs: Inputs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// When to colour the output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// Arguments of `nbhoist extract`.
#[derive(Debug, clap::Args)]
pub struct ExtractArgs {
    /// The notebooks.
    #[command(flatten)]
    pub inputs: Inputs,
    /// The package to hoist into (a Python identifier).
    #[arg(long, short, value_name = "NAME")]
    pub package: String,
    /// The package directory [default: NAME/ in the folder that holds all the notebooks].
    #[arg(long, value_name = "DIR")]
    pub package_dir: Option<PathBuf>,
    /// Do not add `%load_ext autoreload` and `%autoreload 2` to the import cell.
    #[arg(long)]
    pub no_autoreload: bool,
    /// Replace modules that already exist.
    #[arg(long)]
    pub force: bool,
    /// Write nothing; show what would change as unified diffs.
    #[arg(long)]
    pub diff: bool,
    /// Write nothing; exit with 1 when something would change (for CI and pre-commit).
    #[arg(long)]
    pub check: bool,
    /// Fail at once, instead of waiting, when another nbhoist run is writing the same package.
    #[arg(long)]
    pub no_wait: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// When to colour the output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// How reports are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned text for people.
    Text,
    /// One JSON document for programs.
    Json,
}
