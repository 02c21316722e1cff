//! Entry points for the fuzz targets in `fuzz/`, built only with the `fuzzing` feature: the
//! stages they drive are internal to the crate.

use std::path::Path;

use crate::Notebook;
use crate::analysis::analyse;
use crate::decide::{Target, decide};

/// Reads `text` as the only code cell of a notebook, analyses it and decides about it;
/// returns how many definitions move, so that the work cannot be optimised away.
pub fn decide_cell(text: &str) -> usize {
    let Ok(notebook) = Notebook::parse(&code_notebook(&[text], false)) else {
        return 0;
    };
    let analysis = analyse(&notebook);
    let target = Target {
        module: "nb",
        dotted: Some("pkg.nb"),
        ..Target::default()
    };
    decide(&notebook, &analysis, target).moving.items.len()
}

/// The JSON of a Python notebook of code cells with these sources, each stored as a list of
/// lines when `lines`, else as one string.
pub fn code_notebook(sources: &[&str], lines: bool) -> String {
    let cells: Vec<serde_json::Value> = sources
        .iter()
        .map(|source| {
            let source = match lines {
                true => serde_json::Value::from(source.split_inclusive('\n').collect::<Vec<_>>()),
                false => serde_json::Value::from(*source),
            };
            serde_json::json!({
                "cell_type": "code",
                "execution_count": null,
                "metadata": {},
                "outputs": [],
                "source": source,
            })
        })
        .collect();
    let notebook = serde_json::json!({
        "cells": cells,
        "metadata": {"kernelspec": {"language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 4,
    });
    serde_json::to_string_pretty(&notebook).unwrap_or_default()
}

/// Runs `nbhoist extract NOTEBOOK --package pkg` in the folder of `notebook`, without
/// printing; returns whether it wrote nothing, or `None` when it failed.
pub fn extract_quietly(notebook: &Path) -> Option<bool> {
    let root = notebook.parent()?.to_owned();
    let request = crate::extract::ExtractRequest {
        in_root: vec![Some(notebook.strip_prefix(&root).ok()?.to_owned())],
        package_dir: root.join("pkg"),
        root,
        installable: false,
        notebooks: vec![notebook.to_owned()],
        package: "pkg".to_owned(),
        package_configured: true,
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
