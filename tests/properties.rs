//! Properties over generated input: a notebook in any JSON style comes back byte for byte,
//! an edit of one cell changes only that cell's `source`, and extracting twice changes
//! nothing the second time.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use nbhoist::{CellEdit, Notebook};
use proptest::prelude::*;
use serde_json::{Map, Value};

mod common;

/// How a notebook's JSON is written, as the tools that write notebooks differ.
#[derive(Clone, Debug)]
struct JsonStyle {
    /// Indentation per level; `None`: everything on one line.
    indent: Option<&'static str>,
    /// After `,` on one line.
    item_space: bool,
    /// After `:`.
    key_space: bool,
    /// Escape everything outside ASCII (Python's `ensure_ascii`).
    ascii: bool,
    /// Escape `/` as `\/`.
    escape_slash: bool,
    /// `\r\n` line ends.
    crlf: bool,
    /// A byte order mark first.
    bom: bool,
    /// A line end after the closing brace.
    final_newline: bool,
}

fn style() -> impl Strategy<Value = JsonStyle> {
    (
        prop::sample::select(vec![None, Some(" "), Some("  "), Some("    "), Some("\t")]),
        any::<[bool; 7]>(),
    )
        .prop_map(|(indent, flags)| JsonStyle {
            indent,
            item_space: flags[0],
            key_space: flags[1],
            ascii: flags[2],
            escape_slash: flags[3],
            crlf: flags[4],
            bom: flags[5],
            final_newline: flags[6],
        })
}

impl JsonStyle {
    fn write(&self, value: &Value) -> String {
        let mut out = String::new();
        if self.bom {
            out.push('\u{feff}');
        }
        self.value(value, 0, &mut out);
        if self.final_newline {
            out.push_str(self.newline());
        }
        out
    }

    fn newline(&self) -> &'static str {
        if self.crlf { "\r\n" } else { "\n" }
    }

    /// Before an element at `depth`: a line end and indentation, or a space on one line.
    fn separate(&self, depth: usize, first: bool, out: &mut String) {
        match self.indent {
            Some(indent) => {
                out.push_str(self.newline());
                out.push_str(&indent.repeat(depth));
            }
            None if !first && self.item_space => out.push(' '),
            None => {}
        }
    }

    fn value(&self, value: &Value, depth: usize, out: &mut String) {
        match value {
            Value::Array(items) if !items.is_empty() => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    self.separate(depth + 1, i == 0, out);
                    self.value(item, depth + 1, out);
                }
                self.separate(depth, true, out);
                out.push(']');
            }
            Value::Object(members) if !members.is_empty() => {
                out.push('{');
                for (i, (key, item)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    self.separate(depth + 1, i == 0, out);
                    self.string(key, out);
                    out.push_str(if self.key_space { ": " } else { ":" });
                    self.value(item, depth + 1, out);
                }
                self.separate(depth, true, out);
                out.push('}');
            }
            Value::String(text) => self.string(text, out),
            other => out.push_str(&other.to_string()),
        }
    }

    fn string(&self, text: &str, out: &mut String) {
        out.push('"');
        for c in text.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '/' if self.escape_slash => out.push_str("\\/"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if (c as u32) < 0x20 || (self.ascii && !c.is_ascii()) => {
                    let mut units = [0u16; 2];
                    for unit in c.encode_utf16(&mut units) {
                        out.push_str(&format!("\\u{unit:04x}"));
                    }
                }
                c => out.push(c),
            }
        }
        out.push('"');
    }
}

/// Cell text: code-like lines with quotes, escapes, tabs, carriage returns, control
/// characters, accents and characters outside the basic plane.
fn text() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[a-z0-9 =()'\"\\\\/\t\r\u{1}é€😀\n]{0,40}").unwrap()
}

/// A cell: its kind, source, and whether the source is a list of lines.
fn cell() -> impl Strategy<Value = Value> {
    (0usize..4, text(), any::<bool>(), any::<bool>()).prop_map(|(kind, source, lines, output)| {
        let source = if lines {
            Value::from(source.split_inclusive('\n').collect::<Vec<_>>())
        } else {
            Value::from(source)
        };
        let mut cell = Map::new();
        let kind = ["code", "markdown", "raw", "code"][kind];
        cell.insert("cell_type".into(), kind.into());
        if kind == "code" {
            cell.insert("execution_count".into(), Value::Null);
        }
        cell.insert("metadata".into(), serde_json::json!({}));
        if kind == "code" {
            let outputs = if output {
                serde_json::json!([{"name": "stdout", "output_type": "stream", "text": ["1\n"]}])
            } else {
                serde_json::json!([])
            };
            cell.insert("outputs".into(), outputs);
        }
        cell.insert("source".into(), source);
        Value::Object(cell)
    })
}

fn notebook_value() -> impl Strategy<Value = Value> {
    prop::collection::vec(cell(), 0..6).prop_map(|cells| {
        serde_json::json!({
            "cells": cells,
            "metadata": {"kernelspec": {"language": "python", "name": "python3"}},
            "nbformat": 4,
            "nbformat_minor": 4,
        })
    })
}

/// A cell's `source` as one string, whichever way it is stored.
fn joined(source: &Value) -> String {
    match source {
        Value::Array(lines) => lines.iter().filter_map(Value::as_str).collect(),
        Value::String(text) => text.clone(),
        other => panic!("source is {other}"),
    }
}

/// The JSON value of a notebook's text, as Jupyter reads it.
fn parsed(text: &str) -> Value {
    serde_json::from_str(text.trim_start_matches('\u{feff}')).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_style_round_trips_byte_for_byte(value in notebook_value(), style in style()) {
        let text = style.write(&value);
        let notebook = Notebook::parse(&text).unwrap();
        prop_assert_eq!(notebook.render(&[]), text);
    }

    #[test]
    fn an_edit_changes_only_that_cells_source(
        value in notebook_value(),
        style in style(),
        pick in any::<prop::sample::Index>(),
        new_source in text(),
    ) {
        let text = style.write(&value);
        let notebook = Notebook::parse(&text).unwrap();
        prop_assume!(!notebook.cells().is_empty());
        let cell = notebook.cells()[pick.index(notebook.cells().len())].index;
        let edit = CellEdit::ReplaceSource { cell, source: new_source.clone() };
        let after = parsed(&notebook.render(&[edit]));
        let mut expected = parsed(&text);
        let edited = &mut expected["cells"][cell.0]["source"];
        prop_assert_eq!(joined(&after["cells"][cell.0]["source"]), new_source);
        *edited = after["cells"][cell.0]["source"].clone();
        prop_assert_eq!(after, expected);
    }
}

/// Every file under `dir`, with its content.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut found = BTreeMap::new();
    let mut folders = vec![dir.to_owned()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else {
                found.insert(path.clone(), std::fs::read(path).unwrap());
            }
        }
    }
    found
}

fn extract(dir: &Path) -> (bool, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_nbhoist"))
        .current_dir(dir)
        .args(["extract", "nb.ipynb", "--package", "pkg"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), text)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 48,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Extracting, then extracting again, changes nothing the second time.
    #[test]
    fn extracting_twice_changes_nothing_more(notebook in common::python_notebook()) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("nb.ipynb"), &notebook).unwrap();
        let (ok, report) = extract(dir.path());
        prop_assert!(ok, "{}", report);
        let first = files(dir.path());
        let (ok, report) = extract(dir.path());
        prop_assert!(ok, "{}", report);
        prop_assert!(report.contains("Nothing to change."), "{}", report);
        prop_assert_eq!(files(dir.path()), first);
    }
}
