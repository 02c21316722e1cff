//! The text a top-level statement owns in its cell: the statement, the comment lines directly
//! above it, a trailing comment on its last line and indented comment lines right after it.
//! That is what moves with a definition, verbatim.

use std::ops::Range;

use ruff_python_ast::Stmt;
use ruff_text_size::Ranged;

/// The byte range of `statements[i]` with its comments, from the start of its first line
/// through its final newline; `None` when it shares a line with other code (`a = 1; b = 2`),
/// so that it cannot be cut out as whole lines.
pub(crate) fn statement_block(source: &str, statements: &[Stmt], i: usize) -> Option<Range<usize>> {
    let stmt = &statements[i];
    let previous_end = i
        .checked_sub(1)
        .map_or(0, |p| statements[p].end().to_usize());
    let next_start = statements
        .get(i + 1)
        .map_or(source.len(), |n| n.start().to_usize());

    let start = stmt.start().to_usize();
    let line_start = source[..start].rfind('\n').map_or(0, |n| n + 1);
    if !source[line_start..start].trim().is_empty() || line_start < previous_end {
        return None;
    }
    let mut block_start = line_start;
    // Own-line comments directly above (no blank line in between) belong to the statement.
    while block_start > 0 {
        let above_end = block_start - 1;
        let above_start = source[..above_end].rfind('\n').map_or(0, |n| n + 1);
        if above_start < previous_end
            || !source[above_start..above_end].trim_start().starts_with('#')
        {
            break;
        }
        block_start = above_start;
    }

    let end = stmt.end().to_usize();
    let mut block_end = line_end(source, end);
    let rest_of_line = source[end..block_end].trim();
    if !(rest_of_line.is_empty() || rest_of_line.starts_with('#')) || block_end > next_start {
        return None;
    }
    // Comment lines indented under the statement (a commented-out last line of a body).
    while block_end < next_start {
        let next_end = line_end(source, block_end);
        let line = &source[block_end..next_end];
        let indented = line.starts_with([' ', '\t']);
        if !(indented && line.trim_start().starts_with('#')) || next_end > next_start {
            break;
        }
        block_end = next_end;
    }
    Some(block_start..block_end)
}

/// The text cut from a cell when `statements[i]` moves: its block with comments, or just the
/// statement when it shares a line with other code.
pub(crate) fn cut_range(source: &str, statements: &[Stmt], i: usize) -> Range<usize> {
    statement_block(source, statements, i).unwrap_or_else(|| statements[i].range().into())
}

/// The offset just past the newline ending the line that contains `offset` (or the end).
fn line_end(source: &str, offset: usize) -> usize {
    source[offset..]
        .find('\n')
        .map_or(source.len(), |n| offset + n + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::python::parse::parse_cell;

    fn blocks(source: &str) -> Vec<Option<&str>> {
        let parsed = parse_cell(source);
        let body = &parsed.syntax().body;
        (0..body.len())
            .map(|i| statement_block(source, body, i).map(|r| &source[r]))
            .collect()
    }

    #[test]
    fn takes_comments_above_but_not_across_blank_lines() {
        let source = "# header\n\n# about f\n# more\n@dec\ndef f():\n    pass  # done\n    # trailing\n\nx = 1";
        assert_eq!(
            blocks(source),
            [
                Some("# about f\n# more\n@dec\ndef f():\n    pass  # done\n    # trailing\n"),
                Some("x = 1")
            ]
        );
    }

    #[test]
    fn first_line_comment_is_taken() {
        assert_eq!(
            blocks("# c\ndef f(): pass\n"),
            [Some("# c\ndef f(): pass\n")]
        );
    }

    #[test]
    fn statements_sharing_a_line_are_not_blocks() {
        assert_eq!(
            blocks("a = 1; b = 2\nc = 3\n"),
            [None, None, Some("c = 3\n")]
        );
    }

    #[test]
    fn comments_after_previous_statement_belong_to_the_next() {
        assert_eq!(
            blocks("x = 1\n# about g\ndef g():\n    pass\n"),
            [Some("x = 1\n"), Some("# about g\ndef g():\n    pass\n")]
        );
    }
}
