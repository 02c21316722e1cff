//! Integration tests of `nbhoist extract`: what it refuses, what it never overwrites, where it
//! puts the import cell, and what it writes around the module.

use std::path::Path;

use common::{cell_sources, run_nbhoist};
use serde_json::{Value, json};

mod common;

/// A notebook with one code cell per source, nbformat 4.`minor`.
fn notebook(minor: u64, cells: &[&str]) -> String {
    let cells: Vec<Value> = cells
        .iter()
        .enumerate()
        .map(|(i, source)| {
            let mut cell = json!({
                "cell_type": "code",
                "execution_count": null,
                "metadata": {},
                "outputs": [],
                "source": source,
            });
            if minor >= 5 {
                cell["id"] = json!(format!("cell-{i}"));
            }
            cell
        })
        .collect();
    let notebook = json!({
        "cells": cells,
        "metadata": {"kernelspec": {"language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": minor,
    });
    serde_json::to_string_pretty(&notebook).unwrap() + "\n"
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn extract(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let args: Vec<&str> = ["extract"].iter().chain(args).copied().collect();
    run_nbhoist(dir, &args)
}

const SIMPLE: &[&str] = &["import os", "def sep():\n    return os.sep", "print(sep())"];

#[test]
fn a_module_nbhoist_did_not_write_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let original = notebook(5, SIMPLE);
    write(dir.path(), "nb.ipynb", &original);
    std::fs::create_dir(dir.path().join("pkg")).unwrap();
    write(dir.path(), "pkg/nb.py", "# my own code\n");

    let (code, stdout, stderr) = extract(dir.path(), &["nb.ipynb", "--package", "pkg"]);
    assert_eq!(code, Some(2));
    // Errors go to stderr, the report to stdout.
    assert!(stderr.contains("pkg/nb.py already exists"), "{stderr}");
    assert!(!stdout.contains("already exists"), "{stdout}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("nb.ipynb")).unwrap(),
        original
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("pkg/nb.py")).unwrap(),
        "# my own code\n"
    );

    // `--force` settles conflicts in a module nbhoist wrote; one it did not write stays
    // the person's.
    let (code, _, _) = extract(dir.path(), &["nb.ipynb", "--package", "pkg", "--force"]);
    assert_eq!(code, Some(2));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("pkg/nb.py")).unwrap(),
        "# my own code\n"
    );
}

#[test]
fn bad_package_names_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "nb.ipynb",
        &notebook(5, &["import helpers", "def f():\n    return 1"]),
    );
    write(
        dir.path(),
        "other.ipynb",
        &notebook(5, &["def g():\n    return 1"]),
    );
    // Wrong for the whole run: said once, not once per notebook.
    for (name, expected) in [
        ("my-lib", "not a valid Python package name"),
        ("class", "is a Python keyword"),
        ("json", "would shadow the standard-library module"),
        ("test", "would shadow the standard-library module"),
    ] {
        let (code, stdout, stderr) = extract(dir.path(), &[".", "--package", name]);
        assert_eq!(code, Some(2), "{name}");
        assert_eq!(stderr.matches(expected).count(), 1, "{name}: {stderr}");
        assert!(
            stderr.starts_with("nbhoist: --package: "),
            "{name}: {stderr}"
        );
        assert!(stdout.is_empty(), "{name}: {stdout}");
    }
    // Wrong for one notebook: said in its report.
    let (code, _, stderr) = extract(dir.path(), &["nb.ipynb", "--package", "helpers"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("the notebook imports a module named `helpers` that nbhoist did not write"),
        "{stderr}"
    );
    assert!(!dir.path().join("my-lib").exists());
}

#[test]
fn a_notebook_with_nothing_to_hoist_is_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let original = notebook(5, &["x = len('a')", "def f():\n    return x"]);
    write(dir.path(), "nb.ipynb", &original);
    let before = std::fs::metadata(dir.path().join("nb.ipynb"))
        .unwrap()
        .modified()
        .unwrap();

    let (code, stdout, _) = extract(dir.path(), &["nb.ipynb", "--package", "pkg"]);
    assert_eq!(code, Some(0));
    assert!(stdout.contains("nb.ipynb: nothing to hoist"), "{stdout}");
    assert!(
        stdout.contains("reads notebook variable `x` (cell 1)"),
        "{stdout}"
    );
    assert!(stdout.contains("Nothing to change.\n"), "{stdout}");
    assert!(!dir.path().join("pkg").exists());
    let after = std::fs::metadata(dir.path().join("nb.ipynb"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(before, after);
}

#[test]
fn the_import_cell_gets_an_id_only_from_nbformat_4_5() {
    for (minor, has_id) in [(4, false), (5, true)] {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "nb.ipynb", &notebook(minor, SIMPLE));
        let (code, _, _) = extract(dir.path(), &["nb.ipynb", "--package", "pkg"]);
        assert_eq!(code, Some(0));
        let json: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join("nb.ipynb")).unwrap())
                .unwrap();
        let inserted = &json["cells"][1];
        assert_eq!(inserted.get("id").is_some(), has_id, "nbformat 4.{minor}");
        if has_id {
            let mut ids: Vec<&str> = json["cells"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_str().unwrap())
                .collect();
            let count = ids.len();
            ids.sort();
            ids.dedup();
            assert_eq!(ids.len(), count, "cell ids are unique");
        }
    }
}

#[test]
fn autoreload_can_be_left_out() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "nb.ipynb", &notebook(5, SIMPLE));
    let (code, _, _) = extract(
        dir.path(),
        &["nb.ipynb", "--package", "pkg", "--no-autoreload"],
    );
    assert_eq!(code, Some(0));
    assert_eq!(
        cell_sources(&dir.path().join("nb.ipynb")),
        // `import os` is cut: only `sep`, which the module holds, used it.
        ["from pkg.nb import sep", "print(sep())"]
    );
}

#[test]
fn the_import_cell_never_comes_before_setup_the_imports_need() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "nb.ipynb",
        &notebook(
            5,
            &[
                "import os",
                "def early():\n    return os.sep",
                "!pip install ujson",
                "import ujson",
                "def late():\n    return ujson.dumps(1)",
            ],
        ),
    );
    let (code, stdout, _) = extract(
        dir.path(),
        &["nb.ipynb", "--package", "pkg", "--no-autoreload"],
    );
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout.contains("early  cell 2  comes before cell 3, which installs or sets up what the package's imports need"),
        "{stdout}"
    );
    assert_eq!(
        cell_sources(&dir.path().join("nb.ipynb")),
        [
            "import os",
            "def early():\n    return os.sep",
            "!pip install ujson",
            "from pkg.nb import late",
            "import ujson",
        ]
    );
}

#[test]
fn init_written_by_someone_else_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "nb.ipynb", &notebook(5, SIMPLE));
    std::fs::create_dir(dir.path().join("pkg")).unwrap();
    write(dir.path(), "pkg/__init__.py", "VERSION = '1.0'\n");
    let (code, _, _) = extract(dir.path(), &["nb.ipynb", "--package", "pkg"]);
    assert_eq!(code, Some(0));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("pkg/__init__.py")).unwrap(),
        "VERSION = '1.0'\n"
    );
    assert!(dir.path().join("pkg/nb.py").exists());
}

#[test]
fn init_reexports_every_module_but_not_names_two_modules_define() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "a.ipynb",
        &notebook(
            5,
            &[
                "def shared():\n    return 'a'",
                "def only_a():\n    return 1",
                "def _private():\n    return 0",
            ],
        ),
    );
    write(
        dir.path(),
        "b.ipynb",
        &notebook(5, &["def shared():\n    return 'b'"]),
    );
    let (code, _, _) = extract(dir.path(), &["a.ipynb", "--package", "pkg"]);
    assert_eq!(code, Some(0));
    let (code, stdout, _) = extract(dir.path(), &["b.ipynb", "--package", "pkg"]);
    assert_eq!(code, Some(0));
    assert!(
        stdout.contains("`shared` is defined in modules a and b"),
        "{stdout}"
    );
    let init = std::fs::read_to_string(dir.path().join("pkg/__init__.py")).unwrap();
    assert!(
        init.contains("if TYPE_CHECKING:\n    from .a import only_a\n\n__all__ = [\"only_a\"]\n"),
        "{init}"
    );
    assert!(
        init.contains("_SUBMODULES = {\n    \"only_a\": \"a\",\n}\n"),
        "{init}"
    );
    assert!(!init.contains("shared"), "{init}");
}

#[test]
fn a_package_elsewhere_comes_with_a_note_on_importing_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("notebooks")).unwrap();
    write(dir.path(), "notebooks/nb.ipynb", &notebook(5, SIMPLE));

    let (code, _, stderr) = extract(
        dir.path(),
        &[
            "notebooks/nb.ipynb",
            "--package",
            "pkg",
            "--package-dir",
            "src/lib",
        ],
    );
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("the package directory must be named `pkg`"),
        "{stderr}"
    );

    let (code, stdout, _) = extract(
        dir.path(),
        &[
            "notebooks/nb.ipynb",
            "--package",
            "pkg",
            "--package-dir",
            "src/pkg",
        ],
    );
    assert_eq!(code, Some(0));
    assert!(stdout.contains("pip install -e ."), "{stdout}");
    // The module's path is the notebook's, relative to the project's root.
    assert!(dir.path().join("src/pkg/notebooks/nb.py").exists());
}

#[test]
fn module_names_come_from_file_names() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "01 - Data Cleaning.ipynb", &notebook(5, SIMPLE));
    let (code, _, _) = extract(
        dir.path(),
        &["01 - Data Cleaning.ipynb", "--package", "pkg"],
    );
    assert_eq!(code, Some(0));
    assert!(dir.path().join("pkg/nb_01_data_cleaning.py").exists());
}

#[test]
fn a_second_run_changes_nothing_even_when_placement_kept_definitions() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "nb.ipynb",
        &notebook(
            5,
            &[
                "def early():\n    return 1",
                "early()",
                "%pip install ujson",
                "import ujson\n\ndef late():\n    return ujson.dumps(1)",
            ],
        ),
    );
    let (code, stdout, _) = extract(dir.path(), &["nb.ipynb", "--package", "pkg"]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("stay  early"), "{stdout}");
    let module = std::fs::read_to_string(dir.path().join("pkg/nb.py")).unwrap();
    for args in [
        vec!["nb.ipynb", "--package", "pkg"],
        vec!["nb.ipynb", "--package", "pkg", "--force"],
    ] {
        let (code, stdout, _) = extract(dir.path(), &args);
        assert_eq!(code, Some(0), "{stdout}");
        assert!(stdout.contains("nb.ipynb: nothing to hoist"), "{stdout}");
        assert!(
            stdout.contains("comes before cell 4, which imports the notebook's module"),
            "{stdout}"
        );
        assert!(stdout.contains("Nothing to change."), "{stdout}");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("pkg/nb.py")).unwrap(),
            module
        );
    }
}

#[test]
fn the_import_cell_imports_only_what_the_notebook_still_mentions() {
    let imported = |last: &str| {
        let dir = tempfile::tempdir().unwrap();
        let cells = [
            "LIMIT = 3",
            "def helper(x):\n    return x + LIMIT",
            "def main(x):\n    return helper(x) * 2",
            last,
        ];
        write(dir.path(), "nb.ipynb", &notebook(5, &cells));
        let (code, out, _) = extract(
            dir.path(),
            &["nb.ipynb", "--package", "pkg", "--no-autoreload"],
        );
        assert_eq!(code, Some(0), "{out}");
        cell_sources(&dir.path().join("nb.ipynb"))[0].clone()
    };
    // `helper` and `LIMIT` are used only by `main`, which imports them itself.
    assert_eq!(imported("print(main(1))"), "from pkg.nb import main");
    // A mention nbhoist cannot parse still counts.
    assert_eq!(
        imported("%time main(helper(1))"),
        "from pkg.nb import helper, main"
    );
    // A notebook that reaches its names without writing them, or mentions none, gets all.
    for last in ["%who", "print(globals()['main'](1))", "print(1)"] {
        assert_eq!(
            imported(last),
            "from pkg.nb import LIMIT, helper, main",
            "{last}"
        );
    }
}

#[test]
fn imports_only_moved_code_used_are_cut_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let cells = [
        "import json\nimport matplotlib\nimport math\nfrom collections import Counter, OrderedDict\nimport csv, os",
        "def f(x):\n    return json.dumps(x) + str(math.pi) + str(OrderedDict(Counter())) + csv.excel.delimiter",
        "import matplotlib.pyplot",
        "print(f(1), math.e, os.sep)  # not json",
    ];
    write(dir.path(), "nb.ipynb", &notebook(5, &cells));
    let unused = "nothing left in the notebook uses it; the module imports it";
    let dropped = json!([
        {"cell": 1, "import": "import json", "names": ["json"], "reason": unused,
         "code": "unused-import"},
        {"cell": 1, "import": "from collections import Counter, OrderedDict",
         "names": ["Counter", "OrderedDict"], "reason": unused, "code": "unused-import"},
        {"cell": 1, "import": "import csv, os", "names": ["csv"],
         "reason": "nothing left in the notebook uses `csv`; the module imports it",
         "code": "unused-names"},
    ]);
    // `scan` reports the same drops as `extract`.
    let (_, scan, _) = run_nbhoist(dir.path(), &["scan", "nb.ipynb", "--format", "json"]);
    let json: Value = serde_json::from_str(&scan).unwrap();
    assert_eq!(json["notebooks"][0]["dropped_imports"], dropped);
    let args = ["nb.ipynb", "--package", "pkg", "--no-autoreload"];
    let (_, json, _) = extract(
        dir.path(),
        &[&args[..], &["--diff", "--format", "json"]].concat(),
    );
    let json: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["notebooks"][0]["dropped_imports"], dropped);
    let (code, out, _) = extract(dir.path(), &args);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains(&format!("  drop  import json  cell 1  {unused}")),
        "{out}"
    );
    // `math` and `os` are still used, and `matplotlib` sets things up where it is imported.
    assert_eq!(
        cell_sources(&dir.path().join("nb.ipynb")),
        [
            "import matplotlib\nimport math\nimport os",
            "from pkg.nb import f",
            "import matplotlib.pyplot",
            "print(f(1), math.e, os.sep)  # not json"
        ]
    );

    // A notebook that reads its numbered history keeps its cells, and so its imports.
    let cells = [
        "import json",
        "def g():\n    return json.dumps(1)",
        "print(len(In), g())",
    ];
    write(dir.path(), "history.ipynb", &notebook(5, &cells));
    let (code, out, _) = extract(dir.path(), &["history.ipynb", "--package", "pkg"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.contains("drop"), "{out}");
    assert_eq!(
        cell_sources(&dir.path().join("history.ipynb"))[0],
        "import json"
    );
}
