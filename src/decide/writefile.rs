//! The rules for `%%writefile` cells: which ones become modules of the package, what each
//! module holds, and which imports of them can be rewritten to come from the package.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use ruff_python_ast::{Stmt, StmtImport};
use ruff_python_parser::parse_module;
use ruff_source_file::LineIndex;
use ruff_text_size::Ranged;

use super::reason::and_list;
use crate::analysis::Analysis;
use crate::magics::WriteFile;
use crate::notebook::{CellKind, Notebook};
use crate::position::{CellIndex, CellNumber};
use crate::python::imports::{ImportStmt, Reach, for_each_import, is_import_block};
use crate::python::parse::line_column;
use crate::python::scope::{self, ModuleReads, ReadTime, ScopeOptions};
use crate::python::semantic::module_semantic_error;

/// What happens to one `%%writefile` cell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WriteFileVerdict {
    /// The cell.
    pub(crate) cell: CellIndex,
    /// What its first line says.
    pub(crate) magic: WriteFile,
    /// Whether it becomes (part of) a module.
    pub(crate) stay: Option<WriteFileStay>,
    /// The module it writes (`helpers`, `code.inference`), when the target is a module path.
    pub(crate) module: Option<String>,
    /// What it writes may run code when imported (prints, configures), or does not parse.
    pub(crate) runs_code: bool,
}

/// Why a `%%writefile` cell stays in the notebook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum WriteFileStay {
    /// The target is not a `.py` file.
    NotPython,
    /// The path is built from a variable (`$folder/train.py`, `{path}`).
    VariablePath,
    /// An absolute path, or one leaving the notebook's folder.
    OutsideFolder,
    /// The path does not make a valid module path (`my-code/x.py`).
    NotAModulePath,
    /// The body does not parse as Python.
    SyntaxError {
        /// Where, in the body.
        line: usize,
        /// The parser's message.
        message: String,
    },
    /// Another cell writes the same file with other content, without `-a`.
    Conflict {
        /// Every cell writing the file.
        cells: Vec<CellNumber>,
    },
    /// It appends to a file no earlier cell writes.
    AppendsToUnknown,
    /// The notebook also uses the file as a file (runs it, passes its path).
    UsedAsFile {
        /// The first cell that does.
        cell: CellNumber,
    },
    /// The notebook imports the module before this cell writes it.
    ImportedBefore {
        /// The first cell that imports it.
        cell: CellNumber,
    },
    /// The notebook imports it in a form nbhoist cannot rewrite (`import code.inference`).
    ImportForm {
        /// The first cell with such an import.
        cell: CellNumber,
    },
    /// The module would have the name of the module nbhoist writes for the notebook.
    NameTaken,
    /// The module reads `__file__`, which would point into the package.
    ReadsOwnPath,
    /// The module reads `__name__`, which would be the package's name for it
    /// (`logging.getLogger(__name__)`).
    ReadsOwnName,
    /// The file is written, or imported, after the working directory changes.
    AfterChdir {
        /// The cell that changes it, or that imports the module after the change.
        cell: CellNumber,
    },
    /// The notebook was extracted before: code in the package may import the file.
    AlreadyHoisted {
        /// The notebook's module, dotted.
        module: String,
    },
    /// Cell `cell` reads IPython's numbered history (`Out[3]`, `In`), whose numbers removing
    /// this cell would shift.
    BeforeHistory {
        /// The cell that reads it.
        cell: CellNumber,
    },
    /// The notebook imports it in cell `imported`, no later than cell `setup` sets up what
    /// the package's imports need: from the package, that import would also import the
    /// notebook's module, before the setup.
    ImportedBeforeSetup {
        /// The first cell importing it.
        imported: CellNumber,
        /// The setup cell.
        setup: CellNumber,
    },
    /// Another cell writing the same file stays.
    WithOther {
        /// That cell.
        cell: CellNumber,
    },
    /// Another notebook runs this one with `%run`, and may use the file.
    RunBy {
        /// That notebook.
        notebook: String,
    },
}

impl fmt::Display for WriteFileStay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteFileStay::NotPython => f.write_str("writes a file that is not a Python module"),
            WriteFileStay::VariablePath => f.write_str("its path is built from a variable"),
            WriteFileStay::OutsideFolder => f.write_str("writes outside the notebook's folder"),
            WriteFileStay::NotAModulePath => {
                f.write_str("its path is not a valid Python module path")
            }
            WriteFileStay::SyntaxError { line, message } => {
                write!(f, "its content has a syntax error (line {line}: {message})")
            }
            WriteFileStay::Conflict { cells } => write!(
                f,
                "cells {} write the same file with different content",
                and_list(cells)
            ),
            WriteFileStay::AppendsToUnknown => {
                f.write_str("appends to a file that no earlier cell writes")
            }
            WriteFileStay::UsedAsFile { cell } => write!(
                f,
                "cell {cell} uses the file itself (runs it or names its path), not only imports it"
            ),
            WriteFileStay::ImportedBefore { cell } => {
                write!(f, "cell {cell} imports it before it is written")
            }
            WriteFileStay::ImportForm { cell } => write!(
                f,
                "cell {cell} imports it with a dotted `import`, which nbhoist does not rewrite"
            ),
            WriteFileStay::ReadsOwnPath => {
                f.write_str("its code reads `__file__`, which would then point into the package")
            }
            WriteFileStay::ReadsOwnName => f.write_str(
                "its code reads `__name__`, which would then be the module's name in the package",
            ),
            WriteFileStay::NameTaken => f.write_str(
                "its module would have the name of the module nbhoist writes for this notebook",
            ),
            WriteFileStay::BeforeHistory { cell } => write!(
                f,
                "cell {cell} reads IPython's numbered history (`Out[3]`, `_3`, `In`), which removing this cell would renumber"
            ),
            WriteFileStay::ImportedBeforeSetup { imported, setup } => write!(
                f,
                "cell {imported} imports it, no later than cell {setup} sets up what the package's imports need; imported from the package, it would import the package's other modules before that setup"
            ),
            WriteFileStay::AfterChdir { cell } => write!(
                f,
                "the notebook writes or imports it after changing its working directory (cell {cell}), where the package cannot be found"
            ),
            WriteFileStay::AlreadyHoisted { module } => write!(
                f,
                "the notebook's code was hoisted to `{module}` before, which may import the file it writes"
            ),
            WriteFileStay::WithOther { cell } => {
                write!(f, "cell {cell}, which writes the same file, stays")
            }
            WriteFileStay::RunBy { notebook } => write!(
                f,
                "{notebook} runs this notebook with `%run`, and may use the file it writes"
            ),
        }
    }
}

/// A module written by `%%writefile` cells that moves into the package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WrittenModule {
    /// Dotted module name inside the package (`helpers`, `code.inference`).
    pub(crate) module: String,
    /// Path inside the package (`helpers.py`, `code/inference.py`).
    pub(crate) path: String,
    /// The cells that write it, in order.
    pub(crate) cells: Vec<CellIndex>,
    /// The file's content as IPython would write it.
    pub(crate) content: String,
    /// Importing it runs code besides defining things (prints, configures, computes), which
    /// must keep happening where the notebook imports it.
    pub(crate) runs_code: bool,
}

/// The verdict of every `%%writefile` cell, and the modules that move.
#[derive(Clone, Debug, Default)]
pub(crate) struct WriteFiles {
    /// One per `%%writefile` cell, in notebook order.
    pub(crate) verdicts: Vec<WriteFileVerdict>,
    /// The modules that move, in order of their first cell.
    pub(crate) modules: Vec<WrittenModule>,
    /// Every import statement of the notebook's code cells, for rewriting those of the
    /// written modules; empty when no cell writes a module.
    pub(crate) imports: Vec<ModuleImport>,
}

impl WriteFiles {
    /// The moving module named `module`, if any.
    pub(crate) fn get(&self, module: &str) -> Option<&WrittenModule> {
        self.modules.iter().find(|m| m.module == module)
    }

    /// Makes every `%%writefile` cell that would move stay, for `reason`.
    pub(crate) fn keep_all(&mut self, reason: WriteFileStay) {
        for verdict in &mut self.verdicts {
            if verdict.stay.is_none() {
                verdict.stay = Some(reason.clone());
            }
        }
        self.modules.clear();
    }

    /// Makes the cells of the moving module `module` stay, for `reason`.
    pub(crate) fn keep_module(&mut self, module: &str, reason: &WriteFileStay) {
        let Some(position) = self.modules.iter().position(|m| m.module == module) else {
            return;
        };
        let moving = self.modules.remove(position);
        for verdict in &mut self.verdicts {
            if moving.cells.contains(&verdict.cell) && verdict.stay.is_none() {
                verdict.stay = Some(reason.clone());
            }
        }
    }

    /// True when the cell is a `%%writefile` cell whose module moves.
    pub(crate) fn moves(&self, cell: CellIndex) -> bool {
        self.modules.iter().any(|m| m.cells.contains(&cell))
    }
}

/// Decides which `%%writefile` cells become modules. `reserved` is the name of the module
/// nbhoist writes for the notebook itself, which a written module cannot take.
///
/// `history` is the last cell that reads IPython's numbered history: no cell before it may go.
pub(crate) fn decide(
    notebook: &Notebook,
    analysis: &Analysis,
    reserved: &str,
    history: Option<CellIndex>,
) -> WriteFiles {
    let mut verdicts: Vec<WriteFileVerdict> = analysis
        .writefiles
        .iter()
        .map(|write| {
            let (module, stay) = match module_of(&write.magic.target) {
                Ok(module) => (Some(module), None),
                Err(stay) => (None, Some(stay)),
            };
            let source = &notebook.cells()[write.cell.0].source;
            let body = &source[write.magic.body_start.min(source.len())..];
            let runs_code = module.is_some()
                && parse_module(body).map_or(true, |parsed| {
                    parsed.syntax().body.iter().any(|stmt| {
                        runs_code(stmt, &scope::module_reads(stmt, ScopeOptions::default()))
                    })
                });
            WriteFileVerdict {
                cell: write.cell,
                magic: write.magic.clone(),
                stay,
                module,
                runs_code,
            }
        })
        .collect();

    // Group the cells by module, in notebook order.
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, verdict) in verdicts.iter().enumerate() {
        if let Some(module) = &verdict.module {
            groups.entry(module.clone()).or_default().push(i);
        }
    }
    // Only imports of a written module matter; most notebooks write none.
    let imports = if groups.is_empty() {
        Vec::new()
    } else {
        module_imports(notebook, analysis)
    };
    // After the working directory changes, a written file lands elsewhere, and the package
    // (found through the notebook's folder) can no longer be imported.
    let chdir = analysis
        .cells
        .iter()
        .find(|cell| cell.chdir.is_some())
        .map(|cell| cell.index);
    let mut contents: BTreeMap<String, (String, bool)> = BTreeMap::new();
    for (module, members) in &groups {
        let before_history = history.and_then(|history| {
            let first = members.iter().find(|&&i| verdicts[i].cell < history)?;
            Some((*first, history))
        });
        let stay = if module == reserved {
            Err((members[0], WriteFileStay::NameTaken))
        } else if let Some((first, history)) = before_history {
            Err((
                first,
                WriteFileStay::BeforeHistory {
                    cell: history.number(),
                },
            ))
        } else {
            group_stay(notebook, &verdicts, members, module, &imports, chdir)
        };
        match stay {
            Ok(content) => {
                contents.insert(module.clone(), content);
            }
            Err((at, stay)) => {
                for &i in members {
                    if verdicts[i].stay.is_none() {
                        verdicts[i].stay = Some(if i == at {
                            stay.clone()
                        } else {
                            match &stay {
                                WriteFileStay::Conflict { .. }
                                | WriteFileStay::NameTaken
                                | WriteFileStay::UsedAsFile { .. }
                                | WriteFileStay::ImportedBefore { .. }
                                | WriteFileStay::ImportForm { .. }
                                | WriteFileStay::AfterChdir { .. }
                                | WriteFileStay::BeforeHistory { .. } => stay.clone(),
                                _ => WriteFileStay::WithOther {
                                    cell: verdicts[at].cell.number(),
                                },
                            }
                        });
                    }
                }
            }
        }
    }

    let mut modules: Vec<WrittenModule> = contents
        .into_iter()
        .map(|(module, (content, runs_code))| WrittenModule {
            path: format!("{}.py", module.replace('.', "/")),
            cells: groups[&module].iter().map(|&i| verdicts[i].cell).collect(),
            module,
            content,
            runs_code,
        })
        .collect();
    modules.sort_by_key(|m| m.cells[0]);
    WriteFiles {
        verdicts,
        modules,
        imports,
    }
}

/// The module a target path makes, or why it makes none.
fn module_of(target: &str) -> Result<String, WriteFileStay> {
    if target.contains('$') || target.contains('{') {
        return Err(WriteFileStay::VariablePath);
    }
    let Some(stem) = target.strip_suffix(".py") else {
        return Err(WriteFileStay::NotPython);
    };
    if target.starts_with('/') || target.starts_with('~') || target.contains('\\') {
        return Err(WriteFileStay::OutsideFolder);
    }
    let parts: Vec<&str> = stem
        .split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect();
    if parts.contains(&"..") {
        return Err(WriteFileStay::OutsideFolder);
    }
    let valid = |part: &&str| {
        ruff_python_stdlib::identifiers::is_identifier(part)
            && !ruff_python_stdlib::keyword::is_keyword(part)
    };
    if parts.is_empty() || !parts.iter().all(valid) || parts.last() == Some(&"__init__") {
        return Err(WriteFileStay::NotAModulePath);
    }
    Ok(parts.join("."))
}

/// The content of a module written by several cells, or the first cell that stays and why.
fn group_stay(
    notebook: &Notebook,
    verdicts: &[WriteFileVerdict],
    members: &[usize],
    module: &str,
    imports: &[ModuleImport],
    chdir: Option<CellIndex>,
) -> Result<(String, bool), (usize, WriteFileStay)> {
    if let Some(chdir) = chdir
        && let Some(&i) = members.iter().find(|&&i| verdicts[i].cell > chdir)
    {
        return Err((
            i,
            WriteFileStay::AfterChdir {
                cell: chdir.number(),
            },
        ));
    }
    let body = |i: usize| {
        let source = &notebook.cells()[verdicts[i].cell.0].source;
        let mut body = source[verdicts[i].magic.body_start.min(source.len())..].to_owned();
        // IPython hands the magic the cell body with a final newline.
        if !body.ends_with('\n') {
            body.push('\n');
        }
        body
    };
    if let Some(&i) = members.iter().find(|&&i| verdicts[i].stay.is_some()) {
        return Err((
            i,
            verdicts[i].stay.clone().unwrap_or(WriteFileStay::NotPython),
        ));
    }
    // The file as it stands after the last cell that writes it.
    let mut content: Option<String> = None;
    let mut writers: Vec<usize> = Vec::new();
    for &i in members {
        let text = body(i);
        match (&mut content, verdicts[i].magic.append) {
            (None, true) => return Err((i, WriteFileStay::AppendsToUnknown)),
            (Some(content), true) => content.push_str(&text),
            (Some(previous), false) if *previous != text => {
                let cells = members.iter().map(|&m| verdicts[m].cell.number()).collect();
                return Err((i, WriteFileStay::Conflict { cells }));
            }
            _ => {
                content = Some(text);
                writers.push(i);
            }
        }
    }
    let content = content.unwrap_or_default();
    let parsed = parse_module(&content);
    // What the parser accepts and CPython's compiler refuses (a NUL, `await` outside a
    // function, a parameter named twice) would make a module of the package that does not
    // compile.
    let error = match &parsed {
        Err(error) => Some((error.location.start(), error.error.to_string())),
        Ok(parsed) => {
            module_semantic_error(&parsed.syntax().body, &content, notebook.python_version())
                .map(|error| (error.range.start(), error.message))
        }
    };
    if let Some((at, message)) = error {
        let index = LineIndex::from_source_text(&content);
        let position = line_column(&index, &content, at);
        return Err((
            members[0],
            WriteFileStay::SyntaxError {
                line: position.line,
                message,
            },
        ));
    }
    // A module that finds its files next to itself would look in the package instead; one
    // that names itself would be named after the package.
    let parsed = parsed.ok();
    let body = parsed.as_ref().map_or(&[][..], |p| &p.syntax().body);
    let reads: Vec<ModuleReads> = body
        .iter()
        .map(|stmt| scope::module_reads(stmt, ScopeOptions::default()))
        .collect();
    let reads_name = |name: &str| {
        reads
            .iter()
            .flat_map(|reads| &reads.reads)
            .any(|read| read.name.as_str() == name)
    };
    if reads_name("__file__") {
        return Err((members[0], WriteFileStay::ReadsOwnPath));
    }
    if reads_name("__name__") {
        return Err((members[0], WriteFileStay::ReadsOwnName));
    }
    let first = verdicts[members[0]].cell;
    let path = format!("{}.py", module.replace('.', "/"));
    let top = module.split('.').next().unwrap_or(module);
    for cell in notebook.cells() {
        if members.iter().any(|&i| verdicts[i].cell == cell.index) {
            continue;
        }
        // Another `%%writefile` cell names its own target on its first line; only its content
        // can use this file.
        let source = match verdicts.iter().find(|v| v.cell == cell.index) {
            Some(other) => &cell.source[other.magic.body_start.min(cell.source.len())..],
            None => cell.source.as_str(),
        };
        // For a module in a sub-folder, naming the folder counts too (`source_dir="code"`,
        // `!cp -r code/ model/`): the folder would no longer hold the file.
        // `python -m tool`, `import_module("tool")`, `%run tool` run or name the module
        // without importing it.
        let mentions_module = [
            format!("-m {module}"),
            format!("'{module}'"),
            format!("\"{module}\""),
            format!("%run {module}"),
        ]
        .iter()
        .any(|mention| source.contains(mention.as_str()));
        let mentions_path = mentions_module
            || source.contains(&path)
            || (module.contains('.')
                && [format!("'{top}"), format!("\"{top}"), format!("{top}/")]
                    .iter()
                    .any(|mention| source.contains(mention.as_str())));
        if cell.kind == CellKind::Code && mentions_path {
            return Err((
                members[0],
                WriteFileStay::UsedAsFile {
                    cell: cell.index.number(),
                },
            ));
        }
    }
    for import in imports.iter().filter(|import| import.module == module) {
        if chdir.is_some_and(|chdir| import.cell >= chdir) {
            return Err((
                members[0],
                WriteFileStay::AfterChdir {
                    cell: import.cell.number(),
                },
            ));
        }
        if import.cell < first {
            return Err((
                members[0],
                WriteFileStay::ImportedBefore {
                    cell: import.cell.number(),
                },
            ));
        }
        if import.rewrite.is_none() {
            return Err((
                members[0],
                WriteFileStay::ImportForm {
                    cell: import.cell.number(),
                },
            ));
        }
    }
    let runs_code = body
        .iter()
        .zip(&reads)
        .any(|(stmt, reads)| runs_code(stmt, reads));
    Ok((content, runs_code))
}

/// Whether a top-level statement of a module runs code when the module is imported, besides
/// importing and defining: a call (also in a decorator, a default value or a class body), an
/// expression that is not a docstring, a loop, a `with`, ...
fn runs_code(stmt: &Stmt, reads: &ModuleReads) -> bool {
    let calls = reads.calls.iter().any(|call| call.when == ReadTime::Now);
    let defines = match stmt {
        Stmt::Import(_)
        | Stmt::ImportFrom(_)
        | Stmt::FunctionDef(_)
        | Stmt::ClassDef(_)
        | Stmt::Assign(_)
        | Stmt::AnnAssign(_)
        | Stmt::TypeAlias(_)
        | Stmt::Pass(_) => true,
        Stmt::Expr(expr) => expr.value.is_string_literal_expr(),
        _ => is_import_block(stmt),
    };
    calls || !defines
}

/// An import statement, anywhere in a code cell, of a module some `%%writefile` cell writes.
#[derive(Clone, Debug)]
pub(crate) struct ModuleImport {
    /// The cell.
    pub(crate) cell: CellIndex,
    /// Index into [`Analysis::cells`].
    pub(crate) code_cell: usize,
    /// The module imported.
    pub(crate) module: String,
    /// The statement's range in the cell text.
    pub(crate) range: Range<usize>,
    /// How the statement is rewritten to import from the package; `None` when nbhoist cannot
    /// rewrite it.
    pub(crate) rewrite: Option<ImportRewrite>,
}

/// How an import statement of written modules is rewritten to import them from the package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ImportRewrite {
    /// `import a, b as c`: replaced whole, one statement per module, each from the package
    /// when its module moves, as it was otherwise.
    Modules {
        /// `(module, as name)` of every alias, in order.
        aliases: Vec<(String, Option<String>)>,
        /// What goes between two statements: a newline and the indentation, or `; ` after
        /// other code on the line (`x = 1; import a, b`, `try: import a, b`).
        separator: String,
    },
    /// `from helpers import f`: only the module name changes; this is its range in the cell
    /// text.
    FromModule(Range<usize>),
}

/// Every import statement, at any depth, of any code cell.
fn module_imports(notebook: &Notebook, analysis: &Analysis) -> Vec<ModuleImport> {
    let mut imports = Vec::new();
    for (code_cell, cell) in analysis.cells.iter().enumerate() {
        let Some(parsed) = &cell.parsed else { continue };
        if cell.cleaned.is_some() {
            continue;
        }
        let source = cell.text(notebook);
        let mut add = |module: String, range: Range<usize>, rewrite: Option<ImportRewrite>| {
            imports.push(ModuleImport {
                cell: cell.index,
                code_cell,
                module,
                range,
                rewrite,
            });
        };
        for_each_import(&parsed.syntax().body, Reach::Everywhere, &mut |import| {
            match import {
                ImportStmt::Import(import) => {
                    let rewrite = modules_rewrite(import, source);
                    for alias in &import.names {
                        // `import a.b` without `as` binds `a`, which the package cannot
                        // provide.
                        let dotted_bare = alias.name.contains('.') && alias.asname.is_none();
                        let rewrite = (!dotted_bare).then(|| rewrite.clone());
                        add(alias.name.to_string(), import.range().into(), rewrite);
                    }
                }
                ImportStmt::From(import) if import.level == 0 => {
                    let Some(module) = &import.module else { return };
                    let rewrite = ImportRewrite::FromModule(module.range().into());
                    add(
                        module.to_string(),
                        import.range().into(),
                        Some(rewrite.clone()),
                    );
                    // `from code import inference` imports module `code.inference`.
                    for alias in &import.names {
                        let name = format!("{module}.{}", alias.name);
                        add(name, import.range().into(), Some(rewrite.clone()));
                    }
                }
                ImportStmt::From(_) => {}
            }
        });
    }
    imports
}

/// The rewrite of `import a, b as c`.
fn modules_rewrite(import: &StmtImport, source: &str) -> ImportRewrite {
    let offset = import.start().to_usize();
    let line_start = source[..offset].rfind('\n').map_or(0, |n| n + 1);
    let indent = &source[line_start..offset];
    let separator = if indent.trim().is_empty() {
        format!("\n{indent}")
    } else {
        "; ".to_owned()
    };
    ImportRewrite::Modules {
        aliases: crate::python::imports::members(&import.names),
        separator,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_become_module_paths() {
        assert_eq!(module_of("helpers.py"), Ok("helpers".into()));
        assert_eq!(
            module_of("./code/inference.py"),
            Ok("code.inference".into())
        );
        assert_eq!(module_of("conda.yml"), Err(WriteFileStay::NotPython));
        assert_eq!(
            module_of("$folder/train.py"),
            Err(WriteFileStay::VariablePath)
        );
        assert_eq!(module_of("{path}"), Err(WriteFileStay::VariablePath));
        assert_eq!(module_of("/tmp/x.py"), Err(WriteFileStay::OutsideFolder));
        assert_eq!(module_of("../x.py"), Err(WriteFileStay::OutsideFolder));
        assert_eq!(
            module_of("my-code/x.py"),
            Err(WriteFileStay::NotAModulePath)
        );
        assert_eq!(module_of("class.py"), Err(WriteFileStay::NotAModulePath));
    }
}
