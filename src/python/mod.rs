//! Python source: parsing cells, analysing scopes, imports, and the text each statement owns.

pub(crate) mod imports;
pub(crate) mod parse;
pub(crate) mod scope;
pub(crate) mod semantic;
pub(crate) mod span;
