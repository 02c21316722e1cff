//! The decide stage: every rule about what moves, what stays and what goes, and why.
//!
//! It takes the facts of [`crate::analysis`] and returns one [`Decisions`] value: the verdict
//! of every top-level function and class (with its reason and hint as typed data), the
//! verdict of every `%%writefile` cell, what moves with them, where the import cell goes and
//! what it imports, and which of the notebook's imports go (with their reason).
//! `scan` and `extract` both render it; [`crate::plan`] turns it into text and edits and
//! decides nothing.
//!
//! Pure: no file system, no output.

mod definitions;
mod execution;
pub(crate) mod merge;
mod placement;
mod reason;
mod runs;
mod tidy;
pub(crate) mod writefile;

use std::collections::{BTreeMap, BTreeSet};

pub(crate) use definitions::is_immutable_literal;
pub(crate) use merge::{Merge, Missing};
pub(crate) use reason::StayReason;
use ruff_python_ast::Stmt;
pub(crate) use runs::{Runners, notebook_effect};
pub(crate) use tidy::{DroppedImport, has_word};

use crate::analysis::{Analysis, DefinitionKind, RunBinding, StatementRef, statement};
use crate::emit::{self, PYTHON_MINOR};
use crate::error::PackageError;
use crate::magics::automagic;
use crate::notebook::Notebook;
use crate::ownership::ExistingModule;
use crate::position::{CellIndex, CellNumber};
use crate::python::imports::{Reach, for_each_import};
use crate::python::parse::parse_cell;
use crate::python::span::cut_range;
use execution::Execution;
use writefile::WriteFiles;

/// What the decisions depend on besides the notebook.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Target<'a> {
    /// The name of the module the notebook's code goes to (`analysis`): a `%%writefile`
    /// module cannot take it.
    pub(crate) module: &'a str,
    /// The dotted module, when extracting into a package (`mylib.analysis`): a notebook that
    /// already imports from it was extracted before.
    pub(crate) dotted: Option<&'a str>,
    /// What the notebooks that run this one with `%run` bind in the namespace they share.
    pub(crate) runners: Option<&'a Runners>,
    /// The module as an earlier run left it, when it exists.
    pub(crate) existing: Option<&'a ExistingModule>,
    /// Take the notebook's version of a name whose copy in the module was changed by hand.
    pub(crate) force: bool,
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
    /// How the import cell makes edits to the package show up without restarting the kernel.
    pub(crate) autoreload: Autoreload,
    /// What moving each name the module already binds does to it (a name not listed is new
    /// to the module).
    pub(crate) merges: BTreeMap<String, Merge>,
    /// The notebook's import of its own module, written by an earlier run: it takes the
    /// new names, instead of a new import cell.
    pub(crate) own_import: Option<StatementRef>,
    /// Names the notebook imports from its module that the module no longer defines.
    pub(crate) missing: Vec<Missing>,
    /// The moved names the import cell imports: those the rest of the notebook mentions.
    pub(crate) imported: Vec<String>,
    /// The notebook's imports that only moved code used, which go (whole, or some names).
    pub(crate) dropped: Vec<DroppedImport>,
}

/// How the import cell uses IPython's `autoreload`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Autoreload {
    /// Load the extension when it is not loaded and reload the package's module only
    /// (`%autoreload 1`, `%aimport PKG.module`), leaving the notebook's other modules alone.
    Explicit,
    /// The notebook loads or configures autoreload itself: leave it to it.
    Notebook,
    /// Not at all: `%aimport` binds the package's name in the notebook, which the notebook
    /// uses or lists.
    Off,
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
    /// Names that only a star import of the standard library binds (or rebinds, as
    /// `from math import *` rebinds `pow`), with the last such star import: the module imports
    /// them from it by name.
    pub(crate) star: BTreeMap<String, StatementRef>,
    /// The definition relies on `from __future__ import annotations`.
    pub(crate) future_annotations: bool,
    /// Names its annotations mention that nothing defines: never evaluated (the annotations
    /// are postponed, or strings), they stay in the text as the notebook has them.
    pub(crate) undefined_in_annotations: BTreeSet<String>,
    /// Names it (or what it needs) reads other than in annotations that are never
    /// evaluated: a name only such annotations mention cannot be read too early.
    pub(crate) evaluated: BTreeSet<String>,
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
            .chain(self.star.keys())
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
        self.star
            .extend(other.star.iter().map(|(name, at)| (name.clone(), *at)));
        self.future_annotations |= other.future_annotations;
        self.undefined_in_annotations
            .extend(other.undefined_in_annotations.iter().cloned());
        self.evaluated.extend(other.evaluated.iter().cloned());
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
    /// The last versions of names defined several times: each is replaced, where it stands, by
    /// an import of it, so that the name changes value where it did. The import cell does not
    /// import them.
    pub(crate) in_place: Vec<(StatementRef, String)>,
    /// Constants written to the module, in notebook order.
    pub(crate) constants: Vec<StatementRef>,
    /// Definitions written to the module, in notebook order.
    pub(crate) definitions: Vec<StatementRef>,
    /// Names bound by imports that the module needs.
    pub(crate) imports: BTreeSet<String>,
    /// Names the module imports from IPython.
    pub(crate) ipython: BTreeSet<String>,
    /// Names the module imports by name from the standard-library module of a star import of
    /// the notebook.
    pub(crate) star: BTreeMap<String, StatementRef>,
    /// The module needs `from __future__ import annotations`.
    pub(crate) future_annotations: bool,
    /// Names among `imports` whose import the saved notebook does not show working (no
    /// outputs, or the cell never ran): the module imports them so that a failure leaves the
    /// rest of the module working, as the notebook would.
    pub(crate) unverified: BTreeSet<String>,
    /// The same for the star imports the module needs.
    pub(crate) unverified_stars: BTreeSet<StatementRef>,
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
        Moving::collect_where(analysis, verdicts, &|_| true)
    }

    /// What moves of the moving definitions and constants whose names `keep` accepts: the
    /// package's shared module and a notebook's own module each take their part of what moves.
    pub(crate) fn collect_where(
        analysis: &Analysis,
        verdicts: &[Verdict],
        keep: &dyn Fn(&str) -> bool,
    ) -> Moving {
        let mut moving = Moving::default();
        let mut constants = BTreeSet::new();
        let mut seen = BTreeSet::new();
        // Collected once: looking for them per definition made 100,000 definitions take
        // minutes.
        let with_earlier_version: BTreeSet<&str> = analysis
            .definitions
            .iter()
            .zip(verdicts)
            .filter(|(_, verdict)| {
                matches!(verdict, Verdict::Stay(StayReason::EarlierVersion { .. }))
            })
            .map(|(definition, _)| definition.name.as_str())
            .collect();
        for (definition, verdict) in analysis.definitions.iter().zip(verdicts) {
            let Verdict::Move(needs) = verdict else {
                continue;
            };
            if !keep(&definition.name) {
                continue;
            }
            let at = definition.at;
            if with_earlier_version.contains(definition.name.as_str()) {
                moving.in_place.push((at, definition.name.clone()));
            } else {
                moving.cut.push(at);
            }
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
            moving
                .star
                .extend(needs.star.iter().map(|(name, at)| (name.clone(), *at)));
            moving.future_annotations |= needs.future_annotations;
        }
        let mut constant_sites: Vec<(StatementRef, &str)> = constants
            .iter()
            .filter(|name| keep(name))
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

    /// The first cell anything is cut from, or imported in place in.
    fn first_cut(&self, analysis: &Analysis) -> Option<CellIndex> {
        self.cut
            .iter()
            .chain(self.in_place.iter().map(|(at, _)| at))
            .map(|at| analysis.cells[at.code_cell].index)
            .min()
    }
}

/// Decides everything about one notebook.
pub(crate) fn decide(notebook: &Notebook, analysis: &Analysis, target: Target<'_>) -> Decisions {
    // A notebook that imports from its module was extracted before: new code joins the
    // module, and the import it has takes the new names.
    let own = target
        .dotted
        .map(|dotted| merge::own_imports(analysis, dotted))
        .unwrap_or_default();
    let module_ast = target
        .existing
        .filter(|_| !own.is_empty())
        .map(|module| parse_cell(&module.text));
    let hoisted = match (target.existing, &module_ast) {
        (Some(module), Some(parsed)) => merge::hoisted_bodies(analysis, &own, module, parsed),
        _ => Vec::new(),
    };
    let execution = Execution::new(analysis, &hoisted);
    let history = execution
        .runs()
        .iter()
        .filter(|(_, run)| run.reads_history)
        .map(|(at, _)| analysis.cells[at.code_cell].index)
        .max();
    let mut writefiles = writefile::decide(notebook, analysis, target.module, history);
    let own_module = target.dotted.map(|dotted| (dotted, target.existing));
    let name_errors = definitions::name_errors(analysis, &execution);
    let mut verdicts =
        definitions::decide(notebook, analysis, &execution, &name_errors, own_module);
    if let Some(runners) = target.runners {
        runs::keep_bound_by_runners(analysis, runners, &mut verdicts);
        runs::keep_after_errors(notebook, analysis, runners, &mut verdicts);
        if let Some((notebook, _)) = &runners.first {
            writefiles.keep_all(writefile::WriteFileStay::RunBy {
                notebook: notebook.clone(),
            });
        }
    }
    let missing = match target.dotted {
        Some(_) => merge::missing(analysis, &own, target.existing),
        None => Vec::new(),
    };
    if let Some(dotted) = target.dotted
        && !own.is_empty()
    {
        // The package's code may import the files these cells write.
        writefiles.keep_all(writefile::WriteFileStay::AlreadyHoisted {
            module: dotted.to_owned(),
        });
    }
    keep_importing_code_that_runs(analysis, &writefiles, target, &mut verdicts);
    keep_running_imports_of_code_that_runs(analysis, &execution, &writefiles, &mut verdicts);
    // Placing the import cell can force definitions to stay; each round keeps at least one
    // more, so this ends. Importing a written module from the package runs the package's
    // `__init__.py`, which imports the notebook's module: when the notebook does that no later
    // than setup the import cell must follow, the written module stays a file, and placing
    // starts again (each time with one module fewer, so this ends too).
    let import_stops = own
        .first()
        .filter(|_| target.existing.is_some())
        .filter(|&&at| {
            analysis.cells[at.code_cell].running_statements().len() <= at.statement
                || name_errors.stop_before(notebook, analysis, at)
        })
        .map(|at| analysis.cells[at.code_cell].index.number());
    let reconcile = |verdicts: &mut [Verdict]| match (target.dotted, target.existing) {
        (Some(dotted), Some(module)) => {
            let earlier = merge::Earlier {
                module,
                own: &own,
                missing: &missing,
                dotted,
                force: target.force,
                runs: execution.runs(),
                import_stops,
            };
            merge::reconcile(notebook, analysis, &earlier, verdicts)
        }
        _ => BTreeMap::new(),
    };
    let own_cell = own.first().map(|at| analysis.cells[at.code_cell].index);
    // Comparing with the module can keep definitions, and so can placing the import cell,
    // which changes what the module's other code sees: until neither keeps any more.
    reconcile(&mut verdicts);
    let mut merges;
    let (moving, import_cell) = 'place: loop {
        let setup = placement::Setup::find(analysis, &writefiles, &execution);
        let (moving, import_cell) = loop {
            let moving = Moving::collect(analysis, &verdicts);
            match setup.place(analysis, &moving) {
                Ok(Some(position))
                    if placement::keep_star_rebound(analysis, &mut verdicts, &moving, position)
                        || setup.keep_in_place_after_chdir(analysis, &mut verdicts, &moving)
                        || keep_magic_lines(notebook, analysis, &mut verdicts, &moving)
                        || own.first().is_some_and(|&at| {
                            keep_before_own_import(analysis, &setup, &mut verdicts, &moving, at)
                        }) => {}
                Ok(position) => {
                    let moves = verdicts.iter().filter(|v| v.is_move()).count();
                    merges = reconcile(&mut verdicts);
                    if verdicts.iter().filter(|v| v.is_move()).count() == moves {
                        break (moving, own_cell.filter(|_| position.is_some()).or(position));
                    }
                }
                Err(blocked) => placement::keep_blocked(analysis, &mut verdicts, &blocked),
            }
        };
        if let Some(position) = import_cell
            && let Some(last_setup) = setup.last_enabling_before(analysis, position)
        {
            let early: Vec<(String, CellIndex)> = writefiles
                .imports
                .iter()
                .filter(|import| import.rewrite.is_some() && import.cell <= last_setup)
                .filter(|import| writefiles.get(&import.module).is_some())
                .map(|import| (import.module.clone(), import.cell))
                .collect();
            if !early.is_empty() {
                for (module, cell) in early {
                    let reason = writefile::WriteFileStay::ImportedBeforeSetup {
                        imported: cell.number(),
                        setup: last_setup.number(),
                    };
                    writefiles.keep_module(&module, &reason);
                }
                continue 'place;
            }
        }
        break (moving, import_cell);
    };
    let mut moving = moving;
    settle_earlier_versions(analysis, &mut verdicts);
    mark_unverified(notebook, analysis, &writefiles, &mut moving);
    let autoreload = if analysis.uses_autoreload {
        Autoreload::Notebook
    } else if binds_package_name(analysis, &execution, target) {
        Autoreload::Off
    } else {
        Autoreload::Explicit
    };
    // Another notebook that runs this one with `%run` sees every name it binds.
    let run_by_others = target.runners.is_some();
    let tidy = import_cell.map(|position| {
        tidy::tidy(
            notebook,
            analysis,
            &writefiles,
            &moving,
            position,
            run_by_others,
        )
    });
    let (imported, dropped) =
        tidy.map_or_else(Default::default, |tidy| (tidy.imported, tidy.dropped));
    Decisions {
        verdicts,
        writefiles,
        moving,
        import_cell,
        autoreload,
        merges,
        own_import: own.first().copied().filter(|_| import_cell.is_some()),
        missing,
        imported,
        dropped,
    }
}

/// With the module imported at `own` already (by an earlier run), the new code runs there:
/// a definition cut before it would be bound only after its use, and an import set up after
/// it would run too early. Keeps those; returns whether it kept any.
fn keep_before_own_import(
    analysis: &Analysis,
    setup: &placement::Setup,
    verdicts: &mut [Verdict],
    moving: &Moving,
    own: StatementRef,
) -> bool {
    let cell = analysis.cells[own.code_cell].index;
    let number = cell.number();
    if let Some(needed) = setup.needed_after(analysis, moving, cell) {
        let reason = StayReason::SetupAfterImportCell {
            setup: needed.number(),
            cell: number,
        };
        for item in &moving.items {
            merge::keep_name(analysis, verdicts, &item.name, reason.clone());
        }
        return !moving.items.is_empty();
    }
    let mut kept = false;
    for (name, at) in merge::written_sites(analysis, moving) {
        if at < own {
            let reason = StayReason::BeforeImportCell { cell: number };
            merge::keep_name(analysis, verdicts, &name, reason);
            kept = true;
        }
    }
    kept
}

/// An earlier version says the last one moves only when it does; otherwise it stays for the
/// last one's reason, as every definition of a name shares one verdict.
fn settle_earlier_versions(analysis: &Analysis, verdicts: &mut [Verdict]) {
    for i in 0..verdicts.len() {
        let Verdict::Stay(StayReason::EarlierVersion { name, .. }) = &verdicts[i] else {
            continue;
        };
        let last = analysis
            .definitions
            .iter()
            .rposition(|definition| &definition.name == name);
        if let Some(Verdict::Stay(reason)) = last.map(|last| verdicts[last].clone()) {
            verdicts[i] = Verdict::Stay(reason);
        }
    }
}

/// Whether binding the package's top-level name in the notebook (as `%aimport` does) could
/// change what it computes: the notebook binds or reads that name, or lists its names, or
/// another notebook runs it with `%run`.
fn binds_package_name(analysis: &Analysis, execution: &Execution<'_>, target: Target<'_>) -> bool {
    let package = target.dotted.map_or(target.module, |dotted| {
        dotted.split('.').next().unwrap_or(dotted)
    });
    // A notebook that runs this one with `%run` shares its names and its extensions: it
    // would see `%aimport` bind the package's name, and autoreload already loaded.
    target.runners.is_some()
        || !analysis.names.sites(package).is_empty()
        || execution.runs().iter().any(|(_, run)| {
            run.listing.is_some() || run.uses.iter().any(|(name, _)| name.as_str() == package)
        })
}

/// An import the saved notebook does not show working may fail where the package is used:
/// one that is not from the standard library or the package, in a cell that has no execution
/// count or shows an error.
fn mark_unverified(
    notebook: &Notebook,
    analysis: &Analysis,
    writefiles: &WriteFiles,
    moving: &mut Moving,
) {
    let works = |at: StatementRef, module: &str| {
        let top = module.split('.').next().unwrap_or_default();
        // IPython is the kernel itself: it is there whenever the notebook runs.
        ruff_python_stdlib::sys::is_known_standard_library(PYTHON_MINOR, top)
            || top == "IPython"
            || writefiles.get(top).is_some()
            || notebook.cells()[analysis.cells[at.code_cell].index.0].ran_cleanly
    };
    let unverified: BTreeSet<String> = moving
        .imports
        .iter()
        .filter(|name| {
            let site = &analysis.names.sites(name)[0];
            let stmt = statement(&analysis.cells, site.at);
            let is_statement = matches!(stmt, Stmt::Import(_) | Stmt::ImportFrom(_));
            let origin = analysis.names.origin(name).unwrap_or_default();
            is_statement && !works(site.at, &origin)
        })
        .cloned()
        .collect();
    let stars: BTreeSet<StatementRef> = moving
        .star
        .values()
        .filter(|at| {
            let Stmt::ImportFrom(import) = statement(&analysis.cells, **at) else {
                return false;
            };
            !works(**at, import.module.as_ref().map_or("", |m| m.as_str()))
        })
        .copied()
        .collect();
    moving.unverified = unverified;
    moving.unverified_stars = stars;
}

/// A module a `%%writefile` cell writes that runs code when imported must be imported where
/// the notebook imports it: a definition whose module would import it at the import cell
/// stays. So does one that needs a module of the package other than the notebook's own
/// (written from a `%%writefile` cell on an earlier run), which may do the same.
fn keep_importing_code_that_runs(
    analysis: &Analysis,
    writefiles: &WriteFiles,
    target: Target<'_>,
    verdicts: &mut [Verdict],
) {
    let package = target.dotted.map(|dotted| {
        let top = dotted.split('.').next().unwrap_or(dotted);
        format!("{top}.")
    });
    for i in 0..analysis.definitions.len() {
        let Verdict::Move(needs) = &verdicts[i] else {
            continue;
        };
        let in_package = needs.imports.iter().find(|name| {
            // A module nbhoist wrote from a notebook this one runs holds only definitions.
            let hoisted = analysis.names.sites(name).iter().all(|site| {
                matches!(
                    analysis.names.run_binding(site.at, name),
                    Some(RunBinding::Hoisted(_))
                )
            });
            if hoisted {
                return false;
            }
            let origin = analysis.names.origin(name).unwrap_or_default();
            package
                .as_deref()
                .is_some_and(|package| origin.starts_with(package))
        });
        if let Some(name) = in_package {
            let reason = StayReason::ImportsPackageModule { name: name.clone() };
            definitions::keep(analysis, verdicts, i, reason);
            continue;
        }
        let written = needs.imports.iter().find_map(|name| {
            let origin = analysis.names.origin(name)?;
            // `from helpers import f` binds `helpers.f`: the module is a prefix.
            let mut module = origin.as_str();
            loop {
                if let Some(written) = writefiles.get(module) {
                    return written
                        .runs_code
                        .then(|| (written.module.clone(), written.cells[0]));
                }
                // A file that stays is imported from the notebook's folder, as before, but
                // at the import cell.
                let staying = writefiles.verdicts.iter().find(|verdict| {
                    verdict.stay.is_some() && verdict.module.as_deref() == Some(module)
                });
                if let Some(staying) = staying {
                    let runs_code = writefiles
                        .verdicts
                        .iter()
                        .any(|v| v.module.as_deref() == Some(module) && v.runs_code);
                    return runs_code.then(|| (module.to_owned(), staying.cell));
                }
                module = module.rsplit_once('.')?.0;
            }
        });
        if let Some((module, cell)) = written {
            let reason = StayReason::ImportRunsCode {
                module,
                cell: cell.number(),
            };
            definitions::keep(analysis, verdicts, i, reason);
        }
    }
}

/// A definition whose definition time calls a notebook function that imports, in its body,
/// a module a `%%writefile` cell writes that runs code when imported, would run that code at
/// the import cell the first time that module is imported: it stays.
fn keep_running_imports_of_code_that_runs(
    analysis: &Analysis,
    execution: &Execution<'_>,
    writefiles: &WriteFiles,
    verdicts: &mut [Verdict],
) {
    let noisy: Vec<(&str, CellIndex)> = writefiles
        .verdicts
        .iter()
        .filter(|verdict| verdict.runs_code)
        .filter_map(|verdict| Some((verdict.module.as_deref()?, verdict.cell)))
        .collect();
    if noisy.is_empty() {
        return;
    }
    // The first noisy module a function's body imports, by function name.
    let imports_noisy = |name: &str| {
        analysis
            .definitions
            .iter()
            .filter(|definition| definition.name == name)
            .find_map(|definition| {
                let stmt = definition.statement(&analysis.cells);
                let mut found = None;
                for_each_import(
                    std::slice::from_ref(stmt),
                    Reach::Everywhere,
                    &mut |import| {
                        for module in import.modules() {
                            if found.is_none() {
                                found = noisy.iter().find(|(noisy, _)| {
                                    module == *noisy || module.starts_with(&format!("{noisy}."))
                                });
                            }
                        }
                    },
                );
                found.copied()
            })
    };
    for i in 0..analysis.definitions.len() {
        if !verdicts[i].is_move() {
            continue;
        }
        let definition = &analysis.definitions[i];
        let time = execution.definition_time(definition.at, definition.statement(&analysis.cells));
        let found = time
            .calls
            .iter()
            .find_map(|(call, _)| match call.path.as_slice() {
                [name] => imports_noisy(name.as_str()),
                _ => None,
            });
        if let Some((module, cell)) = found {
            let reason = StayReason::ImportRunsCode {
                module: module.to_owned(),
                cell: cell.number(),
            };
            definitions::keep(analysis, verdicts, i, reason);
        }
    }
}

/// Cutting code out of a cell must not change how IPython reads what remains: a cell left with
/// one line that names a line magic (`run(f)`, `cd data`) would run as that magic, as
/// IPython's automagic reads single-line cells. What would be cut from such a cell stays.
/// Returns whether anything did.
fn keep_magic_lines(
    notebook: &Notebook,
    analysis: &Analysis,
    verdicts: &mut [Verdict],
    moving: &Moving,
) -> bool {
    let mut cuts: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for at in &moving.cut {
        cuts.entry(at.code_cell).or_default().push(at.statement);
    }
    let moved: BTreeSet<&str> = moving.items.iter().map(|item| item.name.as_str()).collect();
    let mut kept = false;
    for (code_cell, statements) in cuts {
        let Some(line) = magic_line_left(notebook, analysis, code_cell, &statements, &moved) else {
            continue;
        };
        let reason = StayReason::LeavesMagicLine {
            cell: analysis.cells[code_cell].index.number(),
            line,
        };
        for (i, definition) in analysis.definitions.iter().enumerate() {
            let cut_here = match &verdicts[i] {
                Verdict::Move(needs) => {
                    definition.at.code_cell == code_cell
                        || needs.constants.iter().any(|constant| {
                            analysis.names.sites(constant)[0].at.code_cell == code_cell
                        })
                }
                Verdict::Stay(_) => false,
            };
            if cut_here {
                definitions::keep(analysis, verdicts, i, reason.clone());
                kept = true;
            }
        }
    }
    kept
}

/// The one line a cell is left with once `statements` are cut from it, when IPython's
/// automagic would run it as a line magic: its first word names a magic, and neither the
/// notebook before the cell nor moved code binds it.
fn magic_line_left(
    notebook: &Notebook,
    analysis: &Analysis,
    code_cell: usize,
    statements: &[usize],
    moved: &BTreeSet<&str>,
) -> Option<String> {
    let cell = &analysis.cells[code_cell];
    let source = cell.text(notebook);
    let ranges = statements
        .iter()
        .map(|&i| {
            (
                cut_range(source, cell.notebook_statements(), i),
                String::new(),
            )
        })
        .collect();
    let remaining = emit::edit(source, ranges)?;
    let (word, _) = automagic(&remaining)?;
    let defined_before = analysis
        .names
        .sites(word)
        .iter()
        .any(|site| site.cell < cell.index);
    (!defined_before && !moved.contains(word)).then(|| remaining.trim().to_owned())
}

/// Top-level module names the notebook imports, at top level or in top-level blocks.
fn imported_modules(analysis: &Analysis) -> BTreeSet<String> {
    let mut modules = BTreeSet::new();
    for cell in &analysis.cells {
        for_each_import(cell.notebook_statements(), Reach::Blocks, &mut |import| {
            modules.extend(
                import
                    .modules()
                    .into_iter()
                    .map(|name| name.split('.').next().unwrap_or_default().to_owned()),
            );
        });
    }
    modules
}

/// Module names Python ships that ruff's standard-library list leaves out: a package named
/// like one would shadow it, or be shadowed by it.
const MORE_STANDARD_MODULES: &[&str] = &["test", "__future__", "__main__"];

/// Checks a package name once for the whole run: a Python identifier, not a keyword, not a
/// standard-library module.
pub(crate) fn check_package_name(name: &str) -> Result<(), PackageError> {
    if ruff_python_stdlib::keyword::is_keyword(name) {
        return Err(PackageError::Keyword(name.to_owned()));
    }
    if !ruff_python_stdlib::identifiers::is_identifier(name) {
        return Err(PackageError::NotIdentifier(name.to_owned()));
    }
    if ruff_python_stdlib::sys::is_known_standard_library(PYTHON_MINOR, name)
        || MORE_STANDARD_MODULES.contains(&name)
    {
        return Err(PackageError::ShadowsStandardLibrary(name.to_owned()));
    }
    Ok(())
}

/// Checks that the notebook does not import another module named like the package. An
/// import of nbhoist's own package is fine (`own`: the package exists, was named in the
/// configuration, or the notebook's folder holds a package of that name nbhoist wrote).
pub(crate) fn check_package_imports(
    name: &str,
    analysis: &Analysis,
    own: bool,
) -> Result<(), PackageError> {
    if !own && imported_modules(analysis).contains(name) {
        return Err(PackageError::ImportedByNotebook(name.to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
