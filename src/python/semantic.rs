//! Semantic syntax errors: code that parses but that CPython's compiler refuses.
//!
//! `return` at module level, `def f(a, a)`, `nonlocal x` with no `x` to refer to, `break`
//! outside a loop: the parser accepts all of these, and so does `ast.parse`, but `compile`
//! raises `SyntaxError`. In a notebook the difference matters, because IPython parses a whole
//! cell and then compiles and runs its top-level statements one at a time, each as a module
//! of its own with top-level `await` allowed: the statements before the first one that does
//! not compile have run, and that one and the rest have not. [`first_semantic_error`] finds
//! that statement.
//!
//! The checks are ruff's [`SemanticSyntaxChecker`], driven by a visitor that answers its
//! questions about scopes as CPython's symbol table and compiler do, plus what the checker
//! does not check: starred expressions outside a list, tuple, set or call; `break`,
//! `continue` and `return` in an `except*` block; writes to `__debug__` through an
//! attribute, a keyword argument, a class pattern or `import __debug__.x`; irrefutable
//! alternatives before the last one of an or-pattern; f-strings in patterns; `nonlocal` and
//! `global` for one name; and, under `from __future__ import annotations`, walrus, `yield`
//! and `await` in annotations (outside the lambdas and comprehensions in them). Two of the
//! checker's checks are replaced: names used, bound or annotated before their `global` or
//! `nonlocal` declaration are found in the order CPython's symbol table visits the code (up
//! to 3.12 it visits a `try` statement's `else` before its handlers), and `return` with a
//! value in an async generator counts the `yield`s in the defaults of lambdas and nested
//! functions.
//!
//! An annotation that CPython never compiles (a local variable's, or any under `from
//! __future__ import annotations`) only raises its symbol table's errors, not its code
//! generator's.
//!
//! A `%%time` or `%%timeit` cell is compiled by the magic as one module, without top-level
//! `await` (and, for `%%timeit`, inside a function too), so any error there stops the whole
//! cell.
//!
//! The `statement` of a [`SemanticError`] is the one that fails to compile, or 0 when nothing
//! in the cell runs: an error in a `%%time` cell, or a NUL character anywhere (Python refuses
//! the whole source).
//!
//! Run it on cells without parse errors only ([`first_syntax_error`]), which include syntax
//! newer than the kernel's Python. The errors that depend on the version are those of the
//! kernel's compiler (`None`: the newest Python): an asynchronous comprehension inside a
//! synchronous one before 3.11, `del __debug__` from 3.9, a walrus, `yield` or `await` in an
//! annotation from 3.14.
//!
//! [`first_syntax_error`]: super::parse::first_syntax_error
//!
//! Known gaps: CPython's limits on nesting (20 nested blocks) and on star-unpacking targets
//! are not checked.

use std::cell::{Cell, RefCell};

use super::imports::is_future_annotations;
use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{
    self as ast, Expr, ExprContext, Identifier, IpyEscapeKind, Parameters, Pattern, PythonVersion,
    Stmt,
};
use ruff_python_parser::semantic_errors::{
    InvalidExpressionPosition, LazyImportContext, SemanticSyntaxChecker, SemanticSyntaxContext,
    SemanticSyntaxError, SemanticSyntaxErrorKind, YieldOutsideFunctionKind,
};
use ruff_text_size::{Ranged, TextRange, TextSize};

/// A cell statement that CPython refuses to compile, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SemanticError {
    /// Index in the cell's body of the first statement that does not run (see the module).
    pub(crate) statement: usize,
    /// Where the error is in the cell source.
    pub(crate) range: TextRange,
    /// What is wrong, in CPython's words where ruff's checker has them.
    pub(crate) message: String,
}

/// What CPython refuses to compile in a parsed module that is imported, not run by IPython
/// (a `%%writefile` module): the source is compiled whole, without top-level `await`.
pub(crate) fn module_semantic_error(
    body: &[Stmt],
    source: &str,
    python_version: Option<PythonVersion>,
) -> Option<SemanticError> {
    null_byte(source).or_else(|| one_module_error(body, source, python_version, false))
}

/// A NUL character, for which CPython refuses a whole source.
fn null_byte(source: &str) -> Option<SemanticError> {
    let offset = source.find('\0')?;
    Some(SemanticError {
        statement: 0,
        range: TextRange::at(text_size(offset), TextSize::new(1)),
        message: "source code string cannot contain null bytes".to_owned(),
    })
}

/// The error of `statements` compiled as one module, without top-level `await`, and inside a
/// function too when `timeit`.
fn one_module_error(
    statements: &[Stmt],
    source: &str,
    python_version: Option<PythonVersion>,
    timeit: bool,
) -> Option<SemanticError> {
    let python_version = python_version.unwrap_or_else(PythonVersion::latest);
    let mut visitor = SemanticVisitor::new(source, python_version);
    visitor.ctx.top_level_await = false;
    visitor.ctx.timeit = timeit;
    visitor.ctx.future_annotations = leading_future_annotations(statements);
    visitor.visit_module(statements);
    visitor.ctx.take_error(0)
}

/// The first statement of a parsed cell that CPython refuses to compile when IPython runs it.
pub(crate) fn first_semantic_error(
    body: &[Stmt],
    source: &str,
    python_version: Option<PythonVersion>,
) -> Option<SemanticError> {
    if let Some(error) = null_byte(source) {
        // Python refuses the whole cell before running any of it.
        return Some(error);
    }
    if let Some(timeit) = timed_cell(body) {
        // `%%time` and `%%timeit` compile their body (after the magic line) as one module.
        return one_module_error(&body[1..], source, python_version, timeit);
    }
    let python_version = python_version.unwrap_or_else(PythonVersion::latest);
    let mut visitor = SemanticVisitor::new(source, python_version);
    for (index, stmt) in body.iter().enumerate() {
        visitor.checker = SemanticSyntaxChecker::new();
        visitor.visit_module(std::slice::from_ref(stmt));
        if let Some(error) = visitor.ctx.take_error(index) {
            return Some(error);
        }
        // IPython's compiler keeps the `__future__` features of what it compiled.
        if is_future_annotations(stmt) {
            visitor.ctx.future_annotations = true;
        }
    }
    None
}

fn text_size(offset: usize) -> TextSize {
    TextSize::try_from(offset).expect("a cell is shorter than 4 GiB")
}

/// `Some(is_timeit)` for a `%%time` or `%%timeit` cell (its first statement is the magic).
fn timed_cell(body: &[Stmt]) -> Option<bool> {
    let Some(Stmt::IpyEscapeCommand(command)) = body.first() else {
        return None;
    };
    if command.kind != IpyEscapeKind::Magic2 {
        return None;
    }
    match command.value.split_whitespace().next()? {
        "time" => Some(false),
        "timeit" => Some(true),
        _ => None,
    }
}

/// Whether the `__future__` imports that open a module (after its docstring) include
/// `annotations`.
fn leading_future_annotations(statements: &[Stmt]) -> bool {
    let mut rest = statements;
    if let [Stmt::Expr(docstring), tail @ ..] = rest
        && docstring.value.is_string_literal_expr()
    {
        rest = tail;
    }
    rest.iter()
        .take_while(|stmt| {
            matches!(stmt, Stmt::ImportFrom(import)
                if import.level == 0 && import.module.as_deref() == Some("__future__"))
        })
        .any(is_future_annotations)
}

/// The kind of a scope, as CPython's symbol table sees it.
#[derive(Clone, Copy)]
enum ScopeKind<'a> {
    /// The module: in a notebook, one top-level statement.
    Module,
    /// A `def` or `async def` body.
    Function(&'a ast::StmtFunctionDef),
    /// A `lambda` body.
    Lambda(Option<&'a Parameters>),
    /// A class body.
    Class,
    /// A comprehension or generator expression, past its first iterable.
    Comprehension { is_async: bool, generator: bool },
}

struct Scope<'a> {
    kind: ScopeKind<'a>,
    /// This scope's `global` and `nonlocal` declarations, as indices into
    /// [`Context::declarations`].
    declarations: (usize, usize),
    /// A `yield` belongs to this scope (CPython's symbol table sees it there).
    generator: Cell<bool>,
    /// The first `return` with a value in this scope.
    return_value: Cell<Option<TextRange>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum DeclarationKind {
    Global,
    Nonlocal,
}

impl DeclarationKind {
    fn keyword(self) -> &'static str {
        match self {
            DeclarationKind::Global => "global",
            DeclarationKind::Nonlocal => "nonlocal",
        }
    }
}

/// What a scope did with a name before its `global` or `nonlocal` declaration, as flags.
const USED: u8 = 1;
const ANNOTATED: u8 = 2;
const ASSIGNED: u8 = 4;

/// One name of a `global` or `nonlocal` statement.
struct Declaration<'a> {
    name: &'a str,
    range: TextRange,
    kind: DeclarationKind,
    /// The statement has been visited, in the order of CPython's symbol table.
    visited: Cell<bool>,
    /// What the scope did with the name before that ([`USED`], [`ANNOTATED`], [`ASSIGNED`]).
    earlier: Cell<u8>,
}

impl<'a> Declaration<'a> {
    fn new(name: &'a Identifier, kind: DeclarationKind) -> Self {
        Self {
            name: name.as_str(),
            range: name.range,
            kind,
            visited: Cell::new(false),
            earlier: Cell::new(0),
        }
    }
}

/// Where the code being visited sits within its scope.
#[derive(Clone, Copy, Default)]
struct Flow {
    /// Loops (their bodies, not their `else`) around the code, in this scope.
    loop_depth: u32,
    /// In an `except*` block of this scope.
    in_except_star: bool,
    /// In an `except*` block that is inside the innermost loop (or that no loop encloses).
    except_star_in_loop: bool,
    /// In a `try` statement of this scope.
    in_try: bool,
}

/// The first error found in the statement being checked.
enum Found {
    Checker(SemanticSyntaxError),
    Own { range: TextRange, message: String },
}

impl Found {
    fn range(&self) -> TextRange {
        match self {
            Found::Checker(error) => error.range,
            Found::Own { range, .. } => *range,
        }
    }
}

/// Everything [`SemanticSyntaxChecker`] asks about, kept up to date by [`SemanticVisitor`].
struct Context<'a> {
    source: &'a str,
    python_version: PythonVersion,
    /// `await`, `async for` and `async with` are allowed at module level (IPython's autoawait).
    top_level_await: bool,
    /// A `%%timeit` body: CPython compiles it inside a function too.
    timeit: bool,
    /// `from __future__ import annotations` is in effect.
    future_annotations: bool,
    scopes: Vec<Scope<'a>>,
    declarations: Vec<Declaration<'a>>,
    flow: Flow,
    /// The expression about to be visited may be starred (an element of a list, tuple or set,
    /// a positional argument, or a `*args` annotation).
    star_allowed: bool,
    /// In an annotation that CPython never compiles (a local variable's, or any under
    /// `from __future__ import annotations`): only its symbol table errors count.
    unevaluated: bool,
    error: RefCell<Option<Found>>,
}

impl<'a> Context<'a> {
    fn scope(&self) -> &Scope<'a> {
        self.scopes
            .last()
            .expect("the module scope is always there")
    }

    fn declarations_of(&self, scope: &Scope<'a>) -> &[Declaration<'a>] {
        &self.declarations[scope.declarations.0..scope.declarations.1]
    }

    /// The last declaration of `name` with `kind` in `scope`.
    fn declaration(
        &self,
        scope: &Scope<'a>,
        name: &str,
        kind: DeclarationKind,
    ) -> Option<&Declaration<'a>> {
        self.declarations_of(scope)
            .iter()
            .rev()
            .find(|declaration| declaration.kind == kind && declaration.name == name)
    }

    /// Whether a comprehension (or `await`) here may be asynchronous: an asynchronous
    /// list, set or dict comprehension must sit in an `async def`, in a generator expression
    /// or at top level, possibly through other comprehensions.
    fn comprehension_may_be_async(&self) -> bool {
        for scope in self.scopes.iter().rev() {
            match scope.kind {
                ScopeKind::Comprehension {
                    generator: true, ..
                } => return true,
                ScopeKind::Comprehension { .. } => {}
                ScopeKind::Function(function) => return function.is_async,
                ScopeKind::Lambda(_) | ScopeKind::Class => return false,
                ScopeKind::Module => return self.top_level_await,
            }
        }
        false
    }

    /// Annotations are not compiled but refuse walrus, `yield` and `await` (through 3.13).
    fn postponed_annotations(&self) -> bool {
        self.future_annotations && self.python_version <= PythonVersion::PY313
    }

    /// An error of CPython's code generator (not raised for code it does not compile).
    fn report(&self, range: TextRange, message: String) {
        if !self.unevaluated {
            self.keep(Found::Own { range, message });
        }
    }

    /// An error of CPython's symbol table (raised for annotations it does not compile too).
    fn report_symtable(&self, range: TextRange, message: String) {
        self.keep(Found::Own { range, message });
    }

    /// Keeps the error that starts first.
    fn keep(&self, found: Found) {
        let mut error = self.error.borrow_mut();
        if error
            .as_ref()
            .is_none_or(|kept| found.range().start() < kept.range().start())
        {
            *error = Some(found);
        }
    }

    fn take_error(&mut self, statement: usize) -> Option<SemanticError> {
        let found = self.error.get_mut().take()?;
        let range = found.range();
        let message = match found {
            Found::Checker(error) => error.to_string(),
            Found::Own { message, .. } => message,
        };
        Some(SemanticError {
            statement,
            range,
            message,
        })
    }

    /// Notes what `scope` does with `name` (`what`: [`USED`], ...), for the `global` and
    /// `nonlocal` declarations of it not visited yet: CPython refuses those.
    fn record(&self, scope: &Scope<'a>, name: &str, what: u8) {
        for declaration in self.declarations_of(scope) {
            if declaration.name == name && !declaration.visited.get() {
                declaration.earlier.set(declaration.earlier.get() | what);
            }
        }
    }

    /// `name` is bound in the current scope (by a name, `def`, `class`, `except ... as`, a
    /// `case` pattern, ...).
    fn record_binding(&self, name: &str) {
        self.record(self.scope(), name, ASSIGNED);
    }

    /// Whether `name` is bound in `function`'s own scope.
    fn binds(function: &ast::StmtFunctionDef, name: &str) -> bool {
        if function.parameters.includes(name) {
            return true;
        }
        let mut finder = BindingFinder { name, found: false };
        finder.visit_body(&function.body);
        finder.found
    }
}

impl SemanticSyntaxContext for Context<'_> {
    fn future_annotations_or_stub(&self) -> bool {
        self.future_annotations
    }

    fn lazy_import_context(&self) -> Option<LazyImportContext> {
        match self.scope().kind {
            ScopeKind::Function(_) | ScopeKind::Lambda(_) => Some(LazyImportContext::Function),
            ScopeKind::Class => Some(LazyImportContext::Class),
            ScopeKind::Module | ScopeKind::Comprehension { .. } => self
                .flow
                .in_try
                .then_some(LazyImportContext::TryExceptBlocks),
        }
    }

    fn python_version(&self) -> PythonVersion {
        self.python_version
    }

    fn source(&self) -> &str {
        self.source
    }

    fn global(&self, name: &str) -> Option<TextRange> {
        self.declaration(self.scope(), name, DeclarationKind::Global)
            .map(|declaration| declaration.range)
    }

    /// CPython resolves `nonlocal x` to the nearest enclosing function that binds `x`,
    /// skipping class bodies (which only bind `__class__` for the functions in them); a
    /// function that declares `x` global hides the ones around it, and one that declares it
    /// `nonlocal` passes the question on.
    fn has_nonlocal_binding(&self, name: &str) -> bool {
        let Some((_, enclosing)) = self.scopes.split_last() else {
            return false;
        };
        for scope in enclosing.iter().rev() {
            match scope.kind {
                ScopeKind::Module => return false,
                ScopeKind::Function(function) => {
                    if self
                        .declaration(scope, name, DeclarationKind::Global)
                        .is_some()
                    {
                        return false;
                    }
                    if self
                        .declaration(scope, name, DeclarationKind::Nonlocal)
                        .is_none()
                        && Self::binds(function, name)
                    {
                        return true;
                    }
                }
                // A class gives the functions in it a `__class__` cell (for `super()`).
                ScopeKind::Class if name == "__class__" => return true,
                ScopeKind::Class | ScopeKind::Lambda(_) | ScopeKind::Comprehension { .. } => {}
            }
        }
        false
    }

    fn in_async_context(&self) -> bool {
        match self.scope().kind {
            ScopeKind::Function(function) => function.is_async,
            ScopeKind::Comprehension { .. } => self.comprehension_may_be_async(),
            ScopeKind::Module | ScopeKind::Lambda(_) | ScopeKind::Class => false,
        }
    }

    fn in_await_allowed_context(&self) -> bool {
        // At module level only with top-level `await` (the checker asks `in_notebook` first);
        // in a class body, CPython says "'await' outside function".
        match self.scope().kind {
            ScopeKind::Module | ScopeKind::Class => false,
            ScopeKind::Function(_) | ScopeKind::Lambda(_) | ScopeKind::Comprehension { .. } => true,
        }
    }

    fn in_yield_allowed_context(&self) -> bool {
        matches!(
            self.scope().kind,
            ScopeKind::Function(_) | ScopeKind::Lambda(_)
        )
    }

    fn in_sync_comprehension(&self) -> bool {
        for scope in self.scopes.iter().rev() {
            match scope.kind {
                ScopeKind::Comprehension {
                    is_async: false, ..
                } => return true,
                ScopeKind::Comprehension { .. } => {}
                _ => return false,
            }
        }
        false
    }

    fn in_class_body_comprehension(&self) -> bool {
        for scope in self.scopes.iter().rev() {
            match scope.kind {
                ScopeKind::Comprehension { .. } => {}
                ScopeKind::Class => return true,
                _ => return false,
            }
        }
        false
    }

    fn in_module_scope(&self) -> bool {
        matches!(self.scope().kind, ScopeKind::Module)
    }

    fn in_function_scope(&self) -> bool {
        matches!(self.scope().kind, ScopeKind::Function(_))
    }

    fn in_generator_context(&self) -> bool {
        matches!(
            self.scope().kind,
            ScopeKind::Comprehension {
                generator: true,
                ..
            }
        )
    }

    /// The checker's "notebook" exemption is exactly top-level `await`.
    fn in_notebook(&self) -> bool {
        self.top_level_await
    }

    fn report_semantic_error(&self, error: SemanticSyntaxError) {
        // The checker looks inside lambdas and comprehensions too; `check_annotation` does not.
        if self.postponed_annotations()
            && matches!(
                error.kind,
                SemanticSyntaxErrorKind::InvalidExpression(
                    _,
                    InvalidExpressionPosition::TypeAnnotation
                )
            )
        {
            return;
        }
        // Replaced by checks in the order of CPython's symbol table, which visits a `try`
        // statement's `else` before its handlers up to Python 3.12 (`record`).
        if matches!(
            error.kind,
            SemanticSyntaxErrorKind::LoadBeforeGlobalDeclaration { .. }
                | SemanticSyntaxErrorKind::AnnotatedGlobal(_)
        ) {
            return;
        }
        // Replaced by a check that sees the `yield`s of a function where CPython does,
        // including in the defaults of lambdas and of nested functions.
        if matches!(error.kind, SemanticSyntaxErrorKind::ReturnInGenerator) {
            return;
        }
        if !self.unevaluated || found_by_symtable(&error.kind) {
            self.keep(Found::Checker(error));
        }
    }

    fn in_loop_context(&self) -> bool {
        self.flow.loop_depth > 0
    }

    fn is_bound_parameter(&self, name: &str) -> bool {
        match self.scope().kind {
            ScopeKind::Function(function) => function.parameters.includes(name),
            ScopeKind::Lambda(parameters) => parameters.is_some_and(|p| p.includes(name)),
            _ => false,
        }
    }
}

/// Walks one module (a top-level statement, or a `%%time` body), feeding the checker.
struct SemanticVisitor<'a> {
    checker: SemanticSyntaxChecker,
    ctx: Context<'a>,
}

impl<'a> SemanticVisitor<'a> {
    fn new(source: &'a str, python_version: PythonVersion) -> Self {
        Self {
            checker: SemanticSyntaxChecker::new(),
            ctx: Context {
                source,
                python_version,
                top_level_await: true,
                timeit: false,
                future_annotations: false,
                scopes: Vec::with_capacity(8),
                declarations: Vec::new(),
                flow: Flow::default(),
                star_allowed: false,
                unevaluated: false,
                error: RefCell::new(None),
            },
        }
    }

    fn visit_module(&mut self, statements: &'a [Stmt]) {
        self.in_scope(ScopeKind::Module, statements, |visitor| {
            visitor.visit_body(statements);
        });
    }

    /// Runs `visit` in a new scope whose statements (if any) are `body`.
    fn in_scope(&mut self, kind: ScopeKind<'a>, body: &'a [Stmt], visit: impl FnOnce(&mut Self)) {
        let start = self.ctx.declarations.len();
        // Walking a scope's statements (not their expressions) costs less than searching
        // the cell's text for the two words first.
        collect_declarations(body, &mut self.ctx.declarations);
        let end = self.ctx.declarations.len();
        self.ctx.scopes.push(Scope {
            kind,
            declarations: (start, end),
            generator: Cell::new(false),
            return_value: Cell::new(None),
        });
        let flow = std::mem::take(&mut self.ctx.flow);
        visit(self);
        self.ctx.flow = flow;
        let scope = self.ctx.scopes.pop().expect("pushed above");
        if let ScopeKind::Function(function) = scope.kind
            && function.is_async
            && scope.generator.get()
            && let Some(range) = scope.return_value.get()
        {
            self.ctx
                .report(range, "'return' with value in async generator".to_owned());
        }
        self.ctx.declarations.truncate(start);
    }

    fn visit_loop_body(&mut self, body: &'a [Stmt]) {
        let flow = self.ctx.flow;
        self.ctx.flow.loop_depth += 1;
        self.ctx.flow.except_star_in_loop = false;
        self.visit_body(body);
        self.ctx.flow = flow;
    }

    fn visit_try(&mut self, try_stmt: &'a ast::StmtTry) {
        let flow = self.ctx.flow;
        self.ctx.flow.in_try = true;
        self.visit_body(&try_stmt.body);
        // CPython's symbol table visits the `else` before the handlers up to 3.12.
        let else_first = self.ctx.python_version <= PythonVersion::PY312;
        if else_first {
            self.visit_body(&try_stmt.orelse);
        }
        for handler in &try_stmt.handlers {
            let ast::ExceptHandler::ExceptHandler(handler) = handler;
            if let Some(type_) = &handler.type_ {
                self.visit_expr(type_);
            }
            if let Some(name) = &handler.name {
                self.ctx.record_binding(name);
            }
            let handler_flow = self.ctx.flow;
            if try_stmt.is_star {
                self.ctx.flow.in_except_star = true;
                self.ctx.flow.except_star_in_loop = true;
            }
            self.visit_body(&handler.body);
            self.ctx.flow = handler_flow;
        }
        if !else_first {
            self.visit_body(&try_stmt.orelse);
        }
        self.visit_body(&try_stmt.finalbody);
        self.ctx.flow = flow;
    }

    fn visit_function(&mut self, function: &'a ast::StmtFunctionDef) {
        self.ctx.record_binding(&function.name);
        // Decorators, defaults and annotations run in the enclosing scope.
        for decorator in &function.decorator_list {
            self.visit_decorator(decorator);
        }
        if let Some(type_params) = &function.type_params {
            self.visit_type_params(type_params);
        }
        for annotation in function
            .parameters
            .iter()
            .filter_map(ast::AnyParameterRef::annotation)
            .chain(function.returns.as_deref())
        {
            self.check_annotation(annotation);
        }
        self.visit_parameters(&function.parameters);
        if let Some(returns) = &function.returns {
            self.visit_annotation_compiled(returns, !self.ctx.future_annotations);
        }
        self.in_scope(ScopeKind::Function(function), &function.body, |visitor| {
            visitor.visit_body(&function.body);
        });
    }

    fn visit_class(&mut self, class: &'a ast::StmtClassDef) {
        self.ctx.record_binding(&class.name);
        for decorator in &class.decorator_list {
            self.visit_decorator(decorator);
        }
        if let Some(type_params) = &class.type_params {
            self.visit_type_params(type_params);
        }
        if let Some(arguments) = &class.arguments {
            self.visit_arguments(arguments);
        }
        self.in_scope(ScopeKind::Class, &class.body, |visitor| {
            visitor.visit_body(&class.body);
        });
    }

    /// A `global` or `nonlocal` statement: CPython refuses a name the scope used, bound or
    /// annotated before, or that it declares both ways.
    fn check_declaration(&self, names: &[Identifier], kind: DeclarationKind) {
        let other = match kind {
            DeclarationKind::Global => DeclarationKind::Nonlocal,
            DeclarationKind::Nonlocal => DeclarationKind::Global,
        };
        let keyword = kind.keyword();
        for name in names {
            let declarations = self.ctx.declarations_of(self.ctx.scope());
            if let Some(declaration) = declarations.iter().find(|d| d.range == name.range) {
                declaration.visited.set(true);
                let earlier = declaration.earlier.get();
                let message = if earlier & USED != 0 {
                    format!("name '{name}' is used prior to {keyword} declaration")
                } else if earlier & ANNOTATED != 0 {
                    format!("annotated name '{name}' can't be {keyword}")
                } else if earlier & ASSIGNED != 0 {
                    format!("name '{name}' is assigned to before {keyword} declaration")
                } else {
                    String::new()
                };
                if !message.is_empty() {
                    self.ctx.report_symtable(name.range, message);
                }
            }
            if self
                .ctx
                .declaration(self.ctx.scope(), name.as_str(), other)
                .is_some()
            {
                self.ctx.report(
                    name.range,
                    format!("name '{}' is nonlocal and global", name.as_str()),
                );
            }
        }
    }

    /// `x: int` in a function or class after `global x` or `nonlocal x`.
    fn check_annotated_name(&self, target: &ast::ExprName) {
        let scope = self.ctx.scope();
        self.ctx.record(scope, &target.id, ANNOTATED);
        if matches!(scope.kind, ScopeKind::Module) {
            return;
        }
        if let Some(declaration) = self
            .ctx
            .declarations_of(scope)
            .iter()
            .find(|d| d.name == target.id.as_str() && d.visited.get())
        {
            self.ctx.report_symtable(
                target.range,
                format!(
                    "annotated name '{}' can't be {}",
                    target.id,
                    declaration.kind.keyword()
                ),
            );
        }
    }

    fn check_break(&self, range: TextRange) {
        if self.ctx.flow.loop_depth > 0 && self.ctx.flow.except_star_in_loop {
            self.report_except_star(range);
        }
    }

    fn report_except_star(&self, range: TextRange) {
        self.ctx.report(
            range,
            "'break', 'continue' and 'return' cannot appear in an except* block".to_owned(),
        );
    }

    /// Under `from __future__ import annotations` (through 3.13; the checker covers 3.14 on),
    /// CPython refuses walrus, `yield` and `await` in an annotation, outside the lambdas and
    /// comprehensions in it.
    fn check_annotation(&self, annotation: &Expr) {
        if !self.ctx.postponed_annotations() {
            return;
        }
        let mut finder = AnnotationFinder { found: None };
        finder.visit_expr(annotation);
        if let Some((range, what)) = finder.found {
            self.ctx.report_symtable(
                range,
                format!("'{what}' can not be used within an annotation"),
            );
        }
    }

    /// A name expression in the current scope.
    fn check_name(&self, name: &ast::ExprName) {
        let scope = self.ctx.scope();
        if scope.declarations.0 != scope.declarations.1 {
            let what = if name.ctx == ExprContext::Load {
                USED
            } else {
                ASSIGNED
            };
            self.ctx.record(scope, &name.id, what);
        }
    }

    /// A walrus in a comprehension binds in the scope around it.
    fn check_named(&self, named: &ast::ExprNamed) {
        let Expr::Name(target) = &*named.target else {
            return;
        };
        let Some(scope) = self
            .ctx
            .scopes
            .iter()
            .rev()
            .find(|scope| !matches!(scope.kind, ScopeKind::Comprehension { .. }))
        else {
            return;
        };
        // At module level the walrus makes the name global, which a `global` statement may
        // say again.
        if !matches!(scope.kind, ScopeKind::Module) {
            self.ctx.record(scope, &target.id, ASSIGNED);
        }
    }

    /// Visits an annotation, which CPython may only enter in its symbol table.
    fn visit_annotation_compiled(&mut self, annotation: &'a Expr, compiled: bool) {
        let unevaluated = self.ctx.unevaluated;
        self.ctx.unevaluated |= !compiled;
        self.visit_annotation(annotation);
        self.ctx.unevaluated = unevaluated;
    }

    fn visit_comprehension_scope(
        &mut self,
        generators: &'a [ast::Comprehension],
        generator: bool,
        elements: &[&'a Expr],
    ) {
        let Some((first, rest)) = generators.split_first() else {
            return;
        };
        // The first iterable is evaluated in the enclosing scope.
        self.visit_expr(&first.iter);
        let kind = ScopeKind::Comprehension {
            is_async: generators.iter().any(|generator| generator.is_async),
            generator,
        };
        self.in_scope(kind, &[], |visitor| {
            visitor.visit_expr(&first.target);
            for condition in &first.ifs {
                visitor.visit_expr(condition);
            }
            for comprehension in rest {
                visitor.visit_comprehension(comprehension);
            }
            for element in elements {
                visitor.visit_expr(element);
            }
        });
    }

    /// Irrefutable patterns are allowed only as the last alternative of an or-pattern (the
    /// checker covers the `case` level).
    fn check_or_patterns(&self, pattern: &Pattern, allowed: bool) {
        match pattern {
            Pattern::MatchAs(ast::PatternMatchAs {
                pattern: None,
                name,
                range,
                ..
            }) => {
                if !allowed {
                    let message = match name {
                        Some(name) => {
                            format!("name capture '{name}' makes remaining patterns unreachable")
                        }
                        None => "wildcard makes remaining patterns unreachable".to_owned(),
                    };
                    self.ctx.report(*range, message);
                }
            }
            Pattern::MatchAs(ast::PatternMatchAs {
                pattern: Some(pattern),
                ..
            }) => self.check_or_patterns(pattern, allowed),
            Pattern::MatchOr(ast::PatternMatchOr { patterns, .. }) => {
                let last = patterns.len().saturating_sub(1);
                for (index, alternative) in patterns.iter().enumerate() {
                    self.check_or_patterns(alternative, allowed && index == last);
                }
            }
            Pattern::MatchSequence(ast::PatternMatchSequence { patterns, .. }) => {
                for pattern in patterns {
                    self.check_or_patterns(pattern, true);
                }
            }
            Pattern::MatchMapping(ast::PatternMatchMapping { patterns, .. }) => {
                for pattern in patterns {
                    self.check_or_patterns(pattern, true);
                }
            }
            Pattern::MatchClass(ast::PatternMatchClass { arguments, .. }) => {
                for pattern in &arguments.patterns {
                    self.check_or_patterns(pattern, true);
                }
                for keyword in &arguments.keywords {
                    self.check_or_patterns(&keyword.pattern, true);
                }
            }
            Pattern::MatchValue(_) | Pattern::MatchSingleton(_) | Pattern::MatchStar(_) => {}
        }
    }
}

impl<'a> Visitor<'a> for SemanticVisitor<'a> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        self.checker.visit_stmt(stmt, &self.ctx);
        match stmt {
            Stmt::FunctionDef(function) => self.visit_function(function),
            Stmt::ClassDef(class) => self.visit_class(class),
            Stmt::For(for_stmt) => {
                self.visit_expr(&for_stmt.iter);
                self.visit_expr(&for_stmt.target);
                self.visit_loop_body(&for_stmt.body);
                self.visit_body(&for_stmt.orelse);
            }
            Stmt::While(while_stmt) => {
                self.visit_expr(&while_stmt.test);
                self.visit_loop_body(&while_stmt.body);
                self.visit_body(&while_stmt.orelse);
            }
            Stmt::Try(try_stmt) => self.visit_try(try_stmt),
            Stmt::Break(ast::StmtBreak { range, .. })
            | Stmt::Continue(ast::StmtContinue { range, .. }) => self.check_break(*range),
            Stmt::Return(return_stmt) => {
                if self.ctx.flow.in_except_star {
                    self.report_except_star(return_stmt.range);
                }
                let scope = self.ctx.scope();
                if return_stmt.value.is_some() && scope.return_value.get().is_none() {
                    scope.return_value.set(Some(return_stmt.range));
                }
                visitor::walk_stmt(self, stmt);
            }
            Stmt::Global(global) => {
                self.check_declaration(&global.names, DeclarationKind::Global);
            }
            Stmt::Nonlocal(nonlocal) => {
                self.check_declaration(&nonlocal.names, DeclarationKind::Nonlocal);
            }
            Stmt::AnnAssign(assign) => {
                if let Expr::Name(target) = &*assign.target
                    && assign.simple
                {
                    self.check_annotated_name(target);
                }
                self.check_annotation(&assign.annotation);
                if let Some(value) = &assign.value {
                    self.visit_expr(value);
                }
                let compiled = !self.ctx.future_annotations
                    && !matches!(self.ctx.scope().kind, ScopeKind::Function(_));
                self.visit_annotation_compiled(&assign.annotation, compiled);
                self.visit_expr(&assign.target);
            }
            Stmt::ImportFrom(import) => {
                // `%%timeit` runs its body inside a function too.
                if self.ctx.timeit && matches!(self.ctx.scope().kind, ScopeKind::Module) {
                    if import.module.as_deref() == Some("__future__") && import.level == 0 {
                        self.ctx.report(
                            import.range,
                            "from __future__ imports must occur at the beginning of the file"
                                .to_owned(),
                        );
                    } else if import.names.iter().any(|alias| alias.name.as_str() == "*") {
                        self.ctx.report(
                            import.range,
                            "import * only allowed at module level".to_owned(),
                        );
                    }
                }
            }
            Stmt::Import(import) => {
                // `import __debug__.x` binds `__debug__` (the checker only sees `__debug__`).
                for alias in &import.names {
                    if alias.asname.is_none() && alias.name.as_str().starts_with("__debug__.") {
                        self.ctx
                            .report(alias.name.range, "cannot assign to __debug__".to_owned());
                    }
                }
            }
            Stmt::AugAssign(assign) => {
                self.visit_expr(&assign.value);
                match &*assign.target {
                    // CPython does not check an augmented attribute for `__debug__`.
                    Expr::Attribute(attribute) => {
                        self.checker.visit_expr(&assign.target, &self.ctx);
                        self.visit_expr(&attribute.value);
                    }
                    target => self.visit_expr(target),
                }
            }
            Stmt::Match(match_stmt) => {
                for case in &match_stmt.cases {
                    self.check_or_patterns(&case.pattern, true);
                }
                visitor::walk_stmt(self, stmt);
            }
            _ => visitor::walk_stmt(self, stmt),
        }
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        let star_allowed = std::mem::take(&mut self.ctx.star_allowed);
        self.checker.visit_expr(expr, &self.ctx);
        match expr {
            Expr::Name(name) => self.check_name(name),
            Expr::Starred(starred) => {
                if !star_allowed {
                    let message = if starred.ctx == ExprContext::Store {
                        "starred assignment target must be in a list or tuple"
                    } else {
                        "can't use starred expression here"
                    };
                    self.ctx.report(starred.range, message.to_owned());
                }
                self.visit_expr(&starred.value);
            }
            Expr::List(ast::ExprList { elts, .. })
            | Expr::Tuple(ast::ExprTuple { elts, .. })
            | Expr::Set(ast::ExprSet { elts, .. }) => {
                for element in elts {
                    self.ctx.star_allowed = true;
                    self.visit_expr(element);
                }
            }
            Expr::Attribute(attribute) => {
                if attribute.ctx == ExprContext::Store && attribute.attr.as_str() == "__debug__" {
                    self.ctx.report(
                        attribute.attr.range,
                        "cannot assign to __debug__".to_owned(),
                    );
                }
                self.visit_expr(&attribute.value);
            }
            Expr::Yield(_) | Expr::YieldFrom(_) => {
                self.ctx.scope().generator.set(true);
                visitor::walk_expr(self, expr);
            }
            Expr::Named(named) => {
                if matches!(self.ctx.scope().kind, ScopeKind::Comprehension { .. }) {
                    self.check_named(named);
                }
                visitor::walk_expr(self, expr);
            }
            Expr::Lambda(lambda) => {
                if let Some(parameters) = &lambda.parameters {
                    self.visit_parameters(parameters);
                }
                let kind = ScopeKind::Lambda(lambda.parameters.as_deref());
                self.in_scope(kind, &[], |visitor| visitor.visit_expr(&lambda.body));
            }
            Expr::ListComp(comprehension) => self.visit_comprehension_scope(
                &comprehension.generators,
                false,
                &[&*comprehension.elt],
            ),
            Expr::SetComp(comprehension) => self.visit_comprehension_scope(
                &comprehension.generators,
                false,
                &[&*comprehension.elt],
            ),
            Expr::Generator(generator) => {
                self.visit_comprehension_scope(&generator.generators, true, &[&*generator.elt]);
            }
            Expr::DictComp(comprehension) => match &comprehension.key {
                Some(key) => self.visit_comprehension_scope(
                    &comprehension.generators,
                    false,
                    &[&**key, &*comprehension.value],
                ),
                None => self.visit_comprehension_scope(
                    &comprehension.generators,
                    false,
                    &[&*comprehension.value],
                ),
            },
            _ => visitor::walk_expr(self, expr),
        }
    }

    fn visit_arguments(&mut self, arguments: &'a ast::Arguments) {
        for argument in &arguments.args {
            self.ctx.star_allowed = true;
            self.visit_expr(argument);
        }
        for keyword in &arguments.keywords {
            self.visit_keyword(keyword);
        }
    }

    fn visit_keyword(&mut self, keyword: &'a ast::Keyword) {
        if let Some(arg) = &keyword.arg
            && arg.as_str() == "__debug__"
        {
            self.ctx
                .report(arg.range, "cannot assign to __debug__".to_owned());
        }
        self.visit_expr(&keyword.value);
    }

    fn visit_parameters(&mut self, parameters: &'a Parameters) {
        for default in parameters
            .iter_non_variadic_params()
            .filter_map(|parameter| parameter.default.as_deref())
        {
            self.visit_expr(default);
        }
        for parameter in parameters {
            if let Some(annotation) = parameter.annotation() {
                // `*args: *Ts` (PEP 646).
                self.ctx.star_allowed = parameters
                    .vararg
                    .as_deref()
                    .is_some_and(|vararg| std::ptr::eq(vararg, parameter.as_parameter()));
                self.visit_annotation_compiled(annotation, !self.ctx.future_annotations);
            }
        }
    }

    fn visit_pattern(&mut self, pattern: &'a Pattern) {
        match pattern {
            Pattern::MatchAs(ast::PatternMatchAs {
                name: Some(name), ..
            })
            | Pattern::MatchStar(ast::PatternMatchStar {
                name: Some(name), ..
            })
            | Pattern::MatchMapping(ast::PatternMatchMapping {
                rest: Some(name), ..
            }) => self.ctx.record_binding(name),
            _ => {}
        }
        match pattern {
            Pattern::MatchValue(ast::PatternMatchValue { value, .. })
                if is_interpolated_string(value) =>
            {
                self.ctx.report(
                    value.range(),
                    "patterns may only match literals and attribute lookups".to_owned(),
                );
            }
            Pattern::MatchClass(ast::PatternMatchClass { arguments, .. }) => {
                for keyword in &arguments.keywords {
                    if keyword.attr.as_str() == "__debug__" {
                        self.ctx
                            .report(keyword.attr.range, "cannot assign to __debug__".to_owned());
                    }
                }
            }
            _ => {}
        }
        visitor::walk_pattern(self, pattern);
    }
}

/// Whether CPython's symbol table (rather than its code generator) raises this error, among
/// those the checker finds in expressions.
fn found_by_symtable(kind: &SemanticSyntaxErrorKind) -> bool {
    matches!(
        kind,
        SemanticSyntaxErrorKind::DuplicateParameter(_)
            | SemanticSyntaxErrorKind::NamedExpressionInComprehensionIterable
            | SemanticSyntaxErrorKind::NamedExpressionInClassBodyComprehension
            | SemanticSyntaxErrorKind::ReboundComprehensionVariable
            | SemanticSyntaxErrorKind::LoadBeforeGlobalDeclaration { .. }
            | SemanticSyntaxErrorKind::YieldOutsideFunction(
                YieldOutsideFunctionKind::Yield | YieldOutsideFunctionKind::YieldFrom
            )
    )
}

fn is_interpolated_string(expr: &Expr) -> bool {
    matches!(expr, Expr::FString(_) | Expr::TString(_))
}

/// Appends the `global` and `nonlocal` declarations of a scope whose statements are `body`
/// (not those of the scopes nested in it).
fn collect_declarations<'a>(body: &'a [Stmt], out: &mut Vec<Declaration<'a>>) {
    for stmt in body {
        match stmt {
            Stmt::Global(ast::StmtGlobal { names, .. }) => {
                out.extend(
                    names
                        .iter()
                        .map(|name| Declaration::new(name, DeclarationKind::Global)),
                );
            }
            Stmt::Nonlocal(ast::StmtNonlocal { names, .. }) => {
                out.extend(
                    names
                        .iter()
                        .map(|name| Declaration::new(name, DeclarationKind::Nonlocal)),
                );
            }
            Stmt::If(if_stmt) => {
                collect_declarations(&if_stmt.body, out);
                for clause in &if_stmt.elif_else_clauses {
                    collect_declarations(&clause.body, out);
                }
            }
            Stmt::For(ast::StmtFor { body, orelse, .. })
            | Stmt::While(ast::StmtWhile { body, orelse, .. }) => {
                collect_declarations(body, out);
                collect_declarations(orelse, out);
            }
            Stmt::With(with) => collect_declarations(&with.body, out),
            Stmt::Try(try_stmt) => {
                collect_declarations(&try_stmt.body, out);
                for handler in &try_stmt.handlers {
                    let ast::ExceptHandler::ExceptHandler(handler) = handler;
                    collect_declarations(&handler.body, out);
                }
                collect_declarations(&try_stmt.orelse, out);
                collect_declarations(&try_stmt.finalbody, out);
            }
            Stmt::Match(match_stmt) => {
                for case in &match_stmt.cases {
                    collect_declarations(&case.body, out);
                }
            }
            _ => {}
        }
    }
}

/// Looks for a binding of one name in a function body, outside the scopes nested in it
/// (except for the walrus targets of comprehensions, which bind in the function).
struct BindingFinder<'n> {
    name: &'n str,
    found: bool,
}

impl BindingFinder<'_> {
    fn check(&mut self, name: &str) {
        if name == self.name {
            self.found = true;
        }
    }
}

impl<'a> Visitor<'a> for BindingFinder<'_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        if self.found {
            return;
        }
        match stmt {
            Stmt::FunctionDef(function) => {
                self.check(&function.name);
                for decorator in &function.decorator_list {
                    self.visit_decorator(decorator);
                }
                self.visit_parameters(&function.parameters);
                if let Some(returns) = &function.returns {
                    self.visit_annotation(returns);
                }
            }
            Stmt::ClassDef(class) => {
                self.check(&class.name);
                for decorator in &class.decorator_list {
                    self.visit_decorator(decorator);
                }
                if let Some(arguments) = &class.arguments {
                    self.visit_arguments(arguments);
                }
            }
            Stmt::Import(ast::StmtImport { names, .. })
            | Stmt::ImportFrom(ast::StmtImportFrom { names, .. }) => {
                for alias in names {
                    let bound = match &alias.asname {
                        Some(asname) => asname.as_str(),
                        None => alias.name.split('.').next().unwrap_or_default(),
                    };
                    self.check(bound);
                }
            }
            Stmt::Try(try_stmt) => {
                for handler in &try_stmt.handlers {
                    let ast::ExceptHandler::ExceptHandler(handler) = handler;
                    if let Some(name) = &handler.name {
                        self.check(name);
                    }
                }
                visitor::walk_stmt(self, stmt);
            }
            _ => visitor::walk_stmt(self, stmt),
        }
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if self.found {
            return;
        }
        match expr {
            Expr::Name(name) => {
                if name.ctx != ExprContext::Load {
                    self.check(&name.id);
                }
            }
            Expr::Lambda(lambda) => {
                if let Some(parameters) = &lambda.parameters {
                    self.visit_parameters(parameters);
                }
            }
            Expr::ListComp(ast::ExprListComp { generators, .. })
            | Expr::SetComp(ast::ExprSetComp { generators, .. })
            | Expr::DictComp(ast::ExprDictComp { generators, .. })
            | Expr::Generator(ast::ExprGenerator { generators, .. }) => {
                // Everything but the iteration targets, which bind in the comprehension.
                for comprehension in generators {
                    self.visit_expr(&comprehension.iter);
                    for condition in &comprehension.ifs {
                        self.visit_expr(condition);
                    }
                }
                match expr {
                    Expr::ListComp(ast::ExprListComp { elt, .. })
                    | Expr::SetComp(ast::ExprSetComp { elt, .. })
                    | Expr::Generator(ast::ExprGenerator { elt, .. }) => self.visit_expr(elt),
                    Expr::DictComp(ast::ExprDictComp { key, value, .. }) => {
                        if let Some(key) = key {
                            self.visit_expr(key);
                        }
                        self.visit_expr(value);
                    }
                    _ => {}
                }
            }
            _ => visitor::walk_expr(self, expr),
        }
    }

    fn visit_pattern(&mut self, pattern: &'a Pattern) {
        match pattern {
            Pattern::MatchAs(ast::PatternMatchAs {
                name: Some(name), ..
            })
            | Pattern::MatchStar(ast::PatternMatchStar {
                name: Some(name), ..
            })
            | Pattern::MatchMapping(ast::PatternMatchMapping {
                rest: Some(name), ..
            }) => self.check(name),
            _ => {}
        }
        visitor::walk_pattern(self, pattern);
    }
}

/// Finds the first walrus, `yield` or `await` in an annotation, outside its own scopes.
struct AnnotationFinder {
    found: Option<(TextRange, &'static str)>,
}

impl<'a> Visitor<'a> for AnnotationFinder {
    fn visit_expr(&mut self, expr: &'a Expr) {
        if self.found.is_some() {
            return;
        }
        let what = match expr {
            Expr::Named(_) => "named expression",
            Expr::Yield(_) | Expr::YieldFrom(_) => "yield expression",
            Expr::Await(_) => "await expression",
            Expr::Lambda(lambda) => {
                if let Some(parameters) = &lambda.parameters {
                    self.visit_parameters(parameters);
                }
                return;
            }
            Expr::ListComp(ast::ExprListComp { generators, .. })
            | Expr::SetComp(ast::ExprSetComp { generators, .. })
            | Expr::DictComp(ast::ExprDictComp { generators, .. })
            | Expr::Generator(ast::ExprGenerator { generators, .. }) => {
                // Only the first iterable is evaluated in the annotation's scope.
                if let Some(first) = generators.first() {
                    self.visit_expr(&first.iter);
                }
                return;
            }
            _ => {
                visitor::walk_expr(self, expr);
                return;
            }
        };
        self.found = Some((expr.range(), what));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::python::parse::parse_cell;

    /// The first semantic error of a cell that must parse, as (statement, message).
    fn error_for(source: &str, version: Option<PythonVersion>) -> Option<(usize, String)> {
        let parsed = parse_cell(source);
        assert!(
            parsed.errors().is_empty(),
            "{source:?} does not parse: {:?}",
            parsed.errors()
        );
        let error = first_semantic_error(&parsed.syntax().body, source, version)?;
        assert!(
            error.range.end().to_usize() <= source.len(),
            "{source:?}: range {:?} is outside the source",
            error.range
        );
        Some((error.statement, error.message))
    }

    fn error(source: &str) -> Option<(usize, String)> {
        error_for(source, None)
    }

    #[track_caller]
    fn assert_error(source: &str, statement: usize, message: &str) {
        match error(source) {
            Some((found, text)) => {
                assert_eq!(found, statement, "{source:?}: {text}");
                assert!(
                    text.contains(message),
                    "{source:?}: message {text:?} lacks {message:?}"
                );
            }
            None => panic!("{source:?}: no error found, expected {message:?}"),
        }
    }

    #[track_caller]
    fn assert_valid(source: &str) {
        assert_eq!(error(source), None, "{source:?}");
    }

    #[test]
    fn errors_the_checker_finds() {
        let cases = [
            ("return 1\n", "`return` statement outside of a function"),
            ("yield 1\n", "`yield` statement outside of a function"),
            ("x = yield from y\n", "`yield from` statement outside"),
            (
                "class C:\n    await x\n",
                "`await` statement outside of a function",
            ),
            (
                "def f():\n    await x\n",
                "`await` outside of an asynchronous function",
            ),
            (
                "def f():\n    async for x in y: pass\n",
                "`async for` outside",
            ),
            ("def f():\n    async with x: pass\n", "`async with` outside"),
            (
                "def f():\n    return [x async for x in y]\n",
                "asynchronous comprehension",
            ),
            (
                "lambda: await x\n",
                "`await` outside of an asynchronous function",
            ),
            (
                "async def f():\n    yield from x\n",
                "`yield from` statement in async",
            ),
            ("break\n", "`break` outside loop"),
            ("continue\n", "`continue` outside loop"),
            (
                "for x in y:\n    pass\nelse:\n    break\n",
                "`break` outside loop",
            ),
            (
                "for x in y:\n    def f():\n        continue\n",
                "`continue` outside loop",
            ),
            ("def f(a, a): pass\n", "Duplicate parameter \"a\""),
            ("lambda a, a: 0\n", "Duplicate parameter \"a\""),
            ("f(a=1, a=2)\n", "Duplicate keyword argument `a`"),
            (
                "class C(metaclass=M, metaclass=M): pass\n",
                "Duplicate keyword argument",
            ),
            (
                "nonlocal x\n",
                "nonlocal declaration not allowed at module level",
            ),
            (
                "def f():\n    nonlocal x\n",
                "no binding for nonlocal `x` found",
            ),
            (
                "class C:\n    x = 1\n    def f():\n        nonlocal x\n",
                "no binding",
            ),
            (
                "def f():\n    x = 1\n    def g():\n        global x\n        def h():\n            nonlocal x\n",
                "no binding for nonlocal `x` found",
            ),
            (
                "class C:\n    nonlocal __class__\n",
                "no binding for nonlocal `__class__`",
            ),
            ("def f(x):\n    nonlocal x\n", "parameter and a nonlocal"),
            ("def f(x):\n    global x\n", "parameter and a global"),
            (
                "def f():\n    from m import *\n",
                "only allowed at module level",
            ),
            (
                "class C:\n    from m import *\n",
                "only allowed at module level",
            ),
            (
                "from __future__ import nope\n",
                "Future feature `nope` is not defined",
            ),
            (
                "from __future__ import braces\n",
                "Future feature `braces` is not defined",
            ),
            (
                "if x:\n    from __future__ import annotations\n",
                "__future__ imports must be at the top",
            ),
            (
                "*a = b\n",
                "starred assignment target must be in a list or tuple",
            ),
            ("a = *b\n", "Starred expression cannot be used here"),
            (
                "for x in *a: pass\n",
                "Starred expression cannot be used here",
            ),
            ("a, *b, *c = d\n", "Two starred expressions in assignment"),
            (
                "[(a := 0) for a in y]\n",
                "cannot rebind comprehension variable",
            ),
            (
                "[x for x in (y := z)]\n",
                "comprehension iterable expression",
            ),
            (
                "[x for x in (lambda: (y := 1))()]\n",
                "comprehension iterable",
            ),
            (
                "class C:\n    [(y := 1) for x in z]\n",
                "cannot be used in a class body",
            ),
            ("__debug__ = 1\n", "cannot assign to `__debug__`"),
            ("def f(__debug__): pass\n", "cannot assign to `__debug__`"),
            ("import __debug__\n", "cannot assign to `__debug__`"),
            ("del __debug__\n", "cannot delete `__debug__`"),
            (
                "match x:\n    case a:\n        pass\n    case 2:\n        pass\n",
                "name capture",
            ),
            (
                "match x:\n    case [a, a]: pass\n",
                "multiple assignments to name `a`",
            ),
            (
                "match x:\n    case [*a, *b]: pass\n",
                "multiple starred names",
            ),
            (
                "match x:\n    case [a] | [b]: pass\n",
                "alternative patterns bind different",
            ),
            (
                "match x:\n    case {'a': 1, 'a': 2}: pass\n",
                "duplicate key `'a'`",
            ),
            (
                "match x:\n    case C(a=1, a=2): pass\n",
                "attribute name `a` repeated",
            ),
            ("def f[T, T](): pass\n", "duplicate type parameter"),
            (
                "class C[T = int, U]: pass\n",
                "non default type parameter `U`",
            ),
        ];
        for (source, message) in cases {
            assert_error(source, 0, message);
        }
    }

    #[test]
    fn errors_found_beside_the_checker() {
        let cases = [
            (
                "async def f():\n    yield 1\n    return 2\n",
                "'return' with value in async",
            ),
            (
                "async def f():\n    return 1\n    lambda x=(yield): x\n",
                "value in async generator",
            ),
            (
                "async def f():\n    def g(x=(yield)): pass\n    return 1\n",
                "in async generator",
            ),
            (
                "def f():\n    print(x)\n    global x\n",
                "name 'x' is used prior to global",
            ),
            (
                "def f():\n    x = 1\n    global x\n",
                "'x' is assigned to before global",
            ),
            (
                "def f():\n    global x\n    print(x)\n    global x\n",
                "used prior to global",
            ),
            (
                "for i in y:\n    x = i\n    global x\n",
                "'x' is assigned to before global",
            ),
            (
                "def f():\n    global x\n    x: int = 1\n",
                "annotated name 'x' can't be global",
            ),
            (
                "def f():\n    x: int\n    global x\n",
                "annotated name 'x' can't be global",
            ),
            (
                "def f():\n    global x\n    nonlocal x\n",
                "name 'x' is nonlocal and global",
            ),
            (
                "def f():\n    x = 1\n    def g():\n        print(x)\n        nonlocal x\n",
                "name 'x' is used prior to nonlocal declaration",
            ),
            (
                "def f():\n    x = 1\n    def g():\n        x = 2\n        nonlocal x\n",
                "name 'x' is assigned to before nonlocal declaration",
            ),
            (
                "def f():\n    x = 1\n    def g():\n        nonlocal x\n        x: int = 2\n",
                "annotated name 'x' can't be nonlocal",
            ),
            (
                "def f():\n    def x(): pass\n    global x\n",
                "assigned to before global",
            ),
            (
                "def f():\n    class x: pass\n    global x\n",
                "assigned to before global",
            ),
            (
                "def f():\n    try: pass\n    except E as x: pass\n    global x\n",
                "name 'x' is assigned to before global declaration",
            ),
            (
                "def f():\n    match y:\n        case [*x]: pass\n    global x\n",
                "name 'x' is assigned to before global declaration",
            ),
            (
                "def f():\n    [(x := 1) for _ in y]\n    global x\n",
                "name 'x' is assigned to before global declaration",
            ),
            ("a += *b\n", "can't use starred expression here"),
            ("x: int = *b\n", "can't use starred expression here"),
            ("a = b = *c\n", "Starred expression cannot be used here"),
            (
                "while x:\n    try:\n        pass\n    except* E:\n        for x in y:\n            pass\n        break\n",
                "'break', 'continue' and 'return' cannot appear in an except* block",
            ),
            (
                "for x in y:\n    try:\n        pass\n    except* E:\n        continue\n",
                "cannot appear in an except* block",
            ),
            (
                "def f():\n    try:\n        pass\n    except* E:\n        for x in y:\n            return\n",
                "cannot appear in an except* block",
            ),
            ("x.__debug__ = 1\n", "cannot assign to __debug__"),
            ("import __debug__.x\n", "cannot assign to __debug__"),
            ("f(__debug__=1)\n", "cannot assign to __debug__"),
            (
                "match x:\n    case C(__debug__=1): pass\n",
                "cannot assign to __debug__",
            ),
            (
                "match x:\n    case _ | 1: pass\n",
                "wildcard makes remaining patterns",
            ),
            (
                "match x:\n    case [_ | 1]: pass\n",
                "wildcard makes remaining patterns",
            ),
            (
                "match x:\n    case [a | a]: pass\n",
                "name capture 'a' makes remaining",
            ),
            (
                "match x:\n    case f'x': pass\n",
                "patterns may only match literals",
            ),
        ];
        for (source, message) in cases {
            assert_error(source, 0, message);
        }
    }

    #[test]
    fn valid_code() {
        let cases = [
            "await x\n",
            "x = await y\n",
            "async for x in y:\n    pass\n",
            "async with x as y:\n    pass\n",
            "[x async for x in y]\n",
            "[await x for x in y]\n",
            "[[await x for x in y] for z in w]\n",
            "async def f():\n    await x\n    return [await y for y in z]\n",
            "async def f():\n    return [[x async for x in y] for z in w]\n",
            "def f():\n    return (await x for x in y)\n",
            "def f():\n    return (x async for x in y)\n",
            "def f():\n    return ([await x for x in y] for z in w)\n",
            "class C:\n    g = (await x for x in y)\n",
            "def f():\n    return [x for x in (yield)]\n",
            "async def f():\n    yield 1\n    return\n",
            "async def f():\n    def g():\n        yield 1\n    lambda: (yield)\n    return 2\n",
            "if x:\n    [(v := 1) for a in b]\n    global v\n",
            "f = lambda: (yield)\n",
            "def f():\n    for x in y:\n        break\n    while True:\n        continue\n",
            "for x in y:\n    try:\n        pass\n    finally:\n        break\n",
            "try:\n    pass\nexcept* E:\n    for x in y:\n        break\n",
            "def f():\n    def g():\n        nonlocal x\n    x = 1\n",
            "def f():\n    x: int\n    def g():\n        nonlocal x\n",
            "def f():\n    import x\n    def g():\n        nonlocal x\n",
            "def f():\n    def g():\n        nonlocal x\n    [(x := 1) for _ in y]\n",
            "def f(x):\n    def g():\n        nonlocal x\n",
            "class C:\n    def f(self):\n        def g():\n            nonlocal __class__\n",
            "def f():\n    x = 1\n    class C:\n        nonlocal x\n",
            "def f():\n    x = 1\n    def g():\n        nonlocal x\n        def h():\n            nonlocal x\n",
            "def f():\n    global x\n    x = 1\n    print(x)\n",
            "def f():\n    import x\n    global x\n",
            "def f():\n    [x for x in y]\n    global x\n",
            "def f():\n    global x\n    [(x := 1) for _ in y]\n",
            "x = 1\nglobal x\n",
            "global x\nx: int = 1\n",
            "x = 1\nfrom __future__ import annotations\n",
            "'''Docstring.'''\nfrom __future__ import annotations\n",
            "x = y = 1\nx, *y = z\n[*a] = b\n(*a,) = b\n",
            "print(*a, *b)\nx[*a]\nx[*a] = 1\n{*a, *b}\n",
            "def f(*args: *Ts): pass\n",
            "class C(*bases): pass\n",
            "match x:\n    case [a] | [a]: pass\n    case (1 | 2) if a: pass\n    case _: pass\n",
            "match x:\n    case [1 | 2, *_] | (3, *_): pass\n",
            "del x.__debug__\nx = __debug__\nx.__debug__ += 1\nimport __debug__.x as y\n",
            "%matplotlib inline\n!ls\nx = !pwd\nlen?\n",
            "",
        ];
        for source in cases {
            assert_valid(source);
        }
    }

    #[test]
    fn the_first_statement_that_fails_is_reported() {
        assert_error("x = 1\nprint(x)\nreturn x\nyield x\n", 2, "`return`");
        assert_error("x = 1\ndef f(a, a): pass\n", 1, "Duplicate parameter");
        // The earliest error of the statement.
        assert_error(
            "def f():\n    yield from x\n    nonlocal y\n",
            0,
            "no binding",
        );
    }

    #[test]
    fn null_bytes_stop_the_whole_cell() {
        let source = "x = 1\ny = 'a\0b'\n";
        let parsed = parse_cell(source);
        let error = first_semantic_error(&parsed.syntax().body, source, None).unwrap();
        assert_eq!(error.statement, 0);
        assert_eq!(&source[error.range], "\0");
        assert_eq!(
            error.message,
            "source code string cannot contain null bytes"
        );
    }

    #[test]
    fn timed_cells_compile_as_one_module_without_top_level_await() {
        assert_error("%%time\nx = 1\nawait y\n", 0, "`await` statement outside");
        assert_error(
            "%%time\nx = 1\nfrom __future__ import annotations\n",
            0,
            "__future__",
        );
        assert_error(
            "%%timeit -n 1\nfrom m import *\n",
            0,
            "import * only allowed",
        );
        assert_error(
            "%%timeit\n[await x for x in y]\n",
            0,
            "outside of an asynchronous",
        );
        assert_valid("%%time\nfrom __future__ import annotations\nx = 1\n");
        assert_error(
            "%%timeit\nfrom __future__ import annotations\n",
            0,
            "must occur at the beginning",
        );
        assert_error("%%time\nx = 1\nglobal x\n", 0, "assigned to before global");
        assert_valid("%%timeit\n(await x for x in y)\n");
        // `%%capture` runs its body as a cell.
        assert_valid("%%capture out\nawait y\n");
        assert_error("%%capture out\nx = 1\nreturn x\n", 2, "`return`");
    }

    #[test]
    fn future_annotations_carry_over_to_later_statements() {
        // Through Python 3.13, only under `from __future__ import annotations`.
        let py313 = Some(PythonVersion::PY313);
        let future = "from __future__ import annotations\n";
        let annotation_error = "'named expression' can not be used within an annotation";
        let source = format!("{future}def f(x: (y := 1)): pass\n");
        assert_eq!(
            error_for(&source, py313),
            Some((1, annotation_error.to_owned()))
        );
        let source = "def f(x: (y := 1)): pass\nfrom __future__ import annotations\n";
        assert_eq!(error_for(source, py313), None);
        assert!(error_for(source, None).is_some());
        // Variable annotations too (the checker only looks at them from 3.14 on).
        let source = format!("{future}x = 1\nx: (y := 1) = 2\n");
        assert_eq!(
            error_for(&source, py313),
            Some((2, annotation_error.to_owned()))
        );
        // Lambdas and comprehensions in annotations are scopes of their own.
        for valid in [
            "def f(x: [await a for a in b]) -> (lambda: (yield)): pass\n",
            "x: [(y := 1) for a in b]\n",
        ] {
            assert_eq!(
                error_for(&format!("{future}{valid}"), py313),
                None,
                "{valid:?}"
            );
        }
        let source = format!("{future}x: [a for a in (yield)]\n");
        assert_eq!(error_for(&source, py313).unwrap().0, 1);
        let source = format!("{future}x: [(yield) for a in b]\n");
        let (_, message) = error_for(&source, py313).unwrap();
        assert!(
            message.contains("`yield` statement outside of a function"),
            "{message}"
        );
    }

    #[test]
    fn annotations_that_are_never_compiled() {
        // Up to 3.13, a local variable's annotation is not evaluated: only symbol-table
        // errors count.
        let check = |source: &str| error_for(source, Some(PythonVersion::PY313));
        assert_eq!(check("async def f():\n    x: (await y) = 1\n"), None);
        assert_eq!(
            check("def f():\n    x: (await y) = 1\n    z: g(a=1, a=2)\n"),
            None
        );
        assert_eq!(
            check("def f():\n    global x\n    (x): int = 1\n    y.z: await w\n"),
            None
        );
        let error = check("x: (await y) = 1\nclass C:\n    x: (yield)\n").unwrap();
        assert_eq!(error.0, 1);
        assert!(error.1.contains("`yield`"), "{error:?}");
        // The symbol table still sees a `yield` there.
        let error = check("async def f():\n    x: (yield) = 1\n    return 2\n").unwrap();
        assert!(
            error.1.contains("'return' with value in async generator"),
            "{error:?}"
        );
        let error = check("def f():\n    x: [(yield) for a in b]\n").unwrap();
        assert!(error.1.contains("`yield` statement"), "{error:?}");
        let error = check("def f():\n    x: [(y := 1) for y in b]\n").unwrap();
        assert!(error.1.contains("cannot rebind"), "{error:?}");
        let error = check("def f():\n    x: y\n    global y\n").unwrap();
        assert!(error.1.contains("'y' is used prior to global"), "{error:?}");
    }

    #[test]
    fn declarations_are_checked_in_the_order_of_the_symbol_table() {
        // Up to 3.12, CPython visits a `try` statement's `else` before its handlers.
        let try_stmt = |first: &str, second: &str| {
            format!(
                "def f():\n    try:\n        pass\n    except E:\n        {first}\n    else:\n        {second}\n"
            )
        };
        let global_in_else = try_stmt("x = 1", "global x");
        let global_in_handler = try_stmt("global x", "x = 1");
        let py312 = Some(PythonVersion::PY312);
        let py313 = Some(PythonVersion::PY313);
        assert_eq!(error_for(&global_in_else, py312), None);
        assert!(error_for(&global_in_handler, py312).is_some());
        assert!(error_for(&global_in_else, py313).is_some());
        assert_eq!(error_for(&global_in_handler, py313), None);
    }

    #[test]
    fn errors_that_depend_on_the_version() {
        let nested = "async def f():\n    return [[x async for x in y] for z in w]\n";
        assert_eq!(error_for(nested, Some(PythonVersion::PY311)), None);
        let (_, message) = error_for(nested, Some(PythonVersion::PY310)).unwrap();
        assert!(message.contains("syntax was added in 3.11"), "{message}");

        assert_eq!(
            error_for("del __debug__\n", Some(PythonVersion::PY38)),
            None
        );
        assert!(error_for("del __debug__\n", Some(PythonVersion::PY39)).is_some());

        // Python 3.14 refuses a walrus in an annotation; unknown versions are the newest.
        let annotated = "x: (y := 1) = 2\n";
        assert_eq!(error_for(annotated, Some(PythonVersion::PY313)), None);
        assert!(error_for(annotated, Some(PythonVersion::PY314)).is_some());
        assert!(error_for(annotated, None).is_some());
    }
}
