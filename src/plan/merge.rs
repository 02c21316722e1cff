//! The module of a notebook extracted before: the module as it is, with the statements this
//! run updates replaced in place, new code added at the end, and new imports among its
//! imports. Everything else in it (a person's edits and additions) stays byte for byte.

use std::collections::BTreeMap;

use ruff_python_ast::Stmt;

use crate::decide::Merge;
use crate::emit::{self, Import};
use crate::ownership::{ExistingModule, ModuleRecord, Record, fingerprint};
use crate::python::imports::members;
use crate::python::parse::parse_cell;
use crate::python::scope::module_bindings;

/// One statement the run writes to the module: the names it binds, and its text.
pub(super) struct Written {
    /// The names it binds (the first is its key in the manifest).
    pub(super) names: Vec<String>,
    /// Its text, with the comments above it.
    pub(super) text: String,
    /// The id of the cell it comes from.
    pub(super) cell: Option<String>,
}

/// The merged module's text.
pub(super) fn merged_text(
    existing: &ExistingModule,
    imports: &[Import],
    written: &[Written],
    merges: &BTreeMap<String, Merge>,
    package: &str,
) -> String {
    let mut edits: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    let mut appended: Vec<&str> = Vec::new();
    for item in written {
        let Some(first) = item.names.first() else {
            continue;
        };
        match (existing.binding(first), merges.get(first)) {
            (Some(_), Some(Merge::Same)) => {}
            (Some(theirs), _) => {
                let block = &existing.text[theirs.block.clone()];
                let mut text = item.text.trim_end().to_owned();
                text.push_str(&block[block.trim_end().len()..]);
                edits.push((theirs.block.clone(), text));
            }
            (None, _) => appended.push(item.text.trim_end()),
        }
    }
    let new_imports: Vec<Import> = imports
        .iter()
        .filter(|import| {
            bound_names(import)
                .iter()
                .any(|name| existing.binding(name).is_none())
        })
        .cloned()
        .collect();
    if !new_imports.is_empty() {
        match &existing.plain_imports {
            Some(range) => {
                let mut all = parse_imports(&existing.text[range.clone()]);
                all.extend(new_imports);
                edits.push((range.clone(), emit::import_lines(&all, package)));
            }
            None => {
                let at = existing.imports_end;
                let lines = emit::import_lines(&new_imports, package);
                let separator = if existing.text[..at].trim().is_empty() {
                    ""
                } else {
                    "\n\n"
                };
                edits.push((at..at, format!("{separator}{lines}")));
            }
        }
    }
    let mut text = emit::replace_ranges(&existing.text, edits);
    if !appended.is_empty() {
        text.truncate(text.trim_end().len());
        for item in appended {
            if !text.is_empty() {
                text.push_str("\n\n\n");
            }
            text.push_str(item);
        }
        text.push('\n');
    }
    text
}

/// The manifest's record of the module as written: each statement written by this run, and
/// the earlier record of each other statement the manifest listed.
pub(super) fn record(
    notebook: String,
    text: &str,
    written: &[Written],
    before: Option<&ModuleRecord>,
) -> ModuleRecord {
    let mut record = ModuleRecord {
        notebook,
        definitions: BTreeMap::new(),
    };
    let Some(module) = ExistingModule::read(text, None) else {
        return record;
    };
    let by_name: BTreeMap<&String, &Written> = written
        .iter()
        .filter_map(|item| Some((item.names.first()?, item)))
        .collect();
    for stmt in &module.statements {
        let Some(first) = stmt.names.first() else {
            continue;
        };
        if let Some(item) = by_name.get(first) {
            record.definitions.insert(
                first.clone(),
                Record {
                    cell: item.cell.clone(),
                    fingerprint: fingerprint(module.text_of(stmt)),
                },
            );
        } else if let Some(earlier) = before.and_then(|before| before.definitions.get(first)) {
            record.definitions.insert(first.clone(), earlier.clone());
        }
    }
    record
}

/// The names a statement binds at module level, from its text.
pub(super) fn names_bound(text: &str) -> Vec<String> {
    let parsed = parse_cell(text);
    parsed
        .syntax()
        .body
        .iter()
        .flat_map(module_bindings)
        .map(|binding| binding.name)
        .collect()
}

/// The names an import binds.
fn bound_names(import: &Import) -> Vec<String> {
    match import {
        Import::Module { module, alias } => vec![
            alias
                .clone()
                .unwrap_or_else(|| module.split('.').next().unwrap_or_default().to_owned()),
        ],
        Import::From { names, .. } => names
            .iter()
            .map(|(name, alias)| alias.clone().unwrap_or_else(|| name.clone()))
            .collect(),
        Import::Block(text) => names_bound(text),
        Import::Guarded(inner) => bound_names(inner),
    }
}

/// Plain `import` and `from` statements as [`Import`]s, to be written again with others.
fn parse_imports(text: &str) -> Vec<Import> {
    let parsed = parse_cell(text);
    let mut imports = Vec::new();
    for stmt in &parsed.syntax().body {
        match stmt {
            Stmt::Import(import) => {
                for alias in &import.names {
                    imports.push(Import::Module {
                        module: alias.name.to_string(),
                        alias: alias.asname.as_ref().map(ToString::to_string),
                    });
                }
            }
            Stmt::ImportFrom(import) => imports.push(Import::From {
                module: format!(
                    "{}{}",
                    ".".repeat(import.level as usize),
                    import.module.as_ref().map_or("", |m| m.as_str())
                ),
                names: members(&import.names),
            }),
            _ => {}
        }
    }
    imports
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(text: &str) -> Written {
        Written {
            names: names_bound(text),
            text: text.to_owned(),
            cell: None,
        }
    }

    #[test]
    fn new_code_goes_at_the_end_and_new_imports_among_the_imports() {
        let existing = ExistingModule::read(
            "\"\"\"Code hoisted from a.ipynb by nbhoist.\"\"\"\n\nimport os\n\n\ndef f():\n    return os.sep\n\n\n# mine\ndef mine():\n    return 1\n",
            None,
        )
        .unwrap();
        let imports = vec![
            Import::Module {
                module: "os".to_owned(),
                alias: None,
            },
            Import::Module {
                module: "json".to_owned(),
                alias: None,
            },
        ];
        let items = [
            written("def f():\n    return os.sep\n"),
            written("def g():\n    return json.dumps(1)\n"),
        ];
        let merges = BTreeMap::from([("f".to_owned(), Merge::Same)]);
        let text = merged_text(&existing, &imports, &items, &merges, "pkg");
        assert_eq!(
            text,
            "\"\"\"Code hoisted from a.ipynb by nbhoist.\"\"\"\n\nimport json\nimport os\n\n\ndef f():\n    return os.sep\n\n\n# mine\ndef mine():\n    return 1\n\n\ndef g():\n    return json.dumps(1)\n"
        );
    }

    #[test]
    fn an_update_replaces_the_statement_in_place() {
        let existing = ExistingModule::read(
            "\"\"\"Doc.\"\"\"\n\n\ndef f():\n    return 1\n\n\ndef h():\n    return 3\n",
            None,
        )
        .unwrap();
        let items = [written("def f():\n    return 2\n")];
        let merges = BTreeMap::from([("f".to_owned(), Merge::Update)]);
        let text = merged_text(&existing, &[], &items, &merges, "pkg");
        assert_eq!(
            text,
            "\"\"\"Doc.\"\"\"\n\n\ndef f():\n    return 2\n\n\ndef h():\n    return 3\n"
        );
    }
}
