//! Notebooks that run one another with `%run`: what running a decided notebook binds in the
//! notebook that runs it, and the definitions that must stay because that notebook binds
//! their names again in the namespace both share.

use std::collections::BTreeMap;

use super::definitions::keep;
use super::{Decisions, StayReason, Verdict};
use crate::analysis::{
    Analysis, NameClass, Opacity, RunBinding, RunEffect, RunImport, RunPlace, RunTarget,
    StatementRef, Unfollowed, plain_import, statement,
};
use crate::notebook::Notebook;
use crate::position::CellNumber;
use crate::python::scope;

/// What the notebooks that run this one with `%run` bind after running it, in the namespace
/// they share with it.
#[derive(Clone, Debug, Default)]
pub(crate) struct Runners {
    /// Names bound again, with the notebook and cell that first does.
    pub(crate) rebound: BTreeMap<String, (String, CellNumber)>,
    /// A notebook that may bind any name afterwards (`exec`, a star import, a `%run` nbhoist
    /// cannot follow), and its cell.
    pub(crate) any: Option<(String, CellNumber)>,
    /// The first notebook found running this one, and the cell of its `%run` line.
    pub(crate) first: Option<(String, CellNumber)>,
}

/// Keeps every definition after the first cell that has an error: `%run` stops the notebook
/// there, so what follows never exists for the notebook running it, while the import cell,
/// above, would bind it.
pub(super) fn keep_after_errors(
    notebook: &Notebook,
    analysis: &Analysis,
    runners: &Runners,
    verdicts: &mut [Verdict],
) {
    let Some((runner, _)) = &runners.first else {
        return;
    };
    let first_error = analysis
        .cells
        .iter()
        .filter(|cell| cell.has_syntax_error || notebook.cells()[cell.index.0].error_output)
        .map(|cell| cell.index)
        .min();
    let Some(error) = first_error else {
        return;
    };
    for i in 0..analysis.definitions.len() {
        if verdicts[i].is_move() && analysis.definitions[i].cell >= error {
            let reason = StayReason::RunStops {
                cell: error.number(),
                notebook: runner.clone(),
            };
            keep(analysis, verdicts, i, reason);
        }
    }
}

/// Keeps every definition that, hoisted, would not see a name as a notebook running this
/// one binds it again: its own name, or one it needs.
pub(super) fn keep_bound_by_runners(
    analysis: &Analysis,
    runners: &Runners,
    verdicts: &mut [Verdict],
) {
    for i in 0..analysis.definitions.len() {
        let Verdict::Move(needs) = &verdicts[i] else {
            continue;
        };
        let own = &analysis.definitions[i].name;
        // What it and the definitions it takes along read, builtins included.
        let statements = std::iter::once(analysis.definitions[i].at).chain(
            needs
                .definitions
                .iter()
                .chain(&needs.constants)
                .filter_map(|name| Some(analysis.names.sites(name).first()?.at)),
        );
        let reads: Vec<String> = statements
            .flat_map(|at| {
                analysis
                    .reads(at)
                    .reads
                    .iter()
                    .map(|read| read.name.to_string())
            })
            .collect();
        let rebound = std::iter::once(own)
            .chain(&needs.imports)
            .chain(&needs.constants)
            .chain(&needs.definitions)
            .chain(needs.star.keys())
            .chain(&reads)
            .find_map(|name| Some((name, runners.rebound.get(name)?)));
        let reason = match (rebound, &runners.any) {
            (Some((name, (notebook, cell))), _) => StayReason::BoundByRunner {
                own: name == own,
                name: name.clone(),
                notebook: notebook.clone(),
                cell: *cell,
            },
            (None, Some((notebook, cell))) => StayReason::BoundByRunner {
                own: true,
                name: own.clone(),
                notebook: notebook.clone(),
                cell: *cell,
            },
            (None, None) => continue,
        };
        keep(analysis, verdicts, i, reason);
    }
}

/// What `%run` of a decided notebook binds in the notebook that runs it. `file` is how that
/// notebook names it; `module` is the dotted module its hoisted code goes to; `elsewhere`
/// says that it lies in another folder than the notebook running it.
pub(crate) fn notebook_effect(
    notebook: &Notebook,
    analysis: &Analysis,
    decisions: &Decisions,
    file: &str,
    module: &str,
    elsewhere: bool,
) -> RunEffect {
    match opacity(notebook, analysis, elsewhere) {
        Some(what) => RunEffect::Unknown(Unfollowed::Opaque {
            file: file.to_owned(),
            what,
        }),
        None => RunEffect::Binds(bindings(analysis, decisions, file, module)),
    }
}

/// Why what the notebook binds cannot be known from its text, if it cannot.
fn opacity(notebook: &Notebook, analysis: &Analysis, elsewhere: bool) -> Option<Opacity> {
    let errors = !analysis.syntax_errors.is_empty()
        || analysis
            .cells
            .iter()
            .any(|cell| notebook.cells()[cell.index.0].error_output);
    if errors {
        return Some(Opacity::Errors);
    }
    let names = &analysis.names;
    if let Some((_, why)) = names.unknown_runs.first() {
        return Some(Opacity::RunsUnknown(Box::new(why.clone())));
    }
    if !names.dynamic_bindings.is_empty() || !names.star_imports.is_empty() {
        return Some(Opacity::DynamicBindings);
    }
    let runs_files = analysis
        .runs
        .iter()
        .any(|line| matches!(line.target, RunTarget::File(_)));
    if elsewhere && runs_files {
        return Some(Opacity::RunsFromElsewhere);
    }
    // It runs in the namespace of the notebook that runs it: a name it reads but never binds
    // is that notebook's.
    for (code_cell, cell) in analysis.cells.iter().enumerate() {
        for statement in 0..cell.notebook_statements().len() {
            let at = StatementRef {
                code_cell,
                statement,
            };
            for read in &analysis.reads(at).reads {
                let name = read.name.as_str();
                if names.sites(name).is_empty() && !provided(name) {
                    return Some(Opacity::ReadsCallerName(name.to_owned()));
                }
            }
        }
    }
    None
}

/// Names every notebook has without binding them: builtins, and what IPython provides.
fn provided(name: &str) -> bool {
    scope::is_builtin(name)
        || name.starts_with("__")
        || matches!(
            name,
            "display" | "get_ipython" | "exit" | "quit" | "In" | "Out" | "_" | "_dh"
        )
}

/// Every top-level name the notebook binds, and what it stands for when the notebook has run.
fn bindings(
    analysis: &Analysis,
    decisions: &Decisions,
    file: &str,
    module: &str,
) -> Vec<(String, RunBinding)> {
    let names = &analysis.names;
    let moves = |name: &str| decisions.moving.items.iter().any(|item| item.name == name);
    let mut bound: Vec<(String, RunBinding)> = Vec::new();
    for name in names.names() {
        let sites = names.sites(name);
        let (Some(first), Some(last)) = (sites.first(), sites.last()) else {
            continue;
        };
        let variable = || RunBinding::Variable {
            file: file.to_owned(),
            place: RunPlace::Cell(last.cell.number()),
        };
        let binding = match names.class(name) {
            Some(NameClass::Import) => match names.run_binding(first.at, name) {
                Some(binding) => binding.clone(),
                None => match plain_import(statement(&analysis.cells, first.at), name) {
                    // Imported from its own module, hoisted on an earlier run: a constant or
                    // a definition, which the import does not tell.
                    Some(import) if import.module() == module => variable(),
                    // A module one of its `%%writefile` cells writes may not exist anymore.
                    Some(import) if decisions.writefiles.get(top_module(&import)).is_none() => {
                        RunBinding::Import(import)
                    }
                    _ => variable(),
                },
            },
            // A constant's value may be changed in place by the notebook running this one,
            // which the constant rules of that notebook do not see: it stays a variable.
            Some(NameClass::Definitions) if moves(name) => RunBinding::Hoisted(RunImport::From {
                module: module.to_owned(),
                member: name.to_owned(),
                alias: None,
            }),
            _ => match names.run_binding(last.at, name) {
                Some(binding @ RunBinding::Variable { .. }) => binding.clone(),
                _ => variable(),
            },
        };
        bound.push((name.to_owned(), binding));
    }
    bound
}

/// The first part of the module an import imports from.
fn top_module(import: &RunImport) -> &str {
    let module = import.module();
    module.split('.').next().unwrap_or(module)
}
