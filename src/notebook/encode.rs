//! JSON encoding of the few values the splice writer produces (a cell source, a new code
//! cell) in a detected [`Style`], matching what Python's `json.dumps` writes with the same
//! settings.
//!
//! Written by hand rather than through a `serde_json` formatter: the values are fixed and
//! small, and Python's `ensure_ascii` also escapes DEL (U+007F), which is easiest to match
//! with one explicit character loop.

use std::fmt::Write as _;

use super::{SourceShape, Style};

/// Appends JSON text in one notebook's style.
pub(crate) struct Encoder<'a> {
    style: &'a Style,
    out: &'a mut String,
}

impl<'a> Encoder<'a> {
    /// An encoder appending to `out`.
    pub(crate) fn new(style: &'a Style, out: &'a mut String) -> Encoder<'a> {
        Encoder { style, out }
    }

    /// Writes a JSON string literal.
    pub(crate) fn string(&mut self, text: &str) {
        let out = &mut *self.out;
        out.push('"');
        for ch in text.chars() {
            match ch {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                '/' if self.style.escape_slash => out.push_str("\\/"),
                // Python escapes everything outside printable ASCII when ensure_ascii is on,
                // DEL included, but only control characters otherwise.
                ch if ch < ' ' || (self.style.ensure_ascii && ch > '~') => {
                    let mut units = [0u16; 2];
                    for unit in ch.encode_utf16(&mut units) {
                        // Writing to a String cannot fail.
                        let _ = write!(out, "\\u{unit:04x}");
                    }
                }
                ch => out.push(ch),
            }
        }
        out.push('"');
    }

    /// Writes a cell source in the given shape; `level` is the nesting level of the line
    /// holding the `"source"` key.
    pub(crate) fn source(&mut self, source: &str, shape: SourceShape, level: usize) {
        match shape {
            SourceShape::String => self.string(source),
            SourceShape::Lines => {
                // nbformat's split: every line keeps its "\n"; an empty source is `[]`.
                let lines: Vec<&str> = source.split_inclusive('\n').collect();
                self.out.push('[');
                for (i, line) in lines.iter().enumerate() {
                    if i > 0 {
                        self.out.push_str(&self.style.item_separator);
                    }
                    self.style.line_break(level + 1, self.out);
                    self.string(line);
                }
                if !lines.is_empty() {
                    self.style.line_break(level, self.out);
                }
                self.out.push(']');
            }
        }
    }

    /// Writes a new code cell object; `level` is the nesting level of the line holding its
    /// opening brace. Keys come in nbformat's order.
    pub(crate) fn code_cell(&mut self, source: &str, id: Option<&str>, level: usize) {
        self.out.push('{');
        self.key("cell_type", level + 1, true);
        self.string("code");
        self.key("execution_count", level + 1, false);
        self.out.push_str("null");
        if let Some(id) = id {
            self.key("id", level + 1, false);
            self.string(id);
        }
        self.key("metadata", level + 1, false);
        self.out.push_str("{}");
        self.key("outputs", level + 1, false);
        self.out.push_str("[]");
        self.key("source", level + 1, false);
        self.source(source, self.style.source_shape, level + 1);
        self.style.line_break(level, self.out);
        self.out.push('}');
    }

    /// Writes the separator before an object member (unless it is the first), the line
    /// break, the key and the key separator.
    fn key(&mut self, key: &str, level: usize, first: bool) {
        if !first {
            self.out.push_str(&self.style.item_separator);
        }
        self.style.line_break(level, self.out);
        self.string(key);
        self.out.push_str(&self.style.key_separator);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn style(indent: Option<&str>) -> Style {
        Style {
            indent: indent.map(str::to_owned),
            key_separator: ": ".to_owned(),
            item_separator: ",".to_owned(),
            newline: "\n",
            ensure_ascii: false,
            escape_slash: false,
            trailing_newline: true,
            bom: false,
            source_shape: SourceShape::Lines,
        }
    }

    fn encode(style: &Style, f: impl FnOnce(&mut Encoder<'_>)) -> String {
        let mut out = String::new();
        f(&mut Encoder::new(style, &mut out));
        out
    }

    #[test]
    fn strings_escape_like_python() {
        let plain = style(None);
        let text = "a\"b\\c\n\r\t\u{8}\u{c}\u{1b}\u{7f}/é😀";
        assert_eq!(
            encode(&plain, |e| e.string(text)),
            "\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u001b\u{7f}/é😀\""
        );
        let ascii = Style {
            ensure_ascii: true,
            escape_slash: true,
            ..plain
        };
        assert_eq!(
            encode(&ascii, |e| e.string(text)),
            "\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u001b\\u007f\\/\\u00e9\\ud83d\\ude00\""
        );
    }

    #[test]
    fn list_source_at_indent_one() {
        let style = style(Some(" "));
        assert_eq!(
            encode(&style, |e| e.source("a\nb", SourceShape::Lines, 3)),
            "[\n    \"a\\n\",\n    \"b\"\n   ]"
        );
        assert_eq!(
            encode(&style, |e| e.source("", SourceShape::Lines, 3)),
            "[]"
        );
        assert_eq!(
            encode(&style, |e| e.source("a\n", SourceShape::String, 3)),
            "\"a\\n\""
        );
    }

    #[test]
    fn code_cell_compact_and_indented() {
        let compact = Style {
            key_separator: ":".to_owned(),
            ..style(None)
        };
        assert_eq!(
            encode(&compact, |e| e.code_cell("x\n", Some("ab"), 2)),
            r#"{"cell_type":"code","execution_count":null,"id":"ab","metadata":{},"outputs":[],"source":["x\n"]}"#
        );
        let indented = style(Some(" "));
        assert_eq!(
            encode(&indented, |e| e.code_cell("", None, 2)),
            "{\n   \"cell_type\": \"code\",\n   \"execution_count\": null,\n   \"metadata\": {},\n   \"outputs\": [],\n   \"source\": []\n  }"
        );
    }
}
