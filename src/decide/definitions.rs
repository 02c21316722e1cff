//! The rules for top-level functions and classes: what each one needs, and whether it can
//! move or must stay.

use std::collections::BTreeSet;

use ruff_python_ast::name::Name;
use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{Expr, Stmt};
use rustc_hash::FxHashMap;

use super::execution::{DefinitionTime, Execution, frame_access};
use super::merge::is_import_from;
use super::reason::{LateBinding, Rebinding, StayReason};
use super::{Needs, Verdict};
use crate::analysis::{
    Analysis, Bound, NameClass, RunBinding, SiteKind, StarBinding, StatementRef, constant_value,
    is_mutable_value, statement,
};
use crate::notebook::Notebook;
use crate::ownership::ExistingModule;
use crate::python::imports::{binds_on_every_path, is_future_annotations, is_import_block};
use crate::python::scope::{self, BindingKind, Call, Mutation, ReadTime};
use crate::python::stdlib_exports::module_exports;

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
pub(super) fn decide(
    notebook: &Notebook,
    analysis: &Analysis,
    execution: &Execution<'_>,
    name_errors: &NameErrors,
    own_module: Option<(&str, Option<&ExistingModule>)>,
) -> Vec<Verdict> {
    let definition_times = analysis
        .definitions
        .iter()
        .map(|definition| {
            execution.definition_time(definition.at, definition.statement(&analysis.cells))
        })
        .collect();
    let last_versions = last_versions(notebook, analysis);
    let rules = Rules {
        notebook,
        analysis,
        execution,
        definition_times,
        name_errors,
        last_versions,
        own_module,
    };
    let candidates: Vec<Candidate> = (0..analysis.definitions.len())
        .map(|i| rules.examine(i))
        .collect();
    let mut verdicts = propagate(analysis, &candidates);
    rules.keep_what_runs_differently(&mut verdicts);
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
    execution: &'a Execution<'a>,
    /// What defining each definition runs, in the order of the analysis' definitions.
    definition_times: Vec<DefinitionTime>,
    /// Where cells stop with `NameError`.
    name_errors: &'a NameErrors,
    /// Names defined several times with different code, only by definitions, with where the
    /// last version is: it may move, imported in place, while the earlier ones stay.
    last_versions: FxHashMap<String, StatementRef>,
    /// The notebook's module (dotted), and the module as an earlier run left it: a name the
    /// notebook imports from it is the module's own.
    own_module: Option<(&'a str, Option<&'a ExistingModule>)>,
}

/// Names bound only by top-level definitions, not all with the same code, whose last version's
/// code is written once: where that last version is. A name also bound otherwise (assigned,
/// imported, deleted, a loop variable), or whose last code is also an earlier version's, keeps
/// every definition in the notebook.
pub(super) fn last_versions(
    notebook: &Notebook,
    analysis: &Analysis,
) -> FxHashMap<String, StatementRef> {
    let names = &analysis.names;
    let text = |at: StatementRef| {
        let cell = &analysis.cells[at.code_cell];
        &cell.text(notebook)[ruff_text_size::Ranged::range(statement(&analysis.cells, at))]
    };
    let mut last_versions = FxHashMap::default();
    for definition in &analysis.definitions {
        let sites = names.sites(&definition.name);
        let Some(last) = sites.last() else {
            continue;
        };
        if sites.len() < 2
            || last.at != definition.at
            || sites.iter().any(|site| site.kind != SiteKind::Definition)
        {
            continue;
        }
        let last_text = text(last.at);
        let copies = sites
            .iter()
            .filter(|site| text(site.at) == last_text)
            .count();
        if copies == 1 {
            last_versions.insert(definition.name.clone(), last.at);
        }
    }
    last_versions
}

/// A statement that raises `NameError` when the notebook runs top to bottom, and so stops its
/// cell.
#[derive(Clone, Debug)]
struct NameErrorAt {
    /// The statement, in its cell.
    statement: usize,
    /// The name it reads, as it runs, that no statement that ran before it bound.
    name: Name,
    /// Whether it surely raises, or only may: the name's binding is an import block that may
    /// not bind it (`if TYPE_CHECKING:`), or a statement that itself may not have run.
    surely: bool,
    /// It is `from MODULE import name` of a standard-library module that has no `name`: it
    /// raises `ImportError`.
    missing_from: Option<String>,
}

/// `from MODULE import name` where `MODULE` is in the standard library but exports no `name` in
/// any Python version, and has no submodule `name`: `from math import prodtw` raises
/// `ImportError`. Only what a star import would bind is known, so private names are let be.
fn missing_stdlib_name(stmt: &Stmt) -> Option<(&str, &str)> {
    let Stmt::ImportFrom(import) = stmt else {
        return None;
    };
    let module = import
        .module
        .as_ref()
        .filter(|_| import.level == 0)?
        .as_str();
    let exports = module_exports(module)?;
    let missing = import.names.iter().find(|alias| {
        let name = alias.name.as_str();
        name != "*"
            && !name.starts_with('_')
            && !exports.exports_in_any(name)
            && module_exports(&format!("{module}.{name}")).is_none()
    })?;
    Some((module, missing.name.as_str()))
}

/// For each code cell, the first statement that raises, or may raise, `NameError` when the
/// notebook runs top to bottom.
///
/// A cell stops at its first error, so what that statement and the rest of its cell bind never
/// existed, and reading those names raises in turn: `print(CONF)` stops a cell before its
/// `def f`, and a later `print(f(1))` stops its own cell before `def g`.
///
/// A read in the body of a notebook function the statement calls only may raise: the body may
/// not reach it.
///
/// Also whether `from __future__ import annotations` may not have run, its cell stopping
/// before it: annotations after it are then evaluated, and count as reads.
pub(super) struct NameErrors {
    /// For each code cell, the first statement that raises, or may raise, `NameError`.
    by_cell: Vec<Option<NameErrorAt>>,
    /// `from __future__ import annotations` may not have run: its cell stops before it.
    future_unrun: bool,
}

impl NameErrors {
    /// Whether the cell of `at` stops, or may stop, at or before it: with `NameError`, or
    /// with the error its saved outputs show, which may come from any statement.
    pub(super) fn stop_before(
        &self,
        notebook: &Notebook,
        analysis: &Analysis,
        at: StatementRef,
    ) -> bool {
        let cell = &analysis.cells[at.code_cell];
        notebook.cells()[cell.index.0].error_output
            || self.by_cell[at.code_cell]
                .as_ref()
                .is_some_and(|error| error.statement <= at.statement)
    }
}

/// The [`NameErrors`] of a notebook.
pub(super) fn name_errors(analysis: &Analysis, execution: &Execution<'_>) -> NameErrors {
    let names = &analysis.names;
    let mut future_unrun = false;
    let runs: FxHashMap<StatementRef, &[(Name, Option<Mutation>)]> = execution
        .runs()
        .iter()
        .map(|(at, run)| (*at, run.uses.as_slice()))
        .collect();
    // How surely each statement that may have run ran: `Yes` or `Maybe`.
    let mut ran: FxHashMap<StatementRef, Bound> = FxHashMap::default();
    let mut errors = Vec::with_capacity(analysis.cells.len());
    for (code_cell, cell) in analysis.cells.iter().enumerate() {
        let mut error: Option<NameErrorAt> = None;
        for (index, stmt) in cell.running_statements().iter().enumerate() {
            let at = StatementRef {
                code_cell,
                statement: index,
            };
            // A compound statement's own bindings count (`for i in ...: print(i)`); a simple
            // one reads before it binds (`x += 1`).
            let compound = matches!(
                stmt,
                Stmt::For(_)
                    | Stmt::While(_)
                    | Stmt::If(_)
                    | Stmt::With(_)
                    | Stmt::Try(_)
                    | Stmt::Match(_)
            );
            let bound = |name: &str| {
                // A star import of a standard-library module binds what it exports; one of
                // another module is taken to bind the name.
                let star = names
                    .star_imports
                    .iter()
                    .filter(|star| **star < at)
                    .filter_map(|star| {
                        let how = *ran.get(star)?;
                        match names.star_binding(&analysis.cells, *star, name) {
                            StarBinding::Stdlib(Bound::No) => None,
                            StarBinding::Stdlib(bound) => Some(bound.min(how)),
                            StarBinding::Unknown => Some(how),
                        }
                    })
                    .max();
                if star == Some(Bound::Yes) {
                    return Bound::Yes;
                }
                let mut bound = star.unwrap_or(Bound::No);
                for site in names.sites(name) {
                    if site.at == at && compound {
                        return Bound::Yes;
                    }
                    let Some(&how) = ran.get(&site.at).filter(|_| site.at < at) else {
                        continue;
                    };
                    let site_stmt = statement(&analysis.cells, site.at);
                    let binds = !is_import_block(site_stmt)
                        || binds_on_every_path(std::slice::from_ref(site_stmt), name);
                    let surely = how == Bound::Yes && binds;
                    // `global x` in a function binds `x` only if something called it.
                    let surely = surely && site.kind != SiteKind::Other(BindingKind::Global);
                    bound = match (&site.kind, surely) {
                        (SiteKind::Other(BindingKind::Del), true) => Bound::No,
                        (SiteKind::Other(BindingKind::Del), false) if bound == Bound::No => {
                            Bound::No
                        }
                        (SiteKind::Other(BindingKind::Del), false) => Bound::Maybe,
                        (_, true) => Bound::Yes,
                        (_, false) if bound == Bound::Yes => Bound::Yes,
                        (_, false) => Bound::Maybe,
                    };
                }
                // `exec(code)` or `globals()[key] = ...` may have bound it.
                let dynamic = || {
                    names
                        .dynamic_bindings
                        .iter()
                        .any(|site| *site < at && ran.contains_key(site))
                };
                if bound == Bound::No && dynamic() {
                    return Bound::Maybe;
                }
                bound
            };
            let mut maybe = None;
            let mut surely = None;
            if is_future_annotations(stmt) && error.is_some() {
                future_unrun = true;
            }
            let own = analysis.reads(at).reads.iter().filter(|read| {
                read.when == ReadTime::Now || (future_unrun && read.when == ReadTime::Annotation)
            });
            let mut own: Vec<&Name> = own.map(|read| &read.name).collect();
            // `del x` raises when `x` is unbound.
            if let Stmt::Delete(delete) = stmt {
                own.extend(delete.targets.iter().filter_map(|target| match target {
                    Expr::Name(name) => Some(&name.id),
                    _ => None,
                }));
            }
            let called = runs.get(&at).copied().unwrap_or_default().iter();
            let called = called
                .map(|(name, _)| name)
                .filter(|name| !own.contains(name));
            for (name, directly) in own
                .iter()
                .copied()
                .map(|name| (name, true))
                .chain(called.map(|name| (name, false)))
            {
                // `_i6` and `_6` in the third cell run: no sixth input or output yet.
                let future_history = name
                    .strip_prefix("_i")
                    .or_else(|| name.strip_prefix('_'))
                    .and_then(|digits| digits.parse::<usize>().ok())
                    .is_some_and(|number| number > code_cell);
                // `_3` exists only if the third cell run showed a value.
                let output_history = name.strip_prefix('_').is_some_and(|digits| {
                    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
                });
                if !future_history
                    && !output_history
                    && (scope::is_builtin(name) || is_ipython_name(name))
                {
                    continue;
                }
                let how = if future_history {
                    Bound::No
                } else if output_history {
                    Bound::Maybe
                } else {
                    bound(name)
                };
                match how {
                    Bound::No if directly => {
                        surely = Some(name.clone());
                        break;
                    }
                    Bound::No | Bound::Maybe => {
                        maybe.get_or_insert_with(|| name.clone());
                    }
                    Bound::Yes => {}
                }
            }
            if let Some((module, name)) = missing_stdlib_name(stmt) {
                error.get_or_insert(NameErrorAt {
                    statement: index,
                    name: Name::new(name),
                    surely: true,
                    missing_from: Some(module.to_owned()),
                });
                break;
            }
            let how = if let Some(name) = surely {
                // After a statement that may have raised, this one may not run at all.
                error.get_or_insert(NameErrorAt {
                    statement: index,
                    name,
                    surely: true,
                    missing_from: None,
                });
                break;
            } else if let Some(name) = maybe {
                error.get_or_insert(NameErrorAt {
                    statement: index,
                    name,
                    surely: false,
                    missing_from: None,
                });
                Bound::Maybe
            } else if error.is_some() {
                Bound::Maybe
            } else {
                Bound::Yes
            };
            ran.insert(at, how);
        }
        if names.future_annotations == Some(cell.index)
            && let Some(error) = &error
        {
            let future = cell
                .notebook_statements()
                .iter()
                .position(is_future_annotations);
            future_unrun |= future.is_some_and(|future| error.statement < future);
        }
        errors.push(error);
    }
    NameErrors {
        by_cell: errors,
        future_unrun,
    }
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
        // An earlier version stays whatever it does: it runs in the notebook as before.
        if let Some(&last) = self.last_versions.get(name)
            && last != definition.at
        {
            return Err(StayReason::EarlierVersion {
                name: name.to_owned(),
                last: self.cell_of(last),
            });
        }
        if let Some(magic) = &cell.magic {
            return Err(StayReason::MagicCell {
                magic: magic.name().to_owned(),
            });
        }
        self.check_bindings(name, definition.at)?;
        let postponed = self.analysis.postponed_annotations(definition.at);
        let reads = self.analysis.reads(definition.at);
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
        if let Some(dynamic) = reads.dynamic.first() {
            return Err(StayReason::Dynamic {
                call: dynamic.name.to_string(),
            });
        }
        if let Some(call) = reads
            .calls
            .iter()
            .find_map(|call| frame_access(call, self.analysis))
        {
            return Err(StayReason::Dynamic { call });
        }
        if let Some(reason) = self.never_ran(i) {
            return Err(reason);
        }
        candidate.needs.future_annotations = postponed;
        self.check_definition_time(i)?;
        for read in &reads.reads {
            if read.when != ReadTime::Annotation {
                candidate.needs.evaluated.insert(read.name.to_string());
            }
            // An annotation that is never evaluated (postponed, or a string) takes along what
            // it names that can travel, so that the module is complete for type checkers. A
            // name nothing defines stays as text: evaluating it (`typing.get_type_hints`)
            // raises `NameError` in the notebook and in the package alike. Any other name,
            // which the notebook has and the package would not, keeps it in the notebook.
            match self.resolve(read.name.as_str(), name, candidate) {
                Err(StayReason::Undefined { name }) if read.when == ReadTime::Annotation => {
                    candidate.needs.undefined_in_annotations.insert(name);
                    continue;
                }
                result => result?,
            }
            // Read while defining it, a name must be what the module imports: a star import
            // after the definition rebinds it later in the notebook, but not in the module.
            if read.when == ReadTime::Now
                && let Some(&star) = candidate.needs.star.get(read.name.as_str())
                && star > definition.at
            {
                let name = read.name.to_string();
                let cell = self.cell_of(star);
                return Err(if scope::is_builtin(&name) {
                    StayReason::StarRebindsLater { name, cell }
                } else {
                    StayReason::DefinedTooEarly { name, bound: cell }
                });
            }
        }
        Ok(())
    }

    /// What runs while the definition is being defined (decorators, default values, base
    /// classes and their `__init_subclass__` hooks, class bodies, and the notebook functions
    /// they call) runs at the import cell once it is hoisted: it must show nothing, must not
    /// depend on the clock, the environment, files or random state, and must find every name
    /// it reads already bound, as it did in the notebook.
    fn check_definition_time(&self, i: usize) -> Result<(), StayReason> {
        let definition = &self.analysis.definitions[i];
        let names = &self.analysis.names;
        let time = &self.definition_times[i];
        for (name, via, _) in &time.reads {
            let unbound = names.class(name).is_none();
            if (unbound && has_visible_effect(name)) || is_output_module(name, self.analysis) {
                let name = via.clone().unwrap_or_else(|| name.to_string());
                return Err(StayReason::DefinitionTimeEffect { name });
            }
        }
        for (name, _, _) in &time.reads {
            // In the module, only the last version exists, and only after its place.
            if let Some(&last) = self.last_versions.get(name.as_str())
                && last >= definition.at
            {
                return Err(StayReason::SeesEarlierVersion {
                    name: name.to_string(),
                    cell: definition.cell.number(),
                    last: self.cell_of(last),
                });
            }
            if let Some(site) = names.sites(name).first()
                && site.at >= definition.at
            {
                return Err(StayReason::DefinedTooEarly {
                    name: name.to_string(),
                    bound: site.cell.number(),
                });
            }
        }
        for (call, _) in &time.calls {
            // A string or a number called raises `TypeError`; what other constants run when
            // called is not followed, except a lambda's body.
            if let [callee] = call.path.as_slice()
                && names.class(callee) == Some(&NameClass::Constant)
                && !constant_value(statement(&self.analysis.cells, names.sites(callee)[0].at))
                    .is_some_and(|value| value.is_attribute_expr() || value.is_lambda_expr())
            {
                return Err(StayReason::CallsConstant {
                    name: callee.to_string(),
                });
            }
        }
        // What another notebook defines (a decorator, a base class, a function called for a
        // default) may keep state in that notebook's names, which this one shares through
        // `%run`; what it does then is not followed.
        for (name, via, _) in &time.reads {
            let from_run = names.sites(name).iter().any(|site| {
                matches!(
                    names.run_binding(site.at, name),
                    Some(RunBinding::Hoisted(_) | RunBinding::Variable { .. })
                )
            });
            if from_run {
                return Err(StayReason::DefinitionTimeState {
                    call: name.to_string(),
                    via: via.clone(),
                });
            }
        }
        for (call, via) in &time.calls {
            if let Some(call) = stateful_call(call, self.analysis) {
                return Err(StayReason::DefinitionTimeState {
                    call,
                    via: via.clone(),
                });
            }
        }
        // A notebook function that keeps state (a mutable default, a cache) gives another
        // result at the import cell when the notebook has called it before this definition.
        for (call, via) in &time.calls {
            let [callee] = call.path.as_slice() else {
                continue;
            };
            if !self.keeps_state(callee) {
                continue;
            }
            let called_before = self.execution.runs().iter().any(|(at, run)| {
                *at < definition.at && run.uses.iter().any(|(name, _)| name == callee)
            });
            if called_before {
                return Err(StayReason::DefinitionTimeState {
                    call: callee.to_string(),
                    via: via.clone(),
                });
            }
        }
        Ok(())
    }

    /// Whether the notebook function `name` may keep state between calls: a default value
    /// that is not a constant literal, or a decorator (`functools.lru_cache`).
    fn keeps_state(&self, name: &str) -> bool {
        self.analysis.names.sites(name).iter().any(|site| {
            let Stmt::FunctionDef(def) = statement(&self.analysis.cells, site.at) else {
                return false;
            };
            !def.decorator_list.is_empty()
                || def.parameters.iter_non_variadic_params().any(|parameter| {
                    parameter.default.as_deref().is_some_and(|default| {
                        !matches!(
                            default,
                            Expr::NumberLiteral(_)
                                | Expr::StringLiteral(_)
                                | Expr::BytesLiteral(_)
                                | Expr::BooleanLiteral(_)
                                | Expr::NoneLiteral(_)
                                | Expr::EllipsisLiteral(_)
                                | Expr::Name(_)
                                | Expr::Attribute(_)
                        )
                    })
                })
        })
    }

    /// A definition after an import that failed when the notebook last ran, in the same
    /// cell: the cell stopped at the import, so the definition never existed.
    ///
    /// A cell stops at its first error, so a definition after a statement that raised never
    /// existed: after an import whose failure the saved outputs show, after a statement that
    /// reads a name nothing binds before it; and in a cell whose saved outputs show another
    /// error, any definition may be what raised or may come after it.
    fn never_ran(&self, i: usize) -> Option<StayReason> {
        let definition = &self.analysis.definitions[i];
        let code_cell = definition.at.code_cell;
        let cell = &self.analysis.cells[code_cell];
        let saved = &self.notebook.cells()[cell.index.0];
        // Looked for only in a cell whose import failed: for every definition of a cell, it
        // made a cell of 100,000 definitions take minutes.
        let after_import = || {
            cell.notebook_statements()[..definition.at.statement]
                .iter()
                .any(|stmt| {
                    matches!(stmt, Stmt::Import(_) | Stmt::ImportFrom(_)) || is_import_block(stmt)
                })
        };
        if saved.import_failed && after_import() {
            return Some(StayReason::AfterFailedImport {
                cell: cell.index.number(),
            });
        } else if saved.error_output {
            return Some(StayReason::ErrorInCell {
                cell: cell.index.number(),
            });
        }
        let error = self.name_errors.by_cell[code_cell].as_ref()?;
        if let Some(module) = &error.missing_from
            && error.statement < definition.at.statement
        {
            Some(StayReason::AfterMissingImport {
                cell: cell.index.number(),
                module: module.clone(),
                name: error.name.to_string(),
            })
        } else if error.statement < definition.at.statement {
            Some(StayReason::AfterNameError {
                cell: cell.index.number(),
                name: error.name.to_string(),
                surely: error.surely,
            })
        } else if error.statement == definition.at.statement && !error.surely {
            Some(StayReason::MaybeUnbound {
                name: error.name.to_string(),
            })
        } else {
            None
        }
    }

    /// Rule 1: the name is bound once, or only by identical definitions.
    fn check_bindings(&self, name: &str, own: StatementRef) -> Result<(), StayReason> {
        // The notebook's import of the name from its module (an earlier run hoisted it) before
        // the definition is the version this definition replaces, in the module and so at
        // that import. One after it binds the name again, as any import would.
        let sites: Vec<crate::analysis::Site> = self
            .analysis
            .names
            .sites(name)
            .iter()
            .filter(|site| !(site.at < own && self.imports_own(site.at, name)))
            .cloned()
            .collect();
        // The definition's own binding is not a rebinding, even where a syntax error made it
        // count as notebook state.
        if let Some(other) = sites
            .iter()
            .find(|site| site.kind != SiteKind::Definition && site.at != own)
        {
            let by_run = self.analysis.names.run_binding(other.at, name).is_some();
            let how = match &other.kind {
                _ if by_run => Rebinding::Run,
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
        if self.last_versions.contains_key(name) {
            return Ok(());
        }
        let mut texts = sites.iter().map(|site| self.statement_text(site.at));
        let mut cells: Vec<_> = sites.iter().map(|site| site.cell.number()).collect();
        cells.dedup();
        if let Some(first) = texts.next()
            && texts.any(|text| text != first)
        {
            return Err(StayReason::Redefined {
                name: name.to_owned(),
                cells,
            });
        }
        if sites.len() > 1 && !self.copies_are_interchangeable(name, &sites) {
            return Err(StayReason::DefinedAgain {
                name: name.to_owned(),
                cells,
            });
        }
        Ok(())
    }

    /// Whether the statement at `at` imports `name` from the notebook's module, which defines
    /// it (an earlier run hoisted it there).
    fn imports_own(&self, at: StatementRef, name: &str) -> bool {
        self.own_module.is_some_and(|(dotted, module)| {
            is_import_from(statement(&self.analysis.cells, at), dotted)
                && module
                    .and_then(|module| module.binding(name))
                    .is_some_and(|binding| !binding.import)
        })
    }

    /// Whether several definitions of `name` with the same code can be one: each makes a new
    /// object, which matters for a class (instances of the first are not of the second), a
    /// decorated function (a cache, a registry), a function with a default computed or
    /// mutable (its state), and any function the notebook handles other than by calling it
    /// (`first is double`).
    fn copies_are_interchangeable(&self, name: &str, sites: &[crate::analysis::Site]) -> bool {
        let plain = sites.iter().all(|site| {
            let Stmt::FunctionDef(def) = statement(&self.analysis.cells, site.at) else {
                return false;
            };
            def.decorator_list.is_empty()
                && def
                    .parameters
                    .iter_non_variadic_params()
                    .filter_map(|param| param.default())
                    .all(is_immutable_literal)
        });
        if !plain {
            return false;
        }
        // Every read of the name anywhere is the callee of a call.
        self.analysis
            .cells
            .iter()
            .enumerate()
            .all(|(code_cell, cell)| {
                let body = cell.parsed.as_ref().map_or(&[][..], |p| &p.syntax().body);
                (0..body.len()).all(|statement| {
                    let reads = self.analysis.reads(StatementRef {
                        code_cell,
                        statement,
                    });
                    let read = reads
                        .reads
                        .iter()
                        .filter(|r| r.name.as_str() == name)
                        .count();
                    let called = reads
                        .calls
                        .iter()
                        .filter(|call| call.path.len() == 1 && call.path[0].as_str() == name)
                        .count();
                    read <= called
                })
            })
    }

    /// Whether its cell stops, or may stop, at or before the statement.
    fn stopped_before(&self, at: StatementRef) -> bool {
        self.name_errors
            .stop_before(self.notebook, self.analysis, at)
    }

    /// The number of the cell of a statement.
    fn cell_of(&self, at: StatementRef) -> crate::position::CellNumber {
        self.analysis.cells[at.code_cell].index.number()
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
            Some(NameClass::Import) => self.add_import(read, own, candidate)?,
            Some(NameClass::Definitions) => {
                if read != own && !candidate.uses.iter().any(|u| u == read) {
                    candidate.uses.push(read.to_owned());
                }
            }
            Some(NameClass::Constant) => {
                let site = &names.sites(read)[0];
                if self.stopped_before(site.at) {
                    return Err(StayReason::NeverBound {
                        name: read.to_owned(),
                        cell: site.cell.number(),
                    });
                }
                self.add_constant(read, own, candidate)?;
            }
            Some(NameClass::Variable)
                if names.sites(read).iter().all(|site| {
                    site.kind == SiteKind::Definition || self.imports_own(site.at, read)
                }) =>
            {
                // A definition pasted back under the import of the module an earlier run
                // wrote: once merged, the import is its only binding, so it counts as one.
                if read != own && !candidate.uses.iter().any(|u| u == read) {
                    candidate.uses.push(read.to_owned());
                }
            }
            Some(NameClass::Variable) => {
                let sites = names.sites(read);
                let computed_by_run =
                    sites
                        .iter()
                        .find_map(|site| match names.run_binding(site.at, read)? {
                            RunBinding::Variable { file, place } => Some((file, *place)),
                            RunBinding::Import(_) | RunBinding::Hoisted(_) => None,
                        });
                if let Some((file, place)) = computed_by_run {
                    return Err(StayReason::RunVariable {
                        name: read.to_owned(),
                        file: file.clone(),
                        place,
                    });
                }
                let site = &sites[0];
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
            // IPython's `exit` and `quit` end the kernel; a module's end the interpreter.
            None if matches!(read, "exit" | "quit") => {
                return Err(StayReason::IpythonName {
                    name: read.to_owned(),
                });
            }
            None if ipython_import(read) => {
                candidate.needs.ipython.insert(read.to_owned());
            }
            None if let Some(star) = self.star_source(read)? => {
                candidate.needs.star.insert(read.to_owned(), star);
            }
            None if scope::is_builtin(read) && names.unknown_runs.is_empty() => {}
            None => {
                return Err(match names.unknown_runs.first() {
                    Some((at, why)) => StayReason::RunUnknown {
                        name: read.to_owned(),
                        cell: self.cell_of(*at),
                        why: why.clone(),
                    },
                    None => StayReason::Undefined {
                        name: read.to_owned(),
                    },
                });
            }
        }
        Ok(())
    }

    /// The star import a name the notebook never binds comes from, when one may bind it (or
    /// rebind it, as `from math import *` rebinds the builtin `pow`). The module imports it
    /// by name from the last standard-library star import that surely binds it, which is what
    /// code that runs after that import sees. A star import whose exports are unknown (a
    /// module outside the standard library), or depend on the Python version, leaves the name
    /// unknowable.
    fn star_source(&self, name: &str) -> Result<Option<StatementRef>, StayReason> {
        let names = &self.analysis.names;
        let mut last = None;
        for &at in &names.star_imports {
            match names.star_binding(&self.analysis.cells, at, name) {
                StarBinding::Stdlib(Bound::No) => {}
                StarBinding::Stdlib(Bound::Yes) => last = Some(at),
                StarBinding::Stdlib(Bound::Maybe) | StarBinding::Unknown => {
                    let name = name.to_owned();
                    let cell = self.cell_of(at);
                    return Err(if scope::is_builtin(&name) {
                        StayReason::StarShadowsBuiltin { name, cell }
                    } else {
                        StayReason::FromStarImport { name, cell }
                    });
                }
            }
        }
        // The notebook's cell stopped before the star import: it bound nothing.
        if let Some(at) = last.filter(|&at| self.stopped_before(at)) {
            return Err(StayReason::NeverBound {
                name: name.to_owned(),
                cell: self.cell_of(at),
            });
        }
        Ok(last)
    }

    /// Adds an import. A `try`/`if` block of imports travels whole, so what its condition and
    /// handlers read travels with it (`if sys.version_info >= (3, 11):` needs `import sys`).
    fn add_import(
        &self,
        name: &str,
        own: &str,
        candidate: &mut Candidate,
    ) -> Result<(), StayReason> {
        if candidate.needs.imports.contains(name) {
            return Ok(());
        }
        let sites = self.analysis.names.sites(name);
        // Imported from the module itself (written by an earlier run), it is there already.
        if let Some((dotted, module)) = self.own_module
            && is_import_from(statement(&self.analysis.cells, sites[0].at), dotted)
        {
            return match module.and_then(|module| module.binding(name)) {
                Some(binding) if !binding.import => Ok(()),
                _ => Err(StayReason::NotInModule {
                    name: name.to_owned(),
                    module: dotted.to_owned(),
                }),
            };
        }
        // The module imports it at the import cell; in the notebook, a cell that stopped
        // before its import left it unbound.
        if let Some(stopped) = sites.iter().find(|site| self.stopped_before(site.at)) {
            return Err(StayReason::NeverBound {
                name: name.to_owned(),
                cell: stopped.cell.number(),
            });
        }
        // `from typing import Callable`, then `from collections.abc import *`: the notebook's
        // name changes at the star import, the module's would not.
        if let Some(star) =
            self.analysis
                .names
                .star_binding_after(&self.analysis.cells, name, Some(sites[0].at))
        {
            return Err(StayReason::StarRebindsImport {
                name: name.to_owned(),
                cell: self.cell_of(star),
            });
        }
        // `%run -i setup.py` may import something else under the same name.
        if let Some((at, why)) = self
            .analysis
            .names
            .unknown_runs
            .iter()
            .find(|(at, _)| *at > sites[0].at)
        {
            return Err(StayReason::RunUnknown {
                name: name.to_owned(),
                cell: self.cell_of(*at),
                why: why.clone(),
            });
        }
        candidate.needs.imports.insert(name.to_owned());
        let site = &sites[0];
        let stmt = statement(&self.analysis.cells, site.at);
        // An import a `%run` file makes reads nothing here.
        if matches!(
            stmt,
            Stmt::Import(_) | Stmt::ImportFrom(_) | Stmt::IpyEscapeCommand(_)
        ) {
            return Ok(());
        }
        // `if TYPE_CHECKING: from collections import OrderedDict` after `from typing import *`:
        // which one binds the name depends on how the block runs, and the module would have
        // the block alone.
        if !binds_on_every_path(std::slice::from_ref(stmt), name)
            && let Some(star) =
                self.analysis
                    .names
                    .star_binding_after(&self.analysis.cells, name, None)
        {
            return Err(StayReason::StarOrBlock {
                name: name.to_owned(),
                star: self.cell_of(star),
                block: site.cell.number(),
            });
        }
        let bound: Vec<String> = scope::module_bindings(stmt)
            .into_iter()
            .map(|binding| binding.name)
            .collect();
        let reads = &self.analysis.reads(site.at).reads;
        for read in reads
            .iter()
            .filter(|read| !bound.iter().any(|b| b == read.name.as_str()))
        {
            self.resolve(read.name.as_str(), own, candidate)?;
        }
        Ok(())
    }

    /// Adds a constant and, transitively, what it reads: what its value reads as it is
    /// computed (constants, imports, definitions, builtins), and what the body of a lambda or
    /// the value of a `type` alias reads when used, resolved like a function body's. When one
    /// of those cannot travel, the constant stays, and so does what needs it.
    fn add_constant(
        &self,
        name: &str,
        own: &str,
        candidate: &mut Candidate,
    ) -> Result<(), StayReason> {
        if !candidate.needs.constants.insert(name.to_owned()) {
            return Ok(());
        }
        let site = &self.analysis.names.sites(name)[0];
        // Computed in the module after the last version of what it runs, it must not run an
        // earlier one in the notebook.
        let runs = self.execution.runs();
        let run = runs
            .binary_search_by_key(&site.at, |(at, _)| *at)
            .ok()
            .map(|i| &runs[i].1);
        let earlier = run
            .into_iter()
            .flat_map(|run| &run.uses)
            .find_map(|(used, _)| {
                let last = *self.last_versions.get(used.as_str())?;
                (last > site.at).then_some((used, last))
            });
        if let Some((used, last)) = earlier {
            return Err(StayReason::DependsOn {
                name: name.to_owned(),
                because: Box::new(StayReason::SeesEarlierVersion {
                    name: used.to_string(),
                    cell: site.cell.number(),
                    last: self.cell_of(last),
                }),
            });
        }
        for read in &self.analysis.reads(site.at).reads {
            // `type Tree = int | list[Tree]`
            if read.name.as_str() == name {
                continue;
            }
            self.resolve(read.name.as_str(), own, candidate)
                .map_err(|because| StayReason::DependsOn {
                    name: name.to_owned(),
                    because: Box::new(because),
                })?;
        }
        Ok(())
    }

    /// `from __future__ import annotations` applies to a whole module but only to the cells
    /// after it in a notebook. When definitions from after it move, annotated definitions
    /// from before it stay: in the module their annotations would be postponed too.
    fn keep_eager_annotations(&self, verdicts: &mut [Verdict]) {
        let Some(future) = self.analysis.names.future_annotations else {
            return;
        };
        let definitions = &self.analysis.definitions;
        // If the notebook's own future import may not have run, the module's still would.
        let postponed_move = self.name_errors.future_unrun
            || definitions
                .iter()
                .zip(verdicts.iter())
                .any(|(d, v)| v.is_move() && self.analysis.postponed_annotations(d.at));
        if !postponed_move {
            return;
        }
        for (i, definition) in definitions.iter().enumerate() {
            if verdicts[i].is_move()
                && (!self.analysis.postponed_annotations(definition.at)
                    || self.name_errors.future_unrun)
                && has_annotations(definition.statement(&self.analysis.cells))
            {
                let reason = StayReason::EagerAnnotations {
                    cell: future.number(),
                };
                keep(self.analysis, verdicts, i, reason);
            }
        }
    }

    /// The notebook runs top to bottom; the package is imported at once. Moved code must not
    /// run differently for that, judged by what each statement left in the notebook runs (its
    /// own code and the bodies of the notebook functions it calls), not by what it mentions:
    ///
    /// - no notebook code runs a moved definition before it, or anything it needs, is bound:
    ///   a `NameError` would vanish, or a builtin the notebook rebinds later would change
    ///   meaning early; the same for the constants it needs;
    /// - no notebook code lists the notebook's names before the definition is bound;
    /// - nothing notebook code changes before the definition's cell is read while it is being
    ///   defined, nor by the value of a constant it needs.
    fn keep_what_runs_differently(&self, verdicts: &mut [Verdict]) {
        let analysis = self.analysis;
        let names = &analysis.names;
        let first_site = |name: &str| names.sites(name).first().map(|site| site.at);
        let cell_of = |at: StatementRef| self.cell_of(at);
        let runs = self.execution.runs();
        // `typing.get_type_hints(f)` evaluates what `f`'s postponed or string annotations
        // name, where it is called: code that may call it reads every such name there.
        let annotation_names: BTreeSet<&str> = analysis
            .definitions
            .iter()
            .flat_map(|definition| &analysis.reads(definition.at).reads)
            .filter(|read| read.when == ReadTime::Annotation)
            .map(|read| read.name.as_str())
            .collect();
        let evaluates_annotations: Vec<bool> = runs
            .iter()
            .map(|(_, run)| {
                run.uses.iter().any(|(name, _)| {
                    let name = name.as_str();
                    names.imported_module(name).is_some_and(|module| {
                        matches!(module, "typing" | "typing_extensions" | "inspect")
                    }) || names.origin(name).is_some_and(|origin| {
                        origin.ends_with(".get_type_hints") || origin.ends_with(".get_annotations")
                    })
                })
            })
            .collect();
        // What a run uses, with what it reads by evaluating annotations.
        let uses = |i: usize, name: &str| {
            runs[i].1.uses.iter().any(|(used, _)| used == name)
                || (evaluates_annotations[i] && annotation_names.contains(name))
        };
        loop {
            // What moves is cut out of the notebook: it runs in the package instead.
            let mut cut: BTreeSet<StatementRef> = BTreeSet::new();
            for (definition, verdict) in analysis.definitions.iter().zip(verdicts.iter()) {
                if let Verdict::Move(needs) = verdict {
                    cut.insert(definition.at);
                    cut.extend(needs.constants.iter().filter_map(|c| first_site(c)));
                }
            }
            let mut first_use: FxHashMap<&str, StatementRef> = FxHashMap::default();
            let mut changes: FxHashMap<&str, Vec<(StatementRef, Mutation)>> = FxHashMap::default();
            let mut first_listing: Option<(StatementRef, &str)> = None;
            for (i, (at, run)) in runs
                .iter()
                .enumerate()
                .filter(|(_, (at, _))| !cut.contains(at))
            {
                if evaluates_annotations[i] {
                    for name in &annotation_names {
                        first_use.entry(name).or_insert(*at);
                    }
                }
                for (name, mutation) in &run.uses {
                    first_use.entry(name.as_str()).or_insert(*at);
                    if let Some(mutation) = mutation {
                        changes
                            .entry(name.as_str())
                            .or_default()
                            .push((*at, *mutation));
                    }
                }
                if first_listing.is_none()
                    && let Some(listing) = &run.listing
                {
                    first_listing = Some((*at, listing));
                }
            }
            // Whether notebook code changes `name` after it is bound and before `before`.
            let changed = |name: &str, before: StatementRef| -> Option<StatementRef> {
                let bound = first_site(name)?;
                let mutable = self.changeable(name);
                changes.get(name)?.iter().find_map(|&(at, mutation)| {
                    let counts = mutation == Mutation::Store || mutable;
                    (counts && bound < at && at < before).then_some(at)
                })
            };
            let mut kept = false;
            for (i, definition) in analysis.definitions.iter().enumerate() {
                let Verdict::Move(needs) = &verdicts[i] else {
                    continue;
                };
                let site = definition.at;
                // Before the last version of a name, code runs an earlier one: its uses count
                // from its own place.
                let last_version = self.last_versions.get(definition.name.as_str()) == Some(&site);
                let used = if last_version {
                    let from = runs.partition_point(|(at, _)| *at < site);
                    (from..runs.len())
                        .find(|&i| !cut.contains(&runs[i].0) && uses(i, &definition.name))
                        .map(|i| runs[i].0)
                } else {
                    first_use.get(definition.name.as_str()).copied()
                };
                let mut reason = None;
                // In the package it sees the last version of every name it uses: nothing may
                // run it before that version is defined.
                if let Some(used) = used {
                    reason = needs.definitions.iter().find_map(|name| {
                        let last = *self.last_versions.get(name.as_str())?;
                        (used < last).then(|| StayReason::SeesEarlierVersion {
                            name: name.clone(),
                            cell: cell_of(used),
                            last: cell_of(last),
                        })
                    });
                }
                if let Some(used) = used
                    && reason.is_none()
                {
                    // The star import that binds a name it needs, not just the first one.
                    let last_star = needs.star.values().max().copied();
                    // What only annotations that are never evaluated name is not read.
                    let late = std::iter::once(&definition.name)
                        .chain(
                            needs
                                .imports
                                .iter()
                                .chain(&needs.constants)
                                .chain(&needs.definitions)
                                .filter(|name| needs.evaluated.contains(*name)),
                        )
                        .map(|name| (LateBinding::Name(name.clone()), first_site(name)))
                        .chain(
                            (!needs.star.is_empty())
                                .then_some((LateBinding::StarImport, last_star)),
                        )
                        .find(|(_, bound)| bound.is_some_and(|bound| bound > used));
                    if let Some((late, Some(bound))) = late {
                        reason = Some(StayReason::UsedTooEarly {
                            late,
                            used: cell_of(used),
                            bound: cell_of(bound),
                        });
                    }
                }
                for constant in &needs.constants {
                    if reason.is_some() {
                        break;
                    }
                    let Some(bound) = first_site(constant) else {
                        continue;
                    };
                    let used = first_use.get(constant.as_str()).copied();
                    // What a lambda's body or a `type` alias's value reads is read when it
                    // is used, which must be after all of it is bound.
                    let late = used.and_then(|used| {
                        analysis
                            .reads(bound)
                            .reads
                            .iter()
                            .filter(|read| read.when == ReadTime::Deferred)
                            .find_map(|read| {
                                let name = read.name.as_str();
                                // The module has only the last version of a name.
                                let at = self
                                    .last_versions
                                    .get(name)
                                    .copied()
                                    .or_else(|| first_site(name))
                                    .or_else(|| needs.star.get(name).copied());
                                at.filter(|&at| at > used).map(|at| (name, at))
                            })
                            .map(|late| (used, late))
                    });
                    if let Some(used) = used
                        && used < bound
                    {
                        reason = Some(StayReason::ConstantUsedEarly {
                            constant: constant.clone(),
                            used: cell_of(used),
                            bound: cell_of(bound),
                        });
                    } else if let Some((used, (name, at))) = late
                        && self.last_versions.contains_key(name)
                    {
                        reason = Some(StayReason::SeesEarlierVersion {
                            name: name.to_owned(),
                            cell: cell_of(used),
                            last: cell_of(at),
                        });
                    } else if let Some((used, (name, at))) = late {
                        reason = Some(StayReason::UsedTooEarly {
                            late: LateBinding::Name(name.to_owned()),
                            used: cell_of(used),
                            bound: cell_of(at),
                        });
                    } else if let Some((name, at)) = constant_reads(analysis, bound)
                        .into_iter()
                        .find_map(|name| changed(name, bound).map(|at| (name, at)))
                    {
                        reason = Some(StayReason::ConstantChanged {
                            constant: constant.clone(),
                            name: name.to_owned(),
                            changed: cell_of(at),
                        });
                    }
                }
                // `from math import pi` binds `pi` as it is then; the package imports it at
                // the import cell, on the other side of a `math.pi = 3.0`.
                if reason.is_none() {
                    let imports = needs
                        .imports
                        .iter()
                        .flat_map(|name| names.sites(name).iter().map(|site| site.at))
                        .chain(needs.star.values().copied());
                    reason = imports.into_iter().find_map(|at| {
                        let Stmt::ImportFrom(import) = statement(&analysis.cells, at) else {
                            return None;
                        };
                        let module = import.module.as_ref().filter(|_| import.level == 0)?;
                        let root = module.as_str().split('.').next()?;
                        // Before or after the from-import: the package imports at the
                        // import cell, which may come on either side of the change.
                        let end = StatementRef {
                            code_cell: usize::MAX,
                            statement: 0,
                        };
                        let changed = changed(root, end)?;
                        Some(StayReason::ImportChanged {
                            module: module.to_string(),
                            changed: cell_of(changed),
                        })
                    });
                }
                // What moves is bound from the import cell on, constants included.
                let bound_last = needs
                    .constants
                    .iter()
                    .filter_map(|constant| first_site(constant))
                    .fold(site, StatementRef::max);
                if reason.is_none()
                    && let Some((at, listing)) = first_listing
                    && at < bound_last
                {
                    reason = Some(StayReason::ListedEarly {
                        listing: listing.to_owned(),
                        cell: cell_of(at),
                    });
                }
                let time = &self.definition_times[i];
                if reason.is_none() {
                    reason = time.reads.iter().find_map(|(name, _, _)| {
                        changed(name, site).map(|at| StayReason::ChangedBefore {
                            name: name.to_string(),
                            changed: cell_of(at),
                        })
                    });
                }
                // Defining it changes what notebook code reads before its cell (`@register`
                // adding to a registry): at the import cell, the change would come first.
                if reason.is_none() {
                    reason = time.reads.iter().find_map(|(name, _, mutation)| {
                        let used = *first_use.get(name.as_str())?;
                        (mutation.is_some() && used < site).then(|| {
                            StayReason::ChangesWhileDefined {
                                name: name.to_string(),
                                used: cell_of(used),
                            }
                        })
                    });
                }
                if let Some(reason) = reason {
                    keep(analysis, verdicts, i, reason);
                    kept = true;
                }
            }
            if !kept {
                break;
            }
        }
    }

    /// Whether notebook code passing `name` to a function or calling its methods may change
    /// it: definitions and constants built from lists, dicts or sets may; modules and
    /// constants of strings, numbers and tuples of them may not (only assigning to their
    /// attributes or items changes them).
    fn changeable(&self, name: &str) -> bool {
        match self.analysis.names.class(name) {
            Some(NameClass::Definitions) => true,
            Some(NameClass::Constant) => {
                let site = &self.analysis.names.sites(name)[0];
                let stmt = statement(&self.analysis.cells, site.at);
                constant_value(stmt).is_some_and(is_mutable_value)
            }
            _ => false,
        }
    }
}

/// The names a constant's value (and annotation) reads.
fn constant_reads(analysis: &Analysis, at: StatementRef) -> Vec<&str> {
    analysis
        .reads(at)
        .reads
        .iter()
        .filter(|read| read.when == ReadTime::Now)
        .map(|read| read.name.as_str())
        .collect()
}

/// The dotted name of a call whose result depends on the clock, the environment, files, the
/// network or random state, when it is one. A list of known modules and functions, and of
/// names that read (`read_csv`, `load`, `from_pretrained`, ...); a call nbhoist does not
/// know is taken to be pure.
fn stateful_call(call: &Call, analysis: &Analysis) -> Option<String> {
    let names = &analysis.names;
    let root = call.path.first()?;
    let path = match analysis.names.qualified(&call.path) {
        Some(path) => path,
        // A builtin the notebook does not rebind.
        None if names.class(root).is_none() && call.path.len() == 1 => {
            return matches!(root.as_str(), "open" | "input" | "__import__")
                .then(|| root.to_string());
        }
        None => return None,
    };
    let module = path.split('.').next().unwrap_or_default();
    let last = path.rsplit('.').next().unwrap_or_default();
    let pure_os_path = matches!(
        path.as_str(),
        "os.path.join"
            | "os.path.basename"
            | "os.path.dirname"
            | "os.path.split"
            | "os.path.splitext"
            | "os.path.normpath"
            | "os.path.normcase"
            | "os.path.isabs"
            | "os.fspath"
    );
    let stateful_module = matches!(
        module,
        "random"
            | "secrets"
            | "time"
            | "os"
            | "glob"
            | "shutil"
            | "subprocess"
            | "socket"
            | "urllib"
            | "http"
            | "requests"
            | "tempfile"
            | "getpass"
            | "sqlite3"
            | "zipfile"
            | "tarfile"
    ) && !pure_os_path;
    let stateful_path = [
        "numpy.random.",
        "torch.random.",
        "tensorflow.random.",
        "jax.random.",
        "uuid.uuid1",
        "uuid.uuid4",
        "datetime.datetime.now",
        "datetime.datetime.today",
        "datetime.datetime.utcnow",
        "datetime.date.today",
        "pathlib.Path.cwd",
        "pathlib.Path.home",
        "sys.stdin",
    ]
    .iter()
    .any(|prefix| path.starts_with(prefix));
    let reads = last.starts_with("read")
        || last == "load"
        || last.starts_with("load_")
        || last.starts_with("download")
        || last.starts_with("fetch")
        || last.starts_with("rand")
        || matches!(
            last,
            "open"
                | "from_pretrained"
                | "urlopen"
                | "urlretrieve"
                | "getenv"
                | "now"
                | "today"
                | "seed"
                | "manual_seed"
                | "shuffle"
                | "choice"
                | "sample"
                | "normal"
                | "uniform"
                | "listdir"
                | "exists"
        );
    (stateful_module || stateful_path || reads).then_some(path)
}

/// Settles verdicts between definitions: a definition that uses one that stays, stays too.
/// Starts from "everything without a reason of its own moves" and removes until stable, so
/// mutually recursive definitions move together. A name has one verdict: the first reason
/// of any of its copies is every copy's.
fn propagate(analysis: &Analysis, candidates: &[Candidate]) -> Vec<Verdict> {
    let name = |i: usize| analysis.definitions[i].name.as_str();
    // An earlier version stays without keeping the last one, or what uses it.
    let earlier =
        |candidate: &Candidate| matches!(candidate.own, Some(StayReason::EarlierVersion { .. }));
    let mut stays: FxHashMap<&str, StayReason> = FxHashMap::default();
    for (i, candidate) in candidates.iter().enumerate() {
        if let Some(reason) = candidate.own.as_ref().filter(|_| !earlier(candidate)) {
            stays.entry(name(i)).or_insert_with(|| reason.clone());
        }
    }
    loop {
        let mut changed = false;
        for (i, candidate) in candidates.iter().enumerate() {
            if stays.contains_key(name(i)) || earlier(candidate) {
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
    let by_name: FxHashMap<&str, &Candidate> = candidates
        .iter()
        .enumerate()
        .filter(|(_, c)| !earlier(c))
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
            // What a definition reads counts as read only when the definition itself is: one
            // that only a never-evaluated annotation names travels, but is not run.
            let mut queue: Vec<(&String, bool)> = candidate
                .uses
                .iter()
                .map(|used| (used, candidate.needs.evaluated.contains(used)))
                .collect();
            let mut seen: FxHashMap<&str, bool> = FxHashMap::default();
            while let Some((used, evaluated)) = queue.pop() {
                if used == own_name || seen.get(used.as_str()).is_some_and(|&e| e || !evaluated) {
                    continue;
                }
                seen.insert(used, evaluated);
                needs.definitions.insert(used.clone());
                if let Some(more) = by_name.get(used.as_str()) {
                    if evaluated {
                        needs.extend(&more.needs);
                    } else {
                        let before = std::mem::take(&mut needs.evaluated);
                        needs.extend(&more.needs);
                        needs.evaluated = before;
                    }
                    queue.extend(
                        more.uses
                            .iter()
                            .map(|u| (u, evaluated && more.needs.evaluated.contains(u))),
                    );
                }
            }
            Verdict::Move(needs)
        })
        .collect()
}

/// True when a statement has an annotation anywhere (parameters, returns, `x: int`).
pub(super) fn has_annotations(stmt: &Stmt) -> bool {
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

/// A literal that no code can change: a number, a string, `None`, `True`, a tuple of them.
pub(crate) fn is_immutable_literal(expr: &Expr) -> bool {
    match expr {
        Expr::NumberLiteral(_)
        | Expr::StringLiteral(_)
        | Expr::BytesLiteral(_)
        | Expr::BooleanLiteral(_)
        | Expr::NoneLiteral(_)
        | Expr::EllipsisLiteral(_) => true,
        Expr::Tuple(tuple) => tuple.elts.iter().all(is_immutable_literal),
        Expr::UnaryOp(op) => is_immutable_literal(&op.operand),
        _ => false,
    }
}

/// Names a notebook has without binding them: IPython's own and its history.
fn is_ipython_name(name: &str) -> bool {
    is_history_name(name)
        || matches!(
            name,
            "display" | "get_ipython" | "exit" | "quit" | "__IPYTHON__" | "_dh" | "_exit_code"
        )
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
