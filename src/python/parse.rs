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
    let mut options = ParseOptions::from(PySourceType::Ipynb);
    if let Some(version) = version {
        options = options.with_target_version(version);
    }
    parse_unchecked(source, options)
        .try_into_module()
        .expect("the IPython source type always parses to a module")
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
