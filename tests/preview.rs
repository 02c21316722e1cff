//! `extract --diff`, `--check` and `--format json`: other renderings of the same plan. They
//! write nothing, and what the diffs show is exactly what a real run writes.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use assert_cmd::Command;
use common::cell_sources;
use serde_json::Value;

mod common;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A temporary folder holding a copy of a fixture notebook.
fn copy_of(fixture: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let source = repo().join(fixture);
    let name = source.file_name().unwrap().to_str().unwrap().to_owned();
    std::fs::copy(&source, dir.path().join(&name)).unwrap();
    (dir, name)
}

fn nbhoist(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let output = Command::cargo_bin("nbhoist")
        .unwrap()
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8(output.stdout).unwrap(),
    )
}

/// Every file under `dir` with its bytes and modification time.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>, SystemTime)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(next) = stack.pop() {
        for entry in std::fs::read_dir(&next).unwrap() {
            let path = entry.unwrap().path();
            let metadata = std::fs::metadata(&path).unwrap();
            if metadata.is_dir() {
                stack.push(path);
            } else {
                files.push((
                    path.clone(),
                    std::fs::read(&path).unwrap(),
                    metadata.modified().unwrap(),
                ));
            }
        }
    }
    files.sort();
    files
}

const FIXTURES: &[&str] = &[
    "examples/analysis.ipynb",
    "tests/fixtures/behaviour/scattered_imports.ipynb",
    "tests/fixtures/behaviour/helpers_chain.ipynb",
    "tests/fixtures/behaviour/decorators.ipynb",
    "tests/fixtures/behaviour/default_args.ipynb",
    "tests/fixtures/behaviour/redefined.ipynb",
    "tests/fixtures/behaviour/syntax_error.ipynb",
    "tests/fixtures/behaviour/magics.ipynb",
    "tests/fixtures/behaviour/writefile_modules.ipynb",
    "tests/fixtures/behaviour/writefile_subfolder.ipynb",
];

#[test]
fn summary_diff_and_json_snapshots() {
    for fixture in [
        "examples/analysis.ipynb",
        "tests/fixtures/behaviour/writefile_modules.ipynb",
        // The last version of `clean` is imported where it stood.
        "tests/fixtures/behaviour/rule_caller_of_versions_moves.ipynb",
    ] {
        let (dir, name) = copy_of(fixture);
        let (code, text) = nbhoist(
            dir.path(),
            &[
                "extract",
                &name,
                "--package",
                "pkg",
                "--diff",
                "--color",
                "never",
            ],
        );
        assert_eq!(code, Some(0));
        let (code, json) = nbhoist(
            dir.path(),
            &[
                "extract",
                &name,
                "--package",
                "pkg",
                "--diff",
                "--format",
                "json",
            ],
        );
        assert_eq!(code, Some(0));
        let stem = name.trim_end_matches(".ipynb");
        insta::assert_snapshot!(format!("diff_{stem}"), text);
        insta::assert_snapshot!(format!("json_{stem}"), json);
    }
}

#[test]
fn diff_and_check_leave_the_tree_untouched() {
    let (dir, name) = copy_of("examples/analysis.ipynb");
    let before = snapshot(dir.path());
    for args in [
        vec!["extract", name.as_str(), "--package", "pkg", "--diff"],
        vec!["extract", name.as_str(), "--package", "pkg", "--check"],
        vec![
            "extract",
            name.as_str(),
            "--package",
            "pkg",
            "--diff",
            "--format",
            "json",
        ],
        vec![
            "extract",
            name.as_str(),
            "--package",
            "pkg",
            "--check",
            "--diff",
        ],
    ] {
        let (code, _) = nbhoist(dir.path(), &args);
        assert!(matches!(code, Some(0 | 1)), "{args:?}");
        assert_eq!(before, snapshot(dir.path()), "{args:?} touched the tree");
    }
}

#[test]
fn check_exit_codes() {
    let (dir, name) = copy_of("examples/analysis.ipynb");
    let (code, out) = nbhoist(
        dir.path(),
        &["extract", &name, "--package", "pkg", "--check"],
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("1 would change"), "{out}");
    let (code, _) = nbhoist(dir.path(), &["extract", &name, "--package", "pkg"]);
    assert_eq!(code, Some(0));
    let (code, out) = nbhoist(
        dir.path(),
        &["extract", &name, "--package", "pkg", "--check"],
    );
    assert_eq!(code, Some(0), "{out}");
    std::fs::write(dir.path().join("broken.ipynb"), "not json").unwrap();
    let (code, _) = nbhoist(
        dir.path(),
        &[
            "extract",
            "broken.ipynb",
            &name,
            "--package",
            "pkg",
            "--check",
        ],
    );
    assert_eq!(code, Some(2));
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let (dir, name) = copy_of("examples/analysis.ipynb");
    let args = |color: &'static str| {
        [
            "extract",
            "analysis.ipynb",
            "--package",
            "pkg",
            "--diff",
            "--color",
            color,
        ]
    };
    assert_eq!(name, "analysis.ipynb");
    let (_, always) = nbhoist(dir.path(), &args("always"));
    assert!(always.contains("\x1b[32m+"), "green additions");
    let (_, never) = nbhoist(dir.path(), &args("never"));
    assert!(!never.contains('\x1b'));
    // Tests do not run on a terminal: `auto` means no colour.
    let (_, auto) = nbhoist(dir.path(), &args("auto"));
    assert!(!auto.contains('\x1b'));
    assert_eq!(never, auto);
}

/// Applies the hunks of a unified diff (`@@` onwards) to `before`, checking every context and
/// removed line.
fn apply_hunks(before: &str, hunks: &[&str]) -> String {
    let old: Vec<&str> = before.split_inclusive('\n').collect();
    let mut out = String::new();
    let mut at = 0;
    let mut i = 0;
    while i < hunks.len() {
        let header = hunks[i];
        assert!(header.starts_with("@@ -"), "not a hunk header: {header:?}");
        let start: usize = header[4..]
            .split([',', ' '])
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let start = start.saturating_sub(1).max(at);
        while at < start {
            out.push_str(old[at]);
            at += 1;
        }
        i += 1;
        while i < hunks.len() && !hunks[i].starts_with("@@") {
            let line = hunks[i];
            let body = &line[1..];
            match line.as_bytes()[0] {
                b' ' => {
                    assert_eq!(old[at].trim_end_matches('\n'), body, "context line");
                    out.push_str(old[at]);
                    at += 1;
                }
                b'-' => {
                    assert_eq!(old[at].trim_end_matches('\n'), body, "removed line");
                    at += 1;
                }
                b'+' => {
                    out.push_str(body);
                    out.push('\n');
                }
                b'\\' => {
                    if out.ends_with('\n') {
                        out.pop();
                    }
                }
                _ => panic!("bad hunk line {line:?}"),
            }
            i += 1;
        }
    }
    while at < old.len() {
        out.push_str(old[at]);
        at += 1;
    }
    out
}

/// Splits a diff into sections, one per `--- a` / `+++ b` header pair.
fn sections(diff: &str) -> Vec<(String, String, Vec<&str>)> {
    let lines: Vec<&str> = diff.lines().collect();
    let mut sections = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let old = lines[i].strip_prefix("--- ").expect("a section header");
        let new = lines[i + 1].strip_prefix("+++ ").expect("a section header");
        i += 2;
        let start = i;
        while i < lines.len() && !is_header(&lines, i) {
            i += 1;
        }
        sections.push((old.to_owned(), new.to_owned(), lines[start..i].to_vec()));
    }
    sections
}

/// A `--- `/`+++ ` pair at `i` starts a section when no hunk is still open: a hunk's header
/// says how many lines it has, so a removed line `-- x` is not taken for a header.
fn is_header(lines: &[&str], i: usize) -> bool {
    if !(lines[i].starts_with("--- ") && lines.get(i + 1).is_some_and(|l| l.starts_with("+++ "))) {
        return false;
    }
    let Some(hunk) = (0..i).rev().find(|&j| lines[j].starts_with("@@ ")) else {
        return true;
    };
    let counts: Vec<usize> = lines[hunk]
        .split(' ')
        .filter(|part| part.starts_with('-') || part.starts_with('+'))
        .map(|part| {
            part[1..]
                .split(',')
                .nth(1)
                .map_or(1, |n| n.parse().unwrap())
        })
        .collect();
    let (mut old, mut new) = (counts[0], counts[1]);
    for line in &lines[hunk + 1..i] {
        match line.as_bytes().first() {
            Some(b'-') => old = old.saturating_sub(1),
            Some(b'+') => new = new.saturating_sub(1),
            Some(b' ') => (old, new) = (old.saturating_sub(1), new.saturating_sub(1)),
            _ => {}
        }
    }
    (old, new) == (0, 0)
}

#[test]
fn a_real_run_writes_exactly_the_after_side_of_every_diff() {
    for fixture in FIXTURES {
        let (preview, name) = copy_of(fixture);
        let (real, _) = copy_of(fixture);
        assert_diffs_are_what_is_written(preview.path(), real.path(), &name, fixture);
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: 24,
        failure_persistence: None,
        ..proptest::prelude::ProptestConfig::default()
    })]

    /// The same on generated notebooks.
    #[test]
    fn diffs_of_generated_notebooks_are_what_is_written(notebook in common::python_notebook()) {
        let preview = tempfile::tempdir().unwrap();
        let real = tempfile::tempdir().unwrap();
        for dir in [&preview, &real] {
            std::fs::write(dir.path().join("nb.ipynb"), &notebook).unwrap();
        }
        assert_diffs_are_what_is_written(preview.path(), real.path(), "nb.ipynb", &notebook);
    }
}

/// Runs `extract --diff` on notebook `name` in `preview` and a real `extract` in `real` (two
/// copies of one tree), and checks that applying each diff to the first gives what the real
/// run wrote, and that the diffs name every file it wrote.
fn assert_diffs_are_what_is_written(preview: &Path, real: &Path, name: &str, context: &str) {
    let (code, json) = nbhoist(
        preview,
        &[
            "extract",
            name,
            "--package",
            "pkg",
            "--diff",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, Some(0), "{context}");
    let (code, _) = nbhoist(real, &["extract", name, "--package", "pkg"]);
    assert_eq!(code, Some(0), "{context}");

    let json: Value = serde_json::from_str(&json).unwrap();
    let mut changes: Vec<&Value> = json["changes"].as_array().unwrap().iter().collect();
    for notebook in json["notebooks"].as_array().unwrap() {
        changes.extend(notebook["changes"].as_array().unwrap());
    }
    let mut written = Vec::new();
    for change in changes {
        let path = change["path"].as_str().unwrap();
        let diff = change["diff"].as_str().unwrap();
        written.push(PathBuf::from(path));
        let actual = real.join(path);
        if path.ends_with(".ipynb") {
            let original = cell_sources(&preview.join(path));
            assert_eq!(
                notebook_after(&original, diff),
                cell_sources(&actual),
                "{context}: {path}"
            );
        } else {
            let before = std::fs::read_to_string(preview.join(path)).unwrap_or_default();
            let [(_, _, hunks)] = sections(diff).try_into().unwrap();
            assert_eq!(
                apply_hunks(&before, &hunks),
                std::fs::read_to_string(&actual).unwrap(),
                "{context}: {path}"
            );
        }
    }
    // Every file the real run wrote is in the preview.
    for (path, _, _) in snapshot(real) {
        let relative = path.strip_prefix(real).unwrap().to_owned();
        if relative.to_str().unwrap().contains("pkg") {
            assert!(
                written.contains(&relative),
                "{context}: {} not previewed",
                relative.display()
            );
        }
    }
}

/// The cell sources after applying a notebook's per-cell diff to the original sources.
fn notebook_after(original: &[String], diff: &str) -> Vec<String> {
    let mut cells: Vec<Option<String>> = original.iter().cloned().map(Some).collect();
    // Inserted cells, keyed by the original cell they go in front of.
    let mut inserted: Vec<(usize, String)> = Vec::new();
    for (old, new, hunks) in sections(diff) {
        let number = |header: &str| -> Option<usize> {
            let rest = header.split(":cell ").nth(1)?;
            rest.split(' ').next()?.parse().ok()
        };
        if old == "/dev/null" {
            let before = new
                .split("new cell before cell ")
                .nth(1)
                .map_or(original.len() + 1, |rest| {
                    rest.split(' ').next().unwrap().parse().unwrap()
                });
            let text = apply_hunks("", &hunks);
            inserted.push((
                before - 1,
                text.strip_suffix('\n').unwrap_or(&text).to_owned(),
            ));
        } else if new == "/dev/null" {
            cells[number(&old).unwrap() - 1] = None;
        } else {
            let index = number(&old).unwrap() - 1;
            let source = &original[index];
            let terminated = !source.ends_with('\n');
            let before = if terminated {
                format!("{source}\n")
            } else {
                source.clone()
            };
            let after = apply_hunks(&before, &hunks);
            cells[index] = Some(if terminated {
                after.strip_suffix('\n').unwrap_or(&after).to_owned()
            } else {
                after
            });
        }
    }
    let mut out = Vec::new();
    for (i, cell) in cells.into_iter().enumerate() {
        out.extend(
            inserted
                .iter()
                .filter(|(at, _)| *at == i)
                .map(|(_, text)| text.clone()),
        );
        out.extend(cell);
    }
    out.extend(
        inserted
            .iter()
            .filter(|(at, _)| *at >= original.len())
            .map(|(_, text)| text.clone()),
    );
    out
}
