//! The plan stage: from an [`Analysis`], decide what leaves the notebook, what the package
//! module holds, where the import cell goes, and how each cell changes.
//!
//! Pure: the plan is data. `--diff`, `--check`, `--format json` and the real write all render
//! the same plan.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use ruff_python_ast::Stmt;
use ruff_text_size::Ranged;

use crate::analysis::{
    Analysis, Definition, DefinitionKind, StatementRef, StayReason, Verdict, is_import_block, keep,
    statement,
};
use crate::emit::{self, Import};
use crate::magics::CellMagic;
use crate::notebook::{CellEdit, Notebook};
use crate::position::{CellIndex, CellNumber};
use crate::python::span::statement_block;
use crate::writefile::{
    ImportEdits, WriteFileVerdict, WriteFiles, WrittenModule, analyse_writefiles, import_edits,
};

/// What the user asked of `extract`, as far as planning is concerned.
#[derive(Clone, Debug)]
pub struct ExtractOptions {
    /// The package's import name.
    pub package: String,
    /// The dotted path of the package folder that holds this notebook's modules: the package
    /// itself (`mylib`), or a sub-package in a batch run (`mylib.notebooks.eda`).
    pub parent: String,
    /// Add `%load_ext autoreload` / `%autoreload 2` to the import cell.
    pub autoreload: bool,
}

/// What happens to one notebook.
#[derive(Clone, Debug)]
pub struct NotebookPlan {
    /// The module's name inside the package (`analysis`).
    pub module: String,
    /// The module's text; `None` when nothing moves.
    pub module_text: Option<String>,
    /// Everything that moves, in notebook order.
    pub moved: Vec<Moved>,
    /// Every definition that stays, with its reason, in notebook order.
    pub kept: Vec<Kept>,
    /// How the notebook's cells change (empty when nothing moves).
    pub edits: Vec<CellEdit>,
    /// Public names the package's `__init__.py` may re-export.
    pub exports: Vec<String>,
    /// Modules written by `%%writefile` cells that move into the package.
    pub written: Vec<WrittenModule>,
    /// What happens to every `%%writefile` cell.
    pub writefiles: Vec<WriteFileVerdict>,
}

impl NotebookPlan {
    /// True when the notebook is left as it is.
    pub fn is_empty(&self) -> bool {
        self.moved.is_empty() && self.written.is_empty()
    }
}

/// A definition or constant that moves to the package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Moved {
    /// Its name.
    pub name: String,
    /// What it is.
    pub kind: MovedKind,
    /// The cell it comes from.
    pub cell: CellNumber,
}

/// The kind of a moved item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MovedKind {
    /// A function.
    Function,
    /// A class.
    Class,
    /// A constant a moved definition needs.
    Constant,
}

/// A definition that stays in the notebook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kept {
    /// Its name.
    pub name: String,
    /// The cell it is in.
    pub cell: CellNumber,
    /// Why it stays.
    pub reason: StayReason,
}

/// Plans the extraction of one notebook into `options.package`, as module `module`.
pub fn plan_notebook(
    notebook: &Notebook,
    analysis: &Analysis,
    notebook_name: &str,
    module: &str,
    options: &ExtractOptions,
) -> NotebookPlan {
    let writes = analyse_writefiles(notebook, analysis, module);
    let dotted = format!("{}.{module}", options.parent);
    // A notebook that already imports from its module was extracted before; adding to the
    // module needs merging, which nbhoist does not do yet.
    let hoisted_before = imports_from(analysis, &dotted);
    // The analysis' verdicts, which placing the import cell can turn into stays.
    let mut definitions = analysis.definitions.clone();
    if hoisted_before {
        for definition in &mut definitions {
            if definition.verdict.is_move() {
                definition.verdict = Verdict::Stay(StayReason::AlreadyHoisted {
                    module: dotted.clone(),
                });
            }
        }
    }
    let setup = Setup::find(notebook, analysis, &writes);
    // Placing the import cell can force definitions to stay; each round keeps at least one
    // more, so this ends.
    let placement = loop {
        let moving = Moving::collect(analysis, &definitions);
        match setup.place(analysis, &moving) {
            Ok(position) => break position.map(|p| (p, moving)),
            Err(blocking) => keep_before(analysis, &mut definitions, blocking),
        }
    };
    let kept = definitions
        .iter()
        .filter_map(|definition| match &definition.verdict {
            Verdict::Stay(reason) => Some(Kept {
                name: definition.name.clone(),
                cell: definition.cell.number(),
                reason: reason.clone(),
            }),
            Verdict::Move => None,
        })
        .collect();
    let mut plan = NotebookPlan {
        module: module.to_owned(),
        module_text: None,
        moved: Vec::new(),
        kept,
        edits: Vec::new(),
        exports: Vec::new(),
        written: writes.modules.clone(),
        writefiles: writes.verdicts.clone(),
    };
    let moving = placement.as_ref().map(|(_, moving)| moving);
    let rewrites = import_edits(&writes, &options.parent);
    plan.edits = cell_edits(notebook, analysis, moving, &writes, &rewrites);
    if let Some((position, moving)) = placement {
        plan.module_text = Some(module_text(
            notebook,
            analysis,
            &moving,
            &writes,
            &rewrites,
            notebook_name,
            options,
        ));
        // Every moved name comes back, constants too: the notebook may read them where no
        // analysis can see (`%time f(X)`, `!echo {X}`, `eval("X")`).
        let imported: Vec<String> = moving.items.iter().map(|item| item.name.clone()).collect();
        plan.edits.push(CellEdit::InsertCode {
            before: position,
            source: import_cell(notebook, analysis, module, &imported, options),
            id: notebook
                .uses_cell_ids()
                .then(|| fresh_cell_id(notebook, module)),
        });
        plan.exports = moving
            .items
            .iter()
            .map(|item| item.name.clone())
            .filter(|name| !name.starts_with('_'))
            .collect();
        plan.moved = moving.items;
    }
    plan
}

/// What moves: definitions (first copy of each name) and the constants they need.
struct Moving {
    items: Vec<Moved>,
    /// Statements cut out of the notebook: every copy of a moved definition, and the
    /// constants.
    cut: Vec<StatementRef>,
    /// Statements written to the module, in notebook order: constants first, then definitions.
    constants: Vec<StatementRef>,
    definitions: Vec<StatementRef>,
    /// Names bound by imports that the module needs.
    imports: BTreeSet<String>,
    ipython: BTreeSet<String>,
    star: bool,
    future_annotations: bool,
}

impl Moving {
    fn collect(analysis: &Analysis, definitions: &[Definition]) -> Moving {
        let mut moving = Moving {
            items: Vec::new(),
            cut: Vec::new(),
            constants: Vec::new(),
            definitions: Vec::new(),
            imports: BTreeSet::new(),
            ipython: BTreeSet::new(),
            star: false,
            future_annotations: false,
        };
        let mut constants = BTreeSet::new();
        let mut seen = BTreeSet::new();
        for definition in definitions {
            if !definition.verdict.is_move() {
                continue;
            }
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
            let needs = &definition.needs;
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

/// Cells that make the package's imports possible (installing packages, writing files,
/// changing `sys.path` or the working directory), and the notebook's leading setup cells.
struct Setup {
    enabling: Vec<CellIndex>,
    /// Where the import cell goes when nothing else constrains it: after the leading run of
    /// cells that only import or run magics.
    preferred: CellIndex,
}

impl Setup {
    fn find(notebook: &Notebook, analysis: &Analysis, writes: &WriteFiles) -> Setup {
        let mut enabling = Vec::new();
        for cell in &analysis.cells {
            let source = &notebook.cells()[cell.index.0].source;
            // A `%%writefile` cell that moves no longer writes anything: its module is in the
            // package.
            let writes_file =
                matches!(cell.magic, Some(CellMagic::WriteFile(_))) && !writes.moves(cell.index);
            if writes_file || enables_imports(source) {
                enabling.push(cell.index);
            }
        }
        let mut preferred = None;
        for cell in &analysis.cells {
            let is_setup = cell.magic.is_none()
                && !cell.has_syntax_error
                && cell.notebook_statements().iter().all(|stmt| {
                    matches!(
                        stmt,
                        Stmt::Import(_) | Stmt::ImportFrom(_) | Stmt::IpyEscapeCommand(_)
                    ) || is_import_block(stmt)
                });
            if !is_setup {
                break;
            }
            preferred = Some(CellIndex(cell.index.0 + 1));
        }
        let first_code = analysis
            .cells
            .first()
            .map_or(CellIndex(notebook.cells().len()), |c| c.index);
        Setup {
            enabling,
            preferred: preferred.unwrap_or(first_code),
        }
    }

    /// Where the import cell goes: `Ok(None)` when nothing moves; `Err(cell)` when a cell
    /// that enables the module's imports comes at or after the first cell code is cut from,
    /// so the definitions in cells up to it must stay.
    fn place(&self, analysis: &Analysis, moving: &Moving) -> Result<Option<CellIndex>, CellIndex> {
        let Some(first_cut) = moving.first_cut(analysis) else {
            return Ok(None);
        };
        // The original imports worked where they first ran; every enabling cell before that
        // point may be what made them work.
        let import_cells = moving
            .imports
            .iter()
            .map(|name| analysis.names.sites(name)[0].cell)
            .chain(
                moving
                    .star
                    .then(|| {
                        analysis
                            .names
                            .star_imports
                            .iter()
                            .map(|at| analysis.cells[at.code_cell].index)
                    })
                    .into_iter()
                    .flatten(),
            );
        let earliest = import_cells
            .filter_map(|import| self.enabling.iter().filter(|e| **e < import).max().copied())
            .max()
            .map_or(CellIndex(0), |enabling| CellIndex(enabling.0 + 1));
        if earliest > first_cut {
            return Err(CellIndex(earliest.0 - 1));
        }
        Ok(Some(self.preferred.min(first_cut).max(earliest)))
    }
}

/// Text that installs packages, changes where Python finds modules, or sets what libraries
/// read when imported. A plain text search: a mention in a comment counts too, which can only
/// keep more definitions in the notebook.
fn enables_imports(source: &str) -> bool {
    [
        "pip install",
        "conda install",
        "mamba install",
        "sys.path",
        "chdir",
        "%cd",
        "addsitedir",
        // Settings that libraries read when they are imported.
        "environ",
        "%env",
        "putenv",
        "findspark",
        "matplotlib.use",
        "filterwarnings",
        "%run",
    ]
    .iter()
    .any(|needle| source.contains(needle))
}

/// Keeps every moving definition in a cell before `blocking`, and whatever depends on them.
fn keep_before(analysis: &Analysis, definitions: &mut [Definition], blocking: CellIndex) {
    let reason = StayReason::SetupComesLater {
        cell: blocking.number(),
    };
    for i in 0..definitions.len() {
        let definition = &definitions[i];
        let early_constant = definition
            .needs
            .constants
            .iter()
            .any(|constant| analysis.names.sites(constant)[0].cell <= blocking);
        if definition.verdict.is_move() && (definition.cell <= blocking || early_constant) {
            keep(definitions, i, reason.clone());
        }
    }
}

/// The module: docstring, the imports the moved code needs, constants, definitions.
fn module_text(
    notebook: &Notebook,
    analysis: &Analysis,
    moving: &Moving,
    writes: &WriteFiles,
    rewrites: &ImportEdits,
    notebook_name: &str,
    options: &ExtractOptions,
) -> String {
    let package = options.parent.as_str();
    let mut imports = Vec::new();
    if moving.future_annotations {
        imports.push(Import::From {
            module: "__future__".to_owned(),
            names: vec![("annotations".to_owned(), None)],
        });
    }
    let mut blocks_seen = BTreeSet::new();
    let mut from_imports: BTreeMap<String, Vec<(String, Option<String>)>> = BTreeMap::new();
    for name in &moving.imports {
        for site in analysis.names.sites(name) {
            let stmt = statement(&analysis.cells, site.at);
            match stmt {
                Stmt::Import(import) => {
                    for alias in &import.names {
                        let bound = alias.asname.as_ref().map_or_else(
                            || alias.name.split('.').next().unwrap_or_default(),
                            |a| a.as_str(),
                        );
                        if bound == name {
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
                        let bound = alias.asname.as_ref().unwrap_or(&alias.name);
                        if bound.as_str() == name {
                            let member = (
                                alias.name.to_string(),
                                alias.asname.as_ref().map(ToString::to_string),
                            );
                            let members = from_imports.entry(module.clone()).or_default();
                            if !members.contains(&member) {
                                members.push(member);
                            }
                        }
                    }
                }
                _ => {
                    if blocks_seen.insert(site.at) {
                        let source = analysis.cells[site.at.code_cell].text(notebook);
                        imports.push(Import::Block(source[stmt.range()].to_owned()));
                    }
                }
            }
        }
    }
    for (module, names) in from_imports {
        imports.push(Import::From { module, names });
    }
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
    if moving.star {
        for at in &analysis.names.star_imports {
            let source = analysis.cells[at.code_cell].text(notebook);
            let text = source[statement(&analysis.cells, *at).range()].to_owned();
            let import = Import::Block(text);
            if !imports.contains(&import) {
                imports.push(import);
            }
        }
    }
    let import_text = emit::import_lines(&imports, &options.package);
    let constants: Vec<String> = moving
        .constants
        .iter()
        .map(|at| block_text(notebook, analysis, *at).trim_end().to_owned())
        .collect();
    // Imports of `%%writefile` modules inside moved code come from the package too.
    let definitions: Vec<String> = moving
        .definitions
        .iter()
        .map(|at| {
            let (source, range) = block(notebook, analysis, *at);
            let inside: Vec<(Range<usize>, String)> = rewrites
                .get(&at.code_cell)
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
        })
        .collect();
    emit::module_text(notebook_name, &import_text, &constants, &definitions)
}

/// A statement's block (with its comments) as it is written in its cell.
fn block_text(notebook: &Notebook, analysis: &Analysis, at: StatementRef) -> String {
    let (source, range) = block(notebook, analysis, at);
    source[range].to_owned()
}

fn block<'n>(
    notebook: &'n Notebook,
    analysis: &'n Analysis,
    at: StatementRef,
) -> (&'n str, Range<usize>) {
    let cell = &analysis.cells[at.code_cell];
    let source = cell.text(notebook);
    let statements = cell.notebook_statements();
    let range = statement_block(source, statements, at.statement)
        .unwrap_or_else(|| statements[at.statement].range().into());
    (source, range)
}

/// Edits to the notebook's cells: moved statements cut out (cells left empty are removed),
/// moving `%%writefile` cells removed, and imports of their modules rewritten to come from
/// the package.
fn cell_edits(
    notebook: &Notebook,
    analysis: &Analysis,
    moving: Option<&Moving>,
    writes: &WriteFiles,
    rewrites: &ImportEdits,
) -> Vec<CellEdit> {
    let mut by_cell = rewrites.clone();
    for at in moving.iter().flat_map(|moving| &moving.cut) {
        let (_, range) = block(notebook, analysis, *at);
        by_cell
            .entry(at.code_cell)
            .or_default()
            .push((range, String::new()));
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

/// The new cell: autoreload (unless the notebook has it or it is off) and the import.
fn import_cell(
    notebook: &Notebook,
    analysis: &Analysis,
    module: &str,
    names: &[String],
    options: &ExtractOptions,
) -> String {
    let mut lines = Vec::new();
    let has_autoreload = analysis.cells.iter().any(|cell| {
        notebook.cells()[cell.index.0]
            .source
            .contains("load_ext autoreload")
    });
    if options.autoreload && !has_autoreload {
        lines.push("%load_ext autoreload".to_owned());
        lines.push("%autoreload 2".to_owned());
    }
    let sorted: Vec<String> = emit::sorted_members(names.iter().map(|n| (n.clone(), ())).collect())
        .into_iter()
        .map(|(name, ())| name)
        .collect();
    lines.push(emit::from_import(
        &format!("{}.{module}", options.parent),
        &sorted,
    ));
    lines.join("\n")
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
pub fn module_name(stem: &str) -> String {
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

/// Checks a package name: a Python identifier, not a keyword, not a standard-library module,
/// and, unless the package already exists (`exists`), not a module the notebook imports.
pub fn check_package_name(name: &str, analysis: &Analysis, exists: bool) -> Result<(), String> {
    if ruff_python_stdlib::keyword::is_keyword(name) {
        return Err(format!(
            "`{name}` is a Python keyword and cannot name a package"
        ));
    }
    if !ruff_python_stdlib::identifiers::is_identifier(name) {
        return Err(format!(
            "`{name}` is not a valid Python package name; use letters, digits and `_`, not starting with a digit"
        ));
    }
    if ruff_python_stdlib::sys::is_known_standard_library(emit::PYTHON_MINOR, name) {
        return Err(format!(
            "`{name}` would shadow the standard-library module of that name; choose another package name"
        ));
    }
    if !exists && imported_modules(analysis).contains(name) {
        return Err(format!(
            "the notebook imports a module named `{name}`; choose another package name"
        ));
    }
    Ok(())
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

/// Top-level module names the notebook imports.
fn imported_modules(analysis: &Analysis) -> BTreeSet<String> {
    let mut modules = BTreeSet::new();
    for cell in &analysis.cells {
        for stmt in cell.notebook_statements() {
            collect_imported(stmt, &mut modules);
        }
    }
    modules
}

fn collect_imported(stmt: &Stmt, modules: &mut BTreeSet<String>) {
    match stmt {
        Stmt::Import(import) => {
            for alias in &import.names {
                modules.extend(alias.name.split('.').next().map(str::to_owned));
            }
        }
        Stmt::ImportFrom(import) if import.level == 0 => {
            if let Some(module) = &import.module {
                modules.extend(module.split('.').next().map(str::to_owned));
            }
        }
        Stmt::Try(block) => {
            for stmt in block
                .body
                .iter()
                .chain(&block.orelse)
                .chain(&block.finalbody)
            {
                collect_imported(stmt, modules);
            }
            for handler in &block.handlers {
                let ruff_python_ast::ExceptHandler::ExceptHandler(handler) = handler;
                for stmt in &handler.body {
                    collect_imported(stmt, modules);
                }
            }
        }
        Stmt::If(block) => {
            for stmt in block
                .body
                .iter()
                .chain(block.elif_else_clauses.iter().flat_map(|c| &c.body))
            {
                collect_imported(stmt, modules);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names_from_file_names() {
        assert_eq!(module_name("analysis"), "analysis");
        assert_eq!(module_name("01 - Data Cleaning"), "nb_01_data_cleaning");
        assert_eq!(module_name("EDA-v2 (final)"), "eda_v2_final");
        assert_eq!(module_name("class"), "nb_class");
        assert_eq!(module_name("..."), "notebook");
        assert_eq!(module_name("café"), "caf");
    }

    #[test]
    fn enabling_cells() {
        assert!(enables_imports("!pip install seaborn"));
        assert!(enables_imports("import sys\nsys.path.append('..')"));
        assert!(enables_imports("os.chdir('/data')"));
        assert!(enables_imports("os.environ['TF_CPP_MIN_LOG_LEVEL'] = '3'"));
        assert!(!enables_imports("import os"));
    }
}
