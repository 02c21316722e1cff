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
