//! Code a top-level statement runs from strings: the literal argument of `eval` or `exec`, and
//! what `%time`, `%timeit` and `%prun` run. One walk of the statement finds both what that code
//! binds in the notebook (a literal `exec` binds what its code binds) and what it reads when it
//! runs, and the code is parsed once, here.

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{Expr, IpyEscapeKind, Stmt};

use crate::python::parse::parse_cell;
use crate::python::scope::{self, ModuleReads, ScopeOptions};

/// What one top-level statement runs from strings, outside function bodies.
#[derive(Debug, Default)]
pub(crate) struct CodeInStrings {
    /// The code of each literal `exec` outside class bodies, in source order: the names it
    /// binds are the notebook's (in a class body they are the class's).
    pub(crate) executed: Vec<String>,
    /// It binds names in ways nbhoist cannot read, outside class bodies: `exec` of anything
    /// but a literal, or writing through `globals()`, `locals()` or `vars()`
    /// (`globals()["x"] = 1`, `globals().update(...)`).
    pub(crate) binds_dynamically: bool,
    /// What running the code of every string reads from module scope (class bodies
    /// included), one entry per statement of that code.
    pub(crate) reads: Vec<ModuleReads>,
    /// It runs code nbhoist cannot read (`eval(expression)`), which may read any name: the
    /// function of the first such call, `eval` or `exec`.
    pub(crate) opaque: Option<&'static str>,
}

/// What the top-level statement `stmt` runs from strings.
pub(crate) fn find(stmt: &Stmt) -> CodeInStrings {
    let mut finder = Finder::default();
    finder.visit_stmt(stmt);
    let reads = finder
        .code
        .iter()
        .flat_map(|code| {
            parse_cell(code)
                .syntax()
                .body
                .iter()
                .map(|stmt| scope::module_reads(stmt, ScopeOptions::default()))
                .collect::<Vec<_>>()
        })
        .collect();
    CodeInStrings {
        executed: finder.executed,
        binds_dynamically: finder.binds_dynamically,
        reads,
        opaque: finder.opaque,
    }
}

#[derive(Default)]
struct Finder {
    /// Inside a `class` statement: its code runs, but binds in the class.
    in_class: bool,
    /// The code of every string that runs, in source order.
    code: Vec<String>,
    executed: Vec<String>,
    binds_dynamically: bool,
    opaque: Option<&'static str>,
}

/// `globals()`, `locals()` or `vars()`.
fn is_namespace(expr: &Expr) -> bool {
    matches!(expr, Expr::Call(call)
        if call.arguments.is_empty()
            && matches!(&*call.func, Expr::Name(name)
                if matches!(name.id.as_str(), "globals" | "locals" | "vars")))
}

impl<'a> Visitor<'a> for Finder {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            // A function body runs when the function is called, in its own scope.
            Stmt::FunctionDef(_) => {}
            Stmt::ClassDef(_) => {
                let outer = std::mem::replace(&mut self.in_class, true);
                visitor::walk_stmt(self, stmt);
                self.in_class = outer;
            }
            Stmt::IpyEscapeCommand(command) if command.kind == IpyEscapeKind::Magic => {
                if let Some((name, rest)) = command.value.split_once(char::is_whitespace)
                    && matches!(name, "time" | "timeit" | "prun")
                {
                    // Options (`-n 3`) come first; the code is what follows them.
                    let code = rest.trim_start();
                    if !code.starts_with('-') {
                        self.code.push(code.to_owned());
                    }
                }
            }
            _ => {
                let targets: &[Expr] = match stmt {
                    Stmt::Assign(assign) => &assign.targets,
                    Stmt::AugAssign(assign) => std::slice::from_ref(&*assign.target),
                    Stmt::Delete(delete) => &delete.targets,
                    _ => &[],
                };
                self.binds_dynamically |= !self.in_class
                    && targets.iter().any(|target| {
                        matches!(target, Expr::Subscript(subscript)
                            if is_namespace(&subscript.value))
                    });
                visitor::walk_stmt(self, stmt);
            }
        }
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if let Expr::Call(call) = expr {
            match &*call.func {
                Expr::Name(func) if matches!(func.id.as_str(), "eval" | "exec") => {
                    let binds = func.id.as_str() == "exec" && !self.in_class;
                    match call.arguments.args.first() {
                        Some(Expr::StringLiteral(code)) => {
                            let code = code.value.to_str();
                            if binds {
                                self.executed.push(code.to_owned());
                            }
                            self.code.push(code.to_owned());
                        }
                        _ => {
                            let function = if func.id.as_str() == "eval" {
                                "eval"
                            } else {
                                "exec"
                            };
                            self.opaque.get_or_insert(function);
                            self.binds_dynamically |= binds;
                        }
                    }
                }
                Expr::Attribute(method) if !self.in_class && is_namespace(&method.value) => {
                    self.binds_dynamically |= matches!(
                        method.attr.as_str(),
                        "update" | "setdefault" | "pop" | "popitem" | "clear" | "__setitem__"
                    );
                }
                _ => {}
            }
        }
        if !matches!(expr, Expr::Lambda(_)) {
            visitor::walk_expr(self, expr);
        }
    }
}
