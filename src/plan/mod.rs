//! The plan stage: turn a notebook's [`Decisions`] into text and edits: the package module,
//! the `%%writefile` modules, the rewritten cells and the import cell. It decides nothing.
//!
//! Pure: the plan is data. `--diff`, `--check`, `--format json` and the real write all render
//! the same plan.

mod merge;
mod writefile;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use ruff_python_ast::{IpyEscapeKind, Stmt};
use ruff_text_size::Ranged;

use crate::analysis::{Analysis, RunBinding, RunImport, StatementRef, statement};
use crate::decide::{Autoreload, Decisions, Moving};
use crate::emit::{self, Import};
use crate::notebook::{CellEdit, Notebook};
use crate::ownership::{ExistingModule, ModuleRecord};
use crate::python::imports::bound_name;
use crate::python::scope::{self, ReadTime};
use crate::python::span::{cut_range, without_names};
use writefile::{ImportEdits, import_edits, relative_sibling_imports};

/// What the user asked of `extract`, as far as planning is concerned.
#[derive(Clone, Debug)]
pub(crate) struct ExtractOptions {
    /// The package's import name.
    pub(crate) package: String,
    /// The dotted path of the package folder that holds this notebook's modules: the package
    /// itself (`mylib`), or a sub-package in a batch run (`mylib.notebooks.eda`).
    pub(crate) parent: String,
    /// Add `%load_ext autoreload` / `%autoreload 2` to the import cell.
    pub(crate) autoreload: bool,
    /// The notebook's path relative to the project's root, as the manifest records it.
    pub(crate) notebook_key: String,
    /// What the notebook imports from the package's shared module, when it shares.
    pub(crate) shared: Option<SharedUse>,
}

/// The names a notebook imports from the package's shared module instead of its own.
#[derive(Clone, Debug)]
pub(crate) struct SharedUse {
    /// The shared module, dotted (`mylib._shared`).
    pub(crate) module: String,
    /// The names: shared definitions and what they need.
    pub(crate) names: BTreeSet<String>,
}

/// The text and edits of one notebook's extraction.
#[derive(Clone, Debug)]
pub(crate) struct NotebookPlan {
    /// The module's text; `None` when no definition moves.
    pub(crate) module_text: Option<String>,
    /// How the notebook's cells change (empty when nothing moves).
    pub(crate) edits: Vec<CellEdit>,
    /// Public names the package's `__init__.py` may re-export.
    pub(crate) exports: Vec<String>,
    /// Modules written by `%%writefile` cells that move into the package: path inside the
    /// package folder, and content.
    pub(crate) written: Vec<(String, String)>,
    /// What the manifest records of the module as written.
    pub(crate) record: Option<ModuleRecord>,
}

/// Plans the extraction of one notebook into `options.package`, as module `module`.
pub(crate) fn plan_notebook(
    notebook: &Notebook,
    analysis: &Analysis,
    decisions: &Decisions,
    notebook_name: &str,
    module: &str,
    existing: Option<&ExistingModule>,
    options: &ExtractOptions,
) -> NotebookPlan {
    let writes = &decisions.writefiles;
    let moving_modules: Vec<&str> = writes.modules.iter().map(|m| m.module.as_str()).collect();
    let mut plan = NotebookPlan {
        module_text: None,
        edits: Vec::new(),
        exports: Vec::new(),
        record: None,
        written: writes
            .modules
            .iter()
            .map(|written| {
                let content =
                    relative_sibling_imports(&written.content, &written.module, &moving_modules);
                (written.path.clone(), content)
            })
            .collect(),
    };
    let mut rewrites = import_edits(notebook, analysis, writes, &options.parent);
    let dotted = format!("{}.{module}", options.parent);
    if let Some(at) = decisions.own_import {
        // The import an earlier run wrote takes the new names.
        let stmt = statement(&analysis.cells, at);
        if let Stmt::ImportFrom(import) = stmt {
            let mut names = crate::python::imports::members(&import.names);
            let before = names.len();
            for name in &decisions.imported {
                if !names.iter().any(|(n, _)| n == name) {
                    names.push((name.clone(), None));
                }
            }
            if names.len() > before {
                let import = Import::From {
                    module: dotted.clone(),
                    names,
                };
                let text = emit::import_lines(&[import], &options.package);
                rewrites
                    .entry(at.code_cell)
                    .or_default()
                    .push((stmt.range().into(), text));
            }
        }
    }
    plan.edits = cell_edits(notebook, analysis, decisions, &rewrites, &dotted);
    if let Some(position) = decisions.import_cell {
        let own_part;
        let shared = options.shared.as_ref();
        let (moving, from_shared) = match shared {
            Some(shared) => {
                let used;
                (own_part, used) = own_part_of(analysis, decisions, &shared.names);
                let import = (!used.is_empty()).then(|| Import::From {
                    module: shared.module.clone(),
                    names: used.into_iter().map(|name| (name, None)).collect(),
                });
                (&own_part, import)
            }
            None => (&decisions.moving, None),
        };
        // Everything that moves may be shared: the notebook imports from the shared module
        // only, and has no module of its own.
        let has_own =
            shared.is_none() || !moving.definitions.is_empty() || !moving.constants.is_empty();
        if has_own {
            let parts = module_parts(
                notebook,
                analysis,
                moving,
                writes,
                &rewrites,
                options,
                from_shared,
            );
            let (text, record) = module_text(parts, decisions, notebook_name, existing, options);
            plan.module_text = Some(text);
            plan.record = Some(record);
        }
        let (own_names, shared_names): (Vec<String>, Vec<String>) = decisions
            .imported
            .iter()
            .cloned()
            .partition(|name| shared.is_none_or(|shared| !shared.names.contains(name)));
        let modules = ImportedModules {
            own: has_own.then_some((module, own_names.as_slice())),
            shared: shared.map(|shared| (shared.module.as_str(), shared_names.as_slice())),
        };
        if decisions.own_import.is_none()
            && let Some(source) = import_cell(&modules, decisions.autoreload, options)
        {
            plan.edits.push(CellEdit::InsertCode {
                before: position,
                source,
                id: notebook
                    .uses_cell_ids()
                    .then(|| fresh_cell_id(notebook, module)),
            });
        }
        plan.exports = match (existing, &plan.module_text) {
            // What an earlier run wrote, and what a person added, is the module's too.
            (Some(_), Some(text)) => ExistingModule::read(text, None)
                .map(|module| {
                    module
                        .statements
                        .iter()
                        .filter(|stmt| !stmt.import)
                        .flat_map(|stmt| stmt.names.iter().cloned())
                        .collect()
                })
                .unwrap_or_default(),
            _ => moving.items.iter().map(|item| item.name.clone()).collect(),
        };
        plan.exports.retain(|name| !name.starts_with('_'));
    }
    plan
}

/// A name a `from` import imports, and its alias.
type Member = (String, Option<String>);

/// What a module holds, in order: the imports the moved code needs, the constants, the
/// definitions.
pub(crate) struct ModuleParts {
    imports: Vec<Import>,
    constants: Vec<String>,
    definitions: Vec<String>,
    written: Vec<merge::Written>,
}

/// The module: docstring, the imports the moved code needs, constants, definitions.
fn module_text(
    parts: ModuleParts,
    decisions: &Decisions,
    notebook_name: &str,
    existing: Option<&ExistingModule>,
    options: &ExtractOptions,
) -> (String, ModuleRecord) {
    let ModuleParts {
        imports,
        constants,
        definitions,
        written,
    } = parts;
    let text = match existing {
        Some(existing) => merge::merged_text(
            existing,
            &imports,
            &written,
            &decisions.merges,
            &options.package,
        ),
        None => emit::module_text(
            notebook_name,
            &emit::import_lines(&imports, &options.package),
            &constants,
            &definitions,
        ),
    };
    let before = existing.and_then(|existing| existing.record.as_ref());
    let record = merge::record(options.notebook_key.clone(), &text, &written, before);
    (text, record)
}

/// What the notebook's own module takes of what moves when the names `shared` come from the
/// shared module, and the names it imports from that module.
fn own_part_of(
    analysis: &Analysis,
    decisions: &Decisions,
    shared: &BTreeSet<String>,
) -> (Moving, Vec<String>) {
    let mut own = Moving::collect_where(analysis, &decisions.verdicts, &|name| {
        !shared.contains(name)
    });
    own.unverified.clone_from(&decisions.moving.unverified);
    own.unverified_stars
        .clone_from(&decisions.moving.unverified_stars);
    // A definition's needs hold what the definitions it calls need too: the module imports
    // only what its own statements read, as the shared module imports the rest.
    let read: BTreeSet<&str> = own
        .definitions
        .iter()
        .chain(&own.constants)
        .flat_map(|at| {
            analysis
                .reads(*at)
                .reads
                .iter()
                .map(|read| read.name.as_str())
        })
        .collect();
    own.imports.retain(|name| read.contains(name.as_str()));
    let used = shared
        .iter()
        .filter(|name| read.contains(name.as_str()))
        .cloned()
        .collect();
    (own, used)
}

/// The part of the shared module whose text comes from this notebook: the definitions and
/// constants named `names`, and the imports they need.
pub(crate) fn shared_parts(
    notebook: &Notebook,
    analysis: &Analysis,
    decisions: &Decisions,
    names: &BTreeSet<String>,
    options: &ExtractOptions,
) -> ModuleParts {
    let mut moving =
        Moving::collect_where(analysis, &decisions.verdicts, &|name| names.contains(name));
    moving.unverified.clone_from(&decisions.moving.unverified);
    let writes = &decisions.writefiles;
    module_parts(
        notebook,
        analysis,
        &moving,
        writes,
        &ImportEdits::new(),
        options,
        None,
    )
}

/// The shared module's text, and what the manifest records of it, from the parts of each
/// notebook that writes some of it, in path order. Its constants are literals and nothing in
/// it runs while it is defined, so the constants come first and the definitions follow in the
/// order of their parts.
pub(crate) fn shared_module(
    parts: Vec<ModuleParts>,
    options: &ExtractOptions,
) -> (String, ModuleRecord) {
    let mut all = ModuleParts {
        imports: Vec::new(),
        constants: Vec::new(),
        definitions: Vec::new(),
        written: Vec::new(),
    };
    for part in parts {
        for import in part.imports {
            if !all.imports.contains(&import) {
                all.imports.push(import);
            }
        }
        all.constants.extend(part.constants);
        all.definitions.extend(part.definitions);
        all.written.extend(part.written);
    }
    let text = emit::module_text(
        "several notebooks",
        &emit::import_lines(&all.imports, &options.package),
        &all.constants,
        &all.definitions,
    );
    let record = merge::record(options.notebook_key.clone(), &text, &all.written, None);
    (text, record)
}

/// The imports, constants and definitions of `moving`, as the module writes them; `extra`
/// joins the imports.
fn module_parts(
    notebook: &Notebook,
    analysis: &Analysis,
    moving: &Moving,
    writes: &crate::decide::writefile::WriteFiles,
    rewrites: &ImportEdits,
    options: &ExtractOptions,
    extra: Option<Import>,
) -> ModuleParts {
    let package = options.parent.as_str();
    let mut imports = Vec::new();
    if moving.future_annotations {
        imports.push(Import::From {
            module: "__future__".to_owned(),
            names: vec![("annotations".to_owned(), None)],
        });
    }
    let mut blocks_seen = BTreeSet::new();
    // Import blocks that read moved constants: they go among the constants.
    let mut late_blocks = Vec::new();
    // By module, and whether the import may fail alone.
    let mut from_imports: BTreeMap<(String, bool), Vec<Member>> = BTreeMap::new();
    let guard = |import: Import, name: &str| {
        if moving.unverified.contains(name) {
            Import::Guarded(Box::new(import))
        } else {
            import
        }
    };
    for name in &moving.imports {
        for site in analysis.names.sites(name) {
            let stmt = statement(&analysis.cells, site.at);
            if let Some(RunBinding::Import(import) | RunBinding::Hoisted(import)) =
                analysis.names.run_binding(site.at, name)
            {
                let import = guard(run_import(import), name);
                if !imports.contains(&import) {
                    imports.push(import);
                }
                continue;
            }
            match stmt {
                Stmt::Import(import) => {
                    for alias in &import.names {
                        if bound_name(alias, false) == name {
                            let module = alias.name.to_string();
                            let asname = alias.asname.as_ref().map(ToString::to_string);
                            // A module a `%%writefile` cell wrote now lives in the package.
                            let import = match (writes.get(&module), module.rsplit_once('.')) {
                                (Some(_), Some((parent, leaf))) => Import::From {
                                    module: format!("{package}.{parent}"),
                                    names: vec![(leaf.to_owned(), asname)],
                                },
                                (Some(_), None) => Import::From {
                                    module: package.to_owned(),
                                    names: vec![(module, asname)],
                                },
                                (None, _) => Import::Module {
                                    module,
                                    alias: asname,
                                },
                            };
                            let import = guard(import, name);
                            if !imports.contains(&import) {
                                imports.push(import);
                            }
                        }
                    }
                }
                Stmt::ImportFrom(import) => {
                    let mut module = format!(
                        "{}{}",
                        ".".repeat(import.level as usize),
                        import.module.as_ref().map_or("", |m| m.as_str())
                    );
                    let from_written = writes.get(&module).is_some()
                        || import
                            .names
                            .iter()
                            .any(|alias| writes.get(&format!("{module}.{}", alias.name)).is_some());
                    if import.level == 0 && from_written {
                        module = format!("{package}.{module}");
                    }
                    for alias in &import.names {
                        if bound_name(alias, true) == name {
                            let member = (
                                alias.name.to_string(),
                                alias.asname.as_ref().map(ToString::to_string),
                            );
                            let key = (module.clone(), moving.unverified.contains(name));
                            let members = from_imports.entry(key).or_default();
                            if !members.contains(&member) {
                                members.push(member);
                            }
                        }
                    }
                }
                _ => {
                    if !blocks_seen.insert(site.at) {
                        continue;
                    }
                    // `if DEBUG: import pprint` needs `DEBUG` bound first.
                    let reads_constant = analysis.reads(site.at).reads.iter().any(|read| {
                        analysis
                            .names
                            .sites(&read.name)
                            .iter()
                            .any(|binding| moving.constants.contains(&binding.at))
                    });
                    if reads_constant {
                        late_blocks.push(site.at);
                    } else {
                        let source = analysis.cells[site.at.code_cell].text(notebook);
                        let range = stmt.range().start().to_usize()..stmt.range().end().to_usize();
                        imports.push(Import::Block(with_rewrites(
                            source,
                            range,
                            rewrites.get(&site.at.code_cell),
                        )));
                    }
                }
            }
        }
    }
    // Never `from math import *` in the module: what the notebook's star import binds, by name.
    for (name, at) in &moving.star {
        let Stmt::ImportFrom(import) = statement(&analysis.cells, *at) else {
            continue;
        };
        let module = import.module.as_ref().map_or("", |m| m.as_str()).to_owned();
        let key = (module, moving.unverified_stars.contains(at));
        let members = from_imports.entry(key).or_default();
        let member = (name.clone(), None);
        if !members.contains(&member) {
            members.push(member);
        }
    }
    for ((module, unverified), names) in from_imports {
        let import = Import::From { module, names };
        imports.push(if unverified {
            Import::Guarded(Box::new(import))
        } else {
            import
        });
    }
    imports.extend(extra);
    for name in &moving.ipython {
        let module = if name == "display" {
            "IPython.display"
        } else {
            "IPython"
        };
        imports.push(Import::From {
            module: module.to_owned(),
            names: vec![(name.clone(), None)],
        });
    }
    // Notebook order, in which they ran, binds what each reads before it. Constants built
    // from definitions (`HANDLERS = [load, save]`) go among the definitions.
    let (mut constant_sites, among_definitions) = after_definitions(analysis, moving);
    constant_sites.extend(late_blocks);
    constant_sites.sort();
    let constants: Vec<String> = constant_sites
        .iter()
        .map(|&at| {
            let (source, range) = block(notebook, analysis, at);
            let text = with_rewrites(source, range, rewrites.get(&at.code_cell));
            text.trim_end().to_owned()
        })
        .collect();
    // Imports of `%%writefile` modules inside moved code come from the package too.
    let mut body: Vec<StatementRef> = moving.definitions.clone();
    body.extend(among_definitions);
    body.sort();
    let definitions: Vec<String> = body
        .iter()
        .map(|at| {
            let (source, range) = block(notebook, analysis, *at);
            with_rewrites(source, range, rewrites.get(&at.code_cell))
        })
        .collect();
    let written: Vec<merge::Written> = constant_sites
        .iter()
        .zip(&constants)
        .chain(body.iter().zip(&definitions))
        .map(|(&at, text)| merge::Written {
            names: scope::module_bindings(statement(&analysis.cells, at))
                .into_iter()
                .map(|binding| binding.name)
                .collect(),
            text: text.clone(),
            cell: notebook.cells()[analysis.cells[at.code_cell].index.0]
                .id
                .clone(),
        })
        .collect();
    ModuleParts {
        imports,
        constants,
        definitions,
        written,
    }
}

/// The import a file run with `%run` makes, as the module writes it.
fn run_import(import: &RunImport) -> Import {
    match import.clone() {
        RunImport::Module { module, alias } => Import::Module { module, alias },
        RunImport::From {
            module,
            member,
            alias,
        } => Import::From {
            module,
            names: vec![(member, alias)],
        },
    }
}

/// The moved constants, split into those that can go first and those whose value reads a
/// moved definition (or such a constant), which must follow it.
fn after_definitions(
    analysis: &Analysis,
    moving: &Moving,
) -> (Vec<StatementRef>, Vec<StatementRef>) {
    let bound = |at: &StatementRef| scope::module_bindings(statement(&analysis.cells, *at));
    let mut defined: BTreeSet<String> = moving
        .definitions
        .iter()
        .flat_map(bound)
        .map(|binding| binding.name)
        .collect();
    let mut first = moving.constants.clone();
    let mut late = Vec::new();
    loop {
        let (reads_definition, rest): (Vec<StatementRef>, Vec<StatementRef>) =
            first.iter().partition(|at| {
                analysis
                    .reads(**at)
                    .reads
                    .iter()
                    .any(|read| read.when == ReadTime::Now && defined.contains(read.name.as_str()))
            });
        if reads_definition.is_empty() {
            return (rest, late);
        }
        defined.extend(reads_definition.iter().flat_map(bound).map(|b| b.name));
        first = rest;
        late.extend(reads_definition);
    }
}

/// `source[range]` with the rewrites of imports of `%%writefile` modules inside it applied.
fn with_rewrites(
    source: &str,
    range: Range<usize>,
    rewrites: Option<&Vec<(Range<usize>, String)>>,
) -> String {
    let inside: Vec<(Range<usize>, String)> = rewrites
        .into_iter()
        .flatten()
        .filter(|(edit, _)| range.start <= edit.start && edit.end <= range.end)
        .map(|(edit, text)| {
            (
                edit.start - range.start..edit.end - range.start,
                text.clone(),
            )
        })
        .collect();
    emit::replace_ranges(&source[range], inside)
}

/// A statement's block (with its comments) as it is written in its cell, and its range.
fn block<'n>(
    notebook: &'n Notebook,
    analysis: &'n Analysis,
    at: StatementRef,
) -> (&'n str, Range<usize>) {
    let cell = &analysis.cells[at.code_cell];
    let source = cell.text(notebook);
    (
        source,
        cut_range(source, cell.notebook_statements(), at.statement),
    )
}

/// Edits to the notebook's cells: moved statements and the imports that go cut out (cells
/// left empty are removed), names that go cut out of the imports that stay, moving
/// `%%writefile` cells removed, and imports of their modules rewritten to come from the
/// package.
fn cell_edits(
    notebook: &Notebook,
    analysis: &Analysis,
    decisions: &Decisions,
    rewrites: &ImportEdits,
    dotted: &str,
) -> Vec<CellEdit> {
    let writes = &decisions.writefiles;
    let moving = decisions.import_cell.map(|_| &decisions.moving);
    let mut by_cell = rewrites.clone();
    for (at, name) in moving.iter().flat_map(|moving| &moving.in_place) {
        let range = statement(&analysis.cells, *at).range();
        by_cell.entry(at.code_cell).or_default().push((
            range.into(),
            emit::from_import(dotted, std::slice::from_ref(name)),
        ));
    }
    let mut cut: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
    let whole = decisions
        .dropped
        .iter()
        .filter(|drop| drop.reason.is_whole())
        .map(|drop| &drop.at);
    for at in moving.iter().flat_map(|moving| &moving.cut).chain(whole) {
        let (_, range) = block(notebook, analysis, *at);
        by_cell
            .entry(at.code_cell)
            .or_default()
            .push((range, String::new()));
        cut.entry(at.code_cell).or_default().insert(at.statement);
    }
    for drop in decisions
        .dropped
        .iter()
        .filter(|drop| !drop.reason.is_whole())
    {
        let stmt = statement(&analysis.cells, drop.at);
        let source = analysis.cells[drop.at.code_cell].text(notebook);
        by_cell.entry(drop.at.code_cell).or_default().push((
            stmt.range().into(),
            without_names(source, stmt, &drop.names),
        ));
    }
    for (code_cell, cut) in cut {
        let cell = &analysis.cells[code_cell];
        if let Some(quiet) = keep_quiet(cell.text(notebook), cell.notebook_statements(), &cut) {
            by_cell.entry(code_cell).or_default().push(quiet);
        }
    }
    let mut edits: Vec<CellEdit> = writes
        .modules
        .iter()
        .flat_map(|module| &module.cells)
        .map(|&cell| CellEdit::Remove { cell })
        .collect();
    for (code_cell, replacements) in by_cell {
        let index = analysis.cells[code_cell].index;
        let source = analysis.cells[code_cell].text(notebook);
        let cell = &notebook.cells()[index.0];
        edits.push(match emit::edit(source, replacements) {
            Some(source) => CellEdit::ReplaceSource {
                cell: index,
                source,
            },
            // A cell left empty goes, unless it has outputs or tags to lose.
            None if cell.carries_data || !cell.tags.is_empty() => CellEdit::ReplaceSource {
                cell: index,
                source: String::new(),
            },
            None => CellEdit::Remove { cell: index },
        });
    }
    edits.sort_by_key(|edit| match edit {
        CellEdit::ReplaceSource { cell, .. } | CellEdit::Remove { cell } => *cell,
        CellEdit::InsertCode { before, .. } => *before,
    });
    edits
}

/// IPython displays the value of a cell whose last statement is an expression. When the
/// statements cut from a cell include its last one and leave an expression last, the cell
/// would start displaying it: a `;` after that expression keeps it quiet, as IPython reads a
/// cell ending in `;`. Returns that insertion.
fn keep_quiet(
    source: &str,
    statements: &[Stmt],
    cut: &BTreeSet<usize>,
) -> Option<(Range<usize>, String)> {
    if !cut.contains(&statements.len().checked_sub(1)?) {
        return None;
    }
    let last = (0..statements.len()).rev().find(|i| !cut.contains(i))?;
    let end = match &statements[last] {
        Stmt::Expr(expr) => expr.end().to_usize(),
        // `%time f(2)` shows the value of `f(2)`; a `;` ends up in the timed code, where it
        // changes nothing. Other magics may read it as an argument.
        Stmt::IpyEscapeCommand(command)
            if command.kind == IpyEscapeKind::Magic
                && command.value.split_whitespace().next() == Some("time")
                && !command.value.contains('#') =>
        {
            command.end().to_usize()
        }
        _ => return None,
    };
    let line_end = source[end..].find('\n').map_or(source.len(), |n| end + n);
    if source[end..line_end].trim_start().starts_with(';') {
        return None;
    }
    Some((end..end, ";".to_owned()))
}

/// The modules the import cell imports from, each with the names it imports.
struct ImportedModules<'a> {
    /// The notebook's own module, by its name in its folder, unless everything that moves is
    /// shared.
    own: Option<(&'a str, &'a [String])>,
    /// The shared module, dotted, when the notebook shares definitions.
    shared: Option<(&'a str, &'a [String])>,
}

/// The new cell: autoreload (unless the notebook has it or it is off) and the imports; `None`
/// when it would be empty, every moved name being imported in place.
fn import_cell(
    modules: &ImportedModules<'_>,
    autoreload: Autoreload,
    options: &ExtractOptions,
) -> Option<String> {
    let mut lines = Vec::new();
    let own = modules
        .own
        .map(|(module, names)| (format!("{}.{module}", options.parent), names));
    let shared = modules
        .shared
        .map(|(module, names)| (module.to_owned(), names));
    let imported: Vec<(String, &[String])> = own.into_iter().chain(shared).collect();
    if options.autoreload && autoreload == Autoreload::Explicit {
        // `%load_ext` prints a message when the extension is loaded already, as it is when
        // another notebook runs this one with `%run`; `load_extension` says so instead, and
        // the mode is set only on first load, so that such a notebook keeps its own.
        lines.push(
            "if get_ipython().extension_manager.load_extension(\"autoreload\") != \"already loaded\":"
                .to_owned(),
        );
        lines.push("    %autoreload 1".to_owned());
        for (dotted, _) in &imported {
            lines.push(format!("%aimport {dotted}"));
        }
    }
    for (dotted, names) in &imported {
        let sorted: Vec<String> =
            emit::sorted_members(names.iter().map(|n| (n.clone(), ())).collect())
                .into_iter()
                .map(|(name, ())| name)
                .collect();
        if !sorted.is_empty() {
            lines.push(emit::from_import(dotted, &sorted));
        }
    }
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// A cell id that no cell of the notebook has yet, like the 8 hex digits Jupyter writes, but
/// derived from the notebook and the module so that runs are reproducible.
fn fresh_cell_id(notebook: &Notebook, module: &str) -> String {
    let taken: BTreeSet<&str> = notebook
        .cells()
        .iter()
        .filter_map(|c| c.id.as_deref())
        .collect();
    // FNV-1a: stable across Rust versions, unlike the standard library's hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut id = String::new();
    for salt in 0u32.. {
        for byte in module
            .bytes()
            .chain(notebook.text().bytes().take(4096))
            .chain(salt.to_le_bytes())
        {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
        id = format!("{:08x}", hash as u32);
        if !taken.contains(id.as_str()) {
            break;
        }
    }
    id
}

/// The module name for a notebook file stem: lower case; every run of characters other than
/// ASCII letters and digits becomes one `_`; `_` at either end is dropped; a name that would
/// start with a digit or be a Python keyword gets the prefix `nb_`, and an empty one is
/// `notebook`.
/// `01 - Data Cleaning` → `nb_01_data_cleaning`.
pub(crate) fn module_name(stem: &str) -> String {
    let mut name = String::new();
    for c in stem.chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c.to_ascii_lowercase());
        } else if !name.ends_with('_') {
            name.push('_');
        }
    }
    let name = name.trim_matches('_');
    if name.is_empty() {
        "notebook".to_owned()
    } else if name.starts_with(|c: char| c.is_ascii_digit())
        || ruff_python_stdlib::keyword::is_keyword(name)
    {
        format!("nb_{name}")
    } else {
        name.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_left_ending_in_an_expression_stays_quiet() {
        let quiet = |source: &str, cut: &[usize]| {
            let parsed = crate::python::parse::parse_cell(source);
            let cut: BTreeSet<usize> = cut.iter().copied().collect();
            let edit = keep_quiet(source, &parsed.syntax().body, &cut);
            let mut edits: Vec<(Range<usize>, String)> = edit.into_iter().collect();
            for &i in &cut {
                let range = cut_range(source, &parsed.syntax().body, i);
                edits.push((range, String::new()));
            }
            emit::edit(source, edits)
        };
        assert_eq!(
            quiet("x = 5\nx  # five\ndef f():\n    pass\n", &[2]).as_deref(),
            Some("x = 5\nx;  # five\n")
        );
        assert_eq!(
            quiet("\"Notes.\"\n\ndef f():\n    pass", &[1]).as_deref(),
            Some("\"Notes.\";")
        );
        // Already quiet, or the last statement stays, or it is not an expression.
        assert_eq!(
            quiet("x;\ndef f():\n    pass\n", &[1]).as_deref(),
            Some("x;\n")
        );
        assert_eq!(
            quiet("def f():\n    pass\nx\n", &[0]).as_deref(),
            Some("x\n")
        );
        assert_eq!(
            quiet("y = 1\ndef f():\n    pass\n", &[1]).as_deref(),
            Some("y = 1\n")
        );
        assert_eq!(
            quiet("%time f(2)\ndef g():\n    pass\n", &[1]).as_deref(),
            Some("%time f(2);\n")
        );
        assert_eq!(
            quiet("%who_ls\ndef g():\n    pass\n", &[1]).as_deref(),
            Some("%who_ls\n")
        );
    }

    #[test]
    fn module_names_from_file_names() {
        assert_eq!(module_name("analysis"), "analysis");
        assert_eq!(module_name("01 - Data Cleaning"), "nb_01_data_cleaning");
        assert_eq!(module_name("EDA-v2 (final)"), "eda_v2_final");
        assert_eq!(module_name("class"), "nb_class");
        assert_eq!(module_name("..."), "notebook");
        assert_eq!(module_name("café"), "caf");
    }
}
