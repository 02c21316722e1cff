//! Python source: parsing cells, analysing scopes, imports, the text each statement owns, and
//! what standard-library modules export.

pub(crate) mod imports;
pub(crate) mod parse;
pub(crate) mod scope;
pub(crate) mod semantic;
pub(crate) mod span;
// Star-import resolution (which names `from math import *` binds) uses part of it so far.
#[allow(dead_code)]
pub(crate) mod stdlib_exports;
