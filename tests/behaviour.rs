//! Proof that extraction preserves behaviour: each fixture notebook runs top to bottom in a
//! real IPython shell before and after `nbhoist extract`, and what it prints, displays and
//! raises must be the same, in order. The emitted modules must compile and be clean under
//! pyflakes, and a second run must change nothing.
//!
//! Needs the Python test environment: run the suite with `scripts/test`, which creates it and
//! sets `NBHOIST_PYTHON`. Without it these tests fail; they never skip.

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;
use common::{cell_sources, cells};
use serde_json::Value;

mod common;

const PACKAGE: &str = "hoisted";

fn python() -> PathBuf {
    match std::env::var_os("NBHOIST_PYTHON") {
        Some(python) => PathBuf::from(python),
        None => panic!(
            "NBHOIST_PYTHON is not set: run the tests with `scripts/test`, which sets up the \
             Python environment (IPython, pyflakes, nbformat) they need"
        ),
    }
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs a notebook in IPython; returns its events with their 1-based cell numbers.
fn run_notebook(notebook: &Path) -> Vec<(usize, String, Value)> {
    let output = Command::new(python())
        .arg(repo().join("tests/python/run_notebook.py"))
        .arg(notebook)
        .output()
        .expect("the Python test environment runs");
    assert!(
        output.status.success(),
        "running {} failed: {}",
        notebook.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let events: Vec<Value> =
        serde_json::from_slice(&output.stdout).expect("the runner prints JSON");
    events
        .into_iter()
        .map(|event| {
            (
                event["cell"].as_u64().unwrap_or_default() as usize,
                event["kind"].as_str().unwrap_or_default().to_owned(),
                event["text"].clone(),
            )
        })
        .collect()
}

/// Events without cell numbers (which change when cells are removed or inserted), leaving out
/// what the given cells printed.
fn comparable(events: Vec<(usize, String, Value)>, left_out: &[usize]) -> Vec<(String, Value)> {
    events
        .into_iter()
        .filter(|(cell, _, _)| !left_out.contains(cell))
        .map(|(_, kind, text)| (kind, text))
        .collect()
}

fn nbhoist(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::cargo_bin("nbhoist")
        .unwrap()
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

/// Every file under `dir`, relative path → content, sorted.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(next) = stack.pop() {
        for entry in std::fs::read_dir(&next).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if path.file_name().unwrap() != "__pycache__" {
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

/// The sources of a notebook's cells, for snapshots.
fn listing(notebook: &Path) -> String {
    cell_sources(notebook)
        .into_iter()
        .enumerate()
        .map(|(i, source)| format!("── cell {} ──\n{source}\n", i + 1))
        .collect()
}

fn check_fixture(name: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = format!("{name}.ipynb");
    let notebook = dir.path().join(&file);
    std::fs::copy(
        repo().join("tests/fixtures/behaviour").join(&file),
        &notebook,
    )
    .unwrap();

    // The original runs in a copy of its own, so that files it writes do not leak into the
    // second run.
    let original_dir = tempfile::tempdir().unwrap();
    std::fs::copy(&notebook, original_dir.path().join(&file)).unwrap();
    let before = run_notebook(&original_dir.path().join(&file));

    let output = nbhoist(dir.path(), &["extract", &file, "--package", PACKAGE]);
    let report = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_eq!(
        output.status.code(),
        Some(0),
        "extract failed:\n{report}{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let package = dir.path().join(PACKAGE);
    let mut modules = String::new();
    if package.exists() {
        for (path, content) in tree(&package) {
            modules.push_str(&format!(
                "── {path} ──\n{}",
                String::from_utf8(content).unwrap()
            ));
        }
        check_modules(&package);
    }
    insta::assert_snapshot!(
        format!("{name}"),
        format!("{report}\n{modules}\n{}", listing(&notebook))
    );

    // A `%%writefile` cell that became a module no longer runs, so its "Writing x.py" is gone;
    // that message is the only output such a cell has.
    let remaining: Vec<Option<String>> = cells(&notebook).into_iter().map(|(_, id)| id).collect();
    let removed_writefiles: Vec<usize> = cells(&original_dir.path().join(&file))
        .into_iter()
        .enumerate()
        .filter(|(_, (source, id))| {
            source.trim_start().starts_with("%%writefile") && !remaining.contains(id)
        })
        .map(|(i, _)| i + 1)
        .collect();
    let before = comparable(before, &removed_writefiles);
    let after = comparable(run_notebook(&notebook), &[]);
    assert_eq!(
        before, after,
        "{name}: the rewritten notebook does not behave like the original"
    );

    let files = tree(dir.path());
    let output = nbhoist(dir.path(), &["extract", &file, "--package", PACKAGE]);
    assert_eq!(output.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("Nothing to change."),
        "a second run should change nothing"
    );
    assert_eq!(files, tree(dir.path()), "a second run changed files");
}

/// Every emitted module compiles, and pyflakes finds no undefined name and no unused import.
fn check_modules(package: &Path) {
    let output = Command::new(python())
        .args(["-m", "compileall", "-q"])
        .arg(package)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "emitted modules do not compile: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    let output = Command::new(python())
        .args(["-m", "pyflakes"])
        .arg(package)
        .output()
        .unwrap();
    let messages = String::from_utf8_lossy(&output.stdout);
    let bad: Vec<&str> = messages
        .lines()
        .filter(|line| line.contains("undefined name '") || line.contains("imported but unused"))
        .collect();
    assert!(bad.is_empty(), "pyflakes: {}", bad.join("\n"));
}

macro_rules! behaviour {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                check_fixture(stringify!($name));
            }
        )*
    };
}

behaviour!(
    scattered_imports,
    helpers_chain,
    inheritance,
    decorators,
    default_args,
    notebook_state,
    redefined,
    global_state,
    syntax_error,
    magics,
    display_values,
    modern_syntax,
    writefile_modules,
    writefile_subfolder,
    regressions,
    regressions_order,
    regressions_star,
    regressions_future,
);
