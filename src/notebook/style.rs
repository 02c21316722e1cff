//! Detection of a notebook file's JSON formatting style, so that re-encoded parts look as if
//! the original writer had written them: indentation, separators, ASCII escaping, `\/`,
//! line endings, and the final newline, each as found in the file.

use super::SourceShape;

/// How a notebook file formats its JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Style {
    /// The whitespace for one indentation level (`" "` for nbformat), or `None` for
    /// single-line JSON.
    pub indent: Option<String>,
    /// What separates a key from its value (`": "` or `":"`).
    pub key_separator: String,
    /// What separates two items, before any newline (`","`, or `", "` in some compact files).
    pub item_separator: String,
    /// The line ending used between JSON tokens (`"\n"` or `"\r\n"`).
    pub newline: &'static str,
    /// Whether non-ASCII text is written as `\uXXXX` escapes (Python's `ensure_ascii=True`).
    pub ensure_ascii: bool,
    /// Whether `/` is written as `\/`.
    pub escape_slash: bool,
    /// Whether the file ends with a newline.
    pub trailing_newline: bool,
    /// Whether the file starts with a UTF-8 byte order mark.
    pub bom: bool,
    /// The shape used for the source of inserted cells: the shape every existing cell uses if
    /// they agree, otherwise a list of lines as nbformat writes.
    pub source_shape: SourceShape,
}

impl Style {
    /// Detects the style of `body`, the file content after any BOM.
    pub(crate) fn detect(body: &str, bom: bool, source_shape: SourceShape) -> Style {
        let json = body.trim_start();
        let after_brace = json.strip_prefix('{').unwrap_or(json);
        let newline = if body.contains("\r\n") { "\r\n" } else { "\n" };
        // json.dumps with an indent puts a newline right after the opening brace; the
        // whitespace that follows is one indentation level.
        let indent = after_brace
            .strip_prefix("\r\n")
            .or_else(|| after_brace.strip_prefix('\n'))
            .map(|rest| {
                let width = rest.len() - rest.trim_start_matches([' ', '\t']).len();
                rest[..width].to_owned()
            });
        let (key_separator, item_separator) = first_separators(json);
        let escapes = scan_escapes(json);
        Style {
            indent,
            key_separator: key_separator.unwrap_or_else(|| ": ".to_owned()),
            item_separator: item_separator.unwrap_or_else(|| ",".to_owned()),
            newline,
            ensure_ascii: body.is_ascii() && escapes.non_ascii,
            escape_slash: escapes.slash,
            trailing_newline: body.ends_with('\n'),
            bom,
            source_shape,
        }
    }

    /// A style-conforming line break followed by `level` indents; nothing for compact files.
    pub(crate) fn line_break(&self, level: usize, out: &mut String) {
        if let Some(indent) = &self.indent {
            out.push_str(self.newline);
            for _ in 0..level {
                out.push_str(indent);
            }
        }
    }
}

/// Returns the first key separator and the first item separator found outside strings,
/// each with the spaces around its `:` or `,` (newlines excluded).
fn first_separators(json: &str) -> (Option<String>, Option<String>) {
    let bytes = json.as_bytes();
    let mut key = None;
    let mut item = None;
    let mut in_string = false;
    let mut i = 0;
    while i < bytes.len() && (key.is_none() || item.is_none()) {
        match bytes[i] {
            b'\\' if in_string => i += 1,
            b'"' => in_string = !in_string,
            b':' if !in_string && key.is_none() => key = Some(separator_around(json, i)),
            b',' if !in_string && item.is_none() => item = Some(separator_around(json, i)),
            _ => {}
        }
        i += 1;
    }
    (key, item)
}

/// The punctuation byte at `at` together with the spaces and tabs on either side.
fn separator_around(json: &str, at: usize) -> String {
    let is_blank = |b: &u8| *b == b' ' || *b == b'\t';
    let bytes = json.as_bytes();
    let before = bytes[..at].iter().rev().take_while(|b| is_blank(b)).count();
    let after = bytes[at + 1..].iter().take_while(|b| is_blank(b)).count();
    json[at - before..at + 1 + after].to_owned()
}

/// What the escape sequences in a file reveal about its writer.
struct Escapes {
    /// A `\uXXXX` escape of a character >= U+0080 occurs.
    non_ascii: bool,
    /// A `\/` escape occurs.
    slash: bool,
}

/// Scans every escape sequence. Backslashes only occur inside strings in valid JSON, and
/// skipping each escape whole keeps `\\/` (an escaped backslash, then `/`) from counting.
fn scan_escapes(json: &str) -> Escapes {
    let bytes = json.as_bytes();
    let mut escapes = Escapes {
        non_ascii: false,
        slash: false,
    };
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            i += 1;
            continue;
        }
        match bytes.get(i + 1) {
            Some(b'u') => {
                let code = json
                    .get(i + 2..i + 6)
                    .and_then(|hex| u32::from_str_radix(hex, 16).ok());
                if code.is_some_and(|code| code >= 0x80) {
                    escapes.non_ascii = true;
                }
                i += 6;
            }
            Some(b'/') => {
                escapes.slash = true;
                i += 2;
            }
            _ => i += 2,
        }
    }
    escapes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect(text: &str) -> Style {
        Style::detect(text, false, SourceShape::Lines)
    }

    #[test]
    fn indent_one_is_nbformat_style() {
        let style = detect("{\n \"cells\": [],\n \"nbformat\": 4\n}\n");
        assert_eq!(style.indent.as_deref(), Some(" "));
        assert_eq!(style.key_separator, ": ");
        assert_eq!(style.item_separator, ",");
        assert_eq!(style.newline, "\n");
        assert!(style.trailing_newline);
        assert!(!style.ensure_ascii);
    }

    #[test]
    fn compact_separators_are_detected() {
        let style = detect(r#"{"cells":[],"nbformat":4}"#);
        assert_eq!(style.indent, None);
        assert_eq!(style.key_separator, ":");
        assert_eq!(style.item_separator, ",");
        assert!(!style.trailing_newline);
        let style = detect(r#"{"cells": [], "nbformat": 4}"#);
        assert_eq!(style.key_separator, ": ");
        assert_eq!(style.item_separator, ", ");
    }

    #[test]
    fn separators_inside_strings_are_ignored() {
        let style = detect(r#"{"a\",: b": 1, "c": 2}"#);
        assert_eq!(style.key_separator, ": ");
        assert_eq!(style.item_separator, ", ");
    }

    #[test]
    fn crlf_and_two_space_indent() {
        let style = detect("{\r\n  \"cells\": []\r\n}");
        assert_eq!(style.indent.as_deref(), Some("  "));
        assert_eq!(style.newline, "\r\n");
    }

    #[test]
    fn ensure_ascii_needs_an_escape_and_no_raw_non_ascii() {
        assert!(detect(r#"{"a": "caf\u00e9"}"#).ensure_ascii);
        assert!(!detect(r#"{"a": "\u001b"}"#).ensure_ascii);
        assert!(!detect(r#"{"a": "caf\u00e9 café"}"#).ensure_ascii);
        assert!(!detect(r#"{"a": "\\u00e9"}"#).ensure_ascii);
    }

    #[test]
    fn escaped_slash_must_be_a_real_escape() {
        assert!(detect(r#"{"a": "<\/script>"}"#).escape_slash);
        assert!(!detect(r#"{"a": "\\/"}"#).escape_slash);
        assert!(detect(r#"{"a": "\\\/"}"#).escape_slash);
    }
}
