//! `%%writefile` cells as module sources: which ones can become modules of the package, what
//! each module holds, and how imports of them are rewritten to come from the package.
//!
//! Pure: works on an [`Analysis`] and its [`Notebook`]; writes nothing.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{Stmt, StmtImport, StmtImportFrom};
use ruff_python_parser::parse_module;
use ruff_source_file::LineIndex;
use ruff_text_size::Ranged;

use crate::analysis::{Analysis, and_list};
use crate::emit::replace_ranges;
use crate::magics::WriteFile;
use crate::notebook::Notebook;
use crate::position::{CellIndex, CellNumber};
use crate::python::parse::line_column;

/// What happens to one `%%writefile` cell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteFileVerdict {
    /// The cell.
    pub cell: CellIndex,
    /// What its first line says.
    pub magic: WriteFile,
    /// Whether it becomes (part of) a module.
    pub stay: Option<WriteFileStay>,
    /// The module it writes (`helpers`, `code.inference`), when the target is a module path.
    pub module: Option<String>,
}

/// Why a `%%writefile` cell stays in the notebook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteFileStay {
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
    /// Another cell writing the same file stays.
    WithOther {
        /// That cell.
        cell: CellNumber,
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
            WriteFileStay::NameTaken => f.write_str(
                "its module would have the name of the module nbhoist writes for this notebook",
            ),
            WriteFileStay::WithOther { cell } => {
                write!(f, "cell {cell}, which writes the same file, stays")
            }
        }
    }
}

/// A module written by `%%writefile` cells that moves into the package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrittenModule {
    /// Dotted module name inside the package (`helpers`, `code.inference`).
    pub module: String,
    /// Path inside the package (`helpers.py`, `code/inference.py`).
    pub path: String,
    /// The cells that write it, in order.
    pub cells: Vec<CellIndex>,
    /// The file's content as IPython would write it, sibling imports made package-relative.
    pub content: String,
}

/// The verdict of every `%%writefile` cell, and the modules that move.
#[derive(Clone, Debug, Default)]
pub struct WriteFiles {
    /// One per `%%writefile` cell, in notebook order.
    pub verdicts: Vec<WriteFileVerdict>,
    /// The modules that move, in order of their first cell.
    pub modules: Vec<WrittenModule>,
    /// Every import statement of the notebook's code cells, for rewriting.
    imports: Vec<ModuleImport>,
}

impl WriteFiles {
    /// The moving module named `module`, if any.
    pub fn get(&self, module: &str) -> Option<&WrittenModule> {
        self.modules.iter().find(|m| m.module == module)
    }

    /// True when the cell is a `%%writefile` cell whose module moves.
    pub fn moves(&self, cell: CellIndex) -> bool {
        self.modules.iter().any(|m| m.cells.contains(&cell))
    }
}

/// Decides which `%%writefile` cells become modules. `reserved` is the name of the module
/// nbhoist writes for the notebook itself, which a written module cannot take.
pub fn analyse_writefiles(notebook: &Notebook, analysis: &Analysis, reserved: &str) -> WriteFiles {
    let mut verdicts: Vec<WriteFileVerdict> = analysis
        .writefiles
        .iter()
        .map(|write| {
            let (module, stay) = match module_of(&write.magic.target) {
                Ok(module) => (Some(module), None),
                Err(stay) => (None, Some(stay)),
            };
            WriteFileVerdict {
                cell: write.cell,
                magic: write.magic.clone(),
                stay,
                module,
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
    let imports = module_imports(notebook, analysis);
    let mut contents: BTreeMap<String, String> = BTreeMap::new();
    for (module, members) in &groups {
        let stay = if module == reserved {
            Err((members[0], WriteFileStay::NameTaken))
        } else {
            group_stay(notebook, &verdicts, members, module, &imports)
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
                                | WriteFileStay::ImportForm { .. } => stay.clone(),
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

    let moving: Vec<&String> = contents.keys().collect();
    let mut modules: Vec<WrittenModule> = contents
        .iter()
        .map(|(module, content)| WrittenModule {
            module: module.clone(),
            path: format!("{}.py", module.replace('.', "/")),
            cells: groups[module].iter().map(|&i| verdicts[i].cell).collect(),
            content: relative_sibling_imports(content, module, &moving),
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
) -> Result<String, (usize, WriteFileStay)> {
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
    if let Some(error) = parse_module(&content).err() {
        let index = LineIndex::from_source_text(&content);
        let position = line_column(&index, &content, error.location.start());
        return Err((
            members[0],
            WriteFileStay::SyntaxError {
                line: position.line,
                message: error.error.to_string(),
            },
        ));
    }
    // A module that finds its files next to itself would look in the package instead.
    if content.contains("__file__") {
        return Err((members[0], WriteFileStay::ReadsOwnPath));
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
        if cell.kind == crate::notebook::CellKind::Code && mentions_path {
            return Err((
                members[0],
                WriteFileStay::UsedAsFile {
                    cell: cell.index.number(),
                },
            ));
        }
    }
    for import in imports.iter().filter(|import| import.module == module) {
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
    Ok(content)
}

/// Text edits per code cell (index into [`Analysis::cells`]): `(range, replacement)`.
pub type ImportEdits = BTreeMap<usize, Vec<(Range<usize>, String)>>;

/// An import statement, anywhere in a code cell, of a module some `%%writefile` cell writes.
#[derive(Clone, Debug)]
pub struct ModuleImport {
    /// The cell.
    pub cell: CellIndex,
    /// Index into [`Analysis::cells`].
    pub code_cell: usize,
    /// The module imported.
    pub module: String,
    /// The statement's range in the cell text.
    pub range: Range<usize>,
    /// The statement as it must read to import from the package, with `{package}` standing
    /// for the package name; `None` when nbhoist cannot rewrite it.
    pub rewrite: Option<String>,
}

/// Every import statement, at any depth, of any code cell.
fn module_imports(notebook: &Notebook, analysis: &Analysis) -> Vec<ModuleImport> {
    struct Collector<'s> {
        source: &'s str,
        found: Vec<(String, Range<usize>, Option<String>)>,
    }
    impl<'a> Visitor<'a> for Collector<'_> {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            match stmt {
                Stmt::Import(import) => self.found.extend(import_rewrites(import, self.source)),
                Stmt::ImportFrom(import) if import.level == 0 => {
                    if let Some(module) = &import.module {
                        let rewrite = from_rewrite(import, self.source);
                        self.found.push((
                            module.to_string(),
                            import.range().into(),
                            Some(rewrite.clone()),
                        ));
                        // `from code import inference` imports module `code.inference`.
                        for alias in &import.names {
                            self.found.push((
                                format!("{module}.{}", alias.name),
                                import.range().into(),
                                Some(rewrite.clone()),
                            ));
                        }
                    }
                }
                _ => visitor::walk_stmt(self, stmt),
            }
        }
    }
    let mut imports = Vec::new();
    for (code_cell, cell) in analysis.cells.iter().enumerate() {
        let Some(parsed) = &cell.parsed else { continue };
        if cell.cleaned.is_some() {
            continue;
        }
        let mut collector = Collector {
            source: cell.text(notebook),
            found: Vec::new(),
        };
        collector.visit_body(&parsed.syntax().body);
        imports.extend(
            collector
                .found
                .into_iter()
                .map(|(module, range, rewrite)| ModuleImport {
                    cell: cell.index,
                    code_cell,
                    module,
                    range,
                    rewrite,
                }),
        );
    }
    imports
}

/// For `import a, b as c`: one entry per imported module, each with the template of the
/// whole statement, since the statement is replaced as a whole. `import a.b` without `as`
/// binds `a`, which the package cannot provide: its entry has no template.
fn import_rewrites(
    import: &StmtImport,
    source: &str,
) -> Vec<(String, Range<usize>, Option<String>)> {
    let indent = line_prefix(source, import.start().to_usize());
    let lines: Vec<String> = import
        .names
        .iter()
        .map(|alias| {
            let name = alias.name.as_str();
            // `{move:m}A{else}B{end}`: A when `m` moves, B (the line as it was) otherwise.
            match (name.rsplit_once('.'), alias.asname.as_ref()) {
                (None, None) => format!(
                    "{{move:{name}}}from {{package}} import {name}{{else}}import {name}{{end}}"
                ),
                (None, Some(asname)) => format!(
                    "{{move:{name}}}from {{package}} import {name} as {asname}{{else}}import {name} as {asname}{{end}}"
                ),
                (Some((parent, leaf)), Some(asname)) => format!(
                    "{{move:{name}}}from {{package}}.{parent} import {leaf} as {asname}{{else}}import {name} as {asname}{{end}}"
                ),
                (Some(_), None) => format!("import {name}"),
            }
        })
        .collect();
    // One statement per line at the same indentation; but after other code on the line
    // (`x = 1; import a, b`, `try: import a, b`), statements are joined with `; `.
    let separator = if indent.trim().is_empty() {
        format!("\n{indent}")
    } else {
        "; ".to_owned()
    };
    let template = lines.join(&separator);
    import
        .names
        .iter()
        .map(|alias| {
            let dotted_bare = alias.name.contains('.') && alias.asname.is_none();
            (
                alias.name.to_string(),
                import.range().into(),
                (!dotted_bare).then(|| template.clone()),
            )
        })
        .collect()
}

/// `from helpers import f` → `from {package}.helpers import f`: only the module changes.
fn from_rewrite(import: &StmtImportFrom, source: &str) -> String {
    let text = &source[import.range()];
    let Some(module) = &import.module else {
        return text.to_owned();
    };
    let start = module.start().to_usize() - import.start().to_usize();
    let end = module.end().to_usize() - import.start().to_usize();
    format!(
        "{}{{package}}.{}{}",
        &text[..start],
        &text[start..end],
        &text[end..]
    )
}

/// The text of the line before `offset`: indentation, or other code before a `;` or `:`.
fn line_prefix(source: &str, offset: usize) -> &str {
    let line_start = source[..offset].rfind('\n').map_or(0, |n| n + 1);
    &source[line_start..offset]
}

/// Fills in a rewrite template for the modules that move (`{move:m}A{else}B{end}` picks A
/// when `m` moves, B otherwise; `{package}` is the package).
fn fill(template: &str, package: &str, moves: &dyn Fn(&str) -> bool) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{move:") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 6..];
        let (module, after) = after.split_once('}').unwrap_or((after, ""));
        let (yes, after) = after.split_once("{else}").unwrap_or((after, ""));
        let (no, after) = after.split_once("{end}").unwrap_or((after, ""));
        out.push_str(if moves(module) { yes } else { no });
        rest = after;
    }
    out.push_str(rest);
    out.replace("{package}", package)
}

/// Text edits that make every import of a moving module come from `package` (the dotted
/// package folder the modules go to), per code cell (index into [`Analysis::cells`]):
/// `(range, replacement)`.
pub fn import_edits(writes: &WriteFiles, package: &str) -> ImportEdits {
    let moves = |module: &str| writes.get(module).is_some();
    let mut edits = ImportEdits::new();
    for import in &writes.imports {
        let Some(template) = &import.rewrite else {
            continue;
        };
        if !moves(&import.module) {
            continue;
        }
        let cell_edits = edits.entry(import.code_cell).or_default();
        // `import a, b` yields one entry per module for the same statement.
        if cell_edits.iter().any(|(range, _)| *range == import.range) {
            continue;
        }
        cell_edits.push((import.range.clone(), fill(template, package, &moves)));
    }
    edits
}

/// In a written module, imports of sibling modules (`from helpers import x`, written by
/// another cell of the notebook) become package-relative (`from .helpers import x`).
fn relative_sibling_imports(content: &str, module: &str, moving: &[&String]) -> String {
    let Ok(parsed) = parse_module(content) else {
        return content.to_owned();
    };
    let depth = module.matches('.').count();
    let dots = ".".repeat(depth + 1);
    let is_sibling = |name: &str| moving.iter().any(|m| m.as_str() == name);
    let mut edits: Vec<(Range<usize>, String)> = Vec::new();
    for stmt in &parsed.syntax().body {
        match stmt {
            Stmt::ImportFrom(import) if import.level == 0 => {
                if let Some(name) = &import.module
                    && is_sibling(name.as_str())
                {
                    edits.push((name.range().into(), format!("{dots}{name}")));
                }
            }
            Stmt::Import(import)
                if import
                    .names
                    .iter()
                    .all(|alias| is_sibling(alias.name.as_str()) && !alias.name.contains('.')) =>
            {
                let names: Vec<String> = import
                    .names
                    .iter()
                    .map(|alias| match &alias.asname {
                        Some(asname) => format!("{} as {asname}", alias.name),
                        None => alias.name.to_string(),
                    })
                    .collect();
                edits.push((
                    import.range().into(),
                    format!("from {dots} import {}", names.join(", ")),
                ));
            }
            _ => {}
        }
    }
    replace_ranges(content, edits)
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

    #[test]
    fn sibling_imports_become_relative() {
        let helpers = "helpers".to_owned();
        let content = "import os\nfrom helpers import x\nimport helpers as h\n";
        assert_eq!(
            relative_sibling_imports(content, "model", &[&helpers]),
            "import os\nfrom .helpers import x\nfrom . import helpers as h\n"
        );
        assert_eq!(
            relative_sibling_imports("from helpers import x\n", "code.model", &[&helpers]),
            "from ..helpers import x\n"
        );
    }

    #[test]
    fn templates_fill_in_the_package() {
        let moves = |m: &str| m == "helpers";
        assert_eq!(
            fill(
                "{move:helpers}from {package} import helpers{else}import helpers{end}\n{move:os}from {package} import os{else}import os{end}",
                "pkg",
                &moves
            ),
            "from pkg import helpers\nimport os"
        );
    }
}
