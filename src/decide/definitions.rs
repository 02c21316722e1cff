//! The rules for top-level functions and classes: what each one needs, and whether it can
//! move or must stay.

use std::collections::{BTreeSet, HashMap};

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{Expr, Stmt};

use super::reason::{LateBinding, Rebinding, StayReason};
use super::{Needs, Verdict};
use crate::analysis::{
    Analysis, NameClass, SiteKind, StatementRef, attribute_root, constant_value, loaded_names,
    statement,
};
use crate::notebook::Notebook;
use crate::python::scope::{self, BindingKind, ReadTime, ScopeOptions};

/// One definition before verdicts are final.
struct Candidate {
    /// The first reason found by looking at the definition alone.
    own: Option<StayReason>,
    /// Other definitions it uses, in the order it first reads them.
    uses: Vec<String>,
    /// Its direct needs, before other definitions' needs are added.
    needs: Needs,
}

/// The verdict of every definition of `analysis`, in its order: rules 1 to 5 of
/// `docs/verdicts.md`. Where the import cell goes is decided after, and can keep more.
pub(super) fn decide(notebook: &Notebook, analysis: &Analysis) -> Vec<Verdict> {
    let rules = Rules { notebook, analysis };
    let candidates: Vec<Candidate> = (0..analysis.definitions.len())
        .map(|i| rules.examine(i))
        .collect();
    let mut verdicts = propagate(analysis, &candidates);
    rules.keep_used_too_early(&mut verdicts);
    rules.keep_eager_annotations(&mut verdicts);
    verdicts
}

/// Makes definition `i` stay for `reason`, with every copy of its name (a name has one
/// verdict), and every moving definition that needs it.
pub(super) fn keep(analysis: &Analysis, verdicts: &mut [Verdict], i: usize, reason: StayReason) {
    let name = analysis.definitions[i].name.clone();
    for (j, definition) in analysis.definitions.iter().enumerate() {
        if definition.name == name {
            verdicts[j] = Verdict::Stay(reason.clone());
        }
    }
    for j in 0..verdicts.len() {
        if matches!(&verdicts[j], Verdict::Move(needs) if needs.definitions.contains(&name)) {
            let because = StayReason::DependsOn {
                name: name.clone(),
                because: Box::new(reason.clone()),
            };
            keep(analysis, verdicts, j, because);
        }
    }
}

struct Rules<'a> {
    notebook: &'a Notebook,
    analysis: &'a Analysis,
}

impl Rules<'_> {
    /// Looks at one definition on its own: rules 1 to 4, with other definitions assumed to move.
    fn examine(&self, i: usize) -> Candidate {
        let mut candidate = Candidate {
            own: None,
            uses: Vec::new(),
            needs: Needs::default(),
        };
        candidate.own = self.own_reason(i, &mut candidate).err();
        candidate
    }

    fn own_reason(&self, i: usize, candidate: &mut Candidate) -> Result<(), StayReason> {
        let definition = &self.analysis.definitions[i];
        let cell = &self.analysis.cells[definition.at.code_cell];
        let stmt = definition.statement(&self.analysis.cells);
        let name = definition.name.as_str();
        if let Some(magic) = &cell.magic {
            return Err(StayReason::MagicCell {
                magic: magic.name().to_owned(),
            });
        }
        self.check_bindings(name, definition.at)?;
        let postponed = self
            .analysis
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
            self.resolve(read.name.as_str(), name, candidate)?;
        }
        // A star import that only ever stands for builtins would look unused in the module;
        // whether it replaces them (as `from numpy import *` replaces `sum`) is unknowable.
        let star = &candidate.needs.star;
        if let Some(builtin) = star.iter().next()
            && star.iter().all(|name| scope::is_builtin(name))
        {
            let at = self.analysis.names.star_imports[0];
            return Err(StayReason::StarShadowsBuiltin {
                name: builtin.clone(),
                cell: self.analysis.cells[at.code_cell].index.number(),
            });
        }
        Ok(())
    }

    /// Something that shows output while the definition is being defined, which hoisting
    /// would move to the import: a builtin like `print`, or `sys`/`warnings`/`logging`, used
    /// by the code that runs then; a notebook decorator that uses one; a notebook base class
    /// with an `__init_subclass__` hook.
    fn definition_time_effect(&self, stmt: &Stmt, reads: &scope::ModuleReads) -> Option<String> {
        let names = &self.analysis.names;
        let unbound = |name: &str| names.class(name).is_none();
        let shows = |name: &str| {
            (unbound(name) && has_visible_effect(name)) || is_output_module(name, self.analysis)
        };
        let direct = reads
            .reads
            .iter()
            .find(|read| read.when == ReadTime::Now && shows(read.name.as_str()));
        if let Some(read) = direct {
            return Some(read.name.to_string());
        }
        let (decorators, bases) = match stmt {
            Stmt::FunctionDef(def) => (&def.decorator_list, None),
            Stmt::ClassDef(class) => (&class.decorator_list, class.arguments.as_deref()),
            _ => return None,
        };
        let notebook_definition = |name: &str| {
            let site = names.sites(name).first()?;
            (site.kind == SiteKind::Definition).then(|| statement(&self.analysis.cells, site.at))
        };
        for decorator in decorators {
            let root = match &decorator.expression {
                Expr::Call(call) => attribute_root(&call.func),
                expr => attribute_root(expr),
            };
            let Some(decorator_stmt) = root.and_then(notebook_definition) else {
                continue;
            };
            let prints = scope::module_reads(decorator_stmt, ScopeOptions::default())
                .reads
                .iter()
                .any(|read| shows(read.name.as_str()));
            if prints {
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
        let sites = self.analysis.names.sites(name);
        // The definition's own binding is not a rebinding, even where a syntax error made it
        // count as notebook state.
        if let Some(other) = sites
            .iter()
            .find(|site| site.kind != SiteKind::Definition && site.at != own)
        {
            let how = match &other.kind {
                SiteKind::Import(_) | SiteKind::FailedImport => Rebinding::Imported,
                SiteKind::Other(BindingKind::FunctionDef | BindingKind::ClassDef) => {
                    Rebinding::Defined
                }
                SiteKind::Other(BindingKind::Del) => Rebinding::Deleted,
                SiteKind::Other(BindingKind::For) => Rebinding::LoopVariable,
                _ => Rebinding::Assigned,
            };
            return Err(StayReason::Rebound {
                name: name.to_owned(),
                cell: other.cell.number(),
                how,
                broken: self.analysis.cells[other.at.code_cell].has_syntax_error,
            });
        }
        let mut texts = sites.iter().map(|site| self.statement_text(site.at));
        if let Some(first) = texts.next()
            && texts.any(|text| text != first)
        {
            let mut cells: Vec<_> = sites.iter().map(|site| site.cell.number()).collect();
            cells.dedup();
            return Err(StayReason::Redefined {
                name: name.to_owned(),
                cells,
            });
        }
        Ok(())
    }

    fn statement_text(&self, at: StatementRef) -> &str {
        let cell = &self.analysis.cells[at.code_cell];
        &cell.text(self.notebook)
            [ruff_text_size::Ranged::range(statement(&self.analysis.cells, at))]
    }

    /// Rule 4 for one name the definition reads.
    fn resolve(&self, read: &str, own: &str, candidate: &mut Candidate) -> Result<(), StayReason> {
        let names = &self.analysis.names;
        match names.class(read) {
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
                let site = &names.sites(read)[0];
                let cell = site.cell.number();
                let name = read.to_owned();
                return Err(match site.kind {
                    SiteKind::FailedImport => StayReason::FailedImport { name, cell },
                    SiteKind::Other(BindingKind::FromImport) => {
                        StayReason::RelativeImport { name, cell }
                    }
                    _ => StayReason::ReadsVariable { name, cell },
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
            None if !names.star_imports.is_empty() => {
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
        let names = &self.analysis.names;
        let site = &names.sites(name)[0];
        let stmt = statement(&self.analysis.cells, site.at);
        let Some(value) = constant_value(stmt) else {
            return;
        };
        let mut reads = loaded_names(value);
        if let Stmt::AnnAssign(assign) = stmt {
            reads.extend(loaded_names(&assign.annotation));
        }
        for read in reads {
            match names.class(read) {
                Some(NameClass::Constant) => self.add_constant(read, needs),
                Some(NameClass::Import) => {
                    needs.imports.insert(read.to_owned());
                }
                _ => {}
            }
        }
    }

    /// `from __future__ import annotations` applies to a whole module but only to the cells
    /// after it in a notebook. When definitions from after it move, annotated definitions
    /// from before it stay: in the module their annotations would be postponed too.
    fn keep_eager_annotations(&self, verdicts: &mut [Verdict]) {
        let Some(future) = self.analysis.names.future_annotations else {
            return;
        };
        let definitions = &self.analysis.definitions;
        let postponed_move = definitions
            .iter()
            .zip(verdicts.iter())
            .any(|(d, v)| v.is_move() && d.cell >= future);
        if !postponed_move {
            return;
        }
        for (i, definition) in definitions.iter().enumerate() {
            if verdicts[i].is_move()
                && definition.cell < future
                && has_annotations(definition.statement(&self.analysis.cells))
            {
                let reason = StayReason::EagerAnnotations {
                    cell: future.number(),
                };
                keep(self.analysis, verdicts, i, reason);
            }
        }
    }

    /// The notebook runs top to bottom; the package is imported at once. A definition that
    /// notebook code uses before everything it needs is bound (its own `def` included) would
    /// behave differently once hoisted: a `NameError` would vanish, or a builtin the notebook
    /// rebinds later would change meaning early. Such definitions stay.
    fn keep_used_too_early(&self, verdicts: &mut [Verdict]) {
        let analysis = self.analysis;
        let names = &analysis.names;
        let first_site = |name: &str| names.sites(name).first().map(|site| site.at);
        // What every top-level statement reads, in notebook order; worked out once.
        let mut reads: Vec<(StatementRef, Vec<String>)> = Vec::new();
        for (code_cell, cell) in analysis.cells.iter().enumerate() {
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
            let moving: BTreeSet<StatementRef> = analysis
                .definitions
                .iter()
                .zip(verdicts.iter())
                .filter(|(_, v)| v.is_move())
                .map(|(d, _)| d.at)
                .collect();
            let mut first_use: HashMap<&str, StatementRef> = HashMap::new();
            for (at, names) in reads.iter().filter(|(at, _)| !moving.contains(at)) {
                for name in names {
                    first_use.entry(name).or_insert(*at);
                }
            }
            let mut changed = false;
            for (i, definition) in analysis.definitions.iter().enumerate() {
                let Verdict::Move(needs) = &verdicts[i] else {
                    continue;
                };
                let Some(&used) = first_use.get(definition.name.as_str()) else {
                    continue;
                };
                let first_star = names.star_imports.first().copied();
                let late = std::iter::once(&definition.name)
                    .chain(&needs.imports)
                    .chain(&needs.constants)
                    .chain(&needs.definitions)
                    .map(|name| (LateBinding::Name(name.clone()), first_site(name)))
                    .chain(
                        (!needs.star.is_empty()).then_some((LateBinding::StarImport, first_star)),
                    )
                    .find(|(_, bound)| bound.is_some_and(|bound| bound > used));
                let Some((late, Some(bound))) = late else {
                    continue;
                };
                let reason = StayReason::UsedTooEarly {
                    late,
                    used: analysis.cells[used.code_cell].index.number(),
                    bound: analysis.cells[bound.code_cell].index.number(),
                };
                keep(analysis, verdicts, i, reason);
                changed = true;
            }
            if !changed {
                break;
            }
        }
    }
}

/// Settles verdicts between definitions: a definition that uses one that stays, stays too.
/// Starts from "everything without a reason of its own moves" and removes until stable, so
/// mutually recursive definitions move together. A name has one verdict: the first reason
/// of any of its copies is every copy's.
fn propagate(analysis: &Analysis, candidates: &[Candidate]) -> Vec<Verdict> {
    let name = |i: usize| analysis.definitions[i].name.as_str();
    let mut stays: HashMap<&str, StayReason> = HashMap::new();
    for (i, candidate) in candidates.iter().enumerate() {
        if let Some(reason) = &candidate.own {
            stays.entry(name(i)).or_insert_with(|| reason.clone());
        }
    }
    loop {
        let mut changed = false;
        for (i, candidate) in candidates.iter().enumerate() {
            if stays.contains_key(name(i)) {
                continue;
            }
            let staying = candidate
                .uses
                .iter()
                .find_map(|used| stays.get(used.as_str()).map(|reason| (used, reason)));
            if let Some((used, reason)) = staying {
                let reason = StayReason::DependsOn {
                    name: used.clone(),
                    because: Box::new(reason.clone()),
                };
                stays.insert(name(i), reason);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let by_name: HashMap<&str, &Candidate> = candidates
        .iter()
        .enumerate()
        .map(|(i, c)| (name(i), c))
        .collect();
    candidates
        .iter()
        .enumerate()
        .map(|(i, candidate)| {
            let own_name = name(i);
            // Every copy stays; each says its own reason when it has one.
            if let Some(reason) = candidate.own.as_ref().or_else(|| stays.get(own_name)) {
                return Verdict::Stay(reason.clone());
            }
            let mut needs = candidate.needs.clone();
            let mut queue: Vec<&String> = candidate.uses.iter().collect();
            while let Some(used) = queue.pop() {
                if used == own_name || !needs.definitions.insert(used.clone()) {
                    continue;
                }
                if let Some(more) = by_name.get(used.as_str()) {
                    needs.extend(&more.needs);
                    queue.extend(&more.uses);
                }
            }
            Verdict::Move(needs)
        })
        .collect()
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
fn is_output_module(name: &str, analysis: &Analysis) -> bool {
    matches!(name, "sys" | "warnings" | "logging") && analysis.names.is_import(name)
}

/// Names IPython provides that a module can import instead.
fn ipython_import(name: &str) -> bool {
    matches!(name, "display" | "get_ipython")
}
