//! A notebook whose module exists already (an earlier run wrote it): what moving each name
//! does to the module, the conflicts left for a person, and the names the notebook imports
//! from the module that the module no longer defines.

use std::collections::BTreeMap;

use ruff_python_ast::name::Name;
use ruff_python_ast::{ModModule, Stmt};
use ruff_python_parser::Parsed;
use ruff_text_size::Ranged;

use super::definitions::has_annotations;
use super::definitions::keep;
use super::execution::Run;
use super::reason::StayReason;
use super::tidy::has_word;
use super::{Moving, Verdict};
use crate::analysis::{Analysis, StatementRef, statement};
use crate::notebook::Notebook;
use crate::ownership::ExistingModule;
use crate::position::CellNumber;
use crate::python::scope::{ReadTime, module_bindings};
use rustc_hash::FxHashMap;

/// What moving a name the module already binds does to the module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Merge {
    /// The module has the same code: nothing changes there.
    Same,
    /// The module's copy, as nbhoist wrote it, is replaced by the notebook's.
    Update,
    /// The module's copy, changed by hand, is replaced by the notebook's, as `--force` asks;
    /// the module's text is kept in a backup.
    Forced,
}

/// A name the notebook imports from its module that the module no longer binds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Missing {
    /// The name.
    pub(crate) name: String,
    /// The cell that imports it.
    pub(crate) cell: CellNumber,
}

/// The statements `from MODULE import ...` of the notebook, in order: imports of its own
/// module, which an earlier run wrote.
pub(super) fn own_imports(analysis: &Analysis, dotted: &str) -> Vec<StatementRef> {
    let mut found = Vec::new();
    for (code_cell, cell) in analysis.cells.iter().enumerate() {
        for (index, stmt) in cell.notebook_statements().iter().enumerate() {
            if is_import_from(stmt, dotted) {
                found.push(StatementRef {
                    code_cell,
                    statement: index,
                });
            }
        }
    }
    found
}

/// The definitions of the module (`parsed`, the text of `module`) that the notebook's own
/// imports bind, with the name each binds, the import, and whether the module postpones
/// annotations: what the notebook runs when it calls them.
pub(super) fn hoisted_bodies<'p>(
    analysis: &Analysis,
    own: &[StatementRef],
    module: &ExistingModule,
    parsed: &'p Parsed<ModModule>,
) -> Vec<(Name, StatementRef, &'p Stmt, bool)> {
    let mut bodies = Vec::new();
    for &at in own {
        let Stmt::ImportFrom(import) = statement(&analysis.cells, at) else {
            continue;
        };
        for alias in &import.names {
            let definition = parsed.syntax().body.iter().rev().find(|stmt| match stmt {
                Stmt::FunctionDef(def) => def.name.id == alias.name.id,
                Stmt::ClassDef(class) => class.name.id == alias.name.id,
                _ => false,
            });
            if let Some(definition) = definition {
                let bound = alias.asname.as_ref().unwrap_or(&alias.name).id.clone();
                bodies.push((bound, at, definition, module.future_annotations));
            }
        }
    }
    bodies
}

/// Whether `stmt` is `from MODULE import ...`.
pub(super) fn is_import_from(stmt: &Stmt, module: &str) -> bool {
    matches!(stmt, Stmt::ImportFrom(import)
        if import.level == 0 && import.module.as_ref().is_some_and(|m| m.as_str() == module))
}

/// The names the notebook's own imports take from a module that does not bind them (or that
/// is gone).
pub(super) fn missing(
    analysis: &Analysis,
    own: &[StatementRef],
    module: Option<&ExistingModule>,
) -> Vec<Missing> {
    let mut missing = Vec::new();
    for &at in own {
        let Stmt::ImportFrom(import) = statement(&analysis.cells, at) else {
            continue;
        };
        for alias in &import.names {
            let name = alias.name.as_str();
            if module.is_none_or(|module| module.binding(name).is_none()) {
                missing.push(Missing {
                    name: name.to_owned(),
                    cell: analysis.cells[at.code_cell].index.number(),
                });
            }
        }
    }
    missing
}

/// What an earlier run left: the module, the notebook's imports of it, the names it lost.
#[derive(Clone, Copy)]
pub(super) struct Earlier<'a> {
    /// The module as it is.
    pub(super) module: &'a ExistingModule,
    /// The notebook's imports of it.
    pub(super) own: &'a [StatementRef],
    /// Names those imports take that it no longer binds.
    pub(super) missing: &'a [Missing],
    /// The module, dotted.
    pub(super) dotted: &'a str,
    /// Take the notebook's version of what was changed by hand.
    pub(super) force: bool,
    /// What each top-level statement of the notebook runs, calls followed.
    pub(super) runs: &'a [(StatementRef, Run)],
    /// The cell of the notebook's import of the module, when it stops (or may) before it.
    pub(super) import_stops: Option<CellNumber>,
}

/// Compares each moving name with the module's copy: the same code moves without changing
/// the module; another version replaces the module's when nbhoist wrote that and nothing
/// else in the module uses it; a copy changed by hand is a conflict, unless `force`. Keeps
/// what cannot move (with whatever needs it), and returns what moving does to the module.
pub(super) fn reconcile(
    notebook: &Notebook,
    analysis: &Analysis,
    earlier: &Earlier<'_>,
    verdicts: &mut [Verdict],
) -> BTreeMap<String, Merge> {
    let Earlier {
        module,
        own,
        missing,
        dotted,
        force,
        runs,
        import_stops,
    } = *earlier;
    // The notebook's import of a name the module lost fails, and a cell that stops before
    // its import never runs it: code that joined that import would be lost with it.
    let failing = match (missing.first(), import_stops) {
        (Some(missing), _) => Some(StayReason::NotInModule {
            name: missing.name.clone(),
            module: dotted.to_owned(),
        }),
        (None, Some(cell)) => Some(StayReason::ImportCellStops { cell }),
        (None, None) => None,
    };
    if let Some(reason) = failing {
        let moving = Moving::collect(analysis, verdicts);
        for item in &moving.items {
            keep_name(analysis, verdicts, &item.name, reason.clone());
        }
        return BTreeMap::new();
    }
    loop {
        let moving = Moving::collect(analysis, verdicts);
        let moved: Vec<String> = moving.items.iter().map(|item| item.name.clone()).collect();
        let sites = written_sites(analysis, &moving);
        let mut merges = BTreeMap::new();
        let mut stays: Vec<(String, StayReason)> = Vec::new();
        for item in &moving.items {
            let Some(&at) = sites.get(item.name.as_str()) else {
                continue;
            };
            if let Some(reason) = fits_module(analysis, module, dotted, at, &moved) {
                stays.push((item.name.clone(), reason));
                continue;
            }
            let Some(theirs) = module.binding(&item.name) else {
                // Code in the module that reads the name (written by hand) would start
                // finding it.
                if let Some(reason) = used_in_module(module, dotted, &item.name, &moved) {
                    stays.push((item.name.clone(), reason));
                }
                continue;
            };
            // Written where the module has it, it runs before what this run adds at the end.
            if let Some(name) = analysis.reads(at).reads.iter().find_map(|read| {
                let name = read.name.as_str();
                (read.when == ReadTime::Now
                    && name != item.name
                    && moved.iter().any(|m| m == name)
                    && module.binding(name).is_none())
                .then(|| name.to_owned())
            }) {
                stays.push((
                    item.name.clone(),
                    StayReason::ReadsAddedLater {
                        name,
                        module: dotted.to_owned(),
                    },
                ));
                continue;
            }
            let ours = &analysis.cells[at.code_cell].text(notebook)
                [statement(&analysis.cells, at).range()];
            let theirs_text = module.text_of(theirs);
            let merge = if ours == theirs_text {
                Merge::Same
            } else if theirs.owned && !theirs.import {
                Merge::Update
            } else if force && !theirs.import {
                Merge::Forced
            } else {
                stays.push((
                    item.name.clone(),
                    StayReason::Conflict {
                        module: dotted.to_owned(),
                        theirs: theirs_text.to_owned(),
                    },
                ));
                continue;
            };
            // A copy with the same code is a new object all the same (a fresh default, a
            // decorator's state).
            if let Some(reason) = used_before(notebook, analysis, runs, own, at, &item.name) {
                stays.push((item.name.clone(), reason));
                continue;
            }
            // The module's code that does not move runs at the import too, and would see the
            // notebook's version, or touch the object the notebook now shares with it. The
            // loop makes this transitive: what such code keeps stops moving, and so on.
            if let Some(reason) = used_in_module(module, dotted, &item.name, &moved) {
                stays.push((item.name.clone(), reason));
                continue;
            }
            merges.insert(item.name.clone(), merge);
        }
        if stays.is_empty() {
            return merges;
        }
        for (name, reason) in stays {
            keep_name(analysis, verdicts, &name, reason);
        }
    }
}

/// Code in the module other than `moved` that mentions `name`: it would see the notebook's
/// version of it, new or changed.
fn used_in_module(
    module: &ExistingModule,
    dotted: &str,
    name: &str,
    moved: &[String],
) -> Option<StayReason> {
    let users: Vec<String> = module
        .users_of(name, moved)
        .map(|stmt| stmt.names[0].clone())
        .collect();
    (!users.is_empty()).then(|| StayReason::UsedInModule {
        module: dotted.to_owned(),
        users,
    })
}

/// A new version of a name the notebook imports from its module replaces the module's, and
/// so what the notebook sees from that import on: cells that mention the name between the
/// import and the new version, or run code that reads it, would see it too. Then it stays,
/// naming them.
fn used_before(
    notebook: &Notebook,
    analysis: &Analysis,
    runs: &[(StatementRef, Run)],
    own: &[StatementRef],
    at: StatementRef,
    name: &str,
) -> Option<StayReason> {
    let import = own.iter().rev().find(|&&import| {
        import < at
            && matches!(statement(&analysis.cells, import), Stmt::ImportFrom(from)
            if from.names.iter().any(|alias| alias.asname.is_none() && alias.name.as_str() == name))
    })?;
    // Every statement after the import and before the new version, in its cell too.
    let runs_it = |here: StatementRef| {
        runs.binary_search_by(|(at, _)| at.cmp(&here))
            .is_ok_and(|i| runs[i].1.uses.iter().any(|(used, _)| used.as_str() == name))
    };
    let mut cells: Vec<CellNumber> = Vec::new();
    for code_cell in import.code_cell..=at.code_cell {
        let cell = &analysis.cells[code_cell];
        let text = cell.text(notebook);
        let uses = cell
            .notebook_statements()
            .iter()
            .enumerate()
            .map(|(statement, stmt)| {
                let here = StatementRef {
                    code_cell,
                    statement,
                };
                (here, stmt)
            })
            .filter(|&(here, _)| *import < here && here < at)
            .any(|(here, stmt)| has_word(&text[stmt.range()], name) || runs_it(here));
        if uses {
            cells.push(cell.index.number());
        }
    }
    (!cells.is_empty()).then(|| StayReason::UsedBeforeUpdate {
        cells,
        import: analysis.cells[import.code_cell].index.number(),
    })
}

/// Why code written into the module would not run there as it did in the notebook: the
/// module binds a name it reads to something else, or the module postpones annotations that
/// the notebook evaluates (or the other way round). `None` when it fits.
fn fits_module(
    analysis: &Analysis,
    module: &ExistingModule,
    dotted: &str,
    at: StatementRef,
    moved: &[String],
) -> Option<StayReason> {
    let stmt = statement(&analysis.cells, at);
    let postponed = analysis.postponed_annotations(at);
    // Code the notebook writes under `from __future__ import annotations` would bring the
    // import into the module, where it would change the annotations of the code there.
    if (postponed && !module.future_annotations)
        || (has_annotations(stmt) && module.future_annotations && !postponed)
    {
        return Some(StayReason::ModuleAnnotations {
            module: dotted.to_owned(),
            postponed: module.future_annotations,
        });
    }
    for read in &analysis.reads(at).reads {
        let name = read.name.as_str();
        let sites = analysis.names.sites(name);
        let own_import = !sites.is_empty()
            && sites
                .iter()
                .all(|site| is_import_from(statement(&analysis.cells, site.at), dotted));
        // The module's code is not examined: what it runs while this is defined (a
        // decorator, a base class) might show something, or depend on the moment.
        if own_import && read.when == ReadTime::Now {
            return Some(StayReason::DefinitionTimeEffect {
                name: name.to_owned(),
            });
        }
        if moved.iter().any(|m| m == name) {
            continue;
        }
        let Some(binding) = module.binding(name) else {
            continue;
        };
        let same_import = binding.import
            && analysis.names.origin(name).is_some_and(|origin| {
                module.origin(binding, name).as_deref() == Some(origin.as_str())
            });
        if !own_import && !same_import {
            return Some(StayReason::BoundInModule {
                name: name.to_owned(),
                module: dotted.to_owned(),
            });
        }
    }
    None
}

/// Keeps the definitions of `name`, or, for a constant, every definition that needs it.
pub(super) fn keep_name(
    analysis: &Analysis,
    verdicts: &mut [Verdict],
    name: &str,
    reason: StayReason,
) {
    if let Some(i) = analysis.definitions.iter().position(|d| d.name == name) {
        keep(analysis, verdicts, i, reason);
        return;
    }
    let because = StayReason::DependsOn {
        name: name.to_owned(),
        because: Box::new(reason),
    };
    for i in 0..verdicts.len() {
        if matches!(&verdicts[i], Verdict::Move(needs) if needs.constants.contains(name)) {
            keep(analysis, verdicts, i, because.clone());
        }
    }
}

/// The statement that binds each moving name in the notebook.
pub(crate) fn written_sites(
    analysis: &Analysis,
    moving: &Moving,
) -> FxHashMap<String, StatementRef> {
    let mut sites = FxHashMap::default();
    for &at in moving.definitions.iter().chain(&moving.constants) {
        for binding in module_bindings(statement(&analysis.cells, at)) {
            sites.entry(binding.name).or_insert(at);
        }
    }
    sites
}
