//! What runs when. The rewritten notebook imports the package's module at the import cell, so
//! every moved statement runs there, once, in module order, instead of at its own place. These
//! are the facts the rules compare the two runs with: what each top-level statement reads when
//! it runs (its own code and, through what it calls, the bodies of the notebook's functions and
//! classes), what it may change, and what a moved statement runs while it is being defined.
//!
//! Calls are followed by name: reading a notebook function (calling it, passing it, decorating
//! with it) counts as running its body. That over-approximates what runs, which can only keep
//! more code in the notebook.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;

use ruff_python_ast::name::Name;
use ruff_python_ast::{Expr, IpyEscapeKind, Stmt};
use ruff_text_size::{Ranged, TextRange};
use rustc_hash::{FxHashMap, FxHashSet};

use crate::analysis::{Analysis, StatementRef, is_numbered_history};
use crate::python::scope::{self, Call, ModuleReads, Mutation, ReadTime, ScopeOptions};

/// A name read, and how the read may change what it finds.
pub(super) type Use = (Name, Option<Mutation>);

/// What running one top-level statement of the notebook does.
pub(super) struct Run {
    /// Every module-level name it reads, with how it may change it (duplicates removed).
    pub(super) uses: Vec<Use>,
    /// It lists the notebook's names (`globals()`, `dir()`, `%who`, frame access): what, when
    /// it does.
    pub(super) listing: Option<String>,
    /// It reads IPython's numbered history (`Out[3]`, `_i3`, `%history`).
    pub(super) reads_history: bool,
}

/// What defining one statement runs: its definition-time parts, and the bodies of the notebook
/// functions they call, transitively.
#[derive(Default)]
pub(super) struct DefinitionTime {
    /// Every module-level name read, with the notebook function through which it is read
    /// (`None` when the statement reads it itself) and how the read may change it.
    pub(super) reads: Vec<(Name, Option<String>, Option<Mutation>)>,
    /// Every call of a module-level name, with the notebook function it is made in.
    pub(super) calls: Vec<(Call, Option<String>)>,
}

/// One `def` or `class` statement of the notebook.
struct Body {
    /// Where it is.
    at: StatementRef,
    /// What calling it reads: its body, or the bodies of a class's methods.
    call: ModuleReads,
    /// For a class: what its `__init_subclass__` hooks read, which run when a subclass is
    /// defined.
    hooks: ModuleReads,
    /// For a class: the names of its bases that may be notebook classes.
    bases: Vec<Name>,
}

/// The facts about running a notebook, worked out once.
pub(super) struct Execution<'a> {
    analysis: &'a Analysis,
    /// Every `def` and `class` of the notebook (in cells that run), by name.
    bodies: FxHashMap<Name, Vec<Body>>,
    /// What running each notebook function or class may read, transitively, by name, for
    /// names whose closure involves no name defined twice.
    closures: RefCell<FxHashMap<Name, Rc<Vec<Use>>>>,
    /// Whether running a name may reach a name defined more than once, whose version then
    /// depends on when it runs.
    unstable: RefCell<FxHashMap<Name, bool>>,
    /// What every top-level statement that runs runs, in notebook order.
    runs: std::cell::OnceCell<Vec<(StatementRef, Run)>>,
}

impl<'a> Execution<'a> {
    /// The facts of `analysis`, where the notebook imports `hoisted` (name, the import, the
    /// definition in the module an earlier run wrote, whether the module postpones
    /// annotations): running those names runs the module's code, followed like a notebook
    /// function's, so that a later run judges what the notebook runs as the first did.
    pub(super) fn new(
        analysis: &'a Analysis,
        hoisted: &[(Name, StatementRef, &Stmt, bool)],
    ) -> Execution<'a> {
        let mut bodies: FxHashMap<Name, Vec<Body>> = FxHashMap::default();
        for (name, at, stmt, postponed) in hoisted {
            let options = ScopeOptions {
                postponed_annotations: *postponed,
            };
            bodies
                .entry(name.clone())
                .or_default()
                .push(Body::new(*at, stmt, options));
        }
        for (code_cell, cell) in analysis.cells.iter().enumerate() {
            for (statement, stmt) in cell.running_statements().iter().enumerate() {
                let options = ScopeOptions {
                    postponed_annotations: analysis.postponed_annotations(StatementRef {
                        code_cell,
                        statement,
                    }),
                };
                let name = match stmt {
                    Stmt::FunctionDef(def) => &def.name.id,
                    Stmt::ClassDef(class) => &class.name.id,
                    Stmt::Assign(assign) if assign.value.is_lambda_expr() => {
                        match assign.targets.as_slice() {
                            [Expr::Name(name)] => &name.id,
                            _ => continue,
                        }
                    }
                    _ => continue,
                };
                let at = StatementRef {
                    code_cell,
                    statement,
                };
                bodies
                    .entry(name.clone())
                    .or_default()
                    .push(Body::new(at, stmt, options));
            }
        }
        for versions in bodies.values_mut() {
            versions.sort_by_key(|body| body.at);
        }
        Execution {
            analysis,
            bodies,
            closures: RefCell::default(),
            unstable: RefCell::default(),
            runs: std::cell::OnceCell::new(),
        }
    }

    /// What every top-level statement of a cell that runs runs, in notebook order.
    pub(super) fn runs(&self) -> &[(StatementRef, Run)] {
        self.runs.get_or_init(|| {
            let mut runs = Vec::new();
            for (code_cell, cell) in self.analysis.cells.iter().enumerate() {
                for statement in 0..cell.running_statements().len() {
                    let at = StatementRef {
                        code_cell,
                        statement,
                    };
                    runs.push((at, self.run(at)));
                }
            }
            runs
        })
    }

    /// The definitions of `name` that may be the one bound when code at `at` runs: every one
    /// before `at` (a later one may have raised while being defined, leaving an earlier one
    /// bound), or every one when `at` is `None` (no time is known).
    fn versions(&self, name: &Name, at: Option<StatementRef>) -> &[Body] {
        let bodies = self.bodies.get(name).map_or(&[][..], Vec::as_slice);
        match at {
            None => bodies,
            Some(at) => &bodies[..bodies.partition_point(|body| body.at < at)],
        }
    }

    /// Whether running `name` may reach a name the notebook defines more than once.
    fn reaches_redefinition(&self, name: &Name) -> bool {
        if let Some(&unstable) = self.unstable.borrow().get(name) {
            return unstable;
        }
        let mut seen = BTreeSet::new();
        let mut queue = vec![name.clone()];
        let mut unstable = false;
        while let Some(next) = queue.pop() {
            if !seen.insert(next.clone()) {
                continue;
            }
            let bodies = self.versions(&next, None);
            unstable |= bodies.len() > 1;
            for body in bodies {
                for read in body.call.reads.iter().chain(&body.hooks.reads) {
                    if self.is_definition(&read.name) {
                        queue.push(read.name.clone());
                    }
                }
                queue.extend(body.bases.iter().cloned());
            }
        }
        self.unstable.borrow_mut().insert(name.clone(), unstable);
        unstable
    }

    /// Whether `name` is bound by a notebook `def` or `class` that runs.
    pub(super) fn is_definition(&self, name: &str) -> bool {
        self.bodies.contains_key(name)
    }

    /// What running the top-level statement at `at` reads and lists.
    fn run(&self, at: StatementRef) -> Run {
        let reads = self.analysis.reads(at);
        let mut seen: FxHashSet<Use> = FxHashSet::default();
        let mut uses = Vec::new();
        let magic = self.magic(at);
        let mut listing = listing_of(reads, ReadTime::Now, self.analysis).or_else(|| {
            magic
                .filter(|name| matches!(*name, "who" | "whos" | "who_ls"))
                .map(|name| format!("%{name}"))
        });
        let history_magic = magic.is_some_and(|name| {
            matches!(
                name,
                "history" | "hist" | "recall" | "rerun" | "rep" | "macro" | "save" | "pastebin"
            )
        });
        // Code it runs from a string: `eval("RATE")`, `%time f(X)`.
        let strings = self.analysis.code_in_strings(at);
        if let Some(call) = strings.opaque
            && listing.is_none()
        {
            listing = Some(format!("{call}()"));
        }
        let inner_reads = strings.reads.iter().flat_map(|reads| reads.reads.iter());
        for read in reads
            .reads
            .iter()
            .chain(inner_reads)
            .filter(|r| r.when == ReadTime::Now)
        {
            let used = (read.name.clone(), read.mutation);
            if seen.insert(used.clone()) {
                uses.push(used);
            }
            if self.is_definition(&read.name) {
                for used in self.closure(&read.name, at).iter() {
                    if seen.insert(used.clone()) {
                        uses.push(used.clone());
                    }
                }
                if listing.is_none() {
                    listing = self.lists_in(&read.name);
                }
            }
        }
        let reads_history = history_magic || uses.iter().any(|(name, _)| is_numbered_history(name));
        Run {
            uses,
            listing,
            reads_history,
        }
    }

    /// What running a notebook function or class named `name` from code at `at` may read: the
    /// bodies of the versions bound then, and the bodies of what they name, transitively, with
    /// inner functions included.
    fn closure(&self, name: &Name, at: StatementRef) -> Rc<Vec<Use>> {
        let stable = !self.reaches_redefinition(name);
        if stable && let Some(closure) = self.closures.borrow().get(name) {
            return Rc::clone(closure);
        }
        let when = (!stable).then_some(at);
        let mut seen_names: BTreeSet<Name> = BTreeSet::new();
        let mut seen: FxHashSet<Use> = FxHashSet::default();
        let mut uses = Vec::new();
        let mut queue = vec![name.clone()];
        while let Some(next) = queue.pop() {
            if !seen_names.insert(next.clone()) {
                continue;
            }
            for body in self.versions(&next, when) {
                for read in body.call.reads.iter().chain(&body.hooks.reads) {
                    let used = (read.name.clone(), read.mutation);
                    if seen.insert(used.clone()) {
                        uses.push(used);
                    }
                    if self.is_definition(&read.name) {
                        queue.push(read.name.clone());
                    }
                }
                queue.extend(body.bases.iter().cloned());
            }
        }
        let closure = Rc::new(uses);
        if stable {
            self.closures
                .borrow_mut()
                .insert(name.clone(), Rc::clone(&closure));
        }
        closure
    }

    /// Whether calling the notebook function `name` lists the notebook's names, transitively.
    fn lists_in(&self, name: &Name) -> Option<String> {
        let mut seen = BTreeSet::new();
        let mut queue = vec![name.clone()];
        while let Some(next) = queue.pop() {
            if !seen.insert(next.clone()) {
                continue;
            }
            for body in self.bodies.get(&next).into_iter().flatten() {
                if let Some(listing) = listing_of(&body.call, ReadTime::Deferred, self.analysis) {
                    return Some(listing);
                }
                for read in &body.call.reads {
                    if self.is_definition(&read.name) {
                        queue.push(read.name.clone());
                    }
                }
            }
        }
        None
    }

    /// The name of the line magic the statement at `at` runs, if it is one.
    fn magic(&self, at: StatementRef) -> Option<&'a str> {
        let cell = &self.analysis.cells[at.code_cell];
        let value = match cell.notebook_statements().get(at.statement)? {
            Stmt::IpyEscapeCommand(command) if command.kind == IpyEscapeKind::Magic => {
                &command.value
            }
            Stmt::Expr(ruff_python_ast::StmtExpr { value, .. })
            | Stmt::Assign(ruff_python_ast::StmtAssign { value, .. }) => match &**value {
                Expr::IpyEscapeCommand(command) if command.kind == IpyEscapeKind::Magic => {
                    &command.value
                }
                _ => return None,
            },
            _ => return None,
        };
        value.split_whitespace().next()
    }

    /// What defining the statement at `at` runs: its own definition-time reads and calls, and
    /// those of the bodies of the notebook functions it calls then, transitively. A function
    /// runs when it is called, applied as a decorator or handed to a call (which may call
    /// it); a name only read (an annotation, a default value that is the function itself)
    /// does not run it. A base class runs only its `__init_subclass__` hooks.
    pub(super) fn definition_time(&self, at: StatementRef, stmt: &Stmt) -> DefinitionTime {
        let reads = self.analysis.reads(at);
        let bases: Vec<TextRange> = match stmt {
            Stmt::ClassDef(class) => class
                .arguments
                .iter()
                .flat_map(|arguments| arguments.args.iter())
                .map(Ranged::range)
                .collect(),
            _ => Vec::new(),
        };
        let mut time = DefinitionTime::default();
        // (name, run as a base class only, the notebook function it is reached through)
        let mut queue: Vec<(Name, bool, String)> = Vec::new();
        let called = called_names(stmt, reads);
        for read in reads.reads.iter().filter(|r| r.when == ReadTime::Now) {
            time.reads.push((read.name.clone(), None, read.mutation));
            let as_base = bases.iter().any(|base| base.contains_range(read.range));
            let runs = as_base || read.mutation.is_some() || called.contains(&read.name);
            if runs && self.is_definition(&read.name) {
                let via = if as_base {
                    format!("{}.__init_subclass__", read.name)
                } else {
                    read.name.to_string()
                };
                queue.push((read.name.clone(), as_base, via));
            }
        }
        let now = |call: &&Call| call.when == ReadTime::Now;
        time.calls.extend(
            reads
                .calls
                .iter()
                .filter(now)
                .map(|call| (call.clone(), None)),
        );
        let mut visited: BTreeSet<(Name, bool)> = BTreeSet::new();
        while let Some((name, as_base, via)) = queue.pop() {
            if !visited.insert((name.clone(), as_base)) {
                continue;
            }
            for body in self.versions(&name, Some(at)) {
                let ran = if as_base { &body.hooks } else { &body.call };
                let called: FxHashSet<&Name> = ran
                    .calls
                    .iter()
                    .filter(|call| call.when == ReadTime::Now && call.path.len() == 1)
                    .map(|call| &call.path[0])
                    .collect();
                for read in ran.reads.iter().filter(|r| r.when == ReadTime::Now) {
                    time.reads
                        .push((read.name.clone(), Some(via.clone()), read.mutation));
                    let runs = read.mutation.is_some() || called.contains(&read.name);
                    if runs && self.is_definition(&read.name) {
                        queue.push((read.name.clone(), false, via.clone()));
                    }
                }
                time.calls.extend(
                    ran.calls
                        .iter()
                        .filter(now)
                        .map(|call| (call.clone(), Some(via.clone()))),
                );
                if as_base {
                    // The hooks of a base's own bases run too.
                    for base in &body.bases {
                        queue.push((base.clone(), true, via.clone()));
                    }
                }
            }
        }
        time
    }
}

/// The names a statement calls while it runs: callees of its calls (at the time it runs), and
/// the decorators it applies.
fn called_names(stmt: &Stmt, reads: &ModuleReads) -> FxHashSet<Name> {
    let mut called: FxHashSet<Name> = reads
        .calls
        .iter()
        .filter(|call| call.when == ReadTime::Now && call.path.len() == 1)
        .map(|call| call.path[0].clone())
        .collect();
    let decorators = match stmt {
        Stmt::FunctionDef(def) => &def.decorator_list,
        Stmt::ClassDef(class) => &class.decorator_list,
        _ => return called,
    };
    for decorator in decorators {
        if let Expr::Name(name) = &decorator.expression {
            called.insert(name.id.clone());
        }
    }
    if let Stmt::ClassDef(class) = stmt {
        // A metaclass runs when the class is defined.
        for keyword in class.arguments.iter().flat_map(|a| a.keywords.iter()) {
            if let Expr::Name(name) = &keyword.value
                && keyword
                    .arg
                    .as_ref()
                    .is_some_and(|arg| arg.as_str() == "metaclass")
            {
                called.insert(name.id.clone());
            }
        }
    }
    called
}

impl Body {
    fn new(at: StatementRef, stmt: &Stmt, options: ScopeOptions) -> Body {
        let call = scope::call_reads(stmt, options);
        let Stmt::ClassDef(class) = stmt else {
            return Body {
                at,
                call,
                hooks: ModuleReads::default(),
                bases: Vec::new(),
            };
        };
        let mut hooks = ModuleReads::default();
        for item in &class.body {
            if let Stmt::FunctionDef(method) = item
                && method.name.as_str() == "__init_subclass__"
            {
                let reads = scope::call_reads(item, options);
                hooks.reads.extend(reads.reads);
                hooks.calls.extend(reads.calls);
                hooks.dynamic.extend(reads.dynamic);
            }
        }
        let bases = class
            .arguments
            .iter()
            .flat_map(|arguments| arguments.args.iter())
            .filter_map(|base| match base {
                Expr::Name(name) => Some(name.id.clone()),
                _ => None,
            })
            .collect();
        Body {
            at,
            call,
            hooks,
            bases,
        }
    }
}

/// What in these reads, up to `until` (`Now`: what runs now; `Deferred`: inner functions
/// too), lists the notebook's names: `globals()`, `locals()`, `vars()`, `dir()`, or frame
/// access (`inspect.currentframe()`, `sys._getframe()`).
fn listing_of(reads: &ModuleReads, until: ReadTime, analysis: &Analysis) -> Option<String> {
    let listing = reads
        .dynamic
        .iter()
        .find(|d| d.when <= until && !matches!(d.name.as_str(), "eval" | "exec"));
    if let Some(dynamic) = listing {
        return Some(format!("{}()", dynamic.name));
    }
    reads
        .calls
        .iter()
        .filter(|call| call.when <= until)
        .find_map(|call| frame_access(call, analysis))
}

/// `inspect.currentframe`, `sys._getframe`, ...: code that reads its caller's namespace, as
/// `globals()` does.
pub(super) fn frame_access(call: &Call, analysis: &Analysis) -> Option<String> {
    // Every call is asked about: rule out by its last name, before resolving its root, those
    // whose dotted path cannot end like one of these.
    if let [_, .., last] = call.path.as_slice()
        && !matches!(
            last.as_str(),
            "currentframe" | "stack" | "getouterframes" | "_getframe"
        )
    {
        return None;
    }
    let path = analysis.names.qualified(&call.path)?;
    matches!(
        path.as_str(),
        "inspect.currentframe" | "inspect.stack" | "inspect.getouterframes" | "sys._getframe"
    )
    .then(|| format!("{path}()"))
}
