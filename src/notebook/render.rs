//! The splice writer: the original text with only the edited parts re-encoded.
//!
//! The `cells` array is rebuilt from pieces: kept cells are copied (with a changed `source`
//! value spliced in), inserted cells are encoded whole, and the whitespace between two cells
//! that were neighbours in the original is copied too. Only where the sequence changed is a
//! separator written in the detected style, which is exactly what `json.dumps` would write.

use super::encode::Encoder;
use super::{CellEdit, Notebook, ResolvedEdits};

/// Nesting level of the lines holding cell objects: top-level object, then `cells` array.
const CELL_LEVEL: usize = 2;

/// One element of the rendered `cells` array.
#[derive(Clone, Copy)]
enum Item<'e> {
    /// The original cell at this index.
    Kept(usize),
    /// A new code cell.
    New {
        source: &'e str,
        id: Option<&'e str>,
    },
}

/// Applies `edits` to `notebook` (see [`Notebook::render`]).
pub(super) fn render(notebook: &Notebook, edits: &[CellEdit]) -> String {
    let text = notebook.text.as_str();
    if edits.is_empty() {
        return text.to_owned();
    }
    let count = notebook.cells.len();
    let ResolvedEdits {
        sources: new_sources,
        removed,
        inserted,
    } = ResolvedEdits::new(count, edits);
    let mut items = Vec::with_capacity(count + edits.len());
    for (index, before) in inserted.iter().enumerate() {
        items.extend(before.iter().map(|new| Item::New {
            source: new.source,
            id: new.id,
        }));
        if index < count && !removed[index] {
            items.push(Item::Kept(index));
        }
    }

    let style = notebook.style();
    let cells = &notebook.cells;
    let array = notebook.cells_span.clone();
    let mut out = String::with_capacity(text.len() + 1024);
    out.push_str(&text[..array.start]);
    match (cells.first(), cells.last()) {
        _ if items.is_empty() => out.push_str("[]"),
        (Some(first), Some(last)) => {
            out.push('[');
            out.push_str(&text[array.start + 1..first.span.start]);
            write_items(notebook, &items, &new_sources, &mut out);
            out.push_str(&text[last.span.end..array.end - 1]);
            out.push(']');
        }
        _ => {
            // The original array was empty, so there is no whitespace to copy.
            out.push('[');
            style.line_break(CELL_LEVEL, &mut out);
            write_items(notebook, &items, &new_sources, &mut out);
            style.line_break(CELL_LEVEL - 1, &mut out);
            out.push(']');
        }
    }
    out.push_str(&text[array.end..]);
    out
}

/// Writes the cells and the separators between them.
fn write_items(
    notebook: &Notebook,
    items: &[Item<'_>],
    new_sources: &[Option<&str>],
    out: &mut String,
) {
    let text = notebook.text.as_str();
    let style = notebook.style();
    let cells = &notebook.cells;
    let mut previous: Option<Item<'_>> = None;
    for &item in items {
        match (previous, item) {
            (None, _) => {}
            // Neighbours in the original: keep the original whitespace between them.
            (Some(Item::Kept(a)), Item::Kept(b)) if b == a + 1 => {
                out.push_str(&text[cells[a].span.end..cells[b].span.start]);
            }
            (Some(_), _) => {
                out.push_str(&style.item_separator);
                style.line_break(CELL_LEVEL, out);
            }
        }
        match item {
            Item::Kept(index) => {
                let cell = &cells[index];
                match (new_sources[index], &cell.source_span) {
                    (Some(source), Some(span)) if source != cell.source => {
                        out.push_str(&text[cell.span.start..span.start]);
                        Encoder::new(style, out).source(source, cell.source_shape, CELL_LEVEL + 1);
                        out.push_str(&text[span.end..cell.span.end]);
                    }
                    _ => out.push_str(&text[cell.span.clone()]),
                }
            }
            Item::New { source, id } => Encoder::new(style, out).code_cell(source, id, CELL_LEVEL),
        }
        previous = Some(item);
    }
}
