//! Python source: parsing cells, analysing scopes, and the text each statement owns.

pub mod parse;
pub mod scope;
pub mod span;
