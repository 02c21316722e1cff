//! A repository as a team keeps it: the configuration file, the project's root, module paths
//! that do not depend on the paths given, and which notebooks a run takes.

use std::path::Path;

use common::{
    code_notebook as notebook, configured_repository, python, run_nbhoist as nbhoist, run_notebook,
    tree, write_file as write,
};
use serde_json::Value;

mod common;

/// A repository as a team keeps it: configured in pyproject.toml, notebooks in two folders,
/// one importing a package that is not installed, and one that `.gitignore` hides.
fn repository() -> tempfile::TempDir {
    let dir = configured_repository("teamlib");
    let root = dir.path();
    write(root, ".gitignore", "scratch/\n*.egg-info/\n");
    write(
        root,
        "notebooks/eda/clean.ipynb",
        &notebook(&[
            "import json",
            "def tidy(s):\n    return json.dumps(s.strip())",
            "print(tidy('  a  '))",
        ]),
    );
    write(
        root,
        "notebooks/model/fit.ipynb",
        &notebook(&[
            "import surely_not_installed_pkg",
            "def predict(x):\n    return surely_not_installed_pkg.predict(x)",
            "def fit(x):\n    return x * 2",
            "print(fit(21))",
            "predict(1)",
        ]),
    );
    write(
        root,
        "scratch/draft.ipynb",
        &notebook(&["def draft():\n    return 0"]),
    );
    dir
}

#[test]
fn the_same_notebook_given_twice_is_taken_once() {
    let dir = repository();
    let root = dir.path();
    #[cfg(unix)]
    std::os::unix::fs::symlink(
        root.join("notebooks/eda/clean.ipynb"),
        root.join("notebooks/link.ipynb"),
    )
    .unwrap();
    let (code, json, _) = nbhoist(
        root,
        &[
            "scan",
            "notebooks/eda/clean.ipynb",
            "./notebooks/eda/clean.ipynb",
            "notebooks/link.ipynb",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, Some(0));
    let json: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["notebooks"].as_array().unwrap().len(), 1, "{json}");
}

#[test]
fn a_notebook_outside_the_root_is_an_error_that_says_so() {
    let dir = repository();
    let outside = tempfile::tempdir().unwrap();
    write(
        outside.path(),
        "far.ipynb",
        &notebook(&["def f():\n    return 1"]),
    );
    let far = outside.path().join("far.ipynb");
    let (code, _, out) = nbhoist(dir.path(), &["extract", far.to_str().unwrap()]);
    let said = out.contains("the notebook is outside the project's root");
    assert_eq!((code, said), (Some(2), true), "{out}");
    assert!(!outside.path().join("teamlib").exists() && !dir.path().join("teamlib").exists());
}

#[test]
fn unknown_keys_are_errors_naming_the_key_and_the_file() {
    let dir = repository();
    write(
        dir.path(),
        "pyproject.toml",
        "[tool.nbhoist]\npackage = \"teamlib\"\npakage-dir = \"src\"\n",
    );
    let (code, out, err) = nbhoist(&dir.path().join("notebooks"), &["extract"]);
    assert_eq!(code, Some(2), "{out}");
    assert!(err.contains("pyproject.toml"), "{err}");
    assert!(err.contains("unknown field `pakage-dir`"), "{err}");
}

#[test]
fn config_and_isolated_choose_the_configuration() {
    let dir = repository();
    let root = dir.path();
    write(
        root,
        "pyproject.toml",
        "[project]\nname = \"team-project\"\n\n[tool.nbhoist]\n",
    );
    write(root, "other/nbhoist.toml", "package = \"otherlib\"\n");
    // `--isolated` ignores pyproject.toml, also its project name.
    let (code, _, err) = nbhoist(root, &["extract", "--isolated", "--check"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("no package name: pass --package NAME"),
        "{err}"
    );
    // `--config` names the file, and its folder is the root.
    let (code, out, err) = nbhoist(
        root,
        &[
            "extract",
            "--config",
            "other/nbhoist.toml",
            "--diff",
            "other",
        ],
    );
    assert_eq!(
        code,
        Some(0),
        "only a check fails without notebooks: {out}{err}"
    );
    assert!(err.contains("no notebooks found in other"), "{err}");
    let (code, out, _) = nbhoist(
        root,
        &[
            "extract",
            "--config",
            "other/nbhoist.toml",
            "--diff",
            "notebooks",
        ],
    );
    assert_eq!(code, Some(2), "notebooks are outside other/: {out}");
}

#[test]
fn the_project_name_gives_the_package_when_nothing_else_does() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir(root.join(".git")).unwrap();
    write(root, "nb.ipynb", &notebook(&["def f():\n    return 1"]));
    // No `[tool.nbhoist]` and no usable name: no configuration at all.
    write(root, "pyproject.toml", "[build-system]\nrequires = []\n");
    let (code, _, err) = nbhoist(root, &["extract", "--diff"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("no package name"), "{err}");
    write(
        root,
        "pyproject.toml",
        "[project]\nname = \"My-Team.Lib\"\n",
    );
    let (code, out, err) = nbhoist(root, &["extract", "--diff"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("my_team_lib/nb.py"), "{out}");
}

#[test]
fn include_exclude_and_no_ignore_choose_the_notebooks() {
    let dir = repository();
    let root = dir.path();
    write(
        root,
        "pyproject.toml",
        "[tool.nbhoist]\npackage = \"teamlib\"\nexclude = [\"notebooks/model\"]\n",
    );
    let scanned = |args: &[&str]| {
        let mut all = vec!["scan", "--format", "json"];
        all.extend(args);
        let (_, json, _) = nbhoist(root, &all);
        let json: Value = serde_json::from_str(&json).unwrap();
        json["notebooks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["path"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(scanned(&[]), ["./notebooks/eda/clean.ipynb"]);
    assert_eq!(
        scanned(&["--no-ignore"]),
        ["./notebooks/eda/clean.ipynb", "./scratch/draft.ipynb"]
    );
    // `--exclude` replaces the configuration's.
    assert_eq!(
        scanned(&["--exclude", "eda"]),
        ["./notebooks/model/fit.ipynb"]
    );
    write(
        root,
        "pyproject.toml",
        "[tool.nbhoist]\npackage = \"teamlib\"\ninclude = [\"notebooks/model/**\"]\n",
    );
    assert_eq!(scanned(&[]), ["./notebooks/model/fit.ipynb"]);
}

#[test]
fn a_check_that_finds_no_notebook_fails() {
    let dir = repository();
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    let (code, out, err) = nbhoist(dir.path(), &["extract", "--check", "empty"]);
    assert_eq!(code, Some(2), "{out}");
    assert!(err.contains("no notebooks found in empty"), "{err}");
}

#[test]
fn an_import_of_a_package_nbhoist_wrote_is_not_a_module_named_like_it() {
    let dir = tempfile::tempdir().unwrap();
    let nbs = dir.path().join("nbs");
    write(
        &nbs,
        "a.ipynb",
        &notebook(&["def f():\n    return 1", "print(f())"]),
    );
    // Extracted alone, from its own folder: the package goes next to it.
    let (code, out, err) = nbhoist(&nbs, &["extract", "a.ipynb", "-p", "mylib"]);
    assert_eq!(code, Some(0), "{out}{err}");
    write(&nbs, "a.ipynb", &{
        let mut cells = common::cell_sources(&nbs.join("a.ipynb"));
        cells.push("def g():\n    return 2".to_owned());
        let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
        notebook(&cells)
    });
    // Later, from the folder above, into a package there: the notebook's import of the first
    // package is nbhoist's own, not another module named `mylib`: its `__init__.py` says so,
    let (code, out, _) = nbhoist(dir.path(), &["extract", "nbs", "-p", "mylib", "--diff"]);
    assert!(!out.contains("imports a module named"), "{out}");
    assert_eq!(code, Some(0), "{out}");
    // and so do its modules, even when someone rewrote its `__init__.py`.
    write(&nbs, "mylib/__init__.py", "# mine\n");
    let (code, out, _) = nbhoist(dir.path(), &["extract", "nbs", "-p", "mylib"]);
    assert!(!out.contains("imports a module named"), "{out}");
    assert_eq!(code, Some(0), "{out}");
    // A package nbhoist did not write is still refused.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "other/mylib/__init__.py", "# mine\n");
    write(
        dir.path(),
        "other/b.ipynb",
        &notebook(&["import mylib", "def h():\n    return 3"]),
    );
    let (code, _, out) = nbhoist(dir.path(), &["extract", "other", "-p", "mylib"]);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("imports a module named `mylib` that nbhoist did not write"),
        "{out}"
    );
}

/// Runs `code` with `python` in `dir`: its exit code and what it printed (stdout, stderr).
fn run_python(python: &Path, dir: &Path, code: &str) -> (Option<i32>, String) {
    let output = std::process::Command::new(python)
        .args(["-c", code])
        .current_dir(dir)
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr),
    )
}

#[test]
fn importing_one_module_of_the_package_imports_no_other() {
    let Some(python) = python("Python tests of the package") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "a.ipynb",
        &notebook(&["import json", "def norm(x):\n    return json.dumps(x)"]),
    );
    write(root, "b.ipynb", &notebook(&["def boom():\n    return 1"]));
    let (code, out, err) = nbhoist(root, &["extract", "-p", "mylib"]);
    assert_eq!(code, Some(0), "{out}{err}");
    // A module whose import fails, as one whose dependency is not installed does.
    write(
        root,
        "mylib/b.py",
        "raise ImportError('mylib.b was imported')\n",
    );
    let (code, out) = run_python(
        &python,
        root,
        "import sys\n\
         from mylib.a import norm\n\
         import mylib\n\
         assert 'mylib.b' not in sys.modules, sorted(sys.modules)\n\
         print(norm([1]), mylib.norm is norm, sorted(mylib.__all__), 'norm' in dir(mylib))\n\
         try:\n    mylib.boom\nexcept ImportError as error:\n    print(error)\n\
         try:\n    mylib.nothing\nexcept AttributeError as error:\n    print(error)\n",
    );
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(
        out,
        "[1] True ['boom', 'norm'] True\nmylib.b was imported\n\
         module 'mylib' has no attribute 'nothing'\n"
    );
}

#[test]
fn a_team_repository_end_to_end() {
    // Without Python: the layout does not depend on where extract runs or what it is given.
    let full = repository();
    let (code, out, err) = nbhoist(full.path(), &["extract"]);
    assert_eq!(code, Some(0), "{out}{err}");
    // A pre-commit hook passes only the changed files, from wherever it runs.
    let by_path = repository();
    let eda = by_path.path().join("notebooks/eda");
    let (code, out, err) = nbhoist(&eda, &["extract", "clean.ipynb"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains("../../teamlib/notebooks/eda/clean.py"),
        "{out}"
    );
    let spelled = "./notebooks/model/../model/fit.ipynb";
    let (code, out, err) = nbhoist(by_path.path(), &["extract", spelled]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(tree(full.path()), tree(by_path.path()));
    assert!(!full.path().join("teamlib/scratch").exists());
    // Run again from a sub-folder with one path: nothing changes.
    let before = tree(full.path());
    let (code, out, _) = nbhoist(
        &full.path().join("notebooks/model"),
        &["extract", "fit.ipynb"],
    );
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("Nothing to change."), "{out}");
    assert_eq!(tree(full.path()), before);

    // `init` makes the project installable, keeping the configuration.
    let (code, out, err) = nbhoist(full.path(), &["init"]);
    assert_eq!(code, Some(0), "{out}{err}");
    let pyproject = std::fs::read_to_string(full.path().join("pyproject.toml")).unwrap();
    assert_eq!(
        pyproject.matches("[tool.nbhoist]").count(),
        1,
        "{pyproject}"
    );
    assert!(pyproject.contains("build-backend"), "{pyproject}");

    let Some(python) = python("Python tests of the package") else {
        return;
    };
    // A virtual environment of its own, which sees the test environment's IPython.
    let venv = tempfile::tempdir().unwrap();
    let status = std::process::Command::new(&python)
        .args(["-m", "venv", "--without-pip"])
        .arg(venv.path())
        .status()
        .unwrap();
    assert!(status.success());
    let venv_python = venv.path().join("bin/python");
    let (_, site) = run_python(
        &python,
        full.path(),
        "import sysconfig; print(sysconfig.get_paths()['purelib'], end='')",
    );
    let (_, venv_site) = run_python(
        &venv_python,
        full.path(),
        "import sysconfig; print(sysconfig.get_paths()['purelib'], end='')",
    );
    write(Path::new(&venv_site), "test_env.pth", &format!("{site}\n"));
    let output = std::process::Command::new(&python)
        .args(["-m", "pip", "--python"])
        .arg(&venv_python)
        .args([
            "install",
            "--quiet",
            "--no-build-isolation",
            "--no-deps",
            "--no-index",
            "-e",
            ".",
        ])
        .current_dir(full.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "pip install -e .: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );

    // Every notebook, run from its own folder, behaves as its original did: the one whose
    // import is missing fails where it failed, and affects no other.
    let event = |kind: &str, text: &str| (kind.to_owned(), Value::from(text));
    for (notebook, expected) in [
        (
            "notebooks/eda/clean.ipynb",
            vec![event("stdout", "\"a\"\n")],
        ),
        (
            "notebooks/model/fit.ipynb",
            vec![
                event("error", "ModuleNotFoundError"),
                event("stdout", "42\n"),
                event("error", "NameError"),
            ],
        ),
    ] {
        let original = run_notebook(&python, &repository().path().join(notebook));
        assert_eq!(original, expected, "{notebook}");
        let rewritten = run_notebook(&venv_python, &full.path().join(notebook));
        assert_eq!(rewritten, original, "{notebook}");
    }
}

#[test]
fn notebooks_away_from_the_package_are_told_once_how_to_import_it() {
    let dir = repository();
    let root = dir.path().canonicalize().unwrap();
    write(
        &root,
        "pyproject.toml",
        "[tool.nbhoist]\npackage = \"teamlib\"\n",
    );
    let (code, out, _) = nbhoist(&root, &["extract", "--diff"]);
    assert_eq!(code, Some(0), "{out}");
    let expected = format!(
        "note: a notebook in another folder than the current folder cannot import `teamlib` \
         from its own folder until the project is installed: run `nbhoist init`, then \
         `pip install -e .` in the environment of the notebooks' kernel (or add {} to \
         `sys.path`)\n",
        root.display()
    );
    assert_eq!(out.matches(&expected).count(), 1, "{out}");
    let (_, out, _) = nbhoist(&root.join("notebooks/eda"), &["extract", "--diff"]);
    assert!(
        out.contains("run `nbhoist init` in ../.., then `pip install -e ../..`"),
        "{out}"
    );
    // A project that can be installed is taken to be installed.
    write(
        &root,
        "pyproject.toml",
        "[project]\nname = \"teamlib\"\n\n[tool.nbhoist]\n",
    );
    let (_, out, _) = nbhoist(&root, &["extract", "--diff"]);
    assert!(!out.contains("note: a notebook"), "{out}");
}

#[test]
fn init_adds_only_what_the_project_file_lacks() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("Team-Lib");
    std::fs::create_dir(&root).unwrap();
    let (code, out, err) = nbhoist(&root, &["init"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("package `team_lib`"), "{out}");
    let written = std::fs::read_to_string(root.join("pyproject.toml")).unwrap();
    assert!(
        written.contains("[tool.nbhoist]\npackage = \"team_lib\"\n"),
        "{written}"
    );
    assert!(written.contains("include = [\"team_lib*\"]"), "{written}");
    let (code, out, _) = nbhoist(&root, &["init"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("nothing to do"), "{out}");
    assert_eq!(
        std::fs::read_to_string(root.join("pyproject.toml")).unwrap(),
        written
    );

    // Someone else's project: only nbhoist's table is added, at the end.
    let mine = "[project]\nname = \"analytics\"\n\n[build-system]\nrequires = [\"hatchling\"]\n";
    write(&root, "pyproject.toml", mine);
    let (code, out, _) = nbhoist(&root, &["init"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("must make `analytics` installable"), "{out}");
    assert_eq!(
        std::fs::read_to_string(root.join("pyproject.toml")).unwrap(),
        format!("{mine}\n[tool.nbhoist]\npackage = \"analytics\"\n")
    );
    // A name that would shadow the standard library is refused, and nothing is written.
    let (code, _, err) = nbhoist(&root, &["init", "--package", "test"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("standard-library"), "{err}");
}
