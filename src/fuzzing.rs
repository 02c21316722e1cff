//! Entry points for the fuzz targets in `fuzz/`, built only with the `fuzzing` feature: the
//! stages they drive are internal to the crate.

use std::path::Path;

use crate::Notebook;
use crate::analysis::analyse;
use crate::decide::{Target, decide};

/// Reads `text` as the only code cell of a notebook, analyses it and decides about it;
/// returns how many definitions move, so that the work cannot be optimised away.
pub fn decide_cell(text: &str) -> usize {
    let json = serde_json::json!({
        "cells": [{
            "cell_type": "code",
            "execution_count": null,
            "metadata": {},
            "outputs": [],
            "source": text,
        }],
        "metadata": {"kernelspec": {"language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 4,
    });
    let Ok(notebook) = Notebook::parse(&json.to_string()) else {
        return 0;
    };
    let analysis = analyse(&notebook);
    let target = Target {
        module: "nb",
        dotted: Some("pkg.nb"),
    };
    decide(&notebook, &analysis, target).moving.items.len()
}

/// Runs `nbhoist extract NOTEBOOK --package pkg` in the folder of `notebook`, without
/// printing; returns whether it wrote nothing, or `None` when it failed.
pub fn extract_quietly(notebook: &Path) -> Option<bool> {
    let request = crate::extract::ExtractRequest {
        root: notebook.parent()?.to_owned(),
        notebooks: vec![notebook.to_owned()],
        package: "pkg".to_owned(),
        package_dir: None,
        autoreload: true,
        force: false,
        diffs: false,
        jobs: Some(1),
        progress: false,
    };
    let plan = crate::extract::run::<crate::change::Write>(&request).ok()?;
    if plan.has_errors() {
        return None;
    }
    let applied = crate::apply::apply(&plan.changes).ok()?;
    Some(applied.written.is_empty())
}
