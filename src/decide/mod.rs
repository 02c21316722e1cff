//! The decide stage: every rule about what moves and what stays, and why.
//!
//! It takes the facts of [`crate::analysis`] and returns one [`Decisions`] value: the verdict
//! of every top-level function and class (with its reason and hint as typed data), the
//! verdict of every `%%writefile` cell, what moves with them, and where the import cell goes.
//! `scan` and `extract` both render it; [`crate::plan`] turns it into text and edits and
//! decides nothing.
//!
//! Pure: no file system, no output.

mod definitions;
mod execution;
mod placement;
mod reason;
pub(crate) mod writefile;

use std::collections::BTreeSet;

pub(crate) use reason::StayReason;
use ruff_python_ast::Stmt;

use crate::analysis::{Analysis, DefinitionKind, StatementRef};
use crate::emit::PYTHON_MINOR;
use crate::error::PackageError;
use crate::notebook::Notebook;
use crate::position::{CellIndex, CellNumber};
use crate::python::imports::{ImportStmt, Reach, for_each_import};
use writefile::WriteFiles;

/// What the decisions depend on besides the notebook.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Target<'a> {
    /// The name of the module the notebook's code goes to (`analysis`): a `%%writefile`
    /// module cannot take it.
    pub(crate) module: &'a str,
    /// The dotted module, when extracting into a package (`mylib.analysis`): a notebook that
    /// already imports from it was extracted before.
    pub(crate) dotted: Option<&'a str>,
}

/// Every decision about one notebook.
#[derive(Clone, Debug)]
pub(crate) struct Decisions {
    /// The verdict of each of the analysis' definitions, in the same order.
    pub(crate) verdicts: Vec<Verdict>,
    /// The verdicts of the `%%writefile` cells, and the modules that move.
    pub(crate) writefiles: WriteFiles,
    /// What moves with the definitions.
    pub(crate) moving: Moving,
    /// Where the import cell goes; `None` when no definition moves.
    pub(crate) import_cell: Option<CellIndex>,
}

impl Decisions {
    /// True when the notebook is left as it is.
    pub(crate) fn is_empty(&self) -> bool {
        self.moving.items.is_empty() && self.writefiles.modules.is_empty()
    }
}

/// Whether a definition can be hoisted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Hoisting it is provably safe; it takes these with it.
    Move(Needs),
    /// It stays in the notebook, for this reason.
    Stay(StayReason),
}

impl Verdict {
    /// True for [`Verdict::Move`].
    pub(crate) fn is_move(&self) -> bool {
        matches!(self, Verdict::Move(_))
    }
}

/// What a hoisted definition takes with it, transitively. Every set holds top-level names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Needs {
    /// Names bound by imports (or import blocks).
    pub(crate) imports: BTreeSet<String>,
    /// Constants.
    pub(crate) constants: BTreeSet<String>,
    /// Other hoisted definitions.
    pub(crate) definitions: BTreeSet<String>,
    /// Names that come from IPython itself (`display`, `get_ipython`).
    pub(crate) ipython: BTreeSet<String>,
    /// Names that can only come from a star import.
    pub(crate) star: BTreeSet<String>,
    /// The definition relies on `from __future__ import annotations`.
    pub(crate) future_annotations: bool,
}

impl Needs {
    /// All names, sorted, for reports.
    pub(crate) fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .imports
            .iter()
            .chain(&self.constants)
            .chain(&self.definitions)
            .chain(&self.ipython)
            .chain(&self.star)
            .cloned()
            .collect();
        names.sort();
        names.dedup();
        names
    }

    fn extend(&mut self, other: &Needs) {
        self.imports.extend(other.imports.iter().cloned());
        self.constants.extend(other.constants.iter().cloned());
        self.definitions.extend(other.definitions.iter().cloned());
        self.ipython.extend(other.ipython.iter().cloned());
        self.star.extend(other.star.iter().cloned());
        self.future_annotations |= other.future_annotations;
    }
}

/// What moves: definitions (the first copy of each name) and the constants they need.
#[derive(Clone, Debug, Default)]
pub(crate) struct Moving {
    /// Every moved name, by cell.
    pub(crate) items: Vec<Moved>,
    /// Statements cut out of the notebook: every copy of a moved definition, and the
    /// constants.
    pub(crate) cut: Vec<StatementRef>,
    /// Constants written to the module, in notebook order.
    pub(crate) constants: Vec<StatementRef>,
    /// Definitions written to the module, in notebook order.
    pub(crate) definitions: Vec<StatementRef>,
    /// Names bound by imports that the module needs.
    pub(crate) imports: BTreeSet<String>,
    /// Names the module imports from IPython.
    pub(crate) ipython: BTreeSet<String>,
    /// The module needs the notebook's star imports.
    pub(crate) star: bool,
    /// The module needs `from __future__ import annotations`.
    pub(crate) future_annotations: bool,
}

/// A definition or constant that moves to the package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Moved {
    /// Its name.
    pub(crate) name: String,
    /// What it is.
    pub(crate) kind: MovedKind,
    /// The cell it comes from.
    pub(crate) cell: CellNumber,
}

/// The kind of a moved item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum MovedKind {
    /// A function.
    Function,
    /// A class.
    Class,
    /// A constant a moved definition needs.
    Constant,
}

impl MovedKind {
    /// `function`, `class` or `constant`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            MovedKind::Function => "function",
            MovedKind::Class => "class",
            MovedKind::Constant => "constant",
        }
    }
}

impl Moving {
    fn collect(analysis: &Analysis, verdicts: &[Verdict]) -> Moving {
        let mut moving = Moving::default();
        let mut constants = BTreeSet::new();
        let mut seen = BTreeSet::new();
        for (definition, verdict) in analysis.definitions.iter().zip(verdicts) {
            let Verdict::Move(needs) = verdict else {
                continue;
            };
            let at = definition.at;
            moving.cut.push(at);
            if !seen.insert(definition.name.clone()) {
                continue;
            }
            moving.definitions.push(at);
            moving.items.push(Moved {
                name: definition.name.clone(),
                kind: match definition.kind {
                    DefinitionKind::Function => MovedKind::Function,
                    DefinitionKind::Class => MovedKind::Class,
                },
                cell: definition.cell.number(),
            });
            constants.extend(needs.constants.iter().cloned());
            moving.imports.extend(needs.imports.iter().cloned());
            moving.ipython.extend(needs.ipython.iter().cloned());
            moving.star |= !needs.star.is_empty();
            moving.future_annotations |= needs.future_annotations;
        }
        let mut constant_sites: Vec<(StatementRef, &str)> = constants
            .iter()
            .map(|name| (analysis.names.sites(name)[0].at, name.as_str()))
            .collect();
        constant_sites.sort();
        for (at, name) in constant_sites {
            moving.cut.push(at);
            moving.constants.push(at);
            moving.items.push(Moved {
                name: name.to_owned(),
                kind: MovedKind::Constant,
                cell: analysis.cells[at.code_cell].index.number(),
            });
        }
        moving.items.sort_by_key(|item| item.cell);
        moving
    }

    /// The first cell anything is cut from.
    fn first_cut(&self, analysis: &Analysis) -> Option<CellIndex> {
        self.cut
            .iter()
            .map(|at| analysis.cells[at.code_cell].index)
            .min()
    }
}

/// Decides everything about one notebook.
pub(crate) fn decide(notebook: &Notebook, analysis: &Analysis, target: Target<'_>) -> Decisions {
    let writefiles = writefile::decide(notebook, analysis, target.module);
    let execution = execution::Execution::new(analysis);
    let mut verdicts = definitions::decide(notebook, analysis, &execution);
    // A notebook that already imports from its module was extracted before; adding to the
    // module needs merging, which nbhoist does not do yet.
    if let Some(dotted) = target.dotted
        && imports_from(analysis, dotted)
    {
        for verdict in &mut verdicts {
            if verdict.is_move() {
                *verdict = Verdict::Stay(StayReason::AlreadyHoisted {
                    module: dotted.to_owned(),
                });
            }
        }
    }
    let setup = placement::Setup::find(analysis, &writefiles, &execution);
    // Placing the import cell can force definitions to stay; each round keeps at least one
    // more, so this ends.
    let (moving, import_cell) = loop {
        let moving = Moving::collect(analysis, &verdicts);
        match setup.place(analysis, &moving) {
            Ok(Some(position))
                if placement::keep_star_rebound(analysis, &mut verdicts, &moving, position) => {}
            Ok(position) => break (moving, position),
            Err(blocked) => placement::keep_blocked(analysis, &mut verdicts, &blocked),
        }
    };
    Decisions {
        verdicts,
        writefiles,
        moving,
        import_cell,
    }
}

/// True when some top-level statement imports from `module` (`from mylib.analysis import f`).
fn imports_from(analysis: &Analysis, module: &str) -> bool {
    analysis.cells.iter().any(|cell| {
        cell.notebook_statements().iter().any(|stmt| {
            matches!(stmt, Stmt::ImportFrom(import)
                if import.level == 0
                    && import.module.as_ref().is_some_and(|m| m.as_str() == module))
        })
    })
}

/// Top-level module names the notebook imports, at top level or in top-level blocks.
fn imported_modules(analysis: &Analysis) -> BTreeSet<String> {
    let mut modules = BTreeSet::new();
    for cell in &analysis.cells {
        for_each_import(cell.notebook_statements(), Reach::Blocks, &mut |import| {
            let top = |name: &str| name.split('.').next().unwrap_or_default().to_owned();
            match import {
                ImportStmt::Import(import) => {
                    modules.extend(import.names.iter().map(|alias| top(alias.name.as_str())));
                }
                ImportStmt::From(import) if import.level == 0 => {
                    modules.extend(import.module.as_ref().map(|module| top(module.as_str())));
                }
                ImportStmt::From(_) => {}
            }
        });
    }
    modules
}

/// Checks a package name: a Python identifier, not a keyword, not a standard-library module,
/// and, unless the package already exists (`exists`), not a module the notebook imports.
pub(crate) fn check_package_name(
    name: &str,
    analysis: &Analysis,
    exists: bool,
) -> Result<(), PackageError> {
    if ruff_python_stdlib::keyword::is_keyword(name) {
        return Err(PackageError::Keyword(name.to_owned()));
    }
    if !ruff_python_stdlib::identifiers::is_identifier(name) {
        return Err(PackageError::NotIdentifier(name.to_owned()));
    }
    if ruff_python_stdlib::sys::is_known_standard_library(PYTHON_MINOR, name) {
        return Err(PackageError::ShadowsStandardLibrary(name.to_owned()));
    }
    if !exists && imported_modules(analysis).contains(name) {
        return Err(PackageError::ImportedByNotebook(name.to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
