//! The analysis stage: parse every code cell and record facts about the notebook: its cells,
//! its top-level definitions, what each top-level name is bound to, which cells set up what
//! imports need. It decides nothing: the move and stay rules belong to [`crate::decide`].
//!
//! Pure: takes a [`Notebook`], returns data. No file system, no output.

mod runs;
mod setup;
mod strings;

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{Expr, ModModule, Stmt};
use ruff_python_parser::Parsed;
use ruff_source_file::LineIndex;
use ruff_text_size::Ranged;
use rustc_hash::FxHashMap;

use crate::magics::{CellMagic, WriteFile, cell_magic, ipython_cleanup};
use crate::notebook::{CellKind, Notebook};
use crate::position::{CellIndex, LineColumn};
use crate::python::imports::{bound_name, is_future_annotations, is_import_block};
use crate::python::parse::{SyntaxError, first_syntax_error, line_column, parse_cell_for};
use crate::python::scope::{self, BindingKind, ModuleReads, ScopeOptions, dotted_path};
use crate::python::semantic::first_semantic_error;
use crate::python::span::statement_block;
use crate::python::stdlib_exports::module_exports;
pub(crate) use runs::{
    Opacity, RunBinding, RunEffect, RunEffects, RunImport, RunLine, RunPlace, RunTarget,
    Unfollowed, plain_import, python_file_effect,
};
pub(crate) use strings::CodeInStrings;

/// Everything the later stages need to know about one notebook.
pub(crate) struct Analysis {
    /// Every code cell, in notebook order.
    pub(crate) cells: Vec<CodeCell>,
    /// Every top-level `def`, `async def` and `class`, in notebook order.
    pub(crate) definitions: Vec<Definition>,
    /// The first syntax error of each cell that has one, in notebook order.
    pub(crate) syntax_errors: Vec<CellSyntaxError>,
    /// `%%writefile` / `%%file` cells, in notebook order.
    pub(crate) writefiles: Vec<WriteFileCell>,
    /// What each top-level name is bound to.
    pub(crate) names: NameTable,
    /// The notebook loads or configures IPython's `autoreload` itself.
    pub(crate) uses_autoreload: bool,
    /// The `%run` lines among the cells' top-level statements, in notebook order.
    pub(crate) runs: Vec<RunLine>,
    /// What each parsed top-level statement reads from module scope when it runs, by code
    /// cell and statement (annotations postponed where `from __future__ import annotations`
    /// is in force).
    reads: Vec<Vec<ModuleReads>>,
}

impl Analysis {
    /// What the top-level statement at `at` reads from module scope.
    pub(crate) fn reads(&self, at: StatementRef) -> &ModuleReads {
        &self.reads[at.code_cell][at.statement]
    }

    /// Whether annotations in this statement are postponed (`from __future__ import
    /// annotations` ran before it).
    pub(crate) fn postponed_annotations(&self, at: StatementRef) -> bool {
        self.names.postponed_at(at)
    }

    /// What the top-level statement at `at` runs from strings.
    pub(crate) fn code_in_strings(&self, at: StatementRef) -> &CodeInStrings {
        &self.cells[at.code_cell].code_in_strings[at.statement]
    }
}

/// One code cell and what parsing made of it.
pub(crate) struct CodeCell {
    /// Where the cell is.
    pub(crate) index: CellIndex,
    /// The cell magic on its first line, if any.
    pub(crate) magic: Option<CellMagic>,
    /// The parsed cell; `None` when the cell is not Python (`%%writefile`, `%%bash`, ...).
    pub(crate) parsed: Option<Parsed<ModModule>>,
    /// Whether the parser, or CPython's compiler, rejects part of this cell.
    pub(crate) has_syntax_error: bool,
    /// How many of the cell's statements run before the first one CPython refuses to
    /// compile (IPython compiles and runs a cell one statement at a time); `None` when all
    /// do. A parse error stops the whole cell.
    pub(crate) runs_until: Option<usize>,
    /// The text IPython runs, when it differs from the cell's source (an indented cell, or
    /// console prompts); `parsed` ranges then point into this text.
    pub(crate) cleaned: Option<String>,
    /// The cell is tagged `parameters`: papermill injects new values after it, which a
    /// hoisted copy would not see.
    pub(crate) parameters: bool,
    /// The first top-level statement that installs packages, writes files, changes where
    /// Python finds modules, or sets what libraries read when imported (its index among the
    /// cell's statements; 0 for a shell cell magic or an automagic line).
    pub(crate) setup: Option<usize>,
    /// The first top-level statement that changes the working directory.
    pub(crate) chdir: Option<usize>,
    /// What each parsed top-level statement runs from strings, by statement.
    pub(crate) code_in_strings: Vec<CodeInStrings>,
}

impl CodeCell {
    /// The text the parsed ranges point into.
    pub(crate) fn text<'a>(&'a self, notebook: &'a Notebook) -> &'a str {
        self.cleaned
            .as_deref()
            .unwrap_or(&notebook.cells()[self.index.0].source)
    }

    /// True when code cannot be cut out of this cell as written: a cell magic, a syntax
    /// error, text IPython rewrites before running it, or papermill's `parameters` cell.
    pub(crate) fn is_fixed(&self) -> bool {
        self.magic.is_some() || self.has_syntax_error || self.cleaned.is_some() || self.parameters
    }

    /// The leading [`Self::notebook_statements`] that run before a syntax error stops the
    /// cell.
    pub(crate) fn running_statements(&self) -> &[Stmt] {
        let statements = self.notebook_statements();
        &statements[..self
            .runs_until
            .unwrap_or(statements.len())
            .min(statements.len())]
    }

    /// The cell's top-level statements that run at notebook level (none for `%%timeit` and
    /// non-Python cells).
    pub(crate) fn notebook_statements(&self) -> &[Stmt] {
        match (&self.magic, &self.parsed) {
            (Some(CellMagic::Isolated { .. }), _) | (_, None) => &[],
            (_, Some(parsed)) => &parsed.syntax().body,
        }
    }
}

/// A syntax error, located in its cell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CellSyntaxError {
    /// The cell the error is in.
    pub(crate) cell: CellIndex,
    /// Position and message.
    pub(crate) error: SyntaxError,
}

/// A `%%writefile` cell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WriteFileCell {
    /// The cell.
    pub(crate) cell: CellIndex,
    /// What its first line says.
    pub(crate) magic: WriteFile,
}

/// Whether a definition is a function or a class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum DefinitionKind {
    /// `def` or `async def`.
    Function,
    /// `class`.
    Class,
}

impl DefinitionKind {
    /// `function` or `class`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            DefinitionKind::Function => "function",
            DefinitionKind::Class => "class",
        }
    }
}

/// A top-level function or class.
#[derive(Clone, Debug)]
pub(crate) struct Definition {
    /// The bound name.
    pub(crate) name: String,
    /// Function or class.
    pub(crate) kind: DefinitionKind,
    /// The cell holding it.
    pub(crate) cell: CellIndex,
    /// The statement: its code cell and its index among the cell's top-level statements.
    pub(crate) at: StatementRef,
    /// Where the statement starts in its cell.
    pub(crate) position: LineColumn,
}

impl Definition {
    /// The `def` or `class` statement (which may sit in a `%%timeit` cell, whose statements do
    /// not run at notebook level).
    pub(crate) fn statement<'a>(&self, cells: &'a [CodeCell]) -> &'a Stmt {
        let parsed = cells[self.at.code_cell]
            .parsed
            .as_ref()
            .expect("definitions come from parsed cells");
        &parsed.syntax().body[self.at.statement]
    }
}

/// Where a top-level statement is: its cell and its index among the cell's statements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct StatementRef {
    /// Index into [`Analysis::cells`].
    pub(crate) code_cell: usize,
    /// Index into the cell's top-level statements.
    pub(crate) statement: usize,
}

/// One top-level binding of a name.
#[derive(Clone, Debug)]
pub(crate) struct Site {
    /// The statement that binds it.
    pub(crate) at: StatementRef,
    /// The cell, for messages.
    pub(crate) cell: CellIndex,
    /// How it binds.
    pub(crate) kind: SiteKind,
    /// The statement has whole lines of its own, so that it can be cut out of its cell.
    pub(crate) whole_lines: bool,
}

/// How a top-level statement binds a name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SiteKind {
    /// An import statement, or a `try`/`if` block made only of imports; the key identifies
    /// what is imported, so that two imports of the same thing compare equal.
    Import(String),
    /// An import in a cell whose saved outputs show an import error.
    FailedImport,
    /// A `def`, `async def` or `class`.
    Definition,
    /// Anything else (assignment, loop target, ...), or any binding in a cell with a syntax
    /// error.
    Other(BindingKind),
}

/// What a top-level name is bound to across the whole notebook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum NameClass {
    /// Only imports of the same thing.
    Import,
    /// Only definitions.
    Definitions,
    /// One plain assignment of a constant value.
    Constant,
    /// Anything else: state the notebook computes.
    Variable,
}

/// Every top-level binding of the notebook, by name.
#[derive(Default)]
pub(crate) struct NameTable {
    sites: FxHashMap<String, Vec<Site>>,
    classes: FxHashMap<String, NameClass>,
    /// Star imports (`from x import *`), in notebook order.
    pub(crate) star_imports: Vec<StatementRef>,
    /// Statements that may bind any name: `exec` of code nbhoist cannot read, `globals()`
    /// used at notebook level. In notebook order.
    pub(crate) dynamic_bindings: Vec<StatementRef>,
    /// Where `from __future__ import annotations` first appears, if anywhere.
    pub(crate) future_annotations: Option<CellIndex>,
    /// The first `from __future__ import annotations` statement.
    pub(crate) future_statement: Option<StatementRef>,
    /// What each `%run` line whose file nbhoist read binds, by statement.
    run_bindings: FxHashMap<StatementRef, Vec<(String, RunBinding)>>,
    /// The `%run` lines that may bind any name, and why nbhoist cannot tell which. They are
    /// among [`Self::dynamic_bindings`] too.
    pub(crate) unknown_runs: Vec<(StatementRef, Unfollowed)>,
    /// The Python 3 minor version the notebook declares, which decides what a star import of
    /// the standard library binds.
    python_minor: Option<u8>,
}

/// Whether a name is bound at some point of the notebook's run (ordered: `No` < `Maybe` <
/// `Yes`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Bound {
    /// Surely not.
    No,
    /// It depends on what nbhoist cannot see.
    Maybe,
    /// Surely.
    Yes,
}

/// What a star import (`from m import *`) binds of one name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StarBinding {
    /// `m` is in the standard library, whose exports are known: `Maybe` when they differ
    /// between the Python versions the notebook may run on.
    Stdlib(Bound),
    /// Any other module (or a relative one): what it exports is unknown.
    Unknown,
}

impl NameTable {
    /// What the star import at `at` binds of `name`.
    pub(crate) fn star_binding(
        &self,
        cells: &[CodeCell],
        at: StatementRef,
        name: &str,
    ) -> StarBinding {
        let Stmt::ImportFrom(import) = statement(cells, at) else {
            return StarBinding::Unknown;
        };
        let module = import.module.as_ref().filter(|_| import.level == 0);
        let Some(exports) = module.and_then(|module| module_exports(module.as_str())) else {
            return StarBinding::Unknown;
        };
        let bound = match self.python_minor {
            Some(minor) if exports.exists_in(minor) => {
                if exports.exports(name, minor) {
                    Bound::Yes
                } else {
                    Bound::No
                }
            }
            _ if exports.exports_in_all(name) => Bound::Yes,
            _ if exports.exports_in_any(name) => Bound::Maybe,
            _ => Bound::No,
        };
        StarBinding::Stdlib(bound)
    }

    /// The first star import after `after` (any, when `None`) that may bind `name`.
    pub(crate) fn star_binding_after(
        &self,
        cells: &[CodeCell],
        name: &str,
        after: Option<StatementRef>,
    ) -> Option<StatementRef> {
        self.star_imports.iter().copied().find(|&at| {
            after.is_none_or(|after| at > after)
                && self.star_binding(cells, at, name) != StarBinding::Stdlib(Bound::No)
        })
    }

    /// Every name the notebook binds, sorted.
    pub(crate) fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.sites.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    /// What the `%run` line at `at` binds to `name`, when nbhoist read its file.
    pub(crate) fn run_binding(&self, at: StatementRef, name: &str) -> Option<&RunBinding> {
        let bindings = self.run_bindings.get(&at)?;
        bindings
            .iter()
            .find_map(|(bound, binding)| (bound == name).then_some(binding))
    }

    /// Whether `from __future__ import annotations` ran before the statement at `at`.
    pub(crate) fn postponed_at(&self, at: StatementRef) -> bool {
        self.future_statement.is_some_and(|future| future < at)
    }

    /// Every binding of `name`, in notebook order.
    pub(crate) fn sites(&self, name: &str) -> &[Site] {
        self.sites.get(name).map_or(&[], Vec::as_slice)
    }

    /// What `name` is bound to, if the notebook binds it.
    pub(crate) fn class(&self, name: &str) -> Option<&NameClass> {
        self.classes.get(name)
    }

    /// True when `name` is bound only by imports of one thing.
    pub(crate) fn is_import(&self, name: &str) -> bool {
        let sites = self.sites(name);
        match sites.first().map(|site| &site.kind) {
            Some(SiteKind::Import(key)) => sites
                .iter()
                .all(|site| matches!(&site.kind, SiteKind::Import(other) if other == key)),
            _ => false,
        }
    }

    /// What `name` stands for when it is bound only by imports of one thing, as a dotted
    /// path: `numpy` for `np` after `import numpy as np`, `random.gauss` for `gauss` after
    /// `from random import gauss`.
    pub(crate) fn origin(&self, name: &str) -> Option<String> {
        if !self.is_import(name) {
            return None;
        }
        match &self.sites(name).first()?.kind {
            SiteKind::Import(key) => {
                if let Some(module) = key.strip_prefix("import ") {
                    Some(module.to_owned())
                } else {
                    let (module, member) = key.strip_prefix("from ")?.split_once(" import ")?;
                    Some(format!("{module}.{member}"))
                }
            }
            _ => None,
        }
    }

    /// What a dotted path from a name bound only by imports stands for: `numpy.linalg.norm`
    /// for `np.linalg.norm` after `import numpy as np`.
    pub(crate) fn qualified<S: AsRef<str>>(&self, path: &[S]) -> Option<String> {
        let (root, rest) = path.split_first()?;
        let mut qualified = self.origin(root.as_ref())?;
        for part in rest {
            qualified.push('.');
            qualified.push_str(part.as_ref());
        }
        Some(qualified)
    }

    /// The module `name` stands for when it is bound only by `import module` or
    /// `import module as name`.
    pub(crate) fn imported_module(&self, name: &str) -> Option<&str> {
        if !self.is_import(name) {
            return None;
        }
        match &self.sites(name).first()?.kind {
            SiteKind::Import(key) => key.strip_prefix("import "),
            _ => None,
        }
    }
}

/// Analyses a notebook: parses its code cells and records what they bind. Its `%run` lines
/// bind unknown names: see [`analyse_with_runs`].
pub(crate) fn analyse(notebook: &Notebook) -> Analysis {
    analyse_with_runs(notebook, &RunEffects::default())
}

/// Analyses a notebook whose `%run` lines bind what `runs` says.
pub(crate) fn analyse_with_runs(notebook: &Notebook, runs: &RunEffects) -> Analysis {
    let mut cells = Vec::new();
    let mut syntax_errors = Vec::new();
    let mut writefiles = Vec::new();
    for cell in notebook.cells() {
        if cell.kind != CellKind::Code {
            continue;
        }
        let magic = cell_magic(&cell.source);
        let cleaned = magic
            .is_none()
            .then(|| ipython_cleanup(&cell.source))
            .flatten();
        let text = cleaned.as_deref().unwrap_or(&cell.source);
        let parsed = match &magic {
            Some(CellMagic::WriteFile(write)) => {
                writefiles.push(WriteFileCell {
                    cell: cell.index,
                    magic: write.clone(),
                });
                None
            }
            Some(CellMagic::Opaque { .. }) => None,
            // `%%time`-like cells parse whole: IPython mode reads the magic line as an escape
            // command and the rest as Python.
            Some(CellMagic::Runs { .. } | CellMagic::Isolated { .. }) | None => {
                Some(parse_cell_for(text, notebook.python_version()))
            }
        };
        // Only a cell's first error is reported: the parser recovers, but what follows the
        // first error is mostly its echo.
        let mut runs_until = None;
        let error = parsed.as_ref().and_then(|parsed| {
            if let Some(error) = first_syntax_error(parsed, text) {
                runs_until = Some(0);
                return Some(error);
            }
            let error =
                first_semantic_error(&parsed.syntax().body, text, notebook.python_version())?;
            runs_until = Some(error.statement);
            let index = LineIndex::from_source_text(text);
            Some(SyntaxError {
                position: line_column(&index, text, error.range.start()),
                message: error.message,
            })
        });
        let has_syntax_error = error.is_some();
        syntax_errors.extend(error.map(|error| CellSyntaxError {
            cell: cell.index,
            error,
        }));
        let code_in_strings = parsed
            .as_ref()
            .map_or(&[][..], |parsed| &parsed.syntax().body)
            .iter()
            .map(strings::find)
            .collect();
        cells.push(CodeCell {
            index: cell.index,
            magic,
            parsed,
            has_syntax_error,
            runs_until,
            cleaned,
            parameters: cell.tags.iter().any(|tag| tag == "parameters"),
            setup: None,
            chdir: None,
            code_in_strings,
        });
    }
    let run_lines: Vec<RunLine> = cells
        .iter()
        .enumerate()
        .flat_map(|(code_cell, cell)| {
            let index = cell.index;
            cell.notebook_statements()
                .iter()
                .enumerate()
                .filter_map(move |(statement, stmt)| {
                    Some(RunLine {
                        at: StatementRef {
                            code_cell,
                            statement,
                        },
                        cell: index,
                        target: runs::run_target(stmt)?,
                    })
                })
        })
        .collect();
    let names = NameTable::build(notebook, &cells, &run_lines, runs);
    for cell in &mut cells {
        let source = &notebook.cells()[cell.index.0].source;
        (cell.setup, cell.chdir) = setup::find(cell, source, &names);
    }
    let definitions = definitions(notebook, &cells);
    let reads: Vec<Vec<ModuleReads>> = cells
        .iter()
        .enumerate()
        .map(|(code_cell, cell)| {
            let body = cell.parsed.as_ref().map_or(&[][..], |p| &p.syntax().body);
            body.iter()
                .enumerate()
                .map(|(statement, stmt)| {
                    let at = StatementRef {
                        code_cell,
                        statement,
                    };
                    let options = ScopeOptions {
                        postponed_annotations: names.postponed_at(at),
                    };
                    scope::module_reads(stmt, options)
                })
                .collect()
        })
        .collect();
    let uses_autoreload = cells
        .iter()
        .any(|cell| cell.notebook_statements().iter().any(configures_autoreload));
    Analysis {
        cells,
        definitions,
        syntax_errors,
        writefiles,
        names,
        uses_autoreload,
        runs: run_lines,
        reads,
    }
}

/// Every top-level function and class, in notebook order.
fn definitions(notebook: &Notebook, cells: &[CodeCell]) -> Vec<Definition> {
    let mut definitions = Vec::new();
    for (code_cell, cell) in cells.iter().enumerate() {
        let Some(parsed) = &cell.parsed else { continue };
        let source = cell.text(notebook);
        let mut index = None;
        for (statement, stmt) in parsed.syntax().body.iter().enumerate() {
            let (name, kind) = match stmt {
                Stmt::FunctionDef(def) => (def.name.as_str(), DefinitionKind::Function),
                Stmt::ClassDef(class) => (class.name.as_str(), DefinitionKind::Class),
                _ => continue,
            };
            // Error recovery can produce a `def` with no name; there is nothing to report.
            if name.is_empty() {
                continue;
            }
            let index = index.get_or_insert_with(|| LineIndex::from_source_text(source));
            definitions.push(Definition {
                name: name.to_owned(),
                kind,
                cell: cell.index,
                at: StatementRef {
                    code_cell,
                    statement,
                },
                position: line_column(index, source, stmt.start()),
            });
        }
    }
    definitions
}

impl NameTable {
    fn build(
        notebook: &Notebook,
        cells: &[CodeCell],
        run_lines: &[RunLine],
        runs: &RunEffects,
    ) -> NameTable {
        let mut table = NameTable {
            python_minor: notebook
                .python_version()
                .filter(|version| version.major == 3)
                .map(|version| version.minor),
            ..NameTable::default()
        };
        for (code_cell, cell) in cells.iter().enumerate() {
            let source = cell.text(notebook);
            if let Some(CellMagic::Runs {
                binds: Some(name), ..
            }) = &cell.magic
            {
                // `%%capture out` assigns `out` in the notebook: the magic line is statement 0.
                table.sites.entry(name.clone()).or_default().push(Site {
                    at: StatementRef {
                        code_cell,
                        statement: 0,
                    },
                    cell: cell.index,
                    kind: SiteKind::Other(BindingKind::Other),
                    whole_lines: false,
                });
            }
            for (statement, stmt) in cell.notebook_statements().iter().enumerate() {
                let at = StatementRef {
                    code_cell,
                    statement,
                };
                if let Some(line) = run_lines.iter().find(|line| line.at == at) {
                    table.bind_run(line, runs.get(&at), cell);
                }
                if is_future_annotations(stmt) && table.future_annotations.is_none() {
                    table.future_annotations = Some(cell.index);
                    table.future_statement = Some(at);
                }
                // `exec("RATE = 0.5")` binds what its code binds; other dynamic bindings may
                // bind anything.
                let strings = &cell.code_in_strings[statement];
                if strings.binds_dynamically {
                    table.dynamic_bindings.push(at);
                }
                for code in &strings.executed {
                    let parsed = ruff_python_parser::parse_module(code);
                    let Ok(parsed) = parsed else {
                        table.dynamic_bindings.push(at);
                        continue;
                    };
                    for executed in parsed.syntax().body.iter() {
                        for binding in scope::module_bindings(executed) {
                            table.sites.entry(binding.name).or_default().push(Site {
                                at,
                                cell: cell.index,
                                kind: SiteKind::Other(BindingKind::Other),
                                whole_lines: false,
                            });
                        }
                    }
                }
                for binding in scope::module_bindings(stmt) {
                    if binding.kind == BindingKind::StarImport {
                        table.star_imports.push(at);
                        continue;
                    }
                    let kind = if cell.is_fixed() {
                        // Nothing in a cell that does not parse runs, and code cannot be cut
                        // out of a magic cell or a cell IPython rewrites: notebook state.
                        SiteKind::Other(binding.kind)
                    } else if let Some(key) = import_key(stmt, &binding.name, source) {
                        // An import that failed when the notebook last ran binds nothing a
                        // module could rely on.
                        if notebook.cells()[cell.index.0].import_failed {
                            SiteKind::FailedImport
                        } else {
                            SiteKind::Import(key)
                        }
                    } else if matches!(
                        binding.kind,
                        BindingKind::FunctionDef | BindingKind::ClassDef
                    ) && matches!(stmt, Stmt::FunctionDef(_) | Stmt::ClassDef(_))
                    {
                        SiteKind::Definition
                    } else {
                        SiteKind::Other(binding.kind)
                    };
                    let whole_lines =
                        statement_block(source, cell.notebook_statements(), statement).is_some();
                    table.sites.entry(binding.name).or_default().push(Site {
                        at,
                        cell: cell.index,
                        kind,
                        whole_lines,
                    });
                }
            }
        }
        let names: Vec<String> = table.sites.keys().cloned().collect();
        for name in names {
            let class = table.classify(&name, cells);
            table.classes.insert(name, class);
        }
        table
    }

    /// Records what a `%run` line binds: names standing for imports as imports, the rest as
    /// notebook state, and unknown names as a dynamic binding.
    fn bind_run(&mut self, line: &RunLine, effect: Option<&RunEffect>, cell: &CodeCell) {
        let bindings = match (effect, &line.target) {
            (Some(RunEffect::Binds(bindings)), _) => bindings,
            (Some(RunEffect::Unknown(why)), _) | (None, RunTarget::Unfollowed(why)) => {
                self.dynamic_bindings.push(line.at);
                self.unknown_runs.push((line.at, why.clone()));
                return;
            }
            (None, RunTarget::File(file)) => {
                self.dynamic_bindings.push(line.at);
                self.unknown_runs
                    .push((line.at, Unfollowed::Unreadable(file.clone())));
                return;
            }
        };
        for (name, binding) in bindings {
            let kind = match binding {
                RunBinding::Import(import) | RunBinding::Hoisted(import) if !cell.is_fixed() => {
                    SiteKind::Import(import.key())
                }
                _ => SiteKind::Other(BindingKind::Other),
            };
            self.sites.entry(name.clone()).or_default().push(Site {
                at: line.at,
                cell: cell.index,
                kind,
                whole_lines: false,
            });
        }
        self.run_bindings.insert(line.at, bindings.clone());
    }

    fn classify(&self, name: &str, cells: &[CodeCell]) -> NameClass {
        let sites = self.sites(name);
        let Some(first) = sites.first() else {
            return NameClass::Variable;
        };
        match &first.kind {
            SiteKind::Import(_) if self.is_import(name) => NameClass::Import,
            SiteKind::Definition if sites.iter().all(|site| site.kind == SiteKind::Definition) => {
                NameClass::Definitions
            }
            SiteKind::Other(
                BindingKind::Assign | BindingKind::AnnAssign | BindingKind::TypeAlias,
            ) if sites.len() == 1 && self.is_constant(name, cells, &mut Vec::new()) => {
                NameClass::Constant
            }
            _ => NameClass::Variable,
        }
    }

    /// A constant: bound once, by a plain assignment to a bare name of a value whose
    /// computation reads no state and shows nothing (see [`ConstantCheck`]), or by a `type`
    /// statement, whose value is computed only when used. `visiting` guards against
    /// `A = B; B = A` cycles.
    fn is_constant(&self, name: &str, cells: &[CodeCell], visiting: &mut Vec<String>) -> bool {
        if visiting.iter().any(|n| n == name) {
            return false;
        }
        let [site] = self.sites(name) else {
            return false;
        };
        // `X = 5; print(X)` cannot be cut out of its cell, nor can anything from a cell magic,
        // a cell with a syntax error, a reformatted cell or papermill's parameters.
        if !site.whole_lines || cells[site.at.code_cell].is_fixed() {
            return false;
        }
        let stmt = statement(cells, site.at);
        if site.kind == SiteKind::Other(BindingKind::TypeAlias) {
            // Its value is evaluated lazily, like a function body: what it reads is resolved
            // where it is used.
            return matches!(stmt, Stmt::TypeAlias(alias) if alias.name.is_name_expr());
        }
        if !matches!(
            site.kind,
            SiteKind::Other(BindingKind::Assign | BindingKind::AnnAssign)
        ) {
            return false;
        }
        let Some(value) = constant_value(stmt) else {
            return false;
        };
        // `NAMES: List[str] = [...]` evaluates its annotation too: it must be importable.
        if let Stmt::AnnAssign(assign) = stmt
            && !loaded_names(&assign.annotation)
                .iter()
                .all(|n| self.is_import(n) || (self.sites(n).is_empty() && scope::is_builtin(n)))
        {
            return false;
        }
        visiting.push(name.to_owned());
        let mut check = ConstantCheck {
            table: self,
            cells,
            visiting,
            at: site.at,
            ok: true,
        };
        check.visit_expr(value);
        let ok = check.ok;
        visiting.pop();
        ok
    }
}

/// The statement at `at`.
pub(crate) fn statement(cells: &[CodeCell], at: StatementRef) -> &Stmt {
    &cells[at.code_cell].notebook_statements()[at.statement]
}

/// The value of `NAME = value` or `NAME: T = value` (a single bare-name target).
pub(crate) fn constant_value(stmt: &Stmt) -> Option<&Expr> {
    match stmt {
        Stmt::Assign(assign) => match assign.targets.as_slice() {
            [Expr::Name(_)] => Some(&assign.value),
            _ => None,
        },
        Stmt::AnnAssign(assign) if assign.target.is_name_expr() => assign.value.as_deref(),
        _ => None,
    }
}

/// Every name an expression loads, in source order, duplicates included.
pub(crate) fn loaded_names(expr: &Expr) -> Vec<&str> {
    #[derive(Default)]
    struct Collector<'a> {
        names: Vec<&'a str>,
    }
    impl<'a> Visitor<'a> for Collector<'a> {
        fn visit_expr(&mut self, expr: &'a Expr) {
            if let Expr::Name(name) = expr {
                self.names.push(name.id.as_str());
            }
            visitor::walk_expr(self, expr);
        }
    }
    let mut collector = Collector::default();
    collector.visit_expr(expr);
    collector.names
}

/// Whether a constant's value can be computed at the import cell instead of where the
/// notebook computes it, with the same result: it is built only from
///
/// - literals, containers, operators and f-strings;
/// - names bound before it to other constants, imports or (`OPS = [add, sub]`) definitions,
///   and builtins no star import may rebind;
/// - attributes of imported modules (`np.pi`) and of such values (`''.join`);
/// - type aliases: subscripts of builtin generics and of `typing` (`dict[str, int]`,
///   `Optional[Point]`);
/// - calls of a few constructors known to compute their result from their arguments alone
///   ([`PURE_CONSTRUCTORS`]), with such arguments: `namedtuple('Point', 'x y')`,
///   `re.compile(r'\d+')`;
/// - lambdas, whose defaults are such values (their bodies run when called, and are judged
///   where the lambda is used).
struct ConstantCheck<'t, 'c> {
    table: &'t NameTable,
    cells: &'c [CodeCell],
    visiting: &'t mut Vec<String>,
    /// Where the constant is bound: what its value reads must be bound before, or the
    /// notebook raised `NameError` there and the constant never existed.
    at: StatementRef,
    ok: bool,
}

/// Callables whose result depends on their arguments only, and which show nothing: calls of
/// them with constant arguments are constants. Kept short on purpose; docs/verdicts.md lists
/// them.
const PURE_CONSTRUCTORS: &[&str] = &[
    "collections.namedtuple",
    "typing.NamedTuple",
    "typing.TypedDict",
    "typing.TypeVar",
    "typing.ParamSpec",
    "typing.NewType",
    "typing_extensions.NamedTuple",
    "typing_extensions.TypedDict",
    "typing_extensions.TypeVar",
    "typing_extensions.ParamSpec",
    "typing_extensions.NewType",
    "enum.Enum",
    "enum.IntEnum",
    "enum.StrEnum",
    "enum.Flag",
    "enum.IntFlag",
    "re.compile",
    "decimal.Decimal",
    "fractions.Fraction",
    "os.path.join",
    "pathlib.Path",
    "pathlib.PurePath",
    "frozenset",
    "tuple",
];

/// Builtin classes whose subscript is a generic alias (`tuple[int, int]`).
const BUILTIN_GENERICS: &[&str] = &["tuple", "list", "dict", "set", "frozenset", "type"];

/// Modules whose subscriptable members build type aliases (`Optional[int]`).
const TYPING_MODULES: &[&str] = &["typing", "typing_extensions", "collections.abc"];

/// What a name in a constant's value may stand for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum NameUse {
    /// A value: constants, imports, definitions and builtins.
    Value,
    /// The object of an attribute: definitions do not count, as a class's attributes may be
    /// computed by its code.
    Attribute,
}

impl ConstantCheck<'_, '_> {
    fn bound_before(&self, name: &str) -> bool {
        self.table
            .sites(name)
            .first()
            .is_some_and(|site| site.at < self.at)
    }

    /// A builtin the notebook never binds and no star import may rebind.
    fn is_plain_builtin(&self, name: &str) -> bool {
        self.table.sites(name).is_empty()
            && scope::is_builtin(name)
            && self
                .table
                .star_binding_after(self.cells, name, None)
                .is_none()
    }

    fn name_is_constant(&mut self, name: &str, usage: NameUse) -> bool {
        if self.table.sites(name).is_empty() {
            return self.is_plain_builtin(name);
        }
        if !self.bound_before(name) {
            return false;
        }
        let sites = self.table.sites(name);
        // Another name for a list, dict or set (`ALIAS = COLS`, `BOTH = [COLS]`) would change
        // it unseen.
        let mutable =
            || constant_value(statement(self.cells, sites[0].at)).is_some_and(is_mutable_value);
        self.table.is_import(name)
            || (usage == NameUse::Value
                && sites.iter().all(|site| site.kind == SiteKind::Definition))
            || (self.table.is_constant(name, self.cells, self.visiting) && !mutable())
    }

    /// The dotted name of what `expr` stands for, when it is a builtin or an attribute chain
    /// from an import: `collections.namedtuple` for `nt` after
    /// `from collections import namedtuple as nt`, `re.compile` for `re.compile`.
    fn qualified(&self, expr: &Expr) -> Option<String> {
        let path = dotted_path(expr, ruff_python_ast::name::Name::as_str)?;
        let (root, rest) = path.split_first()?;
        if rest.is_empty() && self.is_plain_builtin(root) {
            return Some((*root).to_owned());
        }
        if !self.bound_before(root) {
            return None;
        }
        self.table.qualified(&path)
    }

    /// Whether subscripting `expr` builds a type alias.
    fn is_generic(&self, expr: &Expr) -> bool {
        self.qualified(expr).is_some_and(|name| {
            BUILTIN_GENERICS.contains(&name.as_str())
                || TYPING_MODULES.iter().any(|module| {
                    name.strip_prefix(module)
                        .is_some_and(|member| member.starts_with('.'))
                })
        })
    }

    fn visit_all<'a>(&mut self, exprs: impl IntoIterator<Item = &'a Expr>) {
        for expr in exprs {
            self.visit_expr(expr);
        }
    }
}

impl<'a> Visitor<'a> for ConstantCheck<'_, '_> {
    fn visit_expr(&mut self, expr: &'a Expr) {
        if !self.ok {
            return;
        }
        match expr {
            Expr::BoolOp(_)
            | Expr::BinOp(_)
            | Expr::UnaryOp(_)
            | Expr::Compare(_)
            | Expr::Dict(_)
            | Expr::Set(_)
            | Expr::List(_)
            | Expr::Tuple(_)
            | Expr::Starred(_)
            | Expr::FString(_)
            | Expr::StringLiteral(_)
            | Expr::BytesLiteral(_)
            | Expr::NumberLiteral(_)
            | Expr::BooleanLiteral(_)
            | Expr::NoneLiteral(_)
            | Expr::EllipsisLiteral(_) => visitor::walk_expr(self, expr),
            Expr::Name(name) => self.ok = self.name_is_constant(&name.id, NameUse::Value),
            Expr::Attribute(attribute) => match attribute_root(expr) {
                Some(root) if self.table.is_import(root) => self.ok = self.bound_before(root),
                Some(root) if matches!(&*attribute.value, Expr::Name(_)) => {
                    self.ok = self.name_is_constant(root, NameUse::Attribute);
                }
                // `''.join`, `np.linalg.norm`: the object is itself a constant; a method of a
                // list, dict or set may change it (`[].append`), unseen.
                _ => {
                    self.ok = !is_mutable_value(&attribute.value);
                    self.visit_expr(&attribute.value);
                }
            },
            Expr::Subscript(subscript) => {
                self.ok = self.is_generic(&subscript.value);
                self.visit_expr(&subscript.slice);
            }
            Expr::Call(call) => {
                self.ok = self
                    .qualified(&call.func)
                    .is_some_and(|name| PURE_CONSTRUCTORS.contains(&name.as_str()));
                self.visit_all(call.arguments.args.iter());
                self.visit_all(call.arguments.keywords.iter().map(|keyword| &keyword.value));
            }
            Expr::Lambda(lambda) => {
                let defaults = lambda
                    .parameters
                    .iter()
                    .flat_map(|parameters| parameters.iter_non_variadic_params())
                    .filter_map(|parameter| parameter.default());
                self.visit_all(defaults);
            }
            _ => self.ok = false,
        }
    }
}

/// A value built with a list, dict or set, which code can change in place.
pub(crate) fn is_mutable_value(expr: &Expr) -> bool {
    #[derive(Default)]
    struct Finder {
        found: bool,
    }
    impl<'a> Visitor<'a> for Finder {
        fn visit_expr(&mut self, expr: &'a Expr) {
            match expr {
                Expr::List(_)
                | Expr::Dict(_)
                | Expr::Set(_)
                | Expr::ListComp(_)
                | Expr::DictComp(_)
                | Expr::SetComp(_) => self.found = true,
                _ => visitor::walk_expr(self, expr),
            }
        }
    }
    let mut finder = Finder::default();
    finder.visit_expr(expr);
    finder.found
}

/// The name at the root of an attribute chain (`np` in `np.linalg.norm`).
pub(crate) fn attribute_root(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Attribute(attribute) => attribute_root(&attribute.value),
        Expr::Name(name) => Some(name.id.as_str()),
        _ => None,
    }
}

/// For an import statement, a key for what it binds to `name`, so that two statements binding
/// the same name to the same object get the same key; for an import-only block, its text,
/// since it travels whole; `None` for anything else.
pub(crate) fn import_key(stmt: &Stmt, name: &str, source: &str) -> Option<String> {
    match stmt {
        Stmt::Try(_) | Stmt::If(_) if is_import_block(stmt) => {
            Some(format!("block:{}", &source[stmt.range()]))
        }
        Stmt::Import(import) => import.names.iter().find_map(|alias| {
            (bound_name(alias, false) == name).then(|| match &alias.asname {
                Some(_) => format!("import {}", alias.name),
                None => format!("import {name}"),
            })
        }),
        // A relative import means something else inside the package: not an import to move.
        Stmt::ImportFrom(import) if import.level > 0 => None,
        Stmt::ImportFrom(import) => import.names.iter().find_map(|alias| {
            (bound_name(alias, true) == name).then(|| {
                format!(
                    "from {} import {}",
                    import.module.as_ref().map_or("", |m| m.as_str()),
                    alias.name.as_str()
                )
            })
        }),
        _ => None,
    }
}

/// IPython's numbered history: `In`, `Out`, `_ih`, `_oh`, `_i`, `_ii`, `_iii`, `_i3`, `_3`.
/// (`_`, `__` and `___` are the last outputs, which moving code does not change.)
pub(crate) fn is_numbered_history(name: &str) -> bool {
    matches!(name, "In" | "Out" | "_ih" | "_oh" | "_i" | "_ii" | "_iii")
        || name
            .strip_prefix("_i")
            .or_else(|| name.strip_prefix('_'))
            .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
}

/// `%load_ext autoreload`, `%autoreload 2`, `%aimport x`, or their `get_ipython()` spelling,
/// at top level or in a top-level block.
fn configures_autoreload(stmt: &Stmt) -> bool {
    #[derive(Default)]
    struct Finder {
        found: bool,
    }
    fn is_autoreload(line: &str) -> bool {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("load_ext" | "reload_ext") => words.next() == Some("autoreload"),
            Some("autoreload" | "aimport") => true,
            _ => false,
        }
    }
    impl<'a> Visitor<'a> for Finder {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            match stmt {
                Stmt::IpyEscapeCommand(command) => self.found |= is_autoreload(&command.value),
                Stmt::FunctionDef(_) | Stmt::ClassDef(_) => {}
                _ => visitor::walk_stmt(self, stmt),
            }
        }
        fn visit_expr(&mut self, expr: &'a Expr) {
            if let Expr::Call(call) = expr
                && let Expr::Attribute(method) = &*call.func
                && matches!(method.attr.as_str(), "run_line_magic" | "magic")
            {
                let words: Vec<&str> = call
                    .arguments
                    .args
                    .iter()
                    .filter_map(|arg| arg.as_string_literal_expr())
                    .map(|s| s.value.to_str())
                    .collect();
                self.found |= is_autoreload(&words.join(" "));
            }
            visitor::walk_expr(self, expr);
        }
    }
    let mut finder = Finder::default();
    finder.visit_stmt(stmt);
    finder.found
}
