//! Batch runs over a folder tree: what is walked and what is skipped, one package for many
//! notebooks, a broken notebook among good ones, and output that does not depend on threads.

use std::path::Path;

use common::{code_notebook as notebook, run_nbhoist, write_file as write};
use serde_json::{Value, json};

mod common;

/// A repository of notebooks: nested ones, an ignored folder, a checkpoint, a hidden folder,
/// a file that is not a notebook, and a broken notebook.
fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let helper = notebook(&[
        "import os",
        "def here():\n    return os.getcwd()",
        "print(here())",
    ]);
    write(root, "top.ipynb", &helper);
    write(
        root,
        "notebooks/eda/clean.ipynb",
        &notebook(&["def tidy(s):\n    return s.strip()"]),
    );
    write(
        root,
        "notebooks/01 - Model.ipynb",
        &notebook(&["class Model:\n    pass"]),
    );
    write(root, ".gitignore", "scratch/\n");
    write(root, "scratch/ignored.ipynb", &helper);
    write(root, ".ipynb_checkpoints/top-checkpoint.ipynb", &helper);
    write(
        root,
        "notebooks/.ipynb_checkpoints/clean-checkpoint.ipynb",
        &helper,
    );
    write(root, ".hidden/secret.ipynb", &helper);
    write(root, "notes.txt", "not a notebook");
    write(root, "notebooks/broken.ipynb", "{\"cells\": [");
    dir
}

fn nbhoist(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let (code, stdout, _) = run_nbhoist(dir, args);
    (code, stdout)
}

fn scanned_paths(json: &str) -> Vec<(String, String)> {
    let json: Value = serde_json::from_str(json).unwrap();
    json["notebooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["path"].as_str().unwrap().to_owned(),
                n["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn folders_are_walked_respecting_ignores_and_a_broken_notebook_does_not_stop_the_run() {
    let dir = tree();
    let (code, json) = nbhoist(dir.path(), &["scan", ".", "--format", "json"]);
    assert_eq!(
        code,
        Some(2),
        "the broken notebook makes the run fail at the end"
    );
    assert_eq!(
        scanned_paths(&json),
        [
            ("./notebooks/01 - Model.ipynb".to_owned(), "ok".to_owned()),
            ("./notebooks/broken.ipynb".to_owned(), "error".to_owned()),
            ("./notebooks/eda/clean.ipynb".to_owned(), "ok".to_owned()),
            ("./top.ipynb".to_owned(), "ok".to_owned()),
        ]
    );
}

#[test]
fn exclude_leaves_out_matching_paths() {
    let dir = tree();
    let (code, json) = nbhoist(
        dir.path(),
        &[
            "scan",
            "notebooks",
            "--format",
            "json",
            "--exclude",
            "eda",
            "--exclude",
            "broken.ipynb",
        ],
    );
    assert_eq!(code, Some(0));
    assert_eq!(
        scanned_paths(&json),
        [("notebooks/01 - Model.ipynb".to_owned(), "ok".to_owned())]
    );
}

#[test]
fn explicit_files_are_taken_even_when_ignored() {
    let dir = tree();
    let (code, json) = nbhoist(
        dir.path(),
        &["scan", "scratch/ignored.ipynb", "--format", "json"],
    );
    assert_eq!(code, Some(0));
    assert_eq!(scanned_paths(&json).len(), 1);
}

#[test]
fn one_package_for_many_notebooks_mirrors_their_folders() {
    let dir = tree();
    let (code, out, errors) = run_nbhoist(
        dir.path(),
        &["extract", ".", "--package", "mylib", "--no-autoreload"],
    );
    assert_eq!(code, Some(2), "{out}");
    // The failure goes to stderr, the report to stdout.
    assert!(
        errors.contains("notebooks/broken.ipynb: not valid JSON"),
        "{errors}"
    );
    assert!(!out.contains("not valid JSON"), "{out}");
    let root = dir.path();
    for module in [
        "mylib/__init__.py",
        "mylib/top.py",
        "mylib/notebooks/__init__.py",
        "mylib/notebooks/nb_01_model.py",
        "mylib/notebooks/eda/__init__.py",
        "mylib/notebooks/eda/clean.py",
    ] {
        assert!(root.join(module).is_file(), "{module} missing:\n{out}");
    }
    let clean: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("notebooks/eda/clean.ipynb")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        clean["cells"][0]["source"],
        json!("from mylib.notebooks.eda.clean import tidy")
    );
    let init = std::fs::read_to_string(root.join("mylib/__init__.py")).unwrap();
    assert!(
        init.contains("from .notebooks.eda.clean import tidy"),
        "{init}"
    );
    assert!(init.contains("from .top import here"), "{init}");
    assert!(
        out.contains("pip install -e ."),
        "the nested notebooks need the package installed:\n{out}"
    );
    assert!(!root.join("scratch/mylib").exists() && !root.join(".hidden/mylib").exists());
}

#[test]
fn output_does_not_depend_on_the_number_of_threads() {
    let dir = tree();
    let scan = |jobs: &str| {
        nbhoist(
            dir.path(),
            &["scan", ".", "--format", "json", "--jobs", jobs],
        )
    };
    assert_eq!(scan("1"), scan("4"));
    let diff = |jobs: &str| {
        nbhoist(
            dir.path(),
            &[
                "extract",
                ".",
                "--package",
                "mylib",
                "--diff",
                "--jobs",
                jobs,
            ],
        )
    };
    let (code, one) = diff("1");
    assert_eq!(code, Some(2));
    assert_eq!((code, one), diff("4"));
}
