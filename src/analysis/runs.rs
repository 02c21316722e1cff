//! `%run` lines: which file each one runs, as far as the notebook's text says, and what running
//! that file binds in the notebook, once the other file has been read and decided.
//!
//! IPython runs `%run other.ipynb` cell by cell in the notebook's own namespace, and
//! `%run helpers.py` in a fresh namespace whose names it then copies into the notebook's. Either
//! way every top-level name the other file binds is bound in the notebook at the `%run` line.

use std::fmt;

use std::collections::BTreeMap;

use ruff_python_ast::{IpyEscapeKind, Stmt};
use ruff_source_file::LineIndex;
use ruff_text_size::Ranged;
use rustc_hash::FxHashMap;

use super::{StatementRef, strings};
use crate::magics::split_args;
use crate::position::{CellIndex, CellNumber};
use crate::python::imports::bound_name;
use crate::python::scope::{self, BindingKind};

/// A `%run` line among a cell's top-level statements.
#[derive(Clone, Debug)]
pub(crate) struct RunLine {
    /// The statement.
    pub(crate) at: StatementRef,
    /// Its cell.
    pub(crate) cell: CellIndex,
    /// What it runs.
    pub(crate) target: RunTarget,
}

/// What a `%run` line runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RunTarget {
    /// A notebook or Python file, by its literal path, relative to the notebook's folder.
    File(String),
    /// Something nbhoist does not follow.
    Unfollowed(Unfollowed),
}

/// Why nbhoist cannot tell what a `%run` line binds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Unfollowed {
    /// `%run -i`, `-n`, `-m`, ...: options change where and how the file runs.
    Options(String),
    /// The path is computed (`$path`, `{path}`).
    VariablePath,
    /// Not a `.ipynb` or `.py` file.
    NotAFile(String),
    /// The working directory changed before (cell): the path means another file.
    AfterChdir(CellNumber),
    /// The file does not exist.
    Missing(String),
    /// The file cannot be read or parsed.
    Unreadable(String),
    /// The file runs, directly or not, the notebook that runs it.
    Cycle(String),
    /// An earlier cell names the file, and may write it: what runs may not be what is on disk.
    NamedBefore(CellNumber),
    /// The file does something whose effect on names nbhoist cannot read.
    Opaque {
        /// The file.
        file: String,
        /// What it does.
        what: Opacity,
    },
}

/// What makes a file's names unknowable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Opacity {
    /// A syntax error, or an error when it last ran: it may stop part-way.
    Errors,
    /// It runs a file nbhoist cannot follow, for this reason.
    RunsUnknown(Box<Unfollowed>),
    /// A star import, `exec`, `globals()`, or a `%run` nbhoist does not follow.
    DynamicBindings,
    /// It reads a name it never binds: from the notebook that runs it.
    ReadsCallerName(String),
    /// It runs other files, which IPython looks for in the calling notebook's folder, not in
    /// its own.
    RunsFromElsewhere,
}

impl fmt::Display for Unfollowed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unfollowed::Options(options) => {
                write!(
                    f,
                    "it has options ({options}) that change how the file runs"
                )
            }
            Unfollowed::VariablePath => f.write_str("its path is computed"),
            Unfollowed::NotAFile(what) => write!(f, "`{what}` is not a notebook or a .py file"),
            Unfollowed::AfterChdir(cell) => write!(
                f,
                "it comes after cell {cell} changes the working directory, where the path means another file"
            ),
            Unfollowed::Missing(file) => write!(f, "{file} does not exist"),
            Unfollowed::Unreadable(file) => write!(f, "{file} cannot be read"),
            Unfollowed::Cycle(file) => write!(
                f,
                "running {file} closes a cycle of notebooks that run each other"
            ),
            Unfollowed::NamedBefore(cell) => write!(
                f,
                "cell {cell} names the file before it runs, and may write it"
            ),
            Unfollowed::Opaque { file, what } => match what {
                Opacity::Errors => write!(f, "{file} has errors, so it may stop part-way"),
                Opacity::RunsUnknown(inner) => {
                    write!(f, "{file} runs a file nbhoist cannot follow ({inner})")
                }
                Opacity::DynamicBindings => write!(
                    f,
                    "{file} binds names in ways nbhoist cannot read (a star import, `exec`, `globals()` or `%run`)"
                ),
                Opacity::ReadsCallerName(name) => write!(
                    f,
                    "{file} reads `{name}`, which only the notebook that runs it binds"
                ),
                Opacity::RunsFromElsewhere => write!(
                    f,
                    "{file} runs other files, which IPython looks for in this notebook's folder"
                ),
            },
        }
    }
}

/// An import as another file writes it, for one name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RunImport {
    /// `import module` or `import module as alias`.
    Module {
        /// The dotted module.
        module: String,
        /// The `as` name.
        alias: Option<String>,
    },
    /// `from module import member` or `from module import member as alias`.
    From {
        /// The dotted module.
        module: String,
        /// The imported name.
        member: String,
        /// The `as` name.
        alias: Option<String>,
    },
}

impl RunImport {
    /// The module it imports, or imports from.
    pub(crate) fn module(&self) -> &str {
        let (RunImport::Module { module, .. } | RunImport::From { module, .. }) = self;
        module
    }

    /// The key [`super::SiteKind::Import`] uses, so that the same import written in the
    /// notebook compares equal.
    pub(crate) fn key(&self) -> String {
        match self {
            RunImport::Module {
                module,
                alias: None,
            } => {
                format!("import {}", module.split('.').next().unwrap_or(module))
            }
            RunImport::Module { module, .. } => format!("import {module}"),
            RunImport::From { module, member, .. } => format!("from {module} import {member}"),
        }
    }
}

/// What a name bound by a `%run` line stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RunBinding {
    /// The other file imports it: the package imports it the same way.
    Import(RunImport),
    /// The other notebook's module in the package defines it (hoisted by nbhoist).
    Hoisted(RunImport),
    /// State the other file computes.
    Variable {
        /// The file.
        file: String,
        /// Where it binds the name last.
        place: RunPlace,
    },
}

/// Where in another file a name is bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RunPlace {
    /// A notebook's cell.
    Cell(CellNumber),
    /// A Python file's line.
    Line(usize),
}

impl fmt::Display for RunPlace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunPlace::Cell(cell) => write!(f, "cell {cell}"),
            RunPlace::Line(line) => write!(f, "line {line}"),
        }
    }
}

/// What one `%run` line binds, once its file has been read and decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RunEffect {
    /// These names, each standing for something known.
    Binds(Vec<(String, RunBinding)>),
    /// Any name, for this reason.
    Unknown(Unfollowed),
}

/// The effects of a notebook's `%run` lines, by statement. A `%run` line of a file that was
/// not read has no entry and counts as [`RunEffect::Unknown`].
pub(crate) type RunEffects = FxHashMap<StatementRef, RunEffect>;

/// The `%run` line a top-level statement is, if it is one: its target.
pub(crate) fn run_target(stmt: &Stmt) -> Option<RunTarget> {
    let Stmt::IpyEscapeCommand(command) = stmt else {
        return None;
    };
    if command.kind != IpyEscapeKind::Magic {
        return None;
    }
    let rest = command.value.strip_prefix("run")?;
    if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let rest = rest.trim();
    // IPython expands `$name` and `{expression}` in a magic's arguments before it runs.
    if rest.contains(['$', '{']) {
        return Some(RunTarget::Unfollowed(Unfollowed::VariablePath));
    }
    let words = split_args(rest);
    let Some(file) = words.first() else {
        return Some(RunTarget::Unfollowed(Unfollowed::NotAFile(String::new())));
    };
    // `-i` (run in the notebook's namespace) is what `%run` always does for a notebook.
    if let [option, notebook, ..] = words.as_slice()
        && option == "-i"
        && notebook.ends_with(".ipynb")
    {
        return Some(RunTarget::File(notebook.clone()));
    }
    if file.starts_with('-') {
        let options: Vec<&str> = words
            .iter()
            .map(String::as_str)
            .take_while(|word| word.starts_with('-'))
            .collect();
        return Some(RunTarget::Unfollowed(Unfollowed::Options(
            options.join(" "),
        )));
    }
    // Words after the file are its `sys.argv`: they change values, not which names it binds.
    if file.ends_with(".ipynb") || file.ends_with(".py") {
        Some(RunTarget::File(file.clone()))
    } else {
        Some(RunTarget::Unfollowed(Unfollowed::NotAFile(file.clone())))
    }
}

/// The import `stmt` makes of `name`, when it is a plain absolute import that a module can
/// repeat (not of `__future__`, whose imports are compiler directives).
pub(crate) fn plain_import(stmt: &Stmt, name: &str) -> Option<RunImport> {
    match stmt {
        Stmt::Import(import) => import.names.iter().find_map(|alias| {
            (bound_name(alias, false) == name).then(|| RunImport::Module {
                module: alias.name.to_string(),
                alias: alias.asname.as_ref().map(ToString::to_string),
            })
        }),
        Stmt::ImportFrom(import) if import.level == 0 => {
            let module = import.module.as_ref()?.as_str();
            if module == "__future__" {
                return None;
            }
            import.names.iter().find_map(|alias| {
                (bound_name(alias, true) == name).then(|| RunImport::From {
                    module: module.to_owned(),
                    member: alias.name.to_string(),
                    alias: alias.asname.as_ref().map(ToString::to_string),
                })
            })
        }
        _ => None,
    }
}

/// What running the Python file `source` (called `file` in reports) with `%run` binds: each
/// top-level name with its last binding. Only its plain imports can travel: what it defines
/// lives in its own namespace, which no module of the package can import.
pub(crate) fn python_file_effect(source: &str, file: &str) -> RunEffect {
    let opaque = |what| {
        RunEffect::Unknown(Unfollowed::Opaque {
            file: file.to_owned(),
            what,
        })
    };
    let Ok(parsed) = ruff_python_parser::parse_module(source) else {
        return opaque(Opacity::Errors);
    };
    let index = LineIndex::from_source_text(source);
    let mut names: BTreeMap<String, RunBinding> = BTreeMap::new();
    for stmt in &parsed.syntax().body {
        // What follows a top-level `raise` or `sys.exit()` may never run.
        if stops(stmt) {
            return opaque(Opacity::Errors);
        }
        let strings = strings::find(stmt);
        if strings.binds_dynamically || !strings.executed.is_empty() {
            return opaque(Opacity::DynamicBindings);
        }
        for binding in scope::module_bindings(stmt) {
            if binding.kind == BindingKind::StarImport {
                return opaque(Opacity::DynamicBindings);
            }
            let value = match plain_import(stmt, &binding.name) {
                Some(import) => RunBinding::Import(import),
                None => RunBinding::Variable {
                    file: file.to_owned(),
                    place: RunPlace::Line(index.line_index(stmt.start()).get()),
                },
            };
            names.insert(binding.name, value);
        }
    }
    RunEffect::Binds(names.into_iter().collect())
}

/// Whether a top-level statement of a Python file ends it: `raise`, or a call of `exit`,
/// `quit`, `sys.exit` or `os._exit`.
fn stops(stmt: &Stmt) -> bool {
    use ruff_python_ast::Expr;
    match stmt {
        Stmt::Raise(_) => true,
        Stmt::Expr(expr) => match &*expr.value {
            Expr::Call(call) => {
                let path = scope::dotted_path(&call.func, |name| name.as_str());
                matches!(
                    path.as_deref(),
                    Some(["exit" | "quit"] | ["sys", "exit"] | ["os", "_exit"])
                )
            }
            _ => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::python::parse::parse_cell;

    fn target(source: &str) -> Option<RunTarget> {
        let parsed = parse_cell(source);
        run_target(&parsed.syntax().body[0])
    }

    #[test]
    fn reads_the_file_a_run_line_runs() {
        assert_eq!(
            target("%run AdventUtils.ipynb"),
            Some(RunTarget::File("AdventUtils.ipynb".to_owned()))
        );
        assert_eq!(
            target("%run 'my helpers.py' 3 4"),
            Some(RunTarget::File("my helpers.py".to_owned()))
        );
        assert_eq!(
            target("%run -i h.ipynb"),
            Some(RunTarget::File("h.ipynb".to_owned()))
        );
        assert_eq!(
            target("%run -i helpers.py"),
            Some(RunTarget::Unfollowed(Unfollowed::Options("-i".to_owned())))
        );
        assert_eq!(
            target("%run $path"),
            Some(RunTarget::Unfollowed(Unfollowed::VariablePath))
        );
        assert_eq!(
            target("%run -m pkg.tool"),
            Some(RunTarget::Unfollowed(Unfollowed::Options("-m".to_owned())))
        );
        assert_eq!(
            target("%run tool"),
            Some(RunTarget::Unfollowed(Unfollowed::NotAFile(
                "tool".to_owned()
            )))
        );
        assert_eq!(target("%runx a.py"), None);
        assert_eq!(
            target("%run"),
            Some(RunTarget::Unfollowed(Unfollowed::NotAFile(String::new())))
        );
        assert_eq!(target("%time x = 1"), None);
        assert_eq!(target("x = 1"), None);
    }

    #[test]
    fn a_python_file_binds_its_imports_and_variables() {
        let source = "import numpy as np\nfrom os import path as p\nfrom __future__ import annotations\n\ndef f():\n    pass\nX = 1\nimport os.path\n";
        let RunEffect::Binds(names) = python_file_effect(source, "h.py") else {
            panic!("expected names");
        };
        let get = |name: &str| {
            names
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, b)| b.clone())
        };
        assert_eq!(
            get("np"),
            Some(RunBinding::Import(RunImport::Module {
                module: "numpy".into(),
                alias: Some("np".into())
            }))
        );
        assert_eq!(
            get("p").map(|b| match b {
                RunBinding::Import(import) => import.key(),
                _ => String::new(),
            }),
            Some("from os import path".to_owned())
        );
        assert_eq!(
            get("os").map(|b| match b {
                RunBinding::Import(import) => import.key(),
                _ => String::new(),
            }),
            Some("import os".to_owned())
        );
        assert_eq!(
            get("f"),
            Some(RunBinding::Variable {
                file: "h.py".into(),
                place: RunPlace::Line(5)
            })
        );
        assert!(matches!(
            get("annotations"),
            Some(RunBinding::Variable { .. })
        ));
        assert!(matches!(
            python_file_effect("from x import *\n", "h.py"),
            RunEffect::Unknown(Unfollowed::Opaque {
                what: Opacity::DynamicBindings,
                ..
            })
        ));
        assert!(matches!(
            python_file_effect("exec(code)\n", "h.py"),
            RunEffect::Unknown(Unfollowed::Opaque {
                what: Opacity::DynamicBindings,
                ..
            })
        ));
        assert!(matches!(
            python_file_effect("import sys\nsys.exit(0)\nX = 1\n", "h.py"),
            RunEffect::Unknown(Unfollowed::Opaque {
                what: Opacity::Errors,
                ..
            })
        ));
        assert!(matches!(
            python_file_effect("def (:\n", "h.py"),
            RunEffect::Unknown(Unfollowed::Opaque {
                what: Opacity::Errors,
                ..
            })
        ));
    }
}
