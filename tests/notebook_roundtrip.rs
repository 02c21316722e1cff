//! Round trips through the notebook model and splice writer, over the fixtures in
//! `tests/fixtures/notebooks/` (see the README there for how they are generated).
//!
//! Unedited notebooks must come back byte for byte; edited ones must equal what Python's
//! `json.dumps` writes for the same edit in the file's own style (`expected/`).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use nbhoist::{CellEdit, CellIndex, CellKind, Notebook, SourceShape};
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/notebooks")
}

/// Every input fixture (top level of the folder), sorted by name.
fn fixtures() -> Vec<(String, Vec<u8>)> {
    let mut found: Vec<(String, Vec<u8>)> = fs::read_dir(fixtures_dir())
        .expect("fixtures folder exists")
        .map(|entry| entry.expect("readable folder entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "ipynb"))
        .map(|path| {
            let name = path
                .file_stem()
                .expect("file has a name")
                .to_string_lossy()
                .into_owned();
            (name, fs::read(&path).expect("readable fixture"))
        })
        .collect();
    found.sort();
    assert!(
        found.len() >= 20,
        "fixtures are missing: found {}",
        found.len()
    );
    found
}

/// The fixtures that must be read successfully, with their text and notebook.
fn readable() -> Vec<(String, String, Notebook)> {
    fixtures()
        .into_iter()
        .filter(|(name, _)| !name.starts_with("error_"))
        .map(|(name, bytes)| {
            let text = String::from_utf8(bytes).expect("fixture is UTF-8");
            let notebook = Notebook::parse(&text).unwrap_or_else(|error| panic!("{name}: {error}"));
            (name, text, notebook)
        })
        .collect()
}

/// What each error fixture must be refused with (the message the caller prefixes a path to).
const ERRORS: &[(&str, &str)] = &[
    (
        "error_bad_source",
        "cell 2: \"source\" must be a string or a list of strings",
    ),
    ("error_invalid_utf8", "not valid UTF-8 (line 7, column 11)"),
    (
        "error_nan_output",
        "not valid JSON (line 46, column 17): NaN is not allowed in JSON",
    ),
    (
        "error_not_json",
        "not valid JSON (line 1, column 1): expected value",
    ),
    (
        "error_not_notebook",
        "not a notebook (expected a JSON object with \"cells\")",
    ),
    ("error_r_kernel", "kernel language is R, not Python"),
    (
        "error_v3",
        "nbformat 3 is not supported; upgrade it with \"jupyter nbconvert --to notebook --nbformat 4\"",
    ),
];

#[test]
fn error_fixtures_are_refused_with_clear_messages() {
    let mut seen = BTreeSet::new();
    for (name, bytes) in fixtures() {
        if !name.starts_with("error_") {
            continue;
        }
        let expected = ERRORS
            .iter()
            .find(|(fixture, _)| *fixture == name)
            .unwrap_or_else(|| panic!("{name}: no expected message in ERRORS"))
            .1;
        let error = Notebook::parse_bytes(bytes).expect_err(&name);
        assert_eq!(error.to_string(), expected, "{name}");
        assert_eq!(error.is_skip(), name == "error_r_kernel", "{name}");
        seen.insert(name);
    }
    assert_eq!(seen.len(), ERRORS.len(), "an ERRORS entry has no fixture");
}

#[test]
fn unedited_render_is_byte_identical() {
    for (name, text, notebook) in readable() {
        assert_eq!(notebook.render(&[]), text, "{name}");
        assert_eq!(notebook.text(), text, "{name}");
    }
}

#[test]
fn replacing_sources_with_themselves_changes_nothing() {
    for (name, text, notebook) in readable() {
        let edits: Vec<CellEdit> = notebook
            .cells()
            .iter()
            .map(|cell| CellEdit::ReplaceSource {
                cell: cell.index,
                source: cell.source.clone(),
            })
            .collect();
        assert_eq!(notebook.render(&edits), text, "{name}");
    }
}

/// Byte ranges of each cell's `source` value, found independently of nbhoist with the
/// borrowed-`RawValue` technique: a value's offset is its pointer minus the text's.
fn source_spans(text: &str) -> Vec<Option<(usize, usize)>> {
    #[derive(Deserialize)]
    struct RawNotebook<'a> {
        #[serde(borrow)]
        cells: Vec<RawCell<'a>>,
    }
    #[derive(Deserialize)]
    struct RawCell<'a> {
        #[serde(borrow)]
        source: Option<&'a RawValue>,
    }
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let raw: RawNotebook<'_> = serde_json::from_str(body).expect("fixture is JSON");
    raw.cells
        .iter()
        .map(|cell| {
            cell.source.map(|source| {
                let start = source.get().as_ptr() as usize - text.as_ptr() as usize;
                (start, start + source.get().len())
            })
        })
        .collect()
}

fn common_prefix(a: &str, b: &str) -> usize {
    a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count()
}

fn common_suffix(a: &str, b: &str) -> usize {
    a.bytes()
        .rev()
        .zip(b.bytes().rev())
        .take_while(|(x, y)| x == y)
        .count()
}

#[test]
fn replacing_a_source_changes_only_that_source_value() {
    let new_source = "def f(path):\n    \"\"\"Read é/😀.\"\"\"\n\treturn open(path).read()\n";
    for (name, text, notebook) in readable() {
        let spans = source_spans(&text);
        for cell in notebook.cells() {
            let Some((start, end)) = spans[cell.index.0] else {
                continue;
            };
            let output = notebook.render(&[CellEdit::ReplaceSource {
                cell: cell.index,
                source: new_source.to_owned(),
            }]);
            let context = format!("{name}, cell {}", cell.index.number());
            // Everything before and after the original source value is copied.
            let prefix = common_prefix(&text, &output);
            let suffix = common_suffix(&text, &output).min(text.len() - prefix);
            assert!(
                prefix >= start,
                "{context}: bytes before the source changed"
            );
            assert!(
                text.len() - suffix <= end,
                "{context}: bytes after the source changed"
            );

            let reread = Notebook::parse(&output).unwrap_or_else(|e| panic!("{context}: {e}"));
            assert_eq!(reread.cells().len(), notebook.cells().len(), "{context}");
            for (before, after) in notebook.cells().iter().zip(reread.cells()) {
                assert_eq!(after.kind, before.kind, "{context}");
                assert_eq!(after.id, before.id, "{context}");
                assert_eq!(after.source_shape, before.source_shape, "{context}");
                let expected = if after.index == cell.index {
                    new_source
                } else {
                    &before.source
                };
                assert_eq!(after.source, expected, "{context}");
            }
            assert_eq!(reread.style(), notebook.style(), "{context}");
        }
    }
}

/// One named case of `edits.json`.
struct Case {
    name: String,
    edits: Vec<Value>,
}

fn cases() -> Vec<Case> {
    let text = fs::read_to_string(fixtures_dir().join("edits.json")).expect("edits.json");
    let cases: Vec<Value> = serde_json::from_str(&text).expect("edits.json is JSON");
    cases
        .into_iter()
        .map(|case| Case {
            name: case["name"].as_str().expect("case name").to_owned(),
            edits: case["edits"].as_array().expect("case edits").clone(),
        })
        .collect()
}

/// Resolves an `edits.json` index (negative counts from the end) against `count` cells;
/// `None` if the cell does not exist. `inclusive` allows `count` itself (insert = append).
fn resolve(index: &Value, count: usize, inclusive: bool) -> Option<CellIndex> {
    if index.as_str() == Some("end") {
        return Some(CellIndex(count));
    }
    let index = index.as_i64().expect("integer index");
    let resolved = if index < 0 {
        count.checked_sub(usize::try_from(-index).ok()?)?
    } else {
        usize::try_from(index).ok()?
    };
    let limit = if inclusive { count + 1 } else { count };
    (resolved < limit).then_some(CellIndex(resolved))
}

/// The case as `CellEdit`s for `notebook`, or `None` if it names a cell the notebook lacks.
/// Ids are passed only where the notebook uses them, as a caller would.
fn edits_for(case: &Case, notebook: &Notebook) -> Option<Vec<CellEdit>> {
    let count = notebook.cells().len();
    let mut edits = Vec::new();
    for edit in &case.edits {
        let source = || edit["source"].as_str().expect("source").to_owned();
        match edit["op"].as_str().expect("op") {
            "replace" => edits.push(CellEdit::ReplaceSource {
                cell: resolve(&edit["cell"], count, false)?,
                source: source(),
            }),
            "remove" => edits.push(CellEdit::Remove {
                cell: resolve(&edit["cell"], count, false)?,
            }),
            "remove_all" => {
                edits.extend((0..count).map(|i| CellEdit::Remove { cell: CellIndex(i) }));
            }
            "insert" => edits.push(CellEdit::InsertCode {
                before: resolve(&edit["before"], count, true)?,
                source: source(),
                id: edit["id"]
                    .as_str()
                    .filter(|_| notebook.uses_cell_ids())
                    .map(str::to_owned),
            }),
            other => panic!("unknown op {other}"),
        }
    }
    Some(edits)
}

#[test]
fn edit_cases_match_python_byte_for_byte() {
    let expected_dir = fixtures_dir().join("expected");
    let mut compared = BTreeSet::new();
    for (name, _, notebook) in readable() {
        for case in cases() {
            let expected_path = expected_dir.join(format!("{name}.{}.ipynb", case.name));
            let Some(edits) = edits_for(&case, &notebook) else {
                assert!(
                    !expected_path.exists(),
                    "{name}.{}: the case does not apply, yet an expected file exists",
                    case.name
                );
                continue;
            };
            let expected = fs::read_to_string(&expected_path).unwrap_or_else(|error| {
                panic!("{}: {error}", expected_path.display());
            });
            assert_eq!(notebook.render(&edits), expected, "{name}.{}", case.name);
            compared.insert(format!("{name}.{}.ipynb", case.name));
        }
    }
    let on_disk: BTreeSet<String> = fs::read_dir(&expected_dir)
        .expect("expected folder")
        .map(|entry| {
            entry
                .expect("readable entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(compared, on_disk, "every expected file is checked");
}

/// A cell as a reader sees it, for comparing notebooks after edits.
#[derive(Debug, PartialEq, Eq, Clone)]
struct Seen {
    kind: CellKind,
    source: String,
    id: Option<String>,
}

/// Applies edits to a plain list of cells: the meaning `Notebook::render` must have.
fn model(cells: &[Seen], edits: &[CellEdit]) -> Vec<Seen> {
    let mut cells: Vec<Option<Seen>> = cells.iter().cloned().map(Some).collect();
    let mut inserted: Vec<Vec<Seen>> = vec![Vec::new(); cells.len() + 1];
    for edit in edits {
        match edit {
            CellEdit::ReplaceSource { cell, source } => {
                if let Some(seen) = &mut cells[cell.0] {
                    seen.source = source.clone();
                }
            }
            CellEdit::Remove { cell } => cells[cell.0] = None,
            CellEdit::InsertCode { before, source, id } => inserted[before.0].push(Seen {
                kind: CellKind::Code,
                source: source.clone(),
                id: id.clone(),
            }),
        }
    }
    let mut result = Vec::new();
    for (i, before) in inserted.into_iter().enumerate() {
        result.extend(before);
        if let Some(Some(cell)) = cells.get(i) {
            result.push(cell.clone());
        }
    }
    result
}

fn seen(notebook: &Notebook) -> Vec<Seen> {
    notebook
        .cells()
        .iter()
        .map(|cell| Seen {
            kind: cell.kind.clone(),
            source: cell.source.clone(),
            id: cell.id.clone(),
        })
        .collect()
}

#[test]
fn edited_notebooks_reparse_with_the_expected_cells() {
    for (name, _, notebook) in readable() {
        for case in cases() {
            let Some(edits) = edits_for(&case, &notebook) else {
                continue;
            };
            let context = format!("{name}.{}", case.name);
            let output = notebook.render(&edits);
            let reread = Notebook::parse(&output).unwrap_or_else(|e| panic!("{context}: {e}"));
            assert_eq!(seen(&reread), model(&seen(&notebook), &edits), "{context}");
            // ensure_ascii, escaped slashes and the source shape are inferred from content
            // and may vanish with the cells that showed them; the layout may not.
            let (before, after) = (notebook.style(), reread.style());
            assert_eq!(after.indent, before.indent, "{context}");
            assert_eq!(after.key_separator, before.key_separator, "{context}");
            assert_eq!(after.item_separator, before.item_separator, "{context}");
            assert_eq!(after.newline, before.newline, "{context}");
            assert_eq!(after.trailing_newline, before.trailing_newline, "{context}");
            assert_eq!(after.bom, before.bom, "{context}");
            assert_eq!(
                reread.nbformat_minor(),
                notebook.nbformat_minor(),
                "{context}"
            );
            // Cells are re-encoded in the shape the file uses.
            for cell in reread.cells() {
                if let Some(original) = notebook
                    .cells()
                    .iter()
                    .find(|c| c.id == cell.id && c.id.is_some())
                {
                    assert_eq!(cell.source_shape, original.source_shape, "{context}");
                }
            }
        }
    }
}

#[test]
fn styles_are_detected() {
    let notebooks = readable();
    let style = |name: &str| {
        notebooks
            .iter()
            .find(|(fixture, _, _)| fixture == name)
            .unwrap_or_else(|| panic!("no fixture {name}"))
            .2
            .style()
            .clone()
    };
    let standard = style("indent1");
    assert_eq!(standard.indent.as_deref(), Some(" "));
    assert_eq!(
        (
            standard.key_separator.as_str(),
            standard.item_separator.as_str()
        ),
        (": ", ",")
    );
    assert_eq!(standard.newline, "\n");
    assert!(standard.trailing_newline);
    assert!(!standard.ensure_ascii && !standard.escape_slash && !standard.bom);
    assert_eq!(standard.source_shape, SourceShape::Lines);

    assert_eq!(style("indent2_colab").indent.as_deref(), Some("  "));
    assert!(!style("indent2_colab").trailing_newline);
    assert!(!style("no_trailing_newline").trailing_newline);
    let compact = style("compact");
    assert_eq!(compact.indent, None);
    assert_eq!(
        (
            compact.key_separator.as_str(),
            compact.item_separator.as_str()
        ),
        (":", ",")
    );
    let spaced = style("compact_spaced");
    assert_eq!(
        (
            spaced.key_separator.as_str(),
            spaced.item_separator.as_str()
        ),
        (": ", ", ")
    );
    assert_eq!(style("crlf").newline, "\r\n");
    assert!(style("bom").bom);
    assert!(style("ensure_ascii").ensure_ascii);
    assert!(style("escaped_slash").escape_slash);
    assert_eq!(style("string_source").source_shape, SourceShape::String);
}

#[test]
fn versions_ids_and_languages_are_exposed() {
    for (name, _, notebook) in readable() {
        assert_eq!(notebook.nbformat(), 4, "{name}");
        let ids = notebook.cells().iter().filter(|c| c.id.is_some()).count();
        let expected_minor = match name.as_str() {
            "v4_0" | "indent2_colab" => 0,
            "v4_5_ids" | "unknown_keys" => 5,
            _ => 4,
        };
        assert_eq!(notebook.nbformat_minor(), expected_minor, "{name}");
        assert_eq!(notebook.uses_cell_ids(), expected_minor >= 5, "{name}");
        if notebook.uses_cell_ids() {
            assert_eq!(ids, notebook.cells().len(), "{name}");
        } else {
            assert_eq!(ids, 0, "{name}");
        }
        assert_eq!(notebook.language(), Some("python"), "{name}");
    }
    let r = fs::read_to_string(fixtures_dir().join("error_r_kernel.ipynb")).expect("fixture");
    let notebook = Notebook::parse_any_language(&r).expect("any language is accepted");
    assert_eq!(notebook.language(), Some("R"));
}

#[test]
fn cells_expose_kind_and_joined_source() {
    let notebooks = readable();
    let (_, _, notebook) = notebooks
        .iter()
        .find(|(name, _, _)| name == "unknown_keys")
        .expect("unknown_keys fixture");
    let kinds: Vec<&str> = notebook.cells().iter().map(|c| c.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["markdown", "code", "code", "raw", "code", "future cell"]
    );
    let cells = notebook.cells();
    assert_eq!(
        cells[1].source,
        "import math\n\ndef area(r):\n    return math.pi * r ** 2\n"
    );
    assert_eq!(cells[3].source, "raw\ttext \u{1b}[0m");
    assert_eq!(cells[4].source, "");
    assert_eq!(cells[5].kind, CellKind::Other("future cell".to_owned()));
    assert_eq!(cells[5].id.as_deref(), Some("future-1"));
    assert_eq!(notebook.cell(CellIndex(6)), None);
}

#[test]
fn notebook_can_be_sent_across_threads() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<Notebook>();
    assert_send_sync::<nbhoist::ReadError>();
}
