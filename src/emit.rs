//! Writing Python text: import statements, the hoisted module, the package's `__init__.py`,
//! and what a cell holds once hoisted code is cut out of it.
//!
//! Pure string building. Which names go where is decided by [`crate::plan`].

use std::cmp::Ordering;
use std::collections::BTreeMap;

use ruff_python_stdlib::str::is_cased_uppercase;
use ruff_python_stdlib::sys::is_known_standard_library;

/// The line length past which generated `from` imports are wrapped in parentheses.
pub const LINE_LENGTH: usize = 88;

/// The Python 3 minor version whose standard library decides import sections and which
/// package names would shadow a standard-library module.
pub const PYTHON_MINOR: u8 = 11;

/// One generated import statement.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Import {
    /// `import module` or `import module as alias`.
    Module {
        /// The dotted module.
        module: String,
        /// `as` name.
        alias: Option<String>,
    },
    /// `from module import name as alias, ...`.
    From {
        /// The module, with leading dots for relative imports.
        module: String,
        /// `(name, alias)` pairs.
        names: Vec<(String, Option<String>)>,
    },
    /// A `try`/`if` block of imports, verbatim.
    Block(String),
    /// An import that may fail alone, as it may in the notebook:
    /// `try: import x` / `except ImportError: pass`.
    Guarded(Box<Import>),
}

impl Import {
    fn module(&self) -> &str {
        match self {
            Import::Module { module, .. } | Import::From { module, .. } => module,
            Import::Block(_) => "",
            Import::Guarded(import) => import.module(),
        }
    }

    /// The statement's text, wrapped for a line that starts at column `indent`.
    fn render(&self, indent: usize) -> String {
        match self {
            Import::Module { module, alias } => allow_long(
                &match alias {
                    Some(alias) => format!("import {module} as {alias}"),
                    None => format!("import {module}"),
                },
                indent,
            ),
            Import::From { module, names } => {
                // isort gives every `name as alias` a statement of its own, and orders a
                // module's statements by their first name.
                let (plain, aliased): (Vec<_>, Vec<_>) = names
                    .iter()
                    .cloned()
                    .partition(|(_, alias)| alias.is_none());
                let mut statements: Vec<Vec<(String, Option<String>)>> =
                    aliased.into_iter().map(|member| vec![member]).collect();
                if !plain.is_empty() {
                    statements.push(sorted_members(plain));
                }
                statements.sort_by_key(|members| {
                    let (name, alias) = &members[0];
                    (member_key(name), alias.clone().map(Natural))
                });
                let statements: Vec<String> = statements
                    .into_iter()
                    .map(|members| {
                        let names: Vec<String> = members
                            .into_iter()
                            .map(|(name, alias)| match alias {
                                Some(alias) => format!("{name} as {alias}"),
                                None => name,
                            })
                            .collect();
                        allow_long(&wrapped_from_import(module, &names, indent), indent)
                    })
                    .collect();
                statements.join("\n")
            }
            Import::Block(text) => text.clone(),
            Import::Guarded(import) => {
                let inner: Vec<String> = import
                    .render(indent + 4)
                    .lines()
                    .map(|line| format!("    {line}"))
                    .collect();
                format!("try:\n{}\nexcept ImportError:\n    pass", inner.join("\n"))
            }
        }
    }
}

/// `from module import a, b`, wrapped one name per line in parentheses past [`LINE_LENGTH`].
pub fn from_import(module: &str, names: &[String]) -> String {
    wrapped_from_import(module, names, 0)
}

/// [`from_import`] for a line that starts at column `indent`, which counts towards the
/// line's length.
fn wrapped_from_import(module: &str, names: &[String], indent: usize) -> String {
    let line = format!("from {module} import {}", names.join(", "));
    if indent + line.chars().count() <= LINE_LENGTH {
        return line;
    }
    let mut wrapped = format!("from {module} import (\n");
    for name in names {
        wrapped.push_str(&format!("    {name},\n"));
    }
    wrapped.push(')');
    wrapped
}

/// `text` with `  # noqa: E501` after each line longer than [`LINE_LENGTH`] once indented by
/// `indent`: such a line holds a dotted module path too long to fit, which no wrapping can
/// shorten, and ruff's E501 would report it.
fn allow_long(text: &str, indent: usize) -> String {
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            if indent + line.chars().count() > LINE_LENGTH {
                format!("{line}  # noqa: E501")
            } else {
                line.to_owned()
            }
        })
        .collect();
    lines.join("\n")
}

/// Sorts imported members as isort's and ruff's `order-by-type` do: CONSTANTS, then Classes,
/// then everything else, each in natural order.
pub fn sorted_members<T: AsRef<str>, A>(mut names: Vec<(T, A)>) -> Vec<(T, A)> {
    names.sort_by_key(|(name, _)| member_key(name.as_ref()));
    names
}

fn member_key(name: &str) -> (u8, Natural, Natural) {
    let kind = if name.len() > 1 && is_cased_uppercase(name) {
        0
    } else if name.starts_with(char::is_uppercase) {
        1
    } else {
        2
    };
    (kind, Natural(name.to_lowercase()), Natural(name.to_owned()))
}

/// A module or member name in the natural order ruff's isort sorts them in: case-sensitive,
/// but runs of digits compare as numbers, so that `f2` comes before `f10`. A run with a
/// leading zero compares digit by digit, as a decimal fraction would (`f015` before `f12`).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Natural(String);

impl Ord for Natural {
    fn cmp(&self, other: &Self) -> Ordering {
        let (a, b) = (self.0.as_bytes(), other.0.as_bytes());
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            if !(a[i].is_ascii_digit() && b[j].is_ascii_digit()) {
                match a[i].cmp(&b[j]) {
                    Ordering::Equal => (i, j) = (i + 1, j + 1),
                    order => return order,
                }
                continue;
            }
            let run_a = a[i..].iter().take_while(|c| c.is_ascii_digit()).count();
            let run_b = b[j..].iter().take_while(|c| c.is_ascii_digit()).count();
            let (digits_a, digits_b) = (&a[i..i + run_a], &b[j..j + run_b]);
            let order = if a[i] == b'0' || b[j] == b'0' {
                digits_a.cmp(digits_b)
            } else {
                run_a.cmp(&run_b).then(digits_a.cmp(digits_b))
            };
            if order != Ordering::Equal {
                return order;
            }
            (i, j) = (i + run_a, j + run_b);
        }
        (a.len() - i).cmp(&(b.len() - j))
    }
}

impl PartialOrd for Natural {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The import section a module belongs to, in the order sections are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Section {
    Future,
    StandardLibrary,
    ThirdParty,
    FirstParty,
    Blocks,
    Guarded,
}

/// The comment above the imports that may fail alone.
const GUARDED_COMMENT: &str = "# The saved notebook does not show that these imports work: if one fails,\n# only the code that uses it fails, as in the notebook.";

/// Renders imports grouped standard library / third party / this package and sorted, as
/// isort and ruff would, with a blank line between groups.
pub fn import_lines(imports: &[Import], package: &str) -> String {
    // `from m import a` and `from m import b` become `from m import a, b`.
    let mut merged: Vec<Import> = Vec::new();
    for import in imports {
        if let Import::From { module, names } = import
            && let Some(Import::From {
                names: existing, ..
            }) = merged
                .iter_mut()
                .find(|other| matches!(other, Import::From { module: m, .. } if m == module))
        {
            for name in names {
                if !existing.contains(name) {
                    existing.push(name.clone());
                }
            }
            continue;
        }
        merged.push(import.clone());
    }
    let mut sections: BTreeMap<Section, Vec<&Import>> = BTreeMap::new();
    for import in &merged {
        let top = import.module().split('.').next().unwrap_or_default();
        let section = match import {
            Import::Block(_) => Section::Blocks,
            Import::Guarded(_) => Section::Guarded,
            _ if top == "__future__" => Section::Future,
            _ if top == package || import.module().starts_with('.') => Section::FirstParty,
            _ if is_known_standard_library(PYTHON_MINOR, top) => Section::StandardLibrary,
            _ => Section::ThirdParty,
        };
        sections.entry(section).or_default().push(import);
    }
    let mut groups = Vec::new();
    for (section, mut imports) in sections {
        if section != Section::Blocks {
            // Straight `import x` before `from x import y`, then by module, case-insensitively.
            imports.sort_by_key(|import| {
                let inner: &Import = match import {
                    Import::Guarded(inner) => inner,
                    import => import,
                };
                (
                    matches!(inner, Import::From { .. }),
                    Natural(import.module().to_lowercase()),
                    Natural(import.module().to_owned()),
                    import.render(0),
                )
            });
        }
        let mut lines: Vec<String> = imports.iter().map(|import| import.render(0)).collect();
        if section == Section::Guarded {
            lines.insert(0, GUARDED_COMMENT.to_owned());
        }
        groups.push(lines.join("\n"));
    }
    groups.join("\n\n")
}

/// How the docstring of every module nbhoist hoists code into starts.
pub const MODULE_HEADER: &str = "\"\"\"Code hoisted from";

/// The text of a hoisted module: docstring, imports, constants, then definitions. The blank
/// lines are isort's, which ruff's I001 checks: after the imports, one before a constant and
/// two before a function or class; two between top-level blocks.
pub fn module_text(
    notebook_name: &str,
    imports: &str,
    constants: &[String],
    definitions: &[String],
) -> String {
    let name = docstring_text(notebook_name);
    let mut text = format!("{MODULE_HEADER} {name} by nbhoist.\"\"\"");
    if text.chars().count() > LINE_LENGTH {
        // On a line of its own, a long name without spaces is one word, which ruff's E501
        // lets run long.
        text = format!("{MODULE_HEADER}\n{name}\nby nbhoist.\n\"\"\"");
    }
    if !imports.is_empty() {
        text.push_str("\n\n");
        text.push_str(imports);
    }
    // Without imports isort has no say, but `ruff format` wants the same after a docstring.
    if !constants.is_empty() {
        text.push_str("\n\n");
        text.push_str(&constants.join("\n"));
    }
    for definition in definitions {
        text.push_str("\n\n\n");
        text.push_str(definition.trim_end());
    }
    text.push('\n');
    text
}

/// `text` as it can stand inside a `"""` docstring: backslashes, double quotes and control
/// characters escaped, so that a file named `a"""b\x.ipynb` cannot end the string.
fn docstring_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c if c.is_control() => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    out
}

/// The first line nbhoist writes in an `__init__.py`; a file without it was not written by
/// nbhoist and is never changed.
pub const INIT_MARKER: &str =
    "\"\"\"Package written by nbhoist: re-exports the hoisted code.\"\"\"";

/// The line that opens the part of an `__init__.py` nbhoist writes; everything outside it
/// and [`INIT_END`] is the user's and is kept as it is.
pub const INIT_BEGIN: &str =
    "# nbhoist: begin re-exports (rewritten on every run; add your lines above or below)";

/// The line that closes the part of an `__init__.py` nbhoist writes.
pub const INIT_END: &str = "# nbhoist: end re-exports";

/// The function that imports a re-exported name's submodule when the name is first used
/// (PEP 562), so that importing one module of the package never imports another.
const LAZY_GETATTR: &str = "def __getattr__(name):
    if name in _SUBMODULES:
        from importlib import import_module

        return getattr(import_module(f\".{_SUBMODULES[name]}\", __name__), name)
    raise AttributeError(f\"module {__name__!r} has no attribute {name!r}\")


def __dir__():
    return sorted(set(globals()) | set(__all__))";

/// The text of a new `__init__.py` that re-exports `exports` (module → public names).
pub fn init_text(exports: &BTreeMap<String, Vec<String>>) -> String {
    format!("{INIT_MARKER}\n\n{}\n", init_region(exports))
}

/// nbhoist's part of an `__init__.py`, from [`INIT_BEGIN`] to [`INIT_END`]: `__all__`, the
/// real imports for type checkers and editors (under `if TYPE_CHECKING:`, so they never run),
/// and a module-level `__getattr__` that imports a name's submodule on first use.
pub fn init_region(exports: &BTreeMap<String, Vec<String>>) -> String {
    let mut modules: Vec<(&String, Vec<String>)> = exports
        .iter()
        .filter(|(_, names)| !names.is_empty())
        .map(|(module, names)| {
            let sorted = sorted_members(names.iter().map(|n| (n.clone(), ())).collect())
                .into_iter()
                .map(|(name, ())| name)
                .collect();
            (module, sorted)
        })
        .collect();
    modules
        .sort_by_key(|(module, _)| (Natural(module.to_lowercase()), Natural(module.to_string())));
    let mut all: Vec<&String> = modules.iter().flat_map(|(_, names)| names).collect();
    all.sort();
    let quoted: Vec<String> = all.iter().map(|name| format!("\"{name}\"")).collect();
    let mut text = format!("{INIT_BEGIN}\n");
    if modules.is_empty() {
        text.push_str("__all__ = []\n");
        text.push_str(INIT_END);
        return text;
    }
    text.push_str("from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n");
    for (module, names) in &modules {
        let import = allow_long(&wrapped_from_import(&format!(".{module}"), names, 4), 4);
        for line in import.lines() {
            text.push_str(&format!("    {line}\n"));
        }
    }
    let line = format!("\n__all__ = [{}]\n", quoted.join(", "));
    if line.trim_end().chars().count() <= LINE_LENGTH {
        text.push_str(&line);
    } else {
        text.push_str("\n__all__ = [\n");
        for name in &quoted {
            text.push_str(&format!("    {name},\n"));
        }
        text.push_str("]\n");
    }
    text.push_str("\n# The submodule of each name, imported when the name is first used.\n");
    text.push_str("_SUBMODULES = {\n");
    for (module, names) in &modules {
        for name in names {
            text.push_str(&allow_long(&format!("    \"{name}\": \"{module}\","), 0));
            text.push('\n');
        }
    }
    text.push_str("}\n\n\n");
    text.push_str(LAZY_GETATTR);
    text.push('\n');
    text.push_str(INIT_END);
    text
}

/// An `__init__.py` nbhoist wrote before, with its part replaced by `region`: the user's
/// lines above and below it are kept. A file from before the markers existed was nbhoist's
/// but for `old_kept`, the statements nbhoist never writes, which go after the region.
pub fn merge_init(existing: &str, region: &str, old_kept: impl FnOnce() -> String) -> String {
    if let Some(begin) = existing.find(INIT_BEGIN)
        && let Some(end) = existing[begin..].find(INIT_END)
    {
        let end = begin + end + INIT_END.len();
        return format!("{}{region}{}", &existing[..begin], &existing[end..]);
    }
    let kept = old_kept();
    let mut text = format!("{INIT_MARKER}\n\n{region}\n");
    if !kept.is_empty() {
        text.push('\n');
        text.push_str(&kept);
    }
    text
}

/// Applies `(range, replacement)` edits to a cell's source. A cut (an empty replacement)
/// also takes the blank lines after it, so that the code around it keeps its own spacing;
/// nothing else is touched (a string literal's blank lines, line endings). Returns `None`
/// when nothing but whitespace remains.
pub fn edit(source: &str, edits: Vec<(std::ops::Range<usize>, String)>) -> Option<String> {
    let edits: Vec<(std::ops::Range<usize>, String)> = edits
        .into_iter()
        .map(|(range, replacement)| {
            if replacement.is_empty() {
                (
                    range.start..past_blank_lines(source, range.end),
                    replacement,
                )
            } else {
                (range, replacement)
            }
        })
        .collect();
    let cut_to_end = edits
        .iter()
        .any(|(range, replacement)| replacement.is_empty() && range.end == source.len());
    let mut kept = replace_ranges(source, edits);
    if kept.trim().is_empty() {
        return None;
    }
    if cut_to_end {
        // The blank lines that separated the cut code from what came before now end the
        // cell: drop them, keeping the cell's own convention for a final newline.
        let newline = if source.ends_with("\r\n") {
            "\r\n"
        } else {
            "\n"
        };
        kept.truncate(kept.trim_end().len());
        if source.ends_with('\n') {
            kept.push_str(newline);
        }
    }
    Some(kept)
}

/// The offset after the whitespace-only lines that start at `offset` (a line start).
fn past_blank_lines(source: &str, mut offset: usize) -> usize {
    while offset < source.len() {
        let line_end = source[offset..]
            .find('\n')
            .map_or(source.len(), |n| offset + n + 1);
        if !source[offset..line_end].trim().is_empty() {
            break;
        }
        offset = line_end;
    }
    offset
}

/// Applies non-overlapping `(range, replacement)` edits to `text`.
pub fn replace_ranges(text: &str, mut edits: Vec<(std::ops::Range<usize>, String)>) -> String {
    edits.sort_by_key(|(range, _)| range.start);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (range, replacement) in edits {
        if range.start < at {
            continue;
        }
        out.push_str(&text[at..range.start]);
        out.push_str(&replacement);
        at = range.end;
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_are_grouped_and_sorted() {
        let imports = vec![
            Import::From {
                module: "collections".into(),
                names: vec![("defaultdict".into(), None)],
            },
            Import::Module {
                module: "numpy".into(),
                alias: Some("np".into()),
            },
            Import::Module {
                module: "os".into(),
                alias: None,
            },
            Import::From {
                module: "__future__".into(),
                names: vec![("annotations".into(), None)],
            },
            Import::From {
                module: "mylib.core".into(),
                names: vec![("parse".into(), None), ("Report".into(), None)],
            },
            Import::Block(
                "try:\n    import ujson as json\nexcept ImportError:\n    import json".into(),
            ),
        ];
        assert_eq!(
            import_lines(&imports, "mylib"),
            "from __future__ import annotations\n\n\
             import os\nfrom collections import defaultdict\n\n\
             import numpy as np\n\n\
             from mylib.core import Report, parse\n\n\
             try:\n    import ujson as json\nexcept ImportError:\n    import json"
        );
    }

    #[test]
    fn imports_that_may_fail_are_guarded_one_by_one() {
        let imports = vec![
            Import::Guarded(Box::new(Import::Module {
                module: "fancylib".into(),
                alias: None,
            })),
            Import::Module {
                module: "os".into(),
                alias: None,
            },
            Import::Guarded(Box::new(Import::From {
                module: "numpy".into(),
                names: vec![("array".into(), None)],
            })),
        ];
        assert_eq!(
            import_lines(&imports, "mylib"),
            format!(
                "import os\n\n{GUARDED_COMMENT}\n\
                 try:\n    import fancylib\nexcept ImportError:\n    pass\n\
                 try:\n    from numpy import array\nexcept ImportError:\n    pass"
            )
        );
    }

    /// As `ruff check --select I` (0.17.6) wants them, with isort's defaults.
    #[test]
    fn aliased_names_get_statements_of_their_own() {
        let imports = vec![Import::From {
            module: "m".into(),
            names: vec![
                ("d".into(), Some("e".into())),
                ("c".into(), None),
                ("A".into(), Some("B".into())),
                ("Z".into(), None),
                ("c".into(), Some("c2".into())),
            ],
        }];
        assert_eq!(
            import_lines(&imports, "mylib"),
            "from m import A as B\nfrom m import Z, c\nfrom m import c as c2\nfrom m import d as e"
        );
    }

    #[test]
    fn numbers_in_names_sort_naturally() {
        let imports = vec![
            Import::Module {
                module: "m10".into(),
                alias: None,
            },
            Import::Module {
                module: "m2".into(),
                alias: None,
            },
            Import::From {
                module: "m".into(),
                names: [
                    "f10", "f2", "f1", "f015", "f12", "a10b", "a9c", "a010", "a01", "a_2",
                ]
                .map(|name| (name.to_owned(), None))
                .into(),
            },
        ];
        assert_eq!(
            import_lines(&imports, "mylib"),
            "import m2\nimport m10\nfrom m import a01, a010, a9c, a10b, a_2, f015, f1, f2, f10, f12"
        );
        let exports = BTreeMap::from([
            ("nb_10_b".to_owned(), vec!["g".to_owned()]),
            ("nb_2_a".to_owned(), vec!["f".to_owned()]),
        ]);
        assert!(
            init_text(&exports).contains("    from .nb_2_a import f\n    from .nb_10_b import g\n")
        );
    }

    #[test]
    fn guarded_imports_wrap_counting_their_indentation() {
        let names: Vec<(String, Option<String>)> =
            (0..4).map(|i| (format!("alpha_name_{i}"), None)).collect();
        // 86 characters: it fits at the margin, not inside `try:`.
        let module = "some_module_xxxxxxx";
        assert_eq!(
            from_import(
                module,
                &names.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>()
            )
            .len(),
            86
        );
        let guarded = Import::Guarded(Box::new(Import::From {
            module: module.into(),
            names,
        }));
        assert_eq!(
            import_lines(&[guarded], "mylib"),
            format!(
                "{GUARDED_COMMENT}\ntry:\n    from {module} import (\n        alpha_name_0,\n        \
                 alpha_name_1,\n        alpha_name_2,\n        alpha_name_3,\n    )\n\
                 except ImportError:\n    pass"
            )
        );
    }

    /// As `ruff check --select E,I` (0.17.6) accepts them.
    #[test]
    fn imports_too_long_to_fit_allow_it() {
        let module = format!("package.{}", ["long_module_name"; 5].join("."));
        let imports = vec![
            Import::Module {
                module: module.clone(),
                alias: Some("short".into()),
            },
            Import::Guarded(Box::new(Import::From {
                module: module.clone(),
                names: vec![("name".into(), None)],
            })),
        ];
        assert_eq!(
            import_lines(&imports, "mylib"),
            format!(
                "import {module} as short  # noqa: E501\n\n{GUARDED_COMMENT}\ntry:\n    \
                 from {module} import (  # noqa: E501\n        name,\n    )\n\
                 except ImportError:\n    pass"
            )
        );
        let exports = BTreeMap::from([(module.clone(), vec!["f".to_owned()])]);
        assert!(init_text(&exports).contains(&format!(
            "    from .{module} import (  # noqa: E501\n        f,\n    )\n"
        )));
    }

    #[test]
    fn long_from_imports_wrap() {
        let names: Vec<String> = (0..12).map(|i| format!("function_{i}")).collect();
        let text = from_import("mylib.analysis", &names);
        assert!(text.starts_with("from mylib.analysis import (\n    function_0,\n"));
        assert!(text.ends_with("    function_11,\n)"));
        assert_eq!(from_import("m", &["a".into()]), "from m import a");
    }

    #[test]
    fn members_sort_by_type() {
        let sorted = sorted_members(vec![
            ("parse", ()),
            ("Report", ()),
            ("LIMIT", ()),
            ("area", ()),
            ("_2", ()),
            ("_X", ()),
        ]);
        let names: Vec<&str> = sorted.into_iter().map(|(n, ())| n).collect();
        // `_2` has no cased letter, so it is no CONSTANT; `_` sorts before letters.
        assert_eq!(names, ["_X", "LIMIT", "Report", "_2", "area", "parse"]);
    }

    #[test]
    fn cuts_keep_string_literals_and_line_endings() {
        let source = "def f():\r\n    return 1\r\n\r\nTEXT = \"\"\"a\r\n\r\n\r\n\r\nb\"\"\"\r\n";
        let end = source.find("TEXT").unwrap();
        assert_eq!(
            edit(source, vec![(0..end - 2, String::new())]).as_deref(),
            Some("TEXT = \"\"\"a\r\n\r\n\r\n\r\nb\"\"\"\r\n")
        );
    }

    #[test]
    fn edits_tidy_blank_lines_and_drop_empty_cells() {
        let source = "import os\n\n\ndef f():\n    pass\n\n\nx = 1";
        let start = source.find("def").unwrap();
        let end = source.find("x = 1").unwrap();
        assert_eq!(
            edit(source, vec![(start..end, String::new())]).as_deref(),
            Some("import os\n\n\nx = 1")
        );
        assert_eq!(
            edit("def f():\n    pass\n", vec![(0..18, String::new())]),
            None
        );
        assert_eq!(
            edit("\n\nx = 1\n\n", vec![(0..0, String::new())]).as_deref(),
            Some("x = 1\n\n")
        );
    }

    /// The layouts `ruff check --select I` accepts (checked with ruff 0.17.6): after the
    /// imports one blank line before a statement, two before a `def` or `class`, whatever
    /// the imports end with; two blank lines between top-level blocks.
    #[test]
    fn blank_lines_after_the_imports_are_isorts() {
        let doc = "\"\"\"Code hoisted from a.ipynb by nbhoist.\"\"\"\n\n";
        let constants = ["K = os.sep".to_owned(), "# c\nJ = K * 2".to_owned()];
        let definitions = [
            "# f\ndef f():\n    return J\n\n".to_owned(),
            "class A:\n    pass".to_owned(),
        ];
        let module = |imports: &str, constants: &[String], definitions: &[String]| {
            module_text("a.ipynb", imports, constants, definitions)
                .strip_prefix(doc)
                .unwrap()
                .to_owned()
        };
        assert_eq!(
            module("import os", &constants, &definitions),
            "import os\n\nK = os.sep\n# c\nJ = K * 2\n\n\n# f\ndef f():\n    return J\n\n\nclass A:\n    pass\n"
        );
        assert_eq!(
            module("import os", &[], &definitions[..1]),
            "import os\n\n\n# f\ndef f():\n    return J\n"
        );
        assert_eq!(
            module("import os", &constants[..1], &[]),
            "import os\n\nK = os.sep\n"
        );
        let guarded = import_lines(
            &[Import::Guarded(Box::new(Import::Module {
                module: "os".into(),
                alias: None,
            }))],
            "mylib",
        );
        assert_eq!(
            module(&guarded, &constants[..1], &definitions[1..]),
            format!(
                "{GUARDED_COMMENT}\ntry:\n    import os\nexcept ImportError:\n    pass\n\nK = os.sep\n\n\nclass A:\n    pass\n"
            )
        );
        assert_eq!(
            module(&guarded, &[], &definitions[1..]),
            format!(
                "{GUARDED_COMMENT}\ntry:\n    import os\nexcept ImportError:\n    pass\n\n\nclass A:\n    pass\n"
            )
        );
        // Without imports isort has nothing to say; `ruff format` wants the same spacing.
        assert_eq!(module("", &constants[..1], &[]), "K = os.sep\n");
        assert_eq!(module("", &[], &definitions[1..]), "\nclass A:\n    pass\n");
    }

    #[test]
    fn the_docstring_escapes_the_notebook_name() {
        let text = module_text("a\"\"\"b\\c\n.ipynb", "", &[], &[]);
        assert_eq!(
            text,
            "\"\"\"Code hoisted from a\\\"\\\"\\\"b\\\\c\\n.ipynb by nbhoist.\"\"\"\n"
        );
    }

    #[test]
    fn a_long_notebook_name_has_a_line_of_its_own() {
        let name = format!("{}.ipynb", ["long-notebook-name"; 4].join("-"));
        assert_eq!(
            module_text(&name, "", &[], &[]),
            format!("\"\"\"Code hoisted from\n{name}\nby nbhoist.\n\"\"\"\n")
        );
    }

    #[test]
    fn init_reexports_lazily_with_all() {
        let mut exports = BTreeMap::new();
        exports.insert(
            "analysis".to_owned(),
            vec!["parse".to_owned(), "Report".to_owned()],
        );
        exports.insert("sub.clean".to_owned(), vec!["tidy".to_owned()]);
        exports.insert("empty".to_owned(), vec![]);
        assert_eq!(
            init_text(&exports),
            format!(
                "{INIT_MARKER}\n\n{INIT_BEGIN}\nfrom typing import TYPE_CHECKING\n\n\
                 if TYPE_CHECKING:\n    from .analysis import Report, parse\n    \
                 from .sub.clean import tidy\n\n__all__ = [\"Report\", \"parse\", \"tidy\"]\n\n\
                 # The submodule of each name, imported when the name is first used.\n\
                 _SUBMODULES = {{\n    \"Report\": \"analysis\",\n    \"parse\": \"analysis\",\n    \
                 \"tidy\": \"sub.clean\",\n}}\n\n\n{LAZY_GETATTR}\n{INIT_END}\n"
            )
        );
        assert_eq!(
            init_text(&BTreeMap::new()),
            format!("{INIT_MARKER}\n\n{INIT_BEGIN}\n__all__ = []\n{INIT_END}\n")
        );
    }

    #[test]
    fn the_users_lines_around_the_region_are_kept() {
        let region =
            |name: &str| init_region(&BTreeMap::from([("m".to_owned(), vec![name.to_owned()])]));
        let mine = format!(
            "{INIT_MARKER}\n\nimport os  # mine\n\n{}\n\nVERSION = os.sep  # mine too\n",
            region("f")
        );
        let merged = merge_init(&mine, &region("g"), || unreachable!());
        assert_eq!(merged, mine.replace(&region("f"), &region("g")));
        // Before the markers, nbhoist wrote all but the statements it never writes.
        let old = format!("{INIT_MARKER}\n\nfrom .m import f\n\n__all__ = [\"f\"]\n");
        assert_eq!(
            merge_init(&old, &region("g"), || "import mine\n".to_owned()),
            format!("{INIT_MARKER}\n\n{}\n\nimport mine\n", region("g"))
        );
    }
}
