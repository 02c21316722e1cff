//! nbhoist: hoist the reusable code out of Jupyter notebooks into a Python package.
//!
//! The pipeline reads first, writes last, and is pure in between:
//!
//! ```text
//! paths ─batch─▶ Notebook ─analyse─▶ Analysis ─decide─▶ Decisions ─plan─▶ NotebookPlan ─extract─▶ changes
//!                (lossless)  (cells, bindings,   (every move/stay   (text, cell      │        ├─▶ diff   (--diff)
//!                             reads, setup)       rule, and why)     edits)          │        ├─▶ report (text, JSON, --check)
//!                                                                                    └────────└─▶ apply  (atomic writes)
//! ```
//!
//! [`batch`] finds notebooks and runs one job each in parallel; [`notebook`] reads them
//! without losing a byte; [`magics`] and [`python`] make sense of code cells; [`analysis`]
//! records facts; [`decide`] owns every rule about what moves and what stays; [`plan`] and
//! [`emit`] turn decisions into module text and cell edits; [`workspace`] is what exists on
//! disk before planning; [`extract`] turns plans into [`change`]s; [`scan`], [`report`] and
//! [`diff`] describe them; [`apply`] is the only stage that writes. [`commands`] ties them to
//! the command line.
//!
//! The public surface is small: the command line ([`cli`], [`run`]) and the lossless notebook
//! model ([`Notebook`] and its edits).

#![warn(missing_docs)]

mod analysis;
mod apply;
mod batch;
mod change;
pub mod cli;
mod commands;
mod config;
mod decide;
mod diff;
mod duplicates;
mod emit;
mod error;
mod extract;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod init;
mod magics;
mod notebook;
mod ownership;
mod plan;
mod position;
mod python;
mod report;
mod run_graph;
mod scan;
mod settings;
mod shared;
mod terminal;
mod workspace;

pub use commands::ExitStatus;
pub use notebook::{
    Cell, CellEdit, CellKind, CellProblem, Notebook, ReadError, SourceShape, Style,
};
pub use position::{CellIndex, CellNumber, LineColumn};

/// Runs the command the user typed, printing its reports; returns how it ended.
pub fn run(cli: cli::Cli) -> ExitStatus {
    commands::run(cli.command)
}
