//! Reading: a borrowed, mostly unparsed view of the notebook JSON.
//!
//! Objects are read as lists of `(key, RawValue)` members, so values we do not need (outputs,
//! attachments, metadata) are only validated and skipped, never built into trees. The byte
//! offset of a value is the distance from the start of the text to its `RawValue`.

use std::borrow::Cow;
use std::fmt;

use memchr::memchr2;
use ruff_python_ast::PythonVersion;
use serde::de::{
    self, Deserialize, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use serde_json::value::RawValue;

use super::{Cell, CellKind, Notebook, SourceShape};
use crate::position::{CellIndex, CellNumber};

const BOM: char = '\u{feff}';

/// Why a file could not be read as a notebook. Messages are one line, without the path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// The bytes are not UTF-8.
    #[error("not valid UTF-8 (line {line}, column {column})")]
    InvalidUtf8 {
        /// 1-based line of the first invalid byte.
        line: usize,
        /// 1-based column (in bytes) of the first invalid byte.
        column: usize,
    },
    /// The text is not JSON (this includes Python's `NaN` and `Infinity`).
    #[error("not valid JSON (line {line}, column {column}): {message}")]
    InvalidJson {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column (in bytes) of the error.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// Valid JSON, but not a notebook.
    #[error("not a notebook (expected a JSON object with \"cells\")")]
    NotANotebook,
    /// A notebook older than nbformat 4.
    #[error(
        "nbformat {nbformat} is not supported; upgrade it with \"jupyter nbconvert --to notebook --nbformat 4\""
    )]
    OldFormat {
        /// The major version found.
        nbformat: u64,
    },
    /// A notebook newer than nbformat 4.
    #[error("nbformat {nbformat} is not supported (nbhoist reads nbformat 4)")]
    NewerFormat {
        /// The major version found.
        nbformat: u64,
    },
    /// A notebook for another kernel language: to be reported as skipped, not as an error.
    #[error("kernel language is {language}, not Python")]
    NotPython {
        /// The language the notebook declares.
        language: String,
    },
    /// A top-level notebook field is missing or has the wrong type.
    #[error("malformed notebook: {problem}")]
    Malformed {
        /// What is wrong.
        problem: &'static str,
    },
    /// An object outside the cells holds a key twice.
    #[error("{}", duplicate_key_message(key))]
    DuplicateKey {
        /// The key, decoded.
        key: String,
    },
    /// A cell is malformed.
    #[error("cell {cell}: {problem}")]
    MalformedCell {
        /// 1-based number of the cell.
        cell: CellNumber,
        /// What is wrong with it.
        problem: CellProblem,
    },
}

impl ReadError {
    /// True when the file is not wrong, only out of scope (another kernel language), so it
    /// is reported as skipped rather than as an error.
    pub fn is_skip(&self) -> bool {
        matches!(self, ReadError::NotPython { .. })
    }
}

/// What is wrong with a malformed cell.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CellProblem {
    /// The cell is not a JSON object.
    #[error("not a JSON object")]
    NotAnObject,
    /// `cell_type` is missing.
    #[error("missing \"cell_type\"")]
    MissingCellType,
    /// `cell_type` is not a string.
    #[error("\"cell_type\" is not a string")]
    CellTypeNotString,
    /// `id` is not a string.
    #[error("\"id\" is not a string")]
    IdNotString,
    /// A code, markdown or raw cell has no `source`.
    #[error("missing \"source\"")]
    MissingSource,
    /// `source` is neither a string nor a list of strings.
    #[error("\"source\" must be a string or a list of strings")]
    SourceNotText,
    /// `source` holds an escape that is not text, such as a lone surrogate.
    #[error("\"source\" is not valid text: {0}")]
    SourceEscape(String),
    /// The cell has no `metadata`, which nbformat 4 requires of every cell.
    #[error(
        "missing \"metadata\", which nbformat 4 requires (Jupyter cannot open the notebook either); add \"metadata\": {{}} to the cell"
    )]
    MissingMetadata,
    /// The cell, or an object inside it, holds a key twice.
    #[error("{}", duplicate_key_message(.0))]
    DuplicateKey(String),
}

/// What to say of a key that an object holds twice. Python's `json`, which Jupyter reads
/// notebooks with, keeps the last one; a reader that keeps the first sees another notebook,
/// so nbhoist refuses to guess.
fn duplicate_key_message(key: &str) -> String {
    // A key may hold anything, line breaks included, and be long: the message stays one line.
    const SHOWN: usize = 60;
    let mut shown: String = key.chars().take(SHOWN).collect();
    if shown.len() < key.len() {
        shown.push('…');
    }
    let quoted = serde_json::to_string(&shown).unwrap_or_default();
    format!(
        "duplicate key {quoted} in one JSON object (Jupyter reads only the last); delete the others, or run \"jupyter nbconvert --to notebook --inplace\" on the notebook, which keeps the last"
    )
}

/// Parses file bytes, locating invalid UTF-8 by line and column.
pub(super) fn parse_bytes(bytes: Vec<u8>, require_python: bool) -> Result<Notebook, ReadError> {
    match String::from_utf8(bytes) {
        Ok(text) => parse(text, require_python),
        Err(error) => {
            let valid = &error.as_bytes()[..error.utf8_error().valid_up_to()];
            let line_start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            Err(ReadError::InvalidUtf8 {
                line: valid[..line_start].iter().filter(|&&b| b == b'\n').count() + 1,
                column: valid.len() - line_start + 1,
            })
        }
    }
}

/// Parses `text` into a notebook, refusing non-Python kernels if `require_python`.
pub(super) fn parse(text: String, require_python: bool) -> Result<Notebook, ReadError> {
    let bom = text.starts_with(BOM);
    let body = &text[if bom { BOM.len_utf8() } else { 0 }..];

    let Json { top, cells } = read_json(&text, body)?;
    // Before anything is read from it: with a key twice, which value counts is a guess.
    if let Some(key) = top.duplicate_key("cells") {
        return Err(ReadError::DuplicateKey { key });
    }
    let version = |key, problem| {
        top.get(key)
            .map(|raw| serde_json::from_str::<u64>(raw.get()).map_err(|_| malformed(problem)))
            .transpose()
    };
    let nbformat = version("nbformat", "\"nbformat\" is not a non-negative integer")?;
    let nbformat_minor = version(
        "nbformat_minor",
        "\"nbformat_minor\" is not a non-negative integer",
    )?;
    match nbformat {
        Some(major) if major < 4 => return Err(ReadError::OldFormat { nbformat: major }),
        Some(major) if major > 4 => return Err(ReadError::NewerFormat { nbformat: major }),
        _ => {}
    }
    let Some(cells) = cells else {
        // v3 keeps its cells in `worksheets`; some v3 files lack `nbformat` too.
        return Err(match top.get("worksheets") {
            Some(_) => ReadError::OldFormat {
                nbformat: nbformat.unwrap_or(3),
            },
            None => ReadError::NotANotebook,
        });
    };
    let nbformat = nbformat.ok_or(malformed("missing \"nbformat\""))?;

    // Metadata we cannot read is not our business: treat it as "nothing declared".
    let metadata = top
        .get("metadata")
        .and_then(|metadata| serde_json::from_str::<Object<'_>>(metadata.get()).ok());
    let language = metadata.as_ref().and_then(kernel_language);
    let python_version = metadata.as_ref().and_then(python_version);
    if require_python
        && let Some(language) = &language
        && !is_python(language)
    {
        return Err(ReadError::NotPython {
            language: language.clone(),
        });
    }

    let CellsValue::List {
        start: cells_start,
        objects,
        complete,
    } = cells
    else {
        return Err(malformed("\"cells\" is not a list"));
    };
    let malformed_cell = |i: usize| {
        move |problem| ReadError::MalformedCell {
            cell: CellIndex(i).number(),
            problem,
        }
    };
    let mut cells = Vec::with_capacity(objects.len());
    // Where the next cell object is looked for: past the array's `[`, then past each cell.
    let mut after = cells_start + 1;
    for (i, object) in objects.iter().enumerate() {
        let cell_span = object_span(&text, after, object);
        after = cell_span.end;
        cells.push(read_cell(&text, CellIndex(i), object, cell_span).map_err(malformed_cell(i))?);
    }
    if !complete {
        return Err(malformed_cell(objects.len())(CellProblem::NotAnObject));
    }
    let cells_end = skip_whitespace(text.as_bytes(), after);
    debug_assert_eq!(text.as_bytes().get(cells_end), Some(&b']'), "cells end");
    let cells_span = cells_start..cells_end + 1;

    let mut shapes = cells
        .iter()
        .filter(|cell| cell.source_span.is_some())
        .map(|cell| cell.source_shape);
    let source_shape = match shapes.next() {
        Some(first) if shapes.all(|shape| shape == first) => first,
        _ => SourceShape::Lines,
    };
    // The style is only needed to write; detecting it scans the whole file, so
    // [`Notebook::style`] does it on first use.
    Ok(Notebook {
        cells,
        cells_span,
        nbformat,
        nbformat_minor: nbformat_minor.unwrap_or(0),
        language,
        python_version,
        source_shape,
        style: std::sync::OnceLock::new(),
        text,
    })
}

fn malformed(problem: &'static str) -> ReadError {
    ReadError::Malformed { problem }
}

/// The notebook's JSON as nbhoist reads it: the top-level object, its values unparsed, and
/// what its `cells` member holds (`None` when it has none), which is read from here, not
/// from the object.
struct Json<'a> {
    top: Object<'a>,
    cells: Option<CellsValue<'a>>,
}

/// The value of the `cells` member.
enum CellsValue<'a> {
    /// Anything but a list.
    NotAList,
    /// A list: where its `[` is in the text, the members of each of its cells, and whether
    /// every element was read (reading stops at the first one that is not an object, which is
    /// then the cell at index `objects.len()`).
    List {
        start: usize,
        objects: Vec<Object<'a>>,
        complete: bool,
    },
}

/// Reads the notebook's JSON; `body` is `text` after any BOM.
///
/// The cells are most of a file, so a notebook is read in one pass, its cells as they come.
/// A file that does not read that way (it is not JSON, a cell is not an object, `cells` is not
/// a list or comes twice) is read again step by step, which tells what is wrong with it in
/// the order the checks of [`parse`] expect: the whole file is JSON, then what the top level
/// holds, then each cell.
fn read_json<'a>(text: &'a str, body: &'a str) -> Result<Json<'a>, ReadError> {
    match read_in_one_pass(text, body) {
        Some(json) => Ok(json),
        None => read_step_by_step(text, body),
    }
}

/// Reads the top-level object (which checks that the file is JSON), then its `cells` list.
fn read_step_by_step<'a>(text: &'a str, body: &'a str) -> Result<Json<'a>, ReadError> {
    let top = read_top_level(body)?;
    let cells = top.get("cells").map(|raw| {
        if raw.get().starts_with('[') {
            let mut objects = Vec::new();
            let mut deserializer = serde_json::Deserializer::from_str(raw.get());
            // The top-level pass found this to be JSON: only an element can fail.
            let complete = Elements(&mut objects)
                .deserialize(&mut deserializer)
                .is_ok();
            CellsValue::List {
                start: span(text, raw).start,
                objects,
                complete,
            }
        } else {
            CellsValue::NotAList
        }
    });
    Ok(Json { top, cells })
}

/// The one pass of [`read_json`]: `None` when the file does not read that way.
fn read_in_one_pass<'a>(text: &'a str, body: &'a str) -> Option<Json<'a>> {
    struct TopLevel<'a> {
        text: &'a str,
        /// Just past the object's `{`.
        inside: usize,
    }
    impl<'de> DeserializeSeed<'de> for TopLevel<'de> {
        type Value = Json<'de>;
        fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Json<'de>, D::Error> {
            deserializer.deserialize_map(self)
        }
    }
    impl<'de> Visitor<'de> for TopLevel<'de> {
        type Value = Json<'de>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a notebook")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json<'de>, A::Error> {
            let mut members = Vec::new();
            let mut cells = None;
            while let Some(Text(key)) = map.next_key::<Text<'de>>()? {
                if key != "cells" {
                    members.push((key, map.next_value::<&RawValue>()?));
                    continue;
                }
                if cells.is_some() {
                    return Err(de::Error::custom("\"cells\" twice"));
                }
                // The array comes after the member before it (or the object's `{`), this
                // member's key and a colon.
                let after = members
                    .last()
                    .map_or(self.inside, |(_, value): &(_, &RawValue)| {
                        span(self.text, value).end
                    });
                let mut objects = Vec::new();
                map.next_value_seed(Elements(&mut objects))?;
                cells = Some(CellsValue::List {
                    start: past_key(self.text.as_bytes(), after),
                    objects,
                    complete: true,
                });
            }
            Ok(Json {
                top: Object(members),
                cells,
            })
        }
    }
    let open = skip_whitespace(text.as_bytes(), text.len() - body.len());
    let mut deserializer = serde_json::Deserializer::from_str(body);
    let top_level = TopLevel {
        text,
        inside: open + 1,
    };
    let json = top_level.deserialize(&mut deserializer).ok()?;
    deserializer.end().ok()?;
    Some(json)
}

/// Reads the top-level object, telling "not JSON" apart from "JSON but not an object".
fn read_top_level(body: &str) -> Result<Object<'_>, ReadError> {
    match serde_json::from_str::<Object<'_>>(body) {
        Ok(top) => Ok(top),
        // A type error means the value is not an object; it may still be broken JSON
        // further on, which deserves the more precise message.
        Err(error) if error.is_data() => match serde_json::from_str::<IgnoredAny>(body) {
            Ok(_) => Err(ReadError::NotANotebook),
            Err(error) => Err(invalid_json(body, &error)),
        },
        Err(error) => Err(invalid_json(body, &error)),
    }
}

/// Converts a `serde_json` syntax error into a one-line message, naming Python's non-standard
/// float literals when they are the cause.
fn invalid_json(body: &str, error: &serde_json::Error) -> ReadError {
    let (line, column) = (error.line(), error.column());
    let full = error.to_string();
    let suffix = format!(" at line {line} column {column}");
    let mut message = full.strip_suffix(&suffix).unwrap_or(&full).to_owned();
    // serde_json points at the unexpected byte, which for `-Infinity` is the one after `-`.
    if let Some(line_text) = body.lines().nth(line.saturating_sub(1)) {
        let at = column.saturating_sub(1);
        let starts = |start: usize, literal: &str| {
            line_text
                .get(start..)
                .is_some_and(|rest| rest.starts_with(literal))
        };
        let literal = if starts(at.saturating_sub(1), "-Infinity") {
            Some("-Infinity")
        } else {
            ["NaN", "Infinity"]
                .into_iter()
                .find(|literal| starts(at, literal))
        };
        if let Some(literal) = literal {
            message = format!("{literal} is not allowed in JSON");
        }
    }
    ReadError::InvalidJson {
        line,
        column,
        message,
    }
}

/// The kernel language declared in the notebook metadata, if any.
fn kernel_language(metadata: &Object<'_>) -> Option<String> {
    let member = |object: &str, key: &str| {
        let object = serde_json::from_str::<Object<'_>>(metadata.get(object)?.get()).ok()?;
        let value = serde_json::from_str::<String>(object.get(key)?.get()).ok()?;
        (!value.trim().is_empty()).then_some(value)
    };
    member("kernelspec", "language").or_else(|| member("language_info", "name"))
}

/// The Python version the kernel reported (`language_info.version`, `"3.11.7"` → 3.11).
fn python_version(metadata: &Object<'_>) -> Option<PythonVersion> {
    let info = serde_json::from_str::<Object<'_>>(metadata.get("language_info")?.get()).ok()?;
    let version = serde_json::from_str::<String>(info.get("version")?.get()).ok()?;
    let mut parts = version.trim().split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    (major == 3).then_some(PythonVersion { major, minor })
}

/// Whether a declared kernel language is Python (`python`, `Python`, `python3`, ...).
fn is_python(language: &str) -> bool {
    let lower = language.trim().to_ascii_lowercase();
    lower.strip_prefix("python").is_some_and(|version| {
        version
            .chars()
            .all(|c| c.is_ascii_digit() || ".- ".contains(c))
    })
}

/// Reads the elements of a `cells` array as objects into the vector, up to the first one
/// that is not an object (or whose keys are not text), where it fails.
struct Elements<'a, 'v>(&'v mut Vec<Object<'a>>);

impl<'de> DeserializeSeed<'de> for Elements<'de, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Elements<'de, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of JSON objects")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(object) = seq.next_element::<Object<'de>>()? {
            self.0.push(object);
        }
        Ok(())
    }
}

/// The byte range of a cell object (`{` through `}`) in `text`, the first value at or after
/// `from` in an array. Reading the array member by member leaves no raw value for the object
/// itself, but only whitespace and a comma can come before its `{`, and only whitespace
/// between its last member and its `}`.
fn object_span(text: &str, from: usize, object: &Object<'_>) -> std::ops::Range<usize> {
    let bytes = text.as_bytes();
    let start = past_separator(bytes, from);
    debug_assert_eq!(bytes.get(start), Some(&b'{'), "cell object start");
    let last = object
        .0
        .last()
        .map_or(start + 1, |(_, value)| span(text, value).end);
    let end = skip_whitespace(bytes, last);
    debug_assert_eq!(bytes.get(end), Some(&b'}'), "cell object end");
    start..end + 1
}

/// The offset of the first byte at or after `at` that is not JSON whitespace.
fn skip_whitespace(bytes: &[u8], mut at: usize) -> usize {
    while matches!(bytes.get(at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        at += 1;
    }
    at
}

/// Where the next value (or key) starts in JSON text, from the end of the one before it (or
/// just past the `[` or `{` that opens them): past whitespace and any comma.
fn past_separator(bytes: &[u8], at: usize) -> usize {
    let at = skip_whitespace(bytes, at);
    match bytes.get(at) {
        Some(b',') => skip_whitespace(bytes, at + 1),
        _ => at,
    }
}

/// Where a member's value starts in JSON text, from the end of the member before it (or just
/// past the object's `{`): past the separator, the key, and the colon.
fn past_key(bytes: &[u8], from: usize) -> usize {
    let mut at = past_separator(bytes, from);
    debug_assert_eq!(bytes.get(at), Some(&b'"'), "key start");
    at += 1;
    while let Some(&byte) = bytes.get(at) {
        at += if byte == b'\\' { 2 } else { 1 };
        if byte == b'"' {
            break;
        }
    }
    let colon = skip_whitespace(bytes, at);
    debug_assert_eq!(bytes.get(colon), Some(&b':'), "colon");
    skip_whitespace(bytes, colon + 1)
}

/// Reads one cell from its members; `object` must borrow from `text`, where the cell is at
/// `cell_span`.
fn read_cell(
    text: &str,
    index: CellIndex,
    object: &Object<'_>,
    cell_span: std::ops::Range<usize>,
) -> Result<Cell, CellProblem> {
    if let Some(key) = object.duplicate_key("source") {
        return Err(CellProblem::DuplicateKey(key));
    }
    let cell_type = object
        .get("cell_type")
        .ok_or(CellProblem::MissingCellType)?;
    let Text(kind) =
        serde_json::from_str(cell_type.get()).map_err(|_| CellProblem::CellTypeNotString)?;
    let kind = CellKind::from_cell_type(&kind);
    if object.get("metadata").is_none() {
        return Err(CellProblem::MissingMetadata);
    }
    let id = match object.get("id") {
        Some(id) if id.get() != "null" => {
            Some(serde_json::from_str::<String>(id.get()).map_err(|_| CellProblem::IdNotString)?)
        }
        _ => None,
    };
    let (source, source_shape, source_span) = match object.get("source") {
        Some(value) => {
            let (source, shape) = read_source(value)?;
            (source, shape, Some(span(text, value)))
        }
        // nbformat lets unknown ("future") cell types omit everything but their type.
        None if matches!(kind, CellKind::Other(_)) => (String::new(), SourceShape::Lines, None),
        None => return Err(CellProblem::MissingSource),
    };
    // Only tags matter to nbhoist (`parameters`, for one); other metadata is carried as is.
    let tags = object
        .get("metadata")
        .and_then(|metadata| serde_json::from_str::<Object<'_>>(metadata.get()).ok())
        .and_then(|metadata| {
            let tags = metadata.get("tags")?;
            serde_json::from_str::<Vec<String>>(tags.get()).ok()
        })
        .unwrap_or_default();
    let not_empty = |key: &str| {
        object.get(key).is_some_and(|value| {
            let inner = value.get().trim();
            !matches!(inner, "[]" | "{}" | "null")
                && inner.len() > 2
                && !inner[1..inner.len() - 1].trim().is_empty()
        })
    };
    let carries_data = not_empty("outputs") || not_empty("attachments");
    // Saved outputs tell whether the cell raised, and whether an import failed, when the
    // notebook last ran; a plain text search of the raw outputs is enough, and parses nothing.
    let outputs = object.get("outputs").map_or("", |outputs| outputs.get());
    let error_output = outputs.contains("\"ename\"");
    let import_failed = error_output
        && (outputs.contains("\"ModuleNotFoundError\"") || outputs.contains("\"ImportError\""));
    // The cell ran without an error when the notebook was saved: it has an execution count
    // and no error output.
    let ran_cleanly = object
        .get("execution_count")
        .is_some_and(|count| count.get().trim() != "null")
        && !error_output;
    Ok(Cell {
        index,
        kind,
        source,
        source_shape,
        id,
        tags,
        carries_data,
        import_failed,
        error_output,
        ran_cleanly,
        span: cell_span,
        source_span,
    })
}

/// Reads a `source` value, joining a list of lines.
fn read_source(value: &RawValue) -> Result<(String, SourceShape), CellProblem> {
    let problem = |error: serde_json::Error| {
        if error.is_data() {
            CellProblem::SourceNotText
        } else {
            let full = error.to_string();
            let suffix = format!(" at line {} column {}", error.line(), error.column());
            CellProblem::SourceEscape(full.strip_suffix(&suffix).unwrap_or(&full).to_owned())
        }
    };
    let json = value.get();
    if json.starts_with('"') {
        let source = serde_json::from_str::<String>(json).map_err(problem)?;
        Ok((source, SourceShape::String))
    } else if json.starts_with('[') {
        // The text is never longer than its JSON: the string grows once.
        let mut source = String::with_capacity(json.len());
        let mut deserializer = serde_json::Deserializer::from_str(json);
        (&mut deserializer)
            .deserialize_seq(Joined(&mut source))
            .and_then(|()| deserializer.end())
            .map_err(problem)?;
        Ok((source, SourceShape::Lines))
    } else {
        Err(CellProblem::SourceNotText)
    }
}

/// The byte range of `raw` within `text`; `raw` must borrow from `text`.
fn span(text: &str, raw: &RawValue) -> std::ops::Range<usize> {
    let start = raw.get().as_ptr().addr().wrapping_sub(text.as_ptr().addr());
    debug_assert!(
        start + raw.get().len() <= text.len(),
        "RawValue outside text"
    );
    start..start + raw.get().len()
}

/// A JSON object as its members in file order, values unparsed.
struct Object<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'a> Object<'a> {
    /// The value of `key`; the first one, should the key repeat (the notebook is then
    /// refused: see [`duplicate_key`]).
    fn get(&self, key: &str) -> Option<&'a RawValue> {
        self.0
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| *value)
    }

    /// A key that the object holds twice, or that an object in one of its values does,
    /// except the value of `unread`: a notebook's `cells`, looked into cell by cell to name
    /// the cell, or a cell's `source`, which is refused unless it holds only strings.
    fn duplicate_key(&self, unread: &str) -> Option<String> {
        let mut keys: Vec<&str> = self.0.iter().map(|(key, _)| key.as_ref()).collect();
        if let Some(key) = repeated(&mut keys) {
            return Some((*key).to_owned());
        }
        self.0
            .iter()
            .filter(|(key, value)| key != unread && value.get().starts_with(['{', '[']))
            .find_map(|(_, value)| duplicate_key(value.get()))
    }
}

/// A key that an object in `json`, which must be valid JSON, holds twice.
///
/// A second pass over text that serde_json has validated, without a tree: only `"`, `{` and
/// `}` matter outside strings, and only `"` and `\` inside; the keys of the objects open at
/// a point are the only thing kept. A string is a key when a `:` follows it.
fn duplicate_key(json: &str) -> Option<String> {
    let bytes = json.as_bytes();
    // The keys of the objects open at `at`, outermost first, and where each object's keys
    // start.
    let mut keys: Vec<Cow<'_, str>> = Vec::new();
    let mut starts: Vec<usize> = Vec::new();
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        at += 1;
        match byte {
            b'"' => {
                let content = at;
                let (end, escaped) = string_end(bytes, content);
                at = end + 1;
                if bytes.get(skip_whitespace(bytes, at)) == Some(&b':') {
                    keys.push(key_text(&json[content..end], escaped));
                }
            }
            b'{' => starts.push(keys.len()),
            b'}' => {
                let start = starts.pop().unwrap_or_default();
                if let Some(key) = repeated(&mut keys[start..]) {
                    return Some(key.clone().into_owned());
                }
                keys.truncate(start);
            }
            _ => {}
        }
    }
    None
}

/// The offset of the `"` that ends the JSON string whose content starts at `at`, and whether
/// the string holds an escape.
fn string_end(bytes: &[u8], mut at: usize) -> (usize, bool) {
    let mut escaped = false;
    while let Some(found) = bytes.get(at..).and_then(|rest| memchr2(b'"', b'\\', rest)) {
        at += found;
        if bytes[at] == b'"' {
            return (at, escaped);
        }
        escaped = true;
        at += 2;
    }
    (bytes.len(), escaped)
}

/// The key that the content of a JSON string stands for. Python compares keys decoded:
/// `"cell_type"` and `"cell\u005ftype"` are one key. A key that does not decode (a lone
/// surrogate, which Python takes) is compared as written.
fn key_text(content: &str, escaped: bool) -> Cow<'_, str> {
    if !escaped {
        return Cow::Borrowed(content);
    }
    serde_json::from_str::<String>(&format!("\"{content}\""))
        .map_or(Cow::Borrowed(content), Cow::Owned)
}

/// A key that `keys` holds twice; may reorder them.
fn repeated<K: Ord>(keys: &mut [K]) -> Option<&K> {
    // A few keys, as most objects have, are quicker compared pair by pair (keys of other
    // lengths differ at once) than sorted; many are sorted, not to take quadratic time.
    const FEW: usize = 16;
    if keys.len() <= FEW {
        return keys
            .iter()
            .enumerate()
            .find_map(|(i, key)| keys[i + 1..].contains(key).then_some(key));
    }
    keys.sort_unstable();
    keys.windows(2)
        .find(|pair| pair[0] == pair[1])
        .map(|pair| &pair[0])
}

impl<'de> Deserialize<'de> for Object<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;
        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = Object<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Object<'de>, A::Error> {
                // Room for the members of a cell, the most read object, without growing.
                let mut members = Vec::with_capacity(8);
                while let Some((Text(key), value)) = map.next_entry::<Text<'de>, &RawValue>()? {
                    members.push((key, value));
                }
                Ok(Object(members))
            }
        }
        deserializer.deserialize_map(ObjectVisitor)
    }
}

/// A JSON string, borrowed from the input unless it contains escapes.
struct Text<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
        }
        deserializer.deserialize_str(TextVisitor)
    }
}

/// A list of strings, appended to a string as it is read (a list `source`): a line with an
/// escape (most end in `\n`) is decoded into the string, not into a string of its own.
struct Joined<'s>(&'s mut String);

impl<'de> Visitor<'de> for Joined<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of strings")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Append(self.0))?.is_some() {}
        Ok(())
    }
}

/// A string, appended to a string as it is read.
struct Append<'s>(&'s mut String);

impl<'de> DeserializeSeed<'de> for Append<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Append<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.0.push_str(v);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> String {
        match Notebook::parse(text) {
            Ok(_) => "ok".to_owned(),
            Err(error) => error.to_string(),
        }
    }

    /// The message for a key that an object holds twice, the key as shown.
    fn duplicate(key: &str) -> String {
        format!(
            "duplicate key \"{key}\" in one JSON object (Jupyter reads only the last); delete the others, or run \"jupyter nbconvert --to notebook --inplace\" on the notebook, which keeps the last"
        )
    }

    const MINIMAL: &str = r#"{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}"#;

    #[test]
    fn minimal_notebook_parses() {
        let notebook = Notebook::parse(MINIMAL).expect("valid notebook");
        assert!(notebook.cells().is_empty());
        assert_eq!((notebook.nbformat(), notebook.nbformat_minor()), (4, 5));
        assert_eq!(notebook.language(), None);
    }

    #[test]
    fn not_json_names_the_position() {
        assert_eq!(
            error("{\n \"cells\": [\n  oops"),
            "not valid JSON (line 3, column 3): expected value"
        );
        assert_eq!(
            error("{\"a\": [1, NaN]}"),
            "not valid JSON (line 1, column 11): NaN is not allowed in JSON"
        );
        assert_eq!(
            error("{\"a\": -Infinity}"),
            "not valid JSON (line 1, column 8): -Infinity is not allowed in JSON"
        );
        assert_eq!(
            error(""),
            "not valid JSON (line 1, column 0): EOF while parsing a value"
        );
    }

    #[test]
    fn broken_json_that_is_not_an_object_is_reported_as_json() {
        assert_eq!(
            error("[1, 2"),
            "not valid JSON (line 1, column 5): EOF while parsing a list"
        );
        assert_eq!(
            error("[1, 2]"),
            "not a notebook (expected a JSON object with \"cells\")"
        );
        assert_eq!(
            error("{}"),
            "not a notebook (expected a JSON object with \"cells\")"
        );
    }

    #[test]
    fn versions() {
        assert_eq!(
            error(r#"{"worksheets": [], "nbformat": 3}"#),
            "nbformat 3 is not supported; upgrade it with \"jupyter nbconvert --to notebook --nbformat 4\""
        );
        assert_eq!(
            error(r#"{"worksheets": []}"#),
            "nbformat 3 is not supported; upgrade it with \"jupyter nbconvert --to notebook --nbformat 4\""
        );
        assert_eq!(
            error(r#"{"cells": [], "nbformat": 5}"#),
            "nbformat 5 is not supported (nbhoist reads nbformat 4)"
        );
        assert_eq!(
            error(r#"{"cells": [], "nbformat": "4"}"#),
            "malformed notebook: \"nbformat\" is not a non-negative integer"
        );
        assert_eq!(
            error(r#"{"cells": []}"#),
            "malformed notebook: missing \"nbformat\""
        );
        assert_eq!(
            error(r#"{"cells": {}, "nbformat": 4}"#),
            "malformed notebook: \"cells\" is not a list"
        );
    }

    #[test]
    fn language_detection() {
        let r = r#"{"cells": [], "metadata": {"kernelspec": {"language": "R"}}, "nbformat": 4}"#;
        assert_eq!(error(r), "kernel language is R, not Python");
        assert_eq!(
            Notebook::parse_any_language(r)
                .expect("any language")
                .language(),
            Some("R")
        );
        let info =
            r#"{"cells": [], "metadata": {"language_info": {"name": "python"}}, "nbformat": 4}"#;
        assert_eq!(
            Notebook::parse(info).expect("python").language(),
            Some("python")
        );
        let bad = r#"{"cells": [], "metadata": {"kernelspec": "BAD"}, "nbformat": 4}"#;
        assert_eq!(error(bad), "ok");
        assert!(is_python("python") && is_python("Python3") && is_python("python 3.11"));
        assert!(!is_python("xonsh") && !is_python("pythonista"));
    }

    #[test]
    fn malformed_cells_are_numbered_from_one() {
        let with = |cell: &str| {
            error(&format!(
                r#"{{"cells": [{{"cell_type": "code", "metadata": {{}}, "source": []}}, {cell}], "nbformat": 4}}"#
            ))
        };
        assert_eq!(with("3"), "cell 2: not a JSON object");
        assert_eq!(
            with(r#"{"metadata": {}, "source": ""}"#),
            "cell 2: missing \"cell_type\""
        );
        assert_eq!(
            with(r#"{"cell_type": 1, "metadata": {}, "source": ""}"#),
            "cell 2: \"cell_type\" is not a string"
        );
        assert_eq!(
            with(r#"{"cell_type": "code", "metadata": {}}"#),
            "cell 2: missing \"source\""
        );
        assert_eq!(
            with(r#"{"cell_type": "code", "metadata": {}, "source": ["a", 1]}"#),
            "cell 2: \"source\" must be a string or a list of strings"
        );
        assert_eq!(
            with(r#"{"cell_type": "code", "metadata": {}, "source": 1}"#),
            "cell 2: \"source\" must be a string or a list of strings"
        );
        assert!(
            with(r#"{"cell_type": "code", "metadata": {}, "source": "\ud800"}"#)
                .starts_with("cell 2: \"source\" is not valid text: ")
        );
        assert_eq!(
            with(r#"{"cell_type": "code", "id": 7, "metadata": {}, "source": ""}"#),
            "cell 2: \"id\" is not a string"
        );
        assert_eq!(with(r#"{"cell_type": "future", "metadata": {}}"#), "ok");
    }

    #[test]
    fn a_cell_without_metadata_is_refused() {
        let missing = "missing \"metadata\", which nbformat 4 requires (Jupyter cannot open the notebook either); add \"metadata\": {} to the cell";
        for cell in [
            r#"{"cell_type": "code", "execution_count": null, "outputs": [], "source": ""}"#,
            r##"{"cell_type": "markdown", "source": "# Title"}"##,
            r#"{"cell_type": "future"}"#,
        ] {
            let text = format!(
                r#"{{"cells": [{{"cell_type": "raw", "metadata": {{}}, "source": ""}}, {cell}], "nbformat": 4}}"#
            );
            assert_eq!(error(&text), format!("cell 2: {missing}"), "{cell}");
        }
    }

    #[test]
    fn a_key_twice_in_any_object_is_refused() {
        let cell = |inside: &str| {
            format!(
                r#"{{"cell_type": "code", "execution_count": null, "metadata": {{}}, "outputs": [], "source": "x = 1"{inside}}}"#
            )
        };
        let notebook = |cells: &[&str], top: &str| {
            format!(
                r#"{{"cells": [{}], "metadata": {{"kernelspec": {{"language": "python", "name": "python3"}}}}, "nbformat": 4, "nbformat_minor": 4{top}}}"#,
                cells.join(", ")
            )
        };
        let good = &cell("");
        let output = good.replace(
            r#""outputs": []"#,
            r#""outputs": [{"output_type": "stream", "name": "stdout", "text": ["a"]}, {"output_type": "display_data", "data": {"text/plain": "1", "text/plain": "2"}, "metadata": {}}]"#,
        );
        // More keys than are compared pair by pair.
        let many: Vec<String> = (0..40).map(|i| format!(r#""k{i}": {i}"#)).collect();
        let many = |last: &str| format!(r#", "x": {{{}, "{last}": 0}}"#, many.join(", "));
        assert_eq!(error(&notebook(&[good], "")), "ok");
        let refused = [
            (
                notebook(&[good], r#", "nbformat": 4"#),
                duplicate("nbformat"),
            ),
            (notebook(&[good], r#", "cells": []"#), duplicate("cells")),
            (
                notebook(&[], r#", "x": {"a": [1, {"b": {}, "b": 2}]}"#),
                duplicate("b"),
            ),
            (
                notebook(&[], r#", "x": {"a\u0062": 1, "ab": 2}"#),
                duplicate("ab"),
            ),
            (notebook(&[], &many("k7")), duplicate("k7")),
            // Python reads a lone surrogate, which is not text in Rust.
            (
                notebook(&[], r#", "x": {"\ud800": 1, "\ud800": 2}"#),
                duplicate(r"\\ud800"),
            ),
            (
                notebook(&[good, &cell(r#", "source": "y = 2""#)], ""),
                format!("cell 2: {}", duplicate("source")),
            ),
            (
                notebook(&[&cell(r#", "metad\u0061ta": {}"#)], ""),
                format!("cell 1: {}", duplicate("metadata")),
            ),
            (
                notebook(&[good, good, &output], ""),
                format!("cell 3: {}", duplicate("text/plain")),
            ),
            (
                notebook(
                    &[&cell(
                        r#", "attachments": {"a.png": {"image/png": "AA==", "image/png": "AA=="}}"#,
                    )],
                    "",
                ),
                format!("cell 1: {}", duplicate("image/png")),
            ),
        ];
        for (text, message) in &refused {
            assert_eq!(&error(text), message, "{text}");
        }
        // Keys that repeat, but never in one object; strings that look like keys.
        let fine = [
            notebook(
                &[good, good],
                r#", "x": {"a": {"a": {"a": 1}}, "b": [{"a": 1}, {"a": 2}]}"#,
            ),
            notebook(
                &[good],
                r#", "x": {"a": "\"a\": 1, {\"a\": 2}", "b": ["a", "a"], "c": "a"}"#,
            ),
            notebook(
                &[&cell(r#", "id": "\\", "tags": "}{\"""#)],
                r#", "y": {"\\": 1, "\\\\": 2}"#,
            ),
            notebook(&[], &many("k40")),
        ];
        for text in &fine {
            assert_eq!(error(text), "ok", "{text}");
        }
    }

    #[test]
    fn a_duplicate_key_is_shown_on_one_short_line() {
        // 200 characters, half of them line breaks.
        let key = r"k\n".repeat(100);
        let text = format!(r#"{{"cells": [], "nbformat": 4, "m": {{"{key}": 1, "{key}": 2}}}}"#);
        let shown = format!("{}…", r"k\n".repeat(30));
        assert_eq!(error(&text), duplicate(&shown));
    }

    #[test]
    fn cells_are_read_with_their_shape_and_escaped_keys() {
        let notebook = Notebook::parse(
            r##"{"cells": [
                {"cell_type": "code", "id": "a1", "metadata": {}, "source": ["x = 1\n", "y"]},
                {"cell\u005ftype": "markdown", "metadata": {}, "source": "# T\u00edtulo"},
                {"cell_type": "heading", "metadata": {}, "source": "old"}
            ], "nbformat": 4, "nbformat_minor": 5}"##,
        )
        .expect("valid notebook");
        let cells = notebook.cells();
        assert_eq!(cells[0].kind, CellKind::Code);
        assert_eq!(cells[0].source, "x = 1\ny");
        assert_eq!(cells[0].source_shape, SourceShape::Lines);
        assert_eq!(cells[0].id.as_deref(), Some("a1"));
        assert_eq!(cells[1].kind, CellKind::Markdown);
        assert_eq!(cells[1].source, "# Título");
        assert_eq!(cells[1].source_shape, SourceShape::String);
        assert_eq!(cells[2].kind, CellKind::Other("heading".to_owned()));
        assert_eq!(cells[2].index, CellIndex(2));
    }

    #[test]
    fn one_pass_reads_what_the_steps_read() {
        /// Members as (key, byte range of the value), which can be compared.
        fn members(text: &str, object: &Object<'_>) -> Vec<(String, std::ops::Range<usize>)> {
            let members = object.0.iter();
            members
                .map(|(key, value)| (key.to_string(), span(text, value)))
                .collect()
        }
        fn read(text: &str, json: Option<Json<'_>>) -> String {
            let Some(Json { top, cells }) = json else {
                return "not read".to_owned();
            };
            let cells = match cells {
                Some(CellsValue::List {
                    start,
                    objects,
                    complete,
                }) => {
                    let cells: Vec<_> = objects.iter().map(|o| members(text, o)).collect();
                    format!("{start} {complete} {cells:?}")
                }
                Some(CellsValue::NotAList) => "not a list".to_owned(),
                None => "none".to_owned(),
            };
            // Only the steps keep `cells` among the members; what it holds is compared above.
            let mut top = members(text, &top);
            top.retain(|(key, _)| key != "cells");
            format!("{top:?} {cells}")
        }
        let cell = r#"{"cell_type": "code", "source": ["x = 1\n"], "outputs": []}"#;
        let notebooks = [
            format!(r#"{{"cells": [{cell}, {cell}], "metadata": {{}}, "nbformat": 4}}"#),
            format!("\u{feff} \n{{ \"cells\" :\n[ {cell} ,\n{cell}\n] }}\n"),
            format!(r#"{{"nbformat": 4, "metadata": {{"a": "]"}}, "cells": [{cell}]}}"#),
            format!(r#"{{"nbformat": 4, "c\"": 1, "cell\u0073": [{cell}], "z": 2}}"#),
            r#"{"cells": [], "nbformat": 4}"#.to_owned(),
            r#"{"cells": [ {} ], "nbformat": 4}"#.to_owned(),
        ];
        for text in &notebooks {
            let body = text.strip_prefix(BOM).unwrap_or(text);
            let one_pass = read(text, read_in_one_pass(text, body));
            let steps = read(text, read_step_by_step(text, body).ok());
            assert_ne!(one_pass, "not read", "{text}");
            assert_eq!(one_pass, steps, "{text}");
        }
        // These the one pass leaves to the steps, which tell what is wrong.
        for text in [
            r#"{"cells": [1], "nbformat": 4}"#,
            r#"{"cells": {}, "nbformat": 4}"#,
            r#"{"cells": [], "cells": [], "nbformat": 4}"#,
            r#"{"cells": [{"\ud800": 1}], "nbformat": 4}"#,
        ] {
            assert!(read_in_one_pass(text, text).is_none(), "{text}");
            assert!(read_step_by_step(text, text).is_ok(), "{text}");
        }
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        assert_eq!(
            Notebook::parse_bytes(b"{\"a\": \"\xff\"}")
                .expect_err("invalid UTF-8")
                .to_string(),
            "not valid UTF-8 (line 1, column 8)"
        );
    }
}
