//! nbhoist: hoist the reusable code out of Jupyter notebooks into a Python package.
//!
//! The pipeline is pure until its last step:
//!
//! ```text
//! paths ─batch─▶ Notebook ─analyse─▶ Analysis ─plan─▶ NotebookPlan ─extract─▶ FileChange…
//!                (lossless)  (cells, scopes,    (what moves,     │            ├─▶ diff   (--diff)
//!                             verdicts)          where, edits)   │            ├─▶ report (text, JSON, --check)
//!                                                                └────────────└─▶ apply  (atomic writes)
//! ```
//!
//! [`batch`] finds notebooks and runs one job each in parallel; [`notebook`] reads them
//! without losing a byte; [`magics`] and [`python`] make sense of code cells; [`analysis`]
//! decides what can move and why the rest stays, and [`writefile`] does the same for
//! `%%writefile` cells; [`plan`] and [`emit`] decide and write the package module and the
//! rewritten cells; [`extract`] turns plans into file changes; [`scan`], [`report`] and
//! [`diff`] describe them; [`apply`] is the only stage that writes.

#![warn(missing_docs)]

pub mod analysis;
pub mod apply;
pub mod batch;
pub mod cli;
pub mod diff;
pub mod emit;
pub mod error;
pub mod extract;
pub mod magics;
pub mod notebook;
pub mod plan;
pub mod position;
pub mod python;
pub mod report;
pub mod scan;
pub mod writefile;
