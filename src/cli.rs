//! Command-line arguments: what the user typed, validated by clap and nothing more.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

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

/// Arguments of `nbhoist scan`.
#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// Notebooks to scan.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Arguments of `nbhoist extract`.
#[derive(Debug, clap::Args)]
pub struct ExtractArgs {
    /// Notebooks to extract from.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// The package to hoist into (a Python identifier).
    #[arg(long, short, value_name = "NAME")]
    pub package: String,
    /// The package directory [default: NAME/ next to the notebook].
    #[arg(long, value_name = "DIR")]
    pub package_dir: Option<PathBuf>,
    /// Do not add `%load_ext autoreload` and `%autoreload 2` to the import cell.
    #[arg(long)]
    pub no_autoreload: bool,
    /// Replace modules that already exist.
    #[arg(long)]
    pub force: bool,
}

/// How reports are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned text for people.
    Text,
    /// One JSON document for programs.
    Json,
}
