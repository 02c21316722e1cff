//! Parsing one notebook cell with ruff's parser in IPython mode, and locating its errors.

use ruff_python_ast::{ModModule, PySourceType, PythonVersion};
use ruff_python_parser::{ParseOptions, Parsed, parse_unchecked};
use ruff_source_file::LineIndex;
use ruff_text_size::TextSize;

use crate::position::LineColumn;

/// Parses a cell's source as IPython (`%magic`, `!shell`, `x?` are understood). Never fails:
/// syntax errors are recovered from and listed in [`Parsed::errors`].
pub fn parse_cell(source: &str) -> Parsed<ModModule> {
    parse_cell_for(source, None)
}

/// Like [`parse_cell`]; with a `version`, syntax newer than that Python (a `match` on 3.9,
/// PEP 695 generics on 3.11) is reported too, since the kernel would reject it.
pub fn parse_cell_for(source: &str, version: Option<PythonVersion>) -> Parsed<ModModule> {
    let options = |source_type| {
        let options = ParseOptions::from(source_type);
        match version {
            Some(version) => options.with_target_version(version),
            None => options,
        }
    };
    // The parser panics on some broken IPython input (`{)` then a line starting with `/`,
    // found by fuzzing): such a cell is parsed as plain Python instead, where it is a
    // syntax error like any other.
    let parsed = quietly(|| parse_unchecked(source, options(PySourceType::Ipynb)))
        .unwrap_or_else(|| parse_unchecked(source, options(PySourceType::Python)));
    parsed
        .try_into_module()
        .expect("the IPython and Python source types always parse to a module")
}

/// Runs `f`, turning a panic into `None` without printing it: the panic hook stays silent
/// while this thread is inside `f`, and prints every other panic as before.
fn quietly<T>(f: impl FnOnce() -> T) -> Option<T> {
    thread_local! {
        static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.get() {
                previous(info);
            }
        }));
    });
    QUIET.set(true);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    QUIET.set(false);
    result.ok()
}

/// A syntax error inside one cell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    /// Where the error starts, in the cell.
    pub position: LineColumn,
    /// The parser's message.
    pub message: String,
}

/// The first syntax error of a parsed cell: a parse error, or else syntax the target
/// version does not have (only checked when [`parse_cell_for`] was given a version).
pub fn first_syntax_error(parsed: &Parsed<ModModule>, source: &str) -> Option<SyntaxError> {
    let (offset, message) = match (
        parsed.errors().first(),
        parsed.unsupported_syntax_errors().first(),
    ) {
        (Some(error), _) => (error.location.start(), error.error.to_string()),
        (None, Some(error)) => (error.range.start(), error.to_string()),
        (None, None) => return None,
    };
    let index = LineIndex::from_source_text(source);
    Some(SyntaxError {
        position: line_column(&index, source, offset),
        message,
    })
}

/// 1-based line and character column of a byte offset.
pub fn line_column(index: &LineIndex, source: &str, offset: TextSize) -> LineColumn {
    let location = index.line_column(offset, source);
    LineColumn {
        line: location.line.get(),
        column: location.column.get(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `cell_decisions` fuzz target: the parser's IPython mode panics on it.
    #[test]
    fn a_cell_the_parser_panics_on_is_a_syntax_error() {
        for source in ["{)\n/", "x = {)\n/ 'a'}) ", "%time f()\n{)\n/"] {
            let parsed = parse_cell(source);
            let error = first_syntax_error(&parsed, source);
            assert!(error.is_some(), "{source:?}");
        }
    }
}
