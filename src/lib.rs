//! nbhoist: hoist the reusable code out of Jupyter notebooks into a Python package.
//!
//! The pipeline is pure until its last step:
//!
//! ```text
//! path ─read─▶ Notebook ─analyse─▶ Analysis ─report─▶ NotebookReport ─render─▶ text | JSON
//! ```
//!
//! [`notebook`] reads notebooks without losing a byte, [`magics`] and [`python`] make sense of
//! code cells, [`analysis`] decides what can move and why the rest stays, [`scan`] and
//! [`report`] describe it.

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
