//! Import statements: finding them wherever they stand, and the names they bind.
//!
//! Every stage that looks at imports goes through [`for_each_import`] and [`bound_name`], so
//! that "an import" means the same thing everywhere.

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{Alias, ExceptHandler, Stmt, StmtImport, StmtImportFrom};

/// How deep to look for import statements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reach {
    /// Top-level statements, and the bodies of top-level `try` and `if` blocks (at any depth):
    /// the imports that run when the cell runs, as written in the cell.
    Blocks,
    /// Anywhere, function and class bodies included.
    Everywhere,
}

/// One import statement.
#[derive(Clone, Copy, Debug)]
pub(crate) enum ImportStmt<'a> {
    /// `import a.b as c, d`.
    Import(&'a StmtImport),
    /// `from m import x as y` (also relative and star imports).
    From(&'a StmtImportFrom),
}

impl<'a> ImportStmt<'a> {
    /// The absolute modules it imports, or imports from (none for a relative import).
    pub(crate) fn modules(self) -> Vec<&'a str> {
        match self {
            ImportStmt::Import(import) => import
                .names
                .iter()
                .map(|alias| alias.name.as_str())
                .collect(),
            ImportStmt::From(import) if import.level == 0 => {
                import.module.iter().map(|module| module.as_str()).collect()
            }
            ImportStmt::From(_) => Vec::new(),
        }
    }
}

/// Calls `found` for every import statement in `body` within `reach`, in source order.
pub(crate) fn for_each_import<'a>(
    body: &'a [Stmt],
    reach: Reach,
    found: &mut dyn FnMut(ImportStmt<'a>),
) {
    struct Walker<'f, 'a> {
        reach: Reach,
        found: &'f mut dyn FnMut(ImportStmt<'a>),
    }
    impl<'a> Visitor<'a> for Walker<'_, 'a> {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            match stmt {
                Stmt::Import(import) => (self.found)(ImportStmt::Import(import)),
                Stmt::ImportFrom(import) => (self.found)(ImportStmt::From(import)),
                Stmt::Try(_) | Stmt::If(_) => visitor::walk_stmt(self, stmt),
                _ if self.reach == Reach::Everywhere => visitor::walk_stmt(self, stmt),
                _ => {}
            }
        }
        fn visit_except_handler(&mut self, handler: &'a ExceptHandler) {
            let ExceptHandler::ExceptHandler(handler) = handler;
            self.visit_body(&handler.body);
        }
        // Imports are statements: expressions hold none (lambdas and comprehensions cannot).
        fn visit_expr(&mut self, _: &'a ruff_python_ast::Expr) {}
    }
    Walker { reach, found }.visit_body(body);
}

/// The name an import alias binds: `import a.b` binds `a`, `import a.b as c` and
/// `from m import x as c` bind `c`, `from m import x` binds `x`.
pub(crate) fn bound_name(alias: &Alias, from: bool) -> &str {
    match &alias.asname {
        Some(asname) => asname.as_str(),
        None if from => alias.name.as_str(),
        None => alias.name.as_str().split('.').next().unwrap_or_default(),
    }
}

/// A top-level `try`/`except` or `if`/`else` made only of imports (and `pass`): it travels
/// whole, like one import.
pub(crate) fn is_import_block(stmt: &Stmt) -> bool {
    fn only_imports(body: &[Stmt]) -> bool {
        !body.is_empty()
            && body.iter().all(|stmt| match stmt {
                Stmt::Import(_) | Stmt::ImportFrom(_) | Stmt::Pass(_) => true,
                Stmt::Try(_) | Stmt::If(_) => is_import_block(stmt),
                _ => false,
            })
    }
    match stmt {
        Stmt::Try(block) => {
            only_imports(&block.body)
                && block.handlers.iter().all(|handler| {
                    let ExceptHandler::ExceptHandler(handler) = handler;
                    handler.name.is_none() && only_imports(&handler.body)
                })
                && (block.orelse.is_empty() || only_imports(&block.orelse))
                && (block.finalbody.is_empty() || only_imports(&block.finalbody))
        }
        Stmt::If(block) => {
            only_imports(&block.body)
                && block
                    .elif_else_clauses
                    .iter()
                    .all(|clause| only_imports(&clause.body))
        }
        _ => false,
    }
}

/// `from __future__ import annotations` (possibly among other features).
pub(crate) fn is_future_annotations(stmt: &Stmt) -> bool {
    matches!(stmt, Stmt::ImportFrom(import)
        if import.level == 0
            && import.module.as_deref() == Some("__future__")
            && import.names.iter().any(|alias| alias.name.as_str() == "annotations"))
}

/// Whether running `body` binds `name` whatever path it takes: an `if` without `else`, or a
/// `try` whose handler imports something else, may leave it unbound.
pub(crate) fn binds_on_every_path(body: &[Stmt], name: &str) -> bool {
    body.iter().any(|stmt| match stmt {
        Stmt::Import(import) => import
            .names
            .iter()
            .any(|alias| bound_name(alias, false) == name),
        Stmt::ImportFrom(import) => import
            .names
            .iter()
            .any(|alias| alias.name.as_str() == "*" || bound_name(alias, true) == name),
        Stmt::If(block) => {
            binds_on_every_path(&block.body, name)
                && block
                    .elif_else_clauses
                    .last()
                    .is_some_and(|clause| clause.test.is_none())
                && block
                    .elif_else_clauses
                    .iter()
                    .all(|clause| binds_on_every_path(&clause.body, name))
        }
        Stmt::Try(block) => {
            binds_on_every_path(&block.finalbody, name)
                || ((binds_on_every_path(&block.body, name)
                    || binds_on_every_path(&block.orelse, name))
                    && block.handlers.iter().all(|handler| {
                        let ExceptHandler::ExceptHandler(handler) = handler;
                        binds_on_every_path(&handler.body, name)
                    }))
        }
        _ => false,
    })
}

/// The `(name, alias)` pairs of an import's names, as written.
pub(crate) fn members(names: &[ruff_python_ast::Alias]) -> Vec<(String, Option<String>)> {
    names
        .iter()
        .map(|alias| {
            (
                alias.name.to_string(),
                alias.asname.as_ref().map(ToString::to_string),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::python::parse::parse_cell;

    fn imports(source: &str, reach: Reach) -> Vec<String> {
        let parsed = parse_cell(source);
        let mut found = Vec::new();
        for_each_import(&parsed.syntax().body, reach, &mut |import| {
            found.push(match import {
                ImportStmt::Import(import) => {
                    let names: Vec<&str> =
                        import.names.iter().map(|a| bound_name(a, false)).collect();
                    format!("import:{}", names.join(","))
                }
                ImportStmt::From(import) => {
                    let names: Vec<&str> =
                        import.names.iter().map(|a| bound_name(a, true)).collect();
                    format!("from:{}", names.join(","))
                }
            });
        });
        found
    }

    #[test]
    fn blocks_reach_try_and_if_but_not_functions() {
        let source = "import a.b\ntry:\n    from m import x as y\nexcept ImportError:\n    import c as d\nif X:\n    import e\ndef f():\n    import g\nwith h:\n    import i\n";
        assert_eq!(
            imports(source, Reach::Blocks),
            ["import:a", "from:y", "import:d", "import:e"]
        );
        assert_eq!(
            imports(source, Reach::Everywhere),
            [
                "import:a", "from:y", "import:d", "import:e", "import:g", "import:i"
            ]
        );
    }

    #[test]
    fn import_blocks_hold_only_imports() {
        let block = |source: &str| is_import_block(&parse_cell(source).syntax().body[0]);
        assert!(block(
            "try:\n    import ujson as json\nexcept ImportError:\n    import json"
        ));
        assert!(block("if X:\n    import a\nelse:\n    pass"));
        assert!(!block(
            "try:\n    import a\nexcept ImportError as e:\n    import b"
        ));
        assert!(!block("if X:\n    import a\n    y = 1"));
        assert!(!block("import a"));
    }

    #[test]
    fn what_an_import_block_binds_on_every_path() {
        let binds = |source: &str| binds_on_every_path(&parse_cell(source).syntax().body, "x");
        assert!(binds("import x"));
        assert!(binds("if A:\n    import x\nelse:\n    from m import x"));
        assert!(binds(
            "try:\n    import x\nexcept ImportError:\n    import y as x"
        ));
        assert!(!binds("if A:\n    import x"));
        assert!(!binds("if A:\n    import x\nelif B:\n    import x"));
        assert!(!binds("try:\n    import x\nexcept ImportError:\n    pass"));
        assert!(!binds("import y"));
    }
}
