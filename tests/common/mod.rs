//! Helpers shared by the integration tests.

// Each test crate uses only some of these.
#![allow(dead_code)]

use std::path::Path;

use serde_json::{Value, json};

/// Runs nbhoist in `dir` with `args`: its exit code, stdout and stderr.
pub fn run_nbhoist(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let output = assert_cmd::Command::cargo_bin("nbhoist")
        .unwrap()
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

/// The Python of the test environment, or `None` (with a note that `what` is skipped) when
/// it is not set up.
pub fn python(what: &str) -> Option<std::path::PathBuf> {
    let python = std::env::var_os("NBHOIST_PYTHON").map(std::path::PathBuf::from);
    if python.is_none() {
        // Not captured by the test harness, so that a plain `cargo test` says it.
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "note: {what} skipped: NBHOIST_PYTHON is not set; `scripts/test` sets it"
        );
    }
    python
}

/// Runs a notebook in IPython from its own folder with `python`: its events (kind and text,
/// without cell numbers, which change when cells are added or removed).
pub fn run_notebook(python: &Path, notebook: &Path) -> Vec<(String, Value)> {
    let runner = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/run_notebook.py");
    let output = std::process::Command::new(python)
        .arg(runner)
        .arg(notebook)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "running {}: {}",
        notebook.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let events: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    events
        .into_iter()
        .map(|event| {
            (
                event["kind"].as_str().unwrap().to_owned(),
                event["text"].clone(),
            )
        })
        .collect()
}

/// A Python notebook (nbformat 4.4) with one code cell per source.
pub fn code_notebook(cells: &[&str]) -> String {
    let cells: Vec<Value> = cells
        .iter()
        .map(|source| {
            json!({"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [], "source": source})
        })
        .collect();
    serde_json::to_string_pretty(&json!({
        "cells": cells,
        "metadata": {"kernelspec": {"language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 4,
    }))
    .unwrap()
}

/// A repository (a `.git` folder) whose `pyproject.toml` names the package `package`.
pub fn configured_repository(package: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    write_file(
        dir.path(),
        "pyproject.toml",
        &format!("[tool.nbhoist]\npackage = \"{package}\"\n"),
    );
    dir
}

/// Writes `text` to `root/path`, creating its folders.
pub fn write_file(root: &Path, path: &str, text: &str) {
    let path = root.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Every file under `dir` (outside `__pycache__` and `.git`), relative path → content,
/// sorted.
pub fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(next) = stack.pop() {
        for entry in std::fs::read_dir(&next).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if path.file_name().unwrap() != "__pycache__" && path.file_name().unwrap() != ".git"
                {
                    stack.push(path);
                }
            } else {
                let relative = path.strip_prefix(dir).unwrap().display().to_string();
                files.push((relative, std::fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

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
