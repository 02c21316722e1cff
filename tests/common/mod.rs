//! Helpers shared by the integration tests.

// Each test crate uses only some of these.
#![allow(dead_code)]

use std::path::Path;

use serde_json::Value;

/// The source and id of every cell of a notebook on disk, sources joined.
pub fn cells(notebook: &Path) -> Vec<(String, Option<String>)> {
    let text = std::fs::read_to_string(notebook).expect("the notebook is readable");
    let json: Value = serde_json::from_str(&text).expect("the notebook is JSON");
    json["cells"]
        .as_array()
        .expect("the notebook has cells")
        .iter()
        .map(|cell| {
            let source = match &cell["source"] {
                Value::Array(lines) => lines.iter().filter_map(Value::as_str).collect(),
                Value::String(text) => text.clone(),
                _ => String::new(),
            };
            (source, cell["id"].as_str().map(str::to_owned))
        })
        .collect()
}

/// The source of every cell of a notebook on disk.
pub fn cell_sources(notebook: &Path) -> Vec<String> {
    cells(notebook)
        .into_iter()
        .map(|(source, _)| source)
        .collect()
}

/// Notebooks drawn from a small grammar of what nbhoist decides about: imports, constants,
/// definitions that use each other, redefinitions, classes, magics, calls and prints.
pub fn python_notebook() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    let cell =
        (0usize..12, 0usize..4, 0usize..4, 0i32..100).prop_map(|(kind, k, j, c)| match kind {
            0 => "import os\nimport math as m".to_owned(),
            1 => format!("def f{k}(x):\n    return x + {c}"),
            2 => format!("def g{k}(x):\n    return f{j}(x) * 2"),
            3 => format!("CONST{k} = {c}"),
            4 => format!("def h{k}():\n    return CONST{j} + m.pi"),
            5 => format!("print(f{j}(1))"),
            6 => "%matplotlib inline".to_owned(),
            7 => format!("%%time\nprint({c})"),
            8 => format!("class C{k}:\n    def m(self):\n        return {c}"),
            9 => format!("def f{k}(x):\n    return -x\nvalue = f{k}({c})"),
            10 => format!("CONST{k} += 1\nprint(g{j}(CONST{k}))"),
            _ => format!("def p{k}(path):\n    return os.path.join(path, '{c}')"),
        });
    (proptest::collection::vec(cell, 1..8), any::<bool>()).prop_map(|(sources, lines)| {
        let cells: Vec<Value> = sources
            .iter()
            .enumerate()
            .map(|(i, source)| {
                let source = if lines {
                    Value::from(source.split_inclusive('\n').collect::<Vec<_>>())
                } else {
                    Value::from(source.as_str())
                };
                serde_json::json!({
                    "cell_type": "code",
                    "execution_count": null,
                    "id": format!("cell-{i}"),
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
            "nbformat_minor": 5,
        });
        serde_json::to_string_pretty(&notebook).unwrap() + "\n"
    })
}
