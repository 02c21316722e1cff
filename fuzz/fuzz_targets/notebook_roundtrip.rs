//! The notebook reader and splice writer: a notebook that reads is written back byte for
//! byte with no edits, and an edit of one cell's source changes only that value, as JSON.

#![no_main]

use libfuzzer_sys::fuzz_target;
use nbhoist::{CellEdit, CellKind, Notebook};
use serde_json::Value;

/// A cell's `source` as one string, whichever way it is stored.
fn joined(source: &Value) -> Option<String> {
    match source {
        Value::Array(lines) => lines.iter().map(Value::as_str).collect(),
        Value::String(text) => Some(text.clone()),
        _ => None,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(notebook) = Notebook::parse_any_language(text) else {
        return;
    };
    assert_eq!(notebook.render(&[]), text, "an unedited notebook changed");

    let cells = notebook.cells();
    if cells.is_empty() {
        return;
    }
    let cell = &cells[data.len() % cells.len()];
    if matches!(cell.kind, CellKind::Other(_)) {
        // Carried untouched, `source` or not.
        return;
    }
    // A new source that keeps some of the old one and adds lines, quotes and non-ASCII.
    let source = format!("x = \"é\\\"\"\n{}\n", cell.source.chars().rev().collect::<String>());
    let edit = CellEdit::ReplaceSource {
        cell: cell.index,
        source: source.clone(),
    };
    let after = notebook.render(&[edit]);
    let before: Value = serde_json::from_str(text.trim_start_matches('\u{feff}'))
        .expect("what nbhoist reads is JSON");
    let after: Value = serde_json::from_str(after.trim_start_matches('\u{feff}'))
        .expect("what nbhoist writes is JSON");
    let index = cell.index.0;
    assert_eq!(
        joined(&after["cells"][index]["source"]).as_deref(),
        Some(source.as_str()),
        "the edited cell does not hold the new source"
    );
    let mut expected = before;
    expected["cells"][index]["source"] = after["cells"][index]["source"].clone();
    assert_eq!(after, expected, "the edit changed more than one source");
});
