//! Definitions copied from notebook to notebook, written once into the package's shared
//! module, `PACKAGE/_shared.py`, which every notebook with a copy imports them from.
//!
//! Two definitions of a batch are copies when [`crate::duplicates`] says they are exact
//! copies: the same code on the syntax tree, and needs that resolve to the same things. The
//! shared module is one module that several notebooks import, so what importing it runs must
//! be what each of them would have run by importing its own module:
//!
//! - a copy is shared only when it moves in its own notebook, is that notebook's only
//!   definition of its name, and has no decorator, base class or class keyword, and calls
//!   nothing while it is defined (code that would run while it is defined, in every notebook
//!   importing the module, including those that never ran it);
//! - the constants it needs are immutable literals, and it needs no IPython name, star import,
//!   guarded import or `from __future__ import annotations`;
//! - every import the shared module makes is one that each notebook importing it moves into
//!   its own module anyway: importing the shared module imports nothing a notebook would not
//!   have imported at the same point;
//! - each name of the shared module has one code: a group whose definitions or constants
//!   clash with those of a group taken before it is not shared.
//!
//! Groups are taken in the order of their first notebook's path, then of their names, and the
//! text written is the first notebook's: the result does not depend on thread timing.
//!
//! A later run never changes the shared module. A notebook found with a copy of what it holds
//! imports it from there ([`find_later`]), when the whole module is as nbhoist wrote it and
//! its imports are all ones the notebook moves itself; a copy of a definition a person changed
//! there goes to the notebook's own module.

use std::collections::{BTreeMap, BTreeSet};

use ruff_python_ast::Stmt;

use crate::analysis::{Analysis, SiteKind, constant_value, import_key, statement};
use crate::decide::{Decisions, Needs, Verdict, is_immutable_literal};
use crate::duplicates::{code_hash, needs_hash};
use crate::ownership::ExistingModule;
use crate::python::parse::parse_cell;

/// The shared module's name in the package.
pub(crate) const SHARED_MODULE: &str = "_shared";

/// A name bound by an import, and what it imports.
type ImportKey = (String, String);

/// A moved definition of a notebook that the shared module could hold.
#[derive(Clone, Debug)]
pub(crate) struct Candidate {
    name: String,
    /// Its code and what its needs resolve to: equal for exact copies.
    key: (u64, u64),
    /// The names the shared module binds for it (itself, and the definitions and constants it
    /// needs), each with its statement's code.
    closure: BTreeMap<String, u64>,
    /// The imports it needs.
    imports: BTreeSet<ImportKey>,
}

/// What the sharing pass needs of one notebook.
#[derive(Clone, Debug, Default)]
pub(crate) struct Offer {
    /// Its definitions that could be shared.
    candidates: Vec<Candidate>,
    /// The imports of everything that moves from it: all that importing the shared module
    /// may import in it.
    moved_imports: BTreeSet<ImportKey>,
}

/// Whether notebook `i` of a batch whose first `given` notebooks a path named may share:
/// one that runs others with `%run`, or that others run, shares its namespace with them, so
/// its code is theirs; so is the code of a notebook no path named.
pub(crate) fn may_share(i: usize, given: usize, imports_from: &[Vec<usize>]) -> bool {
    i < given && imports_from[i].is_empty() && !imports_from.iter().any(|from| from.contains(&i))
}

/// The definitions of a decided notebook that could be shared, and what it imports.
pub(crate) fn offer(analysis: &Analysis, decisions: &Decisions) -> Offer {
    let moving = &decisions.moving;
    // `%%writefile` modules rewrite imports inside moved code: such code is the notebook's own.
    if !decisions.writefiles.modules.is_empty() {
        return Offer::default();
    }
    let moved_imports = moving
        .imports
        .iter()
        .flat_map(|name| import_keys(analysis, name))
        .collect();
    let candidates = analysis
        .definitions
        .iter()
        .zip(&decisions.verdicts)
        .filter_map(|(definition, verdict)| {
            let Verdict::Move(needs) = verdict else {
                return None;
            };
            let stmt = definition.statement(&analysis.cells);
            if !only_binding(analysis, &definition.name, SiteKind::Definition)
                || !plain(stmt)
                || moving
                    .in_place
                    .iter()
                    .any(|(_, name)| *name == definition.name)
            {
                return None;
            }
            candidate(analysis, decisions, &definition.name, stmt, needs)
        })
        .collect();
    Offer {
        candidates,
        moved_imports,
    }
}

fn candidate(
    analysis: &Analysis,
    decisions: &Decisions,
    name: &str,
    stmt: &Stmt,
    needs: &Needs,
) -> Option<Candidate> {
    if !needs.ipython.is_empty()
        || !needs.star.is_empty()
        || needs.future_annotations
        || !needs.undefined_in_annotations.is_empty()
    {
        return None;
    }
    let mut imports = BTreeSet::new();
    for import in &needs.imports {
        let keys = import_keys(analysis, import);
        if decisions.moving.unverified.contains(import) || keys.len() != 1 {
            return None;
        }
        if analysis.names.sites(import).len() != 1 {
            return None;
        }
        imports.extend(keys);
    }
    let mut closure = BTreeMap::from([(name.to_owned(), code_hash(stmt))]);
    for needed in &needs.definitions {
        if !only_binding(analysis, needed, SiteKind::Definition) {
            return None;
        }
        let stmt = statement(&analysis.cells, analysis.names.sites(needed)[0].at);
        if !plain(stmt) {
            return None;
        }
        closure.insert(needed.clone(), code_hash(stmt));
    }
    for constant in &needs.constants {
        let sites = analysis.names.sites(constant);
        let [site] = sites else {
            return None;
        };
        let stmt = statement(&analysis.cells, site.at);
        if !constant_value(stmt).is_some_and(is_immutable_literal) {
            return None;
        }
        closure.insert(constant.clone(), code_hash(stmt));
    }
    Some(Candidate {
        name: name.to_owned(),
        key: (code_hash(stmt), needs_hash(analysis, needs)),
        closure,
        imports,
    })
}

/// What the imports binding `name` import, with the name.
fn import_keys(analysis: &Analysis, name: &str) -> Vec<ImportKey> {
    analysis
        .names
        .sites(name)
        .iter()
        .filter_map(|site| match &site.kind {
            SiteKind::Import(key) => Some((name.to_owned(), key.clone())),
            _ => None,
        })
        .collect()
}

/// True when the notebook binds `name` once, with a statement of this kind.
fn only_binding(analysis: &Analysis, name: &str, kind: SiteKind) -> bool {
    matches!(analysis.names.sites(name), [site] if site.kind == kind)
}

/// A function or class whose definition runs no code of anyone else's: no decorator, no base
/// class (whose `__init_subclass__` or metaclass could register it), no class keyword, and no
/// call while it is defined (in a default, an annotation, a class body), since a notebook
/// that imports the shared module for another name runs it too, where it never ran before.
fn plain(stmt: &Stmt) -> bool {
    let bare = match stmt {
        Stmt::FunctionDef(def) => def.decorator_list.is_empty(),
        Stmt::ClassDef(class) => {
            class.decorator_list.is_empty()
                && class
                    .arguments
                    .as_ref()
                    .is_none_or(|arguments| arguments.is_empty())
        }
        _ => false,
    };
    bare && !calls_when_defined(stmt)
}

/// Whether defining `stmt` may call something: a call anywhere but in a function's body (or
/// a lambda's), or a decorator or base class of something nested in a class body.
fn calls_when_defined(stmt: &Stmt) -> bool {
    use ruff_python_ast::Expr;
    use ruff_python_ast::visitor::{self, Visitor};

    #[derive(Default)]
    struct Calls {
        found: bool,
    }
    impl Visitor<'_> for Calls {
        fn visit_stmt(&mut self, stmt: &Stmt) {
            match stmt {
                Stmt::FunctionDef(def) => {
                    self.found |= !def.decorator_list.is_empty();
                    self.visit_parameters(&def.parameters);
                    if let Some(returns) = &def.returns {
                        self.visit_expr(returns);
                    }
                }
                Stmt::ClassDef(class) => {
                    self.found |= !class.decorator_list.is_empty()
                        || class.arguments.as_ref().is_some_and(|a| !a.is_empty());
                    visitor::walk_body(self, &class.body);
                }
                _ => visitor::walk_stmt(self, stmt),
            }
        }
        fn visit_expr(&mut self, expr: &Expr) {
            match expr {
                Expr::Call(_) => self.found = true,
                Expr::Lambda(lambda) => {
                    if let Some(parameters) = &lambda.parameters {
                        self.visit_parameters(parameters);
                    }
                }
                _ => visitor::walk_expr(self, expr),
            }
        }
    }
    let mut calls = Calls::default();
    calls.visit_stmt(stmt);
    calls.found
}

/// One definition written once for several notebooks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Group {
    /// Its name.
    pub(crate) name: String,
    /// The notebooks whose copies it replaces, by their index in the batch, in path order:
    /// the first one's text is written.
    pub(crate) notebooks: Vec<usize>,
}

/// What the batch shares.
#[derive(Clone, Debug, Default)]
pub(crate) struct Sharing {
    /// Per notebook, by its index in the batch, the names it imports from the shared module.
    pub(crate) names: Vec<BTreeSet<String>>,
    /// The definitions shared, in the order taken.
    pub(crate) groups: Vec<Group>,
}

impl Sharing {
    /// The names whose text comes from notebook `i`: those no notebook before it shares.
    pub(crate) fn written_by(&self, i: usize) -> BTreeSet<String> {
        self.names[i]
            .iter()
            .filter(|name| !self.names[..i].iter().any(|names| names.contains(*name)))
            .cloned()
            .collect()
    }

    /// Nothing shared yet, for a batch of `notebooks`.
    fn new(notebooks: usize) -> Sharing {
        Sharing {
            names: vec![BTreeSet::new(); notebooks],
            groups: Vec::new(),
        }
    }

    /// True when nothing is shared.
    pub(crate) fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }
}

/// The groups of copies the batch shares, from each notebook's offer (`None` for a notebook
/// that takes no part), indexed in path order.
pub(crate) fn find(offers: &[Option<Offer>]) -> Sharing {
    let mut copies: BTreeMap<(&str, (u64, u64)), Vec<usize>> = BTreeMap::new();
    for (i, offer) in offers.iter().enumerate() {
        for candidate in offer.iter().flat_map(|offer| &offer.candidates) {
            copies
                .entry((&candidate.name, candidate.key))
                .or_default()
                .push(i);
        }
    }
    let mut groups: Vec<(&str, (u64, u64), Vec<usize>)> = copies
        .into_iter()
        .filter(|(_, notebooks)| notebooks.len() >= 2)
        .map(|((name, key), notebooks)| (name, key, notebooks))
        .collect();
    groups.sort_by(|a, b| (a.2[0], a.0).cmp(&(b.2[0], b.0)));
    let candidate = |i: usize, name: &str, key: (u64, u64)| {
        offers[i]
            .as_ref()
            .and_then(|offer| {
                offer
                    .candidates
                    .iter()
                    .find(|c| c.name == name && c.key == key)
            })
            .expect("each notebook of a group offers its copy")
    };
    let moved_imports = |i: usize| &offers[i].as_ref().expect("an offer").moved_imports;
    let mut sharing = Sharing::new(offers.len());
    let mut taken: BTreeMap<String, u64> = BTreeMap::new();
    let mut imports: BTreeSet<ImportKey> = BTreeSet::new();
    let mut importers: BTreeSet<usize> = BTreeSet::new();
    for (name, key, notebooks) in groups {
        let first = candidate(notebooks[0], name, key);
        let clashes = first
            .closure
            .iter()
            .any(|(name, code)| taken.get(name).is_some_and(|taken| taken != code));
        let mut all_imports = imports.clone();
        all_imports.extend(first.imports.iter().cloned());
        let covered = |i: &usize| all_imports.is_subset(moved_imports(*i));
        if clashes || !importers.iter().all(covered) {
            continue;
        }
        let members: Vec<usize> = notebooks.into_iter().filter(covered).collect();
        if members.len() < 2 {
            continue;
        }
        taken.extend(first.closure.iter().map(|(n, c)| (n.clone(), *c)));
        for &i in &members {
            sharing.names[i].extend(first.closure.keys().cloned());
        }
        importers.extend(members.iter().copied());
        imports = all_imports;
        sharing.groups.push(Group {
            name: name.to_owned(),
            notebooks: members,
        });
    }
    sharing
}

/// The shared module an earlier run wrote, as a later run sees it.
#[derive(Clone, Debug, Default)]
pub(crate) struct Existing {
    /// The code of each definition and constant it holds as nbhoist wrote it.
    codes: BTreeMap<String, u64>,
    /// The names of the definitions and constants a person changed or added.
    edited: BTreeSet<String>,
    /// Every statement but its imports is as nbhoist wrote it.
    untouched: bool,
    /// Its imports, a person's included.
    imports: BTreeSet<ImportKey>,
}

impl Existing {
    /// What a later run needs of the shared module as it is.
    pub(crate) fn read(module: &ExistingModule) -> Existing {
        let mut existing = Existing::default();
        for statement in &module.statements {
            let text = module.text_of(statement);
            let parsed = parse_cell(text);
            let Some(stmt) = parsed.syntax().body.first() else {
                continue;
            };
            // The manifest records no import; what importing the module imports is compared
            // with what each notebook moves instead.
            if statement.import {
                existing.imports.extend(
                    statement
                        .names
                        .iter()
                        .filter_map(|name| Some((name.clone(), import_key(stmt, name, text)?))),
                );
            } else if !statement.owned {
                existing.edited.extend(statement.names.iter().cloned());
            } else if let [name] = statement.names.as_slice() {
                existing.codes.insert(name.clone(), code_hash(stmt));
            }
        }
        // Statements that bind nothing (a call a person added) are not among `statements`.
        let body = parse_cell(&module.text).syntax().body.len();
        let docstring = usize::from(module.text.starts_with(crate::emit::MODULE_HEADER));
        existing.untouched =
            existing.edited.is_empty() && body == module.statements.len() + docstring;
        existing
    }
}

/// A copy that a later run found of a definition of the shared module that a person changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct EditedCopy {
    /// The definition's name.
    pub(crate) name: String,
    /// The notebook, by its index in the batch.
    pub(crate) notebook: usize,
}

/// What a later run shares: each notebook's copies of what the shared module holds, when
/// the module is as nbhoist wrote it and importing it imports nothing the notebook does not
/// move itself; and the copies of definitions a person changed there, which do not share.
pub(crate) fn find_later(
    offers: &[Option<Offer>],
    existing: &Existing,
) -> (Sharing, Vec<EditedCopy>) {
    let mut sharing = Sharing::new(offers.len());
    let mut edited = Vec::new();
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, offer) in offers.iter().enumerate() {
        let Some(offer) = offer else { continue };
        for candidate in &offer.candidates {
            if existing.edited.contains(&candidate.name) {
                edited.push(EditedCopy {
                    name: candidate.name.clone(),
                    notebook: i,
                });
                continue;
            }
            let same = candidate
                .closure
                .iter()
                .all(|(name, code)| existing.codes.get(name) == Some(code))
                && candidate.imports.is_subset(&existing.imports);
            // A person's code in the module would run in the notebook too.
            if same && existing.untouched && existing.imports.is_subset(&offer.moved_imports) {
                sharing.names[i].extend(candidate.closure.keys().cloned());
                groups.entry(&candidate.name).or_default().push(i);
            }
        }
    }
    sharing.groups = groups
        .into_iter()
        .map(|(name, notebooks)| Group {
            name: name.to_owned(),
            notebooks,
        })
        .collect();
    (sharing, edited)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy(name: &str, key: u64, closure: &[(&str, u64)], imports: &[&str]) -> Candidate {
        Candidate {
            name: name.to_owned(),
            key: (key, 0),
            closure: closure
                .iter()
                .map(|(n, c)| ((*n).to_owned(), *c))
                .chain([(name.to_owned(), key)])
                .collect(),
            imports: imports
                .iter()
                .map(|i| ((*i).to_owned(), format!("import {i}")))
                .collect(),
        }
    }

    fn offer(candidates: Vec<Candidate>, moved: &[&str]) -> Option<Offer> {
        Some(Offer {
            candidates,
            moved_imports: moved
                .iter()
                .map(|i| ((*i).to_owned(), format!("import {i}")))
                .collect(),
        })
    }

    #[test]
    fn only_definitions_that_run_nothing_when_defined_are_shared() {
        let plain_text = |text: &str| plain(&parse_cell(text).syntax().body[0]);
        assert!(plain_text(
            "def f(x, k=2) -> int:\n    return print(x) or k"
        ));
        assert!(plain_text(
            "class A:\n    n: int = 1\n\n    def g(self, f=lambda: print(1)):\n        return len(self)"
        ));
        assert!(!plain_text("def f(x, k=len('ab')):\n    return x"));
        assert!(!plain_text("class A:\n    seen = print('defined')"));
        assert!(!plain_text(
            "class A:\n    @staticmethod\n    def g():\n        return 1"
        ));
        assert!(!plain_text("@cache\ndef f(x):\n    return x"));
        assert!(!plain_text("class B(A):\n    pass"));
    }

    #[test]
    fn copies_in_two_notebooks_or_more_are_shared_with_what_they_need() {
        let helper = || copy("helper", 1, &[("SCALE", 7)], &["math"]);
        let sharing = find(&[
            offer(vec![helper()], &["math"]),
            offer(vec![helper(), copy("other", 2, &[], &[])], &["math"]),
            offer(vec![copy("helper", 3, &[], &[])], &[]),
        ]);
        assert_eq!(
            sharing.groups,
            [Group {
                name: "helper".to_owned(),
                notebooks: vec![0, 1],
            }]
        );
        let names: Vec<Vec<&str>> = sharing
            .names
            .iter()
            .map(|names| names.iter().map(String::as_str).collect())
            .collect();
        assert_eq!(
            names,
            [vec!["SCALE", "helper"], vec!["SCALE", "helper"], vec![]]
        );
        assert_eq!(sharing.written_by(0).len(), 2);
        assert!(sharing.written_by(1).is_empty());
    }

    #[test]
    fn a_group_whose_imports_a_sharing_notebook_does_not_make_is_not_shared() {
        let sharing = find(&[
            offer(
                vec![copy("a", 1, &[], &[]), copy("b", 2, &[], &["torch"])],
                &["torch"],
            ),
            offer(vec![copy("a", 1, &[], &[])], &[]),
            offer(vec![copy("b", 2, &[], &["torch"])], &["torch"]),
        ]);
        // `b` would make notebook 1 import `torch` with the shared module.
        let shared: Vec<&str> = sharing.groups.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(shared, ["a"]);
    }

    #[test]
    fn a_group_whose_constants_clash_with_a_shared_one_is_not_shared() {
        let sharing = find(&[
            offer(vec![copy("f", 1, &[("SCALE", 2)], &[])], &[]),
            offer(vec![copy("f", 1, &[("SCALE", 2)], &[])], &[]),
            offer(vec![copy("g", 5, &[("SCALE", 3)], &[])], &[]),
            offer(vec![copy("g", 5, &[("SCALE", 3)], &[])], &[]),
        ]);
        let shared: Vec<&str> = sharing.groups.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(shared, ["f"]);
    }
}
