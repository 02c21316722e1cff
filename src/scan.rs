//! `nbhoist scan`: read and analyse notebooks, and describe what could be hoisted.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::analysis::{Analysis, DefinitionKind, Verdict, analyse};
use crate::batch;
use crate::error::{Error, ErrorKind};
use crate::notebook::Notebook;
use crate::plan::module_name;
use crate::position::CellNumber;
use crate::writefile::{WriteFileVerdict, analyse_writefiles};

/// Reads a notebook from disk.
pub fn read_notebook(path: &Path) -> Result<Notebook, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::new(path, ErrorKind::Io(source)))?;
    Notebook::parse_bytes(&bytes).map_err(|source| Error::new(path, source))
}

/// The scan of one notebook, as reported to the user (`--format json` serialises it as is).
#[derive(Debug, Serialize)]
pub struct NotebookReport {
    /// The path as given.
    pub path: String,
    /// Whether the notebook was analysed.
    pub status: Status,
    /// Why it was not, when it was not.
    pub message: Option<String>,
    /// Every top-level function and class.
    pub definitions: Vec<DefinitionReport>,
    /// Every syntax error.
    pub syntax_errors: Vec<SyntaxErrorReport>,
    /// Every `%%writefile` cell.
    pub writefiles: Vec<WriteFileReport>,
}

/// A `%%writefile` cell in a report.
#[derive(Debug, Serialize)]
pub struct WriteFileReport {
    /// 1-based cell number.
    pub cell: CellNumber,
    /// The target path as written.
    pub target: String,
    /// `-a` / `--append` was given.
    pub append: bool,
    /// `move` or `stay`.
    pub verdict: VerdictName,
    /// Why it stays.
    pub reason: Option<String>,
    /// The module it writes, dotted, inside the package.
    pub module: Option<String>,
}

/// Whether a notebook could be analysed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Analysed.
    Ok,
    /// Could not be read: a failure.
    Error,
    /// Out of scope (not a Python notebook): not a failure.
    Skipped,
}

/// One definition in a report.
#[derive(Debug, Serialize)]
pub struct DefinitionReport {
    /// Its name.
    pub name: String,
    /// Function or class.
    pub kind: DefinitionKind,
    /// 1-based cell number.
    pub cell: CellNumber,
    /// 1-based line in the cell where it starts (its first decorator).
    pub line: usize,
    /// `move` or `stay`.
    pub verdict: VerdictName,
    /// Why it stays.
    pub reason: Option<String>,
    /// What travels with it: imports, constants and other definitions, by name.
    pub needs: Vec<String>,
}

/// A verdict's name in reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VerdictName {
    /// Can be hoisted.
    Move,
    /// Stays in the notebook.
    Stay,
}

/// A syntax error in a report.
#[derive(Debug, Serialize)]
pub struct SyntaxErrorReport {
    /// 1-based cell number.
    pub cell: CellNumber,
    /// 1-based line in the cell.
    pub line: usize,
    /// 1-based column in the line.
    pub column: usize,
    /// What the parser said.
    pub message: String,
}

/// Reads and analyses one notebook.
pub fn scan_file(path: &Path) -> Result<NotebookReport, Error> {
    let notebook = read_notebook(path)?;
    let analysis = analyse(&notebook);
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    let writes = analyse_writefiles(&notebook, &analysis, &module_name(stem));
    Ok(report(path, &analysis, &writes.verdicts))
}

/// The report of a notebook that could not be analysed.
pub fn error_report(path: &Path, error: &Error) -> NotebookReport {
    NotebookReport {
        path: display_path(path),
        status: if error.is_skip() {
            Status::Skipped
        } else {
            Status::Error
        },
        message: Some(error.kind.to_string()),
        definitions: Vec::new(),
        syntax_errors: Vec::new(),
        writefiles: Vec::new(),
    }
}

/// Scans every notebook in parallel (`jobs` threads, all cores when `None`); reports come in
/// the order of `paths`.
pub fn scan_paths(paths: &[PathBuf], jobs: Option<usize>, progress: bool) -> Vec<NotebookReport> {
    batch::run(paths, jobs, progress, |_, path| scan_file(path))
        .into_iter()
        .zip(paths)
        .map(|(result, path)| result.unwrap_or_else(|error| error_report(path, &error)))
        .collect()
}

/// Describes an analysis and the verdicts on its `%%writefile` cells.
pub fn report(path: &Path, analysis: &Analysis, writefiles: &[WriteFileVerdict]) -> NotebookReport {
    let definitions = analysis
        .definitions
        .iter()
        .map(|definition| {
            let (verdict, reason) = match &definition.verdict {
                Verdict::Move => (VerdictName::Move, None),
                Verdict::Stay(reason) => (VerdictName::Stay, Some(reason.to_string())),
            };
            DefinitionReport {
                name: definition.name.clone(),
                kind: definition.kind,
                cell: definition.cell.number(),
                line: definition.position.line,
                verdict,
                reason,
                needs: definition.needs.names(),
            }
        })
        .collect();
    let syntax_errors = analysis
        .syntax_errors
        .iter()
        .map(|error| SyntaxErrorReport {
            cell: error.cell.number(),
            line: error.error.position.line,
            column: error.error.position.column,
            message: error.error.message.clone(),
        })
        .collect();
    let writefiles = writefiles
        .iter()
        .map(|write| WriteFileReport {
            cell: write.cell.number(),
            target: write.magic.target.clone(),
            append: write.magic.append,
            verdict: if write.stay.is_none() {
                VerdictName::Move
            } else {
                VerdictName::Stay
            },
            reason: write.stay.as_ref().map(ToString::to_string),
            module: write.module.clone(),
        })
        .collect();
    NotebookReport {
        path: display_path(path),
        status: Status::Ok,
        message: None,
        definitions,
        syntax_errors,
        writefiles,
    }
}

fn display_path(path: &Path) -> String {
    path.display().to_string()
}
