//! The diff stage: render planned file changes as unified diffs, for `nbhoist extract --diff`.
//!
//! Rendering only, and pure: every function here takes text and returns text. Nothing reads
//! the file system, the environment or the terminal; the caller decides where the output goes
//! and whether it is coloured ([`colorize`]).
//!
//! Plain files (the module, `__init__.py`) are ordinary unified diffs with 3 lines of context
//! ([`file_diff`]); a file that does not exist yet is a diff from `/dev/null`, as git shows it.
//!
//! Notebooks are never shown as JSON ([`notebook_diff`]): each changed cell is its own small
//! diff of the cell's source, under a header that names the cell:
//!
//! ```text
//! --- analysis.ipynb:cell 4 (id 3f2a9c1d…)        a changed cell: source diff
//! +++ analysis.ipynb:cell 4 (id 3f2a9c1d…)
//! --- analysis.ipynb:cell 5                       a removed cell: every line removed
//! +++ /dev/null
//! --- /dev/null                                   an inserted cell: every line added
//! +++ analysis.ipynb:new cell before cell 2 (id 0b1c2d3e…)
//! ```
//!
//! Cells are numbered as in the *original* notebook, 1-based and counting every cell (as
//! [`CellIndex::number`] does): that is the notebook the user has open while reading the
//! diff, a removed cell has no number in the rewritten one, and the rewritten numbers shift
//! with every insertion and removal. An inserted cell is named by where it goes, `new cell
//! before cell N` (or `new cell at the end`). Cell ids longer than 8 characters are shortened
//! to 8 and `…`, enough to tell cells apart.
//!
//! [`CellIndex::number`]: crate::position::CellIndex::number

use std::borrow::Cow;

use similar::TextDiff;

use crate::notebook::{CellEdit, Notebook, ResolvedEdits};
use crate::terminal::{Paint, RESET};

/// Lines of context around each change, as `diff -u` and git show.
const CONTEXT: usize = 3;

/// The name of the missing side of a created or deleted file or cell.
const DEV_NULL: &str = "/dev/null";

/// Characters of a cell id shown in a header; nbformat ids are often 36-character UUIDs.
const ID_CHARS: usize = 8;

/// The unified diff of one plain file, from `before` (`None` when the file does not exist
/// yet) to `after`; empty when nothing changes.
///
/// A new file is a diff from `/dev/null` (`--- /dev/null`, `+++ PATH`), shown even when it is
/// empty so that its creation is not silent. A changed file has `--- PATH` and `+++ PATH`.
/// A missing newline at the end of the file is shown with `\ No newline at end of file`, as
/// `diff` does, since in a file it matters; the output is accepted by `patch`.
pub fn file_diff(path: &str, before: Option<&str>, after: &str) -> String {
    let path = escape(path);
    match before {
        None => unified(DEV_NULL, &path, "", after, true),
        Some(before) => unified(&path, &path, before, after, false),
    }
}

/// The changes `edits` make to `notebook`, cell by cell in notebook order, as unified diffs
/// of the cells' sources (never of the JSON); empty when nothing changes. `path` names the
/// notebook in the headers.
///
/// Cells the edits leave as they are get no header at all. The edits are read as
/// [`Notebook::render`] applies them, whatever their order: the last `ReplaceSource` of a
/// cell wins, a removal wins over a replacement, a replacement by the same text changes
/// nothing, cells inserted before the same cell keep the order of the edits, and edits naming
/// a cell that does not exist are ignored (an insertion past the end appends).
///
/// Cell sources normally have no final newline, so a `\ No newline at end of file` line after
/// every cell would be noise: both sides are compared as if they ended with one. The marker
/// only appears when the edit adds or removes the final newline itself.
pub fn notebook_diff(path: &str, notebook: &Notebook, edits: &[CellEdit]) -> String {
    let cells = notebook.cells();
    let ResolvedEdits {
        sources: new_sources,
        removed,
        inserted,
    } = ResolvedEdits::new(cells.len(), edits);

    let path = escape(path);
    let mut out = String::new();
    for (position, new_cells) in inserted.iter().enumerate() {
        let cell = cells.get(position);
        for new in new_cells {
            let place = match cell {
                Some(cell) => format!("new cell before cell {}", cell.index.number()),
                None => "new cell at the end".to_owned(),
            };
            let name = format!("{path}:{place}{}", id_suffix(new.id));
            out.push_str(&cell_diff(DEV_NULL, &name, "", new.source, true));
        }
        let Some(cell) = cell else { continue };
        let name = format!(
            "{path}:cell {}{}",
            cell.index.number(),
            id_suffix(cell.id.as_deref())
        );
        if removed.get(position).copied().unwrap_or(false) {
            out.push_str(&cell_diff(&name, DEV_NULL, &cell.source, "", true));
        } else if let Some(Some(source)) = new_sources.get(position) {
            out.push_str(&cell_diff(&name, &name, &cell.source, source, false));
        }
    }
    out
}

/// Adds ANSI colours to a unified diff, line by line as git does: file headers bold, hunk
/// headers cyan, removed lines red, added lines green, everything else as it is.
///
/// Inside a hunk, lines are told apart by the line counts of its `@@` header, not by their
/// first characters alone, so that a removed line `-- x` (shown `--- x`) stays red instead of
/// turning into a header. Each colour is reset before the line ends, so that pagers and
/// terminals never carry it over to the next line.
pub fn colorize(diff: &str) -> String {
    let mut out = String::with_capacity(diff.len() + diff.len() / 4);
    // Old and new lines still to come in the current hunk; (0, 0) outside a hunk.
    let mut remaining = (0usize, 0usize);
    for line in diff.split_inclusive('\n') {
        let (text, end) = split_line_end(line);
        let mut paint = None;
        if remaining != (0, 0) {
            match text.as_bytes().first() {
                Some(b'-') => {
                    remaining.0 = remaining.0.saturating_sub(1);
                    paint = Some(Paint::Removed);
                }
                Some(b'+') => {
                    remaining.1 = remaining.1.saturating_sub(1);
                    paint = Some(Paint::Added);
                }
                Some(b' ') => {
                    remaining = (remaining.0.saturating_sub(1), remaining.1.saturating_sub(1));
                }
                Some(b'\\') => {}
                // Not a hunk line: the counts were wrong, so read it as outside a hunk.
                _ => remaining = (0, 0),
            }
        }
        if remaining == (0, 0) && paint.is_none() {
            if let Some(((_, old_len), (_, new_len))) = hunk_header(text) {
                remaining = (old_len, new_len);
                paint = Some(Paint::HunkHeader);
            } else if text.starts_with("--- ") || text.starts_with("+++ ") {
                paint = Some(Paint::FileHeader);
            }
        }
        match paint {
            Some(paint) => {
                out.push_str(paint.code());
                out.push_str(text);
                out.push_str(RESET);
                out.push_str(end);
            }
            None => out.push_str(line),
        }
    }
    out
}

/// A line without its line ending, and the line ending.
fn split_line_end(line: &str) -> (&str, &str) {
    let text = line
        .strip_suffix("\r\n")
        .or_else(|| line.strip_suffix('\n'))
        .unwrap_or(line);
    (text, &line[text.len()..])
}

/// The `(start, length)` of the old and new sides of a hunk header `@@ -a,b +c,d @@`; a
/// missing length is 1, as the format says.
fn hunk_header(line: &str) -> Option<((usize, usize), (usize, usize))> {
    let (ranges, _) = line.strip_prefix("@@ -")?.split_once(" @@")?;
    let (old, new) = ranges.split_once(" +")?;
    let range = |text: &str| -> Option<(usize, usize)> {
        match text.split_once(',') {
            Some((start, len)) => Some((start.parse().ok()?, len.parse().ok()?)),
            None => Some((text.parse().ok()?, 1)),
        }
    };
    Some((range(old)?, range(new)?))
}

/// The diff of one cell's source, with the trailing newline normalised (see [`cell_texts`]).
fn cell_diff(old_name: &str, new_name: &str, old: &str, new: &str, always: bool) -> String {
    let (old, new) = cell_texts(old, new);
    unified(old_name, new_name, &old, &new, always)
}

/// The two sides of a cell diff. Sources that both lack a final newline get one, so that the
/// diff has no `\ No newline at end of file` lines; an empty side (an inserted or removed
/// cell) has no last line to compare, so the other side gets one too. Only when the edit
/// itself adds or removes the final newline are both kept as they are, so that it shows.
fn cell_texts<'a>(old: &'a str, new: &'a str) -> (Cow<'a, str>, Cow<'a, str>) {
    let newline_changes =
        !old.is_empty() && !new.is_empty() && old.ends_with('\n') != new.ends_with('\n');
    if newline_changes {
        return (Cow::Borrowed(old), Cow::Borrowed(new));
    }
    (terminated(old), terminated(new))
}

/// `text`, ending with a newline unless it is empty.
fn terminated(text: &str) -> Cow<'_, str> {
    if text.is_empty() || text.ends_with('\n') {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(format!("{text}\n"))
    }
}

/// The unified diff from `old` to `new` under `--- old_name` / `+++ new_name`; empty when they
/// are equal, unless `always` asks for the headers anyway (a created or removed file or cell,
/// which may be empty).
pub(crate) fn unified(
    old_name: &str,
    new_name: &str,
    old: &str,
    new: &str,
    always: bool,
) -> String {
    let diff = TextDiff::from_lines(old, new);
    // The headers are written here rather than with similar's `header`, which writes them
    // only when there is a hunk.
    let hunks = diff.unified_diff().context_radius(CONTEXT).to_string();
    if hunks.is_empty() && !always {
        return String::new();
    }
    format!("--- {old_name}\n+++ {new_name}\n{hunks}")
}

/// ` (id 3f2a9c1d…)`, or nothing for a cell without an id.
fn id_suffix(id: Option<&str>) -> String {
    let Some(id) = id else {
        return String::new();
    };
    let mut short: String = id.chars().take(ID_CHARS).collect();
    if id.chars().nth(ID_CHARS).is_some() {
        short.push('…');
    }
    format!(" (id {})", escape(&short))
}

/// `text` with control characters escaped (`\n`, `\u{1b}`): a newline in a file name or cell
/// id would split a header line in two, and an escape sequence would reach the terminal.
fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::position::CellIndex;

    /// Applies a unified diff made of hunks to `before`, checking every context and removed
    /// line against it: the proof that a diff says exactly what changes. Header lines are
    /// skipped; a `\ No newline at end of file` line drops the newline of the line above it.
    fn apply(before: &str, diff: &str) -> String {
        let old: Vec<&str> = before.split_inclusive('\n').collect();
        let mut out = String::new();
        let mut next = 0; // index in `old` of the next line not yet copied
        let mut remaining = (0usize, 0usize);
        let mut last: Option<u8> = None;
        for line in diff.split_inclusive('\n') {
            let text = line
                .strip_suffix('\n')
                .expect("diff lines end with a newline");
            if remaining == (0, 0) && !text.starts_with('\\') {
                if let Some(((start, old_len), (_, new_len))) = hunk_header(text) {
                    // An empty old range starts after line `start`, a non-empty one at it.
                    let first = if old_len == 0 { start } else { start - 1 };
                    assert!(first >= next, "hunks out of order in\n{diff}");
                    out.push_str(&old[next..first].concat());
                    next = first;
                    remaining = (old_len, new_len);
                } else {
                    assert!(
                        text.starts_with("--- ") || text.starts_with("+++ "),
                        "unexpected line {text:?} in\n{diff}"
                    );
                }
                continue;
            }
            let (tag, content) = text.split_at(1);
            match tag {
                "\\" => {
                    assert_eq!(content, " No newline at end of file");
                    match last {
                        Some(b'-') => {}
                        Some(b' ' | b'+') => assert_eq!(out.pop(), Some('\n')),
                        _ => panic!("misplaced newline hint in\n{diff}"),
                    }
                    if last == Some(b'-') || last == Some(b' ') {
                        assert!(!old[next - 1].ends_with('\n'));
                    }
                    continue;
                }
                " " | "-" => {
                    assert_eq!(old[next].strip_suffix('\n').unwrap_or(old[next]), content);
                    next += 1;
                    remaining.0 -= 1;
                    if tag == " " {
                        out.push_str(content);
                        out.push('\n');
                        remaining.1 -= 1;
                    }
                }
                "+" => {
                    out.push_str(content);
                    out.push('\n');
                    remaining.1 -= 1;
                }
                _ => panic!("unexpected line {text:?} in\n{diff}"),
            }
            last = tag.bytes().next();
        }
        assert_eq!(remaining, (0, 0), "hunk cut short in\n{diff}");
        out.push_str(&old[next..].concat());
        out
    }

    /// A notebook (nbformat 4.5) of code cells with these sources and ids.
    fn notebook(cells: &[(&str, Option<&str>)]) -> Notebook {
        crate::notebook::test_notebook(cells, 5)
    }

    fn replace(cell: usize, source: &str) -> CellEdit {
        CellEdit::ReplaceSource {
            cell: CellIndex(cell),
            source: source.to_owned(),
        }
    }

    fn remove(cell: usize) -> CellEdit {
        CellEdit::Remove {
            cell: CellIndex(cell),
        }
    }

    fn insert(before: usize, source: &str, id: Option<&str>) -> CellEdit {
        CellEdit::InsertCode {
            before: CellIndex(before),
            source: source.to_owned(),
            id: id.map(str::to_owned),
        }
    }

    #[test]
    fn new_file_is_a_diff_from_dev_null() {
        let after = "\"\"\"Hoisted from analysis.ipynb.\"\"\"\n\ndef f(x):\n    return x + 1\n";
        let diff = file_diff("pkg/analysis.py", None, after);
        insta::assert_snapshot!(diff, @r#"
        --- /dev/null
        +++ pkg/analysis.py
        @@ -0,0 +1,4 @@
        +"""Hoisted from analysis.ipynb."""
        +
        +def f(x):
        +    return x + 1
        "#);
        assert_eq!(apply("", &diff), after);
    }

    #[test]
    fn new_empty_file_still_shows_its_headers() {
        assert_eq!(
            file_diff("pkg/__init__.py", None, ""),
            "--- /dev/null\n+++ pkg/__init__.py\n"
        );
    }

    #[test]
    fn changed_file_has_three_lines_of_context() {
        // Two changes 9 lines apart: two hunks, and the lines between them beyond the 3 of
        // context are left out.
        let before: String = (1..=14).map(|n| format!("x{n} = {n}\n")).collect();
        let after = before
            .replace("x2 = 2", "x2 = 20")
            .replace("x13 = 13\n", "");
        let diff = file_diff("pkg/consts.py", Some(&before), &after);
        insta::assert_snapshot!(diff, @r"
        --- pkg/consts.py
        +++ pkg/consts.py
        @@ -1,5 +1,5 @@
         x1 = 1
        -x2 = 2
        +x2 = 20
         x3 = 3
         x4 = 4
         x5 = 5
        @@ -10,5 +10,4 @@
         x10 = 10
         x11 = 11
         x12 = 12
        -x13 = 13
         x14 = 14
        ");
        assert_eq!(apply(&before, &diff), after);
    }

    #[test]
    fn unchanged_file_has_no_diff() {
        assert_eq!(file_diff("a.py", Some("x = 1\n"), "x = 1\n"), "");
    }

    #[test]
    fn file_without_final_newline_is_marked() {
        let diff = file_diff("a.py", Some("x = 1\ny = 2"), "x = 1\ny = 3");
        insta::assert_snapshot!(diff, @r"
        --- a.py
        +++ a.py
        @@ -1,2 +1,2 @@
         x = 1
        -y = 2
        \ No newline at end of file
        +y = 3
        \ No newline at end of file
        ");
        assert_eq!(apply("x = 1\ny = 2", &diff), "x = 1\ny = 3");
    }

    /// A small deterministic generator (xorshift), so that the property tests need no crate
    /// and always check the same cases.
    struct Lines(u64);

    impl Lines {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        /// A text of up to 30 lines from a small alphabet (so that lines repeat, as code
        /// does), including lines that look like diff syntax, with or without a final newline.
        fn text(&mut self) -> String {
            const WORDS: [&str; 8] = ["a", "b", "", "-- c", "++ d", "@@ -1 +1 @@", " e", "\\ f"];
            let count = (self.next() % 31) as usize;
            let mut text: String = (0..count)
                .map(|_| format!("{}\n", WORDS[(self.next() % 8) as usize]))
                .collect();
            if self.next().is_multiple_of(2) {
                text.pop();
            }
            text
        }
    }

    #[test]
    fn applying_a_file_diff_gives_the_new_text() {
        let mut lines = Lines(0x9E37_79B9_7F4A_7C15);
        for _ in 0..2000 {
            let (before, after) = (lines.text(), lines.text());
            let diff = file_diff("a.py", Some(&before), &after);
            assert_eq!(
                apply(&before, &diff),
                after,
                "{before:?} → {after:?}\n{diff}"
            );
            assert_eq!(apply("", &file_diff("a.py", None, &after)), after);
            // Colouring only adds escape sequences.
            let plain = colorize(&diff)
                .replace("\x1b[0m", "")
                .replace("\x1b[1m", "");
            let plain = ["\x1b[31m", "\x1b[32m", "\x1b[36m"]
                .iter()
                .fold(plain, |text, code| text.replace(code, ""));
            assert_eq!(plain, diff);
        }
    }

    #[test]
    fn applying_a_cell_diff_gives_the_new_source() {
        let mut lines = Lines(0x2545_F491_4F6C_DD1D);
        for _ in 0..2000 {
            let (before, after) = (lines.text(), lines.text());
            let (old, new) = cell_texts(&before, &after);
            let diff = cell_diff("a", "b", &before, &after, false);
            assert_eq!(apply(&old, &diff), new, "{before:?} → {after:?}\n{diff}");
            assert_eq!(new.trim_end_matches('\n'), after.trim_end_matches('\n'));
        }
    }

    #[test]
    fn replaced_cell_is_a_diff_of_its_source() {
        let nb = notebook(&[
            ("import numpy as np", Some("aaaa")),
            ("def f(x):\n    return x + 1\n\ny = f(2)\ny", Some("bbbb")),
        ]);
        let diff = notebook_diff("analysis.ipynb", &nb, &[replace(1, "y = f(2)\ny")]);
        insta::assert_snapshot!(diff, @r"
        --- analysis.ipynb:cell 2 (id bbbb)
        +++ analysis.ipynb:cell 2 (id bbbb)
        @@ -1,5 +1,2 @@
        -def f(x):
        -    return x + 1
        -
         y = f(2)
         y
        ");
    }

    #[test]
    fn removed_cell_is_removed_whole() {
        let nb = notebook(&[("x = 1", None), ("def f():\n    pass", None), ("f()", None)]);
        let diff = notebook_diff("analysis.ipynb", &nb, &[remove(1)]);
        insta::assert_snapshot!(diff, @r"
        --- analysis.ipynb:cell 2
        +++ /dev/null
        @@ -1,2 +0,0 @@
        -def f():
        -    pass
        ");
    }

    #[test]
    fn inserted_cell_is_added_whole_and_named_by_where_it_goes() {
        let nb = notebook(&[("x = 1", None), ("f()", None)]);
        let edits = [
            insert(1, "from pkg.analysis import f", None),
            insert(2, "print(x)", None),
        ];
        let diff = notebook_diff("analysis.ipynb", &nb, &edits);
        insta::assert_snapshot!(diff, @r"
        --- /dev/null
        +++ analysis.ipynb:new cell before cell 2
        @@ -0,0 +1 @@
        +from pkg.analysis import f
        --- /dev/null
        +++ analysis.ipynb:new cell at the end
        @@ -0,0 +1 @@
        +print(x)
        ");
    }

    #[test]
    fn cell_ids_longer_than_8_characters_are_shortened() {
        let nb = notebook(&[
            ("a = 1", Some("3f2a9c1d-5e6f-4a7b-8c9d-0e1f2a3b4c5d")),
            ("b = 1", Some("12345678")),
            ("c = 1", None),
        ]);
        let edits = [
            replace(0, "a = 2"),
            replace(1, "b = 2"),
            replace(2, "c = 2"),
        ];
        let diff = notebook_diff("nb.ipynb", &nb, &edits);
        let headers: Vec<&str> = diff
            .lines()
            .filter(|line| line.starts_with("--- "))
            .collect();
        assert_eq!(
            headers,
            [
                "--- nb.ipynb:cell 1 (id 3f2a9c1d…)",
                "--- nb.ipynb:cell 2 (id 12345678)",
                "--- nb.ipynb:cell 3",
            ]
        );
    }

    #[test]
    fn unchanged_cells_get_no_header() {
        let nb = notebook(&[("x = 1", None), ("y = 2", None), ("z = 3", None)]);
        // Cell 2 is "replaced" by the same text, cell 3 is not touched.
        let diff = notebook_diff("nb.ipynb", &nb, &[replace(1, "y = 2"), replace(0, "x = 0")]);
        insta::assert_snapshot!(diff, @r"
        --- nb.ipynb:cell 1
        +++ nb.ipynb:cell 1
        @@ -1 +1 @@
        -x = 1
        +x = 0
        ");
        assert_eq!(notebook_diff("nb.ipynb", &nb, &[]), "");
    }

    #[test]
    fn notebook_diff_follows_cell_order_and_render_rules() {
        let nb = notebook(&[
            ("import os", Some("c0")),
            ("def f():\n    return 1", Some("c1")),
            ("def g():\n    return 2\n\ng()", Some("c2")),
        ]);
        // As `plan` makes them: cuts first, the import cell last.
        let edits = [
            remove(1),
            replace(2, "g()"),
            insert(1, "from pkg.nb import f, g", Some("0b1c2d3e4f5a")),
            // Ignored: no such cell. Must not panic.
            replace(7, "nothing"),
            remove(9),
        ];
        let diff = notebook_diff("nb.ipynb", &nb, &edits);
        insta::assert_snapshot!(diff, @r"
        --- /dev/null
        +++ nb.ipynb:new cell before cell 2 (id 0b1c2d3e…)
        @@ -0,0 +1 @@
        +from pkg.nb import f, g
        --- nb.ipynb:cell 2 (id c1)
        +++ /dev/null
        @@ -1,2 +0,0 @@
        -def f():
        -    return 1
        --- nb.ipynb:cell 3 (id c2)
        +++ nb.ipynb:cell 3 (id c2)
        @@ -1,4 +1 @@
        -def g():
        -    return 2
        -
         g()
        ");
        // A removal wins over a replacement of the same cell, and the last replacement wins.
        let diff = notebook_diff("nb.ipynb", &nb, &[replace(0, "x"), replace(0, "import os")]);
        assert_eq!(diff, "");
        let diff = notebook_diff("nb.ipynb", &nb, &[replace(1, "x"), remove(1)]);
        assert!(diff.contains("+++ /dev/null\n"), "{diff}");
    }

    #[test]
    fn cell_final_newline_is_only_shown_when_it_changes() {
        let nb = notebook(&[("x = 1\ny = 2", None)]);
        let diff = notebook_diff("nb.ipynb", &nb, &[replace(0, "x = 1\ny = 3")]);
        assert!(!diff.contains("No newline"), "{diff}");
        let diff = notebook_diff("nb.ipynb", &nb, &[replace(0, "x = 1\ny = 2\n")]);
        insta::assert_snapshot!(diff, @r"
        --- nb.ipynb:cell 1
        +++ nb.ipynb:cell 1
        @@ -1,2 +1,2 @@
         x = 1
        -y = 2
        \ No newline at end of file
        +y = 2
        ");
    }

    #[test]
    fn control_characters_in_names_are_escaped() {
        let nb = notebook(&[("x", Some("a\nb\u{1b}[31mxyz"))]);
        let diff = notebook_diff("my\tnb.ipynb", &nb, &[replace(0, "y")]);
        assert!(
            diff.starts_with("--- my\\tnb.ipynb:cell 1 (id a\\nb\\u{1b}[31m…)\n"),
            "{diff}"
        );
    }

    #[test]
    fn colours_like_git() {
        let diff =
            "--- a.py\n+++ a.py\n@@ -1,2 +1,2 @@\n x\n--- y\n+++ z\n\\ No newline at end of file\n";
        let colored = colorize(diff).replace('\x1b', "␛");
        insta::assert_snapshot!(colored, @r"
        ␛[1m--- a.py␛[0m
        ␛[1m+++ a.py␛[0m
        ␛[36m@@ -1,2 +1,2 @@␛[0m
         x
        ␛[31m--- y␛[0m
        ␛[32m+++ z␛[0m
        \ No newline at end of file
        ");
    }

    #[test]
    fn colour_is_reset_before_the_line_ending() {
        assert_eq!(
            colorize("@@ -1 +1 @@\r\n-a\r\n+b"),
            "\x1b[36m@@ -1 +1 @@\x1b[0m\r\n\x1b[31m-a\x1b[0m\r\n\x1b[32m+b\x1b[0m"
        );
        assert_eq!(colorize(""), "");
    }
}
