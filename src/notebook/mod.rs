//! The notebook stage: a lossless model of one `.ipynb` file and a splice writer.
//!
//! This stage owns reading notebook JSON (nbformat 4.x) and writing it back. It keeps the
//! original text and only records byte ranges into it, so that rendering copies every byte
//! outside the changed cells verbatim and re-encodes only what an edit touches, in the
//! file's own detected JSON style ([`Style`]). It never parses outputs into JSON trees (they
//! are most of the bytes), never touches the file system, and knows nothing about Python:
//! deciding *what* to edit belongs to later stages.

mod encode;
mod read;
mod render;
mod style;

use std::ops::Range;

use ruff_python_ast::PythonVersion;

use crate::position::CellIndex;

pub use read::{CellProblem, ReadError};
pub use style::Style;

/// One notebook file: its original text plus a typed view of its cells.
///
/// Owns its text and borrows nothing, so it can be moved across threads.
#[derive(Clone, Debug)]
pub struct Notebook {
    /// The file content exactly as given, BOM included.
    text: String,
    cells: Vec<Cell>,
    /// Byte range of the `cells` array value (`[` through `]`) in `text`.
    cells_span: Range<usize>,
    nbformat: u64,
    nbformat_minor: u64,
    language: Option<String>,
    python_version: Option<PythonVersion>,
    /// The shape most cells store `source` in, for inserted cells.
    source_shape: SourceShape,
    /// Detected on first use: only writing needs it.
    style: std::sync::OnceLock<Style>,
}

/// One cell of a notebook, with its source joined into one string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cell {
    /// Position of the cell in the notebook, counting every cell.
    pub index: CellIndex,
    /// The `cell_type`.
    pub kind: CellKind,
    /// The source text, joined if the file stores it as a list of lines.
    pub source: String,
    /// How the file stores `source`; changed sources are written back in the same shape.
    pub source_shape: SourceShape,
    /// The cell `id` (nbformat 4.5+), if present.
    pub id: Option<String>,
    /// The cell's `metadata.tags`.
    pub tags: Vec<String>,
    /// The cell has outputs or attachments, which removing it would lose.
    pub carries_data: bool,
    /// The saved outputs show an `ImportError` or `ModuleNotFoundError`.
    pub import_failed: bool,
    /// The saved outputs show an error.
    pub error_output: bool,
    /// The cell ran without an error when the notebook was saved: it has an execution count
    /// and no error in its outputs.
    pub ran_cleanly: bool,
    /// Byte range of the cell object (`{` through `}`) in the notebook text.
    span: Range<usize>,
    /// Byte range of the `source` value in the notebook text; `None` only for unknown cell
    /// types that have no `source`.
    source_span: Option<Range<usize>>,
}

/// The `cell_type` of a cell.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CellKind {
    /// `"code"`.
    Code,
    /// `"markdown"`.
    Markdown,
    /// `"raw"`.
    Raw,
    /// Any other type (nbformat allows unknown cell types); carried untouched.
    Other(String),
}

/// How a cell's `source` is stored in the JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SourceShape {
    /// A list of strings, one per line (what nbformat writes).
    Lines,
    /// A single string.
    String,
}

/// A change to apply when rendering a notebook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CellEdit {
    /// Replace the source of an existing cell (everything else in the cell stays byte for byte).
    ReplaceSource {
        /// The cell to change.
        cell: CellIndex,
        /// The new source text.
        source: String,
    },
    /// Remove a cell entirely.
    Remove {
        /// The cell to remove.
        cell: CellIndex,
    },
    /// Insert a new code cell before the given cell (index == `cells().len()` means append).
    InsertCode {
        /// The existing cell the new one goes in front of.
        before: CellIndex,
        /// The new cell's source text.
        source: String,
        /// The new cell's `id`; written only if given (see [`Notebook::uses_cell_ids`]).
        id: Option<String>,
    },
}

/// Edits read against a notebook's cells, the way rendering and diffing both read them: the
/// last `ReplaceSource` of a cell wins, a removal wins over a replacement, cells inserted
/// before the same cell keep the order of the edits, and edits naming a cell that does not
/// exist are ignored (an insertion past the end appends).
pub(crate) struct ResolvedEdits<'e> {
    /// The new source of each cell, when an edit replaces it.
    pub(crate) sources: Vec<Option<&'e str>>,
    /// Whether each cell is removed.
    pub(crate) removed: Vec<bool>,
    /// `inserted[i]` goes before cell `i`; `inserted[count]` is appended.
    pub(crate) inserted: Vec<Vec<NewCell<'e>>>,
}

/// A code cell an edit inserts.
#[derive(Clone, Copy)]
pub(crate) struct NewCell<'e> {
    /// Its source.
    pub(crate) source: &'e str,
    /// Its id, when it gets one.
    pub(crate) id: Option<&'e str>,
}

impl<'e> ResolvedEdits<'e> {
    /// Resolves `edits` against a notebook of `count` cells.
    pub(crate) fn new(count: usize, edits: &'e [CellEdit]) -> ResolvedEdits<'e> {
        let mut resolved = ResolvedEdits {
            sources: vec![None; count],
            removed: vec![false; count],
            inserted: vec![Vec::new(); count + 1],
        };
        for edit in edits {
            match edit {
                CellEdit::ReplaceSource { cell, source } => {
                    if let Some(slot) = resolved.sources.get_mut(cell.0) {
                        *slot = Some(source);
                    }
                }
                CellEdit::Remove { cell } => {
                    if let Some(slot) = resolved.removed.get_mut(cell.0) {
                        *slot = true;
                    }
                }
                CellEdit::InsertCode { before, source, id } => {
                    resolved.inserted[before.0.min(count)].push(NewCell {
                        source,
                        id: id.as_deref(),
                    });
                }
            }
        }
        resolved
    }
}

impl CellKind {
    /// Maps a `cell_type` string to a kind.
    pub fn from_cell_type(cell_type: &str) -> CellKind {
        match cell_type {
            "code" => CellKind::Code,
            "markdown" => CellKind::Markdown,
            "raw" => CellKind::Raw,
            other => CellKind::Other(other.to_owned()),
        }
    }

    /// The `cell_type` string as written in the file.
    pub fn as_str(&self) -> &str {
        match self {
            CellKind::Code => "code",
            CellKind::Markdown => "markdown",
            CellKind::Raw => "raw",
            CellKind::Other(other) => other,
        }
    }
}

impl Notebook {
    /// Parse notebook text (the full file content, as read). Never panics.
    ///
    /// Notebooks whose kernel language is not Python fail with [`ReadError::NotPython`].
    pub fn parse(text: &str) -> Result<Notebook, ReadError> {
        read::parse(text.to_owned(), true)
    }

    /// Parse notebook bytes, reporting invalid UTF-8 as a [`ReadError`]. Never panics.
    ///
    /// Given a `Vec<u8>` (a file as read), the notebook keeps it as its text without a copy.
    pub fn parse_bytes(bytes: impl Into<Vec<u8>>) -> Result<Notebook, ReadError> {
        read::parse_bytes(bytes.into(), true)
    }

    /// Like [`Notebook::parse`], but accepts notebooks of any kernel language.
    pub fn parse_any_language(text: &str) -> Result<Notebook, ReadError> {
        read::parse(text.to_owned(), false)
    }

    /// All cells, in file order (markdown and raw cells included).
    pub fn cells(&self) -> &[Cell] {
        &self.cells
    }

    /// The cell at `index`, if it exists.
    pub fn cell(&self, index: CellIndex) -> Option<&Cell> {
        self.cells.get(index.0)
    }

    /// The major format version (always 4 for a parsed notebook).
    pub fn nbformat(&self) -> u64 {
        self.nbformat
    }

    /// The minor format version (0 if the file does not say).
    pub fn nbformat_minor(&self) -> u64 {
        self.nbformat_minor
    }

    /// Whether cells in this notebook carry ids (nbformat 4.5 and later), so inserted cells
    /// should be given one.
    pub fn uses_cell_ids(&self) -> bool {
        self.nbformat_minor >= 5
    }

    /// The kernel language (`metadata.kernelspec.language`, else
    /// `metadata.language_info.name`), if the notebook records one.
    pub fn language(&self) -> Option<&str> {
        self.language.as_deref()
    }

    /// The Python version the kernel last reported (`metadata.language_info.version`).
    pub fn python_version(&self) -> Option<PythonVersion> {
        self.python_version
    }

    /// The notebook's JSON style.
    pub fn style(&self) -> &Style {
        self.style.get_or_init(|| {
            let body = self.text.strip_prefix('\u{feff}');
            let bom = body.is_some();
            Style::detect(body.unwrap_or(&self.text), bom, self.source_shape)
        })
    }

    /// The original file content, exactly as parsed.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Render the notebook with edits applied, by splicing: bytes outside changed cells are
    /// copied verbatim. With no edits returns exactly the original bytes.
    ///
    /// A `ReplaceSource` whose text equals the current source changes nothing, so cells with
    /// unusual line splitting stay as they are; so does one for an unknown cell type without a
    /// `source`. Edits naming a cell that does not exist are ignored (an `InsertCode` past the
    /// end appends), as [`ResolvedEdits`] reads them.
    pub fn render(&self, edits: &[CellEdit]) -> String {
        render::render(self, edits)
    }
}

/// A notebook of code cells with these sources and ids, for tests.
#[cfg(test)]
pub(crate) fn test_notebook(cells: &[(&str, Option<&str>)], nbformat_minor: u64) -> Notebook {
    let cells: Vec<serde_json::Value> = cells
        .iter()
        .map(|&(source, id)| {
            let mut cell = serde_json::json!({
                "cell_type": "code",
                "execution_count": null,
                "metadata": {},
                "outputs": [],
                "source": source,
            });
            if let Some(id) = id {
                cell["id"] = id.into();
            }
            cell
        })
        .collect();
    let text = serde_json::json!({
        "cells": cells,
        "metadata": {"kernelspec": {"language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": nbformat_minor,
    })
    .to_string();
    Notebook::parse(&text).expect("a valid notebook")
}

/// A notebook of code cells with these sources, for tests.
#[cfg(test)]
pub(crate) fn code_notebook(sources: &[&str]) -> Notebook {
    let cells: Vec<(&str, Option<&str>)> = sources.iter().map(|&source| (source, None)).collect();
    test_notebook(&cells, 4)
}
