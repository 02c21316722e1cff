//! `nbhoist scan`: read, analyse and decide, and describe the decisions.

use std::path::{Path, PathBuf};

use serde::Serialize;

use ruff_python_ast::Stmt;

use crate::analysis::{Analysis, DefinitionKind, statement};
use crate::decide::{Decisions, Verdict};
use crate::duplicates::{self, Sample};
use crate::error::{Error, ErrorKind};
use crate::notebook::Notebook;
use crate::plan::module_name;
use crate::position::CellNumber;
use crate::python::imports::bound_name;
use crate::run_graph::{Context, ModuleTarget, decide_batch};
use crate::shared;

/// Reads a notebook from disk: a regular file (or a symbolic link to one), which must not
/// change size while it is read.
pub(crate) fn read_notebook(path: &Path) -> Result<Notebook, Error> {
    let io = |source| Error::new(path, ErrorKind::Io(source));
    // Checked before opening: opening a FIFO would wait for a writer.
    let metadata = std::fs::metadata(path).map_err(io)?;
    if !metadata.is_file() {
        return Err(Error::new(path, ErrorKind::NotAFile));
    }
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut file, &mut bytes).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    check_size(path, metadata.len(), len, bytes.len())?;
    Notebook::parse_bytes(bytes).map_err(|source| Error::new(path, source))
}

/// Reads a notebook that `extract` will rewrite: as [`read_notebook`], and not a hard link,
/// which replacing the file would split in two (its other names keeping the old text).
pub(crate) fn read_notebook_to_rewrite(path: &Path) -> Result<Notebook, Error> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        let links = std::fs::metadata(path)
            .map_err(|source| Error::new(path, ErrorKind::Io(source)))?
            .nlink();
        if links > 1 {
            return Err(Error::new(path, ErrorKind::HardLink(links)));
        }
    }
    read_notebook(path)
}

/// Fails when the file's size before reading, after reading, and what was read disagree: it
/// was being written meanwhile.
fn check_size(path: &Path, before: u64, after: u64, read: usize) -> Result<(), Error> {
    if before == after && u64::try_from(read).is_ok_and(|read| read == after) {
        Ok(())
    } else {
        Err(Error::new(path, ErrorKind::ChangedWhileRead))
    }
}

/// The decisions about one notebook, as reported to the user (`--format json` serialises it
/// as is).
#[derive(Debug, Serialize)]
pub(crate) struct NotebookReport {
    /// The path as given.
    pub(crate) path: String,
    /// Whether the notebook was analysed.
    pub(crate) status: Status,
    /// Why it was not, when it was not.
    pub(crate) message: Option<String>,
    /// Every top-level function and class.
    pub(crate) definitions: Vec<DefinitionReport>,
    /// Every syntax error.
    pub(crate) syntax_errors: Vec<SyntaxErrorReport>,
    /// Every `%%writefile` cell.
    pub(crate) writefiles: Vec<WriteFileReport>,
    /// The notebook's imports that only moved code used, which go, whole or some names.
    pub(crate) dropped_imports: Vec<DroppedImportReport>,
    /// When no given path named it: the notebook that runs it with `%run`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) run_by: Option<RunByReport>,
}

/// The notebook that runs a notebook no given path named.
#[derive(Debug, Serialize)]
pub(crate) struct RunByReport {
    /// Its path.
    pub(crate) notebook: String,
    /// The cell of its `%run` line.
    pub(crate) cell: CellNumber,
}

/// A `%%writefile` cell in a report.
#[derive(Debug, Serialize)]
pub(crate) struct WriteFileReport {
    /// 1-based cell number.
    pub(crate) cell: CellNumber,
    /// The target path as written.
    pub(crate) target: String,
    /// `-a` / `--append` was given.
    pub(crate) append: bool,
    /// `move` or `stay`.
    pub(crate) verdict: VerdictName,
    /// Why it stays.
    pub(crate) reason: Option<String>,
    /// The module it writes, dotted, inside the package.
    pub(crate) module: Option<String>,
}

/// An import of the notebook that goes, whole or some of its names, in a report.
#[derive(Debug, Serialize)]
pub(crate) struct DroppedImportReport {
    /// 1-based cell number.
    pub(crate) cell: CellNumber,
    /// The statement on one line, without comments.
    pub(crate) import: String,
    /// The names that go (all the names it binds when it goes whole).
    pub(crate) names: Vec<String>,
    /// Why.
    pub(crate) reason: String,
    /// The kind of reason, for programs (`unused-import`, `unused-names`).
    pub(crate) code: &'static str,
}

/// Whether a notebook could be analysed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Status {
    /// Analysed.
    Ok,
    /// Could not be read: a failure.
    Error,
    /// Out of scope (not a Python notebook): not a failure.
    Skipped,
}

/// One definition in a report.
#[derive(Debug, Serialize)]
pub(crate) struct DefinitionReport {
    /// Its name.
    pub(crate) name: String,
    /// Function or class.
    pub(crate) kind: DefinitionKind,
    /// 1-based cell number.
    pub(crate) cell: CellNumber,
    /// 1-based line in the cell where it starts (its first decorator).
    pub(crate) line: usize,
    /// `move` or `stay`.
    pub(crate) verdict: VerdictName,
    /// Why it stays.
    pub(crate) reason: Option<String>,
    /// What to do about it, when there is something simple to say.
    pub(crate) hint: Option<String>,
    /// The kind of reason, for programs (`reads-variable`).
    pub(crate) code: Option<&'static str>,
    /// What travels with it: imports, constants and other definitions, by name.
    pub(crate) needs: Vec<String>,
    /// Names its (never evaluated) annotations mention that nothing defines, left as text.
    pub(crate) undefined_in_annotations: Vec<String>,
}

impl DefinitionReport {
    /// What the report says next to the verdict: why it stays, or for a move what it leaves
    /// as it is.
    pub(crate) fn remark(&self) -> String {
        if let Some(reason) = &self.reason {
            return reason.clone();
        }
        match self.undefined_in_annotations.as_slice() {
            [] => String::new(),
            [name] => {
                format!("its annotations name `{name}`, which nothing defines, left as written")
            }
            names => format!(
                "its annotations name {}, which nothing defines, left as written",
                names
                    .iter()
                    .map(|name| format!("`{name}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

/// A verdict's name in reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum VerdictName {
    /// Can be hoisted.
    Move,
    /// Stays in the notebook.
    Stay,
}

/// A syntax error in a report.
#[derive(Debug, Serialize)]
pub(crate) struct SyntaxErrorReport {
    /// 1-based cell number.
    pub(crate) cell: CellNumber,
    /// 1-based line in the cell.
    pub(crate) line: usize,
    /// 1-based column in the line.
    pub(crate) column: usize,
    /// What the parser said.
    pub(crate) message: String,
}

/// The module name `scan` gives a notebook: its file name made a module name.
fn scan_module(path: &Path) -> ModuleTarget {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    ModuleTarget {
        module: module_name(stem),
        ..ModuleTarget::default()
    }
}

/// The report of a notebook that could not be analysed.
pub(crate) fn error_report(path: &Path, error: &Error) -> NotebookReport {
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
        dropped_imports: Vec::new(),
        run_by: None,
    }
}

/// What a scan found.
pub(crate) struct Scanned {
    /// One report per notebook.
    pub(crate) reports: Vec<NotebookReport>,
    /// When asked for: every definition, as the duplicates pass compares them.
    pub(crate) samples: Vec<Sample>,
}

/// Scans every notebook in parallel (`jobs` threads, all cores when `None`), with the
/// notebooks they run with `%run`; reports come in the order of `paths`, then those. With
/// `samples`, keeps what [`crate::duplicates`] needs of every definition.
pub(crate) fn scan_paths(
    paths: &[PathBuf],
    jobs: Option<usize>,
    progress: bool,
    samples: bool,
) -> Scanned {
    let context = Context {
        jobs,
        progress,
        load: &read_notebook,
        module_of: &scan_module,
        check: &|_, _| Ok(()),
    };
    let batch = decide_batch(paths, &context, &|path, decided| {
        let report = report(path, &decided.analysis, &decided.decisions);
        let (found, offer) = if samples {
            let found = duplicates::samples(
                path,
                &decided.notebook,
                &decided.analysis,
                &decided.decisions,
            );
            (
                found,
                Some(shared::offer(&decided.analysis, &decided.decisions)),
            )
        } else {
            (Vec::new(), None)
        };
        Ok((report, found, offer))
    });
    let mut scanned = Scanned {
        reports: Vec::with_capacity(batch.paths.len()),
        samples: Vec::new(),
    };
    let mut found_in: Vec<Vec<Sample>> = Vec::new();
    let mut offers = Vec::new();
    for (i, ((result, path), run_by)) in batch
        .results
        .into_iter()
        .zip(&batch.paths)
        .zip(batch.run_by)
        .enumerate()
    {
        let mut report = match result {
            Ok((report, found, offer)) => {
                found_in.push(found);
                offers
                    .push(offer.filter(|_| shared::may_share(i, paths.len(), &batch.imports_from)));
                report
            }
            Err(error) => {
                found_in.push(Vec::new());
                offers.push(None);
                error_report(path, &error)
            }
        };
        report.run_by = run_by.map(|run_by| RunByReport {
            notebook: display_path(&run_by.notebook),
            cell: run_by.cell,
        });
        scanned.reports.push(report);
    }
    if samples {
        let sharing = shared::find(&offers);
        for (names, found) in sharing.names.iter().zip(&mut found_in) {
            for sample in found {
                sample.shared = names.contains(&sample.name);
            }
        }
    }
    scanned.samples = found_in.into_iter().flatten().collect();
    scanned
}

/// Describes the decisions about a notebook.
pub(crate) fn report(path: &Path, analysis: &Analysis, decisions: &Decisions) -> NotebookReport {
    let definitions = analysis
        .definitions
        .iter()
        .zip(&decisions.verdicts)
        .map(|(definition, verdict)| {
            let mut report = DefinitionReport {
                name: definition.name.clone(),
                kind: definition.kind,
                cell: definition.cell.number(),
                line: definition.position.line,
                verdict: VerdictName::Move,
                reason: None,
                hint: None,
                code: None,
                needs: Vec::new(),
                undefined_in_annotations: Vec::new(),
            };
            match verdict {
                Verdict::Move(needs) => {
                    report.needs = needs.names();
                    report.undefined_in_annotations =
                        needs.undefined_in_annotations.iter().cloned().collect();
                }
                Verdict::Stay(reason) => {
                    report.verdict = VerdictName::Stay;
                    report.reason = Some(reason.to_string());
                    report.hint = reason.hint().map(|hint| hint.to_string());
                    report.code = Some(reason.code());
                }
            }
            report
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
    let writefiles = decisions
        .writefiles
        .verdicts
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
    let dropped_imports = decisions
        .dropped
        .iter()
        .map(|drop| {
            let stmt = statement(&analysis.cells, drop.at);
            let from = matches!(stmt, Stmt::ImportFrom(_));
            let names = match stmt {
                Stmt::Import(ruff_python_ast::StmtImport { names, .. })
                | Stmt::ImportFrom(ruff_python_ast::StmtImportFrom { names, .. }) => names
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| drop.names.contains(i))
                    .map(|(_, alias)| bound_name(alias, from).to_owned())
                    .collect(),
                _ => Vec::new(),
            };
            DroppedImportReport {
                cell: drop.cell,
                import: import_line(stmt),
                names,
                reason: drop.reason.to_string(),
                code: drop.reason.code(),
            }
        })
        .collect();
    NotebookReport {
        path: display_path(path),
        status: Status::Ok,
        message: None,
        definitions,
        syntax_errors,
        writefiles,
        dropped_imports,
        run_by: None,
    }
}

/// An import statement on one line, without its comments, parentheses or line breaks.
fn import_line(stmt: &Stmt) -> String {
    let alias = |alias: &ruff_python_ast::Alias| match &alias.asname {
        Some(asname) => format!("{} as {asname}", alias.name),
        None => alias.name.to_string(),
    };
    let names = |aliases: &[ruff_python_ast::Alias]| {
        aliases.iter().map(alias).collect::<Vec<_>>().join(", ")
    };
    match stmt {
        Stmt::Import(import) => format!("import {}", names(&import.names)),
        Stmt::ImportFrom(import) => format!(
            "from {}{} import {}",
            ".".repeat(import.level as usize),
            import.module.as_ref().map_or("", |module| module.as_str()),
            names(&import.names)
        ),
        _ => String::new(),
    }
}

fn display_path(path: &Path) -> String {
    path.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_changes_size_while_read_is_refused() {
        let path = Path::new("nb.ipynb");
        assert!(check_size(path, 10, 10, 10).is_ok());
        for (before, after, read) in [(10, 12, 12), (10, 10, 12), (12, 10, 10), (10, 10, 8)] {
            let error = check_size(path, before, after, read).unwrap_err();
            assert!(matches!(error.kind, ErrorKind::ChangedWhileRead));
            assert_eq!(
                error.to_string(),
                "nb.ipynb: the file changed while nbhoist read it; try again once it is saved"
            );
        }
    }
}
