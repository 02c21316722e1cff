//! Scope analysis of one top-level notebook statement.
//!
//! To move a definition out of a notebook safely we must know which module-level (global)
//! names it needs, *when* it needs them, and which module-level names it binds. This stage
//! answers exactly that for a single already-parsed top-level statement:
//!
//! - [`module_reads`]: every load of a name that resolves to module scope (following Python's
//!   real rules for function, class, comprehension, lambda and PEP 695 annotation scopes), the
//!   names nested scopes declare `global`, and calls that access namespaces dynamically
//!   (`eval`, `globals()`, ...).
//! - [`module_bindings`]: every module-level name the statement binds.
//!
//! It does not decide whether a read is satisfied by a builtin, another cell or nothing at all
//! (the caller owns the notebook-wide view; [`is_builtin`] helps), does no I/O, and never
//! fails: a statement recovered from a syntax error is analysed as far as its tree goes.
//!
//! `x += 1` counts as a read of `x` (it loads before storing), although CPython's `symtable`
//! only marks it as assigned.
//!
//! Known simplifications:
//! - A name bound anywhere in a class body is treated as class-local for every read in that
//!   body, even one that runs before the binding (Python would fall back to globals there).
//! - Generator expressions are treated like the other comprehensions: their reads take the
//!   time of the enclosing code, although Python evaluates them lazily on iteration.
//! - String annotations are parsed, and their names reported as [`ReadTime::Annotation`]
//!   reads. Strings count as forward references only in annotation positions (parameter and
//!   return annotations, annotated assignments, type-parameter bounds and defaults, `type`
//!   alias values), never inside `Literal[...]` or the metadata of `Annotated[...]`; strings
//!   passed to `TypeVar(bound=...)` or `cast(...)` are not read.
//! - `postponed_annotations` is the caller's statement that annotations are not evaluated when
//!   the definition runs: `from __future__ import annotations`, or Python 3.14's lazy
//!   annotations (PEP 649) if the caller targets it.

use ruff_python_ast::name::Name;
use ruff_python_ast::statement_visitor::{self, StatementVisitor};
use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{
    self as ast, Comprehension, ExceptHandler, Expr, ExprContext, Mod, Parameters, Pattern, Stmt,
    TypeParam, TypeParams,
};
use ruff_python_parser::{Mode, ParseOptions};
use ruff_text_size::{Ranged, TextRange, TextSize};
use rustc_hash::FxHashSet;

/// Python minor version whose builtins [`is_builtin`] knows (3.14).
const BUILTINS_PYTHON_MINOR: u8 = 14;

/// When a module-level read happens relative to running the top-level statement.
///
/// The order is meaningful: a later variant is needed later (or never), so when a read sits
/// in several contexts at once (an annotation inside a function body) the maximum wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReadTime {
    /// Evaluated while the statement runs: top-level expressions, decorators, default values,
    /// base classes and class keywords, class bodies, and signature annotations that are not
    /// postponed.
    Now,
    /// Evaluated later, when something defined by the statement is called or inspected:
    /// function and lambda bodies (and everything nested in them), `type` alias values and
    /// PEP 695 type-parameter bounds and defaults (both evaluated lazily on access).
    Deferred,
    /// Only in an annotation that running code never evaluates: postponed annotations, string
    /// annotations, and annotations of local variables in function bodies.
    Annotation,
}

/// Options that change how a statement is analysed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScopeOptions {
    /// Annotations are not evaluated at definition time (`from __future__ import annotations`
    /// is in effect), so their reads are [`ReadTime::Annotation`].
    pub postponed_annotations: bool,
}

/// One load of a module-level name (or one `global` declaration, in
/// [`ModuleReads::global_writes`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Read {
    /// The name read.
    pub name: Name,
    /// Where the name is in the cell. A name found inside a string annotation that contains
    /// escape sequences or is implicitly concatenated gets the whole string's range.
    pub range: TextRange,
    /// When the read happens.
    pub when: ReadTime,
    /// How the read may change the object it finds, if it may.
    pub mutation: Option<Mutation>,
}

/// How a read of a name may change the object the name is bound to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mutation {
    /// The name is the root of an assignment or deletion target: `x.a = 1`, `x[0] = 1`,
    /// `del x.a`, `x.a += 1`.
    Store,
    /// The name is the receiver of a method call (`x.append(1)`) or an argument of a call
    /// that may keep or change it (`shuffle(x)`); calls of builtins that only look at their
    /// arguments (`len(x)`, `print(x)`) do not count.
    Call,
}

/// A call of a name that resolves to module scope, or of an attribute of one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    /// The callee as a dotted path from its root name: `["random", "gauss"]` for
    /// `random.gauss(0, 1)`, `["open"]` for `open(path)`.
    pub path: Vec<Name>,
    /// The whole call expression.
    pub range: TextRange,
    /// When the call happens.
    pub when: ReadTime,
}

/// A call that reads or writes namespaces by name at runtime, defeating static analysis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DynamicUse {
    /// The builtin called: `eval`, `exec`, `globals`, `locals`, `vars` or `dir`.
    pub name: Name,
    /// The whole call expression.
    pub range: TextRange,
    /// When the call happens.
    pub when: ReadTime,
}

/// What executing one top-level statement reads from, and does to, module scope.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModuleReads {
    /// Every load of a name that resolves to module scope, in source order. Duplicates are
    /// kept, each with its own range. A read of a name the same statement binds earlier at
    /// module level is still a module read.
    pub reads: Vec<Read>,
    /// Names declared `global` in a nested function or class body, with the range of the
    /// name in the `global` statement, in source order. Moving such code to another module
    /// changes which namespace it mutates.
    pub global_writes: Vec<Read>,
    /// Calls to `eval`/`exec` (with any arguments) and to `globals()`, `locals()`, `vars()`
    /// and `dir()` (the last two only without arguments) whose callee resolves to module
    /// scope, that is to the builtin unless the notebook rebinds it. In source order.
    pub dynamic: Vec<DynamicUse>,
    /// Calls of module-level names and of their attributes, in source order.
    pub calls: Vec<Call>,
}

/// How a module-level name is bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BindingKind {
    /// `import a.b` (binds `a`) or `import a.b as c` (binds `c`).
    Import,
    /// `from m import x` or `from m import x as y`.
    FromImport,
    /// `from m import *`: binds unknown names; reported once with the name `*`.
    StarImport,
    /// `def` or `async def`.
    FunctionDef,
    /// `class`.
    ClassDef,
    /// `x = ...`, including each name of an unpacking target.
    Assign,
    /// `x: T = ...`. An annotation without a value binds nothing at module level.
    AnnAssign,
    /// `x += ...`.
    AugAssign,
    /// `for x in ...` (also `async for`).
    For,
    /// `with ... as x` (also `async with`).
    With,
    /// `except ... as x` (also `except*`).
    Except,
    /// `del x`: removes the binding, but the name is the statement's business.
    Del,
    /// `(x := ...)`, also inside a module-level comprehension.
    Walrus,
    /// A capture in a `match` case: `case [x, *rest]`, `case {"k": v, **rest}`, `case _ as x`.
    Match,
    /// `type X = ...`.
    TypeAlias,
    /// Bound in a nested function or class body that declares the name `global`.
    Global,
    /// A store the analysis reached by an unexpected route (kept rather than dropped).
    Other,
}

/// One binding of a module-level name by a top-level statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    /// The name bound (`*` for a star import).
    pub name: String,
    /// The binding site: the name token, or the whole alias for imports.
    pub range: TextRange,
    /// How it is bound.
    pub kind: BindingKind,
}

/// What executing the top-level statement `stmt` reads from and does to module scope.
#[must_use]
pub fn module_reads(stmt: &Stmt, opts: ScopeOptions) -> ModuleReads {
    let mut resolver = Resolver::new(opts);
    resolver.visit_stmt(stmt);
    resolver.finish().0
}

/// What calling what the top-level statement `stmt` defines reads from module scope: for a
/// function, its body; for a class, the bodies of its methods (what instantiating and using
/// it may run); for `name = lambda ...`, the lambda's body. Code that runs during the call is [`ReadTime::Now`]; functions and lambdas
/// defined inside are [`ReadTime::Deferred`]. Empty for other statements.
#[must_use]
pub fn call_reads(stmt: &Stmt, opts: ScopeOptions) -> ModuleReads {
    let mut resolver = Resolver::new(opts);
    match stmt {
        Stmt::FunctionDef(def) => resolver.called_function(def),
        Stmt::ClassDef(class) => {
            // Methods do not see the class body's names: the class scope is there to be
            // skipped.
            let mut binder = Binder::new(false);
            binder.visit_body(&class.body);
            resolver.push_scope(ScopeKind::Class, binder, []);
            for item in &class.body {
                if let Stmt::FunctionDef(method) = item {
                    resolver.called_function(method);
                }
            }
            resolver.scopes.pop();
        }
        Stmt::Assign(assign) => {
            if let ([Expr::Name(_)], Expr::Lambda(lambda)) =
                (assign.targets.as_slice(), &*assign.value)
            {
                resolver.called_lambda(lambda);
            }
        }
        _ => {}
    }
    resolver.finish().0
}

/// The module-level names the top-level statement `stmt` binds, in source order.
///
/// Compound statements (`if`, `for`, `while`, `with`, `try`, `match`) are entered because
/// their bodies run at module level; function, class, lambda and comprehension scopes are not,
/// except for walrus targets in module-level comprehensions and names a nested scope declares
/// `global` and binds ([`BindingKind::Global`]).
#[must_use]
pub fn module_bindings(stmt: &Stmt) -> Vec<Binding> {
    let mut binder = Binder::new(false);
    binder.visit_stmt(stmt);
    let mut bindings = binder.bindings;
    // Resolving the whole statement costs as much as `module_reads`, and only finds bindings
    // made under a `global` declaration, which few statements have.
    if declares_global(stmt) {
        let mut resolver = Resolver::new(ScopeOptions::default());
        resolver.visit_stmt(stmt);
        bindings.extend(resolver.finish().1);
    }
    bindings.sort_by_key(|binding| binding.range.start());
    bindings
}

/// Whether a `global` statement appears anywhere in `stmt` (statements never sit inside
/// expressions, so the statements are all there is to look at).
fn declares_global(stmt: &Stmt) -> bool {
    struct Finder(bool);
    impl<'a> StatementVisitor<'a> for Finder {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            match stmt {
                Stmt::Global(_) => self.0 = true,
                _ if !self.0 => statement_visitor::walk_stmt(self, stmt),
                _ => {}
            }
        }
    }
    let mut finder = Finder(false);
    finder.visit_stmt(stmt);
    finder.0
}

/// Whether `name` is a plain Python builtin (`len`, `ValueError`, `ExceptionGroup`, ...).
///
/// IPython's extras (`display`, `get_ipython`, `In`, `Out`, ...) are deliberately not included.
/// The module attributes every module has (`__name__`, `__doc__`, `__spec__`, ...) count as
/// builtins because they always resolve, but `__name__` has a different value once code moves
/// out of `__main__`; `__file__` does not count (a notebook has none).
#[must_use]
pub fn is_builtin(name: &str) -> bool {
    ruff_python_stdlib::builtins::is_python_builtin(name, BUILTINS_PYTHON_MINOR, false)
}

/// `a.b.c` as `[a, b, c]`, each name as `part` makes it; `None` when the chain does not start
/// at a name. Every call and callee is asked for it: the vector is allocated once, at its
/// length.
pub(crate) fn dotted_path<'a, T>(expr: &'a Expr, part: impl Fn(&'a Name) -> T) -> Option<Vec<T>> {
    fn collect<'a, T>(
        expr: &'a Expr,
        part: &impl Fn(&'a Name) -> T,
        depth: usize,
    ) -> Option<Vec<T>> {
        match expr {
            Expr::Attribute(attribute) => {
                let mut path = collect(&attribute.value, part, depth + 1)?;
                path.push(part(&attribute.attr.id));
                Some(path)
            }
            Expr::Name(name) => {
                let mut path = Vec::with_capacity(depth + 1);
                path.push(part(&name.id));
                Some(path)
            }
            _ => None,
        }
    }
    collect(expr, &part, 0)
}

/// Builtins that only look at their arguments: passing an object to them cannot change it.
fn is_observing_builtin(name: &str) -> bool {
    matches!(
        name,
        "len"
            | "print"
            | "repr"
            | "str"
            | "bool"
            | "int"
            | "float"
            | "complex"
            | "abs"
            | "round"
            | "hash"
            | "id"
            | "type"
            | "isinstance"
            | "issubclass"
            | "callable"
            | "hasattr"
            | "getattr"
            | "sorted"
            | "list"
            | "tuple"
            | "set"
            | "frozenset"
            | "dict"
            | "sum"
            | "min"
            | "max"
            | "any"
            | "all"
            | "enumerate"
            | "zip"
            | "reversed"
            | "format"
            | "ascii"
            | "bin"
            | "hex"
            | "oct"
            | "ord"
            | "chr"
            | "divmod"
            | "pow"
            | "range"
            | "display"
    )
}

/// Collects the names one scope binds, without entering nested scopes.
///
/// Running it over a whole scope before resolving reads is what makes a name local everywhere
/// in a function even when read before its assignment, as Python's compiler does.
struct Binder {
    /// Whether `x: T` without a value binds `x`. In a function it does (the compiler makes `x`
    /// local); in a class or module body nothing is stored, so lookups fall through.
    bare_annotation_binds: bool,
    bindings: Vec<Binding>,
    globals: FxHashSet<Name>,
    nonlocals: FxHashSet<Name>,
}

impl Binder {
    fn new(bare_annotation_binds: bool) -> Self {
        Self {
            bare_annotation_binds,
            bindings: Vec::new(),
            globals: FxHashSet::default(),
            nonlocals: FxHashSet::default(),
        }
    }

    fn bind(&mut self, name: &str, range: TextRange, kind: BindingKind) {
        self.bindings.push(Binding {
            name: name.to_owned(),
            range,
            kind,
        });
    }

    /// Binds the names of an assignment-like target; attribute and subscript targets bind
    /// nothing, but a walrus inside them still binds here.
    fn bind_target(&mut self, target: &Expr, kind: BindingKind) {
        match target {
            Expr::Name(name) => self.bind(&name.id, name.range, kind),
            Expr::Tuple(ast::ExprTuple { elts, .. }) | Expr::List(ast::ExprList { elts, .. }) => {
                for elt in elts {
                    self.bind_target(elt, kind);
                }
            }
            Expr::Starred(starred) => self.bind_target(&starred.value, kind),
            other => self.visit_expr(other),
        }
    }

    /// The parts of a comprehension that can hold a walrus, which binds in this scope; the
    /// comprehension's own targets belong to the comprehension scope.
    fn visit_comprehension_parts<'a>(
        &mut self,
        generators: &'a [Comprehension],
        results: impl IntoIterator<Item = &'a Expr>,
    ) {
        for generator in generators {
            self.visit_expr(&generator.iter);
            for condition in &generator.ifs {
                self.visit_expr(condition);
            }
        }
        for result in results {
            self.visit_expr(result);
        }
    }
}

impl<'a> Visitor<'a> for Binder {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::FunctionDef(def) => {
                self.bind(&def.name.id, def.name.range, BindingKind::FunctionDef);
                // Decorators, defaults and annotations run in this scope (a walrus in them
                // binds here); the body is a scope of its own.
                for decorator in &def.decorator_list {
                    self.visit_decorator(decorator);
                }
                self.visit_parameters(&def.parameters);
                if let Some(returns) = &def.returns {
                    self.visit_expr(returns);
                }
            }
            Stmt::ClassDef(class) => {
                self.bind(&class.name.id, class.name.range, BindingKind::ClassDef);
                for decorator in &class.decorator_list {
                    self.visit_decorator(decorator);
                }
                if let Some(arguments) = &class.arguments {
                    self.visit_arguments(arguments);
                }
            }
            // The value and type parameters live in an annotation scope of their own.
            Stmt::TypeAlias(alias) => self.bind_target(&alias.name, BindingKind::TypeAlias),
            Stmt::Assign(assign) => {
                self.visit_expr(&assign.value);
                for target in &assign.targets {
                    self.bind_target(target, BindingKind::Assign);
                }
            }
            Stmt::AugAssign(aug) => {
                self.visit_expr(&aug.value);
                self.bind_target(&aug.target, BindingKind::AugAssign);
            }
            Stmt::AnnAssign(ann) => {
                if let Some(value) = &ann.value {
                    self.visit_expr(value);
                }
                if ann.value.is_some() || self.bare_annotation_binds {
                    self.bind_target(&ann.target, BindingKind::AnnAssign);
                } else if !ann.target.is_name_expr() {
                    // `obj.attr: T` binds nothing, but a walrus in `obj` would.
                    self.visit_expr(&ann.target);
                }
            }
            Stmt::For(for_stmt) => {
                self.visit_expr(&for_stmt.iter);
                self.bind_target(&for_stmt.target, BindingKind::For);
                self.visit_body(&for_stmt.body);
                self.visit_body(&for_stmt.orelse);
            }
            Stmt::With(with) => {
                for item in &with.items {
                    self.visit_expr(&item.context_expr);
                    if let Some(vars) = &item.optional_vars {
                        self.bind_target(vars, BindingKind::With);
                    }
                }
                self.visit_body(&with.body);
            }
            Stmt::Delete(delete) => {
                for target in &delete.targets {
                    self.bind_target(target, BindingKind::Del);
                }
            }
            Stmt::Import(import) => {
                for alias in &import.names {
                    match &alias.asname {
                        Some(asname) => self.bind(&asname.id, asname.range, BindingKind::Import),
                        None => {
                            // `import a.b.c` binds only the top-level package `a`.
                            let top = alias.name.as_str().split('.').next().unwrap_or_default();
                            self.bind(top, alias.range, BindingKind::Import);
                        }
                    }
                }
            }
            Stmt::ImportFrom(import) => {
                for alias in &import.names {
                    if let Some(asname) = &alias.asname {
                        self.bind(&asname.id, asname.range, BindingKind::FromImport);
                    } else if alias.name.as_str() == "*" {
                        self.bind(&alias.name.id, alias.range, BindingKind::StarImport);
                    } else {
                        self.bind(&alias.name.id, alias.name.range, BindingKind::FromImport);
                    }
                }
            }
            Stmt::Global(global) => {
                self.globals
                    .extend(global.names.iter().map(|name| name.id.clone()));
            }
            Stmt::Nonlocal(nonlocal) => {
                self.nonlocals
                    .extend(nonlocal.names.iter().map(|name| name.id.clone()));
            }
            _ => visitor::walk_stmt(self, stmt),
        }
    }

    fn visit_except_handler(&mut self, handler: &'a ExceptHandler) {
        let ExceptHandler::ExceptHandler(inner) = handler;
        if let Some(name) = &inner.name {
            self.bind(&name.id, name.range, BindingKind::Except);
        }
        visitor::walk_except_handler(self, handler);
    }

    fn visit_pattern(&mut self, pattern: &'a Pattern) {
        let capture = match pattern {
            Pattern::MatchAs(ast::PatternMatchAs { name, .. })
            | Pattern::MatchStar(ast::PatternMatchStar { name, .. }) => name.as_ref(),
            Pattern::MatchMapping(ast::PatternMatchMapping { rest, .. }) => rest.as_ref(),
            _ => None,
        };
        if let Some(name) = capture {
            self.bind(&name.id, name.range, BindingKind::Match);
        }
        visitor::walk_pattern(self, pattern);
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::Named(named) => {
                self.visit_expr(&named.value);
                self.bind_target(&named.target, BindingKind::Walrus);
            }
            Expr::Lambda(lambda) => {
                // Only the defaults run here; the body is the lambda's own scope.
                if let Some(parameters) = &lambda.parameters {
                    for default in parameters
                        .iter_non_variadic_params()
                        .filter_map(|param| param.default())
                    {
                        self.visit_expr(default);
                    }
                }
            }
            Expr::ListComp(comp) => self.visit_comprehension_parts(&comp.generators, [&*comp.elt]),
            Expr::SetComp(comp) => self.visit_comprehension_parts(&comp.generators, [&*comp.elt]),
            Expr::Generator(comp) => {
                self.visit_comprehension_parts(&comp.generators, [&*comp.elt]);
            }
            Expr::DictComp(comp) => self.visit_comprehension_parts(
                &comp.generators,
                comp.key.as_deref().into_iter().chain([&*comp.value]),
            ),
            // Every expected store goes through `bind_target`; keep any other rather than lose it.
            Expr::Name(name) if matches!(name.ctx, ExprContext::Store | ExprContext::Del) => {
                self.bind(&name.id, name.range, BindingKind::Other);
            }
            _ => visitor::walk_expr(self, expr),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ScopeKind {
    Function,
    Class,
    Comprehension,
    /// A PEP 695 annotation scope: type parameters, and the lazily evaluated value of a `type`
    /// alias. Unlike a function it can see the names of a directly enclosing class.
    Annotation,
}

/// One nested scope; module scope is the bottom of the stack and is not represented.
struct Scope {
    kind: ScopeKind,
    bound: FxHashSet<Name>,
    globals: FxHashSet<Name>,
    nonlocals: FxHashSet<Name>,
}

/// How ranges found while visiting are translated to positions in the cell: a string
/// annotation is parsed on its own, so its ranges start at 0.
#[derive(Clone, Copy, Debug)]
enum RangeMap {
    Identity,
    /// Add this offset (the string's content start); fall back to the string's range.
    Shift(TextSize, TextRange),
    /// Every range becomes the string's range (its text differs from the source text).
    Fixed(TextRange),
}

impl RangeMap {
    fn apply(self, range: TextRange) -> TextRange {
        match self {
            Self::Identity => range,
            Self::Shift(offset, fallback) => range.checked_add(offset).unwrap_or(fallback),
            Self::Fixed(fixed) => fixed,
        }
    }
}

/// The body of a `def` or of a `lambda`.
#[derive(Clone, Copy)]
enum FunctionBody<'b> {
    Block(&'b [Stmt]),
    Expression(&'b Expr),
}

/// Walks a statement keeping a stack of scopes and resolves every name load.
struct Resolver {
    opts: ScopeOptions,
    scopes: Vec<Scope>,
    /// When the code being visited runs.
    when: ReadTime,
    /// Inside an annotation, where string literals are forward references.
    in_annotation: bool,
    range_map: RangeMap,
    out: ModuleReads,
    /// Bindings of names declared `global` by the nested scope that binds them.
    global_bindings: Vec<Binding>,
    /// How the name at the root of the expression being visited may be changed by it.
    mutation: Option<Mutation>,
}

impl Resolver {
    fn new(opts: ScopeOptions) -> Self {
        Self {
            opts,
            scopes: Vec::new(),
            when: ReadTime::Now,
            in_annotation: false,
            range_map: RangeMap::Identity,
            out: ModuleReads::default(),
            global_bindings: Vec::new(),
            mutation: None,
        }
    }

    fn finish(mut self) -> (ModuleReads, Vec<Binding>) {
        // The visitor goes in evaluation order (a value before its targets); report in source
        // order. The sorts are stable, so reads sharing a string annotation's range keep theirs.
        self.out.reads.sort_by_key(|read| read.range.start());
        self.out
            .global_writes
            .sort_by_key(|read| read.range.start());
        self.out
            .dynamic
            .sort_by_key(|dynamic| dynamic.range.start());
        self.out.calls.sort_by_key(|call| call.range.start());
        self.global_bindings
            .sort_by_key(|binding| binding.range.start());
        (self.out, self.global_bindings)
    }

    /// Makes the code visited from now on run no earlier than `when`; returns the time to
    /// restore afterwards.
    fn defer_to(&mut self, when: ReadTime) -> ReadTime {
        let saved = self.when;
        self.when = self.when.max(when);
        saved
    }

    fn push_scope(
        &mut self,
        kind: ScopeKind,
        binder: Binder,
        extra: impl IntoIterator<Item = Name>,
    ) {
        let Binder {
            bindings,
            globals,
            nonlocals,
            ..
        } = binder;
        self.global_bindings.extend(
            bindings
                .iter()
                .filter(|binding| globals.contains(binding.name.as_str()))
                .map(|binding| Binding {
                    kind: BindingKind::Global,
                    ..binding.clone()
                }),
        );
        let mut bound: FxHashSet<Name> = bindings
            .into_iter()
            .map(|binding| Name::from(binding.name))
            .collect();
        bound.extend(extra);
        self.scopes.push(Scope {
            kind,
            bound,
            globals,
            nonlocals,
        });
    }

    /// Whether a load of `name` at the current position finds the module namespace.
    fn resolves_to_module(&self, name: &str) -> bool {
        // A class body is visible to itself and to annotation scopes directly inside it, but
        // not to functions or comprehensions nested in it, nor to nested classes.
        let mut class_visible = true;
        for scope in self.scopes.iter().rev() {
            match scope.kind {
                ScopeKind::Class if !class_visible => {
                    // Methods get an implicit `__class__` cell (used by zero-argument `super()`).
                    if name == "__class__" {
                        return false;
                    }
                }
                ScopeKind::Function | ScopeKind::Class => {
                    if scope.globals.contains(name) {
                        return true;
                    }
                    if !scope.nonlocals.contains(name) && scope.bound.contains(name) {
                        return false;
                    }
                    class_visible = false;
                }
                ScopeKind::Comprehension => {
                    if scope.bound.contains(name) {
                        return false;
                    }
                    class_visible = false;
                }
                ScopeKind::Annotation => {
                    if scope.bound.contains(name) {
                        return false;
                    }
                }
            }
        }
        true
    }

    fn record_read(&mut self, name: &Name, range: TextRange) {
        let mutation = self.mutation.take();
        if self.resolves_to_module(name) {
            self.out.reads.push(Read {
                name: name.clone(),
                range: self.range_map.apply(range),
                when: self.when,
                mutation,
            });
        }
    }

    /// Visits `expr` as the object that `mutation` may change (the root of its attribute and
    /// subscript chain is the name changed).
    fn visit_changed(&mut self, expr: &Expr, mutation: Mutation) {
        let saved = self.mutation.replace(mutation);
        self.visit_expr(expr);
        self.mutation = saved;
    }

    /// A call: the callee's root name, when it resolves to module scope, is recorded with the
    /// callee's path; the receiver of a method and the arguments may be changed by the call.
    fn call(&mut self, call: &ast::ExprCall) {
        self.record_dynamic(call);
        if let Some(path) = dotted_path(&call.func, Name::clone)
            && self.resolves_to_module(&path[0])
        {
            self.out.calls.push(Call {
                path,
                range: self.range_map.apply(call.range()),
                when: self.when,
            });
        }
        let pure = matches!(&*call.func, Expr::Name(name)
            if is_observing_builtin(&name.id) && self.resolves_to_module(&name.id));
        match &*call.func {
            Expr::Attribute(method) => {
                self.visit_changed(&method.value, Mutation::Call);
            }
            func => self.visit_expr(func),
        }
        for arg in &call.arguments.args {
            if pure {
                self.visit_expr(arg);
            } else {
                self.visit_changed(arg, Mutation::Call);
            }
        }
        for keyword in &call.arguments.keywords {
            if pure {
                self.visit_expr(&keyword.value);
            } else {
                self.visit_changed(&keyword.value, Mutation::Call);
            }
        }
    }

    fn record_dynamic(&mut self, call: &ast::ExprCall) {
        let Expr::Name(func) = &*call.func else {
            return;
        };
        let no_arguments = call.arguments.is_empty();
        let dynamic = match func.id.as_str() {
            "eval" | "exec" | "globals" | "locals" => true,
            // With an argument they inspect that object, not a namespace.
            "vars" | "dir" => no_arguments,
            _ => false,
        };
        if dynamic && self.resolves_to_module(&func.id) {
            self.out.dynamic.push(DynamicUse {
                name: func.id.clone(),
                range: self.range_map.apply(call.range()),
                when: self.when,
            });
        }
    }

    /// When the annotations of a signature (or of a class/module-level variable) run.
    fn annotation_time(&self) -> ReadTime {
        if self.opts.postponed_annotations {
            ReadTime::Annotation
        } else {
            self.when
        }
    }

    fn visit_annotation_at(&mut self, expr: &Expr, when: ReadTime) {
        let saved_when = self.defer_to(when);
        let saved_flag = std::mem::replace(&mut self.in_annotation, true);
        self.visit_expr(expr);
        self.in_annotation = saved_flag;
        self.when = saved_when;
    }

    /// Pushes the annotation scope of PEP 695 type parameters and visits their bounds,
    /// constraints and defaults, which Python evaluates lazily inside that scope.
    fn push_annotation_scope(&mut self, type_params: Option<&TypeParams>) {
        let params = type_params.map_or(&[][..], |params| &params.type_params[..]);
        let names = params.iter().map(|param| match param {
            TypeParam::TypeVar(var) => var.name.id.clone(),
            TypeParam::TypeVarTuple(var) => var.name.id.clone(),
            TypeParam::ParamSpec(spec) => spec.name.id.clone(),
        });
        self.push_scope(ScopeKind::Annotation, Binder::new(false), names);
        for param in params {
            let (bound, default) = match param {
                TypeParam::TypeVar(var) => (var.bound.as_deref(), var.default.as_deref()),
                TypeParam::TypeVarTuple(var) => (None, var.default.as_deref()),
                TypeParam::ParamSpec(spec) => (None, spec.default.as_deref()),
            };
            for expr in bound.into_iter().chain(default) {
                self.visit_annotation_at(expr, ReadTime::Deferred);
            }
        }
    }

    fn function_def(&mut self, def: &ast::StmtFunctionDef) {
        for decorator in &def.decorator_list {
            self.visit_decorator(decorator);
        }
        // Defaults are evaluated before (outside) the type-parameter scope.
        for default in def
            .parameters
            .iter_non_variadic_params()
            .filter_map(|param| param.default())
        {
            self.visit_expr(default);
        }
        let generic = def.type_params.is_some();
        if generic {
            self.push_annotation_scope(def.type_params.as_deref());
        }
        let when = self.annotation_time();
        for annotation in def
            .parameters
            .iter()
            .filter_map(ast::AnyParameterRef::annotation)
        {
            self.visit_annotation_at(annotation, when);
        }
        if let Some(returns) = &def.returns {
            self.visit_annotation_at(returns, when);
        }
        self.function_body(Some(&def.parameters), FunctionBody::Block(&def.body));
        if generic {
            self.scopes.pop();
        }
    }

    /// Visits a function's body as it runs when the function is called: at this level, reads
    /// happen now.
    fn called_function(&mut self, def: &ast::StmtFunctionDef) {
        let generic = def.type_params.is_some();
        if generic {
            self.push_annotation_scope(def.type_params.as_deref());
        }
        let mut binder = Binder::new(true);
        binder.visit_body(&def.body);
        let params = def.parameters.iter().map(|param| param.name().id.clone());
        self.push_scope(ScopeKind::Function, binder, params);
        self.visit_body(&def.body);
        self.scopes.pop();
        if generic {
            self.scopes.pop();
        }
    }

    /// A lambda's body, as it runs when the lambda is called.
    fn called_lambda(&mut self, lambda: &ast::ExprLambda) {
        let mut binder = Binder::new(true);
        binder.visit_expr(&lambda.body);
        let params = lambda
            .parameters
            .iter()
            .flat_map(|params| params.iter().map(|param| param.name().id.clone()));
        self.push_scope(ScopeKind::Function, binder, params);
        self.visit_expr(&lambda.body);
        self.scopes.pop();
    }

    /// Visits a function or lambda body in its own scope, where it runs when called.
    fn function_body(&mut self, parameters: Option<&Parameters>, body: FunctionBody<'_>) {
        let mut binder = Binder::new(true);
        match body {
            FunctionBody::Block(block) => binder.visit_body(block),
            FunctionBody::Expression(expr) => binder.visit_expr(expr),
        }
        let params = parameters
            .into_iter()
            .flat_map(|params| params.iter().map(|param| param.name().id.clone()));
        self.push_scope(ScopeKind::Function, binder, params);
        let saved = self.defer_to(ReadTime::Deferred);
        match body {
            FunctionBody::Block(block) => self.visit_body(block),
            FunctionBody::Expression(expr) => self.visit_expr(expr),
        }
        self.when = saved;
        self.scopes.pop();
    }

    fn class_def(&mut self, class: &ast::StmtClassDef) {
        for decorator in &class.decorator_list {
            self.visit_decorator(decorator);
        }
        let generic = class.type_params.is_some();
        if generic {
            self.push_annotation_scope(class.type_params.as_deref());
        }
        // Bases and keywords can use the type parameters, so they are inside their scope.
        if let Some(arguments) = &class.arguments {
            self.visit_arguments(arguments);
        }
        let mut binder = Binder::new(false);
        binder.visit_body(&class.body);
        self.push_scope(ScopeKind::Class, binder, []);
        self.visit_body(&class.body);
        self.scopes.pop();
        if generic {
            self.scopes.pop();
        }
    }

    fn lambda(&mut self, lambda: &ast::ExprLambda) {
        let parameters = lambda.parameters.as_deref();
        for default in parameters
            .into_iter()
            .flat_map(Parameters::iter_non_variadic_params)
            .filter_map(|param| param.default())
        {
            self.visit_expr(default);
        }
        self.function_body(parameters, FunctionBody::Expression(&lambda.body));
    }

    /// A comprehension: the first iterable runs in the enclosing scope, everything else in the
    /// comprehension's own scope, where the targets are local.
    fn comprehension<'b>(
        &mut self,
        generators: &'b [Comprehension],
        results: impl IntoIterator<Item = &'b Expr>,
    ) {
        if let Some(first) = generators.first() {
            self.visit_expr(&first.iter);
        }
        let mut binder = Binder::new(false);
        for generator in generators {
            binder.bind_target(&generator.target, BindingKind::Other);
        }
        self.push_scope(ScopeKind::Comprehension, binder, []);
        for (index, generator) in generators.iter().enumerate() {
            if index > 0 {
                self.visit_expr(&generator.iter);
            }
            self.visit_expr(&generator.target);
            for condition in &generator.ifs {
                self.visit_expr(condition);
            }
        }
        for result in results {
            self.visit_expr(result);
        }
        self.scopes.pop();
    }

    /// A string in an annotation is a forward reference: its names are read only by typing
    /// introspection, never by running the code. Strings that are not valid expressions are
    /// ignored.
    fn string_annotation(&mut self, string: &ast::ExprStringLiteral) {
        let parsed = ruff_python_parser::parse_unchecked(
            string.value.to_str(),
            ParseOptions::from(Mode::ParenthesizedExpression),
        );
        if !parsed.errors().is_empty() {
            return;
        }
        let Mod::Expression(expression) = parsed.syntax() else {
            return;
        };
        let outer = self.range_map.apply(string.range);
        // Positions inside the string map back to the source only when its value is its source
        // text: a single literal whose decoded value is as long as its content (each escape
        // sequence decodes to fewer bytes than it is written with).
        let map = match string.as_single_part_string() {
            Some(literal)
                if u32::try_from(literal.value.len())
                    .is_ok_and(|len| TextSize::new(len) == literal.content_range().len()) =>
            {
                let start = literal.content_range().start();
                match self.range_map {
                    RangeMap::Identity => RangeMap::Shift(start, outer),
                    RangeMap::Shift(offset, _) => start
                        .checked_add(offset)
                        .map_or(RangeMap::Fixed(outer), |shift| {
                            RangeMap::Shift(shift, outer)
                        }),
                    RangeMap::Fixed(fixed) => RangeMap::Fixed(fixed),
                }
            }
            _ => RangeMap::Fixed(outer),
        };
        let saved_map = std::mem::replace(&mut self.range_map, map);
        let saved_when = self.defer_to(ReadTime::Annotation);
        self.visit_expr(&expression.body);
        self.when = saved_when;
        self.range_map = saved_map;
    }

    /// `Literal[...]` holds values, not types, and `Annotated[T, ...]` holds metadata after its
    /// first element: those strings are not forward references (but their names are still read).
    fn annotation_subscript(&mut self, subscript: &ast::ExprSubscript) {
        let form = match &*subscript.value {
            Expr::Name(name) => Some(name.id.as_str()),
            Expr::Attribute(attribute) => Some(attribute.attr.as_str()),
            _ => None,
        };
        self.visit_expr(&subscript.value);
        match (form, &*subscript.slice) {
            (Some("Literal"), slice) => self.visit_outside_annotation(slice),
            (Some("Annotated"), Expr::Tuple(tuple)) => {
                if let Some((first, metadata)) = tuple.elts.split_first() {
                    self.visit_expr(first);
                    for expr in metadata {
                        self.visit_outside_annotation(expr);
                    }
                }
            }
            (_, slice) => self.visit_expr(slice),
        }
    }

    fn visit_outside_annotation(&mut self, expr: &Expr) {
        let saved = std::mem::replace(&mut self.in_annotation, false);
        self.visit_expr(expr);
        self.in_annotation = saved;
    }
}

impl<'a> Visitor<'a> for Resolver {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::FunctionDef(def) => self.function_def(def),
            Stmt::ClassDef(class) => self.class_def(class),
            Stmt::TypeAlias(alias) => {
                // The value is evaluated lazily (on `X.__value__`) in an annotation scope, even
                // without type parameters. The name is a store.
                self.push_annotation_scope(alias.type_params.as_deref());
                self.visit_annotation_at(&alias.value, ReadTime::Deferred);
                self.scopes.pop();
            }
            Stmt::AnnAssign(ann) => {
                if let Some(value) = &ann.value {
                    self.visit_expr(value);
                }
                // Python never evaluates annotations of a function's local variables.
                let in_function = matches!(
                    self.scopes.last(),
                    Some(Scope {
                        kind: ScopeKind::Function,
                        ..
                    })
                );
                let when = if in_function {
                    ReadTime::Annotation
                } else {
                    self.annotation_time()
                };
                self.visit_annotation_at(&ann.annotation, when);
                self.visit_expr(&ann.target);
            }
            // `alias = COLS` or `add = COLS.append`: what the new name does to the object
            // changes it unseen, as a call may.
            Stmt::Assign(assign)
                if matches!(&*assign.value, Expr::Name(_) | Expr::Attribute(_)) =>
            {
                self.visit_changed(&assign.value, Mutation::Call);
                for target in &assign.targets {
                    self.visit_expr(target);
                }
            }
            Stmt::AugAssign(aug) => {
                // `x += 1` loads `x` before storing it, although its context is Store.
                match &*aug.target {
                    Expr::Name(name) => self.record_read(&name.id, name.range),
                    target => self.visit_expr(target),
                }
                self.visit_expr(&aug.value);
            }
            Stmt::Global(global) if !self.scopes.is_empty() => {
                for name in &global.names {
                    self.out.global_writes.push(Read {
                        name: name.id.clone(),
                        range: name.range,
                        when: self.when,
                        mutation: None,
                    });
                }
            }
            _ => visitor::walk_stmt(self, stmt),
        }
    }

    fn visit_annotation(&mut self, expr: &'a Expr) {
        // Only reached through walkers for nodes not handled above; treat like a signature.
        let when = self.annotation_time();
        self.visit_annotation_at(expr, when);
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        // A pending mutation applies to the root of an attribute or subscript chain, through
        // `Starred` (`f(*x)`), and nowhere else.
        let mutation = self.mutation.take();
        match expr {
            Expr::Name(name) => {
                if name.ctx == ExprContext::Load {
                    self.mutation = mutation;
                    self.record_read(&name.id, name.range);
                }
            }
            Expr::Attribute(attribute) => {
                let mutation = match attribute.ctx {
                    ExprContext::Store | ExprContext::Del => Some(Mutation::Store),
                    _ => mutation,
                };
                self.mutation = mutation;
                self.visit_expr(&attribute.value);
                self.mutation = None;
            }
            Expr::Subscript(subscript) if !self.in_annotation => {
                let mutation = match subscript.ctx {
                    ExprContext::Store | ExprContext::Del => Some(Mutation::Store),
                    _ => mutation,
                };
                self.mutation = mutation;
                self.visit_expr(&subscript.value);
                self.mutation = None;
                self.visit_expr(&subscript.slice);
            }
            Expr::Starred(starred) => {
                self.mutation = mutation;
                self.visit_expr(&starred.value);
                self.mutation = None;
            }
            Expr::Call(call) => self.call(call),
            Expr::Lambda(lambda) => self.lambda(lambda),
            Expr::ListComp(comp) => self.comprehension(&comp.generators, [&*comp.elt]),
            Expr::SetComp(comp) => self.comprehension(&comp.generators, [&*comp.elt]),
            Expr::Generator(comp) => self.comprehension(&comp.generators, [&*comp.elt]),
            Expr::DictComp(comp) => self.comprehension(
                &comp.generators,
                comp.key.as_deref().into_iter().chain([&*comp.value]),
            ),
            Expr::StringLiteral(string) if self.in_annotation => self.string_annotation(string),
            Expr::Subscript(subscript) if self.in_annotation => {
                self.annotation_subscript(subscript);
            }
            _ => visitor::walk_expr(self, expr),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReadTime::{Annotation, Deferred, Now};
    use ruff_python_parser::parse_unchecked;

    /// Parses `src` (IPython mode, as for a cell) and returns its single top-level statement.
    fn stmt(src: &str) -> Stmt {
        let parsed = parse_unchecked(src, ParseOptions::from(Mode::Ipython));
        assert!(parsed.errors().is_empty(), "{src:?}: {:?}", parsed.errors());
        let Mod::Module(module) = parsed.syntax() else {
            panic!("not a module");
        };
        assert_eq!(module.body.len(), 1, "expected one statement in {src:?}");
        module.body[0].clone()
    }

    fn reads_with(src: &str, opts: ScopeOptions) -> ModuleReads {
        let result = module_reads(&stmt(src), opts);
        // Ranges must point at the name itself (string annotations with escapes excepted).
        for read in result.reads.iter().chain(&result.global_writes) {
            let text = &src[read.range];
            assert!(
                text == read.name.as_str() || text.starts_with(['"', '\'']),
                "range of {:?} covers {text:?}",
                read.name
            );
        }
        result
    }

    fn reads(src: &str) -> Vec<(String, ReadTime)> {
        pairs(&reads_with(src, ScopeOptions::default()).reads)
    }

    fn postponed_reads(src: &str) -> Vec<(String, ReadTime)> {
        let opts = ScopeOptions {
            postponed_annotations: true,
        };
        pairs(&reads_with(src, opts).reads)
    }

    fn pairs(reads: &[Read]) -> Vec<(String, ReadTime)> {
        reads
            .iter()
            .map(|read| (read.name.to_string(), read.when))
            .collect()
    }

    fn expect(expected: &[(&str, ReadTime)]) -> Vec<(String, ReadTime)> {
        expected
            .iter()
            .map(|(name, when)| ((*name).to_owned(), *when))
            .collect()
    }

    fn bindings(src: &str) -> Vec<(String, BindingKind)> {
        let result = module_bindings(&stmt(src));
        for binding in &result {
            let text = &src[binding.range];
            assert!(
                text == binding.name || text.starts_with(&binding.name),
                "range of {:?} covers {text:?}",
                binding.name
            );
        }
        result
            .into_iter()
            .map(|binding| (binding.name, binding.kind))
            .collect()
    }

    fn expect_bindings(expected: &[(&str, BindingKind)]) -> Vec<(String, BindingKind)> {
        expected
            .iter()
            .map(|(name, kind)| ((*name).to_owned(), *kind))
            .collect()
    }

    #[test]
    fn parameters_shadow_module_names_including_star_args() {
        let src = "def f(a, b=default, *args, c, d=kw_default, **kwargs):\n    return a + b + args + c + d + kwargs + g\n";
        assert_eq!(
            reads(src),
            expect(&[("default", Now), ("kw_default", Now), ("g", Deferred)])
        );
    }

    #[test]
    fn local_assignment_shadows_even_when_read_before_it() {
        let src = "def f():\n    print(x)\n    x = 1\n    y, *z = w\n    for i in range(3): pass\n    return y, z, i\n";
        assert_eq!(
            reads(src),
            expect(&[("print", Deferred), ("w", Deferred), ("range", Deferred)])
        );
    }

    #[test]
    fn global_declaration_reads_and_writes_module_scope() {
        let src = "def bump():\n    global counter\n    counter += 1\n    return counter, other\n";
        let result = reads_with(src, ScopeOptions::default());
        assert_eq!(
            pairs(&result.reads),
            expect(&[
                ("counter", Deferred),
                ("counter", Deferred),
                ("other", Deferred)
            ])
        );
        assert_eq!(
            pairs(&result.global_writes),
            expect(&[("counter", Deferred)])
        );
        assert_eq!(&src[result.global_writes[0].range], "counter");
        assert_eq!(result.global_writes[0].range.start(), TextSize::new(23));
    }

    #[test]
    fn global_in_outer_function_is_seen_by_inner_function() {
        let src = "def outer():\n    global shared\n    shared = 1\n    def inner():\n        return shared\n";
        let result = reads_with(src, ScopeOptions::default());
        assert_eq!(pairs(&result.reads), expect(&[("shared", Deferred)]));
        assert_eq!(
            pairs(&result.global_writes),
            expect(&[("shared", Deferred)])
        );
    }

    #[test]
    fn nonlocal_refers_to_enclosing_function() {
        let src = "def outer():\n    n = 0\n    def inner():\n        nonlocal n\n        n += 1\n        return n, m\n    return inner\n";
        let result = reads_with(src, ScopeOptions::default());
        assert_eq!(pairs(&result.reads), expect(&[("m", Deferred)]));
        assert!(result.global_writes.is_empty());
    }

    #[test]
    fn nested_function_closes_over_enclosing_locals() {
        let src = "def outer(p):\n    local = p\n    def inner():\n        return local + p + free\n    return inner\n";
        assert_eq!(reads(src), expect(&[("free", Deferred)]));
    }

    #[test]
    fn class_body_names_are_invisible_to_methods() {
        let src = "class C(Base, metaclass=Meta):\n    scale = 2\n    doubled = scale * factor\n    def method(self):\n        return scale * self.scale\n";
        assert_eq!(
            reads(src),
            expect(&[
                ("Base", Now),
                ("Meta", Now),
                ("factor", Now),
                ("scale", Deferred)
            ])
        );
    }

    #[test]
    fn method_decorators_and_defaults_run_in_class_scope() {
        let src = "class C:\n    prop = property\n    @prop\n    def f(self, d=DEFAULT, k=attr): pass\n    attr = 1\n";
        assert_eq!(reads(src), expect(&[("property", Now), ("DEFAULT", Now)]));
    }

    #[test]
    fn class_inside_function_sees_function_locals() {
        let src = "def factory(base):\n    class Impl(base, Mixin):\n        value = helper(base)\n    return Impl\n";
        assert_eq!(
            reads(src),
            expect(&[("Mixin", Deferred), ("helper", Deferred)])
        );
    }

    #[test]
    fn zero_argument_super_uses_the_implicit_class_cell() {
        let src = "class C(B):\n    def f(self):\n        return super().f(), __class__\n";
        assert_eq!(reads(src), expect(&[("B", Now), ("super", Deferred)]));
    }

    #[test]
    fn comprehension_targets_are_local_and_reads_are_in_source_order() {
        let src = "result = [x * k for x in data if x > limit for y in x if y]\n";
        assert_eq!(
            reads(src),
            expect(&[("k", Now), ("data", Now), ("limit", Now)])
        );
        let src = "names = {CONST: v for CONST, v in items}\n";
        assert_eq!(reads(src), expect(&[("items", Now)]));
    }

    #[test]
    fn class_scope_comprehension_only_first_iterable_sees_class_names() {
        let src = "class C:\n    items = [1, 2]\n    n = 3\n    squares = [i * n for i in items]\n    pairs = [(i, j) for i in items for j in items]\n";
        // `n` and the second `items` skip the class scope (a NameError at runtime, unless the
        // module defines them).
        assert_eq!(reads(src), expect(&[("n", Now), ("items", Now)]));
    }

    #[test]
    fn lambda_defaults_run_now_and_body_later() {
        let src = "f = lambda a, b=bdefault, *rest: a + b + free + len(rest)\n";
        assert_eq!(
            reads(src),
            expect(&[("bdefault", Now), ("free", Deferred), ("len", Deferred)])
        );
        let src = "g = lambda: (inner := 1) + inner\n";
        assert_eq!(reads(src), expect(&[]));
    }

    #[test]
    fn walrus_in_comprehension_binds_in_enclosing_function() {
        let src = "def f(values):\n    [(last := v) for v in values]\n    return last, first\n";
        assert_eq!(reads(src), expect(&[("first", Deferred)]));
    }

    #[test]
    fn match_captures_bind_and_value_patterns_read() {
        let src = "\
def f(command):
    match command:
        case Point(x=a, y=0) if a > limit:
            return a
        case [first, *rest]:
            return first, rest
        case {\"k\": v, **others}:
            return v, others
        case Color.RED | Color.GREEN:
            pass
        case _ as whole:
            return whole
";
        assert_eq!(
            reads(src),
            expect(&[
                ("Point", Deferred),
                ("limit", Deferred),
                ("Color", Deferred),
                ("Color", Deferred)
            ])
        );
    }

    #[test]
    fn decorators_defaults_bases_and_keywords_run_now_bodies_later() {
        let src =
            "@register\n@cache(maxsize=CONST)\ndef f(x=os.sep) -> None:\n    return helper(x)\n";
        assert_eq!(
            reads(src),
            expect(&[
                ("register", Now),
                ("cache", Now),
                ("CONST", Now),
                ("os", Now),
                ("helper", Deferred)
            ])
        );
        let src = "@dataclass(frozen=FROZEN)\nclass C(Base, metaclass=Meta, flag=FLAG):\n    x = compute()\n    def m(self):\n        return other()\n";
        assert_eq!(
            reads(src),
            expect(&[
                ("dataclass", Now),
                ("FROZEN", Now),
                ("Base", Now),
                ("Meta", Now),
                ("FLAG", Now),
                ("compute", Now),
                ("other", Deferred)
            ])
        );
    }

    #[test]
    fn nested_definition_time_code_runs_when_the_outer_function_runs() {
        let src = "def outer():\n    @deco\n    def inner(x=DEFAULT) -> Ret:\n        pass\n";
        assert_eq!(
            reads(src),
            expect(&[("deco", Deferred), ("DEFAULT", Deferred), ("Ret", Deferred)])
        );
    }

    #[test]
    fn signature_annotations_run_now_unless_postponed() {
        let src =
            "def f(x: np.ndarray, *args: Arg, **kw: Kw) -> Path:\n    y: Local = x\n    return y\n";
        assert_eq!(
            reads(src),
            expect(&[
                ("np", Now),
                ("Arg", Now),
                ("Kw", Now),
                ("Path", Now),
                ("Local", Annotation)
            ])
        );
        assert_eq!(
            postponed_reads(src),
            expect(&[
                ("np", Annotation),
                ("Arg", Annotation),
                ("Kw", Annotation),
                ("Path", Annotation),
                ("Local", Annotation)
            ])
        );
    }

    #[test]
    fn module_and_class_variable_annotations_run_now_unless_postponed() {
        let src = "x: Thing = value\n";
        assert_eq!(reads(src), expect(&[("Thing", Now), ("value", Now)]));
        assert_eq!(
            postponed_reads(src),
            expect(&[("Thing", Annotation), ("value", Now)])
        );
        let src = "class C:\n    attr: Foo = 1\n    bare: Bar\n";
        assert_eq!(reads(src), expect(&[("Foo", Now), ("Bar", Now)]));
        assert_eq!(
            postponed_reads(src),
            expect(&[("Foo", Annotation), ("Bar", Annotation)])
        );
    }

    #[test]
    fn bare_annotation_makes_a_function_local_but_not_a_class_attribute() {
        let src = "def f():\n    print(x)\n    x: int\n";
        assert_eq!(
            reads(src),
            expect(&[("print", Deferred), ("int", Annotation)])
        );
        let src = "class C:\n    x: int\n    y = x\n";
        assert_eq!(reads(src), expect(&[("int", Now), ("x", Now)]));
    }

    #[test]
    fn string_annotations_are_parsed_as_forward_references() {
        let src = "def f(x: \"Optional[Foo]\", y: Literal[\"a\", MODE], z: Annotated[int, \"meta\"]) -> \"list['Bar']\":\n    pass\n";
        let result = reads_with(src, ScopeOptions::default());
        assert_eq!(
            pairs(&result.reads),
            expect(&[
                ("Optional", Annotation),
                ("Foo", Annotation),
                ("Literal", Now),
                ("MODE", Now),
                ("Annotated", Now),
                ("int", Now),
                ("list", Annotation),
                ("Bar", Annotation)
            ])
        );
        // Every range, including the doubly nested `Bar`, points at the name in the cell.
        for read in &result.reads {
            assert_eq!(&src[read.range], read.name.as_str());
        }
    }

    #[test]
    fn string_annotation_whose_text_differs_gets_the_whole_string_range() {
        let src = "x: \"Fo\" \"o\" = 1\n";
        let result = reads_with(src, ScopeOptions::default());
        assert_eq!(pairs(&result.reads), expect(&[("Foo", Annotation)]));
        assert_eq!(&src[result.reads[0].range], "\"Fo\" \"o\"");
        let src = "x: \"\\x46oo\" = 1\n";
        let result = reads_with(src, ScopeOptions::default());
        assert_eq!(pairs(&result.reads), expect(&[("Foo", Annotation)]));
        assert_eq!(&src[result.reads[0].range], "\"\\x46oo\"");
        // Not an expression: ignored rather than guessed at.
        assert_eq!(reads("x: \"not a type!\" = 1\n"), expect(&[]));
    }

    #[test]
    fn pep695_type_params_are_not_module_reads() {
        let src = "def first[T: Bound, *Ts, **P](xs: list[T], *a: *Ts) -> T:\n    return xs[0]\n";
        assert_eq!(reads(src), expect(&[("Bound", Deferred), ("list", Now)]));
        let src = "class Box[T](Base[T]):\n    item: T\n    def get(self) -> T:\n        return cast(T, self.item)\n";
        assert_eq!(reads(src), expect(&[("Base", Now), ("cast", Deferred)]));
        let src = "type Pair[K] = tuple[K, Other]\n";
        assert_eq!(
            reads(src),
            expect(&[("tuple", Deferred), ("Other", Deferred)])
        );
        // Defaults and decorators are evaluated outside the type-parameter scope.
        let src = "@deco(T)\ndef f[T](x=T): pass\n";
        assert_eq!(reads(src), expect(&[("deco", Now), ("T", Now), ("T", Now)]));
    }

    #[test]
    fn generic_method_annotation_scope_sees_class_names() {
        let src = "class C:\n    A = int\n    def f[T](self, x: A, y: T) -> B:\n        return A\n";
        assert_eq!(
            reads(src),
            expect(&[("int", Now), ("B", Now), ("A", Deferred)])
        );
    }

    #[test]
    fn type_alias_in_class_sees_class_names_but_its_lambdas_do_not() {
        let src = "class C:\n    A = int\n    type X = A\n    type Y = lambda: A\n";
        assert_eq!(reads(src), expect(&[("int", Now), ("A", Deferred)]));
    }

    #[test]
    fn except_names_are_local() {
        let src = "def f():\n    try:\n        risky()\n    except ValueError as err:\n        log(err)\n    finally:\n        cleanup()\n";
        assert_eq!(
            reads(src),
            expect(&[
                ("risky", Deferred),
                ("ValueError", Deferred),
                ("log", Deferred),
                ("cleanup", Deferred)
            ])
        );
        let src = "def g():\n    try:\n        pass\n    except* OSError as group:\n        return group\n";
        assert_eq!(reads(src), expect(&[("OSError", Deferred)]));
    }

    #[test]
    fn with_targets_are_local() {
        let src = "def f():\n    with open(path) as fh, lock, ctx() as (a, b):\n        return fh.read(), a, b\n";
        assert_eq!(
            reads(src),
            expect(&[
                ("open", Deferred),
                ("path", Deferred),
                ("lock", Deferred),
                ("ctx", Deferred)
            ])
        );
    }

    #[test]
    fn del_makes_a_name_local() {
        let src = "def f():\n    del cache\n    return cache\n";
        assert_eq!(reads(src), expect(&[]));
        // At module level `del` is not a read.
        assert_eq!(reads("del cache\n"), expect(&[]));
    }

    #[test]
    fn f_strings_read_their_expressions() {
        let src = "def f():\n    return f\"{name!r:>{width}} {obj.attr}\"\n";
        assert_eq!(
            reads(src),
            expect(&[("name", Deferred), ("width", Deferred), ("obj", Deferred)])
        );
    }

    #[test]
    fn module_level_statements_read_module_scope_even_for_names_they_bind() {
        let src = "for i in items:\n    total += i\n";
        assert_eq!(
            reads(src),
            expect(&[("items", Now), ("total", Now), ("i", Now)])
        );
        let src = "d[k] = v if cond else other\n";
        assert_eq!(
            reads(src),
            expect(&[
                ("d", Now),
                ("k", Now),
                ("v", Now),
                ("cond", Now),
                ("other", Now)
            ])
        );
    }

    #[test]
    fn dynamic_namespace_access_is_reported() {
        let src = "def f(obj):\n    eval(\"x\")\n    exec(code)\n    g = globals()\n    l = locals()\n    v = vars()\n    w = vars(obj)\n    d = dir()\n    e = dir(obj)\n";
        let result = reads_with(src, ScopeOptions::default());
        let dynamic: Vec<_> = result
            .dynamic
            .iter()
            .map(|use_| (use_.name.as_str(), &src[use_.range], use_.when))
            .collect();
        assert_eq!(
            dynamic,
            vec![
                ("eval", "eval(\"x\")", Deferred),
                ("exec", "exec(code)", Deferred),
                ("globals", "globals()", Deferred),
                ("locals", "locals()", Deferred),
                ("vars", "vars()", Deferred),
                ("dir", "dir()", Deferred),
            ]
        );
        let result = reads_with("print(eval(src))\n", ScopeOptions::default());
        assert_eq!(result.dynamic.len(), 1);
        assert_eq!(result.dynamic[0].when, Now);
    }

    #[test]
    fn locally_rebound_eval_is_not_dynamic() {
        let src = "def f(eval):\n    return eval(\"x\")\n";
        assert!(reads_with(src, ScopeOptions::default()).dynamic.is_empty());
        let src = "def g():\n    vars = dict\n    return vars()\n";
        assert!(reads_with(src, ScopeOptions::default()).dynamic.is_empty());
    }

    #[test]
    fn ipython_escape_inside_def_body_is_skipped() {
        let src = "def f():\n    %time x()\n    listing = !ls\n    return y\n";
        assert_eq!(reads(src), expect(&[("y", Deferred)]));
    }

    #[test]
    fn is_builtin_knows_plain_python_builtins_only() {
        assert!(is_builtin("len"));
        assert!(is_builtin("ExceptionGroup"));
        assert!(is_builtin("__name__"));
        assert!(!is_builtin("__file__"));
        assert!(!is_builtin("display"));
        assert!(!is_builtin("get_ipython"));
        assert!(!is_builtin("numpy"));
    }

    #[test]
    fn bindings_of_imports() {
        use BindingKind::{FromImport, Import, StarImport};
        assert_eq!(
            bindings("import a.b, c as d\n"),
            expect_bindings(&[("a", Import), ("d", Import)])
        );
        assert_eq!(
            bindings("from m import x, y as z\n"),
            expect_bindings(&[("x", FromImport), ("z", FromImport)])
        );
        assert_eq!(
            bindings("from .m import *\n"),
            expect_bindings(&[("*", StarImport)])
        );
    }

    #[test]
    fn bindings_of_definitions() {
        use BindingKind::{ClassDef, FunctionDef, TypeAlias};
        assert_eq!(
            bindings("@deco\nasync def f(x=1):\n    y = 2\n"),
            expect_bindings(&[("f", FunctionDef)])
        );
        assert_eq!(
            bindings("class C(Base):\n    attr = 1\n    def m(self): pass\n"),
            expect_bindings(&[("C", ClassDef)])
        );
        assert_eq!(
            bindings("type Vector[T] = list[T]\n"),
            expect_bindings(&[("Vector", TypeAlias)])
        );
    }

    #[test]
    fn bindings_of_assignments() {
        use BindingKind::{AnnAssign, Assign, AugAssign, Del};
        assert_eq!(
            bindings("a, (b, *c) = obj.attr, d[0] = value\n"),
            expect_bindings(&[("a", Assign), ("b", Assign), ("c", Assign)])
        );
        assert_eq!(bindings("x += 1\n"), expect_bindings(&[("x", AugAssign)]));
        assert_eq!(
            bindings("x: int = 1\n"),
            expect_bindings(&[("x", AnnAssign)])
        );
        assert_eq!(bindings("x: int\n"), expect_bindings(&[]));
        assert_eq!(bindings("del x, y[0]\n"), expect_bindings(&[("x", Del)]));
    }

    #[test]
    fn bindings_inside_module_level_compound_statements() {
        use BindingKind::{Assign, Except, For, Import, With};
        assert_eq!(
            bindings("for i, j in pairs:\n    k = i\nelse:\n    done = True\n"),
            expect_bindings(&[("i", For), ("j", For), ("k", Assign), ("done", Assign)])
        );
        assert_eq!(
            bindings("with open(p) as (f, g), lock:\n    data = f.read()\n"),
            expect_bindings(&[("f", With), ("g", With), ("data", Assign)])
        );
        assert_eq!(
            bindings(
                "try:\n    import numpy as np\nexcept ImportError as exc:\n    np = None\nfinally:\n    done = True\n"
            ),
            expect_bindings(&[
                ("np", Import),
                ("exc", Except),
                ("np", Assign),
                ("done", Assign)
            ])
        );
        assert_eq!(
            bindings("if flag:\n    a = 1\nelif other:\n    b = 2\nelse:\n    c = 3\n"),
            expect_bindings(&[("a", Assign), ("b", Assign), ("c", Assign)])
        );
        assert_eq!(
            bindings("while running:\n    step = next_step()\n"),
            expect_bindings(&[("step", Assign)])
        );
    }

    #[test]
    fn bindings_of_walrus_including_module_level_comprehensions() {
        use BindingKind::{Assign, Walrus};
        assert_eq!(
            bindings("if (n := len(data)) > 10:\n    pass\n"),
            expect_bindings(&[("n", Walrus)])
        );
        assert_eq!(
            bindings("total = [(last := v) for v in values]\n"),
            expect_bindings(&[("total", Assign), ("last", Walrus)])
        );
        // A lambda body is its own scope.
        assert_eq!(
            bindings("f = lambda: (inner := 1)\n"),
            expect_bindings(&[("f", Assign)])
        );
    }

    #[test]
    fn bindings_of_match_captures() {
        use BindingKind::Match;
        let src = "\
match command:
    case Point(x=a, y=0):
        pass
    case [first, *rest]:
        pass
    case {\"k\": v, **others}:
        pass
    case Color.RED:
        pass
    case _ as whole:
        pass
";
        assert_eq!(
            bindings(src),
            expect_bindings(&[
                ("a", Match),
                ("first", Match),
                ("rest", Match),
                ("v", Match),
                ("others", Match),
                ("whole", Match)
            ])
        );
    }

    #[test]
    fn bindings_of_names_declared_global_in_nested_scopes() {
        use BindingKind::{ClassDef, FunctionDef, Global};
        let src = "def setup():\n    global config, unused\n    config = load()\n    def inner():\n        global registry\n        registry = {}\n    local = 1\n";
        assert_eq!(
            bindings(src),
            expect_bindings(&[
                ("setup", FunctionDef),
                ("config", Global),
                ("registry", Global)
            ])
        );
        let src = "class C:\n    global x\n    x = 1\n";
        assert_eq!(
            bindings(src),
            expect_bindings(&[("C", ClassDef), ("x", Global)])
        );
    }

    fn mutations(src: &str) -> Vec<(String, Option<Mutation>)> {
        reads_with(src, ScopeOptions::default())
            .reads
            .iter()
            .map(|read| (read.name.to_string(), read.mutation))
            .collect()
    }

    fn named<const N: usize>(
        expected: [(&str, Option<Mutation>); N],
    ) -> Vec<(String, Option<Mutation>)> {
        expected
            .iter()
            .map(|(name, mutation)| ((*name).to_owned(), *mutation))
            .collect()
    }

    #[test]
    fn reads_that_may_change_the_object_they_find() {
        use Mutation::{Call as Calls, Store};
        assert_eq!(mutations("COLS.append(4)"), named([("COLS", Some(Calls))]));
        assert_eq!(mutations("d['k'] = 1"), named([("d", Some(Store))]));
        assert_eq!(mutations("del d['k']"), named([("d", Some(Store))]));
        assert_eq!(mutations("d['k'] += 1"), named([("d", Some(Store))]));
        assert_eq!(
            mutations("string.punctuation = x"),
            named([("string", Some(Store)), ("x", Some(Calls))])
        );
        // A new name for the object, or for one of its methods, may change it later.
        assert_eq!(
            mutations("add = COLS.append"),
            named([("COLS", Some(Calls))])
        );
        assert_eq!(mutations("alias = COLS"), named([("COLS", Some(Calls))]));
        assert_eq!(mutations("a.b.c = 1"), named([("a", Some(Store))]));
        assert_eq!(
            mutations("print(len(COLS), COLS[0])"),
            named([
                ("print", None),
                ("len", None),
                ("COLS", None),
                ("COLS", None)
            ])
        );
        assert_eq!(
            mutations("shuffle(COLS, key=k)"),
            named([("shuffle", None), ("COLS", Some(Calls)), ("k", Some(Calls))])
        );
        assert_eq!(
            mutations("f(*args)"),
            named([("f", None), ("args", Some(Calls))])
        );
        assert_eq!(mutations("x = a.b[c]"), named([("a", None), ("c", None)]));
        // Only the root of the chain: `g()` returns something else.
        assert_eq!(mutations("g().append(1)"), named([("g", None)]));
    }

    #[test]
    fn calls_are_recorded_with_their_path_and_time() {
        let calls = |src: &str| -> Vec<(String, ReadTime)> {
            reads_with(src, ScopeOptions::default())
                .calls
                .iter()
                .map(|call| {
                    let path: Vec<&str> = call.path.iter().map(Name::as_str).collect();
                    (path.join("."), call.when)
                })
                .collect()
        };
        assert_eq!(
            calls("x = random.gauss(0, 1)"),
            [("random.gauss".to_owned(), Now)]
        );
        assert_eq!(
            calls("def f(n=open('x').read()):\n    return time.time()"),
            [("open".to_owned(), Now), ("time.time".to_owned(), Deferred)]
        );
        assert!(calls("def f(x):\n    return x.y()").is_empty());
    }

    #[test]
    fn calling_a_function_runs_its_body_but_not_its_inner_functions() {
        let called = |src: &str| pairs(&call_reads(&stmt(src), ScopeOptions::default()).reads);
        assert_eq!(
            called(
                "def deco(f):\n    register(f)\n    def wrapper(*a):\n        print(a)\n        return f(*a)\n    return wrapper"
            ),
            expect(&[("register", Now), ("print", Deferred)])
        );
        assert_eq!(
            called("class C(Base):\n    x = y\n    def m(self):\n        return z"),
            expect(&[("z", Now)])
        );
        assert!(called("x = 1").is_empty());
        assert_eq!(
            called("square = lambda x, n=default: x ** n * scale + (lambda: inner)()"),
            expect(&[("scale", Now), ("inner", Deferred)])
        );
    }
}
