//! Proof that extraction preserves behaviour: each fixture notebook of
//! `tests/fixtures/behaviour/` runs top to bottom in a real IPython shell before and after
//! `nbhoist extract`, and what it prints, displays and raises must be the same, in order. The
//! emitted modules must compile and be clean under pyflakes and under ruff's defaults
//! (`ruff check --select E,F,I`), and a second run must change nothing. Fixtures are
//! discovered from the folder: adding a case means adding a notebook.
//!
//! Needs the Python test environment: `scripts/test` creates it and sets `NBHOIST_PYTHON`.
//! Without that variable (plain `cargo test` on a machine without Python) the test says it is
//! skipped and passes; with it, every fixture runs, and ruff must be installed next to that
//! Python, as `scripts/setup-test-env` installs it.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;
use common::{cell_sources, cells, tree};
use rayon::prelude::*;
use serde_json::Value;

mod common;

const PACKAGE: &str = "hoisted";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One event of a run: its kind and text (cell numbers change when cells are removed or
/// inserted, so they are not compared).
type Event = (String, Value);

/// Runs a notebook in IPython; returns its events with their 1-based cell numbers.
fn run_notebook(python: &Path, notebook: &Path) -> Result<Vec<(usize, Event)>, String> {
    let output = Command::new(python)
        .arg(repo().join("tests/python/run_notebook.py"))
        .arg(notebook)
        .output()
        .map_err(|error| format!("cannot run {}: {error}", python.display()))?;
    if !output.status.success() {
        return Err(format!(
            "running {} failed: {}",
            notebook.display(),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let events: Vec<Value> = serde_json::from_slice(&output.stdout)
        .map_err(|error| format!("the runner printed no JSON: {error}"))?;
    Ok(events
        .into_iter()
        .map(|event| {
            let cell = event["cell"].as_u64().unwrap_or_default() as usize;
            let kind = event["kind"].as_str().unwrap_or_default().to_owned();
            (cell, (kind, event["text"].clone()))
        })
        .collect())
}

fn nbhoist(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::cargo_bin("nbhoist")
        .unwrap()
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

/// The sources of a notebook's cells, for snapshots.
fn listing(notebook: &Path) -> String {
    cell_sources(notebook)
        .into_iter()
        .enumerate()
        .map(|(i, source)| format!("── cell {} ──\n{source}\n", i + 1))
        .collect()
}

/// What running one fixture found.
struct Outcome {
    /// The report, the package's files and the rewritten cells, for the snapshot.
    snapshot: String,
    /// What the original printed, displayed and raised.
    before: Vec<Event>,
    /// The same for the rewritten notebook.
    after: Vec<Event>,
    /// Everything else that went wrong: a failed extraction, modules that do not compile or
    /// are not pyflakes- or ruff-clean, a second run that changes something.
    problems: Vec<String>,
}

impl Outcome {
    /// Fails when something went wrong or the rewritten notebooks behave differently.
    fn assert_sound(&self, name: &str) {
        assert!(
            self.problems.is_empty(),
            "{name}: {}",
            self.problems.join("\n")
        );
        assert_eq!(
            self.before, self.after,
            "{name}: the rewritten notebooks do not behave like the originals"
        );
    }
}

fn run_fixture(python: &Path, fixture: &Path) -> Result<Outcome, String> {
    let dir = tempfile::tempdir().unwrap();
    let file = fixture.file_name().unwrap().to_str().unwrap().to_owned();
    let notebook = dir.path().join(&file);
    std::fs::copy(fixture, &notebook).unwrap();

    // The original runs in a copy of its own, so that files it writes do not leak into the
    // second run.
    let original_dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture, original_dir.path().join(&file)).unwrap();
    let before = run_notebook(python, &original_dir.path().join(&file))?;

    let mut problems = Vec::new();
    problems.extend(check_expectation(fixture, original_dir.path(), &file));
    let allowed = undefined_in_annotations(original_dir.path(), &file);
    let (report, modules) = extract_checked(python, dir.path(), &file, &allowed, &mut problems);
    let snapshot = format!("{report}\n{modules}\n{}", listing(&notebook));

    // A `%%writefile` cell that became a module no longer runs, so its "Writing x.py" is gone;
    // that message is the only output such a cell has.
    let remaining: Vec<Option<String>> = cells(&notebook).into_iter().map(|(_, id)| id).collect();
    let removed_writefiles: Vec<usize> = cells(fixture)
        .into_iter()
        .enumerate()
        .filter(|(_, (source, id))| {
            source.trim_start().starts_with("%%writefile") && !remaining.contains(id)
        })
        .map(|(i, _)| i + 1)
        .collect();
    let before = before
        .into_iter()
        .filter(|(cell, _)| !removed_writefiles.contains(cell))
        .map(|(_, event)| event)
        .collect();
    let after = run_notebook(python, &notebook)?
        .into_iter()
        .map(|(_, event)| event)
        .collect();

    problems.extend(second_run(dir.path(), &file));
    Ok(Outcome {
        snapshot,
        before,
        after,
        problems,
    })
}

/// What a second `nbhoist extract TARGET` in `dir` changes, which must be nothing.
fn second_run(dir: &Path, target: &str) -> Vec<String> {
    let files = tree(dir);
    let output = nbhoist(dir, &["extract", target, "--package", PACKAGE]);
    let second = String::from_utf8_lossy(&output.stdout);
    let mut problems = Vec::new();
    if output.status.code() != Some(0) || !second.contains("Nothing to change.") {
        problems.push(format!("a second run should change nothing:\n{second}"));
    }
    if files != tree(dir) {
        problems.push("a second run changed files".to_owned());
    }
    problems
}

/// Runs `nbhoist extract TARGET` in `dir` and checks the package it writes (see
/// [`check_modules`] and [`check_ruff`]); returns the report and the package's files, and adds
/// what went wrong to `problems`.
fn extract_checked(
    python: &Path,
    dir: &Path,
    target: &str,
    allowed: &[String],
    problems: &mut Vec<String>,
) -> (String, String) {
    let output = nbhoist(dir, &["extract", target, "--package", PACKAGE]);
    let report = String::from_utf8_lossy(&output.stdout).into_owned();
    if output.status.code() != Some(0) {
        let stderr = String::from_utf8_lossy(&output.stderr);
        problems.push(format!("extract failed:\n{report}{stderr}"));
    }
    let package = dir.join(PACKAGE);
    let mut modules = String::new();
    if package.exists() {
        for (path, content) in tree(&package) {
            modules.push_str(&format!(
                "── {path} ──\n{}",
                String::from_utf8(content).unwrap()
            ));
        }
        problems.extend(check_modules(python, &package, allowed));
        problems.extend(check_ruff(python, dir, allowed));
    }
    (report, modules)
}

/// A fixture whose first cell says ``Expect: `NAME` moves.`` or ``Expect: `NAME` stays
/// (CODE).`` (the rule pairs) gets that verdict from `nbhoist scan`; `NAME` is a definition,
/// or a `%%writefile` target. ``Expect: `NAME` drops.`` and ``Expect: `NAME` is kept.`` say
/// whether an import of the name goes from the notebook (`dropped_imports`).
fn check_expectation(fixture: &Path, dir: &Path, file: &str) -> Option<String> {
    let first = cell_sources(fixture).into_iter().next()?;
    let expect = first.split("Expect: `").nth(1)?;
    let (name, rest) = expect.split_once('`')?;
    let drops = match rest.trim().trim_end_matches('.') {
        "drops" => Some(true),
        "is kept" => Some(false),
        _ => None,
    };
    if let Some(drops) = drops {
        let output = nbhoist(dir, &["scan", file, "--format", "json"]);
        let json: Value = serde_json::from_slice(&output.stdout).ok()?;
        let dropped = json["notebooks"][0]["dropped_imports"]
            .as_array()?
            .iter()
            .any(|drop| {
                drop["names"]
                    .as_array()
                    .is_some_and(|names| names.iter().any(|n| n == name))
            });
        return (dropped != drops).then(|| {
            format!(
                "expected an import of `{name}` to be {}",
                if drops { "dropped" } else { "kept" }
            )
        });
    }
    let (verdict, code) = match rest.trim().trim_end_matches('.') {
        "moves" => ("move", None),
        "stays" => ("stay", None),
        stays => {
            let code = stays.strip_prefix("stays (")?.strip_suffix(')')?;
            ("stay", Some(code))
        }
    };
    let output = nbhoist(dir, &["scan", file, "--format", "json"]);
    let json: Value = serde_json::from_slice(&output.stdout).ok()?;
    let notebook = &json["notebooks"][0];
    let found: Vec<&Value> = ["definitions", "writefiles"]
        .iter()
        .filter_map(|key| notebook[*key].as_array())
        .flatten()
        .filter(|item| item["name"] == name || item["target"] == name)
        .collect();
    // Earlier versions of a name stay when its last version moves.
    let wrong = found
        .iter()
        .filter(|item| verdict != "move" || item["code"] != "earlier-version")
        .find(|item| item["verdict"] != verdict || code.is_some_and(|code| item["code"] != code));
    match (found.is_empty(), wrong) {
        (true, _) => Some(format!("expected `{name}` in the scan, found nothing")),
        (false, Some(item)) => Some(format!(
            "expected `{name}` to {verdict}{}, got {item}",
            code.map(|code| format!(" ({code})")).unwrap_or_default()
        )),
        (false, None) => None,
    }
}

/// The names that moved definitions' annotations mention and nothing defines, which nbhoist
/// leaves as written (`nbhoist scan`'s `undefined_in_annotations`).
fn undefined_in_annotations(dir: &Path, file: &str) -> Vec<String> {
    let output = nbhoist(dir, &["scan", file, "--format", "json"]);
    let json: Value = serde_json::from_slice(&output.stdout).unwrap_or_default();
    json["notebooks"][0]["definitions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|definition| definition["undefined_in_annotations"].as_array())
        .flatten()
        .filter_map(|name| name.as_str().map(str::to_owned))
        .collect()
}

/// Every emitted module compiles, and pyflakes finds no undefined name and no unused import,
/// but for the undefined names in annotations that nbhoist reports leaving as written.
fn check_modules(python: &Path, package: &Path, allowed: &[String]) -> Vec<String> {
    let mut problems = Vec::new();
    let output = Command::new(python)
        .args(["-m", "compileall", "-q"])
        .arg(package)
        .output()
        .unwrap();
    if !output.status.success() {
        problems.push(format!(
            "emitted modules do not compile: {}",
            String::from_utf8_lossy(&output.stdout)
        ));
    }
    let output = Command::new(python)
        .args(["-m", "pyflakes"])
        .arg(package)
        .output()
        .unwrap();
    let messages = String::from_utf8_lossy(&output.stdout);
    let bad: Vec<&str> = messages
        .lines()
        .filter(|line| {
            let undefined = line.contains("undefined name '")
                && !allowed
                    .iter()
                    .any(|name| line.contains(&format!("undefined name '{name}'")));
            undefined || line.contains("imported but unused")
        })
        .collect();
    if !bad.is_empty() {
        problems.push(format!("pyflakes: {}", bad.join("\n")));
    }
    problems
}

/// `ruff check --select E,F,I --isolated` finds nothing in the package under `dir`. The
/// fixtures' code is ours and kept clean, so every violation counts, the code copied from the
/// notebook included, but for two things nbhoist copies as the notebook has them on purpose:
/// a lambda bound to a name (E731), which is a definition the rule pairs hoist, and the
/// undefined names in postponed annotations that the report lists (`allowed`). Run from
/// `dir`, where ruff sees the package as first-party, as it would in the user's project.
fn check_ruff(python: &Path, dir: &Path, allowed: &[String]) -> Vec<String> {
    let ruff = python.with_file_name(format!("ruff{}", std::env::consts::EXE_SUFFIX));
    let output = match Command::new(&ruff)
        .args([
            "check",
            "--select",
            "E,F,I",
            "--ignore",
            "E731",
            "--isolated",
        ])
        .arg("--no-cache")
        .args(["--output-format", "concise", PACKAGE])
        .current_dir(dir)
        .output()
    {
        Ok(output) => output,
        Err(error) => {
            return vec![format!(
                "cannot run {}: {error}; `scripts/setup-test-env` installs ruff next to \
                 NBHOIST_PYTHON",
                ruff.display()
            )];
        }
    };
    if output.status.success() {
        return Vec::new();
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let violations: Vec<&str> = stdout
        .lines()
        .filter(|line| line.contains(": "))
        .filter(|line| {
            !allowed
                .iter()
                .any(|name| line.ends_with(&format!("F821 Undefined name `{name}`")))
        })
        .collect();
    if violations.is_empty() {
        return Vec::new();
    }
    vec![format!(
        "ruff check --select E,F,I:\n{}\n{}",
        violations.join("\n"),
        String::from_utf8_lossy(&output.stderr)
    )]
}

/// The fixture notebooks, sorted.
fn fixtures() -> Vec<PathBuf> {
    let mut fixtures: Vec<PathBuf> = std::fs::read_dir(repo().join("tests/fixtures/behaviour"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "ipynb"))
        .collect();
    fixtures.sort();
    fixtures
}

#[test]
fn same_behaviour() {
    let Some(python) = std::env::var_os("NBHOIST_PYTHON").map(PathBuf::from) else {
        // Not captured by the test harness, so that a plain `cargo test` says it.
        let _ = writeln!(
            std::io::stderr(),
            "note: behaviour tests skipped: NBHOIST_PYTHON is not set; `scripts/test` sets up \
             Python (IPython, pyflakes, nbformat, ruff) and runs them"
        );
        return;
    };
    // The notebooks run in parallel; their snapshots are checked one by one below.
    let outcomes: BTreeMap<String, Result<Outcome, String>> = fixtures()
        .into_par_iter()
        .map(|fixture| {
            let name = fixture.file_stem().unwrap().to_str().unwrap().to_owned();
            (name, run_fixture(&python, &fixture))
        })
        .collect();
    insta::glob!("fixtures/behaviour/*.ipynb", |path| {
        let name = path.file_stem().unwrap().to_str().unwrap();
        let outcome = match &outcomes[name] {
            Ok(outcome) => outcome,
            Err(error) => panic!("{name}: {error}"),
        };
        insta::assert_snapshot!(outcome.snapshot);
        outcome.assert_sound(name);
    });
}

/// The folders of `tests/fixtures/FOLDER/`, sorted.
fn folders_of(folder: &str) -> Vec<PathBuf> {
    let mut folders: Vec<PathBuf> = std::fs::read_dir(repo().join("tests/fixtures").join(folder))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir())
        .collect();
    folders.sort();
    folders
}

/// Copies the files of `from` (not its folders) into a new temporary folder.
fn copy_folder(from: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    dir
}

/// Runs every notebook of `dir` that its first cell does not mark "Not run:", each in a copy of
/// the folder of its own, so that what one writes does not leak into the next; the events of
/// each follow its name.
fn run_all(python: &Path, dir: &Path, notebooks: &[String]) -> Result<Vec<Event>, String> {
    let mut events = Vec::new();
    for name in notebooks {
        let copy = copy_folder(dir);
        if let Ok(package) = std::fs::read_dir(dir.join(PACKAGE)) {
            std::fs::create_dir(copy.path().join(PACKAGE)).unwrap();
            for entry in package {
                let path = entry.unwrap().path();
                if path.is_file() {
                    std::fs::copy(
                        &path,
                        copy.path().join(PACKAGE).join(path.file_name().unwrap()),
                    )
                    .unwrap();
                }
            }
        }
        events.push(("notebook".to_owned(), Value::String(name.clone())));
        let ran = run_notebook(python, &copy.path().join(name))?;
        events.extend(ran.into_iter().map(|(_, event)| event));
    }
    Ok(events)
}

/// One folder of notebooks that run one another: each runs from the folder before and after
/// nbhoist extracts `main.ipynb` (which extracts the notebooks it runs too) or, without one,
/// the whole folder.
fn run_folder(python: &Path, folder: &Path) -> Result<Outcome, String> {
    let mut notebooks: Vec<String> = std::fs::read_dir(folder)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".ipynb"))
        .collect();
    notebooks.sort();
    let runnable: Vec<String> = notebooks
        .iter()
        .filter(|name| {
            let first = cell_sources(&folder.join(name)).into_iter().next();
            !first.is_some_and(|first| first.contains("Not run:"))
        })
        .cloned()
        .collect();
    let before = run_all(python, folder, &runnable)?;
    let dir = copy_folder(folder);
    let target = if notebooks.iter().any(|name| name == "main.ipynb") {
        "main.ipynb"
    } else {
        "."
    };
    extract_and_run(python, dir.path(), target, &notebooks, before, |dir| {
        run_all(python, dir, &runnable)
    })
}

/// Extracts `target` in the project `dir`, runs its notebooks again with `run`, and runs
/// nbhoist a second time: the outcome, given what the notebooks did `before`.
fn extract_and_run(
    python: &Path,
    dir: &Path,
    target: &str,
    notebooks: &[String],
    before: Vec<Event>,
    run: impl Fn(&Path) -> Result<Vec<Event>, String>,
) -> Result<Outcome, String> {
    let mut problems = Vec::new();
    let (report, modules) = extract_checked(python, dir, target, &[], &mut problems);
    let listings: String = notebooks
        .iter()
        .map(|name| format!("══ {name} ══\n{}", listing(&dir.join(name))))
        .collect();
    // The note on importing the package names the project's folder, a new one each time.
    let report = report.replace(&dir.display().to_string(), "[PROJECT]");
    let snapshot = format!("{report}\n{modules}\n{listings}");
    let after = run(dir)?;
    problems.extend(second_run(dir, target));
    Ok(Outcome {
        snapshot,
        before,
        after,
        problems,
    })
}

#[test]
fn same_behaviour_across_run() {
    let Some(python) = std::env::var_os("NBHOIST_PYTHON").map(PathBuf::from) else {
        let _ = writeln!(
            std::io::stderr(),
            "note: `%run` behaviour tests skipped: NBHOIST_PYTHON is not set; `scripts/test` \
             sets up Python and runs them"
        );
        return;
    };
    // Each folder of `tests/fixtures/runs/` holds notebooks that run one another with `%run`.
    let outcomes: Vec<(String, Result<Outcome, String>)> = folders_of("runs")
        .into_par_iter()
        .map(|folder| {
            let name = folder.file_name().unwrap().to_str().unwrap().to_owned();
            (name, run_folder(&python, &folder))
        })
        .collect();
    assert!(!outcomes.is_empty(), "no folder in tests/fixtures/runs");
    for (name, outcome) in outcomes {
        let outcome = outcome.unwrap_or_else(|error| panic!("{name}: {error}"));
        insta::assert_snapshot!(format!("runs_{name}"), outcome.snapshot);
        outcome.assert_sound(&name);
    }
}

/// Copies the folder `from`, with its folders, into `to`.
fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// Runs each notebook of the project in `dir` (paths relative to it), each in a copy of the
/// project of its own and from its own folder, with the project's root on `sys.path` so
/// that the package imports; the events of each follow its name.
fn run_each(python: &Path, dir: &Path, notebooks: &[String]) -> Result<Vec<Event>, String> {
    let mut events = Vec::new();
    for name in notebooks {
        let copy = tempfile::tempdir().unwrap();
        copy_tree(dir, copy.path());
        let output = Command::new(python)
            .arg(repo().join("tests/python/run_notebook.py"))
            .arg(copy.path().join(name))
            .env("PYTHONPATH", copy.path())
            .output()
            .map_err(|error| format!("cannot run {}: {error}", python.display()))?;
        if !output.status.success() {
            return Err(format!(
                "running {name} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        let ran: Vec<Value> = serde_json::from_slice(&output.stdout)
            .map_err(|error| format!("the runner printed no JSON: {error}"))?;
        events.push(("notebook".to_owned(), Value::String(name.clone())));
        events.extend(ran.into_iter().map(|event| {
            let kind = event["kind"].as_str().unwrap_or_default().to_owned();
            (kind, event["text"].clone())
        }));
    }
    Ok(events)
}

/// One project of notebooks with copies: each notebook runs from its folder before and after
/// nbhoist extracts the whole project at once.
fn run_shared(python: &Path, folder: &Path) -> Result<Outcome, String> {
    let notebooks: Vec<String> = tree(folder)
        .into_iter()
        .map(|(path, _)| path)
        .filter(|path| path.ends_with(".ipynb"))
        .collect();
    let before = run_each(python, folder, &notebooks)?;
    let dir = tempfile::tempdir().unwrap();
    copy_tree(folder, dir.path());
    extract_and_run(python, dir.path(), ".", &notebooks, before, |dir| {
        run_each(python, dir, &notebooks)
    })
}

#[test]
fn same_behaviour_when_shared() {
    let Some(python) = std::env::var_os("NBHOIST_PYTHON").map(PathBuf::from) else {
        let _ = writeln!(
            std::io::stderr(),
            "note: shared-definition behaviour tests skipped: NBHOIST_PYTHON is not set; \
             `scripts/test` sets up Python and runs them"
        );
        return;
    };
    // Each folder of `tests/fixtures/shared/` is a project whose notebooks, in folders of
    // their own, hold copies of the same definitions.
    let folders = folders_of("shared");
    assert!(!folders.is_empty(), "no folder in tests/fixtures/shared");
    for folder in folders {
        let name = folder.file_name().unwrap().to_str().unwrap().to_owned();
        let outcome =
            run_shared(&python, &folder).unwrap_or_else(|error| panic!("{name}: {error}"));
        insta::assert_snapshot!(format!("shared_{name}"), outcome.snapshot);
        outcome.assert_sound(&name);
    }
}
