//! `scan --duplicates`: the top-level functions and classes copied from notebook to notebook.
//!
//! Exact copies have the same name and the same code on the syntax tree (comments, whitespace
//! and positions do not count); near-copies have the same name and other code. The pass keeps,
//! per definition, only what it compares and shows ([`Sample`]), never whole notebooks, so
//! that a large batch still streams.

use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash as _, Hasher as _};
use std::path::{Path, PathBuf};

use ruff_python_ast::comparable::{ComparableExpr, ComparableStmt};
use ruff_text_size::Ranged as _;
use serde::Serialize;

use crate::analysis::{Analysis, DefinitionKind, SiteKind, constant_value, statement};
use crate::decide::{Decisions, Needs, Verdict};
use crate::notebook::Notebook;
use crate::position::CellNumber;
use crate::scan::VerdictName;

/// One top-level definition, as the duplicates pass needs it.
#[derive(Clone, Debug)]
pub(crate) struct Sample {
    /// The name it binds.
    pub(crate) name: String,
    /// Function or class.
    pub(crate) kind: DefinitionKind,
    /// A hash of its syntax tree: equal for the same code however it is laid out or commented.
    pub(crate) code: u64,
    /// Its source text, for the diffs between near-copies.
    pub(crate) text: String,
    /// The notebook, as reports show it.
    pub(crate) notebook: PathBuf,
    /// Its cell.
    pub(crate) cell: CellNumber,
    /// Its verdict in its notebook.
    pub(crate) verdict: VerdictName,
    /// A hash of what its needs resolve to in its notebook (the imports' targets, the
    /// constants' values, the shared definitions' code); `None` when it stays.
    pub(crate) needs: Option<u64>,
    /// `extract` over the same notebooks, as a first run, would write it once into the
    /// package's shared module, for this notebook to import (see [`crate::shared`]).
    pub(crate) shared: bool,
}

/// The samples of every definition of a decided notebook, in notebook order.
pub(crate) fn samples(
    path: &Path,
    notebook: &Notebook,
    analysis: &Analysis,
    decisions: &Decisions,
) -> Vec<Sample> {
    analysis
        .definitions
        .iter()
        .zip(&decisions.verdicts)
        .map(|(definition, verdict)| {
            let stmt = definition.statement(&analysis.cells);
            let text = &analysis.cells[definition.at.code_cell].text(notebook)[stmt.range()];
            let (verdict, needs) = match verdict {
                Verdict::Move(needs) => (VerdictName::Move, Some(needs_hash(analysis, needs))),
                Verdict::Stay(_) => (VerdictName::Stay, None),
            };
            Sample {
                name: definition.name.clone(),
                kind: definition.kind,
                code: code_hash(stmt),
                // Ended by a newline, as the diffs compare whole lines.
                text: format!("{text}\n"),
                notebook: path.to_owned(),
                cell: definition.cell.number(),
                verdict,
                needs,
                shared: false,
            }
        })
        .collect()
}

/// A hash of a statement's syntax tree: equal for the same code however it is laid out or
/// commented. With [`needs_hash`], what makes two definitions exact copies, for `scan
/// --duplicates` and for the definitions `extract` shares between notebooks alike.
pub(crate) fn code_hash(stmt: &ruff_python_ast::Stmt) -> u64 {
    hash_of(&ComparableStmt::from(stmt))
}

fn hash_of(value: &impl std::hash::Hash) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

/// What the names a definition needs resolve to in its notebook, hashed: two copies whose
/// hashes agree import the same things, read equal constants and call the same code.
pub(crate) fn needs_hash(analysis: &Analysis, needs: &Needs) -> u64 {
    let mut hasher = DefaultHasher::new();
    let names = &analysis.names;
    // A tag per kind of need, so that an import and a constant of one name differ.
    for name in &needs.imports {
        ('i', name).hash(&mut hasher);
        for site in names.sites(name) {
            if let SiteKind::Import(key) = &site.kind {
                key.hash(&mut hasher);
            }
        }
    }
    for name in &needs.constants {
        ('c', name).hash(&mut hasher);
        for site in names.sites(name) {
            if let Some(value) = constant_value(statement(&analysis.cells, site.at)) {
                ComparableExpr::from(value).hash(&mut hasher);
            }
        }
    }
    for name in &needs.definitions {
        ('d', name).hash(&mut hasher);
        for site in names.sites(name) {
            if site.kind == SiteKind::Definition {
                ComparableStmt::from(statement(&analysis.cells, site.at)).hash(&mut hasher);
            }
        }
    }
    for name in &needs.ipython {
        ('p', name).hash(&mut hasher);
    }
    for (name, at) in &needs.star {
        ('s', name).hash(&mut hasher);
        ComparableStmt::from(statement(&analysis.cells, *at)).hash(&mut hasher);
    }
    hasher.finish()
}

/// The copies and near-copies among a run's definitions.
#[derive(Debug, Default, Serialize)]
pub(crate) struct Duplicates {
    /// Definitions with the same code in two or more notebooks, by name.
    pub(crate) exact: Vec<ExactGroup>,
    /// Names defined with different code in different notebooks, by name.
    pub(crate) near: Vec<NearGroup>,
}

/// The copies of one definition.
#[derive(Debug, Serialize)]
pub(crate) struct ExactGroup {
    /// The name they bind.
    pub(crate) name: String,
    /// Function or class.
    pub(crate) kind: DefinitionKind,
    /// Every copy, in notebook path order: the first is the one to keep.
    pub(crate) copies: Vec<ExactCopy>,
    /// Every copy can move and what each needs resolves to the same things as the kept
    /// copy's: one module could serve them all.
    pub(crate) shareable: bool,
}

/// Where a copy or a variant is.
#[derive(Debug, Serialize)]
pub(crate) struct Place {
    /// The notebook.
    pub(crate) notebook: String,
    /// Its cell.
    pub(crate) cell: CellNumber,
    /// Its verdict in its notebook.
    pub(crate) verdict: VerdictName,
}

/// One copy of a group of exact copies.
#[derive(Debug, Serialize)]
pub(crate) struct ExactCopy {
    /// Where it is.
    #[serde(flatten)]
    pub(crate) place: Place,
    /// Whether what it needs resolves to the same things as the kept copy's needs; `None`
    /// when it or the kept copy stays.
    pub(crate) same_needs: Option<bool>,
    /// `extract` over the same notebooks, as a first run, would write it once into the
    /// package's shared module and the notebook would import it from there.
    pub(crate) shared: bool,
}

/// The different versions of one name across notebooks.
#[derive(Debug, Serialize)]
pub(crate) struct NearGroup {
    /// The name they bind.
    pub(crate) name: String,
    /// Every version, the most common first.
    pub(crate) variants: Vec<Variant>,
}

/// One version of a name.
#[derive(Debug, Serialize)]
pub(crate) struct Variant {
    /// Function or class.
    pub(crate) kind: DefinitionKind,
    /// Where it is, in notebook path order.
    pub(crate) copies: Vec<Place>,
    /// The unified diff from the most common version's first copy to this version's first
    /// copy; `None` for the most common version itself.
    pub(crate) diff: Option<String>,
}

/// Groups the samples of a run into copies and near-copies. The result does not depend on
/// the order of `samples`.
pub(crate) fn find(mut samples: Vec<Sample>) -> Duplicates {
    samples.sort_by(|a, b| (&a.notebook, a.cell, &a.name).cmp(&(&b.notebook, b.cell, &b.name)));
    // Name, then code: the versions of each name, each with its copies in path order.
    let mut by_name: BTreeMap<&str, Vec<Vec<&Sample>>> = BTreeMap::new();
    for sample in &samples {
        let versions = by_name.entry(&sample.name).or_default();
        match versions.iter_mut().find(|v| v[0].code == sample.code) {
            Some(version) => version.push(sample),
            None => versions.push(vec![sample]),
        }
    }
    let mut duplicates = Duplicates::default();
    for (name, mut versions) in by_name {
        for copies in &versions {
            if notebooks(copies) >= 2 {
                duplicates.exact.push(exact_group(name, copies));
            }
        }
        let all: Vec<&Sample> = versions.iter().flatten().copied().collect();
        if versions.len() >= 2 && notebooks(&all) >= 2 {
            // The most common version in notebooks, then in copies; a tie goes to the version
            // seen first in path order, as versions are in that order already.
            versions.sort_by_key(|v| std::cmp::Reverse((notebooks(v), v.len())));
            duplicates.near.push(near_group(name, &versions));
        }
    }
    duplicates
}

/// How many notebooks `copies` (in path order) come from.
fn notebooks(copies: &[&Sample]) -> usize {
    1 + copies
        .windows(2)
        .filter(|pair| pair[0].notebook != pair[1].notebook)
        .count()
}

fn place(sample: &Sample) -> Place {
    Place {
        notebook: sample.notebook.display().to_string(),
        cell: sample.cell,
        verdict: sample.verdict,
    }
}

fn exact_group(name: &str, copies: &[&Sample]) -> ExactGroup {
    let kept = copies[0];
    let same_needs = |copy: &Sample| Some(kept.needs? == copy.needs?);
    ExactGroup {
        name: name.to_owned(),
        kind: kept.kind,
        copies: copies
            .iter()
            .map(|c| ExactCopy {
                place: place(c),
                same_needs: same_needs(c),
                shared: c.shared,
            })
            .collect(),
        shareable: copies.iter().all(|c| same_needs(c) == Some(true)),
    }
}

fn near_group(name: &str, versions: &[Vec<&Sample>]) -> NearGroup {
    let common = versions[0][0];
    let label = |sample: &Sample| format!("{} (cell {})", sample.notebook.display(), sample.cell);
    NearGroup {
        name: name.to_owned(),
        variants: versions
            .iter()
            .enumerate()
            .map(|(i, copies)| Variant {
                kind: copies[0].kind,
                copies: copies.iter().map(|c| place(c)).collect(),
                diff: (i > 0).then(|| {
                    crate::diff::unified(
                        &label(common),
                        &label(copies[0]),
                        &common.text,
                        &copies[0].text,
                        true,
                    )
                }),
            })
            .collect(),
    }
}

impl Duplicates {
    /// How many copies the exact-copy groups hold in all.
    pub(crate) fn copies(&self) -> usize {
        self.exact.iter().map(|group| group.copies.len()).sum()
    }

    /// How many groups `extract` would share, and how many copies of them.
    pub(crate) fn shared(&self) -> (usize, usize) {
        let copies: Vec<usize> = self
            .exact
            .iter()
            .map(|group| group.copies.iter().filter(|copy| copy.shared).count())
            .filter(|&shared| shared > 0)
            .collect();
        (copies.len(), copies.iter().sum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A definition of `notebook`'s cell 1 from its code, which moves with needs `needs`.
    fn sample(notebook: &str, code: &str, needs: u64) -> Sample {
        let parsed = ruff_python_parser::parse_module(code).unwrap();
        let stmt = &parsed.syntax().body[0];
        let name = match stmt {
            ruff_python_ast::Stmt::FunctionDef(def) => def.name.to_string(),
            _ => unreachable!("the tests define functions"),
        };
        Sample {
            name,
            kind: DefinitionKind::Function,
            code: code_hash(stmt),
            text: code.to_owned(),
            notebook: PathBuf::from(notebook),
            cell: CellNumber(1),
            verdict: VerdictName::Move,
            needs: Some(needs),
            shared: false,
        }
    }

    fn notebooks_of<'a>(places: impl IntoIterator<Item = &'a Place>) -> Vec<&'a str> {
        places.into_iter().map(|p| p.notebook.as_str()).collect()
    }

    #[test]
    fn copies_are_the_same_code_whatever_the_comments_and_layout() {
        let found = find(vec![
            sample("c.ipynb", "def f(x):\n    return x + 1\n", 0),
            sample("a.ipynb", "def f(x):  # adds one\n\n    return (x+1)\n", 0),
            sample("b.ipynb", "def f(x):\n    return x + 2\n", 0),
        ]);
        assert_eq!(found.exact.len(), 1);
        assert_eq!(
            notebooks_of(found.exact[0].copies.iter().map(|c| &c.place)),
            ["a.ipynb", "c.ipynb"]
        );
        assert!(found.exact[0].shareable);
        assert_eq!(found.copies(), 2);
    }

    #[test]
    fn near_copies_diff_from_the_most_common_version() {
        let found = find(vec![
            sample("a.ipynb", "def f(x):\n    return x + 2\n", 0),
            sample("b.ipynb", "def f(x):\n    return x + 1\n", 0),
            sample("c.ipynb", "def f(x):\n    return x + 1\n", 0),
        ]);
        let [group] = found.near.as_slice() else {
            panic!("one near-copy group: {found:?}");
        };
        let [common, other] = group.variants.as_slice() else {
            panic!("two versions: {group:?}");
        };
        assert_eq!(notebooks_of(&common.copies), ["b.ipynb", "c.ipynb"]);
        assert_eq!(common.diff, None);
        assert_eq!(
            other.diff.as_deref(),
            Some(
                "--- b.ipynb (cell 1)\n+++ a.ipynb (cell 1)\n@@ -1,2 +1,2 @@\n def f(x):\n\
                 -    return x + 1\n+    return x + 2\n"
            )
        );
    }

    #[test]
    fn versions_in_one_notebook_only_are_neither_copies_nor_near_copies() {
        let found = find(vec![
            sample("a.ipynb", "def f(x):\n    return x\n", 0),
            sample("a.ipynb", "def f(x):\n    return x\n", 0),
            sample("a.ipynb", "def f(x):\n    return -x\n", 0),
        ]);
        assert!(found.exact.is_empty() && found.near.is_empty(), "{found:?}");
    }

    #[test]
    fn copies_whose_needs_resolve_differently_are_not_shareable() {
        let found = find(vec![
            sample("a.ipynb", "def f():\n    return SCALE\n", 1),
            sample("b.ipynb", "def f():\n    return SCALE\n", 2),
        ]);
        let group = &found.exact[0];
        assert!(!group.shareable);
        let same: Vec<Option<bool>> = group.copies.iter().map(|c| c.same_needs).collect();
        assert_eq!(same, [Some(true), Some(false)]);
    }

    #[test]
    fn the_result_does_not_depend_on_the_order_of_the_samples() {
        let mut samples = vec![
            sample("b.ipynb", "def f(x):\n    return 1\n", 0),
            sample("a.ipynb", "def f(x):\n    return 2\n", 0),
            sample("c.ipynb", "def g():\n    pass\n", 0),
            sample("d.ipynb", "def g():\n    pass\n", 0),
            sample("d.ipynb", "def f(x):\n    return 3\n", 0),
        ];
        let first = format!("{:?}", find(samples.clone()));
        // The tie between the three versions of `f` goes to `a.ipynb`'s, the first by path.
        assert!(
            first.contains("diff: Some(\"--- a.ipynb (cell 1)"),
            "{first}"
        );
        for _ in 0..samples.len() {
            samples.rotate_left(1);
            assert_eq!(format!("{:?}", find(samples.clone())), first);
        }
        samples.reverse();
        assert_eq!(format!("{:?}", find(samples)), first);
    }
}
