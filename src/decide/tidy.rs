//! The notebook that is left: which of its imports only moved code used, and go (whole or some
//! of their names), and which moved names the import cell imports. Both rules count what the
//! rest of the notebook mentions, in the code left once the moved statements are cut.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;

use ruff_python_ast::Stmt;
use ruff_python_ast::token::TokenKind;
use ruff_text_size::Ranged;
use rustc_hash::FxHashMap;

use super::Moving;
use super::writefile::WriteFiles;
use crate::analysis::{Analysis, CodeCell, StatementRef};
use crate::notebook::Notebook;
use crate::position::{CellIndex, CellNumber};
use crate::python::imports::bound_name;
use crate::python::span::cut_range;

/// An import statement of the notebook that loses names, or goes, because only moved code used
/// them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DroppedImport {
    /// The statement.
    pub(crate) at: StatementRef,
    /// Its cell.
    pub(crate) cell: CellNumber,
    /// The positions of the names that go, among the statement's names.
    pub(crate) names: BTreeSet<usize>,
    /// Why they go.
    pub(crate) reason: DropReason,
}

/// Why an import of the notebook goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum DropReason {
    /// Nothing left in the notebook uses any name it binds, and the module imports each: the
    /// statement goes.
    Unused,
    /// Nothing left uses these of its names, which the module imports; the others stay.
    UnusedNames(Vec<String>),
}

impl DropReason {
    /// The kind of reason, for programs.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            DropReason::Unused => "unused-import",
            DropReason::UnusedNames(_) => "unused-names",
        }
    }

    /// Whether the whole statement goes.
    pub(crate) fn is_whole(&self) -> bool {
        matches!(self, DropReason::Unused)
    }
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DropReason::Unused => {
                write!(
                    f,
                    "nothing left in the notebook uses it; the module imports it"
                )
            }
            DropReason::UnusedNames(names) => {
                let quoted: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
                let pronoun = if names.len() == 1 { "it" } else { "them" };
                write!(
                    f,
                    "nothing left in the notebook uses {}; the module imports {pronoun}",
                    quoted.join(", ")
                )
            }
        }
    }
}

/// Top-level modules whose import sets things up (a plotting backend, styles) at the place
/// the notebook has it: never dropped, even when nothing uses the names.
const SETUP_MODULES: &[&str] = &["matplotlib", "pylab", "__future__"];

/// The code left in the notebook, cell by cell, as it counts for mentions: what is cut, and
/// comments, are blanked out (offsets stay those of the cell's text); `None` for a cell that
/// goes.
struct Left {
    cells: Vec<Option<String>>,
    /// How often each name is mentioned in them (see [`mentions`]), counted once: a notebook
    /// may have a hundred thousand names to look up.
    counts: FxHashMap<String, usize>,
}

impl Left {
    fn new(notebook: &Notebook, analysis: &Analysis, writes: &WriteFiles, moving: &Moving) -> Left {
        let removed: BTreeSet<CellIndex> = writes
            .modules
            .iter()
            .flat_map(|module| module.cells.iter().copied())
            .collect();
        let mut cut: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        // A last version imported where it stood mentions only its own name there.
        for at in moving
            .cut
            .iter()
            .chain(moving.in_place.iter().map(|(at, _)| at))
        {
            cut.entry(at.code_cell).or_default().push(at.statement);
        }
        let cells = analysis
            .cells
            .iter()
            .enumerate()
            .map(|(code_cell, cell)| {
                if removed.contains(&cell.index) {
                    return None;
                }
                let source = cell.text(notebook);
                let statements = cell.notebook_statements();
                let mut blank: Vec<Range<usize>> = cut
                    .get(&code_cell)
                    .into_iter()
                    .flatten()
                    .map(|&i| cut_range(source, statements, i))
                    .collect();
                blank.extend(tokens_of(cell, &[TokenKind::Comment]));
                Some(blanked(source, &blank))
            })
            .collect();
        let mut left = Left {
            cells,
            counts: FxHashMap::default(),
        };
        left.count();
        left
    }

    fn count(&mut self) {
        let mut counts: FxHashMap<String, usize> = FxHashMap::default();
        for text in self.cells.iter().flatten() {
            for (at, word) in identifiers(text) {
                if text[..at].ends_with('.') {
                    continue;
                }
                // Most words are seen before: look them up without allocating a key.
                match counts.get_mut(word) {
                    Some(count) => *count += 1,
                    None => {
                        counts.insert(word.to_owned(), 1);
                    }
                }
            }
        }
        self.counts = counts;
    }

    /// Takes the mentions in `range` of `text` off the counts, before it is blanked out.
    fn uncount(counts: &mut FxHashMap<String, usize>, text: &str, range: &Range<usize>) {
        for (at, word) in identifiers(&text[range.clone()]) {
            if text[..range.start + at].ends_with('.') {
                continue;
            }
            if let Some(count) = counts.get_mut(word) {
                *count = count.saturating_sub(1);
            }
        }
    }

    /// Blanks out the names `dropped` takes from their statements (the whole statement when
    /// it goes).
    fn drop(&mut self, analysis: &Analysis, dropped: &[DroppedImport]) {
        for drop in dropped {
            let Some(Some(text)) = self.cells.get_mut(drop.at.code_cell) else {
                continue;
            };
            let stmt = crate::analysis::statement(&analysis.cells, drop.at);
            let ranges: Vec<Range<usize>> = if drop.reason.is_whole() {
                vec![stmt.range().into()]
            } else {
                aliases(stmt)
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| drop.names.contains(i))
                    .map(|(_, alias)| alias.range().into())
                    .collect()
            };
            for range in &ranges {
                Self::uncount(&mut self.counts, text, range);
            }
            *text = blanked(text, &ranges);
        }
    }

    fn texts(&self) -> impl Iterator<Item = &str> {
        self.cells.iter().flatten().map(String::as_str)
    }

    /// How often `name` is mentioned in what is left.
    fn mentions(&self, name: &str) -> usize {
        self.counts.get(name).copied().unwrap_or_default()
    }
}

/// `text` with `ranges` (which start and end between characters) replaced by spaces, byte
/// for byte, newlines kept.
fn blanked(text: &str, ranges: &[Range<usize>]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for range in ranges {
        for byte in &mut bytes[range.clone()] {
            if *byte != b'\n' {
                *byte = b' ';
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The ranges of the tokens of these kinds in a parsed cell.
fn tokens_of(cell: &CodeCell, kinds: &[TokenKind]) -> Vec<Range<usize>> {
    cell.parsed
        .iter()
        .flat_map(|parsed| parsed.tokens().iter())
        .filter(|token| kinds.contains(&token.kind()))
        .map(|token| token.range().into())
        .collect()
}

/// The names of an import statement.
fn aliases(stmt: &Stmt) -> &[ruff_python_ast::Alias] {
    match stmt {
        Stmt::Import(import) => &import.names,
        Stmt::ImportFrom(import) => &import.names,
        _ => &[],
    }
}

/// What is decided about the notebook that is left.
pub(super) struct Tidy {
    /// The imports that lose names or go.
    pub(super) dropped: Vec<DroppedImport>,
    /// The moved names the import cell imports.
    pub(super) imported: Vec<String>,
}

/// Decides which imports go and what the import cell imports, when the import cell goes at
/// `position`. A notebook that another runs with `%run` keeps every import and imports every
/// moved name: the notebooks that run it may use them.
pub(super) fn tidy(
    notebook: &Notebook,
    analysis: &Analysis,
    writes: &WriteFiles,
    moving: &Moving,
    position: CellIndex,
    run_by_others: bool,
) -> Tidy {
    // A last version is imported where it stood, not at the import cell.
    let moved: Vec<String> = moving
        .items
        .iter()
        .map(|item| item.name.clone())
        .filter(|name| !moving.in_place.iter().any(|(_, n)| n == name))
        .collect();
    if run_by_others {
        return Tidy {
            dropped: Vec::new(),
            imported: moved,
        };
    }
    let mut left = Left::new(notebook, analysis, writes, moving);
    let reaches = left.texts().any(reaches_namespace);
    // A cell that goes changes the numbers `In[3]` and `%rerun` count by.
    let history = analysis.cells.iter().zip(&left.cells).any(|(cell, text)| {
        text.as_deref().is_some_and(|text| {
            let strings = [
                TokenKind::String,
                TokenKind::FStringMiddle,
                TokenKind::TStringMiddle,
            ];
            reads_history(&blanked(text, &tokens_of(cell, &strings)))
        })
    });
    let dropped = if reaches || history {
        Vec::new()
    } else {
        let dropped = unused_imports(analysis, writes, moving, position, &left);
        keep_magic_lines(notebook, analysis, moving, dropped)
    };
    left.drop(analysis, &dropped);
    let imported = if reaches {
        moved
    } else {
        mentioned(&left, moved)
    };
    Tidy { dropped, imported }
}

/// The notebook's imports whose names can go: in a cell after the last cell before the import
/// cell that sets something up (so that what importing does still happens, at the import cell:
/// earlier for a later cell, and with only imports and magics in between for one before it,
/// as the import cell's place guarantees), names the module imports too (and whose
/// import the saved notebook shows working), mentioned nowhere else in what is left of the
/// notebook. A name goes from every such import of it, or from none.
fn unused_imports(
    analysis: &Analysis,
    writes: &WriteFiles,
    moving: &Moving,
    position: CellIndex,
    left: &Left,
) -> Vec<DroppedImport> {
    let sets_up = |cell: &CodeCell| cell.setup.is_some() || cell.chdir.is_some();
    let last_setup = analysis
        .cells
        .iter()
        .filter(|cell| cell.index < position && sets_up(cell))
        .map(|cell| cell.index)
        .max();
    // The names that could go, with the names of statements they could go from.
    let mut candidates: BTreeMap<&str, Vec<(StatementRef, usize)>> = BTreeMap::new();
    let mut whole_only = BTreeSet::new();
    for (code_cell, cell) in analysis.cells.iter().enumerate() {
        // A cell after the import cell imports again what the module has imported: what it
        // sets up, placing the import cell saw to.
        if last_setup.is_some_and(|setup| cell.index <= setup) || cell.is_fixed() {
            continue;
        }
        for (index, stmt) in cell.notebook_statements().iter().enumerate() {
            let from = match stmt {
                Stmt::Import(_) => false,
                Stmt::ImportFrom(import) if import.level == 0 => true,
                _ => continue,
            };
            let at = StatementRef {
                code_cell,
                statement: index,
            };
            // An import of a module a `%%writefile` cell wrote is rewritten to come from the
            // package: it goes whole or not at all.
            let rewritten = writes.imports.iter().any(|import| {
                import.code_cell == code_cell
                    && import.range == Range::from(stmt.range())
                    && writes.get(&import.module).is_some()
            });
            if rewritten {
                whole_only.insert(at);
            }
            for (i, alias) in aliases(stmt).iter().enumerate() {
                let module = match stmt {
                    Stmt::ImportFrom(import) => import.module.as_ref().map_or("", |m| m.as_str()),
                    _ => alias.name.as_str(),
                };
                let top = module.split('.').next().unwrap_or_default();
                let name = bound_name(alias, from);
                let goes = name != "*"
                    && !SETUP_MODULES.contains(&top)
                    && moving.imports.contains(name)
                    && !moving.unverified.contains(name)
                    && analysis
                        .names
                        .sites(name)
                        .iter()
                        .any(|site| site.at == at && site.whole_lines);
                if goes {
                    candidates.entry(name).or_default().push((at, i));
                }
            }
        }
    }
    let mut by_statement: BTreeMap<StatementRef, BTreeSet<usize>> = BTreeMap::new();
    for (name, sites) in candidates {
        let statements: BTreeSet<StatementRef> = sites.iter().map(|(at, _)| *at).collect();
        let inside: usize = statements
            .iter()
            .filter_map(|at| {
                let text = left.cells[at.code_cell].as_deref()?;
                let range = crate::analysis::statement(&analysis.cells, *at).range();
                Some(mentions(&text[range], name))
            })
            .sum();
        if left.mentions(name) == inside {
            for (at, i) in sites {
                by_statement.entry(at).or_default().insert(i);
            }
        }
    }
    by_statement
        .into_iter()
        .filter(|(at, names)| {
            let all = aliases(crate::analysis::statement(&analysis.cells, *at));
            names.len() == all.len() || !whole_only.contains(at)
        })
        .map(|(at, names)| {
            let cell = &analysis.cells[at.code_cell];
            let stmt = crate::analysis::statement(&analysis.cells, at);
            let all = aliases(stmt);
            let reason = if names.len() == all.len() {
                DropReason::Unused
            } else {
                let from = matches!(stmt, Stmt::ImportFrom(_));
                let mut gone: Vec<String> = names
                    .iter()
                    .map(|&i| bound_name(&all[i], from).to_owned())
                    .collect();
                gone.dedup();
                DropReason::UnusedNames(gone)
            };
            DroppedImport {
                at,
                cell: cell.index.number(),
                names,
                reason,
            }
        })
        .collect()
}

/// A cell left with one line that names a line magic would run as that magic (see
/// [`super::magic_line_left`]): the statements that would leave it so stay whole.
fn keep_magic_lines(
    notebook: &Notebook,
    analysis: &Analysis,
    moving: &Moving,
    dropped: Vec<DroppedImport>,
) -> Vec<DroppedImport> {
    let mut cut: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for at in &moving.cut {
        cut.entry(at.code_cell).or_default().push(at.statement);
    }
    for drop in dropped.iter().filter(|drop| drop.reason.is_whole()) {
        cut.entry(drop.at.code_cell)
            .or_default()
            .push(drop.at.statement);
    }
    let moved: BTreeSet<&str> = moving.items.iter().map(|item| item.name.as_str()).collect();
    let magic: BTreeSet<usize> = cut
        .into_iter()
        .filter(|(code_cell, statements)| {
            super::magic_line_left(notebook, analysis, *code_cell, statements, &moved).is_some()
        })
        .map(|(code_cell, _)| code_cell)
        .collect();
    dropped
        .into_iter()
        .filter(|drop| !(drop.reason.is_whole() && magic.contains(&drop.at.code_cell)))
        .collect()
}

/// Builtins that reach a notebook's names without writing them, when called.
const NAMESPACE_CALLS: &[&str] = &["globals", "locals", "vars", "dir", "eval", "exec"];

/// Magics that list, save or drop the notebook's names, or hand them to other code.
const NAMESPACE_MAGICS: &[&str] = &["who", "whos", "who_ls", "store", "run", "reset"];

/// Names through which code reaches the notebook's namespace.
const NAMESPACE_NAMES: &[&str] = &["user_ns", "__main__", "__dict__", "dill"];

/// Whether `text` reaches the notebook's names without writing them: `globals()`, `%who`
/// (or automagic `who`), `get_ipython().user_ns`, a pickled session, `%run -i` ...
fn reaches_namespace(text: &str) -> bool {
    let called = |word: &str| {
        words(text, word).any(|(at, _)| {
            !text[..at].ends_with('.') && text[at + word.len()..].trim_start().starts_with('(')
        })
    };
    NAMESPACE_CALLS.iter().any(|word| called(word))
        || has_magic(text, NAMESPACE_MAGICS)
        || NAMESPACE_NAMES.iter().any(|word| has_word(text, word))
}

/// Magics that read IPython's numbered history.
const HISTORY_MAGICS: &[&str] = &[
    "history", "hist", "recall", "rerun", "rep", "macro", "save", "pastebin",
];

/// Whether `text` reads IPython's numbered history (`In`, `Out`, `_i3`, `_3`, `%rerun`).
fn reads_history(text: &str) -> bool {
    let mut rest = text;
    while let Some(start) = rest.find(|c: char| c == '_' || c.is_alphabetic()) {
        let before = rest[..start].chars().next_back();
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| c != '_' && !c.is_alphanumeric())
            .unwrap_or(tail.len());
        let name = &tail[..end];
        if !before.is_some_and(|c| c == '.' || c.is_alphanumeric())
            && crate::analysis::is_numbered_history(name)
        {
            return true;
        }
        rest = &tail[end..];
    }
    has_magic(text, HISTORY_MAGICS)
}

/// Whether a line of `text` runs one of the line magics `names`, with `%` or as automagic.
/// One pass over the lines for all of them: this runs on every cell of every notebook.
fn has_magic(text: &str, names: &[&str]) -> bool {
    text.lines().any(|line| {
        let line = line.trim_start();
        let (percent, line) = match line.strip_prefix('%') {
            Some(rest) => (true, rest),
            None => (false, line),
        };
        let end = line.find(|c: char| !is_identifier(c)).unwrap_or(line.len());
        let (word, rest) = line.split_at(end);
        names.contains(&word) && {
            let next = rest.trim_start();
            // Without `%`, a line such as `store = {}` is Python, not automagic.
            rest.is_empty()
                || rest.starts_with(char::is_whitespace)
                    && (percent || !next.starts_with(['=', '(', '[', '.', ',', ':']))
        }
    })
}

/// The moved names the rest of the notebook still mentions, which the import cell imports: a
/// helper only other moved code uses is not imported. A mention is any whole word in what is
/// left of a code cell but an attribute (magics, shell lines and strings included:
/// `%time f(X)`, `!echo {X}`, `eval("X")`), which can only over-count. All of them when it
/// mentions none (the import cell is how a later run knows the notebook was extracted).
fn mentioned(left: &Left, moved: Vec<String>) -> Vec<String> {
    let used: Vec<String> = moved
        .iter()
        .filter(|name| left.mentions(name) > 0)
        .cloned()
        .collect();
    if used.is_empty() { moved } else { used }
}

/// Whether `word` occurs in `text` with no identifier character on either side.
pub(crate) fn has_word(text: &str, word: &str) -> bool {
    words(text, word).next().is_some()
}

/// How often `text` mentions the name `name`: as a whole word, not after a `.` (an attribute
/// such as `np.random` is not the name `random`).
fn mentions(text: &str, name: &str) -> usize {
    words(text, name)
        .filter(|(at, _)| !text[..*at].ends_with('.'))
        .count()
}

/// The runs of identifier characters in `text`, with their offsets.
fn identifiers(text: &str) -> Vec<(usize, &str)> {
    let mut found = Vec::new();
    let mut start = None;
    let bytes = text.as_bytes();
    let mut at = 0;
    // Byte by byte, decoding only what is not ASCII: this reads every cell of every notebook.
    while at <= bytes.len() {
        let (identifier, width) = match bytes.get(at) {
            None => (false, 1),
            Some(&byte) if byte.is_ascii() => (byte == b'_' || byte.is_ascii_alphanumeric(), 1),
            Some(_) => {
                let c = text[at..].chars().next().unwrap_or(' ');
                (is_identifier(c), c.len_utf8())
            }
        };
        match (start, identifier) {
            (None, true) => start = Some(at),
            (Some(from), false) => {
                found.push((from, &text[from..at]));
                start = None;
            }
            _ => {}
        }
        at += width;
    }
    found
}

fn is_identifier(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// The places where `word` occurs in `text` with no identifier character on either side.
fn words<'t>(text: &'t str, word: &'t str) -> impl Iterator<Item = (usize, &'t str)> {
    text.match_indices(word).filter(move |(at, _)| {
        let before = text[..*at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(is_identifier) && !after.is_some_and(is_identifier)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mention_is_a_whole_word_but_not_an_attribute() {
        assert!(has_word("%time f(X)", "f"));
        assert!(has_word("!echo {X}", "X"));
        assert!(has_word("eval('main(1)')", "main"));
        assert!(!has_word("domain(1)", "main"));
        assert!(!has_word("main_2 = mainly", "main"));
        assert!(!has_word("größe", "gr"));
        assert_eq!(mentions("random.seed(1); np.random.rand()", "random"), 1);
        assert_eq!(mentions("x = np.random", "random"), 0);
        assert_eq!(
            identifiers("a.b_1 (größe)"),
            [(0, "a"), (2, "b_1"), (7, "größe")]
        );
    }

    #[test]
    fn blanking_keeps_offsets_and_lines() {
        let text = "a = 1  # größe\nb = 2";
        let comment = text.find('#').unwrap()..text.find('\n').unwrap();
        let blank = blanked(text, &[comment]);
        assert_eq!(blank.len(), text.len());
        assert_eq!(
            blank.trim_end_matches(|c| c != '\n').len(),
            text.find('\n').unwrap() + 1
        );
        assert!(!blank.contains('#'));
        assert!(blank.ends_with("\nb = 2"));
    }

    #[test]
    fn reaching_the_namespace_is_a_call_a_magic_or_a_name() {
        for text in [
            "print(globals()['f'])",
            "x = eval ('f(1)')",
            "%who",
            "  %run -i other.py",
            "whos",
            "ns = get_ipython().user_ns",
        ] {
            assert!(reaches_namespace(text), "{text}");
        }
        for text in ["print(len(In))", "x = _i3", "Out[2]", "%rerun 3", "_12 + 1"] {
            assert!(reads_history(text), "{text}");
        }
        for text in ["Inside = 1", "self.In", "_internal", "x_1", "history = []"] {
            assert!(!reads_history(text), "{text}");
        }
        for text in [
            "subprocess.run(['ls'])",
            "os.dir = 1",
            "store = {}",
            "run_all(x)",
            "df.eval('a + b')",
        ] {
            assert!(!reaches_namespace(text), "{text}");
        }
    }

    #[test]
    fn drop_reasons_name_what_goes() {
        assert_eq!(
            DropReason::Unused.to_string(),
            "nothing left in the notebook uses it; the module imports it"
        );
        assert_eq!(
            DropReason::UnusedNames(vec!["a".to_owned()]).to_string(),
            "nothing left in the notebook uses `a`; the module imports it"
        );
        assert_eq!(
            DropReason::UnusedNames(vec!["a".to_owned(), "b".to_owned()]).to_string(),
            "nothing left in the notebook uses `a`, `b`; the module imports them"
        );
    }
}
