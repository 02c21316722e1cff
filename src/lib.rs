//! nbhoist: hoist the reusable code out of Jupyter notebooks into a Python package.

pub mod magics;
pub mod notebook;
pub mod position;
pub mod python;
