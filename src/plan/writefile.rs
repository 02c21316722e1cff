//! The text of `%%writefile` modules that move into the package: their imports of each other,
//! and the notebook's imports of them, rewritten to come from the package.

use std::collections::BTreeMap;
use std::ops::Range;

use ruff_python_parser::parse_module;
use ruff_text_size::Ranged;

use crate::analysis::Analysis;
use crate::decide::writefile::{ImportRewrite, WriteFiles};
use crate::emit::replace_ranges;
use crate::notebook::Notebook;
use crate::python::imports::{ImportStmt, Reach, for_each_import};

/// Text edits per code cell (index into [`Analysis::cells`]): `(range, replacement)`.
pub(super) type ImportEdits = BTreeMap<usize, Vec<(Range<usize>, String)>>;

/// Text edits that make every import of a moving module come from `package` (the dotted
/// package folder the modules go to).
pub(super) fn import_edits(
    notebook: &Notebook,
    analysis: &Analysis,
    writes: &WriteFiles,
    package: &str,
) -> ImportEdits {
    let moves = |module: &str| writes.get(module).is_some();
    let mut edits = ImportEdits::new();
    for import in &writes.imports {
        let Some(rewrite) = &import.rewrite else {
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
        let source = analysis.cells[import.code_cell].text(notebook);
        let text = render(
            rewrite,
            &source[import.range.clone()],
            import.range.start,
            package,
            &moves,
        );
        cell_edits.push((import.range.clone(), text));
    }
    edits
}

/// The statement `text` (which starts at `offset` in its cell) as it must read to import the
/// modules that move from `package`.
fn render(
    rewrite: &ImportRewrite,
    text: &str,
    offset: usize,
    package: &str,
    moves: &dyn Fn(&str) -> bool,
) -> String {
    match rewrite {
        ImportRewrite::Modules { aliases, separator } => {
            let lines: Vec<String> = aliases
                .iter()
                .map(|(name, asname)| {
                    let moved = moves(name);
                    match (name.rsplit_once('.'), asname) {
                        (None, None) if moved => format!("from {package} import {name}"),
                        (None, Some(asname)) if moved => {
                            format!("from {package} import {name} as {asname}")
                        }
                        (Some((parent, leaf)), Some(asname)) if moved => {
                            format!("from {package}.{parent} import {leaf} as {asname}")
                        }
                        (_, None) => format!("import {name}"),
                        (_, Some(asname)) => format!("import {name} as {asname}"),
                    }
                })
                .collect();
            lines.join(separator)
        }
        ImportRewrite::FromModule(module) => {
            let (start, end) = (module.start - offset, module.end - offset);
            format!(
                "{}{package}.{}{}",
                &text[..start],
                &text[start..end],
                &text[end..]
            )
        }
    }
}

/// In a written module, imports of sibling modules (`from helpers import x`, written by
/// another cell of the notebook) become package-relative (`from .helpers import x`),
/// wherever they are (in functions, in `try` blocks) and in every form (`import re,
/// helpers` becomes `import re` and `from . import helpers`).
pub(super) fn relative_sibling_imports(content: &str, module: &str, moving: &[&str]) -> String {
    let Ok(parsed) = parse_module(content) else {
        return content.to_owned();
    };
    let depth = module.matches('.').count();
    let dots = ".".repeat(depth + 1);
    let is_sibling = |name: &str| moving.contains(&name);
    let mut edits: Vec<(Range<usize>, String)> = Vec::new();
    for_each_import(
        &parsed.syntax().body,
        Reach::Everywhere,
        &mut |import| match import {
            ImportStmt::From(import) if import.level == 0 => {
                if let Some(name) = &import.module
                    && is_sibling(name.as_str())
                {
                    edits.push((name.range().into(), format!("{dots}{name}")));
                }
            }
            ImportStmt::From(_) => {}
            ImportStmt::Import(import) => {
                let sibling = |alias: &ruff_python_ast::Alias| {
                    is_sibling(alias.name.as_str()) && !alias.name.contains('.')
                };
                if !import.names.iter().any(sibling) {
                    return;
                }
                let statements: Vec<String> = import
                    .names
                    .iter()
                    .map(|alias| {
                        let named = match &alias.asname {
                            Some(asname) => format!("{} as {asname}", alias.name),
                            None => alias.name.to_string(),
                        };
                        if sibling(alias) {
                            format!("from {dots} import {named}")
                        } else {
                            format!("import {named}")
                        }
                    })
                    .collect();
                let start = import.start().to_usize();
                let line_start = content[..start].rfind('\n').map_or(0, |n| n + 1);
                let indent = &content[line_start..start];
                let separator = if indent.trim().is_empty() {
                    format!("\n{indent}")
                } else {
                    "; ".to_owned()
                };
                edits.push((import.range().into(), statements.join(&separator)));
            }
        },
    );
    replace_ranges(content, edits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sibling_imports_become_relative() {
        let content = "import os\nfrom helpers import x\nimport helpers as h\n";
        assert_eq!(
            relative_sibling_imports(content, "model", &["helpers"]),
            "import os\nfrom .helpers import x\nfrom . import helpers as h\n"
        );
        assert_eq!(
            relative_sibling_imports("from helpers import x\n", "code.model", &["helpers"]),
            "from ..helpers import x\n"
        );
        let content = "import re, helpers\ntry:\n    from helpers import y\nexcept ImportError:\n    pass\n\ndef f():\n    import helpers as h\n    return h\n";
        assert_eq!(
            relative_sibling_imports(content, "model", &["helpers"]),
            "import re\nfrom . import helpers\ntry:\n    from .helpers import y\nexcept ImportError:\n    pass\n\ndef f():\n    from . import helpers as h\n    return h\n"
        );
    }

    #[test]
    fn rewrites_keep_the_rest_of_the_statement_as_written() {
        let moves = |m: &str| m == "helpers";
        let modules = ImportRewrite::Modules {
            aliases: vec![("helpers".into(), None), ("os".into(), None)],
            separator: "\n".into(),
        };
        assert_eq!(
            render(&modules, "import helpers, os", 0, "pkg", &moves),
            "from pkg import helpers\nimport os"
        );
        // Text that looks like a placeholder is the user's, and stays as it is.
        let text = "from helpers import (greet,  # was {package}\n    x)";
        let from = ImportRewrite::FromModule(15..22);
        assert_eq!(
            render(&from, text, 10, "lib", &moves),
            "from lib.helpers import (greet,  # was {package}\n    x)"
        );
    }
}
