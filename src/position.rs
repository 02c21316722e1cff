//! Typed positions: which cell, and where in it. A 0-based index for storage and a 1-based
//! number for display are different types so that they cannot be mixed up.

use std::fmt;

/// 0-based position of a cell in the notebook's `cells` array (markdown cells count).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CellIndex(pub usize);

impl CellIndex {
    /// The 1-based number users see (`cell 3`), counting every cell.
    pub fn number(self) -> CellNumber {
        CellNumber(self.0 + 1)
    }
}

/// 1-based cell number as shown to users and in reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct CellNumber(pub usize);

impl fmt::Display for CellNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad` so that width and alignment flags work in aligned reports.
        f.pad(&self.0.to_string())
    }
}

/// 1-based line and column inside one cell's source (columns count characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct LineColumn {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}
