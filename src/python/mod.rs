//! Python source: parsing cells, analysing scopes, and the text each statement owns.

pub mod parse;
pub mod scope;
pub mod span;
// Used by the star-import resolution that follows; until then only its tests call it.
#[allow(dead_code)]
pub(crate) mod stdlib_exports;
