//! The text a top-level statement owns in its cell: the statement, the comment lines directly
//! above it, a trailing comment on its last line and indented comment lines right after it.
//! That is what moves with a definition, verbatim.

use std::collections::BTreeSet;
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

/// The text of an import statement (`import a, b` or `from m import a, b as c`) without the
/// names whose positions `dropped` lists, as it stands in `source`; at least one name stays.
/// Each name goes with one comma, so that a trailing comma stays where there was one; between
/// parentheses, a line left with only a comment about the names that went goes too, and so
/// does a line left empty, while comments about names that stay are kept.
pub(crate) fn without_names(source: &str, stmt: &Stmt, dropped: &BTreeSet<usize>) -> String {
    let (aliases, parenthesised) = match stmt {
        Stmt::Import(import) => (&import.names, false),
        Stmt::ImportFrom(import) => {
            let first = import.names.first().map_or(stmt.end(), Ranged::start);
            let head = &source[stmt.start().to_usize()..first.to_usize()];
            (&import.names, head.contains('('))
        }
        _ => return source[stmt.range()].to_owned(),
    };
    let names: Vec<Range<usize>> = aliases.iter().map(|alias| alias.range().into()).collect();
    let end = stmt.end().to_usize();
    let last = names.len() - 1;
    // The comma after each name (the last one's only when there is a trailing comma).
    let commas: Vec<Option<usize>> = (0..names.len())
        .map(|i| {
            let until = names.get(i + 1).map_or(end, |next| next.start);
            comma_between(source, names[i].end, until)
        })
        .collect();
    // A run of names that ends the list without a trailing comma takes the commas before them.
    let trailing = if commas[last].is_none() {
        (0..=last).rev().take_while(|i| dropped.contains(i)).last()
    } else {
        None
    };
    let mut cut: Vec<Range<usize>> = Vec::new();
    for &i in dropped {
        let name = names[i].clone();
        let takes_comma_before = trailing.is_some_and(|first| i >= first);
        if !parenthesised {
            // No comments can stand between the names: all that separates them goes.
            cut.push(if takes_comma_before {
                names[i - 1].end..name.end
            } else {
                name.start..names[i + 1].start
            });
            continue;
        }
        if takes_comma_before {
            let comma = commas[i - 1].unwrap_or(names[i - 1].end);
            cut.push(comma..comma + 1);
            let gap = &source[comma + 1..name.start];
            let start = if gap.contains('\n') {
                name.start
            } else {
                comma + 1
            };
            cut.push(start..name.end);
        } else {
            let comma = commas[i].unwrap_or(name.end);
            let after = comma + 1 + horizontal_space(&source[comma + 1..]);
            let line_goes_on = !source[after..].starts_with(['\n', '\r', '#', ')']);
            if line_goes_on {
                cut.push(name.start..after);
            } else {
                let before = source[..name.start].trim_end_matches([' ', '\t']).len();
                let start = if source[..before].ends_with(['\n', '(']) {
                    name.start
                } else {
                    before
                };
                cut.push(start..comma + 1);
            }
        }
    }
    let start = stmt.start().to_usize();
    let mut kept: Vec<bool> = vec![true; end - start];
    for range in cut {
        kept[range.start - start..range.end - start].fill(false);
    }
    let mut text = String::new();
    let mut line_start = start;
    for line in source[start..end].split_inclusive('\n') {
        let mut left: String = line
            .char_indices()
            .filter(|(offset, _)| kept[line_start - start + offset])
            .map(|(_, c)| c)
            .collect();
        let here = line_start..line_start + line.len();
        let mut on_line = names
            .iter()
            .enumerate()
            .filter(|(_, name)| here.contains(&name.start));
        let only_dropped = parenthesised
            && on_line.clone().next().is_some()
            && on_line.all(|(i, _)| dropped.contains(&i));
        if only_dropped {
            let ending = &line[line.trim_end_matches(['\r', '\n']).len()..];
            if let Some(hash) = left.find('#') {
                left = format!("{}{ending}", left[..hash].trim_end_matches([' ', '\t']));
            }
            if left.trim().is_empty() && !ending.is_empty() {
                left.clear();
            }
        }
        text.push_str(&left);
        line_start = here.end;
    }
    text
}

/// The offset of the comma in `source[from..until]` that is not in a comment.
fn comma_between(source: &str, from: usize, until: usize) -> Option<usize> {
    let mut in_comment = false;
    for (offset, c) in source[from..until].char_indices() {
        match c {
            '#' => in_comment = true,
            '\n' => in_comment = false,
            ',' if !in_comment => return Some(from + offset),
            _ => {}
        }
    }
    None
}

/// The length of the spaces and tabs that `text` starts with.
fn horizontal_space(text: &str) -> usize {
    text.len() - text.trim_start_matches([' ', '\t']).len()
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

    /// `source`'s first statement without the names at `dropped`.
    fn without(source: &str, dropped: &[usize]) -> String {
        let parsed = parse_cell(source);
        let dropped: BTreeSet<usize> = dropped.iter().copied().collect();
        without_names(source, &parsed.syntax().body[0], &dropped)
    }

    #[test]
    fn names_go_with_one_comma_each() {
        assert_eq!(without("import a, b", &[0]), "import b");
        assert_eq!(without("import a, b", &[1]), "import a");
        assert_eq!(without("import a as x, b.c, d", &[1]), "import a as x, d");
        assert_eq!(without("import a, b, c", &[1, 2]), "import a");
        assert_eq!(
            without("from m import a, b as c", &[0]),
            "from m import b as c"
        );
        assert_eq!(
            without("from m import a, \\\n    b", &[1]),
            "from m import a"
        );
        assert_eq!(
            without("from m import a, \\\n    b, \\\n    c", &[1]),
            "from m import a, \\\n    c"
        );
        assert_eq!(without("from m import (a, b)", &[0]), "from m import (b)");
        assert_eq!(without("from m import (a, b)", &[1]), "from m import (a)");
        assert_eq!(
            without("from m import (a, b, c,)", &[2]),
            "from m import (a, b,)"
        );
        assert_eq!(
            without("from m import (a, b,\n               c, d)", &[1, 3]),
            "from m import (a,\n               c)"
        );
    }

    #[test]
    fn lines_of_names_that_go_go_with_their_comments() {
        let source =
            "from m import (\n    a,  # about a\n    # group\n    b,  # about b\n    c,\n)";
        assert_eq!(
            without(source, &[1]),
            "from m import (\n    a,  # about a\n    # group\n    c,\n)"
        );
        assert_eq!(
            without(source, &[0, 2]),
            "from m import (\n    # group\n    b,  # about b\n)"
        );
        let source = "from m import (\n    a,  # about a\n    b\n)";
        assert_eq!(
            without(source, &[1]),
            "from m import (\n    a  # about a\n)"
        );
        let source = "from m import (a,  # about a\n               b)";
        assert_eq!(
            without(source, &[1]),
            "from m import (a  # about a\n               )"
        );
        assert_eq!(
            without("from m import (a,  # a and b\n    c)", &[0]),
            "from m import (\n    c)"
        );
    }
}
