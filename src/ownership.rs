//! What nbhoist wrote into the package, so that a later run tells its own code from a
//! person's: the manifest (`.nbhoist.json` in the package folder) records, for each module it
//! writes, the notebook the module's code comes from and, per top-level statement it wrote,
//! the cell and a fingerprint of the text. A statement whose text no longer has its
//! fingerprint was edited by hand; one the manifest does not list was added by hand.

use std::collections::BTreeMap;
use std::ops::Range;

use ruff_python_ast::Stmt;
use ruff_text_size::Ranged;
use serde::{Deserialize, Serialize};

use crate::python::imports::is_future_annotations;
use crate::python::parse::parse_cell;
use crate::python::scope::module_bindings;
use crate::python::span::cut_range;

/// The manifest's file name, in the package folder.
pub(crate) const MANIFEST: &str = ".nbhoist.json";

/// The version of the manifest's format this nbhoist reads and writes.
const VERSION: u32 = 1;

/// Every module nbhoist wrote in a package, by its path relative to the package folder
/// (`eda/analysis.py`, with `/`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Manifest {
    version: u32,
    /// The modules, by path relative to the package folder.
    pub(crate) modules: BTreeMap<String, ModuleRecord>,
}

/// What nbhoist wrote in one module.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ModuleRecord {
    /// The notebook the module's code comes from, relative to the project's root, with `/`.
    pub(crate) notebook: String,
    /// Each top-level statement nbhoist wrote, by the first name it binds.
    pub(crate) definitions: BTreeMap<String, Record>,
}

/// One statement nbhoist wrote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Record {
    /// The id of the notebook cell it came from, when the notebook has cell ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) cell: Option<String>,
    /// [`fingerprint`] of the statement's text as written.
    pub(crate) fingerprint: String,
}

impl Manifest {
    /// Reads a manifest's text; `None` when it is not one (the caller says so).
    pub(crate) fn parse(text: &str) -> Result<Manifest, String> {
        let manifest: Manifest = serde_json::from_str(text).map_err(|error| error.to_string())?;
        if manifest.version != VERSION {
            return Err(format!(
                "version {} is not one this nbhoist reads ({VERSION})",
                manifest.version
            ));
        }
        Ok(manifest)
    }

    /// The manifest's text: sorted keys, one definition per line, so that a code review
    /// shows one changed definition as a one-line change.
    pub(crate) fn text(&self) -> String {
        let mut modules = Vec::new();
        for (path, module) in &self.modules {
            let definitions: Vec<String> = module
                .definitions
                .iter()
                .map(|(name, record)| format!("        {}: {}", json(name.as_str()), json(record)))
                .collect();
            let definitions = if definitions.is_empty() {
                "{}".to_owned()
            } else {
                format!("{{\n{}\n      }}", definitions.join(",\n"))
            };
            modules.push(format!(
                "    {}: {{\n      \"notebook\": {},\n      \"definitions\": {definitions}\n    }}",
                json(path.as_str()),
                json(module.notebook.as_str())
            ));
        }
        let modules = if modules.is_empty() {
            "{}".to_owned()
        } else {
            format!("{{\n{}\n  }}", modules.join(",\n"))
        };
        format!("{{\n  \"version\": {VERSION},\n  \"modules\": {modules}\n}}\n")
    }
}

/// A value as JSON on one line.
fn json<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).expect("strings and records always serialise")
}

/// A stable fingerprint of a statement's text (FNV-1a, 64 bits, in hex): the same on every
/// machine and Rust version, unlike the standard library's hasher.
pub(crate) fn fingerprint(text: &str) -> String {
    format!("{:016x}", fnv1a(text.bytes()))
}

/// FNV-1a over `bytes`, 64 bits.
pub(crate) fn fnv1a(bytes: impl IntoIterator<Item = u8>) -> u64 {
    bytes.into_iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A module as it is before a run, with what nbhoist knows of each top-level statement.
#[derive(Clone, Debug)]
pub(crate) struct ExistingModule {
    /// The module's text.
    pub(crate) text: String,
    /// Its top-level statements that bind names, in order.
    pub(crate) statements: Vec<ModuleStatement>,
    /// Where the leading imports end (after the docstring when there are none): new imports
    /// go there.
    pub(crate) imports_end: usize,
    /// The leading imports, when they are plain `import` and `from` statements with nothing
    /// but blank lines between them: such a block can be written again, sorted, with more.
    pub(crate) plain_imports: Option<Range<usize>>,
    /// What the manifest recorded of it.
    pub(crate) record: Option<ModuleRecord>,
    /// It starts with `from __future__ import annotations`: its annotations are postponed.
    pub(crate) future_annotations: bool,
}

/// One top-level statement of an existing module.
#[derive(Clone, Debug)]
pub(crate) struct ModuleStatement {
    /// The names it binds at module level.
    pub(crate) names: Vec<String>,
    /// Where it is in the module's text.
    pub(crate) range: Range<usize>,
    /// Where it is with the comments above and after it: what an update replaces.
    pub(crate) block: Range<usize>,
    /// An import statement, or a block of them.
    pub(crate) import: bool,
    /// Whether nbhoist wrote it, and nobody changed it since.
    pub(crate) owned: bool,
}

impl ExistingModule {
    /// Reads a module's text, with the manifest's record of it; `None` when it does not parse.
    pub(crate) fn read(text: &str, record: Option<&ModuleRecord>) -> Option<ExistingModule> {
        let parsed = parse_cell(text);
        if !parsed.errors().is_empty() {
            return None;
        }
        let body = &parsed.syntax().body;
        let is_import = |stmt: &Stmt| {
            matches!(stmt, Stmt::Import(_) | Stmt::ImportFrom(_))
                || crate::python::imports::is_import_block(stmt)
        };
        let docstring =
            matches!(body.first(), Some(Stmt::Expr(expr)) if expr.value.is_string_literal_expr());
        let leading = usize::from(docstring);
        let imports: Vec<&Stmt> = body[leading..]
            .iter()
            .take_while(|stmt| is_import(stmt))
            .collect();
        let imports_end = imports
            .last()
            .map(|stmt| stmt.end().to_usize())
            .or_else(|| docstring.then(|| body[0].end().to_usize()))
            .unwrap_or(0);
        let plain_imports = match (imports.first(), imports.last()) {
            (Some(first), Some(last))
                if imports
                    .iter()
                    .all(|stmt| matches!(stmt, Stmt::Import(_) | Stmt::ImportFrom(_)))
                    && only_blank_between(text, &imports) =>
            {
                Some(first.start().to_usize()..last.end().to_usize())
            }
            _ => None,
        };
        let statements = body
            .iter()
            .enumerate()
            .filter_map(|(i, stmt)| {
                let names: Vec<String> = module_bindings(stmt)
                    .into_iter()
                    .map(|binding| binding.name)
                    .collect();
                let first = names.first()?;
                let range = stmt.start().to_usize()..stmt.end().to_usize();
                let owned = record
                    .and_then(|record| record.definitions.get(first))
                    .is_some_and(|written| {
                        written.fingerprint == fingerprint(&text[range.clone()])
                    });
                Some(ModuleStatement {
                    import: is_import(stmt),
                    names,
                    block: cut_range(text, body, i),
                    range,
                    owned,
                })
            })
            .collect();
        Some(ExistingModule {
            text: text.to_owned(),
            statements,
            imports_end,
            plain_imports,
            record: record.cloned(),
            future_annotations: body.iter().any(is_future_annotations),
        })
    }

    /// The last statement that binds `name`.
    pub(crate) fn binding(&self, name: &str) -> Option<&ModuleStatement> {
        self.statements
            .iter()
            .rev()
            .find(|stmt| stmt.names.iter().any(|n| n == name))
    }

    /// What `name`, bound by the import `stmt`, stands for, as a dotted path (`numpy` for
    /// `import numpy as np`, `random.gauss` for `from random import gauss`).
    pub(crate) fn origin(&self, stmt: &ModuleStatement, name: &str) -> Option<String> {
        let parsed = parse_cell(self.text_of(stmt));
        match parsed.syntax().body.first()? {
            Stmt::Import(import) => import.names.iter().find_map(|alias| {
                let bound = alias.asname.as_ref().map_or_else(
                    || alias.name.split('.').next().unwrap_or_default(),
                    |asname| asname.as_str(),
                );
                (bound == name).then(|| match &alias.asname {
                    Some(_) => alias.name.to_string(),
                    None => bound.to_owned(),
                })
            }),
            Stmt::ImportFrom(import) if import.level == 0 => {
                let module = import.module.as_ref()?;
                import.names.iter().find_map(|alias| {
                    let bound = alias.asname.as_ref().unwrap_or(&alias.name);
                    (bound.as_str() == name).then(|| format!("{module}.{}", alias.name))
                })
            }
            _ => None,
        }
    }

    /// The text of one of its statements.
    pub(crate) fn text_of(&self, stmt: &ModuleStatement) -> &str {
        &self.text[stmt.range.clone()]
    }

    /// The statements other than `except` that mention `name` as a whole word: code that
    /// would see a new version of it.
    pub(crate) fn users_of<'m>(
        &'m self,
        name: &'m str,
        except: &'m [String],
    ) -> impl Iterator<Item = &'m ModuleStatement> + 'm {
        self.statements.iter().filter(move |stmt| {
            !stmt.import
                && !stmt.names.iter().any(|n| except.contains(n))
                && crate::decide::has_word(self.text_of(stmt), name)
        })
    }
}

/// Whether only whitespace separates consecutive statements: no comment a rewrite would lose.
fn only_blank_between(text: &str, stmts: &[&Stmt]) -> bool {
    stmts.windows(2).all(|pair| {
        text[pair[0].end().to_usize()..pair[1].start().to_usize()]
            .trim()
            .is_empty()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_know_whether_nbhoist_wrote_them() {
        let text = "\"\"\"Code hoisted from a.ipynb by nbhoist.\"\"\"\n\nimport os\n\n\ndef f():\n    return os.sep\n\n\ndef g():\n    return 2\n";
        let mut record = ModuleRecord::default();
        record.definitions.insert(
            "f".to_owned(),
            Record {
                cell: None,
                fingerprint: fingerprint("def f():\n    return os.sep"),
            },
        );
        record.definitions.insert(
            "g".to_owned(),
            Record {
                cell: None,
                fingerprint: fingerprint("def g():\n    return 1"),
            },
        );
        let module = ExistingModule::read(text, Some(&record)).unwrap();
        let owned: Vec<(&str, bool)> = module
            .statements
            .iter()
            .map(|stmt| (stmt.names[0].as_str(), stmt.owned))
            .collect();
        assert_eq!(owned, [("os", false), ("f", true), ("g", false)]);
        assert_eq!(&text[module.imports_end..][..3], "\n\n\n");
        assert!(module.plain_imports.is_some());
        assert_eq!(module.users_of("os", &["os".to_owned()]).count(), 1);
    }

    #[test]
    fn the_manifest_round_trips_and_refuses_other_versions() {
        let mut manifest = Manifest::default();
        manifest.modules.insert(
            "a.py".to_owned(),
            ModuleRecord {
                notebook: "a.ipynb".to_owned(),
                definitions: BTreeMap::new(),
            },
        );
        let text = manifest.text();
        assert_eq!(Manifest::parse(&text).unwrap().modules, manifest.modules);
        assert!(Manifest::parse(&text.replace("\"version\": 1", "\"version\": 9")).is_err());
        assert!(Manifest::parse("{\"version\": 1, \"modules\": {}, \"x\": 1}").is_err());
    }
}
