//! The analysis stage: parse every code cell, record what the notebook binds at top level, and
//! decide for every top-level function and class whether it can be hoisted (`move`) or must
//! `stay`, and why.
//!
//! Pure: takes a [`Notebook`], returns data. No file system, no output.

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{Expr, ModModule, Stmt};
use ruff_python_parser::Parsed;
use ruff_source_file::LineIndex;
use ruff_text_size::{Ranged, TextRange};

use crate::magics::{CellMagic, WriteFile, cell_magic, ipython_cleanup};
use crate::notebook::{CellKind, Notebook};
use crate::position::{CellIndex, CellNumber, LineColumn};
use crate::python::parse::{SyntaxError, first_syntax_error, line_column, parse_cell_for};
use crate::python::scope::{self, BindingKind, ReadTime, ScopeOptions};
use crate::python::span::statement_block;

/// Everything the later stages need to know about one notebook.
pub struct Analysis {
    /// Every code cell, in notebook order.
    pub cells: Vec<CodeCell>,
    /// Every top-level `def`, `async def` and `class`, in notebook order, with its verdict.
    pub definitions: Vec<Definition>,
    /// The first syntax error of each cell that has one, in notebook order.
    pub syntax_errors: Vec<CellSyntaxError>,
    /// `%%writefile` / `%%file` cells, in notebook order.
    pub writefiles: Vec<WriteFileCell>,
    /// What each top-level name is bound to.
    pub names: NameTable,
}

/// One code cell and what parsing made of it.
pub struct CodeCell {
    /// Where the cell is.
    pub index: CellIndex,
    /// The cell magic on its first line, if any.
    pub magic: Option<CellMagic>,
    /// The parsed cell; `None` when the cell is not Python (`%%writefile`, `%%bash`, ...).
    pub parsed: Option<Parsed<ModModule>>,
    /// Whether the parser reported errors for this cell.
    pub has_syntax_error: bool,
    /// The text IPython runs, when it differs from the cell's source (an indented cell, or
    /// console prompts); `parsed` ranges then point into this text.
    pub cleaned: Option<String>,
    /// The cell is tagged `parameters`: papermill injects new values after it, which a
    /// hoisted copy would not see.
    pub parameters: bool,
}

impl CodeCell {
    /// The text the parsed ranges point into.
    pub fn text<'a>(&'a self, notebook: &'a Notebook) -> &'a str {
        self.cleaned
            .as_deref()
            .unwrap_or(&notebook.cells()[self.index.0].source)
    }

    /// True when code cannot be cut out of this cell as written: a cell magic, a syntax
    /// error, text IPython rewrites before running it, or papermill's `parameters` cell.
    pub fn is_fixed(&self) -> bool {
        self.magic.is_some() || self.has_syntax_error || self.cleaned.is_some() || self.parameters
    }

    /// The cell's top-level statements that run at notebook level (none for `%%timeit` and
    /// non-Python cells).
    pub fn notebook_statements(&self) -> &[Stmt] {
        match (&self.magic, &self.parsed) {
            (Some(CellMagic::Isolated { .. }), _) | (_, None) => &[],
            (_, Some(parsed)) => &parsed.syntax().body,
        }
    }
}

/// A syntax error, located in its cell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CellSyntaxError {
    /// The cell the error is in.
    pub cell: CellIndex,
    /// Position and message.
    pub error: SyntaxError,
}

/// A `%%writefile` cell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteFileCell {
    /// The cell.
    pub cell: CellIndex,
    /// What its first line says.
    pub magic: WriteFile,
}

/// Whether a definition is a function or a class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DefinitionKind {
    /// `def` or `async def`.
    Function,
    /// `class`.
    Class,
}

/// A top-level function or class and its verdict.
#[derive(Clone, Debug)]
pub struct Definition {
    /// The bound name.
    pub name: String,
    /// Function or class.
    pub kind: DefinitionKind,
    /// The cell holding it.
    pub cell: CellIndex,
    /// The statement: its code cell and its index among the cell's top-level statements.
    pub at: StatementRef,
    /// The statement's range in the cell source (from the first decorator).
    pub range: TextRange,
    /// Where the statement starts in its cell.
    pub position: LineColumn,
    /// Move or stay, and why.
    pub verdict: Verdict,
    /// What must travel with it (empty when it stays).
    pub needs: Needs,
}

/// Whether a definition can be hoisted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Hoisting it is provably safe.
    Move,
    /// It stays in the notebook, for this reason.
    Stay(StayReason),
}

impl Verdict {
    /// True for [`Verdict::Move`].
    pub fn is_move(&self) -> bool {
        matches!(self, Verdict::Move)
    }
}

/// What a hoisted definition takes with it, transitively. Every set holds top-level names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Needs {
    /// Names bound by imports (or import blocks).
    pub imports: BTreeSet<String>,
    /// Constants.
    pub constants: BTreeSet<String>,
    /// Other hoisted definitions.
    pub definitions: BTreeSet<String>,
    /// Names that come from IPython itself (`display`, `get_ipython`).
    pub ipython: BTreeSet<String>,
    /// Names that can only come from a star import.
    pub star: BTreeSet<String>,
    /// The definition relies on `from __future__ import annotations`.
    pub future_annotations: bool,
}

impl Needs {
    /// All names, sorted, for reports.
    pub fn names(&self) -> Vec<String> {
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

/// Why a definition stays in the notebook. Each reason reads as a clause about the definition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StayReason {
    /// The name is bound by several definitions whose code differs.
    Redefined {
        /// The definition's name.
        name: String,
        /// Every cell that defines it.
        cells: Vec<CellNumber>,
    },
    /// The name is also bound by something other than a definition.
    Rebound {
        /// The definition's name.
        name: String,
        /// The first cell that binds it otherwise.
        cell: CellNumber,
        /// How it is bound there ("assigned", "imported", ...).
        how: &'static str,
        /// That cell has a syntax error.
        broken: bool,
    },
    /// The definition writes a notebook variable through `global`.
    Global {
        /// The variable.
        name: String,
    },
    /// The definition's cell has a syntax error.
    SyntaxError {
        /// The cell.
        cell: CellNumber,
    },
    /// The definition's cell only runs after IPython removes its indentation or prompts.
    Reformatted {
        /// The cell.
        cell: CellNumber,
    },
    /// The definition is in papermill's `parameters` cell.
    ParametersCell,
    /// The definition sits in a cell whose first line is a cell magic.
    MagicCell {
        /// The magic's name.
        magic: String,
    },
    /// The definition contains IPython syntax a plain Python module cannot hold.
    IpythonSyntax,
    /// The definition uses `await` in a function that is not `async`: the parser accepts it,
    /// but Python refuses to compile it.
    AwaitOutsideAsync,
    /// The definition inspects its namespace dynamically.
    Dynamic {
        /// `eval`, `exec`, `globals`, `locals` or `vars`.
        call: String,
    },
    /// Defining it prints, displays or asks for input; in a module that would happen on
    /// import instead.
    DefinitionTimeEffect {
        /// `print`, `display`, ...
        name: String,
    },
    /// The definition reads a variable the notebook computes.
    ReadsVariable {
        /// The variable.
        name: String,
        /// The first cell that binds it.
        cell: CellNumber,
    },
    /// The definition reads a name bound by a relative import (`from .utils import f`), which
    /// would mean something else inside the package.
    RelativeImport {
        /// The name.
        name: String,
        /// The cell of the import.
        cell: CellNumber,
    },
    /// The definition reads a name whose import failed when the notebook last ran.
    FailedImport {
        /// The name.
        name: String,
        /// The cell of the import.
        cell: CellNumber,
    },
    /// The definition reads a builtin that a star import may replace.
    StarShadowsBuiltin {
        /// The builtin.
        name: String,
        /// The cell of the first star import.
        cell: CellNumber,
    },
    /// The definition reads a name nothing defines.
    Undefined {
        /// The name.
        name: String,
    },
    /// The definition reads IPython's input/output history.
    History {
        /// `In`, `Out`, `_`, `_i3`, ...
        name: String,
    },
    /// The definition reads a module attribute that differs between notebook and module.
    Dunder {
        /// `__name__`, `__file__`, ...
        name: String,
    },
    /// A cell at or after the definition makes the package's imports work (installs a
    /// package, writes a file, changes `sys.path` or the working directory), so the package
    /// cannot be imported before the definition's cell.
    SetupComesLater {
        /// That cell.
        cell: CellNumber,
    },
    /// The definition has annotations Python evaluates, but a module holding definitions from
    /// after `from __future__ import annotations` would postpone them.
    EagerAnnotations {
        /// The cell of the `__future__` import.
        cell: CellNumber,
    },
    /// Notebook code uses the definition before something it needs is bound.
    UsedTooEarly {
        /// What is bound too late (the definition itself, an import, a constant, ...).
        name: String,
        /// The first cell that uses the definition.
        used: CellNumber,
        /// The cell that binds `name`.
        bound: CellNumber,
    },
    /// The notebook already imports from the module nbhoist would write: it was extracted
    /// before, and nbhoist does not add to a module it wrote before.
    AlreadyHoisted {
        /// The module, dotted.
        module: String,
    },
    /// The definition uses another definition that stays.
    DependsOn {
        /// The other definition.
        name: String,
        /// Why that one stays.
        because: Box<StayReason>,
    },
}

impl StayReason {
    /// The reason as a clause whose subject is the definition ("reads notebook variable ...").
    fn clause(&self) -> String {
        match self {
            StayReason::Redefined { cells, .. } => match cells.as_slice() {
                [cell] => format!("is defined more than once in cell {cell} with different code"),
                _ => format!("is defined in cells {} with different code", and_list(cells)),
            },
            StayReason::Rebound {
                cell,
                how,
                broken: false,
                ..
            } => format!("is also {how} in cell {cell}"),
            StayReason::Rebound {
                cell,
                how,
                broken: true,
                ..
            } => format!("is also {how} in cell {cell}, which has a syntax error"),
            StayReason::Global { name } => {
                format!("changes the notebook variable `{name}` through `global`")
            }
            StayReason::SyntaxError { cell } => {
                format!("is in cell {cell}, which has a syntax error")
            }
            StayReason::MagicCell { magic } => format!("is inside a `%%{magic}` cell"),
            StayReason::ParametersCell => {
                "is in the cell tagged `parameters`, whose values papermill replaces".to_owned()
            }
            StayReason::Reformatted { cell } => format!(
                "is in cell {cell}, which only runs after IPython removes its indentation or `>>>` prompts"
            ),
            StayReason::IpythonSyntax => {
                "uses IPython syntax (`%magic`, `!command` or `?`), which a Python module cannot contain"
                    .to_owned()
            }
            StayReason::AwaitOutsideAsync => {
                "uses `await` outside an `async def`, which Python refuses to compile".to_owned()
            }
            StayReason::Dynamic { call } => match call.as_str() {
                "eval" | "exec" => {
                    format!("calls `{call}`, which can reach any notebook variable")
                }
                _ => format!("calls `{call}()`, which sees other variables in a module"),
            },
            StayReason::DefinitionTimeEffect { name } => format!(
                "calls `{name}` while it is being defined, which would then happen when the package is imported"
            ),
            StayReason::ReadsVariable { name, cell } => {
                format!("reads notebook variable `{name}` (cell {cell})")
            }
            StayReason::RelativeImport { name, cell } => format!(
                "reads `{name}`, which a relative import binds (cell {cell}) and which would mean something else in the package"
            ),
            StayReason::FailedImport { name, cell } => format!(
                "reads `{name}`, whose import failed when the notebook last ran (cell {cell})"
            ),
            StayReason::StarShadowsBuiltin { name, cell } => format!(
                "reads `{name}`, a builtin that the star import of cell {cell} may replace"
            ),
            StayReason::Undefined { name } => format!("reads `{name}`, which no cell defines"),
            StayReason::History { name } => {
                format!("reads `{name}`, IPython's history, which only exists in the notebook")
            }
            StayReason::Dunder { name } => {
                format!("reads `{name}`, which has another value in a module than in the notebook")
            }
            StayReason::SetupComesLater { cell } => format!(
                "comes before cell {cell}, which installs or sets up what the package's imports need"
            ),
            StayReason::EagerAnnotations { cell } => format!(
                "has annotations that run now, but would be postponed by the `from __future__ import annotations` of cell {cell} in the module"
            ),
            StayReason::UsedTooEarly { name, used, bound } if name == "*" => format!(
                "is used in cell {used}, before the star import of cell {bound}, which it needs"
            ),
            StayReason::UsedTooEarly { name, used, bound } => format!(
                "is used in cell {used}, before cell {bound} binds `{name}`, which it needs"
            ),
            StayReason::AlreadyHoisted { module } => format!(
                "was added after the notebook's code was hoisted to `{module}`, and nbhoist does not add to a module it wrote before"
            ),
            StayReason::DependsOn { name, because } => match because.root() {
                (root, Some(last)) => format!(
                    "uses `{name}`, which depends on `{last}`, which {}",
                    root.clause()
                ),
                (root, None) => {
                    format!("uses `{name}`, which stays because it {}", root.clause())
                }
            },
        }
    }

    /// The reason at the end of a chain of [`StayReason::DependsOn`], and the name of the last
    /// definition in the chain when it is longer than one step.
    fn root(&self) -> (&StayReason, Option<&str>) {
        let mut reason = self;
        let mut last = None;
        while let StayReason::DependsOn { name, because } = reason {
            last = Some(name.as_str());
            reason = because;
        }
        (reason, last)
    }

    /// What the user can do about it, when there is something simple to say.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            StayReason::ReadsVariable { .. } => {
                Some("pass it as a parameter to hoist this function")
            }
            StayReason::Redefined { .. } => Some("keep one version, or rename the other"),
            StayReason::Global { .. } => Some("return the new value instead"),
            StayReason::SyntaxError { .. } => Some("fix the syntax error first"),
            StayReason::Reformatted { .. } => Some("tidy that cell to hoist it"),
            StayReason::AlreadyHoisted { .. } => Some("move it into the module by hand"),
            StayReason::UsedTooEarly { .. } => {
                Some("run the notebook top to bottom once, and reorder its cells where it fails")
            }
            StayReason::MagicCell { .. } => Some("move it to a cell of its own to hoist it"),
            StayReason::SetupComesLater { .. } => {
                Some("move that setup to the top of the notebook")
            }
            StayReason::Undefined { .. } => Some("define or import it in the notebook"),
            StayReason::StarShadowsBuiltin { .. } => Some("import what you need by name"),
            StayReason::FailedImport { .. } => {
                Some("install what it needs, then run the notebook again")
            }
            _ => None,
        }
    }
}

impl fmt::Display for StayReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // These read better with the name as subject.
            StayReason::Redefined { name, .. } | StayReason::Rebound { name, .. } => {
                write!(f, "`{name}` {}", self.clause())?
            }
            _ => f.write_str(&self.clause())?,
        }
        if let Some(hint) = self.hint() {
            write!(f, ": {hint}")?;
        }
        Ok(())
    }
}

/// "2", "2 and 5", "2, 5 and 9".
pub fn and_list(cells: &[CellNumber]) -> String {
    match cells {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => {
            let init: Vec<String> = init.iter().map(ToString::to_string).collect();
            format!("{} and {last}", init.join(", "))
        }
    }
}

/// Where a top-level statement is: its cell and its index among the cell's statements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StatementRef {
    /// Index into [`Analysis::cells`].
    pub code_cell: usize,
    /// Index into the cell's top-level statements.
    pub statement: usize,
}

/// One top-level binding of a name.
#[derive(Clone, Debug)]
pub struct Site {
    /// The statement that binds it.
    pub at: StatementRef,
    /// The cell, for messages.
    pub cell: CellIndex,
    /// How it binds.
    pub kind: SiteKind,
    /// The statement has whole lines of its own, so that it can be cut out of its cell.
    pub whole_lines: bool,
}

/// How a top-level statement binds a name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SiteKind {
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
pub enum NameClass {
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
pub struct NameTable {
    sites: HashMap<String, Vec<Site>>,
    classes: HashMap<String, NameClass>,
    /// Star imports (`from x import *`), in notebook order.
    pub star_imports: Vec<StatementRef>,
    /// Where `from __future__ import annotations` first appears, if anywhere.
    pub future_annotations: Option<CellIndex>,
}

impl NameTable {
    /// Every binding of `name`, in notebook order.
    pub fn sites(&self, name: &str) -> &[Site] {
        self.sites.get(name).map_or(&[], Vec::as_slice)
    }

    /// What `name` is bound to, if the notebook binds it.
    pub fn class(&self, name: &str) -> Option<&NameClass> {
        self.classes.get(name)
    }
}

/// Analyses a notebook: parses its code cells, records bindings and decides verdicts.
pub fn analyse(notebook: &Notebook) -> Analysis {
    let mut cells = Vec::new();
    let mut syntax_errors_found = Vec::new();
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
        let error = parsed
            .as_ref()
            .and_then(|parsed| first_syntax_error(parsed, text));
        let has_syntax_error = error.is_some();
        syntax_errors_found.extend(error.map(|error| CellSyntaxError {
            cell: cell.index,
            error,
        }));
        cells.push(CodeCell {
            index: cell.index,
            magic,
            parsed,
            has_syntax_error,
            cleaned,
            parameters: cell.tags.iter().any(|tag| tag == "parameters"),
        });
    }
    let names = NameTable::build(notebook, &cells);
    let definitions = Verdicts::new(notebook, &cells, &names).decide();
    Analysis {
        cells,
        definitions,
        syntax_errors: syntax_errors_found,
        writefiles,
        names,
    }
}

impl NameTable {
    fn build(notebook: &Notebook, cells: &[CodeCell]) -> NameTable {
        let mut table = NameTable::default();
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
                if is_future_annotations(stmt) && table.future_annotations.is_none() {
                    table.future_annotations = Some(cell.index);
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
                    ) && is_definition(stmt)
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
            SiteKind::Other(BindingKind::Assign | BindingKind::AnnAssign)
                if sites.len() == 1 && self.is_constant(name, cells, &mut Vec::new()) =>
            {
                NameClass::Constant
            }
            _ => NameClass::Variable,
        }
    }

    /// A constant: bound once by a plain assignment to a bare name whose value is built only
    /// from literals, containers, operators, other constants and attributes of imported
    /// modules. `visiting` guards against `A = B; B = A` cycles.
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
        if !matches!(
            site.kind,
            SiteKind::Other(BindingKind::Assign | BindingKind::AnnAssign)
        ) {
            return false;
        }
        let stmt = statement(cells, site.at);
        let Some(value) = constant_value(stmt) else {
            return false;
        };
        // `NAMES: List[str] = [...]` evaluates its annotation too: it must be importable.
        if let Stmt::AnnAssign(assign) = stmt {
            let mut names = NameCollector::default();
            names.visit_expr(&assign.annotation);
            if !names
                .names
                .iter()
                .all(|n| self.is_import(n) || (self.sites(n).is_empty() && scope::is_builtin(n)))
            {
                return false;
            }
        }
        visiting.push(name.to_owned());
        let mut check = ConstantCheck {
            table: self,
            cells,
            visiting,
            ok: true,
        };
        check.visit_expr(value);
        let ok = check.ok;
        visiting.pop();
        ok
    }

    /// True when `name` is bound only by imports of one thing.
    fn is_import(&self, name: &str) -> bool {
        let sites = self.sites(name);
        match sites.first().map(|site| &site.kind) {
            Some(SiteKind::Import(key)) => sites
                .iter()
                .all(|site| site.kind == SiteKind::Import(key.clone())),
            _ => false,
        }
    }
}

/// The statement at `at`.
pub fn statement(cells: &[CodeCell], at: StatementRef) -> &Stmt {
    &cells[at.code_cell].notebook_statements()[at.statement]
}

/// The value of `NAME = value` or `NAME: T = value` (a single bare-name target).
pub fn constant_value(stmt: &Stmt) -> Option<&Expr> {
    match stmt {
        Stmt::Assign(assign) => match assign.targets.as_slice() {
            [Expr::Name(_)] => Some(&assign.value),
            _ => None,
        },
        Stmt::AnnAssign(assign) if assign.target.is_name_expr() => assign.value.as_deref(),
        _ => None,
    }
}

struct ConstantCheck<'t, 'c> {
    table: &'t NameTable,
    cells: &'c [CodeCell],
    visiting: &'t mut Vec<String>,
    ok: bool,
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
            Expr::Name(name) => {
                self.ok = self
                    .table
                    .is_constant(name.id.as_str(), self.cells, self.visiting);
            }
            Expr::Attribute(_) => {
                self.ok = attribute_root(expr).is_some_and(|root| self.table.is_import(root));
            }
            _ => self.ok = false,
        }
    }
}

/// The name at the root of an attribute chain (`np` in `np.linalg.norm`).
fn attribute_root(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Attribute(attribute) => attribute_root(&attribute.value),
        Expr::Name(name) => Some(name.id.as_str()),
        _ => None,
    }
}

fn is_definition(stmt: &Stmt) -> bool {
    matches!(stmt, Stmt::FunctionDef(_) | Stmt::ClassDef(_))
}

fn is_future_annotations(stmt: &Stmt) -> bool {
    matches!(stmt, Stmt::ImportFrom(import)
        if import.module.as_ref().is_some_and(|m| m.as_str() == "__future__")
            && import.names.iter().any(|alias| alias.name.as_str() == "annotations"))
}

/// A top-level `try`/`except` or `if`/`else` made only of imports (and `pass`).
pub fn is_import_block(stmt: &Stmt) -> bool {
    fn only_imports(body: &[Stmt]) -> bool {
        !body.is_empty()
            && body.iter().all(|stmt| match stmt {
                Stmt::Import(_) | Stmt::ImportFrom(_) | Stmt::Pass(_) => true,
                Stmt::Try(_) | Stmt::If(_) => is_import_block(stmt),
                _ => false,
            })
    }
    match stmt {
        Stmt::Try(block) => {
            only_imports(&block.body)
                && block.handlers.iter().all(|handler| {
                    let ruff_python_ast::ExceptHandler::ExceptHandler(handler) = handler;
                    handler.name.is_none() && only_imports(&handler.body)
                })
                && (block.orelse.is_empty() || only_imports(&block.orelse))
                && (block.finalbody.is_empty() || only_imports(&block.finalbody))
        }
        Stmt::If(block) => {
            only_imports(&block.body)
                && block
                    .elif_else_clauses
                    .iter()
                    .all(|clause| only_imports(&clause.body))
        }
        _ => false,
    }
}

/// For an import statement, a key for what it binds to `name`, so that two statements binding
/// the same name to the same object get the same key; for an import-only block, its text,
/// since it travels whole; `None` for anything else.
fn import_key(stmt: &Stmt, name: &str, source: &str) -> Option<String> {
    match stmt {
        Stmt::Try(_) | Stmt::If(_) if is_import_block(stmt) => {
            Some(format!("block:{}", &source[stmt.range()]))
        }
        Stmt::Import(import) => import.names.iter().find_map(|alias| {
            let full = alias.name.as_str();
            match &alias.asname {
                Some(asname) if asname.as_str() == name => Some(format!("import {full}")),
                None if full.split('.').next() == Some(name) => Some(format!("import {name}")),
                _ => None,
            }
        }),
        // A relative import means something else inside the package: not an import to move.
        Stmt::ImportFrom(import) if import.level > 0 => None,
        Stmt::ImportFrom(import) => import.names.iter().find_map(|alias| {
            let bound = alias.asname.as_ref().unwrap_or(&alias.name);
            (bound.as_str() == name).then(|| {
                format!(
                    "from {}{} import {}",
                    ".".repeat(import.level as usize),
                    import.module.as_ref().map_or("", |m| m.as_str()),
                    alias.name.as_str()
                )
            })
        }),
        _ => None,
    }
}

/// Names IPython binds in every notebook's namespace that a module cannot see.
fn is_history_name(name: &str) -> bool {
    matches!(
        name,
        "In" | "Out" | "_" | "__" | "___" | "_i" | "_ii" | "_iii" | "_ih" | "_oh" | "_dh"
    ) || name
        .strip_prefix("_i")
        .or_else(|| name.strip_prefix('_'))
        .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
}

/// Module attributes whose value differs between the notebook's `__main__` and a module.
fn is_module_dunder(name: &str) -> bool {
    matches!(
        name,
        "__name__"
            | "__file__"
            | "__doc__"
            | "__spec__"
            | "__loader__"
            | "__package__"
            | "__builtins__"
            | "__cached__"
    )
}

/// Builtins whose call shows something to the user, so that running them at another time
/// changes what the notebook shows.
fn has_visible_effect(name: &str) -> bool {
    matches!(name, "print" | "display" | "input" | "breakpoint" | "help")
}

/// Modules whose use at definition time likely shows something (`sys.stdout.write`,
/// `warnings.warn`, `logging.info`), when the notebook imports them under that name.
fn is_output_module(name: &str, names: &NameTable) -> bool {
    matches!(name, "sys" | "warnings" | "logging") && names.is_import(name)
}

/// Names IPython provides that a module can import instead.
fn ipython_import(name: &str) -> bool {
    matches!(name, "display" | "get_ipython")
}

/// One definition before verdicts are final.
struct Candidate {
    definition: Definition,
    /// The first reason found by looking at the definition alone.
    own: Option<StayReason>,
    /// Other definitions it uses, in the order it first reads them.
    uses: Vec<String>,
    /// Its direct needs, before other definitions' needs are added.
    needs: Needs,
}

struct Verdicts<'a> {
    notebook: &'a Notebook,
    cells: &'a [CodeCell],
    names: &'a NameTable,
}

impl<'a> Verdicts<'a> {
    fn new(notebook: &'a Notebook, cells: &'a [CodeCell], names: &'a NameTable) -> Self {
        Verdicts {
            notebook,
            cells,
            names,
        }
    }

    fn decide(&self) -> Vec<Definition> {
        let mut candidates = Vec::new();
        for (code_cell, cell) in self.cells.iter().enumerate() {
            let Some(parsed) = &cell.parsed else { continue };
            let source = cell.text(self.notebook);
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
                let definition = Definition {
                    name: name.to_owned(),
                    kind,
                    cell: cell.index,
                    at: StatementRef {
                        code_cell,
                        statement,
                    },
                    range: stmt.range(),
                    position: line_column(index, source, stmt.start()),
                    verdict: Verdict::Move,
                    needs: Needs::default(),
                };
                candidates.push(self.examine(definition, code_cell, stmt));
            }
        }
        propagate(&mut candidates);
        let mut definitions: Vec<Definition> =
            candidates.into_iter().map(|c| c.definition).collect();
        self.keep_used_too_early(&mut definitions);
        self.keep_eager_annotations(&mut definitions);
        definitions
    }

    /// `from __future__ import annotations` applies to a whole module but only to the cells
    /// after it in a notebook. When definitions from after it move, annotated definitions
    /// from before it stay: in the module their annotations would be postponed too.
    fn keep_eager_annotations(&self, definitions: &mut [Definition]) {
        let Some(future) = self.names.future_annotations else {
            return;
        };
        let postponed_move = definitions
            .iter()
            .any(|d| d.verdict.is_move() && d.cell >= future);
        if !postponed_move {
            return;
        }
        for i in 0..definitions.len() {
            let definition = &definitions[i];
            let at = definition.at;
            if definition.verdict.is_move()
                && definition.cell < future
                && has_annotations(statement(self.cells, at))
            {
                let reason = StayReason::EagerAnnotations {
                    cell: future.number(),
                };
                keep(definitions, i, reason);
            }
        }
    }

    /// The notebook runs top to bottom; the package is imported at once. A definition that
    /// notebook code uses before everything it needs is bound (its own `def` included) would
    /// behave differently once hoisted: a `NameError` would vanish, or a builtin the notebook
    /// rebinds later would change meaning early. Such definitions stay.
    fn keep_used_too_early(&self, definitions: &mut [Definition]) {
        let first_site = |name: &str| self.names.sites(name).first().map(|site| site.at);
        // What every top-level statement reads, in notebook order; worked out once.
        let mut reads: Vec<(StatementRef, Vec<String>)> = Vec::new();
        for (code_cell, cell) in self.cells.iter().enumerate() {
            for (statement, stmt) in cell.notebook_statements().iter().enumerate() {
                let at = StatementRef {
                    code_cell,
                    statement,
                };
                let names = scope::module_reads(stmt, ScopeOptions::default()).reads;
                reads.push((at, names.iter().map(|read| read.name.to_string()).collect()));
            }
        }
        loop {
            // Where notebook code (anything but a moving definition) first reads each name;
            // a definition that stays is notebook code, so this changes as definitions stay.
            let moving: BTreeSet<StatementRef> = definitions
                .iter()
                .filter(|d| d.verdict.is_move())
                .map(|d| d.at)
                .collect();
            let mut first_use: HashMap<&str, StatementRef> = HashMap::new();
            for (at, names) in reads.iter().filter(|(at, _)| !moving.contains(at)) {
                for name in names {
                    first_use.entry(name).or_insert(*at);
                }
            }
            let mut changed = false;
            for i in 0..definitions.len() {
                let definition = &definitions[i];
                if !definition.verdict.is_move() {
                    continue;
                }
                let Some(&used) = first_use.get(definition.name.as_str()) else {
                    continue;
                };
                let needs = &definition.needs;
                let star = "*".to_owned();
                let first_star = self.names.star_imports.first().copied();
                let late = std::iter::once(&definition.name)
                    .chain(&needs.imports)
                    .chain(&needs.constants)
                    .chain(&needs.definitions)
                    .map(|name| (name, first_site(name)))
                    .chain((!needs.star.is_empty()).then_some((&star, first_star)))
                    .find(|(_, bound)| bound.is_some_and(|bound| bound > used));
                let Some((late, Some(bound))) = late else {
                    continue;
                };
                let bound = self.cells[bound.code_cell].index;
                let reason = StayReason::UsedTooEarly {
                    name: late.clone(),
                    used: self.cells[used.code_cell].index.number(),
                    bound: bound.number(),
                };
                keep(definitions, i, reason);
                changed = true;
            }
            if !changed {
                break;
            }
        }
    }

    /// Looks at one definition on its own: rules 1 to 4, with other definitions assumed to move.
    fn examine(&self, definition: Definition, code_cell: usize, stmt: &Stmt) -> Candidate {
        let mut candidate = Candidate {
            definition,
            own: None,
            uses: Vec::new(),
            needs: Needs::default(),
        };
        candidate.own = self.own_reason(&mut candidate, code_cell, stmt).err();
        candidate
    }

    fn own_reason(
        &self,
        candidate: &mut Candidate,
        code_cell: usize,
        stmt: &Stmt,
    ) -> Result<(), StayReason> {
        let cell = &self.cells[code_cell];
        let name = candidate.definition.name.clone();
        if let Some(magic) = &cell.magic {
            return Err(StayReason::MagicCell {
                magic: magic.name().to_owned(),
            });
        }
        self.check_bindings(&name, candidate.definition.at)?;
        let postponed = self
            .names
            .future_annotations
            .is_some_and(|first| first <= cell.index);
        let reads = scope::module_reads(
            stmt,
            ScopeOptions {
                postponed_annotations: postponed,
            },
        );
        if let Some(global) = reads.global_writes.first() {
            return Err(StayReason::Global {
                name: global.name.to_string(),
            });
        }
        if cell.has_syntax_error {
            return Err(StayReason::SyntaxError {
                cell: cell.index.number(),
            });
        }
        if cell.cleaned.is_some() {
            return Err(StayReason::Reformatted {
                cell: cell.index.number(),
            });
        }
        if cell.parameters {
            return Err(StayReason::ParametersCell);
        }
        if contains_ipython_syntax(stmt) {
            return Err(StayReason::IpythonSyntax);
        }
        if awaits_outside_async(stmt) {
            return Err(StayReason::AwaitOutsideAsync);
        }
        if let Some(dynamic) = reads.dynamic.first() {
            return Err(StayReason::Dynamic {
                call: dynamic.name.to_string(),
            });
        }
        candidate.needs.future_annotations = postponed;
        if let Some(name) = self.definition_time_effect(stmt, &reads) {
            return Err(StayReason::DefinitionTimeEffect { name });
        }
        // Names read only in annotations are resolved like any other: the module must stay
        // free of undefined names even where Python would never evaluate them.
        for read in &reads.reads {
            self.resolve(read.name.as_str(), &name, candidate)?;
        }
        // A star import that only ever stands for builtins would look unused in the module;
        // whether it replaces them (as `from numpy import *` replaces `sum`) is unknowable.
        let star = &candidate.needs.star;
        if let Some(builtin) = star.iter().next()
            && star.iter().all(|name| scope::is_builtin(name))
        {
            let at = self.names.star_imports[0];
            return Err(StayReason::StarShadowsBuiltin {
                name: builtin.clone(),
                cell: self.cells[at.code_cell].index.number(),
            });
        }
        Ok(())
    }

    /// Something that shows output while the definition is being defined, which hoisting
    /// would move to the import: a builtin like `print`, or `sys`/`warnings`/`logging`, used
    /// by the code that runs then; a notebook decorator that uses one; a notebook base class
    /// with an `__init_subclass__` hook.
    fn definition_time_effect(&self, stmt: &Stmt, reads: &scope::ModuleReads) -> Option<String> {
        let unbound = |name: &str| self.names.class(name).is_none();
        let direct = reads.reads.iter().find(|read| {
            let name = read.name.as_str();
            read.when == ReadTime::Now
                && ((unbound(name) && has_visible_effect(name))
                    || is_output_module(name, self.names))
        });
        if let Some(read) = direct {
            return Some(read.name.to_string());
        }
        let (decorators, bases) = match stmt {
            Stmt::FunctionDef(def) => (&def.decorator_list, None),
            Stmt::ClassDef(class) => (&class.decorator_list, class.arguments.as_deref()),
            _ => return None,
        };
        let notebook_definition = |name: &str| {
            let site = self.names.sites(name).first()?;
            (site.kind == SiteKind::Definition).then(|| statement(self.cells, site.at))
        };
        for decorator in decorators {
            let root = match &decorator.expression {
                Expr::Call(call) => attribute_root(&call.func),
                expr => attribute_root(expr),
            };
            let Some(decorator_stmt) = root.and_then(notebook_definition) else {
                continue;
            };
            let shows = scope::module_reads(decorator_stmt, ScopeOptions::default())
                .reads
                .iter()
                .any(|read| {
                    let name = read.name.as_str();
                    (unbound(name) && has_visible_effect(name))
                        || is_output_module(name, self.names)
                });
            if shows {
                return root.map(str::to_owned);
            }
        }
        for base in bases.iter().flat_map(|arguments| arguments.args.iter()) {
            let Some(Stmt::ClassDef(class)) = attribute_root(base).and_then(notebook_definition)
            else {
                continue;
            };
            let hooks = class.body.iter().any(|item| {
                matches!(item, Stmt::FunctionDef(method) if method.name.as_str() == "__init_subclass__")
            });
            if hooks {
                return Some(format!("{}.__init_subclass__", class.name));
            }
        }
        None
    }

    /// Rule 1: the name is bound once, or only by identical definitions.
    fn check_bindings(&self, name: &str, own: StatementRef) -> Result<(), StayReason> {
        let sites = self.names.sites(name);
        // The definition's own binding is not a rebinding, even where a syntax error made it
        // count as notebook state.
        if let Some(other) = sites
            .iter()
            .find(|site| site.kind != SiteKind::Definition && site.at != own)
        {
            let how = match &other.kind {
                SiteKind::Import(_) | SiteKind::FailedImport => "imported",
                SiteKind::Other(BindingKind::FunctionDef | BindingKind::ClassDef) => "defined",
                SiteKind::Other(BindingKind::Del) => "deleted",
                SiteKind::Other(BindingKind::For) => "a loop variable",
                _ => "assigned",
            };
            return Err(StayReason::Rebound {
                name: name.to_owned(),
                cell: other.cell.number(),
                how,
                broken: self.cells[other.at.code_cell].has_syntax_error,
            });
        }
        let mut texts = sites.iter().map(|site| self.statement_text(site.at));
        if let Some(first) = texts.next()
            && texts.any(|text| text != first)
        {
            let mut cells: Vec<CellNumber> = sites.iter().map(|site| site.cell.number()).collect();
            cells.dedup();
            return Err(StayReason::Redefined {
                name: name.to_owned(),
                cells,
            });
        }
        Ok(())
    }

    fn statement_text(&self, at: StatementRef) -> &str {
        let cell = &self.cells[at.code_cell];
        &cell.text(self.notebook)[statement(self.cells, at).range()]
    }

    /// Rule 4 for one name the definition reads.
    fn resolve(&self, read: &str, own: &str, candidate: &mut Candidate) -> Result<(), StayReason> {
        match self.names.class(read) {
            Some(NameClass::Import) => {
                candidate.needs.imports.insert(read.to_owned());
            }
            Some(NameClass::Definitions) => {
                if read != own && !candidate.uses.iter().any(|u| u == read) {
                    candidate.uses.push(read.to_owned());
                }
            }
            Some(NameClass::Constant) => self.add_constant(read, &mut candidate.needs),
            Some(NameClass::Variable) => {
                let site = &self.names.sites(read)[0];
                let cell = site.cell.number();
                if site.kind == SiteKind::FailedImport {
                    return Err(StayReason::FailedImport {
                        name: read.to_owned(),
                        cell,
                    });
                }
                if site.kind == SiteKind::Other(BindingKind::FromImport) {
                    return Err(StayReason::RelativeImport {
                        name: read.to_owned(),
                        cell,
                    });
                }
                return Err(StayReason::ReadsVariable {
                    name: read.to_owned(),
                    cell,
                });
            }
            None if is_history_name(read) => {
                return Err(StayReason::History {
                    name: read.to_owned(),
                });
            }
            None if is_module_dunder(read) => {
                return Err(StayReason::Dunder {
                    name: read.to_owned(),
                });
            }
            None if ipython_import(read) => {
                candidate.needs.ipython.insert(read.to_owned());
            }
            // A star import may rebind a builtin (`from math import *` rebinds `pow`): the
            // module must see the same star import.
            None if !self.names.star_imports.is_empty() => {
                candidate.needs.star.insert(read.to_owned());
            }
            None if scope::is_builtin(read) => {}
            None => {
                return Err(StayReason::Undefined {
                    name: read.to_owned(),
                });
            }
        }
        Ok(())
    }

    /// Adds a constant and, transitively, the constants and imports its value reads.
    fn add_constant(&self, name: &str, needs: &mut Needs) {
        if !needs.constants.insert(name.to_owned()) {
            return;
        }
        let site = &self.names.sites(name)[0];
        let stmt = statement(self.cells, site.at);
        let Some(value) = constant_value(stmt) else {
            return;
        };
        let mut names = NameCollector::default();
        names.visit_expr(value);
        if let Stmt::AnnAssign(assign) = stmt {
            names.visit_expr(&assign.annotation);
        }
        for read in names.names {
            match self.names.class(read) {
                Some(NameClass::Constant) => self.add_constant(read, needs),
                Some(NameClass::Import) => {
                    needs.imports.insert(read.to_owned());
                }
                _ => {}
            }
        }
    }
}

/// Makes `definitions[i]` stay for `reason`, and every moving definition that needs it.
pub fn keep(definitions: &mut [Definition], i: usize, reason: StayReason) {
    let name = definitions[i].name.clone();
    definitions[i].verdict = Verdict::Stay(reason.clone());
    definitions[i].needs = Needs::default();
    for j in 0..definitions.len() {
        if definitions[j].verdict.is_move() && definitions[j].needs.definitions.contains(&name) {
            let because = StayReason::DependsOn {
                name: name.clone(),
                because: Box::new(reason.clone()),
            };
            keep(definitions, j, because);
        }
    }
}

/// True when a statement has an annotation anywhere (parameters, returns, `x: int`).
fn has_annotations(stmt: &Stmt) -> bool {
    #[derive(Default)]
    struct Finder {
        found: bool,
    }
    impl<'a> Visitor<'a> for Finder {
        fn visit_annotation(&mut self, _: &'a Expr) {
            self.found = true;
        }
    }
    let mut finder = Finder::default();
    finder.visit_stmt(stmt);
    finder.found
}

/// Settles verdicts between definitions: a definition that uses one that stays, stays too.
/// Starts from "everything without a reason of its own moves" and removes until stable, so
/// mutually recursive definitions move together.
fn propagate(candidates: &mut [Candidate]) {
    let mut stays: HashMap<String, StayReason> = HashMap::new();
    for candidate in candidates.iter() {
        if let Some(reason) = &candidate.own {
            stays
                .entry(candidate.definition.name.clone())
                .or_insert_with(|| reason.clone());
        }
    }
    loop {
        let mut changed = false;
        for candidate in candidates.iter() {
            if candidate.own.is_some() || stays.contains_key(&candidate.definition.name) {
                continue;
            }
            let staying = candidate
                .uses
                .iter()
                .find_map(|used| stays.get(used).map(|reason| (used, reason)));
            if let Some((used, reason)) = staying {
                let reason = StayReason::DependsOn {
                    name: used.clone(),
                    because: Box::new(reason.clone()),
                };
                stays.insert(candidate.definition.name.clone(), reason);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let direct: HashMap<String, Needs> = candidates
        .iter()
        .map(|c| (c.definition.name.clone(), c.needs.clone()))
        .collect();
    let uses: HashMap<String, Vec<String>> = candidates
        .iter()
        .map(|c| (c.definition.name.clone(), c.uses.clone()))
        .collect();
    for candidate in candidates.iter_mut() {
        let name = &candidate.definition.name;
        if let Some(reason) = candidate.own.clone().or_else(|| stays.get(name).cloned()) {
            candidate.definition.verdict = Verdict::Stay(reason);
            continue;
        }
        let mut needs = candidate.needs.clone();
        let mut queue: Vec<&String> = candidate.uses.iter().collect();
        while let Some(used) = queue.pop() {
            if used == name || !needs.definitions.insert(used.clone()) {
                continue;
            }
            if let Some(more) = direct.get(used) {
                needs.extend(more);
            }
            queue.extend(uses.get(used).into_iter().flatten());
        }
        candidate.definition.needs = needs;
    }
}

/// Collects every loaded name in an expression.
#[derive(Default)]
struct NameCollector<'a> {
    names: Vec<&'a str>,
}

impl<'a> Visitor<'a> for NameCollector<'a> {
    fn visit_expr(&mut self, expr: &'a Expr) {
        if let Expr::Name(name) = expr {
            self.names.push(name.id.as_str());
        }
        visitor::walk_expr(self, expr);
    }
}

/// True when a function that is not `async` (or a lambda) contains `await` directly, or an
/// `async for`/`async with`: ruff's parser accepts these, CPython's compiler does not.
fn awaits_outside_async(stmt: &Stmt) -> bool {
    struct Finder {
        /// Whether the innermost enclosing function is `async`; `None` at the top.
        in_async: Option<bool>,
        found: bool,
    }
    impl<'a> Visitor<'a> for Finder {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            match stmt {
                Stmt::FunctionDef(def) => {
                    // Decorators and defaults run in the enclosing scope.
                    for decorator in &def.decorator_list {
                        self.visit_decorator(decorator);
                    }
                    let outer = self.in_async.replace(def.is_async);
                    self.visit_body(&def.body);
                    self.in_async = outer;
                }
                Stmt::For(ruff_python_ast::StmtFor { is_async: true, .. })
                | Stmt::With(ruff_python_ast::StmtWith { is_async: true, .. })
                    if self.in_async == Some(false) =>
                {
                    self.found = true;
                }
                _ => visitor::walk_stmt(self, stmt),
            }
        }
        fn visit_expr(&mut self, expr: &'a Expr) {
            match expr {
                Expr::Await(_) if self.in_async == Some(false) => self.found = true,
                Expr::Lambda(lambda) => {
                    let outer = self.in_async.replace(false);
                    self.visit_expr(&lambda.body);
                    self.in_async = outer;
                }
                _ => visitor::walk_expr(self, expr),
            }
        }
    }
    let mut finder = Finder {
        in_async: None,
        found: false,
    };
    finder.visit_stmt(stmt);
    finder.found
}

/// True when a statement contains an IPython escape (`%magic`, `!cmd`, `x?`) anywhere.
fn contains_ipython_syntax(stmt: &Stmt) -> bool {
    #[derive(Default)]
    struct Finder {
        found: bool,
    }
    impl<'a> Visitor<'a> for Finder {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            if matches!(stmt, Stmt::IpyEscapeCommand(_)) {
                self.found = true;
            } else if !self.found {
                visitor::walk_stmt(self, stmt);
            }
        }
        fn visit_expr(&mut self, expr: &'a Expr) {
            if matches!(expr, Expr::IpyEscapeCommand(_)) {
                self.found = true;
            } else if !self.found {
                visitor::walk_expr(self, expr);
            }
        }
    }
    let mut finder = Finder::default();
    finder.visit_stmt(stmt);
    finder.found
}
