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
    /// Write a minimal `pyproject.toml` for the package, with its `[tool.nbhoist]` settings,
    /// so that `pip install -e .` makes the package importable from every notebook.
    Init(InitArgs),
}

/// Which configuration file to use.
#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    /// Use this configuration file (`pyproject.toml` or `nbhoist.toml`) instead of looking
    /// for one; its folder is the project's root.
    #[arg(long, value_name = "PATH", conflicts_with = "isolated")]
    pub config: Option<PathBuf>,
    /// Ignore every configuration file.
    #[arg(long)]
    pub isolated: bool,
}

/// Which notebooks, and how to go through them.
#[derive(Debug, clap::Args)]
pub struct Inputs {
    /// Notebooks, or folders to search for notebooks (`.gitignore` is respected)
    /// [default: the current folder].
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Leave out files and folders matching this glob (repeatable); replaces the
    /// configuration's `exclude`.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Walk folders that `.gitignore` and `.ignore` files hide.
    #[arg(long)]
    pub no_ignore: bool,
    /// The configuration file.
    #[command(flatten)]
    pub config: ConfigArgs,
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
    /// Also list the functions and classes copied from notebook to notebook: exact copies
    /// and near-copies (the same name, other code).
    #[arg(long)]
    pub duplicates: bool,
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
    /// The package to hoist into (a Python identifier) [default: the configuration's
    /// `package`, else the import name of `[project] name` in the root's `pyproject.toml`].
    #[arg(long, short, value_name = "NAME")]
    pub package: Option<String>,
    /// The package directory itself, ending in NAME [default: NAME/ in the configuration's
    /// `package-dir`, else in the project's root].
    #[arg(long, value_name = "DIR")]
    pub package_dir: Option<PathBuf>,
    /// Add `%load_ext autoreload` to the import cell (the default, unless the configuration
    /// says `autoreload = false`).
    #[arg(long, overrides_with = "no_autoreload")]
    pub autoreload: bool,
    /// Do not add `%load_ext autoreload` and `%autoreload` to the import cell.
    #[arg(long, overrides_with = "autoreload")]
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

/// Arguments of `nbhoist init`.
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The package's import name [default: the import name of the current folder's name].
    #[arg(long, short, value_name = "NAME")]
    pub package: Option<String>,
    /// The folder that holds the package, relative to the current folder [default: the
    /// current folder].
    #[arg(long, value_name = "DIR")]
    pub package_dir: Option<PathBuf>,
}

/// How reports are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned text for people.
    Text,
    /// One JSON document for programs.
    Json,
}
