//! Notebooks keep changing: scripted sessions of edits and runs on one repository, checking
//! after each step the files, the exit codes and (with the Python test environment) that the
//! notebook still prints, displays and raises what it did before the step.

use std::path::Path;

use common::{
    code_notebook as notebook, configured_repository, python, run_nbhoist as nbhoist, run_notebook,
    tree, write_file as write,
};
use serde_json::{Value, json};

mod common;

/// A repository configured for package `teamlib`, with one notebook of independent helpers.
fn repository() -> tempfile::TempDir {
    let dir = configured_repository("teamlib");
    write(
        dir.path(),
        "analysis.ipynb",
        &notebook(&[
            "import json",
            "def clean(s):\n    return s.strip().lower()",
            "def dumps(x):\n    return json.dumps(x)",
            "print(dumps(clean('  Hello  World ')))",
        ]),
    );
    dir
}

/// Inserts code cells into the notebook at `at` (a negative `at` counts from the end).
fn insert_cells(root: &Path, at: isize, sources: &[&str]) {
    let path = root.join("analysis.ipynb");
    let mut json: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let cells = json["cells"].as_array_mut().unwrap();
    let at = if at < 0 {
        cells.len() - at.unsigned_abs()
    } else {
        at.unsigned_abs()
    };
    for (offset, source) in sources.iter().enumerate() {
        cells.insert(
            at + offset,
            json!({"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [], "source": source}),
        );
    }
    std::fs::write(&path, serde_json::to_string_pretty(&json).unwrap()).unwrap();
}

/// The index of the cell an earlier run wrote to import the module.
fn import_cell(root: &Path) -> isize {
    common::cell_sources(&root.join("analysis.ipynb"))
        .iter()
        .position(|source| source.contains("from teamlib.analysis import"))
        .expect("the notebook imports its module") as isize
}

/// Runs `extract` with `args`, expecting exit code `code`; with Python, checks that the
/// notebook behaves after the run as it did before. Returns the report.
fn step(root: &Path, args: &[&str], code: i32) -> String {
    let python = python("behaviour checks of the lifecycle test");
    let before = python
        .as_ref()
        .map(|python| run_notebook(python, &root.join("analysis.ipynb")));
    let mut all = vec!["extract"];
    all.extend(args);
    let (exit, stdout, stderr) = nbhoist(root, &all);
    assert_eq!(exit, Some(code), "{stdout}{stderr}");
    if let (Some(python), Some(before)) = (&python, before) {
        let after = run_notebook(python, &root.join("analysis.ipynb"));
        assert_eq!(after, before, "the notebook behaves differently:\n{stdout}");
    }
    stdout + &stderr
}

/// `extract --check`'s exit code.
fn check(root: &Path) -> Option<i32> {
    nbhoist(root, &["extract", "--check"]).0
}

fn module(root: &Path) -> String {
    std::fs::read_to_string(root.join("teamlib/analysis.py")).unwrap()
}

#[test]
fn new_helpers_and_new_versions_join_the_module() {
    let dir = repository();
    let root = dir.path();
    step(root, &[], 0);
    assert_eq!(check(root), Some(0));

    // A helper added after the first extraction fails the check until it is hoisted.
    insert_cells(
        root,
        -1,
        &[
            "def shout(s):\n    return s.upper() + '!'",
            "print(shout('hey'))",
        ],
    );
    assert_eq!(check(root), Some(1));
    let report = step(root, &[], 0);
    assert!(report.contains("move  shout"), "{report}");
    assert_eq!(check(root), Some(0));
    let text = module(root);
    assert!(
        text.find("def clean").unwrap() < text.find("def shout").unwrap(),
        "new code goes after what is there:\n{text}"
    );
    let sources = common::cell_sources(&root.join("analysis.ipynb"));
    assert!(
        sources.iter().all(|source| !source.contains("def shout")),
        "{sources:?}"
    );
    assert!(
        sources
            .iter()
            .any(|source| source.contains("from teamlib.analysis import clean, dumps, shout")),
        "{sources:?}"
    );

    // An improved version pasted below the import updates the module, where nbhoist wrote it.
    let at = import_cell(root) + 1;
    insert_cells(
        root,
        at,
        &["def clean(s):\n    return ' '.join(s.split()).lower()"],
    );
    let report = step(root, &[], 0);
    assert!(
        report.contains("`clean` in teamlib/analysis.py takes the new version"),
        "{report}"
    );
    assert!(module(root).contains("return ' '.join(s.split()).lower()"));
    assert_eq!(check(root), Some(0));

    // Edited by hand in the module, another version in the notebook is a conflict: nothing
    // changes, and the report shows both versions.
    let edited = module(root).replace("return s.upper() + '!'", "return s.upper() + '!!'");
    write(root, "teamlib/analysis.py", &edited);
    insert_cells(
        root,
        import_cell(root) + 1,
        &["def shout(s):\n    return s.upper() + '?'"],
    );
    let before = tree(root);
    let report = step(root, &[], 1);
    assert!(report.contains("conflict: `shout`"), "{report}");
    assert!(report.contains("-    return s.upper() + '!!'"), "{report}");
    assert!(report.contains("+    return s.upper() + '?'"), "{report}");
    assert_eq!(tree(root), before, "a conflict changes nothing");
    assert_eq!(check(root), Some(1));

    // `--force` takes the notebook's version and keeps the module as it was.
    let report = step(root, &["--force"], 0);
    assert!(report.contains("analysis.py.bak"), "{report}");
    assert_eq!(
        std::fs::read_to_string(root.join("teamlib/analysis.py.bak")).unwrap(),
        edited
    );
    assert!(module(root).contains("return s.upper() + '?'"));
    assert_eq!(check(root), Some(0));

    // A hoisted function deleted from the module by hand is reported, never written again.
    let text = module(root);
    let start = text.find("def dumps").unwrap();
    let end = start + text[start..].find("\n\n\n").unwrap() + 3;
    write(
        root,
        "teamlib/analysis.py",
        &format!("{}{}", &text[..start], &text[end..]),
    );
    let before = tree(root);
    let (code, stdout, _) = nbhoist(root, &["extract"]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains(
            "analysis.ipynb imports `dumps` (cell 1) from teamlib/analysis.py, which no longer defines it"
        ),
        "{stdout}"
    );
    assert_eq!(tree(root), before);

    // A run after a run changes nothing.
    write(root, "teamlib/analysis.py", &text);
    let before = tree(root);
    let (code, stdout, _) = nbhoist(root, &["extract"]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("Nothing to change."), "{stdout}");
    assert_eq!(tree(root), before);
}

#[test]
fn a_notebook_restored_from_a_copy_is_rewritten_and_the_package_is_unchanged() {
    let dir = repository();
    let root = dir.path();
    let original = std::fs::read(root.join("analysis.ipynb")).unwrap();
    step(root, &[], 0);
    let rewritten = std::fs::read(root.join("analysis.ipynb")).unwrap();
    let package = tree(&root.join("teamlib"));

    // An autosave, or `git checkout` of the notebook alone.
    std::fs::write(root.join("analysis.ipynb"), &original).unwrap();
    assert_eq!(check(root), Some(1));
    let report = step(root, &[], 0);
    assert!(!report.contains("already exists"), "{report}");
    assert_eq!(tree(&root.join("teamlib")), package);
    assert_eq!(
        std::fs::read(root.join("analysis.ipynb")).unwrap(),
        rewritten
    );
    assert_eq!(check(root), Some(0));
}

#[test]
fn notebooks_whose_names_give_one_module_get_two_on_every_run() {
    let dir = configured_repository("teamlib");
    let root = dir.path();
    write(
        root,
        "report_2024.ipynb",
        &notebook(&["def f():\n    return 1", "print(f())"]),
    );
    write(
        root,
        "Report-2024.ipynb",
        &notebook(&["def f():\n    return 2", "print(f())"]),
    );
    // One at a time, as a pre-commit hook may run, then both: the first keeps its module.
    let (code, stdout, stderr) = nbhoist(root, &["extract", "report_2024.ipynb"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let (code, stdout, stderr) = nbhoist(root, &["extract"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("Report-2024.ipynb → teamlib/report_2024_2.py"),
        "{stdout}"
    );
    let first = std::fs::read_to_string(root.join("teamlib/report_2024.py")).unwrap();
    assert!(first.contains("return 1"), "{first}");
    let second = std::fs::read_to_string(root.join("teamlib/report_2024_2.py")).unwrap();
    assert!(second.contains("return 2"), "{second}");
    assert_eq!(nbhoist(root, &["extract", "--check"]).0, Some(0));

    // From scratch, both at once: the order of their paths decides, whatever the threads do.
    let fresh = tempfile::tempdir().unwrap();
    for (path, text) in tree(root) {
        if !path.starts_with("teamlib") {
            let text = String::from_utf8(text).unwrap();
            write(fresh.path(), &path, &text);
        }
    }
    write(
        fresh.path(),
        "report_2024.ipynb",
        &notebook(&["def f():\n    return 1", "print(f())"]),
    );
    write(
        fresh.path(),
        "Report-2024.ipynb",
        &notebook(&["def f():\n    return 2", "print(f())"]),
    );
    let (code, stdout, stderr) = nbhoist(fresh.path(), &["extract", "--jobs", "2"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let first = std::fs::read_to_string(fresh.path().join("teamlib/report_2024.py")).unwrap();
    assert!(
        first.contains("return 2"),
        "`Report-2024` sorts first: {first}"
    );
}

/// A notebook that defines the shared helper `scaled` and the constant it reads, then uses
/// it.
fn copy_of_scaled(call: &str) -> String {
    notebook(&[
        "import math",
        "SCALE = 2",
        "def scaled(x):\n    return math.floor(x * SCALE)",
        &format!("print(scaled({call}))"),
    ])
}

/// Runs `extract` on the whole repository, expecting success; with Python, checks that
/// `notebook` behaves after the run as it did before. Returns the report.
fn extract_all(root: &Path, notebook: &str) -> String {
    let python = python("behaviour checks of the shared-module test");
    let before = python
        .as_ref()
        .map(|python| run_notebook(python, &root.join(notebook)));
    let (exit, stdout, stderr) = nbhoist(root, &["extract", "."]);
    assert_eq!(exit, Some(0), "{stdout}{stderr}");
    if let (Some(python), Some(before)) = (&python, before) {
        let after = run_notebook(python, &root.join(notebook));
        assert_eq!(after, before, "{notebook} behaves differently:\n{stdout}");
    }
    stdout
}

#[test]
fn copies_found_later_import_the_shared_module_and_hand_edits_are_never_overwritten() {
    let dir = configured_repository("teamlib");
    let root = dir.path();
    write(root, "a.ipynb", &copy_of_scaled("1.5"));
    write(root, "b.ipynb", &copy_of_scaled("2.5"));
    let report = extract_all(root, "a.ipynb");
    assert!(
        report.contains("`scaled` is written once, into teamlib/_shared.py"),
        "{report}"
    );
    let shared = std::fs::read_to_string(root.join("teamlib/_shared.py")).unwrap();

    // A notebook that gains a copy later imports it from the shared module, which stays.
    write(root, "c.ipynb", &copy_of_scaled("3.5"));
    let report = extract_all(root, "c.ipynb");
    assert!(
        report.contains("`scaled` is in teamlib/_shared.py since an earlier run; the copies of ./c.ipynb import it from there"),
        "{report}"
    );
    assert!(!root.join("teamlib/c.py").exists());
    assert!(
        common::cell_sources(&root.join("c.ipynb"))
            .iter()
            .any(|source| source.contains("from teamlib._shared import scaled"))
    );
    assert_eq!(
        std::fs::read_to_string(root.join("teamlib/_shared.py")).unwrap(),
        shared
    );

    // Changed by hand, the shared definition is no copy of a later one, and stays as it is.
    let edited = shared.replace("math.floor(x * SCALE)", "math.floor(x * SCALE) + 1");
    write(root, "teamlib/_shared.py", &edited);
    write(root, "d.ipynb", &copy_of_scaled("4.5"));
    let report = extract_all(root, "d.ipynb");
    assert!(
        report.contains("`scaled` in teamlib/_shared.py was changed by hand"),
        "{report}"
    );
    assert!(root.join("teamlib/d.py").exists());
    assert_eq!(
        std::fs::read_to_string(root.join("teamlib/_shared.py")).unwrap(),
        edited
    );
    let (exit, stdout, _) = nbhoist(root, &["extract", "."]);
    assert_eq!(exit, Some(0));
    assert!(stdout.contains("Nothing to change."), "{stdout}");
}
